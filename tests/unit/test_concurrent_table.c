/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The concurrent table (concurrent_table.c) on its own: what its users
 * (test_verdict_cache.c, test_bounded_table.c, test_log_limit*.c) rely on.
 * Keys are numbers, their word and hash the number itself (or a hash of
 * it, to fill chosen buckets); entries hold their key.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <urcu.h>

#include <libknot/errcode.h>

#include "concurrent_table.h"

typedef struct {
	uint64_t key;
	unsigned version;
} entry_t;

static bool match(const void *entry, const void *key)
{
	return ((const entry_t *)entry)->key == *(const uint64_t *)key;
}

static bool drop_odd(const void *entry, void *ctx)
{
	return ((const entry_t *)entry)->key % 2 == 1;
}

static entry_t *entry_new(uint64_t key, unsigned version)
{
	entry_t *e = malloc(sizeof(*e));
	assert_non_null(e);
	*e = (entry_t) { key, version };
	return e;
}

// Inserts key (in a place taken): KNOT_EOK, or KNOT_EEXIST with the key's.
static int insert(mx_table_t *t, uint64_t key, unsigned version, entry_t **found)
{
	if (!mx_table_reserve(t)) {
		return KNOT_ESPACE;
	}
	entry_t *e = entry_new(key, version);
	void *other = NULL;
	int ret = mx_table_insert(t, key, key, e, match, &key, &other);
	if (ret != KNOT_EOK) {
		free(e);
	}
	if (found != NULL) {
		*found = other;
	}
	return ret;
}

static entry_t *find(const mx_table_t *t, uint64_t key)
{
	return mx_table_find(t, key, key, match, &key);
}

static void test_init(void **state)
{
	mx_table_t t;
	assert_int_equal(mx_table_init(&t, 0, 64, NULL), KNOT_EINVAL);
	assert_int_equal(mx_table_init(&t, 8, 3, NULL), KNOT_EINVAL);
	assert_int_equal(mx_table_init(&t, 8, 64, NULL), KNOT_EOK);
	assert_int_equal(t.buckets->mask + 1, 8);  // never more buckets than entries
	mx_table_deinit(&t);
	mx_table_deinit(&t);  // nothing the second time
}

// One entry per key; the bound counts places taken.
static void test_insert_once_and_bound(void **state)
{
	mx_table_t t;
	assert_int_equal(mx_table_init(&t, 4, 4, NULL), KNOT_EOK);
	rcu_read_lock();
	entry_t *found = NULL;
	assert_int_equal(insert(&t, 1, 1, NULL), KNOT_EOK);
	assert_int_equal(insert(&t, 1, 2, &found), KNOT_EEXIST);
	assert_int_equal(found->version, 1);
	assert_int_equal(mx_table_size(&t), 1);
	assert_int_equal(insert(&t, 5, 1, NULL), KNOT_EOK);  // the same bucket
	assert_int_equal(insert(&t, 2, 1, NULL), KNOT_EOK);
	assert_int_equal(insert(&t, 3, 1, NULL), KNOT_EOK);
	assert_int_equal(insert(&t, 4, 1, NULL), KNOT_ESPACE);
	assert_int_equal(mx_table_size(&t), 4);
	assert_non_null(find(&t, 1));
	assert_non_null(find(&t, 5));
	assert_null(find(&t, 4));
	assert_null(find(&t, 9));  // 1's bucket, no such key
	rcu_read_unlock();
	mx_table_deinit(&t);
}

// Replaced in its place (the same count); eviction takes the buckets' heads
// in turn; removal stops at the count asked for.
static void test_maintenance(void **state)
{
	mx_table_t t;
	assert_int_equal(mx_table_init(&t, 16, 16, NULL), KNOT_EOK);
	rcu_read_lock();
	for (uint64_t k = 0; k < 8; k++) {
		assert_int_equal(insert(&t, k, 1, NULL), KNOT_EOK);
	}
	assert_true(mx_table_try_lock(&t));
	assert_false(mx_table_try_lock(&t));  // one maintainer
	uint64_t key = 3;
	assert_int_equal(mx_table_replace(&t, key, key, entry_new(3, 2), match, &key),
	                 KNOT_EOK);
	key = 11;
	entry_t *e = entry_new(11, 1);
	assert_int_equal(mx_table_replace(&t, key, key, e, match, &key), KNOT_ENOENT);
	free(e);
	assert_int_equal(find(&t, 3)->version, 2);
	assert_int_equal(mx_table_size(&t), 8);

	mx_table_evict(&t);
	mx_table_evict(&t);
	assert_null(find(&t, 0));
	assert_null(find(&t, 1));
	assert_non_null(find(&t, 2));
	assert_int_equal(mx_table_size(&t), 6);

	// Odd keys go, while more than 4 are left.
	mx_table_remove_if(&t, drop_odd, NULL, 4);
	assert_int_equal(mx_table_size(&t), 4);
	assert_null(find(&t, 3));
	assert_null(find(&t, 5));
	assert_non_null(find(&t, 7));  // the count was reached before it
	mx_table_unlock(&t);
	assert_true(mx_table_try_lock(&t));
	mx_table_unlock(&t);
	rcu_read_unlock();
	mx_table_deinit(&t);
}

// Words that are not the hash: a growth asks the table's user for it.
static uint64_t hash_of(uint64_t word)
{
	return word * 0x9e3779b97f4a7c15ULL >> 7;
}

static uint64_t node_hash(const mx_table_t *t, const mx_table_node_t *n)
{
	return hash_of(n->word);
}

// The buckets double up to one per entry; every entry is found through
// the growths, the entries of before them too.
static void test_growth(void **state)
{
	const uint64_t max = 300;
	mx_table_t t;
	assert_int_equal(mx_table_init(&t, max, 4, node_hash), KNOT_EOK);
	rcu_read_lock();
	for (uint64_t k = 0; k < max; k++) {
		assert_true(mx_table_reserve(&t));
		entry_t *e = entry_new(k, 1);
		void *found = NULL;
		assert_int_equal(mx_table_insert(&t, hash_of(k), k, e, match, &k, &found),
		                 KNOT_EOK);
		mx_table_grow(&t);
		for (uint64_t j = 0; j <= k; j += 7) {
			assert_non_null(mx_table_find(&t, hash_of(j), j, match, &j));
			assert_non_null(mx_table_find_all(&t, hash_of(j), j, match, &j));
		}
	}
	assert_int_equal(t.buckets->mask + 1, 512);
	assert_int_equal(mx_table_size(&t), max);
	assert_false(mx_table_reserve(&t));
	rcu_read_unlock();
	mx_table_deinit(&t);
}

int main(void)
{
	rcu_register_thread();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_insert_once_and_bound),
		cmocka_unit_test(test_maintenance),
		cmocka_unit_test(test_growth),
	};
	int ret = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return ret;
}
