/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Stress of the shared log table for ThreadSanitizer (tests/tsan/run).
 *
 * Many registered RCU threads (knotd's workers) hit the same tables at
 * once: one hot key, keys of their own, a stream of new keys that keeps
 * a small table pruning, and the same new keys in all threads, which keep
 * a table growing while they race to insert them. Keys are of 8 bytes (the
 * module's, kept in the chain nodes) and of other lengths. The clock
 * advances, so keys log again. Rounds of tables are created, hammered, and
 * freed as an unload does (with pruned entries' and old tables' callbacks
 * still pending), then the next round starts. Checked besides the races:
 * the bound on the keys is never exceeded, within one interval the hot key
 * logs exactly once over all the threads, and so does each of the keys
 * all threads insert.
 *
 *   stress_log_limit [THREADS [ROUNDS [HITS]]]   (default 32 4 10000)
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "log_limit.h"
#include "stress.h"

typedef struct {
	mx_log_limit_t *small;   // pruned all the time
	mx_log_limit_t *large;   // holds every key
	mx_log_limit_t *hot;     // one key, one interval
	mx_log_limit_t *grow;    // the same new keys in all threads
	size_t small_max;
	size_t large_max;
	pthread_barrier_t *start;
	unsigned hits;
	unsigned id;
	unsigned round;
	// Results.
	unsigned hot_logged;
	unsigned long grow_logged;
	unsigned over_bound;
	unsigned long logged;
} worker_t;

static size_t make_key(uint8_t *key, unsigned round, unsigned owner, unsigned n)
{
	// One key in two of 8 bytes, the module's keys: a word of the three.
	if (n % 2 == 0) {
		uint64_t word = (uint64_t)round << 48 | (uint64_t)(owner & 0xffff) << 32 | n;
		memcpy(key, &word, sizeof(word));
		return sizeof(word);
	}
	memcpy(key, "mx", 2);
	memcpy(key + 2, &round, sizeof(round));
	memcpy(key + 6, &owner, sizeof(owner));
	memcpy(key + 10, &n, sizeof(n));
	// Vary the length too: keys of other lengths are bytes.
	return 14 + n % 5;
}

static void *worker(void *arg)
{
	worker_t *w = arg;
	rcu_register_thread();
	pthread_barrier_wait(w->start);

	uint8_t key[32] = { 0 };
	for (unsigned i = 0; i < w->hits; i++) {
		uint64_t now = 5000 + i / 500;
		uint32_t supp;
		size_t len;

		// A stream of new keys: the small table prunes under everyone.
		len = make_key(key, w->round, w->id, i);
		w->logged += mx_log_limit_hit(w->small, key, len, now, &supp);

		// Shared and private keys that stay: lines again as time goes.
		len = make_key(key, w->round, i % 3 == 0 ? w->id : 0xffff, i % 29);
		w->logged += mx_log_limit_hit(w->large, key, len, now, &supp);

		// One key all threads hit within one interval.
		len = make_key(key, w->round, 0xffff, 7);
		w->hot_logged += mx_log_limit_hit(w->hot, key, len, 1000, &supp);

		// Keys new to all the threads at about the same time.
		len = make_key(key, w->round, 0xfffe, i);
		w->grow_logged += mx_log_limit_hit(w->grow, key, len, 1000, &supp);

		if (mx_log_limit_size(w->small) > w->small_max ||
		    mx_log_limit_size(w->large) > w->large_max) {
			w->over_bound++;
		}
	}

	rcu_unregister_thread();
	return NULL;
}

int main(int argc, char **argv)
{
	stress_args_t args = stress_args(argc, argv, (stress_args_t) { 32, 4, 10000 });
	unsigned threads = args.threads, rounds = args.rounds, hits = args.hits;

	rcu_register_thread();
	worker_t *w = calloc(threads, sizeof(*w));
	pthread_t *tid = calloc(threads, sizeof(*tid));
	CHECK(w != NULL && tid != NULL);

	unsigned long total = 0;
	for (unsigned round = 0; round < rounds; round++) {
		const size_t small_max = 8 + round * 8, large_max = 4096;
		mx_log_limit_t *small = mx_log_limit_new(2, small_max);
		mx_log_limit_t *large = mx_log_limit_new(3, large_max);
		mx_log_limit_t *hot = mx_log_limit_new(3600, 4);
		// Room for all, and for the places threads take before they
		// find a key in: no pruning, the lines are one per key.
		mx_log_limit_t *grow = mx_log_limit_new(3600, 2 * (size_t)hits + threads);
		CHECK(small != NULL && large != NULL && hot != NULL && grow != NULL);

		pthread_barrier_t start;
		CHECK(pthread_barrier_init(&start, NULL, threads) == 0);
		for (unsigned i = 0; i < threads; i++) {
			w[i] = (worker_t) {
				.small = small, .large = large, .hot = hot, .grow = grow,
				.small_max = small_max, .large_max = large_max,
				.start = &start, .hits = hits, .id = i, .round = round,
			};
			CHECK(pthread_create(&tid[i], NULL, worker, &w[i]) == 0);
		}
		unsigned hot_logged = 0;
		unsigned long grow_logged = 0;
		for (unsigned i = 0; i < threads; i++) {
			CHECK(pthread_join(tid[i], NULL) == 0);
			hot_logged += w[i].hot_logged;
			grow_logged += w[i].grow_logged;
			CHECK(w[i].over_bound == 0);
			total += w[i].logged;
		}
		pthread_barrier_destroy(&start);
		CHECK(hot_logged == 1);
		CHECK(grow_logged == hits);
		CHECK(mx_log_limit_size(grow) == hits);
		CHECK(mx_log_limit_size(small) <= small_max);

		// As an unload does: free with pruned entries' callbacks pending.
		mx_log_limit_free(small);
		mx_log_limit_free(large);
		mx_log_limit_free(hot);
		mx_log_limit_free(grow);
	}

	printf("tsan: %u threads x %u rounds x %u hits x 4 tables: %lu lines, no race\n",
	       threads, rounds, hits, total);
	free(w);
	free(tid);
	rcu_unregister_thread();
	return 0;
}
