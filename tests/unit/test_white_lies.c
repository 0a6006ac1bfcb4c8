/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "nsec3_names.h"
#include "white_lies.h"
#include "test_helpers.h"

static knot_mm_t arena_mm(test_arena_t *arena)
{
	return (knot_mm_t) { .ctx = arena, .alloc = test_arena_alloc };
}

static void test_before_is_just_before(void **state)
{
	knot_dname_t *name = test_name("b.example.");
	knot_dname_storage_t before;
	assert_int_equal(mx_dname_before(name, before, sizeof(before)), KNOT_EOK);
	// "a" then 62 octets 0xff: after every name "a..." of one label.
	assert_int_equal(before[0], 63);
	assert_int_equal(before[1], 'a');
	assert_int_equal(before[2], 0xff);
	assert_int_equal(before[63], 0xff);
	assert_true(mx_dname_canon_cmp(before, name) < 0);
	knot_dname_t *a = test_name("azzz.example.");
	assert_true(mx_dname_canon_cmp(a, before) < 0);
	knot_dname_t *parent = test_name("example.");
	assert_true(knot_dname_is_equal(before + 64, parent));
	free(a);
	free(parent);
	free(name);
}

static void test_before_skips_upper_case_and_refuses_zero(void **state)
{
	knot_dname_storage_t before;
	const uint8_t bracket[] = { 1, '[', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	assert_int_equal(mx_dname_before(bracket, before, sizeof(before)), KNOT_EOK);
	// 'Z' would compare as 'z', after '['.
	assert_int_equal(before[1], '@');
	assert_true(mx_dname_canon_cmp(before, bracket) < 0);
	const uint8_t zero[] = { 2, 'a', 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	assert_int_equal(mx_dname_before(zero, before, sizeof(before)), KNOT_EINVAL);
	assert_int_equal(mx_dname_before((const uint8_t *)"", before, sizeof(before)),
	                 KNOT_EINVAL);
}

static void test_before_stays_within_255(void **state)
{
	// A first label of 10 octets, then four of 58: 248 octets, room for 7.
	uint8_t name[KNOT_DNAME_MAXLEN];
	size_t pos = 0;
	name[pos++] = 10;
	memset(name + pos, 'm', 10);
	pos += 10;
	for (int l = 0; l < 4; l++) {
		name[pos++] = 58;
		memset(name + pos, 'm', 58);
		pos += 58;
	}
	name[pos++] = 0;
	knot_dname_storage_t before;
	assert_int_equal(mx_dname_before(name, before, sizeof(before)), KNOT_EOK);
	assert_int_equal(knot_dname_size(before), KNOT_DNAME_MAXLEN);
	assert_int_equal(before[0], 10 + 7);
	assert_true(mx_dname_canon_cmp(before, name) < 0);
}

static void test_after_and_after_all(void **state)
{
	knot_dname_t *name = test_name("x.example.");
	knot_dname_storage_t after, all;
	assert_int_equal(mx_dname_after(name, after, sizeof(after)), KNOT_EOK);
	knot_dname_t *want = test_name("\\000.x.example.");
	assert_true(knot_dname_is_equal(after, want));
	assert_int_equal(mx_dname_after_all(name, all, sizeof(all)), KNOT_EOK);
	knot_dname_t *want_all = test_name("x\\000.example.");
	assert_true(knot_dname_is_equal(all, want_all));
	// Every name below x lies before "x\000".
	knot_dname_t *below = test_name("zzz.y.x.example.");
	assert_true(mx_dname_canon_cmp(below, all) < 0);
	assert_true(mx_dname_canon_cmp(name, below) < 0);
	free(below);
	free(want_all);
	free(want);
	free(name);
	// A first label of 63 octets has no room for one more.
	uint8_t full[1 + 63 + 1] = { 63 };
	memset(full + 1, 'a', 63);
	assert_int_equal(mx_dname_after_all(full, all, sizeof(all)), KNOT_ESPACE);
}

// An NSEC3 rdata: SHA-1, flags, 12 iterations, salt aabbccdd, NEXT, types.
static size_t nsec3_rdata(uint8_t *rd, uint8_t flags, const uint8_t *next)
{
	const uint8_t head[] = { 1, flags, 0, 12, 4, 0xaa, 0xbb, 0xcc, 0xdd, 20 };
	memcpy(rd, head, sizeof(head));
	memcpy(rd + sizeof(head), next, 20);
	return sizeof(head) + 20;
}

static void test_nsec3_cover_spans_one_hash(void **state)
{
	test_arena_t arena = { 0 };
	knot_mm_t mm = arena_mm(&arena);
	uint8_t digest[20];
	memset(digest, 0x40, sizeof(digest));
	digest[19] = 0;  // the one before borrows
	uint8_t model[64];
	size_t len = nsec3_rdata(model, 1, digest);
	uint8_t buf[sizeof(knot_rdata_t) + 64];
	knot_rdata_t *rd = (knot_rdata_t *)buf;
	knot_rdata_init(rd, len, model);
	knot_dname_t *zone = test_name("example.");
	knot_rrset_t cover;
	assert_int_equal(mx_nsec3_cover(rd, digest, 20, zone, 300, &cover, &mm), KNOT_EOK);
	assert_true(mx_nsec3_covers(&cover, digest, 20));
	uint8_t near[20];
	memcpy(near, digest, 20);
	near[18] = 0x3f;
	near[19] = 0xff;  // the owner's own hash
	assert_false(mx_nsec3_covers(&cover, near, 20));
	assert_true(mx_denial_is_narrow(&cover));
	assert_true(mx_nsec3_is_cover(&cover));
	// Flags (opt-out) and parameters are the model's.
	assert_int_equal(cover.rrs.rdata->data[1], 1);
	assert_int_equal(cover.rrs.rdata->data[3], 12);
	free(zone);
	test_arena_free(&arena);
}

static void test_nsec3_of_name_rfc5155_vector(void **state)
{
	test_arena_t arena = { 0 };
	knot_mm_t mm = arena_mm(&arena);
	// RFC 5155 appendix A: H(example) = 0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.
	const uint8_t param[] = { 1, 0, 0, 12, 4, 0xaa, 0xbb, 0xcc, 0xdd };
	uint8_t buf[sizeof(knot_rdata_t) + 64];
	knot_rdata_t *rd = (knot_rdata_t *)buf;
	knot_rdata_init(rd, sizeof(param), param);
	knot_dname_t *zone = test_name("EXAMPLE.");
	knot_rrset_t rr;
	assert_int_equal(mx_nsec3_of_name(rd, zone, zone, MX_BITMAP_TXT, sizeof(MX_BITMAP_TXT),
	                                  300, &rr, &mm), KNOT_EOK);
	knot_dname_t *want = test_name("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.");
	assert_true(knot_dname_is_equal(rr.owner, want));
	assert_true(mx_denial_is_narrow(&rr));
	assert_false(mx_nsec3_is_cover(&rr));
	free(want);
	free(zone);
	test_arena_free(&arena);
}

static void test_nsec3_match_only_keeps_owner_and_types(void **state)
{
	test_arena_t arena = { 0 };
	knot_mm_t mm = arena_mm(&arena);
	uint8_t next[20];
	memset(next, 0xee, sizeof(next));
	uint8_t data[64];
	size_t len = nsec3_rdata(data, 0, next);
	const uint8_t types[] = { 0, 1, 0x40 };  // A
	memcpy(data + len, types, sizeof(types));
	knot_dname_t *owner = test_name("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.");
	knot_rrset_t rr;
	knot_rrset_init(&rr, owner, KNOT_RRTYPE_NSEC3, KNOT_CLASS_IN, 300);
	assert_int_equal(knot_rrset_add_rdata(&rr, data, len + sizeof(types), &mm), KNOT_EOK);
	assert_false(mx_denial_is_narrow(&rr));
	knot_rrset_t out;
	assert_int_equal(mx_nsec3_match_only(&rr, NULL, 0, &out, &mm), KNOT_EOK);
	assert_true(knot_dname_is_equal(out.owner, owner));
	assert_true(mx_denial_is_narrow(&out));
	assert_int_equal(out.rrs.rdata->len, len + sizeof(types));
	assert_memory_equal(out.rrs.rdata->data + len, types, sizeof(types));
	free(owner);
	test_arena_free(&arena);
}

static void test_nsec_covers_and_wraps(void **state)
{
	test_arena_t arena = { 0 };
	knot_mm_t mm = arena_mm(&arena);
	knot_dname_t *b = test_name("b.example."), *d = test_name("d.example.");
	knot_dname_t *c = test_name("c.example."), *e = test_name("e.example.");
	knot_dname_t *apex = test_name("example.");
	knot_rrset_t rr, last;
	assert_int_equal(mx_nsec_make(b, d, NULL, 0, 300, &rr, &mm), KNOT_EOK);
	assert_true(mx_nsec_covers(&rr, c));
	assert_false(mx_nsec_covers(&rr, b));
	assert_false(mx_nsec_covers(&rr, d));
	assert_false(mx_nsec_covers(&rr, e));
	// The last record points back at the apex: it covers what follows it.
	assert_int_equal(mx_nsec_make(d, apex, NULL, 0, 300, &last, &mm), KNOT_EOK);
	assert_true(mx_nsec_covers(&last, e));
	assert_false(mx_nsec_covers(&last, c));
	knot_dname_storage_t after;
	assert_int_equal(mx_dname_after(c, after, sizeof(after)), KNOT_EOK);
	knot_rrset_t own;
	assert_int_equal(mx_nsec_make(c, after, NULL, 0, 300, &own, &mm), KNOT_EOK);
	assert_true(mx_denial_is_narrow(&own));
	assert_false(mx_denial_is_narrow(&rr));
	free(b), free(c), free(d), free(e), free(apex);
	test_arena_free(&arena);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_before_is_just_before),
		cmocka_unit_test(test_before_skips_upper_case_and_refuses_zero),
		cmocka_unit_test(test_before_stays_within_255),
		cmocka_unit_test(test_after_and_after_all),
		cmocka_unit_test(test_nsec3_cover_spans_one_hash),
		cmocka_unit_test(test_nsec3_of_name_rfc5155_vector),
		cmocka_unit_test(test_nsec3_match_only_keeps_owner_and_types),
		cmocka_unit_test(test_nsec_covers_and_wraps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
