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
	uint8_t zone_len;
	uint8_t owner_len;
	uint16_t rr_count;
	uint16_t rdata_len;
	uint16_t extra_len;
	uint16_t count;
	mx_violation_t *violations;  // in the same allocation, after the key
	uint8_t key[];               // zone, owner in lower case, rdata, extra
} entry_t;

struct mx_verdict_cache {
	struct cds_lfht *table;
	size_t max_entries;
	uint64_t seed;
	atomic_size_t count;  // entries in the table plus reservations
};

// A key with the sizes of its names.
typedef struct {
	const mx_verdict_key_t *key;
	size_t zone_len;
	size_t owner_len;
} sized_key_t;

static bool size_key(sized_key_t *k, const mx_verdict_key_t *key)
{
	k->key = key;
	k->zone_len = (key->zone != NULL) ? mx_name_size(key->zone) : 0;
	k->owner_len = key->owner_size ? key->owner_size : mx_name_size(key->owner);
	return k->zone_len + k->owner_len + key->rrs->size + key->extra_len <=
	       MX_VERDICT_KEY_MAXLEN;
}

// Owner and records: they tell RRsets apart, and a reload that changes
// neither finds its verdicts again. The rest is compared, not hashed.
static uint64_t key_hash(const mx_verdict_cache_t *cache, const sized_key_t *k)
{
	uint64_t h = mx_hash_begin(cache->seed);
	h = mx_hash_name_lower(h, k->key->owner, k->owner_len);
	h = mx_hash_bytes(h, (const uint8_t *)k->key->rrs->rdata, k->key->rrs->size);
	return mx_hash_end(h);
}

// Longer pieces compare faster in libc (vector instructions) than in words.
static bool equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	return (len <= 24) ? mx_bytes_equal(a, b, len) : memcmp(a, b, len) == 0;
}

// The same zone, owner (ignoring ASCII case) and records.
static int match_rrset(struct cds_lfht_node *node, const void *data)
{
	const entry_t *e = caa_container_of(node, entry_t, node);
	const sized_key_t *k = data;
	const knot_rdataset_t *rrs = k->key->rrs;
	if (e->zone_len != k->zone_len || e->owner_len != k->owner_len ||
	    e->rr_count != rrs->count || e->rdata_len != rrs->size) {
		return 0;
	}
	const uint8_t *stored = e->key;
	if (!mx_bytes_equal(stored, k->key->zone, k->zone_len)) {
		return 0;
	}
	stored += k->zone_len;
	if (!mx_bytes_equal_lower(k->key->owner, stored, k->owner_len)) {
		return 0;
	}
	stored += k->owner_len;
	return equal(stored, (const uint8_t *)rrs->rdata, rrs->size);
}

// All of the key.
static int match_key(struct cds_lfht_node *node, const void *data)
{
	const entry_t *e = caa_container_of(node, entry_t, node);
	const sized_key_t *k = data;
	return e->extra_len == k->key->extra_len && match_rrset(node, data) &&
	       equal(e->key + k->zone_len + k->owner_len + e->rdata_len,
	             k->key->extra, e->extra_len);
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

mx_verdict_cache_t *mx_verdict_cache_new(size_t max_entries, uint64_t seed)
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
	cache->seed = seed;
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

bool mx_verdict_cache_get(mx_verdict_cache_t *cache, const mx_verdict_key_t *key,
                          mx_verdict_t *out)
{
	sized_key_t k;
	if (cache == NULL || !size_key(&k, key)) {
		return false;
	}
	struct cds_lfht_iter iter;
	cds_lfht_lookup(cache->table, key_hash(cache, &k), match_key, &k, &iter);
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

static uint8_t *put_bytes(uint8_t *p, const uint8_t *data, size_t len)
{
	if (len > 0) {
		memcpy(p, data, len);
	}
	return p + len;
}

void mx_verdict_cache_put(mx_verdict_cache_t *cache, const mx_verdict_key_t *key,
                          const mx_violation_t *violations, unsigned count)
{
	sized_key_t k;
	if (cache == NULL || !size_key(&k, key) || count > UINT16_MAX) {
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
	const knot_rdataset_t *rrs = key->rrs;
	size_t len = k.zone_len + k.owner_len + rrs->size + key->extra_len;
	size_t key_space = (len + 7) & ~(size_t)7;
	entry_t *e = malloc(sizeof(*e) + key_space + count * sizeof(*violations));
	if (e == NULL) {
		atomic_fetch_sub(&cache->count, 1);
		return;
	}
	cds_lfht_node_init(&e->node);
	e->zone_len = k.zone_len;
	e->owner_len = k.owner_len;
	e->rr_count = rrs->count;
	e->rdata_len = rrs->size;
	e->extra_len = key->extra_len;
	e->count = count;
	uint8_t *p = put_bytes(e->key, key->zone, k.zone_len);
	for (size_t i = 0; i < k.owner_len; i++) {
		uint8_t c = key->owner[i];
		*p++ = (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;  // as mx_lower8()
	}
	p = put_bytes(p, (const uint8_t *)rrs->rdata, rrs->size);
	put_bytes(p, key->extra, key->extra_len);
	e->violations = (mx_violation_t *)(e->key + key_space);
	for (unsigned i = 0; i < count; i++) {
		e->violations[i] = violations[i];
		e->violations[i].exchange = NULL;  // the records' own, at use
	}

	// One verdict per RRset: one of other exchanges is of data that is gone.
	struct cds_lfht_node *old = cds_lfht_add_replace(cache->table, key_hash(cache, &k),
	                                                 match_rrset, &k, &e->node);
	if (old != NULL) {
		atomic_fetch_sub(&cache->count, 1);
		call_rcu(&caa_container_of(old, entry_t, node)->rcu, free_entry);
	}
}

size_t mx_verdict_cache_size(mx_verdict_cache_t *cache)
{
	return cache == NULL ? 0 : atomic_load(&cache->count);
}
