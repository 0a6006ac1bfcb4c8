/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Stress of the verdict cache for ThreadSanitizer (tests/tsan/run).
 *
 * Many registered RCU threads (knotd's workers) look verdicts up and store
 * them in one small cache at once: its table grows, entries are evicted,
 * and the same RRset is stored with other exchanges' data (a newer verdict
 * replaces the older one) all the time, under readers. Every other round
 * the cache has a max age: a verdict found fresh is taken as it is, one
 * found stale is compared and, if current, confirmed (its time written by
 * any reader). Checked besides the races: every verdict found is its own
 * RRset's (and, unless fresh, its exchanges' data's), and the bound holds.
 * Then the cache is freed as an unload does, with callbacks still pending.
 *
 *   stress_verdict_cache [THREADS [ROUNDS [HITS]]]   (default 16 3 20000)
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "stress.h"
#include "tsan_rcu.h"
#include "verdict_cache.h"

#define OWNERS 256
#define VERSIONS 3

typedef struct {
	uint8_t owner[32];
	knot_rdataset_t rrs;
	uint8_t rdata[32];
} rrset_t;

typedef struct {
	mx_verdict_cache_t *cache;
	const rrset_t *rrsets;
	size_t max;
	pthread_barrier_t *start;
	unsigned hits;
	unsigned seed;
	bool max_age;
	unsigned long found;
	unsigned wrong;
	unsigned over_bound;
} worker_t;

static const uint8_t zone[] = "\x07""example";

// "h<i>.example." with one MX record "10 mx<i>.example.".
static void make_rrset(rrset_t *r, unsigned i)
{
	char label[16];
	int n = snprintf(label, sizeof(label), "h%u", i);
	r->owner[0] = n;
	memcpy(r->owner + 1, label, n);
	memcpy(r->owner + 1 + n, zone, sizeof(zone));
	knot_rdata_t *rd = (knot_rdata_t *)r->rdata;
	uint8_t data[24] = { 0, 10 };
	n = snprintf(label, sizeof(label), "mx%u", i % 7);
	data[2] = n;
	memcpy(data + 3, label, n);
	memcpy(data + 3 + n, zone, sizeof(zone));
	knot_rdata_init(rd, 3 + n + sizeof(zone), data);
	r->rrs = (knot_rdataset_t) { .count = 1, .size = knot_rdata_size(rd->len), .rdata = rd };
}

static void *worker(void *arg)
{
	worker_t *w = arg;
	rcu_register_thread();
	pthread_barrier_wait(w->start);
	unsigned x = w->seed;
	for (unsigned n = 0; n < w->hits; n++) {
		x = x * 1103515245 + 12345;
		unsigned i = (x >> 8) % OWNERS;
		uint8_t version = (x >> 20) % VERSIONS;  // the exchanges' data now
		mx_verdict_key_t key = {
			.zone = zone, .owner = w->rrsets[i].owner, .rrs = &w->rrsets[i].rrs,
			.extra = &version, .extra_len = 1, .now = mx_verdict_cache_now(w->cache),
		};
		rcu_read_lock();
		mx_verdict_t v;
		bool hit = false;
		if (w->max_age && mx_verdict_cache_find(w->cache, &key, &v)) {
			// Its own RRset always; its data too unless read lately.
			hit = v.fresh || mx_verdict_made_on(&v, &version, 1);
			if (hit && !v.fresh) {
				mx_verdict_confirm(&v, key.now);
			}
		} else if (!w->max_age) {
			hit = mx_verdict_cache_get(w->cache, &key, &v);
		}
		if (hit) {
			w->found++;
			if (v.count != 1 || v.violations[0].rr_index != i ||
			    (!v.fresh && v.violations[0].preference != version)) {
				w->wrong++;
			}
		} else {
			mx_violation_t viol = {
				.kind = MX_KIND_LOOPBACK, .rr_index = i, .preference = version,
			};
			mx_verdict_cache_put(w->cache, &key, &viol, 1);
		}
		READ_SIDE_END();  // done with what the cache gave
		rcu_read_unlock();
		if (mx_verdict_cache_size(w->cache) > w->max) {
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
	rrset_t *rrsets = calloc(OWNERS, sizeof(*rrsets));
	worker_t *w = calloc(threads, sizeof(*w));
	pthread_t *tid = calloc(threads, sizeof(*tid));
	CHECK(rrsets != NULL && w != NULL && tid != NULL);
	for (unsigned i = 0; i < OWNERS; i++) {
		make_rrset(&rrsets[i], i);
	}

	unsigned long found = 0;
	for (unsigned round = 0; round < rounds; round++) {
		// Smaller than the owners: eviction all along; growth from 64 buckets.
		size_t max = 100 + round * 50;
		mx_verdict_cache_t *cache = mx_verdict_cache_new(max, round);
		CHECK(cache != NULL);
		// Longer than the coarse clock's tick, short enough to pass often.
		bool max_age = round % 2 == 1;
		if (max_age) {
			mx_verdict_cache_set_max_age(cache, 50000000, NULL);
		}
		pthread_barrier_t start;
		CHECK(pthread_barrier_init(&start, NULL, threads) == 0);
		for (unsigned i = 0; i < threads; i++) {
			w[i] = (worker_t) {
				.cache = cache, .rrsets = rrsets, .max = max, .start = &start,
				.hits = hits, .seed = round * 1000 + i, .max_age = max_age,
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
		// As an unload does: evicted entries' callbacks still pending.
		mx_verdict_cache_free(cache);
	}

	printf("tsan: %u threads x %u rounds x %u lookups of a verdict cache: %lu found, "
	       "each its key's, no race\n", threads, rounds, hits, found);
	free(rrsets);
	free(w);
	free(tid);
	rcu_unregister_thread();
	return 0;
}
