/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * One answer, one call: what mx_answer_run() counts, logs and leaves of the
 * answer, through a host that records what it is given (as knotd's adapter
 * hands it on to knotd_mod_stats_incr and knotd_mod_log).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <syslog.h>
#include <urcu.h>

#include "answer_run.h"
#include "test_helpers.h"

#define MAX_LINES 8

typedef struct {
	test_arena_t arena;
	knot_mm_t mm;
	knot_pkt_t *query;
	knot_pkt_t *resp;
	knot_rrset_t *mx;
	mx_policy_t policy;
	mx_scan_params_t params;
	mx_scan_query_t part;
	mx_glue_t glue[2];
	mx_host_t host;
	// What the host was given.
	uint32_t counts[MX_CTR_COUNT][MX_KIND_COUNT + MX_ACTION_COUNT];
	char lines[MAX_LINES][512];
	int levels[MAX_LINES];
	unsigned line_count;
	const char *failed;
} fixture_t;

static void host_count(void *q, mx_counter_t ctr, uint32_t idx, uint32_t n)
{
	fixture_t *f = q;
	assert_true(idx < mx_counters[ctr].count);
	f->counts[ctr][idx] += n;
}

static void host_log(void *q, int level, const char *line)
{
	fixture_t *f = q;
	assert_true(f->line_count < MAX_LINES);
	f->levels[f->line_count] = level;
	snprintf(f->lines[f->line_count++], sizeof(f->lines[0]), "%s", line);
}

static void host_fail(void *q, const char *what)
{
	((fixture_t *)q)->failed = what;
}

// The glue "knotd holds": mx1 at 93.184.215.14, localhost at 127.0.0.1.
static bool glue_of(const knot_rrset_t *rr, mx_glue_t **glue, size_t *count,
                    bool *complete, void *ctx)
{
	fixture_t *f = ctx;
	*glue = f->glue;
	*count = 2;
	*complete = true;
	return true;
}

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	f->mm = (knot_mm_t) { .ctx = &f->arena, .alloc = test_arena_alloc };
	mx_policy_init(&f->policy, MX_ACTION_LOG);
	f->policy.action[MX_KIND_LOOPBACK] = MX_ACTION_STRIP;
	f->glue[0] = (mx_glue_t) { test_name("mx1.example."), test_addr("93.184.215.14") };
	f->glue[1] = (mx_glue_t) { test_name("localhost.example."), test_addr("127.0.0.1") };
	f->params = (mx_scan_params_t) {
		.policy = &f->policy,
		.glue_of = glue_of,
		.log_seed = 7,
	};
	f->part = (mx_scan_query_t) {
		.zone = (const knot_dname_t *)"\x07""example",
		.glue_ctx = f,
		.mm = &f->mm,
	};
	f->host = (mx_host_t) {
		.count = host_count,
		.log = host_log,
		.fail = host_fail,
		.policy = &f->policy,
		.scan = &f->params,
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	knot_pkt_free(f->query);
	knot_pkt_free(f->resp);
	knot_rrset_free(f->mx, NULL);
	test_arena_free(&f->arena);
	free((void *)f->glue[0].owner);
	free((void *)f->glue[1].owner);
	mx_log_limit_free(f->host.log_limit);
	free(f);
	return 0;
}

// "example. MX" answered with the given exchanges, written as knotd writes
// them (the owner a pointer to the question).
static void answer(fixture_t *f, const char *exchange1, const char *exchange2)
{
	knot_pkt_free(f->query);
	knot_pkt_free(f->resp);
	knot_rrset_free(f->mx, NULL);
	f->query = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	knot_dname_t *q = test_name("example.");
	assert_int_equal(knot_pkt_put_question(f->query, q, KNOT_CLASS_IN, KNOT_RRTYPE_MX),
	                 KNOT_EOK);
	f->resp = knot_pkt_new(NULL, 1232, NULL);
	assert_int_equal(knot_pkt_init_response(f->resp, f->query), KNOT_EOK);
	assert_int_equal(knot_pkt_begin(f->resp, KNOT_ANSWER), KNOT_EOK);
	f->mx = knot_rrset_new(q, KNOT_RRTYPE_MX, KNOT_CLASS_IN, 3600, NULL);
	free(q);
	test_add_mx(&f->mx->rrs, 10, exchange1);
	if (exchange2 != NULL) {
		test_add_mx(&f->mx->rrs, 20, exchange2);
	}
	assert_int_equal(knot_pkt_put(f->resp, KNOT_COMPR_HINT_QNAME, f->mx, 0), KNOT_EOK);
}

static mx_answer_verdict_t run(fixture_t *f)
{
	rcu_read_lock();  // knotd's hooks run inside a read-side section
	mx_answer_verdict_t v = mx_answer_run(&f->host, f, f->resp, f->query, &f->part);
	rcu_read_unlock();
	return v;
}

static uint16_t answer_records(const fixture_t *f)
{
	return knot_wire_get_ancount(f->resp->wire);
}

// A clean RRset is counted, never logged.
static void test_clean_counted_only(void **state)
{
	fixture_t *f = *state;
	answer(f, "mx1.example.", NULL);
	assert_int_equal(run(f), MX_ANSWER_SERVE);
	assert_int_equal(f->counts[MX_CTR_INSPECTED][0], 1);
	assert_int_equal(f->counts[MX_CTR_ACTION][MX_ACTION_LOG], 0);
	assert_int_equal(f->line_count, 0);
	assert_null(f->failed);
}

// A log-only host: the violation is counted and logged with the action
// "log" (strip is not carried out), the answer left as it is.
static void test_log_only_host_logs_and_keeps(void **state)
{
	fixture_t *f = *state;
	answer(f, "mx1.example.", "localhost.example.");
	assert_int_equal(run(f), MX_ANSWER_SERVE);
	assert_int_equal(answer_records(f), 2);
	assert_int_equal(f->counts[MX_CTR_INSPECTED][0], 1);
	assert_int_equal(f->counts[MX_CTR_VIOLATION][MX_KIND_LOOPBACK], 1);
	assert_int_equal(f->counts[MX_CTR_ACTION][MX_ACTION_LOG], 1);
	assert_int_equal(f->counts[MX_CTR_ACTION][MX_ACTION_STRIP], 0);
	assert_int_equal(f->line_count, 1);
	assert_int_equal(f->levels[0], LOG_INFO);
	assert_non_null(strstr(f->lines[0], "violation loopback"));
	assert_non_null(strstr(f->lines[0], "exchange localhost.example."));
	assert_non_null(strstr(f->lines[0], "action log"));
}

// An enforcing host strips the record and says so in the count and line.
static void test_enforcing_host_strips(void **state)
{
	fixture_t *f = *state;
	f->host.enforces = true;
	answer(f, "mx1.example.", "localhost.example.");
	assert_int_equal(run(f), MX_ANSWER_SERVE);
	assert_int_equal(answer_records(f), 1);
	assert_int_equal(f->counts[MX_CTR_ACTION][MX_ACTION_STRIP], 1);
	assert_int_equal(f->counts[MX_CTR_ACTION][MX_ACTION_LOG], 0);
	assert_int_equal(f->line_count, 1);
	assert_non_null(strstr(f->lines[0], "action strip"));
	assert_null(f->failed);
}

// With the rate limiter, a repeat is counted but not logged; the next line
// of the key says how many were held back.
static void test_repeats_counted_not_logged(void **state)
{
	fixture_t *f = *state;
	f->host.log_limit = mx_log_limit_new(3600, 100);
	assert_non_null(f->host.log_limit);
	for (int i = 0; i < 3; i++) {
		answer(f, "mx1.example.", "localhost.example.");
		run(f);
	}
	assert_int_equal(f->counts[MX_CTR_VIOLATION][MX_KIND_LOOPBACK], 3);
	assert_int_equal(f->counts[MX_CTR_INSPECTED][0], 3);
	assert_int_equal(f->line_count, 1);
	assert_null(strstr(f->lines[0], "suppressed"));
}

// Lines that say a rewrite was not done are notices; the others info.
static void test_report_line_levels(void **state)
{
	fixture_t *f = *state;
	mx_line_t line = { .cls = MX_LOG_NOT_ENFORCED, .owner = (const knot_dname_t *)"\x07""example",
	                   .action = MX_ACTION_STRIP, .reason = "signing-failed" };
	mx_report_line(&f->host, f, f->part.zone, &line);
	assert_int_equal(f->line_count, 1);
	assert_int_equal(f->levels[0], LOG_NOTICE);
	assert_non_null(strstr(f->lines[0], "signing-failed"));

	line = (mx_line_t) { .cls = MX_LOG_SYNTHESIZED, .owner = (const knot_dname_t *)"\x07""example",
	                     .what = "null-mx", .reason = "list" };
	mx_report_line(&f->host, f, f->part.zone, &line);
	assert_int_equal(f->line_count, 2);
	assert_int_equal(f->levels[1], LOG_INFO);
	assert_non_null(strstr(f->lines[1], "null-mx"));
	assert_null(f->failed);
}

// The counters' rows: one name each, indices named where there are several.
static void test_counter_rows(void **state)
{
	for (unsigned i = 0; i < MX_CTR_COUNT; i++) {
		assert_non_null(mx_counters[i].name);
		assert_true(mx_counters[i].count >= 1);
		assert_true((mx_counters[i].count == 1) == (mx_counters[i].index_name == NULL));
		for (unsigned j = 0; j < i; j++) {
			assert_string_not_equal(mx_counters[i].name, mx_counters[j].name);
		}
	}
	assert_string_equal(mx_counters[MX_CTR_VIOLATION].index_name(MX_KIND_LOOPBACK), "loopback");
	assert_string_equal(mx_counters[MX_CTR_ACTION].index_name(MX_ACTION_NULL_MX), "null-mx");
}

int main(void)
{
	rcu_register_thread();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean_counted_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_only_host_logs_and_keeps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enforcing_host_strips, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repeats_counted_not_logged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_line_levels, setup, teardown),
		cmocka_unit_test(test_counter_rows),
	};
	int ret = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return ret;
}
