/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Instructions per answer of the answer scan's common paths, for callgrind
 * (not a timed test, not built by make): per zone an instance's parameters
 * and verdict cache (one_zone, as the module makes them), the answers of
 * scripts/bench's mix (b) or (c) (11 owners in each of 200 zones, each
 * answer a response with its MX RRset written as knotd writes it, owner
 * compressed to the question), judged once, then scanned CALLS times in one
 * read-side section. Knot 3.2's glue list is stood for by a glue_equal that compares
 * one word. Build and run:
 *
 *   cc -O2 -g -Ilibmxguard tests/bench/bench_answer_scan.c \
 *      libmxguard/answer_scan.c libmxguard/verdict_cache.c libmxguard/mx_check.c \
 *      libmxguard/rewrite_plan.c libmxguard/log_line.c libmxguard/address.c \
 *      libmxguard/special_address.c libmxguard/providers.c \
 *      libmxguard/exchange_name.c libmxguard/name_list.c libmxguard/policy.c \
 *      libmxguard/concurrent_table.c \
 *      $(pkg-config --cflags --libs libknot liburcu) -o /tmp/bench_answer_scan
 *   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \
 *      --toggle-collect=run_scans /tmp/bench_answer_scan [AGE] [MIX]
 *   callgrind_annotate --inclusive=yes /tmp/cg.out | head -30
 *
 * AGE: the cache's max age in the clock's ticks (default 1000: every
 * verdict fresh; 0: the glue compared every time). MIX: b (default) or c.
 * Instructions per answer: the total collected / CALLS.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "answer_scan.h"

#define ZONES 200
#define NAMES 11
#define ANSWERS (ZONES * NAMES)
#define CALLS 200000

static knot_pkt_t *answers[ANSWERS];
static knot_rrset_t *rrsets[ANSWERS];
static mx_scan_params_t params[ZONES];
static mx_scan_query_t parts[ZONES];
static uint64_t ticks = 1;

static uint64_t tick_clock(void)
{
	return ticks;
}

static bool glue_equal(const knot_rrset_t *rr, const uint8_t *key, size_t len, void *ctx)
{
	return len == 8 && memcmp(key, "glue key", 8) == 0;
}

static int glue_key(const knot_rrset_t *rr, uint8_t *buf, size_t max, void *ctx)
{
	memcpy(buf, "glue key", 8);
	return 8;
}

static bool glue_target(const knot_rrset_t *rr, uint16_t pos, mx_target_t *target,
                        void *ctx)
{
	static mx_addr_t addr = { .family = 2, .bytes = { 93, 185, 0, 1 } };
	static mx_addr_t loop = { .family = 2, .bytes = { 127, 0, 0, 1 } };
	const knot_dname_t *ex = knot_mx_name(knot_rdataset_at(&rr->rrs, pos));
	target->state = MX_TARGET_FOUND;
	target->addrs = (ex[1] == 'v') ? &loop : &addr;
	target->addr_count = 1;
	return true;
}

static void no_lookup(const knot_dname_t *exchange, mx_target_t *target, void *ctx)
{
}

static void *mm_alloc(void *ctx, size_t size)
{
	// Freed with the process: a pool as knotd's, never reset here.
	static uint8_t *pool;
	static size_t left;
	size = (size + 15) & ~(size_t)15;
	if (size > left) {
		left = 1 << 24;
		pool = malloc(left);
	}
	void *p = pool;
	pool += size;
	left -= size;
	return p;
}

static void add_mx(knot_rrset_t *rr, uint16_t pref, const char *exchange)
{
	uint8_t data[2 + KNOT_DNAME_MAXLEN];
	knot_wire_write_u16(data, pref);
	knot_dname_t *name = knot_dname_from_str_alloc(exchange);
	size_t len = knot_dname_size(name);
	memcpy(data + 2, name, len);
	free(name);
	knot_rrset_add_rdata(rr, data, 2 + len, NULL);
}

static knot_pkt_t *answer(const char *owner, bool rewritten, unsigned k, knot_rrset_t **out)
{
	knot_pkt_t *query = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	knot_dname_t *q = knot_dname_from_str_alloc(owner);
	knot_pkt_put_question(query, q, KNOT_CLASS_IN, KNOT_RRTYPE_MX);
	knot_pkt_t *resp = knot_pkt_new(NULL, 1232, NULL);
	knot_pkt_init_response(resp, query);
	knot_pkt_begin(resp, KNOT_ANSWER);
	knot_rrset_t *rr = knot_rrset_new(q, KNOT_RRTYPE_MX, KNOT_CLASS_IN, 3600, NULL);
	free(q);
	char zone[32];
	snprintf(zone, sizeof(zone), "%s", strchr(owner, '.') + 1);
	char ex[64];
	if (rewritten) {
		snprintf(ex, sizeof(ex), "mx1.%s", zone);
		add_mx(rr, 10, ex);
		add_mx(rr, 20, (k & 1) ? "localhost." : "192.0.2.25.");
		snprintf(ex, sizeof(ex), "v%u.%s", k, zone);
	} else if (k % 2 == 0) {
		snprintf(ex, sizeof(ex), "mx1.%s", zone);
		add_mx(rr, 10, ex);
		snprintf(ex, sizeof(ex), "mx2.%s", zone);
		add_mx(rr, 20, ex);
	} else {
		add_mx(rr, 10, "aspmx.l.google.com.");
		add_mx(rr, 20, "alt1.aspmx.l.google.com.");
	}
	knot_pkt_put(resp, KNOT_COMPR_HINT_QNAME, rr, 0);
	knot_pkt_free(query);
	*out = rr;
	return resp;
}

// Not static: callgrind collects it by name.
__attribute__((noinline))
unsigned run_scans(void);
unsigned run_scans(void)
{
	unsigned clean = 0;
	for (unsigned n = 0; n < CALLS; n++) {
		mx_scan_t scan;
		unsigned i = (n * 7919) % ANSWERS;
		mx_answer_scan(answers[i], &params[i / NAMES], &parts[i / NAMES], &scan);
		clean += scan.clean + scan.violation_count;
	}
	return clean;
}

int main(int argc, char **argv)
{
	uint64_t age = (argc > 1) ? strtoull(argv[1], NULL, 10) : 1000;
	bool rewritten = (argc > 2 && argv[2][0] == 'c');
	rcu_register_thread();
	mx_policy_t policy;
	mx_policy_init(&policy, MX_ACTION_LOG);
	knot_mm_t mm = { .alloc = mm_alloc };
	for (unsigned i = 0; i < ANSWERS; i++) {
		char owner[64];
		unsigned k = i % NAMES;
		snprintf(owner, sizeof(owner), "m%u.z%04u.bench.", k, i / NAMES);
		answers[i] = answer(owner, rewritten, k, &rrsets[i]);
	}
	// Each zone's instance: its name is every owner's suffix.
	for (unsigned z = 0; z < ZONES; z++) {
		char name[32];
		snprintf(name, sizeof(name), "z%04u.bench.", z);
		knot_dname_t *zone = knot_dname_from_str_alloc(name);
		mx_verdict_cache_t *cache = mx_verdict_cache_new(1024, 42 + z);
		mx_verdict_cache_set_max_age(cache, age, tick_clock);
		params[z] = (mx_scan_params_t) {
			.policy = &policy,
			.one_zone = true,
			.zone_size = knot_dname_size(zone),
			.lookup = no_lookup,
			.glue_target = glue_target,
			.glue_key = glue_key,
			.glue_equal = glue_equal,
			.cache = cache,
			.log_only = true,  // every action log, as the log instance
			.log_seed = 42,
		};
		parts[z] = (mx_scan_query_t) { .zone = zone, .mm = &mm };
	}
	rcu_read_lock();
	for (unsigned i = 0; i < ANSWERS; i++) {
		mx_scan_t scan;
		mx_answer_scan(answers[i], &params[i / NAMES], &parts[i / NAMES], &scan);
	}
	ticks = 2;
	unsigned found = run_scans();
	rcu_read_unlock();
	printf("%u clean or violations in %u scans\n", found, CALLS);
	for (unsigned i = 0; i < ANSWERS; i++) {
		knot_pkt_free(answers[i]);
		knot_rrset_free(rrsets[i], NULL);
	}
	for (unsigned z = 0; z < ZONES; z++) {
		mx_verdict_cache_free(params[z].cache);
		free((void *)parts[z].zone);
	}
	rcu_unregister_thread();
	return 0;
}
