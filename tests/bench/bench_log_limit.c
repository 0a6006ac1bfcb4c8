/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Instructions per call of the log limiter's common path, for callgrind (not
 * a timed test, not built by make): a table as the module makes it
 * (interval 300, 100,000 keys), 1,000 keys of 8 bytes as the hooks pass
 * them, then CALLS hits on those keys, all within the interval (suppressed),
 * in one read-side section. Build and run:
 *
 *   cc -O2 -g -Ilibmxguard tests/bench/bench_log_limit.c libmxguard/log_limit.c \
 *      libmxguard/concurrent_table.c \
 *      $(pkg-config --cflags --libs libknot liburcu) -o /tmp/bench_log_limit
 *   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \
 *      --toggle-collect=run_hits /tmp/bench_log_limit
 *   callgrind_annotate /tmp/cg.out | head
 *
 * Instructions per call: the total over the collected part / CALLS
 * (run_hits is the only part collected; its own loop is a few of them).
 */

#include <stdio.h>
#include <stdlib.h>
#include <urcu.h>

#include "log_limit.h"

#define KEYS 1000
#define CALLS 1000000

static uint64_t keys[KEYS];

// Not static: callgrind collects it by name (no clone of another name).
__attribute__((noinline))
unsigned run_hits(mx_log_limit_t *limit, uint64_t now);
unsigned run_hits(mx_log_limit_t *limit, uint64_t now)
{
	unsigned logged = 0;
	uint32_t supp;
	rcu_read_lock();
	for (unsigned i = 0; i < CALLS; i++) {
		const uint64_t *key = &keys[i % KEYS];
		logged += mx_log_limit_hit_locked(limit, (const uint8_t *)key,
		                                  sizeof(*key), now, &supp);
	}
	rcu_read_unlock();
	return logged;
}

int main(void)
{
	rcu_register_thread();
	mx_log_limit_t *limit = mx_log_limit_new(300, 100000);
	if (limit == NULL) {
		return 1;
	}
	// Hashes, as the hooks' keys are.
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (unsigned i = 0; i < KEYS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		keys[i] = x;
	}
	uint32_t supp;
	for (unsigned i = 0; i < KEYS; i++) {
		if (!mx_log_limit_hit(limit, (const uint8_t *)&keys[i], sizeof(keys[i]),
		                      1000, &supp)) {
			return 1;
		}
	}
	unsigned logged = run_hits(limit, 1001);
	printf("%u keys, %u calls, %u logged, %zu remembered\n", KEYS, CALLS, logged,
	       mx_log_limit_size(limit));
	mx_log_limit_free(limit);
	rcu_unregister_thread();
	return logged != 0;
}
