/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "denial_proofs.h"
#include "nsec_bitmap.h"
#include "white_lies.h"
#include "test_helpers.h"

// Answers in the shape knotd writes them for an NSEC zone "example.":
// NODATA at parked (listed) or www (not), or an MX NODATA at www, with the
// SOA, the NSEC and their signatures in the authority section.
typedef struct {
	test_arena_t arena;
	knot_mm_t mm;
	knot_pkt_t *query;
	knot_pkt_t *resp;
	knot_rrset_t *rrsets[8];
	unsigned rrset_count;
	mx_name_list_t *list;
	mx_denial_params_t params;
	unsigned signed_count;
	bool fail_signing;
} fixture_t;

// A signature of the right shape: 18 bytes of fields, the signer, 64 bytes.
static bool fake_sign(const knot_rrset_t *rr, knot_rrset_t *rrsig, const char **reason,
                      void *ctx)
{
	fixture_t *f = ctx;
	if (f->fail_signing) {
		*reason = "no-signing-keys";
		return false;
	}
	uint8_t rd[18 + 9 + 64] = { 0 };
	rd[1] = (uint8_t)rr->type;
	rd[2] = 13;
	rd[3] = knot_dname_labels(rr->owner, NULL);
	memcpy(rd + 18, "\x07""example\x00", 9);
	knot_rrset_init(rrsig, rr->owner, KNOT_RRTYPE_RRSIG, KNOT_CLASS_IN, rr->ttl);
	assert_int_equal(knot_rrset_add_rdata(rrsig, rd, sizeof(rd), &f->mm), KNOT_EOK);
	f->signed_count++;
	return true;
}

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	f->mm = (knot_mm_t) { .ctx = &f->arena, .alloc = test_arena_alloc };
	f->list = mx_name_list_new();
	assert_int_equal(mx_name_list_add(f->list, "parked.example", NULL), KNOT_EOK);
	f->params = (mx_denial_params_t) {
		.zone = (const knot_dname_t *)"\x07""example",
		.no_mail = f->list,
		.sign = fake_sign,
		.ctx = f,
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
	mx_name_list_free(f->list);
	free(f);
	return 0;
}

static knot_rrset_t *rrset(fixture_t *f, const char *owner, uint16_t type,
                           const uint8_t *rd, size_t len)
{
	knot_dname_t *name = test_name(owner);
	knot_rrset_t *rr = knot_rrset_new(name, type, KNOT_CLASS_IN, 300, NULL);
	free(name);
	assert_int_equal(knot_rrset_add_rdata(rr, rd, len, NULL), KNOT_EOK);
	f->rrsets[f->rrset_count++] = rr;
	return rr;
}

// NSEC OWNER -> zzz.example. with A alone (window 0, one byte: MX makes two).
static knot_rrset_t *nsec(fixture_t *f, const char *owner)
{
	uint8_t rd[] = { 3, 'z', 'z', 'z', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0,
	                 0, 1, 0x40 };
	return rrset(f, owner, KNOT_RRTYPE_NSEC, rd, sizeof(rd));
}

static knot_rrset_t *rrsig(fixture_t *f, const char *owner, uint16_t covered)
{
	uint8_t rd[18 + 9 + 64] = { 0 };
	rd[1] = (uint8_t)covered;
	rd[2] = 13;
	memcpy(rd + 18, "\x07""example\x00", 9);
	return rrset(f, owner, KNOT_RRTYPE_RRSIG, rd, sizeof(rd));
}

// "QNAME QTYPE" answered with the SOA, the NSEC of OWNER, their RRSIGs.
static void answer(fixture_t *f, const char *qname, uint16_t qtype, const char *owner,
                   size_t max)
{
	f->query = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	knot_dname_t *q = test_name(qname);
	assert_int_equal(knot_pkt_put_question(f->query, q, KNOT_CLASS_IN, qtype), KNOT_EOK);
	free(q);
	f->resp = knot_pkt_new(NULL, max, NULL);
	assert_int_equal(knot_pkt_init_response(f->resp, f->query), KNOT_EOK);
	assert_int_equal(knot_pkt_begin(f->resp, KNOT_ANSWER), KNOT_EOK);
	assert_int_equal(knot_pkt_begin(f->resp, KNOT_AUTHORITY), KNOT_EOK);
	uint8_t soa[] = { 2, 'n', 's', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0,
	                  1, 'h', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0,
	                  0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1 };
	knot_rrset_t *s = rrset(f, "example.", KNOT_RRTYPE_SOA, soa, sizeof(soa));
	assert_int_equal(knot_pkt_put(f->resp, KNOT_COMPR_HINT_NONE, s, 0), KNOT_EOK);
	uint16_t soa_hint = f->resp->rr_info[0].compress_ptr[KNOT_COMPR_HINT_OWNER];
	bool at_qname = strcmp(owner, qname) == 0;
	uint16_t hint = at_qname ? KNOT_COMPR_HINT_QNAME : KNOT_COMPR_HINT_NONE;
	knot_rrset_t *n = nsec(f, owner);
	assert_int_equal(knot_pkt_put(f->resp, hint, n, 0), KNOT_EOK);
	knot_rrset_t *sig = rrsig(f, "example.", KNOT_RRTYPE_SOA);
	assert_int_equal(knot_pkt_put(f->resp, soa_hint, sig, 0), KNOT_EOK);
	sig = rrsig(f, owner, KNOT_RRTYPE_NSEC);
	assert_int_equal(knot_pkt_put(f->resp, hint, sig, 0), KNOT_EOK);
	f->params.qname = knot_pkt_qname(f->query);
}

// "QNAME QTYPE" answered NODATA: SOA, NSEC at QNAME, their RRSIGs.
static void nodata(fixture_t *f, const char *qname, uint16_t qtype, size_t max)
{
	answer(f, qname, qtype, qname, max);
}

static bool lists_mx(const knot_pkt_t *pkt)
{
	knot_pkt_t *p = knot_pkt_new(pkt->wire, pkt->size, NULL);
	assert_int_equal(knot_pkt_parse(p, 0), KNOT_EOK);
	const knot_pktsection_t *auth = knot_pkt_section(p, KNOT_AUTHORITY);
	bool found = false, mx = false;
	for (uint16_t i = 0; i < auth->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(auth, i);
		if (rr->type == KNOT_RRTYPE_NSEC) {
			const uint8_t *bitmap;
			size_t len;
			assert_int_equal(mx_denial_bitmap(rr->type, rr->rrs.rdata, &bitmap, &len),
			                 KNOT_EOK);
			found = true;
			mx = mx_bitmap_has(bitmap, len, KNOT_RRTYPE_MX);
		}
	}
	knot_pkt_free(p);
	assert_true(found);
	return mx;
}

// A listed name's NODATA: its NSEC lists MX, signed again in place.
static void test_listed_name_lists_mx(void **state)
{
	fixture_t *f = *state;
	nodata(f, "parked.example.", KNOT_RRTYPE_AAAA, 1232);
	size_t before = f->resp->size;
	mx_denial_outcome_t out;
	assert_int_equal(mx_denial_complete(f->resp, f->query, &f->params, &out), KNOT_EOK);
	assert_false(out.left);
	assert_int_equal(f->signed_count, 1);
	assert_true(lists_mx(f->resp));
	// One more bitmap byte (MX is type 15), a signature of the same size.
	assert_int_equal(f->resp->size, before + 1);
	assert_int_equal(knot_wire_get_nscount(f->resp->wire), 4);
}

// An unlisted name keeps its NSEC as knotd wrote it.
static void test_unlisted_name_untouched(void **state)
{
	fixture_t *f = *state;
	nodata(f, "www.example.", KNOT_RRTYPE_AAAA, 1232);
	uint8_t before[1232];
	size_t size = f->resp->size;
	memcpy(before, f->resp->wire, size);
	mx_denial_outcome_t out;
	assert_int_equal(mx_denial_complete(f->resp, f->query, &f->params, &out), KNOT_EOK);
	assert_int_equal(f->resp->size, size);
	assert_memory_equal(f->resp->wire, before, size);
	assert_int_equal(f->signed_count, 0);
}

// With null-mx-implicit every name takes no mail; but the NSEC that proves
// this very answer's "no MX" stays.
static void test_mx_nodata_proof_left_alone(void **state)
{
	fixture_t *f = *state;
	f->params.implicit = true;
	f->params.mx_nodata = true;
	nodata(f, "www.example.", KNOT_RRTYPE_MX, 1232);
	mx_denial_outcome_t out;
	assert_int_equal(mx_denial_complete(f->resp, f->query, &f->params, &out), KNOT_EOK);
	assert_false(lists_mx(f->resp));
}

// Not signable: the record stays as it was, and the caller hears why.
static void test_unsignable_record_stays(void **state)
{
	fixture_t *f = *state;
	f->fail_signing = true;
	nodata(f, "parked.example.", KNOT_RRTYPE_AAAA, 1232);
	mx_denial_outcome_t out;
	assert_int_equal(mx_denial_complete(f->resp, f->query, &f->params, &out), KNOT_EOK);
	assert_true(out.left);
	assert_string_equal(out.reason, "no-signing-keys");
	assert_false(lists_mx(f->resp));
}

// A listed name's own null MX where a wildcard was found: the proofs go.
static void test_own_name_null_mx_drops_proofs(void **state)
{
	fixture_t *f = *state;
	f->params.own_name_null_mx = true;
	nodata(f, "parked.example.", KNOT_RRTYPE_MX, 1232);
	mx_denial_outcome_t out;
	assert_int_equal(mx_denial_complete(f->resp, f->query, &f->params, &out), KNOT_EOK);
	// The SOA and its signature stay; the NSEC and its signature go.
	assert_int_equal(knot_wire_get_nscount(f->resp->wire), 2);
	knot_pkt_t *p = knot_pkt_new(f->resp->wire, f->resp->size, NULL);
	assert_int_equal(knot_pkt_parse(p, 0), KNOT_EOK);
	knot_pkt_free(p);
}

// What does not fit is cut as knotd cuts it: TC set, the listed name's
// NSEC never served without MX.
static void test_overflow_cut_with_tc(void **state)
{
	fixture_t *f = *state;
	nodata(f, "parked.example.", KNOT_RRTYPE_AAAA, 1232);
	f->resp->max_size = f->resp->size;  // the grown NSEC no longer fits
	mx_denial_outcome_t out;
	assert_int_equal(mx_denial_complete(f->resp, f->query, &f->params, &out), KNOT_ESPACE);
	assert_true(knot_wire_get_tc(f->resp->wire));
	knot_pkt_t *p = knot_pkt_new(f->resp->wire, f->resp->size, NULL);
	assert_int_equal(knot_pkt_parse(p, 0), KNOT_EOK);
	knot_pkt_free(p);
	// The grown NSEC fit, its new signature did not.
	assert_true(lists_mx(f->resp));
	assert_int_equal(knot_wire_get_nscount(f->resp->wire), 3);
	// The leak check agrees: nothing left denies MX at parked.
	assert_false(mx_denial_leaks(f->resp, &f->params));
}

// The leak check finds knotd's NSEC at a listed name.
static void test_leak_found(void **state)
{
	fixture_t *f = *state;
	nodata(f, "parked.example.", KNOT_RRTYPE_AAAA, 1232);
	assert_true(mx_denial_leaks(f->resp, &f->params));
	f->params.qname = (const knot_dname_t *)"\x03""www\x07""example";
	mx_name_list_free(f->list);
	f->list = mx_name_list_new();
	f->params.no_mail = f->list;
	assert_false(mx_denial_leaks(f->resp, &f->params));
}

// The records of the parsed answer's authority section of TYPE.
static unsigned authority_of(const knot_pkt_t *pkt, uint16_t type, knot_pkt_t **parsed)
{
	*parsed = knot_pkt_new(pkt->wire, pkt->size, NULL);
	assert_int_equal(knot_pkt_parse(*parsed, 0), KNOT_EOK);
	const knot_pktsection_t *auth = knot_pkt_section(*parsed, KNOT_AUTHORITY);
	unsigned n = 0;
	for (uint16_t i = 0; i < auth->count; i++) {
		n += knot_pkt_rr(auth, i)->type == type;
	}
	return n;
}

static void narrow_on(fixture_t *f)
{
	f->params.spf = true;
	f->params.below = true;
	f->params.narrow = true;
}

// A listed name's NODATA: its own NSEC, with MX and TXT, spans nothing else.
static void test_narrow_listed_nodata(void **state)
{
	fixture_t *f = *state;
	narrow_on(f);
	nodata(f, "parked.example.", KNOT_RRTYPE_AAAA, 1232);
	mx_denial_outcome_t out;
	assert_int_equal(mx_denial_complete(f->resp, f->query, &f->params, &out), KNOT_EOK);
	knot_pkt_t *p;
	assert_int_equal(authority_of(f->resp, KNOT_RRTYPE_NSEC, &p), 1);
	const knot_pktsection_t *auth = knot_pkt_section(p, KNOT_AUTHORITY);
	for (uint16_t i = 0; i < auth->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(auth, i);
		if (rr->type != KNOT_RRTYPE_NSEC) {
			continue;
		}
		assert_true(mx_denial_is_narrow(rr));
		knot_dname_t *dmarc = test_name("_dmarc.parked.example.");
		assert_false(mx_nsec_covers(rr, dmarc));
		free(dmarc);
		const uint8_t *bitmap;
		size_t len;
		assert_int_equal(mx_denial_bitmap(rr->type, rr->rrs.rdata, &bitmap, &len), KNOT_EOK);
		assert_true(mx_bitmap_has(bitmap, len, KNOT_RRTYPE_A));
		assert_true(mx_bitmap_has(bitmap, len, KNOT_RRTYPE_MX));
		assert_true(mx_bitmap_has(bitmap, len, KNOT_RRTYPE_TXT));
	}
	knot_pkt_free(p);
	assert_int_equal(f->signed_count, 1);
}

// A range that meets no served name goes out as knotd wrote it, unsigned again.
static void test_narrow_leaves_unrelated_range(void **state)
{
	fixture_t *f = *state;
	narrow_on(f);
	nodata(f, "www.example.", KNOT_RRTYPE_AAAA, 1232);
	size_t size = f->resp->size;
	uint8_t before[1232];
	memcpy(before, f->resp->wire, size);
	mx_denial_outcome_t out;
	assert_int_equal(mx_denial_complete(f->resp, f->query, &f->params, &out), KNOT_EOK);
	assert_int_equal(f->resp->size, size);
	assert_memory_equal(f->resp->wire, before, size);
	assert_int_equal(f->signed_count, 0);
}

// An NXDOMAIN below a listed name: the name and the wildcard, each covered
// alone; nothing served below the name is denied.
static void test_narrow_nxdomain_below_listed(void **state)
{
	fixture_t *f = *state;
	narrow_on(f);
	answer(f, "nx.parked.example.", KNOT_RRTYPE_A, "parked.example.", 1232);
	mx_denial_outcome_t out;
	assert_int_equal(mx_denial_complete(f->resp, f->query, &f->params, &out), KNOT_EOK);
	knot_pkt_t *p;
	assert_int_equal(authority_of(f->resp, KNOT_RRTYPE_NSEC, &p), 2);
	const char *served[] = { "_dmarc.parked.example.", "_domainkey.parked.example.",
	                         "sel._domainkey.parked.example.", "parked.example." };
	knot_dname_t *nx = test_name("nx.parked.example.");
	knot_dname_t *wild = test_name("*.parked.example.");
	bool nx_covered = false, wild_covered = false;
	const knot_pktsection_t *auth = knot_pkt_section(p, KNOT_AUTHORITY);
	for (uint16_t i = 0; i < auth->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(auth, i);
		if (rr->type != KNOT_RRTYPE_NSEC) {
			continue;
		}
		for (size_t k = 0; k < sizeof(served) / sizeof(served[0]); k++) {
			knot_dname_t *name = test_name(served[k]);
			assert_false(mx_nsec_covers(rr, name));
			free(name);
		}
		nx_covered = nx_covered || mx_nsec_covers(rr, nx);
		wild_covered = wild_covered || mx_nsec_covers(rr, wild);
	}
	assert_true(nx_covered && wild_covered);
	assert_int_equal(f->signed_count, 2);
	free(nx);
	free(wild);
	knot_pkt_free(p);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_listed_name_lists_mx),
		T(test_unlisted_name_untouched),
		T(test_mx_nodata_proof_left_alone),
		T(test_unsignable_record_stays),
		T(test_own_name_null_mx_drops_proofs),
		T(test_overflow_cut_with_tc),
		T(test_leak_found),
		T(test_narrow_listed_nodata),
		T(test_narrow_leaves_unrelated_range),
		T(test_narrow_nxdomain_below_listed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
