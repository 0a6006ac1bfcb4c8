/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "answer_enforce.h"
#include "test_helpers.h"

// "example. MX" with "10 mx1.example." and "20 localhost.", signed, and an
// enforcing policy (loopback: strip).
typedef struct {
	test_arena_t arena;
	knot_mm_t mm;
	knot_pkt_t *query;
	knot_pkt_t *resp;
	knot_rrset_t *mx;
	knot_rrset_t *sig;
	mx_policy_t policy;
	mx_scan_t scan;
	bool sign_ok;
	unsigned signed_count;
} fixture_t;

static bool fake_sign(const knot_rrset_t *rr, knot_rrset_t *rrsig, const char **reason,
                      void *ctx)
{
	fixture_t *f = ctx;
	if (!f->sign_ok) {
		*reason = "no-signing-keys";
		return false;
	}
	assert_true(knot_dname_is_equal(rr->owner, (const uint8_t *)"\x07""example"));
	*rrsig = *f->sig;
	f->signed_count++;
	return true;
}

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	f->mm = (knot_mm_t) { .ctx = &f->arena, .alloc = test_arena_alloc };
	mx_policy_init(&f->policy, MX_ACTION_LOG);
	f->policy.action[MX_KIND_LOOPBACK] = MX_ACTION_STRIP;

	f->query = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	knot_dname_t *q = test_name("example.");
	assert_int_equal(knot_pkt_put_question(f->query, q, KNOT_CLASS_IN, KNOT_RRTYPE_MX),
	                 KNOT_EOK);
	f->mx = knot_rrset_new(q, KNOT_RRTYPE_MX, KNOT_CLASS_IN, 3600, NULL);
	f->sig = knot_rrset_new(q, KNOT_RRTYPE_RRSIG, KNOT_CLASS_IN, 3600, NULL);
	free(q);
	test_add_mx(&f->mx->rrs, 10, "mx1.example.");
	test_add_mx(&f->mx->rrs, 20, "localhost.");
	uint8_t rd[18 + 9 + 64] = { 0, KNOT_RRTYPE_MX, 13, 1, 0, 0, 0x0e, 0x10 };
	memcpy(rd + 18, "\x07""example\x00", 9);
	assert_int_equal(knot_rrset_add_rdata(f->sig, rd, sizeof(rd), NULL), KNOT_EOK);

	f->resp = knot_pkt_new(NULL, 1232, NULL);
	assert_int_equal(knot_pkt_init_response(f->resp, f->query), KNOT_EOK);
	assert_int_equal(knot_pkt_begin(f->resp, KNOT_ANSWER), KNOT_EOK);
	assert_int_equal(knot_pkt_put(f->resp, KNOT_COMPR_HINT_QNAME, f->mx, 0), KNOT_EOK);
	assert_int_equal(knot_pkt_put(f->resp, KNOT_COMPR_HINT_QNAME, f->sig, 0), KNOT_EOK);

	mx_scan_params_t params = { .policy = &f->policy };
	mx_scan_query_t part = { .zone = (const knot_dname_t *)"\x07""example", .mm = &f->mm };
	assert_int_equal(mx_answer_scan(f->resp, &params, &part, &f->scan), KNOT_EOK);
	assert_int_equal(f->scan.count, 1);
	assert_true(mx_scan_changes(&f->scan));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	knot_pkt_free(f->query);
	knot_pkt_free(f->resp);
	knot_rrset_free(f->mx, NULL);
	knot_rrset_free(f->sig, NULL);
	test_arena_free(&f->arena);
	free(f);
	return 0;
}

static unsigned answer_records(const knot_pkt_t *pkt, uint16_t type)
{
	knot_pkt_t *p = knot_pkt_new(pkt->wire, pkt->size, NULL);
	assert_int_equal(knot_pkt_parse(p, 0), KNOT_EOK);
	const knot_pktsection_t *ans = knot_pkt_section(p, KNOT_ANSWER);
	unsigned n = 0;
	for (uint16_t i = 0; i < ans->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(ans, i);
		n += (rr->type == type) ? rr->rrs.count : 0;
	}
	knot_pkt_free(p);
	return n;
}

static mx_enforce_params_t params_of(fixture_t *f, bool unsigned_allow)
{
	return (mx_enforce_params_t) {
		.sign = fake_sign, .ctx = f, .unsigned_allow = unsigned_allow, .mm = &f->mm,
	};
}

// The loopback record goes, and the set is signed again.
static void test_enforced_and_signed(void **state)
{
	fixture_t *f = *state;
	f->sign_ok = true;
	mx_enforce_params_t p = params_of(f, false);
	mx_enforce_result_t res;
	assert_int_equal(mx_answer_enforce(f->resp, f->query, &f->scan, &p, &res), KNOT_EOK);
	assert_true(res.enforced[0]);
	assert_null(res.skip_reason[0]);
	assert_int_equal(f->signed_count, 1);
	assert_int_equal(answer_records(f->resp, KNOT_RRTYPE_MX), 1);
	assert_int_equal(answer_records(f->resp, KNOT_RRTYPE_RRSIG), 1);
}

// Signed and not signable: served as it was (it validates), and why.
static void test_unsignable_served_as_it_was(void **state)
{
	fixture_t *f = *state;
	uint8_t before[1232];
	size_t size = f->resp->size;
	memcpy(before, f->resp->wire, size);
	mx_enforce_params_t p = params_of(f, false);
	mx_enforce_result_t res;
	assert_int_equal(mx_answer_enforce(f->resp, f->query, &f->scan, &p, &res), KNOT_EOK);
	assert_false(res.enforced[0]);
	assert_string_equal(res.skip_reason[0], "no-signing-keys");
	assert_int_equal(f->resp->size, size);
	assert_memory_equal(f->resp->wire, before, size);
}

// dnssec-unsigned: allow: the rewrite goes out without a signature.
static void test_unsigned_allowed(void **state)
{
	fixture_t *f = *state;
	mx_enforce_params_t p = params_of(f, true);
	mx_enforce_result_t res;
	assert_int_equal(mx_answer_enforce(f->resp, f->query, &f->scan, &p, &res), KNOT_EOK);
	assert_true(res.enforced[0]);
	assert_int_equal(answer_records(f->resp, KNOT_RRTYPE_MX), 1);
	assert_int_equal(answer_records(f->resp, KNOT_RRTYPE_RRSIG), 0);
}

static void test_signer_owner_of_a_wildcard(void **state)
{
	fixture_t *f = *state;
	knot_dname_t *served = test_name("Foo.Wild.Example.");
	knot_dname_t *owner = mx_signer_owner(served, 2, &f->mm);
	knot_dname_t *want = test_name("*.wild.example.");
	assert_true(knot_dname_is_equal(owner, want));
	owner = mx_signer_owner(served, 3, &f->mm);
	assert_true(knot_dname_is_equal(owner, (const uint8_t *)"\x03""foo\x04""wild\x07""example"));
	free(served);
	free(want);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_enforced_and_signed),
		T(test_unsignable_served_as_it_was),
		T(test_unsigned_allowed),
		T(test_signer_owner_of_a_wildcard),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
