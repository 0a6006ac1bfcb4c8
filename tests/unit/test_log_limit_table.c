/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The log limiter's table (log_limit.c): keys of 8 bytes, kept in the chain
 * nodes, against keys of other lengths; growth, alone and under threads
 * that insert the same new keys; the bound through growths and prunings.
 * The behaviour of a table of any size is test_log_limit.c's.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <urcu.h>

#include "log_limit_fixture.h"


// The module's keys: 8 bytes, a uint64 hash.
static bool hit_word(mx_log_limit_t *limit, uint64_t key, uint64_t now,
                     uint32_t *suppressed)
{
	*suppressed = UINT32_MAX;  // must be overwritten
	return mx_log_limit_hit(limit, (const uint8_t *)&key, sizeof(key), now,
	                        suppressed);
}

// Keys of 8 bytes take their own path (the key kept in the chain node):
// they and keys of other lengths with the same bytes are all distinct.
static void test_word_keys(void **state)
{
	mx_log_limit_t *limit = mx_log_limit_new(10, 64);
	assert_non_null(limit);

	static const raw_key_t keys[] = {
		{ "abcdefgh", 8 },
		{ "abcdefgi", 8 },           // last byte differs
		{ "bbcdefgh", 8 },           // first byte differs
		{ "abcdefg", 7 },            // prefix
		{ "abcdefgh\0", 9 },         // one zero byte more
		{ "abcdefghabcdefgh", 16 },  // twice
		{ "\0\0\0\0\0\0\0\0", 8 },   // zero
		{ "", 0 },
	};
	const size_t count = sizeof(keys) / sizeof(keys[0]);
	check_first_hits(limit, keys, count);
	for (size_t i = 0; i < count; i++) {
		for (size_t n = 0; n <= i; n++) {
			assert_false(mx_log_limit_hit(limit, (const uint8_t *)keys[i].data,
			                              keys[i].len, 101, NULL));
		}
	}
	// Both variants, and an unaligned 8-byte key.
	uint8_t buf[9];
	memcpy(buf + 1, keys[0].data, 8);
	uint32_t supp = UINT32_MAX;
	rcu_read_lock();
	assert_false(mx_log_limit_hit_locked(limit, buf + 1, 8, 102, &supp));
	assert_true(mx_log_limit_hit_locked(limit, buf + 1, 8, 110, &supp));
	rcu_read_unlock();
	assert_int_equal(supp, 2);
	for (size_t i = 1; i < count; i++) {
		assert_true(mx_log_limit_hit(limit, (const uint8_t *)keys[i].data,
		                             keys[i].len, 200, &supp));
		assert_int_equal(supp, i + 1);
	}
	assert_int_equal(mx_log_limit_size(limit), count);

	mx_log_limit_free(limit);
}

// The table starts small and doubles: no key and no count is lost.
static void test_growth(void **state)
{
	const uint32_t keys = 5000;
	mx_log_limit_t *limit = mx_log_limit_new(60, 2 * keys);
	assert_non_null(limit);
	uint32_t supp;

	for (uint32_t i = 0; i < keys; i++) {
		uint64_t word = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
		assert_logged(hit_word(limit, word, 1000, &supp), &supp, 0);
		assert_logged(hit_num(limit, i, 1000, &supp), &supp, 0);
		// Keys of before the last growths are still there.
		if (i % 97 == 0) {
			for (uint32_t j = 0; j <= i; j += 13) {
				uint64_t w = (uint64_t)j * 0x9e3779b97f4a7c15ULL;
				assert_false(hit_word(limit, w, 1001, &supp));
				assert_false(hit_num(limit, j, 1001, &supp));
			}
		}
	}
	assert_int_equal(mx_log_limit_size(limit), 2 * keys);

	for (uint32_t i = 0; i < keys; i++) {
		uint64_t word = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
		uint32_t expected = 0;
		for (uint32_t j = (i / 97) * 97; j < keys; j += 97) {
			expected += (i % 13 == 0) && i <= j;
		}
		assert_logged(hit_word(limit, word, 1060, &supp), &supp, expected);
		assert_logged(hit_num(limit, i, 1060, &supp), &supp, expected);
	}
	assert_int_equal(mx_log_limit_size(limit), 2 * keys);

	mx_log_limit_free(limit);
}

static bool hit_word_num(mx_log_limit_t *limit, uint32_t n, uint64_t now,
                         uint32_t *suppressed)
{
	return hit_word(limit, n, now, suppressed);
}

// 8-byte keys past growths and prunings: never more than max_keys, and
// down to the target after each pruning.
static void test_bound_word_keys(void **state)
{
	assert_true(check_bound(1000, 50, hit_word_num) >= 10);
}

/* Threads (log_limit_fixture.h). */

static void test_threads_same_new_keys(void **state)
{
	// Room for all, and for the places threads take before they find a
	// key in: no pruning. The table doubles again and again meanwhile.
	const size_t max = 2 * THREAD_HITS;
	mx_log_limit_t *limit = mx_log_limit_new(3600, max);
	assert_non_null(limit);
	worker_t workers[THREADS];
	run_workers(limit, RUN_SAME_NEW, max, workers);

	// One line per key over all the threads, not one per thread.
	uint64_t logged = 0;
	for (int i = 0; i < THREADS; i++) {
		logged += workers[i].logged;
		assert_int_equal(workers[i].suppressed, 0);
		assert_int_equal(workers[i].over_bound, 0);
	}
	assert_int_equal(logged, THREAD_HITS);
	assert_int_equal(mx_log_limit_size(limit), THREAD_HITS);

	// Each key counted every other thread's hit.
	for (uint32_t i = 0; i < THREAD_HITS; i++) {
		uint8_t key[8];
		size_t len = make_new_key(key, i);
		uint32_t supp;
		assert_true(mx_log_limit_hit(limit, key, len, 1000 + 3600, &supp));
		assert_int_equal(supp, THREADS - 1);
	}

	mx_log_limit_free(limit);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_word_keys),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_bound_word_keys),
		cmocka_unit_test(test_threads_same_new_keys),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
