/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Stress of the signature table (bounded_table.c) for ThreadSanitizer
 * (tests/tsan/run).
 *
 * Many registered RCU threads (knotd's workers) look byte strings up and
 * store them in one small table at once: inserts race lock-free on the same
 * keys, the table grows from its first buckets, and a full table has an
 * entry evicted by one writer while the others push. Checked besides the
 * races: every value found is its own key's, and the bound holds. Then the
 * table is freed as an unload does, with callbacks still pending.
 *
 *   stress_bounded_table [THREADS [ROUNDS [HITS]]]   (default 16 3 20000)
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "bounded_table.h"
#include "stress.h"
#include "tsan_rcu.h"

#define KEYS 512

typedef struct {
	mx_bounded_table_t *table;
	size_t max;
	pthread_barrier_t *start;
	unsigned hits;
	unsigned seed;
	unsigned long found;
	unsigned wrong;
	unsigned over_bound;
} worker_t;

// Key i: its number, then bytes of a length that varies with it.
static size_t make_key(uint8_t *key, uint32_t i)
{
	size_t len = 4 + i % 40;
	memset(key, 0x5a, len);
	memcpy(key, &i, sizeof(i));
	return len;
}

static void *worker(void *arg)
{
	worker_t *w = arg;
	rcu_register_thread();
	pthread_barrier_wait(w->start);
	unsigned x = w->seed;
	uint8_t key[64];
	for (unsigned n = 0; n < w->hits; n++) {
		x = x * 1103515245 + 12345;
		uint32_t i = (x >> 8) % KEYS;
		size_t key_len = make_key(key, i);
		rcu_read_lock();
		size_t len = 0;
		const uint32_t *v = mx_bounded_table_get(w->table, key, key_len, &len);
		if (v != NULL) {
			w->found++;
			if (len != 2 * sizeof(*v) || v[0] != i || v[1] != ~i) {
				w->wrong++;
			}
		} else {
			uint32_t value[2] = { i, ~i };
			mx_bounded_table_put(w->table, key, key_len, value, sizeof(value));
		}
		READ_SIDE_END();  // done with what the table gave
		rcu_read_unlock();
		if (mx_bounded_table_size(w->table) > w->max) {
			w->over_bound++;
		}
	}
	rcu_unregister_thread();
	return NULL;
}

int main(int argc, char **argv)
{
	stress_args_t args = stress_args(argc, argv, (stress_args_t) { 16, 3, 20000 });
	unsigned threads = args.threads, rounds = args.rounds, hits = args.hits;

	rcu_register_thread();
	worker_t *w = calloc(threads, sizeof(*w));
	pthread_t *tid = calloc(threads, sizeof(*tid));
	CHECK(w != NULL && tid != NULL);

	unsigned long found = 0;
	for (unsigned round = 0; round < rounds; round++) {
		// Smaller than the keys: eviction all along; growth from 64 buckets.
		size_t max = 150 + round * 100;
		mx_bounded_table_t *table = mx_bounded_table_new(max);
		CHECK(table != NULL);
		pthread_barrier_t start;
		CHECK(pthread_barrier_init(&start, NULL, threads) == 0);
		for (unsigned i = 0; i < threads; i++) {
			w[i] = (worker_t) {
				.table = table, .max = max, .start = &start, .hits = hits,
				.seed = round * 1000 + i,
			};
			CHECK(pthread_create(&tid[i], NULL, worker, &w[i]) == 0);
		}
		for (unsigned i = 0; i < threads; i++) {
			CHECK(pthread_join(tid[i], NULL) == 0);
			CHECK(w[i].wrong == 0);
			CHECK(w[i].over_bound == 0);
			found += w[i].found;
		}
		pthread_barrier_destroy(&start);
		CHECK(found > 0);
		CHECK(mx_bounded_table_size(table) <= max);
		// As an unload does: evicted entries' callbacks still pending.
		mx_bounded_table_free(table);
	}

	printf("tsan: %u threads x %u rounds x %u lookups of a signature table: %lu found, "
	       "each its key's, no race\n", threads, rounds, hits, found);
	free(w);
	free(tid);
	rcu_unregister_thread();
	return 0;
}
