/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * What the log limiter's two test files share: their call_rcu thread, how
 * they count a hit and check a line, the bound check, and the threads.
 */

#pragma once

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <urcu.h>

#include "log_limit.h"

// liburcu 0.13 never stops its default call_rcu thread, which valgrind then
// reports as "possibly lost": every thread here uses this one, stopped at
// the end. From 0.14 (which added urcu-poll.h) call_rcu_data_free joins it.
static struct call_rcu_data *call_rcu_worker;

static inline bool hit(mx_log_limit_t *limit, const char *key, uint64_t now,
                       uint32_t *suppressed)
{
	*suppressed = UINT32_MAX;  // must be overwritten
	return mx_log_limit_hit(limit, (const uint8_t *)key, strlen(key), now,
	                        suppressed);
}

static inline bool hit_num(mx_log_limit_t *limit, uint32_t n, uint64_t now,
                           uint32_t *suppressed)
{
	char key[16];
	snprintf(key, sizeof(key), "key%u", n);
	return hit(limit, key, now, suppressed);
}

// Logged with exactly this suppressed count (a pointer: read after the hit).
static inline void assert_logged(bool logged, const uint32_t *suppressed,
                                 uint32_t expected)
{
	assert_true(logged);
	assert_int_equal(*suppressed, expected);
}

// Key bytes spelt out, zero bytes included.
typedef struct {
	const char *data;
	size_t len;
} raw_key_t;

// Each key's first hit at time 100 logs, with nothing suppressed: the
// table then holds them all, each on its own.
static inline void check_first_hits(mx_log_limit_t *limit, const raw_key_t *keys,
                                    size_t count)
{
	for (size_t i = 0; i < count; i++) {
		uint32_t supp = UINT32_MAX;
		assert_true(mx_log_limit_hit(limit, (const uint8_t *)keys[i].data,
		                             keys[i].len, 100, &supp));
		assert_int_equal(supp, 0);
	}
	assert_int_equal(mx_log_limit_size(limit), count);
}

// A hit of key number n, of some kind.
typedef bool (*hit_n_f)(mx_log_limit_t *limit, uint32_t n, uint64_t now,
                        uint32_t *suppressed);

/*
 * New keys, PER_SECOND a second, ten times the bound: never more than MAX
 * keys, down to the target after each pruning (plus the new key), and the
 * newest key remembered at once. Returns the prunings seen.
 */
static inline unsigned check_bound(size_t max, unsigned per_second, hit_n_f hit_n)
{
	// No slack: a key takes its place before it enters the table.
	const size_t target = max - max / 4;
	mx_log_limit_t *limit = mx_log_limit_new(60, max);
	assert_non_null(limit);
	uint32_t supp;

	bool full = false;
	unsigned prunings = 0;
	for (uint32_t i = 0; i < 10 * max; i++) {
		// Time advances so that both pruning passes get their turn.
		uint64_t now = 1000 + i / per_second;
		assert_logged(hit_n(limit, i, now, &supp), &supp, 0);
		size_t size = mx_log_limit_size(limit);
		assert_true(size <= max);
		if (size == max) {
			full = true;
		} else if (full) {
			assert_int_equal(size, target + 1);
			full = false;
			prunings++;
		}
		assert_false(hit_n(limit, i, now, &supp));
	}
	assert_true(mx_log_limit_size(limit) <= max);
	mx_log_limit_free(limit);
	return prunings;
}

/* Threads: each a worker_t, started together. */

#define THREADS 8
#define THREAD_HITS 100000


typedef enum {
	RUN_SHARED,     // one key, one point in time
	RUN_STEPS,      // few keys, time advancing step by step
	RUN_MANY_KEYS,  // mostly new keys, table pruned all the time
	RUN_SAME_NEW,   // the same new keys in all threads, one in two of 8 bytes
} run_t;

typedef struct {
	mx_log_limit_t *limit;
	run_t run;
	uint8_t id;
	pthread_barrier_t *start;
	size_t max_keys;
	// Results.
	uint64_t logged;
	uint64_t suppressed;
	uint64_t over_bound;
} worker_t;

// Key bytes: a tag, the thread (or 0xff when shared) and a number.
static inline size_t make_key(uint8_t *key, uint8_t owner, uint32_t n)
{
	key[0] = 'k';
	key[1] = owner;
	memcpy(key + 2, &n, sizeof(n));
	return 2 + sizeof(n);
}

// Key n of RUN_SAME_NEW: one in two of 8 bytes (the module's), the others longer.
static inline size_t make_new_key(uint8_t *key, uint32_t n)
{
	if (n % 2 == 0) {
		uint64_t word = (uint64_t)n * 0x9e3779b97f4a7c15ULL;
		memcpy(key, &word, sizeof(word));
		return sizeof(word);
	}
	key[0] = 'k';
	memcpy(key + 1, &n, sizeof(n));
	return 1 + sizeof(n);
}

static inline void *worker(void *arg)
{
	worker_t *w = arg;
	rcu_register_thread();
	set_thread_call_rcu_data(call_rcu_worker);
	pthread_barrier_wait(w->start);

	for (uint32_t i = 0; i < THREAD_HITS; i++) {
		uint8_t key[8];
		size_t len;
		uint64_t now;
		switch (w->run) {
		case RUN_SHARED:
			len = make_key(key, 0xff, 0);
			now = 1000;
			break;
		case RUN_STEPS:
			// Shared keys, and every fifth hit one of seven private ones.
			if (i % 5 == 0) {
				len = make_key(key, w->id, i % 7);
			} else {
				len = make_key(key, 0xff, i % 17);
			}
			now = 1000 + i / 2000;
			break;
		case RUN_SAME_NEW:
			len = make_new_key(key, i);
			now = 1000;
			break;
		default:
			// Every tenth hit a key all threads hit, the rest new keys.
			len = make_key(key, i % 10 == 0 ? 0xff : w->id, i);
			now = 1000 + i / 1000;
			break;
		}

		uint32_t supp = 0;
		if (mx_log_limit_hit(w->limit, key, len, now, &supp)) {
			w->logged++;
			w->suppressed += supp;
		}
		if (mx_log_limit_size(w->limit) > w->max_keys) {
			w->over_bound++;
		}
	}

	rcu_unregister_thread();
	return NULL;
}

static inline void run_workers(mx_log_limit_t *limit, run_t run, size_t max_keys,
                        worker_t *workers)
{
	pthread_t threads[THREADS];
	pthread_barrier_t start;
	assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
	for (int i = 0; i < THREADS; i++) {
		workers[i] = (worker_t) {
			.limit = limit, .run = run, .id = i, .start = &start,
			.max_keys = max_keys,
		};
		assert_int_equal(pthread_create(&threads[i], NULL, worker, &workers[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
	}
	pthread_barrier_destroy(&start);
}

static int group_setup(void **state)
{
	rcu_register_thread();
	call_rcu_worker = create_call_rcu_data(0, -1);
	if (call_rcu_worker == NULL) {
		return -1;
	}
	set_thread_call_rcu_data(call_rcu_worker);
	return 0;
}

static int group_teardown(void **state)
{
	// Every table was freed, so no callbacks are pending (rcu_barrier).
	set_thread_call_rcu_data(NULL);
	pthread_t thread = get_call_rcu_thread(call_rcu_worker);
	call_rcu_data_free(call_rcu_worker);
#if !__has_include(<urcu/urcu-poll.h>)
	pthread_join(thread, NULL);
#else
	(void)thread;
#endif
	rcu_unregister_thread();
	return 0;
}
