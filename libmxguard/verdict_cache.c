/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <urcu.h>
#include <urcu/rculfhash.h>

#include "hash.h"
#include "verdict_cache.h"

// Buckets the table starts with; it grows up to the bound on its own.
#define INIT_BUCKETS 64

typedef struct {
	struct cds_lfht_node node;
	struct rcu_head rcu;
	uint16_t key_len;
	uint16_t count;
	mx_violation_t *violations;  // in the same allocation, after the key
	uint8_t key[];
} entry_t;

struct mx_verdict_cache {
	struct cds_lfht *table;
	size_t max_entries;
	atomic_size_t count;  // entries in the table plus reservations
};

typedef struct {
	const uint8_t *data;
	size_t len;
} lookup_key_t;

static int match_key(struct cds_lfht_node *node, const void *data)
{
	const entry_t *e = caa_container_of(node, entry_t, node);
	const lookup_key_t *k = data;
	return e->key_len == k->len && memcmp(e->key, k->data, k->len) == 0;
}

static void free_entry(struct rcu_head *head)
{
	free(caa_container_of(head, entry_t, rcu));
}

static size_t pow2_at_least(size_t n)
{
	size_t p = 1;
	while (p < n) {
		p <<= 1;
	}
	return p;
}

mx_verdict_cache_t *mx_verdict_cache_new(size_t max_entries)
{
	if (max_entries == 0) {
		return NULL;
	}
	mx_verdict_cache_t *cache = calloc(1, sizeof(*cache));
	if (cache == NULL) {
		return NULL;
	}
	size_t max_buckets = pow2_at_least(max_entries);
	size_t init = (max_buckets < INIT_BUCKETS) ? max_buckets : INIT_BUCKETS;
	cache->table = cds_lfht_new(init, 1, max_buckets, CDS_LFHT_AUTO_RESIZE, NULL);
	if (cache->table == NULL) {
		free(cache);
		return NULL;
	}
	cache->max_entries = max_entries;
	return cache;
}

void mx_verdict_cache_free(mx_verdict_cache_t *cache)
{
	if (cache == NULL) {
		return;
	}
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	rcu_read_lock();
	cds_lfht_for_each(cache->table, &iter, node) {
		if (cds_lfht_del(cache->table, node) == 0) {
			call_rcu(&caa_container_of(node, entry_t, node)->rcu, free_entry);
		}
	}
	rcu_read_unlock();
	// Every entry's callback must run before the module can go.
	rcu_barrier();
	cds_lfht_destroy(cache->table, NULL);
	free(cache);
}

bool mx_verdict_cache_get(mx_verdict_cache_t *cache, const uint8_t *key, size_t len,
                          mx_verdict_t *out)
{
	if (cache == NULL || len > MX_VERDICT_KEY_MAXLEN) {
		return false;
	}
	lookup_key_t k = { key, len };
	struct cds_lfht_iter iter;
	cds_lfht_lookup(cache->table, mx_hash_words(0, key, len), match_key, &k, &iter);
	struct cds_lfht_node *node = cds_lfht_iter_get_node(&iter);
	if (node == NULL) {
		return false;
	}
	const entry_t *e = caa_container_of(node, entry_t, node);
	out->count = e->count;
	out->violations = e->violations;
	return true;
}

// Makes room: any one entry goes (the table's order is its hashes' order).
static void evict_one(mx_verdict_cache_t *cache)
{
	struct cds_lfht_iter iter;
	cds_lfht_first(cache->table, &iter);
	struct cds_lfht_node *node = cds_lfht_iter_get_node(&iter);
	if (node != NULL && cds_lfht_del(cache->table, node) == 0) {
		atomic_fetch_sub(&cache->count, 1);
		call_rcu(&caa_container_of(node, entry_t, node)->rcu, free_entry);
	}
}

void mx_verdict_cache_put(mx_verdict_cache_t *cache, const uint8_t *key, size_t len,
                          const mx_violation_t *violations, unsigned count)
{
	if (cache == NULL || len > MX_VERDICT_KEY_MAXLEN || count > UINT16_MAX) {
		return;
	}
	if (atomic_fetch_add(&cache->count, 1) >= cache->max_entries) {
		evict_one(cache);
		if (atomic_load(&cache->count) > cache->max_entries) {
			atomic_fetch_sub(&cache->count, 1);  // others are making room too
			return;
		}
	}

	// Key, then the violations, aligned.
	size_t key_space = (len + 7) & ~(size_t)7;
	entry_t *e = malloc(sizeof(*e) + key_space + count * sizeof(*violations));
	if (e == NULL) {
		atomic_fetch_sub(&cache->count, 1);
		return;
	}
	cds_lfht_node_init(&e->node);
	e->key_len = len;
	e->count = count;
	memcpy(e->key, key, len);
	e->violations = (mx_violation_t *)(e->key + key_space);
	for (unsigned i = 0; i < count; i++) {
		e->violations[i] = violations[i];
		e->violations[i].exchange = NULL;  // the records' own, at use
	}

	lookup_key_t k = { key, len };
	struct cds_lfht_node *old = cds_lfht_add_unique(cache->table, mx_hash_words(0, key, len),
	                                                match_key, &k, &e->node);
	if (old != &e->node) {
		// Another worker stored the same verdict first.
		free(e);
		atomic_fetch_sub(&cache->count, 1);
	}
}

size_t mx_verdict_cache_size(mx_verdict_cache_t *cache)
{
	return cache == NULL ? 0 : atomic_load(&cache->count);
}
