/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "address.h"
#include "test_helpers.h"


/*! Parses a range that must be valid and checks both its ends. */
static void check_range(const char *text, uint8_t family,
                        const char *min, const char *max)
{
	mx_addr_range_t range;
	if (!mx_addr_range_parse(&range, text)) {
		fail_msg("rejected: \"%s\"", text);
	}

	mx_addr_t lo = test_addr(min);
	mx_addr_t hi = test_addr(max);
	size_t len = mx_addr_len(family);
	assert_int_equal(range.family, family);
	assert_int_equal(lo.family, family);
	assert_memory_equal(range.min, lo.bytes, len);
	assert_memory_equal(range.max, hi.bytes, len);
	// Bytes past the family's length stay zero.
	for (size_t i = len; i < sizeof(range.min); i++) {
		assert_int_equal(range.min[i], 0);
		assert_int_equal(range.max[i], 0);
	}
}

static void test_len(void **state)
{
	assert_int_equal(mx_addr_len(AF_INET), 4);
	assert_int_equal(mx_addr_len(AF_INET6), 16);
	assert_int_equal(mx_addr_len(0), 0);
	assert_int_equal(mx_addr_len(AF_UNIX), 0);
	assert_int_equal(mx_addr_len(255), 0);
}

static void test_from_rdata_v4(void **state)
{
	const uint8_t data[4] = { 192, 0, 2, 1 };
	mx_addr_t a;
	memset(&a, 0xa5, sizeof(a));

	assert_true(mx_addr_from_rdata(&a, data, sizeof(data)));
	assert_int_equal(a.family, AF_INET);
	assert_memory_equal(a.bytes, data, 4);
	for (size_t i = 4; i < sizeof(a.bytes); i++) {
		assert_int_equal(a.bytes[i], 0);
	}
}

static void test_from_rdata_v6(void **state)
{
	const uint8_t data[16] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01
	};
	mx_addr_t a;
	memset(&a, 0xa5, sizeof(a));

	assert_true(mx_addr_from_rdata(&a, data, sizeof(data)));
	assert_int_equal(a.family, AF_INET6);
	assert_memory_equal(a.bytes, data, 16);
}

static void test_from_rdata_bad_len(void **state)
{
	const uint8_t data[17] = { 0 };
	mx_addr_t a;

	for (size_t len = 0; len <= sizeof(data); len++) {
		if (len == 4 || len == 16) {
			continue;
		}
		assert_false(mx_addr_from_rdata(&a, data, len));
	}
	assert_false(mx_addr_from_rdata(&a, data, 5));
	assert_false(mx_addr_from_rdata(NULL, data, 4));
	assert_false(mx_addr_from_rdata(&a, NULL, 4));
}

static void test_to_str(void **state)
{
	char buf[MX_ADDR_STRLEN];

	mx_addr_t a = test_addr("192.0.2.1");
	assert_ptr_equal(mx_addr_to_str(&a, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "192.0.2.1");

	a = test_addr("2001:0db8:0000::0001");
	assert_string_equal(mx_addr_to_str(&a, buf, sizeof(buf)), "2001:db8::1");

	a = test_addr("::ffff:10.1.1.1");
	assert_string_equal(mx_addr_to_str(&a, buf, sizeof(buf)),
	                    "::ffff:10.1.1.1");

	// The longest IPv6 text fits in MX_ADDR_STRLEN, and exactly in 40.
	static const char longest[] = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
	a = test_addr(longest);
	assert_string_equal(mx_addr_to_str(&a, buf, sizeof(buf)), longest);
	assert_string_equal(mx_addr_to_str(&a, buf, sizeof(longest)), longest);
	assert_string_equal(mx_addr_to_str(&a, buf, sizeof(longest) - 1), "?");
}

static void test_to_str_failure(void **state)
{
	char buf[MX_ADDR_STRLEN];

	mx_addr_t a;
	memset(&a, 0, sizeof(a));
	assert_string_equal(mx_addr_to_str(&a, buf, sizeof(buf)), "?");

	a.family = 255;
	assert_string_equal(mx_addr_to_str(&a, buf, sizeof(buf)), "?");

	assert_string_equal(mx_addr_to_str(NULL, buf, sizeof(buf)), "?");

	// Too small a buffer.
	a = test_addr("192.0.2.1");
	assert_string_equal(mx_addr_to_str(&a, buf, 5), "?");

	// Not even room for "?".
	buf[0] = 'x';
	assert_string_equal(mx_addr_to_str(&a, buf, 1), "");

	assert_null(mx_addr_to_str(&a, NULL, 10));
}

static void test_parse_single(void **state)
{
	check_range("192.0.2.1", AF_INET, "192.0.2.1", "192.0.2.1");
	check_range("0.0.0.0", AF_INET, "0.0.0.0", "0.0.0.0");
	check_range("::1", AF_INET6, "::1", "::1");
	check_range("::", AF_INET6, "::", "::");
	check_range("2001:DB8::A", AF_INET6, "2001:db8::a", "2001:db8::a");
	check_range("::ffff:192.0.2.1", AF_INET6, "::ffff:192.0.2.1",
	            "::ffff:192.0.2.1");
}

static void test_parse_prefix(void **state)
{
	check_range("10.0.0.0/8", AF_INET, "10.0.0.0", "10.255.255.255");
	check_range("172.16.0.0/12", AF_INET, "172.16.0.0", "172.31.255.255");
	check_range("100.64.0.0/10", AF_INET, "100.64.0.0", "100.127.255.255");
	check_range("198.18.0.0/15", AF_INET, "198.18.0.0", "198.19.255.255");
	check_range("192.0.2.1/32", AF_INET, "192.0.2.1", "192.0.2.1");
	check_range("0.0.0.0/0", AF_INET, "0.0.0.0", "255.255.255.255");
	check_range("2001:db8::/32", AF_INET6,
	            "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	check_range("fc00::/7", AF_INET6,
	            "fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	check_range("::/0", AF_INET6,
	            "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	check_range("::1/128", AF_INET6, "::1", "::1");
	check_range("2001::/23", AF_INET6,
	            "2001::", "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff");
}

static void test_parse_prefix_host_bits(void **state)
{
	check_range("10.1.2.3/8", AF_INET, "10.0.0.0", "10.255.255.255");
	check_range("192.0.2.200/25", AF_INET, "192.0.2.128", "192.0.2.255");
	check_range("255.255.255.255/0", AF_INET, "0.0.0.0", "255.255.255.255");
	check_range("2001:db8:1:2::3/32", AF_INET6,
	            "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	check_range("fe80::1:2:3:4/10", AF_INET6,
	            "fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

static void test_parse_span(void **state)
{
	check_range("192.0.2.1-192.0.2.9", AF_INET, "192.0.2.1", "192.0.2.9");
	check_range("192.0.2.1-192.0.2.1", AF_INET, "192.0.2.1", "192.0.2.1");
	check_range("9.255.255.255-11.0.0.0", AF_INET,
	            "9.255.255.255", "11.0.0.0");
	check_range("2001:db8::1-2001:db8::ff", AF_INET6,
	            "2001:db8::1", "2001:db8::ff");
	check_range("::-::1", AF_INET6, "::", "::1");
}

static void test_parse_bad(void **state)
{
	static const char *bad[] = {
		"",
		"foo",
		" 10.0.0.1",
		"10.0.0.1 ",
		"10.0.0.0/33",
		"10.0.0.0/",
		"10.0.0.0/8x",
		"10.0.0.0/x8",
		"10.0.0.0/-1",
		"10.0.0.0/+8",
		"10.0.0.0/ 8",
		"10.0.0.0 /8",
		"10.0.0.0/8/8",
		"10.0.0.0/4294967304",
		"10.0.0.0/99999999999999999999999",
		"/8",
		"::/129",
		"2001:db8::/200",
		"1.2.3.4-::1",
		"::1-1.2.3.4",
		"192.0.2.9-192.0.2.1",
		"2001:db8::2-2001:db8::1",
		"1.2.3.4-",
		"-1.2.3.4",
		"-",
		"1.2.3.4-1.2.3.5-1.2.3.6",
		"1.2.3.4 - 1.2.3.5",
		"1.2.3.4/8-1.2.3.5",
		"1.2.3.4-1.2.3.5/8",
		"1.2.3",
		"1.2.3.4.5",
		"256.0.0.1",
		"1.2.3.4x",
		"fe80::1%eth0",
		":::1",
		"2001:db8::g",
		"10.0.0.0\n",
		"1111111111111111111111111111111111111111111111111111111.1.1.1",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mx_addr_range_t range;
		memset(&range, 0x5a, sizeof(range));
		if (mx_addr_range_parse(&range, bad[i])) {
			fail_msg("accepted: \"%s\"", bad[i]);
		}
		// A rejected text leaves the output alone.
		assert_int_equal(range.family, 0x5a);
	}

	mx_addr_range_t range;
	assert_false(mx_addr_range_parse(&range, NULL));
	assert_false(mx_addr_range_parse(NULL, "10.0.0.0/8"));
}

static void test_range_prefix(void **state)
{
	mx_addr_range_t range;
	mx_addr_t a = test_addr("172.20.30.40");

	assert_true(mx_addr_range_prefix(&range, &a, 12));
	assert_int_equal(range.family, AF_INET);
	mx_addr_t lo = test_addr("172.16.0.0");
	mx_addr_t hi = test_addr("172.31.255.255");
	assert_memory_equal(range.min, lo.bytes, 4);
	assert_memory_equal(range.max, hi.bytes, 4);

	assert_true(mx_addr_range_prefix(&range, &a, 0));
	assert_true(mx_addr_range_prefix(&range, &a, 32));
	assert_memory_equal(range.min, a.bytes, 4);
	assert_memory_equal(range.max, a.bytes, 4);
	assert_false(mx_addr_range_prefix(&range, &a, 33));

	a = test_addr("2001:db8::1");
	assert_true(mx_addr_range_prefix(&range, &a, 128));
	assert_true(mx_addr_range_prefix(&range, &a, 127));
	lo = test_addr("2001:db8::");
	assert_memory_equal(range.min, lo.bytes, 16);
	assert_memory_equal(range.max, a.bytes, 16);
	assert_false(mx_addr_range_prefix(&range, &a, 129));

	memset(&a, 0, sizeof(a));
	assert_false(mx_addr_range_prefix(&range, &a, 0));
	a.family = 255;
	assert_false(mx_addr_range_prefix(&range, &a, 8));
}

/*! Checks a range against addresses inside and outside it. */
static void check_match(const char *range_text, const char *const *inside,
                        const char *const *outside)
{
	mx_addr_range_t range;
	assert_true(mx_addr_range_parse(&range, range_text));

	for (const char *const *p = inside; *p != NULL; p++) {
		mx_addr_t a = test_addr(*p);
		if (!mx_addr_range_match(&range, &a)) {
			fail_msg("%s not in %s", *p, range_text);
		}
	}
	for (const char *const *p = outside; *p != NULL; p++) {
		mx_addr_t a = test_addr(*p);
		if (mx_addr_range_match(&range, &a)) {
			fail_msg("%s in %s", *p, range_text);
		}
	}
}

static void test_match_v4(void **state)
{
	check_match("10.0.0.0/8",
	            (const char *[]){ "10.0.0.0", "10.255.255.255", "10.1.2.3", NULL },
	            (const char *[]){ "9.255.255.255", "11.0.0.0", "0.0.0.0",
	                              "255.255.255.255", "::ffff:10.0.0.1",
	                              "a00::", NULL });
	check_match("192.0.2.1-192.0.2.9",
	            (const char *[]){ "192.0.2.1", "192.0.2.9", "192.0.2.5", NULL },
	            (const char *[]){ "192.0.2.0", "192.0.2.10", "192.0.1.5", NULL });
	check_match("192.0.2.1",
	            (const char *[]){ "192.0.2.1", NULL },
	            (const char *[]){ "192.0.2.0", "192.0.2.2", NULL });
	check_match("0.0.0.0/0",
	            (const char *[]){ "0.0.0.0", "255.255.255.255", NULL },
	            (const char *[]){ "::", NULL });
}

static void test_match_v6(void **state)
{
	check_match("2001:db8::/32",
	            (const char *[]){ "2001:db8::",
	                              "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
	                              "2001:db8:1::1", NULL },
	            (const char *[]){ "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
	                              "2001:db9::", "32.1.13.184", NULL });
	check_match("::1",
	            (const char *[]){ "::1", NULL },
	            (const char *[]){ "::", "::2", "0.0.0.1", NULL });
	check_match("fe80::1-fe80::ffff",
	            (const char *[]){ "fe80::1", "fe80::ffff", "fe80::80", NULL },
	            (const char *[]){ "fe80::", "fe80::1:0", NULL });
}

static void test_match_bad_input(void **state)
{
	mx_addr_range_t range;
	assert_true(mx_addr_range_parse(&range, "0.0.0.0/0"));
	mx_addr_t a;
	memset(&a, 0, sizeof(a));

	// Family 0 matches nothing, not even a range of family 0.
	assert_false(mx_addr_range_match(&range, &a));
	memset(&range, 0, sizeof(range));
	assert_false(mx_addr_range_match(&range, &a));

	assert_false(mx_addr_range_match(NULL, &a));
	assert_false(mx_addr_range_match(&range, NULL));
}

static void test_in_ranges(void **state)
{
	mx_addr_range_t ranges[3];
	assert_true(mx_addr_range_parse(&ranges[0], "10.0.0.0/8"));
	assert_true(mx_addr_range_parse(&ranges[1], "2001:db8::/32"));
	assert_true(mx_addr_range_parse(&ranges[2], "192.0.2.1-192.0.2.9"));

	mx_addr_t a = test_addr("10.9.8.7");
	assert_true(mx_addr_in_ranges(ranges, 3, &a));
	assert_false(mx_addr_in_ranges(ranges, 0, &a));
	a = test_addr("2001:db8::53");
	assert_true(mx_addr_in_ranges(ranges, 3, &a));
	assert_false(mx_addr_in_ranges(ranges, 1, &a));
	a = test_addr("192.0.2.9");
	assert_true(mx_addr_in_ranges(ranges, 3, &a));
	assert_false(mx_addr_in_ranges(ranges, 2, &a));
	a = test_addr("192.0.2.10");
	assert_false(mx_addr_in_ranges(ranges, 3, &a));
	a = test_addr("8.8.8.8");
	assert_false(mx_addr_in_ranges(ranges, 3, &a));
	assert_false(mx_addr_in_ranges(NULL, 0, &a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_len),
		cmocka_unit_test(test_from_rdata_v4),
		cmocka_unit_test(test_from_rdata_v6),
		cmocka_unit_test(test_from_rdata_bad_len),
		cmocka_unit_test(test_to_str),
		cmocka_unit_test(test_to_str_failure),
		cmocka_unit_test(test_parse_single),
		cmocka_unit_test(test_parse_prefix),
		cmocka_unit_test(test_parse_prefix_host_bits),
		cmocka_unit_test(test_parse_span),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_range_prefix),
		cmocka_unit_test(test_match_v4),
		cmocka_unit_test(test_match_v6),
		cmocka_unit_test(test_match_bad_input),
		cmocka_unit_test(test_in_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
