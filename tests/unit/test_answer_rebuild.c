/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "answer_rebuild.h"
#include "test_helpers.h"

typedef struct {
	test_arena_t arena;
	knot_mm_t mm;
	knot_pkt_t *query;
	knot_pkt_t *resp;
	knot_rrset_t *mx;
	knot_rrset_t *glue[4];
	knot_rrset_t *rrsig;
} fixture_t;

static const char *exchanges[] = { "mx1.example.", "localhost.", "mx2.example." };
static const char *addrs[] = { "\x5d\xb8\xd7\x0e", "\x7f\x00\x00\x01", "\x5d\xb8\xd7\x0f" };

static knot_rrset_t *new_rrset(const char *owner, uint16_t type)
{
	knot_dname_t *name = test_name(owner);
	knot_rrset_t *rr = knot_rrset_new(name, type, KNOT_CLASS_IN, 3600, NULL);
	free(name);
	assert_non_null(rr);
	return rr;
}

static void add_rdata(knot_rrset_t *rr, const uint8_t *data, uint16_t len)
{
	assert_int_equal(knot_rrset_add_rdata(rr, data, len, NULL), KNOT_EOK);
}

// An RRSIG rdata covering MX, with a dummy signature.
static void add_rrsig(knot_rrset_t *rr, uint8_t marker)
{
	uint8_t rd[18 + 9 + 4] = { 0, KNOT_RRTYPE_MX, 13, 2, 0, 0, 0x0e, 0x10 };
	memcpy(rd + 18, "\x07""example\x00", 9);
	memset(rd + 27, marker, 4);
	add_rdata(rr, rd, sizeof(rd));
}

// A response to "QNAME MX": the MX RRset (owner OWNER), optionally its
// RRSIG, and the A glue of mx1, localhost and mx2, as knotd would put them.
static void build(fixture_t *f, const char *qname, const char *owner, bool sig)
{
	f->mm = (knot_mm_t) { .ctx = &f->arena, .alloc = test_arena_alloc };
	f->query = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	knot_dname_t *q = test_name(qname);
	assert_int_equal(knot_pkt_put_question(f->query, q, KNOT_CLASS_IN, KNOT_RRTYPE_MX),
	                 KNOT_EOK);
	free(q);
	knot_wire_set_id(f->query->wire, 0x1234);
	knot_wire_set_rd(f->query->wire);

	f->resp = knot_pkt_new(NULL, 1232, NULL);
	assert_int_equal(knot_pkt_init_response(f->resp, f->query), KNOT_EOK);
	knot_wire_set_aa(f->resp->wire);
	f->resp->reserved = 11;

	f->mx = new_rrset(owner, KNOT_RRTYPE_MX);
	for (uint16_t i = 0; i < 3; i++) {
		test_add_mx(&f->mx->rrs, 10 * (i + 1), exchanges[i]);
	}
	assert_int_equal(knot_pkt_begin(f->resp, KNOT_ANSWER), KNOT_EOK);
	assert_int_equal(knot_pkt_put(f->resp, KNOT_COMPR_HINT_QNAME, f->mx, 0), KNOT_EOK);
	if (sig) {
		f->rrsig = new_rrset(owner, KNOT_RRTYPE_RRSIG);
		add_rrsig(f->rrsig, 0xaa);
		assert_int_equal(knot_pkt_put(f->resp, KNOT_COMPR_HINT_QNAME, f->rrsig,
		                              KNOT_PF_ORIGTTL), KNOT_EOK);
	}

	assert_int_equal(knot_pkt_begin(f->resp, KNOT_ADDITIONAL), KNOT_EOK);
	for (uint16_t i = 0; i < 3; i++) {
		f->glue[i] = new_rrset(exchanges[i], KNOT_RRTYPE_A);
		add_rdata(f->glue[i], (const uint8_t *)addrs[i], 4);
		uint16_t hint = knot_compr_hint(&f->resp->rr_info[0], KNOT_COMPR_HINT_RDATA + i);
		assert_int_equal(knot_pkt_put(f->resp, hint, f->glue[i], KNOT_PF_NOTRUNC),
		                 KNOT_EOK);
	}
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	knot_pkt_free(f->query);
	knot_pkt_free(f->resp);
	knot_rrset_free(f->mx, NULL);
	knot_rrset_free(f->rrsig, NULL);
	for (int i = 0; i < 4; i++) {
		knot_rrset_free(f->glue[i], NULL);
	}
	test_arena_free(&f->arena);
	free(f);
	return 0;
}

static int setup(void **state)
{
	*state = calloc(1, sizeof(fixture_t));
	return 0;
}

// A replacement keeping the records whose bit is set in KEEP.
static mx_replacement_t replacement(fixture_t *f, unsigned keep)
{
	mx_replacement_t repl = { .rr_pos = 0 };
	knot_rrset_init(&repl.rrset, f->mx->owner, KNOT_RRTYPE_MX, KNOT_CLASS_IN, 3600);
	for (uint16_t i = 0; i < 3; i++) {
		if (keep & (1u << i)) {
			test_add_mx(&repl.rrset.rrs, 10 * (i + 1), exchanges[i]);
		}
	}
	knot_rrset_init_empty(&repl.rrsig);
	return repl;
}

// The response as a client parses it.
static knot_pkt_t *parse(const knot_pkt_t *resp)
{
	knot_pkt_t *p = knot_pkt_new(resp->wire, resp->size, NULL);
	assert_int_equal(knot_pkt_parse(p, 0), KNOT_EOK);
	return p;
}

static void expect_rr(const knot_pkt_t *p, knot_section_t s, uint16_t i,
                      const char *owner, uint16_t type, uint16_t count)
{
	const knot_pktsection_t *sec = knot_pkt_section(p, s);
	assert_true(i < sec->count);
	const knot_rrset_t *rr = knot_pkt_rr(sec, i);
	char text[KNOT_DNAME_TXT_MAXLEN + 1];
	knot_dname_to_str(text, rr->owner, sizeof(text));
	assert_string_equal(text, owner);
	assert_int_equal(rr->type, type);
	assert_int_equal(rr->rrs.count, count);
}

static void test_strip_drops_record_and_its_glue(void **state)
{
	fixture_t *f = *state;
	build(f, "example.", "example.", false);
	mx_replacement_t repl = replacement(f, 0x5);
	assert_int_equal(mx_answer_rebuild(f->resp, f->query, &repl, 1, false, &f->mm),
	                 KNOT_EOK);

	assert_true(knot_wire_get_aa(f->resp->wire));
	assert_true(knot_wire_get_rd(f->resp->wire));
	assert_int_equal(f->resp->reserved, 11);
	assert_int_equal(f->resp->current, KNOT_ADDITIONAL);

	knot_pkt_t *p = parse(f->resp);
	assert_int_equal(knot_wire_get_id(p->wire), 0x1234);
	assert_int_equal(knot_wire_get_ancount(p->wire), 2);
	assert_int_equal(knot_wire_get_arcount(p->wire), 2);
	// The parser gives each record its own RRset.
	expect_rr(p, KNOT_ANSWER, 0, "example.", KNOT_RRTYPE_MX, 1);
	expect_rr(p, KNOT_ANSWER, 1, "example.", KNOT_RRTYPE_MX, 1);
	const knot_rrset_t *mx = knot_pkt_rr(knot_pkt_section(p, KNOT_ANSWER), 1);
	assert_int_equal(knot_wire_read_u16(mx->rrs.rdata->data), 30);
	// Each address under its own exchange's name.
	expect_rr(p, KNOT_ADDITIONAL, 0, "mx1.example.", KNOT_RRTYPE_A, 1);
	expect_rr(p, KNOT_ADDITIONAL, 1, "mx2.example.", KNOT_RRTYPE_A, 1);
	const knot_rrset_t *a = knot_pkt_rr(knot_pkt_section(p, KNOT_ADDITIONAL), 1);
	assert_memory_equal(a->rrs.rdata->data, addrs[2], 4);
	knot_pkt_free(p);
	knot_rdataset_clear(&repl.rrset.rrs, NULL);
}

static void test_null_mx_drops_all_glue(void **state)
{
	fixture_t *f = *state;
	build(f, "example.", "example.", false);
	mx_replacement_t repl = replacement(f, 0);
	test_add_mx(&repl.rrset.rrs, 0, ".");
	assert_int_equal(mx_answer_rebuild(f->resp, f->query, &repl, 1, false, &f->mm),
	                 KNOT_EOK);
	knot_pkt_t *p = parse(f->resp);
	assert_int_equal(knot_wire_get_ancount(p->wire), 1);
	assert_int_equal(knot_wire_get_arcount(p->wire), 0);
	expect_rr(p, KNOT_ANSWER, 0, "example.", KNOT_RRTYPE_MX, 1);
	knot_pkt_free(p);
	knot_rdataset_clear(&repl.rrset.rrs, NULL);
}

static void test_wildcard_owner_stays_expanded(void **state)
{
	fixture_t *f = *state;
	build(f, "foo.wild.example.", "*.wild.example.", false);
	mx_replacement_t repl = replacement(f, 0x1);
	assert_int_equal(mx_answer_rebuild(f->resp, f->query, &repl, 1, false, &f->mm),
	                 KNOT_EOK);
	knot_pkt_t *p = parse(f->resp);
	expect_rr(p, KNOT_ANSWER, 0, "foo.wild.example.", KNOT_RRTYPE_MX, 1);
	expect_rr(p, KNOT_ADDITIONAL, 0, "mx1.example.", KNOT_RRTYPE_A, 1);
	knot_pkt_free(p);
	knot_rdataset_clear(&repl.rrset.rrs, NULL);
}

static void test_old_signature_goes_new_one_follows(void **state)
{
	fixture_t *f = *state;
	build(f, "example.", "example.", true);
	mx_replacement_t repl = replacement(f, 0x1);
	assert_int_equal(mx_answer_rebuild(f->resp, f->query, &repl, 1, false, &f->mm),
	                 KNOT_EOK);
	knot_pkt_t *p = parse(f->resp);
	assert_int_equal(knot_wire_get_ancount(p->wire), 1);
	knot_pkt_free(p);

	// With a new signature: MX, then exactly that RRSIG.
	fixture_t *g = calloc(1, sizeof(*g));
	build(g, "example.", "example.", true);
	mx_replacement_t repl2 = replacement(g, 0x1);
	knot_rrset_t *sig = new_rrset("example.", KNOT_RRTYPE_RRSIG);
	add_rrsig(sig, 0xbb);
	repl2.rrsig = *sig;
	assert_int_equal(mx_answer_rebuild(g->resp, g->query, &repl2, 1, false, &g->mm),
	                 KNOT_EOK);
	p = parse(g->resp);
	assert_int_equal(knot_wire_get_ancount(p->wire), 2);
	expect_rr(p, KNOT_ANSWER, 0, "example.", KNOT_RRTYPE_MX, 1);
	expect_rr(p, KNOT_ANSWER, 1, "example.", KNOT_RRTYPE_RRSIG, 1);
	const knot_rrset_t *rr = knot_pkt_rr(knot_pkt_section(p, KNOT_ANSWER), 1);
	assert_int_equal(rr->rrs.rdata->data[27], 0xbb);
	knot_pkt_free(p);
	knot_rrset_free(sig, NULL);
	knot_rdataset_clear(&repl.rrset.rrs, NULL);
	knot_rdataset_clear(&repl2.rrset.rrs, NULL);
	void *gs = g;
	teardown(&gs);
}

static void test_failure_restores_the_packet(void **state)
{
	fixture_t *f = *state;
	build(f, "example.", "example.", false);
	uint8_t before[1232];
	size_t size = f->resp->size;
	memcpy(before, f->resp->wire, size);

	// A replacement that cannot fit: the original comes back, byte for byte.
	f->resp->max_size = size + f->resp->reserved;
	mx_replacement_t repl = replacement(f, 0x7);
	test_add_mx(&repl.rrset.rrs, 40, "a-much-longer-exchange-name.example.");
	assert_int_equal(mx_answer_rebuild(f->resp, f->query, &repl, 1, false, &f->mm),
	                 KNOT_ESPACE);
	assert_int_equal(f->resp->size, size);
	assert_memory_equal(f->resp->wire, before, size);
	assert_int_equal(f->resp->rrset_count, 4);
	assert_int_equal(f->resp->reserved, 11);
	knot_rdataset_clear(&repl.rrset.rrs, NULL);
}

// An RRset put without a hint records its own position as its owner's
// hint; put again with that hint, its owner would point at itself (found
// by fuzz/fuzz_rewrite.c). Here a CNAME whose owner is written in place.
static void test_owner_written_in_place_stays_valid(void **state)
{
	fixture_t *f = *state;
	f->mm = (knot_mm_t) { .ctx = &f->arena, .alloc = test_arena_alloc };
	f->query = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	knot_dname_t *q = test_name("a.example.");
	assert_int_equal(knot_pkt_put_question(f->query, q, KNOT_CLASS_IN, KNOT_RRTYPE_MX),
	                 KNOT_EOK);
	free(q);
	f->resp = knot_pkt_new(NULL, 1232, NULL);
	assert_int_equal(knot_pkt_init_response(f->resp, f->query), KNOT_EOK);
	f->resp->reserved = 11;
	assert_int_equal(knot_pkt_begin(f->resp, KNOT_ANSWER), KNOT_EOK);

	knot_rrset_t *cname = new_rrset("b.example.", KNOT_RRTYPE_CNAME);
	knot_dname_t *target = test_name("example.");
	add_rdata(cname, target, knot_dname_size(target));
	free(target);
	assert_int_equal(knot_pkt_put(f->resp, KNOT_COMPR_HINT_NONE, cname, 0), KNOT_EOK);
	assert_int_equal(f->resp->rr_info[0].compress_ptr[KNOT_COMPR_HINT_OWNER],
	                 f->resp->rr_info[0].pos);

	f->mx = new_rrset("example.", KNOT_RRTYPE_MX);
	for (uint16_t i = 0; i < 3; i++) {
		test_add_mx(&f->mx->rrs, 10 * (i + 1), exchanges[i]);
	}
	assert_int_equal(knot_pkt_put(f->resp, KNOT_COMPR_HINT_NONE, f->mx, 0), KNOT_EOK);
	uint8_t before[1232];
	size_t size = f->resp->size;
	memcpy(before, f->resp->wire, size);

	// A failed rebuild restores it as it was, and the restored answer parses.
	f->resp->max_size = size + f->resp->reserved;
	mx_replacement_t big = replacement(f, 0x7);
	big.rr_pos = 1;
	test_add_mx(&big.rrset.rrs, 40, "a-much-longer-exchange-name.example.");
	assert_int_equal(mx_answer_rebuild(f->resp, f->query, &big, 1, false, &f->mm),
	                 KNOT_ESPACE);
	assert_int_equal(f->resp->size, size);
	assert_memory_equal(f->resp->wire, before, size);
	knot_pkt_free(parse(f->resp));

	f->resp->max_size = 1232;
	mx_replacement_t repl = replacement(f, 0x1);
	repl.rr_pos = 1;
	assert_int_equal(mx_answer_rebuild(f->resp, f->query, &repl, 1, false, &f->mm),
	                 KNOT_EOK);
	knot_pkt_t *p = parse(f->resp);
	assert_int_equal(knot_wire_get_ancount(p->wire), 2);
	expect_rr(p, KNOT_ANSWER, 0, "b.example.", KNOT_RRTYPE_CNAME, 1);
	expect_rr(p, KNOT_ANSWER, 1, "example.", KNOT_RRTYPE_MX, 1);
	knot_pkt_free(p);
	knot_rdataset_clear(&repl.rrset.rrs, NULL);
	knot_rdataset_clear(&big.rrset.rrs, NULL);
	knot_rrset_free(cname, NULL);
}

// An RRSIG with empty rdata (possible in a parsed message) covers nothing
// and is kept; it is never read past (found by fuzz/fuzz_rewrite.c).
static void test_empty_rrsig_rdata(void **state)
{
	fixture_t *f = *state;
	f->mm = (knot_mm_t) { .ctx = &f->arena, .alloc = test_arena_alloc };
	f->query = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	knot_dname_t *q = test_name("example.");
	assert_int_equal(knot_pkt_put_question(f->query, q, KNOT_CLASS_IN, KNOT_RRTYPE_MX),
	                 KNOT_EOK);
	free(q);
	f->resp = knot_pkt_new(NULL, 1232, NULL);
	assert_int_equal(knot_pkt_init_response(f->resp, f->query), KNOT_EOK);
	assert_int_equal(knot_pkt_begin(f->resp, KNOT_ANSWER), KNOT_EOK);
	f->mx = new_rrset("example.", KNOT_RRTYPE_MX);
	for (uint16_t i = 0; i < 3; i++) {
		test_add_mx(&f->mx->rrs, 10 * (i + 1), exchanges[i]);
	}
	assert_int_equal(knot_pkt_put(f->resp, KNOT_COMPR_HINT_QNAME, f->mx, 0), KNOT_EOK);
	f->rrsig = new_rrset("example.", KNOT_RRTYPE_RRSIG);
	knot_rdata_t empty = { .len = 0 };
	assert_int_equal(knot_rdataset_add(&f->rrsig->rrs, &empty, NULL), KNOT_EOK);
	assert_int_equal(knot_pkt_put(f->resp, KNOT_COMPR_HINT_QNAME, f->rrsig, 0), KNOT_EOK);

	mx_replacement_t repl = replacement(f, 0x1);
	assert_int_equal(mx_answer_rebuild(f->resp, f->query, &repl, 1, false, &f->mm),
	                 KNOT_EOK);
	assert_int_equal(knot_wire_get_ancount(f->resp->wire), 2);
	knot_rdataset_clear(&repl.rrset.rrs, NULL);
}

static void test_bad_replacement_refused(void **state)
{
	fixture_t *f = *state;
	build(f, "example.", "example.", false);
	mx_replacement_t repl = replacement(f, 0x1);
	repl.rr_pos = 1;  // glue, not an answer MX
	assert_int_equal(mx_answer_rebuild(f->resp, f->query, &repl, 1, false, &f->mm),
	                 KNOT_EINVAL);
	assert_int_equal(mx_answer_rebuild(f->resp, f->query, &repl, 0, false, &f->mm),
	                 KNOT_EINVAL);
	knot_rdataset_clear(&repl.rrset.rrs, NULL);
}

// A NODATA answer: SOA and NSEC in the authority, then their RRSIGs, as
// knotd writes them. The NSEC is replaced with one that lists MX; its new
// signature takes the old one's place, the SOA and its RRSIG stay.
static void test_authority_nsec_replaced_and_signed_again(void **state)
{
	fixture_t *f = *state;
	f->mm = (knot_mm_t) { .ctx = &f->arena, .alloc = test_arena_alloc };
	f->query = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	knot_dname_t *q = test_name("parked.example.");
	assert_int_equal(knot_pkt_put_question(f->query, q, KNOT_CLASS_IN, KNOT_RRTYPE_AAAA),
	                 KNOT_EOK);
	free(q);
	f->resp = knot_pkt_new(NULL, 1232, NULL);
	assert_int_equal(knot_pkt_init_response(f->resp, f->query), KNOT_EOK);
	assert_int_equal(knot_pkt_begin(f->resp, KNOT_AUTHORITY), KNOT_EOK);

	knot_rrset_t *soa = new_rrset("example.", KNOT_RRTYPE_SOA);
	uint8_t soa_rd[2 + 20] = { 0, 0 };  // two root names and the numbers
	add_rdata(soa, soa_rd, sizeof(soa_rd));
	knot_rrset_t *nsec = new_rrset("parked.example.", KNOT_RRTYPE_NSEC);
	static const uint8_t nsec_rd[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l',
	                                   'e', 0, 0, 6, 0x40, 0, 0, 0, 0, 0x03 };
	add_rdata(nsec, nsec_rd, sizeof(nsec_rd));
	knot_rrset_t *soa_sig = new_rrset("example.", KNOT_RRTYPE_RRSIG);
	uint8_t sig_rd[18 + 9 + 4] = { 0, KNOT_RRTYPE_SOA, 13, 1 };
	memcpy(sig_rd + 18, "\x07""example\x00", 9);
	add_rdata(soa_sig, sig_rd, sizeof(sig_rd));
	knot_rrset_t *nsec_sig = new_rrset("parked.example.", KNOT_RRTYPE_RRSIG);
	sig_rd[1] = KNOT_RRTYPE_NSEC;
	sig_rd[3] = 2;
	memset(sig_rd + 27, 0xaa, 4);
	add_rdata(nsec_sig, sig_rd, sizeof(sig_rd));
	assert_int_equal(knot_pkt_put(f->resp, KNOT_COMPR_HINT_NONE, soa, 0), KNOT_EOK);
	assert_int_equal(knot_pkt_put(f->resp, KNOT_COMPR_HINT_QNAME, nsec, 0), KNOT_EOK);
	assert_int_equal(knot_pkt_put(f->resp, KNOT_COMPR_HINT_NONE, soa_sig, 0), KNOT_EOK);
	assert_int_equal(knot_pkt_put(f->resp, KNOT_COMPR_HINT_QNAME, nsec_sig, 0), KNOT_EOK);

	mx_replacement_t repl = { .rr_pos = 1 };
	knot_rrset_init(&repl.rrset, nsec->owner, KNOT_RRTYPE_NSEC, KNOT_CLASS_IN, 3600);
	uint8_t new_rd[sizeof(nsec_rd)];
	memcpy(new_rd, nsec_rd, sizeof(nsec_rd));
	new_rd[16] = 0x01;  // MX
	knot_rrset_add_rdata(&repl.rrset, new_rd, sizeof(new_rd), NULL);
	knot_rrset_init(&repl.rrsig, nsec->owner, KNOT_RRTYPE_RRSIG, KNOT_CLASS_IN, 3600);
	memset(sig_rd + 27, 0xbb, 4);
	knot_rrset_add_rdata(&repl.rrsig, sig_rd, sizeof(sig_rd), NULL);

	// Not in the additional section, not of another type.
	mx_replacement_t bad = repl;
	bad.rr_pos = 0;
	assert_int_equal(mx_answer_rebuild(f->resp, f->query, &bad, 1, false, &f->mm),
	                 KNOT_EINVAL);
	assert_int_equal(mx_answer_rebuild(f->resp, f->query, &repl, 1, false, &f->mm),
	                 KNOT_EOK);

	knot_pkt_t *p = parse(f->resp);
	assert_int_equal(knot_wire_get_ancount(p->wire), 0);
	assert_int_equal(knot_wire_get_nscount(p->wire), 4);
	expect_rr(p, KNOT_AUTHORITY, 0, "example.", KNOT_RRTYPE_SOA, 1);
	expect_rr(p, KNOT_AUTHORITY, 1, "parked.example.", KNOT_RRTYPE_NSEC, 1);
	expect_rr(p, KNOT_AUTHORITY, 2, "example.", KNOT_RRTYPE_RRSIG, 1);
	expect_rr(p, KNOT_AUTHORITY, 3, "parked.example.", KNOT_RRTYPE_RRSIG, 1);
	const knot_pktsection_t *auth = knot_pkt_section(p, KNOT_AUTHORITY);
	assert_memory_equal(knot_pkt_rr(auth, 1)->rrs.rdata->data, new_rd, sizeof(new_rd));
	const knot_rdata_t *sig = knot_pkt_rr(auth, 3)->rrs.rdata;
	assert_int_equal(knot_rrsig_type_covered(sig), KNOT_RRTYPE_NSEC);
	assert_int_equal(sig->data[27], 0xbb);
	knot_pkt_free(p);
	knot_rdataset_clear(&repl.rrset.rrs, NULL);
	knot_rdataset_clear(&repl.rrsig.rrs, NULL);
	knot_rrset_free(soa, NULL);
	knot_rrset_free(nsec, NULL);
	knot_rrset_free(soa_sig, NULL);
	knot_rrset_free(nsec_sig, NULL);
}

/*** An answer section of the replaced RRset alone (knotd's ANSWER stage). ***/

static void *no_alloc(void *ctx, size_t len)
{
	return NULL;
}

// A response as knotd's ANSWER stage leaves it for "QNAME MX": the MX
// RRset at OWNER, then SIGS RRSIGs of it (each owner a pointer to the MX's),
// the last one the packet's own (KNOT_PF_FREE) when FREE_SIG.
static knot_pkt_t *answer_stage(const knot_pkt_t *query, const knot_rrset_t *mx,
                                const knot_rrset_t *sig, int sigs, bool free_sig,
                                uint16_t rotate)
{
	knot_pkt_t *resp = knot_pkt_new(NULL, 1232, NULL);
	assert_int_equal(knot_pkt_init_response(resp, query), KNOT_EOK);
	knot_wire_set_aa(resp->wire);
	resp->reserved = 11;
	uint16_t hint = knot_dname_is_case_equal(mx->owner, knot_pkt_qname(query)) ?
	                KNOT_COMPR_HINT_QNAME : KNOT_COMPR_HINT_NONE;
	assert_int_equal(knot_pkt_put_rotate(resp, hint, mx, rotate, 0), KNOT_EOK);
	hint = resp->rr_info[0].compress_ptr[KNOT_COMPR_HINT_OWNER];
	for (int i = 0; i < sigs; i++) {
		if (!free_sig || i < sigs - 1) {
			assert_int_equal(knot_pkt_put(resp, hint, sig, KNOT_PF_ORIGTTL), KNOT_EOK);
			continue;
		}
		knot_rrset_t *copy = knot_rrset_copy(sig, NULL);
		assert_non_null(copy);
		assert_int_equal(knot_pkt_put(resp, hint, copy, KNOT_PF_ORIGTTL | KNOT_PF_FREE),
		                 KNOT_EOK);
		free(copy);  // the packet holds the RRset and owns its data
	}
	return resp;
}

static void expect_same_packet(const knot_pkt_t *a, const knot_pkt_t *b)
{
	assert_int_equal(a->size, b->size);
	assert_memory_equal(a->wire, b->wire, a->size);
	assert_int_equal(a->rrset_count, b->rrset_count);
	assert_int_equal(a->current, b->current);
	assert_int_equal(a->reserved, b->reserved);
	for (int s = KNOT_ANSWER; s <= KNOT_ADDITIONAL; s++) {
		assert_int_equal(a->sections[s].pos, b->sections[s].pos);
		assert_int_equal(a->sections[s].count, b->sections[s].count);
	}
	for (uint16_t i = 0; i < a->rrset_count; i++) {
		assert_int_equal(a->rr_info[i].pos, b->rr_info[i].pos);
		assert_int_equal(a->rr_info[i].flags, b->rr_info[i].flags);
		assert_memory_equal(a->rr_info[i].compress_ptr, b->rr_info[i].compress_ptr,
		                    sizeof(a->rr_info[i].compress_ptr));
		assert_int_equal(a->rr[i].type, b->rr[i].type);
		assert_ptr_equal(a->rr[i].additional, b->rr[i].additional);
	}
	assert_int_equal(a->compr.suffix.pos, b->compr.suffix.pos);
	assert_int_equal(a->compr.suffix.labels, b->compr.suffix.labels);
}

// The short way writes what the whole rebuild writes, byte for byte, hints
// and compression state included (so knotd's glue goes where it would), for
// every shape it takes; it needs no scratch memory (the rebuild does).
static void test_whole_answer_same_as_rebuild(void **state)
{
	fixture_t *f = *state;
	f->mm = (knot_mm_t) { .ctx = &f->arena, .alloc = test_arena_alloc };
	knot_mm_t none = { .alloc = no_alloc };
	static const struct {
		const char *qname, *owner;
		int sigs;          // old RRSIGs
		bool new_sig;      // the replacement is signed
		unsigned keep;     // 0: a null MX
	} cases[] = {
		{ "example.", "example.", 0, false, 0x5 },
		{ "example.", "example.", 0, false, 0 },
		{ "EXample.", "example.", 1, true, 0x1 },
		{ "example.", "example.", 1, false, 0x6 },
		{ "example.", "example.", 2, true, 0x5 },
		{ "example.", "example.", 0, true, 0x3 },
		{ "a.example.", "b.example.", 1, true, 0x5 },
		{ "a.example.", "b.example.", 0, true, 0x5 },
	};
	f->rrsig = new_rrset("example.", KNOT_RRTYPE_RRSIG);
	add_rrsig(f->rrsig, 0xaa);
	knot_rrset_t *new_sig = new_rrset("example.", KNOT_RRTYPE_RRSIG);
	add_rrsig(new_sig, 0xbb);

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (int rotate = 0; rotate < 2; rotate++) {
			f->query = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
			knot_dname_t *q = test_name(cases[c].qname);
			assert_int_equal(knot_pkt_put_question(f->query, q, KNOT_CLASS_IN,
			                                       KNOT_RRTYPE_MX), KNOT_EOK);
			free(q);
			knot_wire_set_id(f->query->wire, 0x1235);
			f->mx = new_rrset(cases[c].owner, KNOT_RRTYPE_MX);
			for (uint16_t i = 0; i < 3; i++) {
				test_add_mx(&f->mx->rrs, 10 * (i + 1), exchanges[i]);
			}
			uint16_t id = rotate ? 0x1235 : 0;
			knot_pkt_t *fast = answer_stage(f->query, f->mx, f->rrsig, cases[c].sigs,
			                                cases[c].sigs > 0, id);
			knot_pkt_t *full = answer_stage(f->query, f->mx, f->rrsig, cases[c].sigs,
			                                cases[c].sigs > 0, id);
			expect_same_packet(fast, full);

			mx_replacement_t repl = replacement(f, cases[c].keep);
			if (cases[c].keep == 0) {
				static const uint8_t null_mx[3] = { 0, 0, 0 };
				knot_rrset_add_rdata(&repl.rrset, null_mx, sizeof(null_mx), NULL);
			}
			if (cases[c].new_sig) {
				repl.rrsig = *new_sig;
			}
			assert_int_equal(mx_answer_rebuild(fast, f->query, &repl, 1, rotate, &none),
			                 KNOT_EOK);
			assert_int_equal(mx_answer_rebuild_or_cut(full, f->query, &repl, 1, rotate,
			                                          &f->mm), KNOT_EOK);
			expect_same_packet(fast, full);
			knot_pkt_free(parse(fast));

			// knotd goes on with the glue, through the new RRset's hints.
			assert_int_equal(knot_pkt_begin(fast, KNOT_ADDITIONAL), KNOT_EOK);
			assert_int_equal(knot_pkt_begin(full, KNOT_ADDITIONAL), KNOT_EOK);
			knot_rrset_t *glue = new_rrset(exchanges[0], KNOT_RRTYPE_A);
			add_rdata(glue, (const uint8_t *)addrs[0], 4);
			uint16_t hint = knot_compr_hint(&fast->rr_info[0], KNOT_COMPR_HINT_RDATA);
			assert_int_equal(knot_pkt_put(fast, hint, glue, KNOT_PF_NOTRUNC), KNOT_EOK);
			assert_int_equal(knot_pkt_put(full, hint, glue, KNOT_PF_NOTRUNC), KNOT_EOK);
			expect_same_packet(fast, full);
			knot_pkt_free(parse(fast));

			knot_rrset_free(glue, NULL);
			knot_rdataset_clear(&repl.rrset.rrs, NULL);
			knot_pkt_free(fast);
			knot_pkt_free(full);
			knot_pkt_free(f->query);
			knot_rrset_free(f->mx, NULL);
		}
	}
	f->query = NULL;
	f->mx = NULL;
	knot_rrset_free(new_sig, NULL);
}

// A replacement that does not fit: the answer as it was, byte for byte,
// TC clear, and the packet still owns what it owned.
static void test_whole_answer_failure_restores(void **state)
{
	fixture_t *f = *state;
	knot_mm_t none = { .alloc = no_alloc };
	f->query = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	knot_dname_t *q = test_name("example.");
	assert_int_equal(knot_pkt_put_question(f->query, q, KNOT_CLASS_IN, KNOT_RRTYPE_MX),
	                 KNOT_EOK);
	free(q);
	f->mx = new_rrset("example.", KNOT_RRTYPE_MX);
	for (uint16_t i = 0; i < 3; i++) {
		test_add_mx(&f->mx->rrs, 10 * (i + 1), exchanges[i]);
	}
	f->rrsig = new_rrset("example.", KNOT_RRTYPE_RRSIG);
	add_rrsig(f->rrsig, 0xaa);
	f->resp = answer_stage(f->query, f->mx, f->rrsig, 1, true, 0);
	uint8_t before[1232];
	size_t size = f->resp->size;
	memcpy(before, f->resp->wire, size);
	knot_rrinfo_t info[2];
	memcpy(info, f->resp->rr_info, sizeof(info));

	f->resp->max_size = size + f->resp->reserved;
	mx_replacement_t repl = replacement(f, 0x7);
	test_add_mx(&repl.rrset.rrs, 40, "a-much-longer-exchange-name.example.");
	assert_int_equal(mx_answer_rebuild(f->resp, f->query, &repl, 1, false, &none),
	                 KNOT_ESPACE);
	assert_int_equal(f->resp->size, size);
	assert_memory_equal(f->resp->wire, before, size);
	assert_false(knot_wire_get_tc(f->resp->wire));
	assert_int_equal(f->resp->rrset_count, 2);
	assert_memory_equal(f->resp->rr_info, info, sizeof(info));
	knot_rdataset_clear(&repl.rrset.rrs, NULL);
	// knot_pkt_free frees the RRSIG the packet owns (valgrind/ASan: no leak).
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_strip_drops_record_and_its_glue),
		T(test_null_mx_drops_all_glue),
		T(test_wildcard_owner_stays_expanded),
		T(test_old_signature_goes_new_one_follows),
		T(test_failure_restores_the_packet),
		T(test_owner_written_in_place_stays_valid),
		T(test_empty_rrsig_rdata),
		T(test_bad_replacement_refused),
		T(test_authority_nsec_replaced_and_signed_again),
		T(test_whole_answer_same_as_rebuild),
		T(test_whole_answer_failure_restores),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
