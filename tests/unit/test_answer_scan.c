/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <urcu.h>

#include "answer_scan.h"
#include "test_helpers.h"

typedef struct {
	test_arena_t arena;
	knot_mm_t mm;
	knot_pkt_t *query;
	knot_pkt_t *resp;
	knot_rrset_t *rrsets[4];
	unsigned rrset_count;
	mx_policy_t policy;
	mx_name_list_t *no_mail;
	mx_scan_params_t params;
	mx_scan_query_t part;
	mx_glue_t glue[2];
	unsigned glue_reads;  // glue_equal calls
} fixture_t;

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

// Its key form: the addresses, one after another (equal exactly when they are).
static int glue_key(const knot_rrset_t *rr, uint8_t *buf, size_t max, void *ctx)
{
	fixture_t *f = ctx;
	if (max < sizeof(f->glue[0].addr) * 2) {
		return -1;
	}
	memcpy(buf, &f->glue[0].addr, sizeof(f->glue[0].addr));
	memcpy(buf + sizeof(f->glue[0].addr), &f->glue[1].addr, sizeof(f->glue[1].addr));
	return 2 * sizeof(f->glue[0].addr);
}

static bool glue_equal(const knot_rrset_t *rr, const uint8_t *key, size_t len, void *ctx)
{
	((fixture_t *)ctx)->glue_reads++;
	uint8_t now[2 * sizeof(mx_glue_t)];
	int n = glue_key(rr, now, sizeof(now), ctx);
	return n >= 0 && (size_t)n == len && memcmp(now, key, len) == 0;
}

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	f->mm = (knot_mm_t) { .ctx = &f->arena, .alloc = test_arena_alloc };
	mx_policy_init(&f->policy, MX_ACTION_LOG);
	f->policy.action[MX_KIND_LOOPBACK] = MX_ACTION_STRIP;
	f->policy.action[MX_KIND_NULL_MX_OVERRIDE] = MX_ACTION_NULL_MX;
	f->glue[0] = (mx_glue_t) { test_name("mx1.example."), test_addr("93.184.215.14") };
	f->glue[1] = (mx_glue_t) { test_name("localhost.example."), test_addr("127.0.0.1") };
	f->params = (mx_scan_params_t) {
		.policy = &f->policy,
		.glue_of = glue_of,
	};
	f->part = (mx_scan_query_t) {
		.zone = (const knot_dname_t *)"\x07""example",
		.glue_ctx = f,
		.mm = &f->mm,
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	knot_pkt_free(f->query);
	knot_pkt_free(f->resp);
	for (unsigned i = 0; i < f->rrset_count; i++) {
		knot_rrset_free(f->rrsets[i], NULL);
	}
	test_arena_free(&f->arena);
	free((void *)f->glue[0].owner);
	free((void *)f->glue[1].owner);
	mx_name_list_free(f->no_mail);
	free(f);
	return 0;
}

// A response to "QNAME MX" (QNAME in any letter case), answer not yet written.
static void start(fixture_t *f, const char *qname)
{
	f->query = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	knot_dname_t *q = test_name(qname);
	assert_int_equal(knot_pkt_put_question(f->query, q, KNOT_CLASS_IN, KNOT_RRTYPE_MX),
	                 KNOT_EOK);
	free(q);
	f->resp = knot_pkt_new(NULL, 1232, NULL);
	assert_int_equal(knot_pkt_init_response(f->resp, f->query), KNOT_EOK);
	assert_int_equal(knot_pkt_begin(f->resp, KNOT_ANSWER), KNOT_EOK);
}

static knot_rrset_t *put(fixture_t *f, const char *owner, uint16_t type, uint16_t hint)
{
	knot_dname_t *name = test_name(owner);
	knot_rrset_t *rr = knot_rrset_new(name, type, KNOT_CLASS_IN, 3600, NULL);
	free(name);
	f->rrsets[f->rrset_count++] = rr;
	return rr;
}

static void commit(fixture_t *f, knot_rrset_t *rr, uint16_t hint)
{
	assert_int_equal(knot_pkt_put(f->resp, hint, rr, 0), KNOT_EOK);
}

// An RRSIG covering MX with the given labels field.
static void add_rrsig(knot_rrset_t *rr, uint8_t labels)
{
	uint8_t rd[18 + 9 + 4] = { 0, KNOT_RRTYPE_MX, 13, labels, 0, 0, 0x0e, 0x10 };
	memcpy(rd + 18, "\x07""example\x00", 9);
	assert_int_equal(knot_rrset_add_rdata(rr, rd, sizeof(rd), NULL), KNOT_EOK);
}

static void test_no_mx(void **state)
{
	fixture_t *f = *state;
	start(f, "example.");
	mx_scan_t scan;
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &scan), KNOT_EOK);
	assert_int_equal(scan.count, 0);
	assert_false(mx_scan_changes(&scan));
}

static void test_clean_set(void **state)
{
	fixture_t *f = *state;
	start(f, "example.");
	knot_rrset_t *mx = put(f, "example.", KNOT_RRTYPE_MX, 0);
	test_add_mx(&mx->rrs, 10, "mx1.example.");
	commit(f, mx, KNOT_COMPR_HINT_QNAME);

	mx_scan_t scan;
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &scan), KNOT_EOK);
	assert_int_equal(scan.count, 1);
	assert_int_equal(scan.rrsets[0].count, 0);
	assert_int_equal(scan.rrsets[0].rrsig_pos, -1);
	assert_false(mx_scan_changes(&scan));
}

// Owner as the client sees it (query's letter case); violation and plan.
static void test_loopback_stripped_owner_as_served(void **state)
{
	fixture_t *f = *state;
	start(f, "ExAmPle.");
	knot_rrset_t *mx = put(f, "example.", KNOT_RRTYPE_MX, 0);
	test_add_mx(&mx->rrs, 10, "mx1.example.");
	test_add_mx(&mx->rrs, 20, "localhost.example.");
	commit(f, mx, KNOT_COMPR_HINT_QNAME);

	mx_scan_t scan;
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &scan), KNOT_EOK);
	assert_int_equal(scan.count, 1);
	const mx_scan_rrset_t *job = &scan.rrsets[0];
	assert_true(knot_dname_is_equal(job->owner, (const uint8_t *)"\x07""ExAmPle"));
	assert_int_equal(job->count, 1);
	assert_int_equal(scan.violations[job->first].kind, MX_KIND_LOOPBACK);
	assert_true(mx_scan_changes(&scan));
	assert_true(mx_plan_keeps(&job->plan, 0));
	assert_false(mx_plan_keeps(&job->plan, 1));
}

// The RRSIG of the set is found, with its labels (a wildcard's: fewer).
static void test_rrsig_found_with_labels(void **state)
{
	fixture_t *f = *state;
	start(f, "foo.wild.example.");
	knot_rrset_t *mx = put(f, "*.wild.example.", KNOT_RRTYPE_MX, 0);
	test_add_mx(&mx->rrs, 10, "mx1.example.");
	commit(f, mx, KNOT_COMPR_HINT_QNAME);
	knot_rrset_t *other = put(f, "other.example.", KNOT_RRTYPE_RRSIG, 0);
	add_rrsig(other, 2);
	commit(f, other, KNOT_COMPR_HINT_NONE);
	knot_rrset_t *sig = put(f, "*.wild.example.", KNOT_RRTYPE_RRSIG, 0);
	add_rrsig(sig, 2);
	commit(f, sig, KNOT_COMPR_HINT_QNAME);

	mx_scan_t scan;
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &scan), KNOT_EOK);
	assert_int_equal(scan.count, 1);
	assert_true(knot_dname_is_equal(scan.rrsets[0].owner,
	                                (const uint8_t *)"\x03""foo\x04""wild\x07""example"));
	assert_int_equal(scan.rrsets[0].rrsig_pos, 2);
	assert_int_equal(scan.rrsets[0].rrsig_labels, 2);
}

// A no-mail name with MX records: overridden by a null MX, unless it is one.
static void list_no_mail(fixture_t *f, const char *name)
{
	f->no_mail = mx_name_list_new();
	const char *err = NULL;
	assert_int_equal(mx_name_list_add(f->no_mail, name, &err), KNOT_EOK);
	f->params.no_mail = f->no_mail;
}

static void test_no_mail_override(void **state)
{
	fixture_t *f = *state;
	list_no_mail(f, "parked.example");
	start(f, "PARKED.example.");
	knot_rrset_t *mx = put(f, "parked.example.", KNOT_RRTYPE_MX, 0);
	test_add_mx(&mx->rrs, 10, "mx1.example.");
	commit(f, mx, KNOT_COMPR_HINT_QNAME);

	mx_scan_t scan;
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &scan), KNOT_EOK);
	assert_int_equal(scan.rrsets[0].count, 1);
	assert_int_equal(scan.violations[0].kind, MX_KIND_NULL_MX_OVERRIDE);
	assert_true(mx_plan_null_mx(&scan.rrsets[0].plan));
}

static void test_no_mail_null_mx_left_alone(void **state)
{
	fixture_t *f = *state;
	list_no_mail(f, "parked.example");
	start(f, "parked.example.");
	knot_rrset_t *mx = put(f, "parked.example.", KNOT_RRTYPE_MX, 0);
	test_add_mx(&mx->rrs, 0, ".");
	commit(f, mx, KNOT_COMPR_HINT_QNAME);

	mx_scan_t scan;
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &scan), KNOT_EOK);
	assert_int_equal(scan.rrsets[0].count, 0);
	assert_false(mx_scan_changes(&scan));
}

// Two MX RRsets (a CNAME chain's end and ANY at another owner): each judged.
static void test_each_rrset_judged(void **state)
{
	fixture_t *f = *state;
	start(f, "a.example.");
	knot_rrset_t *mx1 = put(f, "a.example.", KNOT_RRTYPE_MX, 0);
	test_add_mx(&mx1->rrs, 10, "mx1.example.");
	commit(f, mx1, KNOT_COMPR_HINT_QNAME);
	knot_rrset_t *mx2 = put(f, "b.example.", KNOT_RRTYPE_MX, 0);
	test_add_mx(&mx2->rrs, 10, "localhost.example.");
	commit(f, mx2, KNOT_COMPR_HINT_NONE);

	mx_scan_t scan;
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &scan), KNOT_EOK);
	assert_int_equal(scan.count, 2);
	assert_false(mx_plan_changes(&scan.rrsets[0].plan));
	assert_true(mx_plan_null_mx(&scan.rrsets[1].plan));  // nothing left: null MX
	assert_int_equal(scan.rrsets[1].rr_pos, 1);
}

// A verdict made once is found again, with these records' exchanges; another
// address for the exchange is another key.
static void test_verdict_cached(void **state)
{
	fixture_t *f = *state;
	f->params.cache = mx_verdict_cache_new(8, 1);
	start(f, "LoOp.example.");
	knot_rrset_t *mx = put(f, "loop.example.", KNOT_RRTYPE_MX, 0);
	test_add_mx(&mx->rrs, 10, "mx1.example.");
	test_add_mx(&mx->rrs, 20, "localhost.example.");
	commit(f, mx, KNOT_COMPR_HINT_QNAME);

	rcu_read_lock();
	mx_scan_t first, again;
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &first), KNOT_EOK);
	assert_false(first.rrsets[0].cached);
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &again), KNOT_EOK);
	assert_true(again.rrsets[0].cached);
	assert_int_equal(again.violation_count, first.violation_count);
	assert_int_equal(again.violations[0].kind, MX_KIND_LOOPBACK);
	assert_true(again.violations[0].exchange ==
	            knot_mx_name(knot_rdataset_at(&f->resp->rr[0].rrs, 1)));
	assert_false(mx_plan_keeps(&again.rrsets[0].plan, 1));

	f->glue[1].addr = test_addr("93.184.215.15");
	mx_scan_t changed;
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &changed), KNOT_EOK);
	assert_false(changed.rrsets[0].cached);
	assert_int_equal(changed.rrsets[0].count, 0);
	rcu_read_unlock();
	mx_verdict_cache_free(f->params.cache);
}

// Lookups as Knot 3.2 has them: "mx1" from the glue list, "empty" a node
// without address (proven), anything else in the zone absent (inferred).
static bool target_of(const knot_rrset_t *rr, uint16_t pos, mx_target_t *target, void *ctx)
{
	fixture_t *f = ctx;
	const knot_dname_t *exchange = knot_mx_name(knot_rdataset_at(&rr->rrs, pos));
	if (knot_dname_is_equal(exchange, f->glue[0].owner)) {
		target->state = MX_TARGET_FOUND;
		target->addrs = &f->glue[0].addr;
		target->addr_count = 1;
		return true;
	}
	if (knot_dname_is_equal(exchange, (const uint8_t *)"\x05""empty\x07""example")) {
		target->state = MX_TARGET_FOUND;
		return true;
	}
	return false;
}

static void absent(const knot_dname_t *exchange, mx_target_t *target, void *ctx)
{
	target->state = MX_TARGET_ABSENT;
}

static void use_glue_targets(fixture_t *f, mx_action_t missing)
{
	f->policy.action[MX_KIND_MISSING_ADDRESS] = missing;
	f->params.glue_of = NULL;
	f->params.glue_target = target_of;
	f->params.lookup = absent;
}

// "example. MX 10 FIRST, 20 SECOND" judged with missing-address: strip.
static void scan_two(fixture_t *f, const char *first, const char *second, mx_scan_t *scan)
{
	use_glue_targets(f, MX_ACTION_STRIP);
	start(f, "example.");
	knot_rrset_t *mx = put(f, "example.", KNOT_RRTYPE_MX, 0);
	test_add_mx(&mx->rrs, 10, first);
	test_add_mx(&mx->rrs, 20, second);
	commit(f, mx, KNOT_COMPR_HINT_QNAME);
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, scan), KNOT_EOK);
}

// An absence only inferred is logged, never enforced: the record stays, and
// a set of such records never becomes a null MX (issue 21).
static void test_inferred_never_enforced(void **state)
{
	fixture_t *f = *state;
	mx_scan_t scan;
	scan_two(f, "gone.example.", "mx.child.example.", &scan);
	assert_int_equal(scan.count, 1);
	assert_int_equal(scan.violation_count, 2);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(scan.violations[i].kind, MX_KIND_MISSING_ADDRESS);
		assert_true(scan.violations[i].inferred);
	}
	assert_false(mx_scan_changes(&scan));
	assert_false(mx_plan_null_mx(&scan.rrsets[0].plan));
}

// A proven absence beside an inferred one: only the proven record goes.
static void test_proven_stripped_inferred_kept(void **state)
{
	fixture_t *f = *state;
	mx_scan_t scan;
	scan_two(f, "empty.example.", "gone.example.", &scan);
	assert_int_equal(scan.violation_count, 2);
	assert_false(scan.violations[0].inferred);
	assert_true(scan.violations[1].inferred);
	const mx_plan_t *plan = &scan.rrsets[0].plan;
	assert_true(mx_scan_changes(&scan));
	assert_false(mx_plan_null_mx(plan));
	assert_false(mx_plan_keeps(plan, 0));
	assert_true(mx_plan_keeps(plan, 1));
}

// With knotd's glue list as the key (Knot 3.2), the verdict made from its
// targets is found again, the inferred mark with it.
static void test_glue_targets_cached(void **state)
{
	fixture_t *f = *state;
	use_glue_targets(f, MX_ACTION_NULL_MX);
	f->params.cache = mx_verdict_cache_new(8, 1);
	f->params.glue_key = glue_key;
	f->params.glue_equal = glue_equal;
	start(f, "example.");
	knot_rrset_t *mx = put(f, "example.", KNOT_RRTYPE_MX, 0);
	test_add_mx(&mx->rrs, 10, "gone.example.");
	commit(f, mx, KNOT_COMPR_HINT_QNAME);

	rcu_read_lock();
	mx_scan_t first, again;
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &first), KNOT_EOK);
	assert_false(first.rrsets[0].cached);
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &again), KNOT_EOK);
	assert_int_equal(again.count, 1);
	assert_true(again.rrsets[0].cached);
	assert_true(again.violations[0].inferred);
	assert_false(mx_scan_changes(&again));
	rcu_read_unlock();
	mx_verdict_cache_free(f->params.cache);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

// With the glue compared where it lies, a clean RRset judged before is only
// counted: no entry, nothing allocated. Changed glue is judged again.
static void test_clean_cached_counted_only(void **state)
{
	fixture_t *f = *state;
	f->params.cache = mx_verdict_cache_new(8, 1);
	f->params.glue_key = glue_key;
	f->params.glue_equal = glue_equal;
	start(f, "mail.example.");
	knot_rrset_t *mx = put(f, "mail.example.", KNOT_RRTYPE_MX, 0);
	test_add_mx(&mx->rrs, 10, "mx1.example.");
	commit(f, mx, KNOT_COMPR_HINT_QNAME);

	rcu_read_lock();
	mx_scan_t first, again, changed;
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &first), KNOT_EOK);
	assert_int_equal(first.count, 1);
	assert_int_equal(first.clean, 0);
	assert_false(first.rrsets[0].cached);

	size_t used = f->arena.count;
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &again), KNOT_EOK);
	assert_int_equal(again.count, 0);
	assert_int_equal(again.clean, 1);
	assert_null(again.rrsets);
	assert_int_equal(f->arena.count, used);

	// mx1 now resolves to loopback: the same records, another verdict.
	f->glue[0].addr = test_addr("127.0.0.2");
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &changed), KNOT_EOK);
	assert_int_equal(changed.clean, 0);
	assert_int_equal(changed.count, 1);
	assert_false(changed.rrsets[0].cached);
	assert_int_equal(changed.rrsets[0].count, 1);
	assert_int_equal(changed.violations[0].kind, MX_KIND_LOOPBACK);
	rcu_read_unlock();
	mx_verdict_cache_free(f->params.cache);
}

static uint64_t clock_now;

static uint64_t test_clock(void)
{
	return clock_now;
}

// With a max age, the glue found current stands that long unread; a change
// of it is seen once it has passed. The MX records are compared always.
static void test_max_age(void **state)
{
	fixture_t *f = *state;
	f->params.cache = mx_verdict_cache_new(8, 1);
	mx_verdict_cache_set_max_age(f->params.cache, 500, test_clock);
	f->params.glue_key = glue_key;
	f->params.glue_equal = glue_equal;
	start(f, "mail.example.");
	knot_rrset_t *mx = put(f, "mail.example.", KNOT_RRTYPE_MX, 0);
	test_add_mx(&mx->rrs, 10, "mx1.example.");
	commit(f, mx, KNOT_COMPR_HINT_QNAME);

	rcu_read_lock();
	mx_scan_t scan;
	clock_now = 1000;
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &scan), KNOT_EOK);
	assert_int_equal(scan.count, 1);
	clock_now = 1400;
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &scan), KNOT_EOK);
	assert_int_equal(scan.clean, 1);
	assert_int_equal(f->glue_reads, 0);  // judged at 1000: not read again

	// mx1 now resolves to loopback: not seen within the max age...
	f->glue[0].addr = test_addr("127.0.0.2");
	clock_now = 1499;
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &scan), KNOT_EOK);
	assert_int_equal(scan.clean, 1);
	assert_int_equal(f->glue_reads, 0);
	// ...seen once it has passed.
	clock_now = 1500;
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &scan), KNOT_EOK);
	assert_int_equal(f->glue_reads, 1);
	assert_int_equal(scan.clean, 0);
	assert_int_equal(scan.count, 1);
	assert_false(scan.rrsets[0].cached);
	assert_int_equal(scan.violations[0].kind, MX_KIND_LOOPBACK);
	// That verdict, read at 1500, stands until 2000; read and found the
	// same then, until 2500.
	clock_now = 1999;
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &scan), KNOT_EOK);
	assert_true(scan.rrsets[0].cached);
	assert_int_equal(f->glue_reads, 1);
	clock_now = 2000;
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &scan), KNOT_EOK);
	assert_true(scan.rrsets[0].cached);
	assert_int_equal(f->glue_reads, 2);
	clock_now = 2499;
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &scan), KNOT_EOK);
	assert_true(scan.rrsets[0].cached);
	assert_int_equal(f->glue_reads, 2);
	rcu_read_unlock();

	// Other records at the same owner: judged at once, whatever the age.
	knot_pkt_free(f->resp);
	knot_pkt_free(f->query);
	start(f, "mail.example.");
	knot_rrset_t *mx2 = put(f, "mail.example.", KNOT_RRTYPE_MX, 0);
	test_add_mx(&mx2->rrs, 20, "mx1.example.");
	commit(f, mx2, KNOT_COMPR_HINT_QNAME);
	rcu_read_lock();
	assert_int_equal(mx_answer_scan(f->resp, &f->params, &f->part, &scan), KNOT_EOK);
	assert_int_equal(scan.count, 1);
	assert_false(scan.rrsets[0].cached);
	assert_int_equal(scan.violations[0].kind, MX_KIND_LOOPBACK);
	rcu_read_unlock();
	mx_verdict_cache_free(f->params.cache);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_no_mx),
		T(test_inferred_never_enforced),
		T(test_proven_stripped_inferred_kept),
		T(test_glue_targets_cached),
		T(test_clean_set),
		T(test_loopback_stripped_owner_as_served),
		T(test_rrsig_found_with_labels),
		T(test_no_mail_override),
		T(test_no_mail_null_mx_left_alone),
		T(test_each_rrset_judged),
		T(test_verdict_cached),
		T(test_clean_cached_counted_only),
		T(test_max_age),
	};
	rcu_register_thread();
	int ret = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return ret;
}
