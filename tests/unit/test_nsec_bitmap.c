/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "nsec_bitmap.h"
#include "test_helpers.h"

// Bitmaps as knotd writes them (RFC 4034 §4.1.2 examples and ours).
static const uint8_t a_rrsig_nsec[] = { 0, 6, 0x40, 0, 0, 0, 0, 0x03 };  // A RRSIG NSEC

static void expect_add(const uint8_t *in, size_t len, uint16_t type,
                       const uint8_t *want, size_t want_len)
{
	uint8_t out[MX_BITMAP_MAXLEN];
	size_t out_len = 0;
	assert_int_equal(mx_bitmap_add(in, len, type, out, sizeof(out), &out_len), KNOT_EOK);
	assert_int_equal(out_len, want_len);
	assert_memory_equal(out, want, want_len);
	assert_true(mx_bitmap_valid(out, out_len));
	assert_true(mx_bitmap_has(out, out_len, type));
}

static void test_has(void **state)
{
	assert_true(mx_bitmap_has(a_rrsig_nsec, sizeof(a_rrsig_nsec), KNOT_RRTYPE_A));
	assert_true(mx_bitmap_has(a_rrsig_nsec, sizeof(a_rrsig_nsec), KNOT_RRTYPE_RRSIG));
	assert_true(mx_bitmap_has(a_rrsig_nsec, sizeof(a_rrsig_nsec), KNOT_RRTYPE_NSEC));
	assert_false(mx_bitmap_has(a_rrsig_nsec, sizeof(a_rrsig_nsec), KNOT_RRTYPE_MX));
	assert_false(mx_bitmap_has(a_rrsig_nsec, sizeof(a_rrsig_nsec), KNOT_RRTYPE_CAA));
	assert_false(mx_bitmap_has(NULL, 0, KNOT_RRTYPE_MX));
}

static void test_add_mx_inside_window(void **state)
{
	// MX is type 15: octet 1, bit 7.
	static const uint8_t want[] = { 0, 6, 0x40, 0x01, 0, 0, 0, 0x03 };
	expect_add(a_rrsig_nsec, sizeof(a_rrsig_nsec), KNOT_RRTYPE_MX, want, sizeof(want));
}

static void test_add_mx_widens_window(void **state)
{
	// An empty non-terminal's NSEC3 has no types; one with only A has 1 octet.
	static const uint8_t only_a[] = { 0, 1, 0x40 };
	static const uint8_t want[] = { 0, 2, 0x40, 0x01 };
	expect_add(only_a, sizeof(only_a), KNOT_RRTYPE_MX, want, sizeof(want));
	static const uint8_t want_empty[] = { 0, 2, 0x00, 0x01 };
	expect_add(NULL, 0, KNOT_RRTYPE_MX, want_empty, sizeof(want_empty));
}

static void test_add_keeps_other_windows(void **state)
{
	// A, and CAA (257) in window 1.
	static const uint8_t a_caa[] = { 0, 1, 0x40, 1, 1, 0x40 };
	static const uint8_t want[] = { 0, 2, 0x40, 0x01, 1, 1, 0x40 };
	expect_add(a_caa, sizeof(a_caa), KNOT_RRTYPE_MX, want, sizeof(want));

	// Only window 1: window 0 goes before it.
	static const uint8_t caa[] = { 1, 1, 0x40 };
	static const uint8_t want2[] = { 0, 2, 0x00, 0x01, 1, 1, 0x40 };
	expect_add(caa, sizeof(caa), KNOT_RRTYPE_MX, want2, sizeof(want2));

	// A type in a window after the last.
	static const uint8_t want3[] = { 0, 6, 0x40, 0, 0, 0, 0, 0x03, 1, 1, 0x40 };
	expect_add(a_rrsig_nsec, sizeof(a_rrsig_nsec), KNOT_RRTYPE_CAA, want3, sizeof(want3));
}

static void test_add_present_type_copies(void **state)
{
	expect_add(a_rrsig_nsec, sizeof(a_rrsig_nsec), KNOT_RRTYPE_A, a_rrsig_nsec,
	           sizeof(a_rrsig_nsec));
}

static void test_malformed_and_space(void **state)
{
	uint8_t out[64];
	size_t len;
	static const uint8_t zero_len[] = { 0, 0 };
	static const uint8_t too_long[] = { 0, 33 };
	static const uint8_t cut[] = { 0, 4, 0x40 };
	static const uint8_t order[] = { 1, 1, 0x40, 0, 1, 0x40 };
	static const uint8_t lone[] = { 0 };
	assert_int_equal(mx_bitmap_add(zero_len, 2, 15, out, sizeof(out), &len), KNOT_EMALF);
	assert_int_equal(mx_bitmap_add(too_long, 2, 15, out, sizeof(out), &len), KNOT_EMALF);
	assert_int_equal(mx_bitmap_add(cut, 3, 15, out, sizeof(out), &len), KNOT_EMALF);
	assert_int_equal(mx_bitmap_add(order, 6, 15, out, sizeof(out), &len), KNOT_EMALF);
	assert_int_equal(mx_bitmap_add(lone, 1, 15, out, sizeof(out), &len), KNOT_EMALF);
	assert_false(mx_bitmap_has(cut, 3, KNOT_RRTYPE_MX));
	assert_int_equal(mx_bitmap_add(a_rrsig_nsec, sizeof(a_rrsig_nsec), 15, out, 7, &len),
	                 KNOT_ESPACE);
	assert_int_equal(mx_bitmap_add(NULL, 0, 15, out, 3, &len), KNOT_ESPACE);
	assert_int_equal(mx_bitmap_add(NULL, 0, 15, NULL, 3, &len), KNOT_EINVAL);
}

static void test_nsec_rdata(void **state)
{
	knot_rdataset_t rrs, out;
	knot_rdataset_init(&rrs);
	uint8_t rd[64];
	memcpy(rd, "\x02ns\x07""example\x00", 12);
	memcpy(rd + 12, a_rrsig_nsec, sizeof(a_rrsig_nsec));
	knot_rdata_t *r = malloc(knot_rdata_size(sizeof(rd)));
	knot_rdata_init(r, 12 + sizeof(a_rrsig_nsec), rd);
	assert_int_equal(knot_rdataset_add(&rrs, r, NULL), KNOT_EOK);
	assert_int_equal(mx_denial_add_type(KNOT_RRTYPE_NSEC, &rrs, KNOT_RRTYPE_MX, &out, NULL),
	                 KNOT_EOK);
	assert_int_equal(out.count, 1);
	assert_memory_equal(out.rdata->data, rd, 12);
	const uint8_t *bm;
	size_t len;
	assert_int_equal(mx_denial_bitmap(KNOT_RRTYPE_NSEC, out.rdata, &bm, &len), KNOT_EOK);
	assert_true(mx_bitmap_has(bm, len, KNOT_RRTYPE_MX));
	assert_true(mx_bitmap_has(bm, len, KNOT_RRTYPE_A));
	knot_rdataset_clear(&out, NULL);

	// A next name that runs past the rdata.
	knot_rdata_init(r, 5, (const uint8_t *)"\x07""exa");
	assert_int_equal(mx_denial_bitmap(KNOT_RRTYPE_NSEC, r, &bm, &len), KNOT_EMALF);
	knot_rdataset_clear(&rrs, NULL);
	free(r);
}

static void test_nsec3_rdata(void **state)
{
	// SHA-1, flags 0, 10 iterations, salt ab cd, a 20-octet hash, A RRSIG.
	uint8_t rd[64] = { 1, 0, 0, 10, 2, 0xab, 0xcd, 20 };
	memset(rd + 8, 0x11, 20);
	static const uint8_t bitmap[] = { 0, 6, 0x40, 0, 0, 0, 0, 0x02 };
	memcpy(rd + 28, bitmap, sizeof(bitmap));
	knot_rdataset_t rrs, out;
	knot_rdataset_init(&rrs);
	knot_rdata_t *r = malloc(knot_rdata_size(sizeof(rd)));
	knot_rdata_init(r, 28 + sizeof(bitmap), rd);
	assert_int_equal(knot_rdataset_add(&rrs, r, NULL), KNOT_EOK);
	assert_int_equal(mx_denial_add_type(KNOT_RRTYPE_NSEC3, &rrs, KNOT_RRTYPE_MX, &out, NULL),
	                 KNOT_EOK);
	assert_memory_equal(out.rdata->data, rd, 28);
	assert_int_equal(knot_nsec3_bitmap_len(out.rdata), sizeof(bitmap));
	assert_true(mx_bitmap_has(knot_nsec3_bitmap(out.rdata), knot_nsec3_bitmap_len(out.rdata),
	                          KNOT_RRTYPE_MX));
	knot_rdataset_clear(&out, NULL);

	// Salt longer than the rdata.
	knot_rdata_init(r, 6, (const uint8_t *)"\x01\x00\x00\x0a\x09\xab");
	const uint8_t *bm;
	size_t len;
	assert_int_equal(mx_denial_bitmap(KNOT_RRTYPE_NSEC3, r, &bm, &len), KNOT_EMALF);
	assert_int_equal(mx_denial_bitmap(KNOT_RRTYPE_MX, r, &bm, &len), KNOT_EINVAL);
	knot_rdataset_clear(&rrs, NULL);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_has),
		cmocka_unit_test(test_add_mx_inside_window),
		cmocka_unit_test(test_add_mx_widens_window),
		cmocka_unit_test(test_add_keeps_other_windows),
		cmocka_unit_test(test_add_present_type_copies),
		cmocka_unit_test(test_malformed_and_space),
		cmocka_unit_test(test_nsec_rdata),
		cmocka_unit_test(test_nsec3_rdata),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
