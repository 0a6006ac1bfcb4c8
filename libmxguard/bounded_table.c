/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdlib.h>
#include <string.h>

#include <libknot/errcode.h>

#include "bounded_table.h"
#include "concurrent_table.h"
#include "hash.h"

// Buckets the table starts with; it grows up to the bound on its own.
#define INIT_BUCKETS 64

// An entry of the concurrent table, its node's word the key's hash.
typedef struct {
	uint32_t key_len;
	uint32_t value_len;
	uint8_t key[];       // then the value, aligned
} entry_t;

struct mx_bounded_table {
	mx_table_t table;
};

typedef struct {
	const uint8_t *data;
	size_t len;
} lookup_key_t;

static bool match_key(const void *entry, const void *key)
{
	const entry_t *e = entry;
	const lookup_key_t *k = key;
	return e->key_len == k->len && mx_bytes_equal_any(e->key, k->data, k->len);
}

static size_t key_space(size_t key_len)
{
	return (key_len + 7) & ~(size_t)7;
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
	if (mx_table_init(&t->table, max_entries, INIT_BUCKETS, NULL) != KNOT_EOK) {
		free(t);
		return NULL;
	}
	return t;
}

void mx_bounded_table_free(mx_bounded_table_t *t)
{
	if (t == NULL) {
		return;
	}
	mx_table_deinit(&t->table);
	free(t);
}

const void *mx_bounded_table_get(mx_bounded_table_t *t, const uint8_t *key,
                                 size_t key_len, size_t *value_len)
{
	if (t == NULL) {
		return NULL;
	}
	uint64_t hash = mx_hash(0, key, key_len);
	lookup_key_t k = { key, key_len };
	const entry_t *e = mx_table_find(&t->table, hash, hash, match_key, &k);
	if (e == NULL) {
		return NULL;
	}
	*value_len = e->value_len;
	return e->key + key_space(e->key_len);
}

void mx_bounded_table_put(mx_bounded_table_t *t, const uint8_t *key, size_t key_len,
                          const void *value, size_t value_len)
{
	if (t == NULL || key_len > UINT32_MAX || value_len > UINT32_MAX) {
		return;
	}
	mx_table_t *table = &t->table;
	if (!mx_table_reserve(table)) {
		// Full: one writer makes room, the others store nothing.
		if (!mx_table_try_lock(table)) {
			return;
		}
		mx_table_evict(table);
		mx_table_unlock(table);
		if (!mx_table_reserve(table)) {
			return;
		}
	}
	entry_t *e = malloc(sizeof(*e) + key_space(key_len) + value_len);
	if (e == NULL) {
		mx_table_release(table);
		return;
	}
	e->key_len = key_len;
	e->value_len = value_len;
	memcpy(e->key, key, key_len);
	if (value_len > 0) {
		memcpy(e->key + key_space(key_len), value, value_len);
	}

	uint64_t hash = mx_hash(0, key, key_len);
	lookup_key_t k = { key, key_len };
	void *found = NULL;
	if (mx_table_insert(table, hash, hash, e, match_key, &k, &found) != KNOT_EOK) {
		free(e);  // another worker stored the same key first, or no memory
		return;
	}
	mx_table_grow(table);
}

size_t mx_bounded_table_size(mx_bounded_table_t *t)
{
	return t == NULL ? 0 : mx_table_size(&t->table);
}
