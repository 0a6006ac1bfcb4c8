/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <urcu.h>
#include <urcu/rculfhash.h>

#include "bounded_table.h"
#include "hash.h"

// Buckets the table starts with; it grows up to the bound on its own.
#define INIT_BUCKETS 64

typedef struct {
	struct cds_lfht_node node;
	struct rcu_head rcu;
	size_t key_len;
	size_t value_len;
	uint8_t *value;  // in the same allocation, after the key, aligned
	uint8_t key[];
} entry_t;

struct mx_bounded_table {
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

mx_bounded_table_t *mx_bounded_table_new(size_t max_entries)
{
	if (max_entries == 0) {
		return NULL;
	}
	mx_bounded_table_t *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		return NULL;
	}
	size_t max_buckets = pow2_at_least(max_entries);
	size_t init = (max_buckets < INIT_BUCKETS) ? max_buckets : INIT_BUCKETS;
	t->table = cds_lfht_new(init, 1, max_buckets, CDS_LFHT_AUTO_RESIZE, NULL);
	if (t->table == NULL) {
		free(t);
		return NULL;
	}
	t->max_entries = max_entries;
	return t;
}

void mx_bounded_table_free(mx_bounded_table_t *t)
{
	if (t == NULL) {
		return;
	}
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	rcu_read_lock();
	cds_lfht_for_each(t->table, &iter, node) {
		if (cds_lfht_del(t->table, node) == 0) {
			call_rcu(&caa_container_of(node, entry_t, node)->rcu, free_entry);
		}
	}
	rcu_read_unlock();
	// Every entry's callback must run before the module can go.
	rcu_barrier();
	cds_lfht_destroy(t->table, NULL);
	free(t);
}

const void *mx_bounded_table_get(mx_bounded_table_t *t, const uint8_t *key,
                                 size_t key_len, size_t *value_len)
{
	if (t == NULL) {
		return NULL;
	}
	lookup_key_t k = { key, key_len };
	struct cds_lfht_iter iter;
	cds_lfht_lookup(t->table, mx_hash(0, key, key_len), match_key, &k, &iter);
	struct cds_lfht_node *node = cds_lfht_iter_get_node(&iter);
	if (node == NULL) {
		return NULL;
	}
	const entry_t *e = caa_container_of(node, entry_t, node);
	*value_len = e->value_len;
	return e->value;
}

// Makes room: any one entry goes (the table's order is its hashes' order).
static void evict_one(mx_bounded_table_t *t)
{
	struct cds_lfht_iter iter;
	cds_lfht_first(t->table, &iter);
	struct cds_lfht_node *node = cds_lfht_iter_get_node(&iter);
	if (node != NULL && cds_lfht_del(t->table, node) == 0) {
		atomic_fetch_sub(&t->count, 1);
		call_rcu(&caa_container_of(node, entry_t, node)->rcu, free_entry);
	}
}

void mx_bounded_table_put(mx_bounded_table_t *t, const uint8_t *key, size_t key_len,
                          const void *value, size_t value_len)
{
	if (t == NULL) {
		return;
	}
	if (atomic_fetch_add(&t->count, 1) >= t->max_entries) {
		evict_one(t);
		if (atomic_load(&t->count) > t->max_entries) {
			atomic_fetch_sub(&t->count, 1);  // others are making room too
			return;
		}
	}

	size_t key_space = (key_len + 7) & ~(size_t)7;
	entry_t *e = malloc(sizeof(*e) + key_space + value_len);
	if (e == NULL) {
		atomic_fetch_sub(&t->count, 1);
		return;
	}
	cds_lfht_node_init(&e->node);
	e->key_len = key_len;
	e->value_len = value_len;
	memcpy(e->key, key, key_len);
	e->value = e->key + key_space;
	if (value_len > 0) {
		memcpy(e->value, value, value_len);
	}

	lookup_key_t k = { key, key_len };
	struct cds_lfht_node *old = cds_lfht_add_unique(t->table, mx_hash(0, key, key_len),
	                                                match_key, &k, &e->node);
	if (old != &e->node) {
		// Another worker stored the same key first.
		free(e);
		atomic_fetch_sub(&t->count, 1);
	}
}

size_t mx_bounded_table_size(mx_bounded_table_t *t)
{
	return t == NULL ? 0 : atomic_load(&t->count);
}
