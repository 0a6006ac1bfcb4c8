/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "special_address.h"
#include "test_helpers.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*! One registry entry, written out independently of the table under test. */
typedef struct {
	const char *prefix;     /*!< The entry as "ADDR/LEN". */
	mx_addr_class_t cls;    /*!< Its class. */
	const char *inside;     /*!< An address judged by the entry... */
	const char *judged_by;  /*!< ...or by this one (NULL: by the entry). */
	const char *below;      /*!< Just below the entry, global (or NULL). */
	const char *above;      /*!< Just above the entry, global (or NULL). */
} entry_case_t;

#define S MX_ADDR_SPECIAL
#define L MX_ADDR_LOOPBACK

// IANA's IPv4 and IPv6 Special-Purpose Address Registries, plus multicast.
static entry_case_t entry_cases[] = {
	{ "0.0.0.0/8",          S, "0.1.2.3",         NULL, NULL,              "1.0.0.0" },
	{ "0.0.0.0/32",         S, "0.0.0.0",         NULL, NULL,              NULL },
	{ "10.0.0.0/8",         S, "10.1.2.3",        NULL, "9.255.255.255",   "11.0.0.0" },
	{ "100.64.0.0/10",      S, "100.100.100.100", NULL, "100.63.255.255",  "100.128.0.0" },
	{ "127.0.0.0/8",        L, "127.0.0.1",       NULL, "126.255.255.255", "128.0.0.0" },
	{ "169.254.0.0/16",     S, "169.254.169.254", NULL, "169.253.255.255", "169.255.0.0" },
	{ "172.16.0.0/12",      S, "172.20.1.1",      NULL, "172.15.255.255",  "172.32.0.0" },
	{ "192.0.0.0/24",       S, "192.0.0.100",     NULL, "191.255.255.255", "192.0.1.0" },
	{ "192.0.0.0/29",       S, "192.0.0.5",       NULL, NULL,              NULL },
	{ "192.0.0.8/32",       S, "192.0.0.8",       NULL, NULL,              NULL },
	{ "192.0.0.9/32",       S, "192.0.0.9",       NULL, NULL,              NULL },
	{ "192.0.0.10/32",      S, "192.0.0.10",      NULL, NULL,              NULL },
	{ "192.0.0.170/32",     S, "192.0.0.170",     NULL, NULL,              NULL },
	{ "192.0.0.171/32",     S, "192.0.0.171",     NULL, NULL,              NULL },
	{ "192.0.2.0/24",       S, "192.0.2.1",       NULL, "192.0.1.255",     "192.0.3.0" },
	{ "192.31.196.0/24",    S, "192.31.196.1",    NULL, "192.31.195.255",  "192.31.197.0" },
	{ "192.52.193.0/24",    S, "192.52.193.1",    NULL, "192.52.192.255",  "192.52.194.0" },
	{ "192.88.99.0/24",     S, "192.88.99.1",     NULL, "192.88.98.255",   "192.88.100.0" },
	{ "192.88.99.2/32",     S, "192.88.99.2",     NULL, NULL,              NULL },
	{ "192.168.0.0/16",     S, "192.168.1.1",     NULL, "192.167.255.255", "192.169.0.0" },
	{ "192.175.48.0/24",    S, "192.175.48.6",    NULL, "192.175.47.255",  "192.175.49.0" },
	{ "198.18.0.0/15",      S, "198.19.1.1",      NULL, "198.17.255.255",  "198.20.0.0" },
	{ "198.51.100.0/24",    S, "198.51.100.7",    NULL, "198.51.99.255",   "198.51.101.0" },
	{ "203.0.113.0/24",     S, "203.0.113.7",     NULL, "203.0.112.255",   "203.0.114.0" },
	{ "224.0.0.0/4",        S, "224.0.0.1",       NULL, "223.255.255.255", NULL },
	{ "240.0.0.0/4",        S, "250.1.2.3",       NULL, NULL,              NULL },
	{ "255.255.255.255/32", S, "255.255.255.255", NULL, NULL,              NULL },

	{ "::1/128",            L, "::1",             NULL, NULL, NULL },
	{ "::/128",             S, "::",              NULL, NULL, NULL },
	{ "::ffff:0:0/96",      S, "::ffff:192.168.1.1", "192.168.0.0/16",
	  "::fffe:ffff:ffff", "::1:0:0:0" },
	{ "64:ff9b::/96",       S, "64:ff9b::808:808", NULL,
	  "64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", "64:ff9b::1:0:0" },
	{ "64:ff9b:1::/48",     S, "64:ff9b:1::1",    NULL,
	  "64:ff9b:0:ffff:ffff:ffff:ffff:ffff", "64:ff9b:2::" },
	{ "100::/64",           S, "100::1",          NULL,
	  "ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL },
	{ "100:0:0:1::/64",     S, "100:0:0:1::1",    NULL, NULL, "100:0:0:2::" },
	{ "2001::/23",          S, "2001:1::4",       NULL,
	  "2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2001:200::" },
	{ "2001::/32",          S, "2001:0:4136:e378:8000:63bf:3fff:fdd2", NULL, NULL, NULL },
	{ "2001:1::1/128",      S, "2001:1::1",       NULL, NULL, NULL },
	{ "2001:1::2/128",      S, "2001:1::2",       NULL, NULL, NULL },
	{ "2001:1::3/128",      S, "2001:1::3",       NULL, NULL, NULL },
	{ "2001:2::/48",        S, "2001:2::1",       NULL, NULL, NULL },
	{ "2001:3::/32",        S, "2001:3::1",       NULL, NULL, NULL },
	{ "2001:4:112::/48",    S, "2001:4:112::1",   NULL, NULL, NULL },
	{ "2001:10::/28",       S, "2001:10::1",      NULL, NULL, NULL },
	{ "2001:20::/28",       S, "2001:2f::1",      NULL, NULL, NULL },
	{ "2001:30::/28",       S, "2001:30::1",      NULL, NULL, NULL },
	{ "2001:db8::/32",      S, "2001:db8::1",     NULL,
	  "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::" },
	{ "2002::/16",          S, "2002:c000:204::1", NULL,
	  "2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2003::" },
	{ "2620:4f:8000::/48",  S, "2620:4f:8000::42", NULL,
	  "2620:4f:7fff:ffff:ffff:ffff:ffff:ffff", "2620:4f:8001::" },
	{ "3fff::/20",          S, "3fff:fff::1",     NULL,
	  "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "3fff:1000::" },
	{ "5f00::/16",          S, "5f00::1",         NULL,
	  "5eff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "5f01::" },
	{ "fc00::/7",           S, "fd12:3456::1",    NULL,
	  "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe00::" },
	{ "fe80::/10",          S, "fe80::1",         NULL,
	  "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fec0::" },
	{ "ff00::/8",           S, "ff02::1",         NULL,
	  "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL },
};

#undef S
#undef L


/*! Finds the table entry written as "ADDR/LEN"; fails the test if none. */
static const mx_special_range_t *find_entry(const char *prefix)
{
	const char *slash = strchr(prefix, '/');
	if (slash == NULL) {
		fail_msg("bad prefix in test: %s", prefix);
	}
	char text[INET6_ADDRSTRLEN];
	snprintf(text, sizeof(text), "%.*s", (int)(slash - prefix), prefix);
	mx_addr_t a = test_addr(text);
	unsigned long len = strtoul(slash + 1, NULL, 10);

	for (size_t i = 0; i < mx_special_range_count; i++) {
		const mx_special_range_t *e = &mx_special_ranges[i];
		if (e->family == a.family && e->prefix_len == len &&
		    memcmp(e->prefix, a.bytes, sizeof(e->prefix)) == 0) {
			return e;
		}
	}
	fail_msg("no table entry for %s", prefix);
	return NULL;
}

/*! Classifies an address given as text. */
static mx_addr_class_t classify(const char *text,
                                const mx_special_range_t **range)
{
	mx_addr_t a = test_addr(text);
	return mx_addr_classify(&a, range);
}

/*! Checks that an address is global. */
static void check_global(const char *text)
{
	const mx_special_range_t *range = (const void *)1;
	mx_addr_class_t cls = classify(text, &range);
	if (cls != MX_ADDR_GLOBAL || range != NULL) {
		fail_msg("%s: class %d, entry %s", text, cls,
		         range != NULL ? range->name : "none");
	}
}

/*! Checks that an address is judged by the entry written as \a prefix. */
static void check_judged_by(const char *text, const char *prefix,
                            mx_addr_class_t expected)
{
	const mx_special_range_t *want = find_entry(prefix);
	const mx_special_range_t *range = NULL;
	mx_addr_class_t cls = classify(text, &range);
	if (cls != expected || range != want) {
		fail_msg("%s: class %d, entry %s; expected class %d, entry %s",
		         text, cls, range != NULL ? range->name : "none",
		         expected, prefix);
	}
}

/*! The ends of a table entry as addresses. */
static void entry_ends(const mx_special_range_t *e, mx_addr_t *first,
                       mx_addr_t *last)
{
	mx_addr_t base;
	memset(&base, 0, sizeof(base));
	base.family = e->family;
	memcpy(base.bytes, e->prefix, sizeof(base.bytes));

	mx_addr_range_t range;
	assert_true(mx_addr_range_prefix(&range, &base, e->prefix_len));
	memset(first, 0, sizeof(*first));
	memset(last, 0, sizeof(*last));
	first->family = last->family = e->family;
	memcpy(first->bytes, range.min, sizeof(first->bytes));
	memcpy(last->bytes, range.max, sizeof(last->bytes));
}

/*! One registry entry: an address inside it and its outer boundaries. */
static void test_entry(void **state)
{
	const entry_case_t *c = *state;
	const mx_special_range_t *e = find_entry(c->prefix);

	assert_int_equal(e->cls, c->cls);
	if (c->judged_by != NULL) {
		check_judged_by(c->inside, c->judged_by,
		                find_entry(c->judged_by)->cls);
	} else {
		check_judged_by(c->inside, c->prefix, c->cls);
	}
	if (c->below != NULL) {
		check_global(c->below);
	}
	if (c->above != NULL) {
		check_global(c->above);
	}
}

static void test_table_well_formed(void **state)
{
	for (size_t i = 0; i < mx_special_range_count; i++) {
		const mx_special_range_t *e = &mx_special_ranges[i];
		size_t len = mx_addr_len(e->family);
		assert_int_not_equal(len, 0);
		assert_in_range(e->prefix_len, 1, len * 8);
		assert_non_null(e->name);
		assert_non_null(e->reference);
		assert_true(strlen(e->name) > 0);
		assert_true(strncmp(e->reference, "RFC ", 4) == 0);
		assert_true(e->cls == MX_ADDR_SPECIAL || e->cls == MX_ADDR_LOOPBACK);

		// No host bits, and nothing past the family's length.
		mx_addr_t first, last;
		entry_ends(e, &first, &last);
		if (memcmp(first.bytes, e->prefix, sizeof(e->prefix)) != 0) {
			fail_msg("host bits set in entry %zu (%s)", i, e->name);
		}

		// No entry twice.
		for (size_t j = 0; j < i; j++) {
			const mx_special_range_t *o = &mx_special_ranges[j];
			if (o->family == e->family && o->prefix_len == e->prefix_len &&
			    memcmp(o->prefix, e->prefix, sizeof(e->prefix)) == 0) {
				fail_msg("entries %zu and %zu are the same", j, i);
			}
		}
	}

	// Only the two loopback blocks are loopback.
	size_t loopbacks = 0;
	for (size_t i = 0; i < mx_special_range_count; i++) {
		loopbacks += mx_special_ranges[i].cls == MX_ADDR_LOOPBACK;
	}
	assert_int_equal(loopbacks, 2);
	assert_int_equal(find_entry("127.0.0.0/8")->cls, MX_ADDR_LOOPBACK);
	assert_int_equal(find_entry("::1/128")->cls, MX_ADDR_LOOPBACK);
}

static void test_table_complete(void **state)
{
	// Every case is in the table and, as the table has no duplicates,
	// the table holds nothing else.
	for (size_t i = 0; i < ARRAY_SIZE(entry_cases); i++) {
		(void)find_entry(entry_cases[i].prefix);
	}
	assert_int_equal(mx_special_range_count, ARRAY_SIZE(entry_cases));
}

static void test_table_names(void **state)
{
	assert_string_equal(find_entry("192.0.2.0/24")->name,
	                    "Documentation (TEST-NET-1)");
	assert_string_equal(find_entry("192.0.2.0/24")->reference, "RFC 5737");
	assert_string_equal(find_entry("10.0.0.0/8")->name, "Private-Use");
	assert_string_equal(find_entry("3fff::/20")->reference, "RFC 9637");
	assert_string_equal(find_entry("5f00::/16")->reference, "RFC 9602");
	assert_string_equal(find_entry("100:0:0:1::/64")->reference, "RFC 9780");
	assert_string_equal(find_entry("2001:1::3/128")->reference, "RFC 9665");
}

static void test_table_ends(void **state)
{
	const mx_special_range_t *mapped = find_entry("::ffff:0:0/96");

	for (size_t i = 0; i < mx_special_range_count; i++) {
		const mx_special_range_t *e = &mx_special_ranges[i];
		mx_addr_t ends[2];
		entry_ends(e, &ends[0], &ends[1]);

		for (size_t j = 0; j < 2; j++) {
			const mx_special_range_t *range = NULL;
			mx_addr_class_t cls = mx_addr_classify(&ends[j], &range);
			char buf[MX_ADDR_STRLEN];
			mx_addr_to_str(&ends[j], buf, sizeof(buf));
			if (cls == MX_ADDR_GLOBAL || range == NULL) {
				fail_msg("%s (end of %s) is global", buf, e->name);
			}
			assert_int_equal(cls, range->cls);
			if (e == mapped) {
				// Judged by 0.0.0.0 and 255.255.255.255.
				assert_int_equal(range->family, AF_INET);
				continue;
			}
			// This entry or a more specific one inside it.
			if (range->family != e->family ||
			    range->prefix_len < e->prefix_len) {
				fail_msg("%s (end of %s) judged by %s", buf,
				         e->name, range->name);
			}
		}
	}
}

static void test_boundaries_global(void **state)
{
	static const char *outside[] = {
		"1.0.0.0", "9.255.255.255", "11.0.0.0",
		"100.63.255.255", "100.128.0.0",
		"126.255.255.255", "128.0.0.0",
		"169.253.255.255", "169.255.0.0",
		"172.15.255.255", "172.32.0.0",
		"191.255.255.255", "192.0.1.0", "192.0.1.255", "192.0.3.0",
		"192.167.255.255", "192.169.0.0",
		"198.17.255.255", "198.20.0.0",
		"223.255.255.255",
		"fbff:ffff::", "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"fe00::", "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"fec0::", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"2001:200::", "2001:db9::", "2003::",
	};

	for (size_t i = 0; i < ARRAY_SIZE(outside); i++) {
		check_global(outside[i]);
	}
}

// Addresses that share their first octet or first 16 bits with an entry:
// the prefilter on those bits must send them on to the table, which decides.
static void test_prefilter_neighbours(void **state)
{
	static const char *outside[] = {
		"2606:2800:220:1::1",  // first octet of 2620:4f:8000::/48
		"2620:4f:7fff::1", "2620:4f:8001::1",  // first 16 bits too
		"2001:4860:4860::8888", "192.1.0.1", "203.0.112.1", "198.51.101.1",
	};
	for (size_t i = 0; i < ARRAY_SIZE(outside); i++) {
		check_global(outside[i]);
	}
	check_judged_by("2620:4f:8000::1", "2620:4f:8000::/48", MX_ADDR_SPECIAL);
	check_judged_by("203.0.113.1", "203.0.113.0/24", MX_ADDR_SPECIAL);
	check_judged_by("fdff::1", "fc00::/7", MX_ADDR_SPECIAL);
	check_judged_by("255.0.0.1", "240.0.0.0/4", MX_ADDR_SPECIAL);
}

static void test_boundaries_inside(void **state)
{
	check_judged_by("10.0.0.0", "10.0.0.0/8", MX_ADDR_SPECIAL);
	check_judged_by("10.255.255.255", "10.0.0.0/8", MX_ADDR_SPECIAL);
	check_judged_by("100.64.0.0", "100.64.0.0/10", MX_ADDR_SPECIAL);
	check_judged_by("100.127.255.255", "100.64.0.0/10", MX_ADDR_SPECIAL);
	check_judged_by("172.16.0.0", "172.16.0.0/12", MX_ADDR_SPECIAL);
	check_judged_by("172.31.255.255", "172.16.0.0/12", MX_ADDR_SPECIAL);
	check_judged_by("198.18.0.0", "198.18.0.0/15", MX_ADDR_SPECIAL);
	check_judged_by("198.19.255.255", "198.18.0.0/15", MX_ADDR_SPECIAL);
	check_judged_by("fc00::", "fc00::/7", MX_ADDR_SPECIAL);
	check_judged_by("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fc00::/7",
	                MX_ADDR_SPECIAL);
	check_judged_by("fe80::", "fe80::/10", MX_ADDR_SPECIAL);
	check_judged_by("febf::", "fe80::/10", MX_ADDR_SPECIAL);
	check_judged_by("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::/10",
	                MX_ADDR_SPECIAL);
	check_judged_by("ff00::", "ff00::/8", MX_ADDR_SPECIAL);
	check_judged_by("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ff00::/8",
	                MX_ADDR_SPECIAL);
	check_judged_by("239.255.255.255", "224.0.0.0/4", MX_ADDR_SPECIAL);
	check_judged_by("240.0.0.0", "240.0.0.0/4", MX_ADDR_SPECIAL);
	check_judged_by("255.255.255.254", "240.0.0.0/4", MX_ADDR_SPECIAL);
}

static void test_most_specific(void **state)
{
	// Nested entries: the longest prefix judges.
	check_judged_by("192.0.0.0", "192.0.0.0/29", MX_ADDR_SPECIAL);
	check_judged_by("192.0.0.7", "192.0.0.0/29", MX_ADDR_SPECIAL);
	check_judged_by("192.0.0.8", "192.0.0.8/32", MX_ADDR_SPECIAL);
	check_judged_by("192.0.0.11", "192.0.0.0/24", MX_ADDR_SPECIAL);
	check_judged_by("192.0.0.169", "192.0.0.0/24", MX_ADDR_SPECIAL);
	check_judged_by("192.0.0.172", "192.0.0.0/24", MX_ADDR_SPECIAL);
	check_judged_by("192.0.0.255", "192.0.0.0/24", MX_ADDR_SPECIAL);
	check_judged_by("192.88.99.2", "192.88.99.2/32", MX_ADDR_SPECIAL);
	check_judged_by("192.88.99.3", "192.88.99.0/24", MX_ADDR_SPECIAL);
	check_judged_by("0.0.0.0", "0.0.0.0/32", MX_ADDR_SPECIAL);
	check_judged_by("0.0.0.1", "0.0.0.0/8", MX_ADDR_SPECIAL);
	check_judged_by("255.255.255.255", "255.255.255.255/32", MX_ADDR_SPECIAL);
	check_judged_by("2001::", "2001::/32", MX_ADDR_SPECIAL);
	check_judged_by("2001:0:ffff:ffff:ffff:ffff:ffff:ffff", "2001::/32",
	                MX_ADDR_SPECIAL);
	check_judged_by("2001:1::", "2001::/23", MX_ADDR_SPECIAL);
	check_judged_by("2001:1::1", "2001:1::1/128", MX_ADDR_SPECIAL);
	check_judged_by("2001:1::4", "2001::/23", MX_ADDR_SPECIAL);
	check_judged_by("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", "2001::/23",
	                MX_ADDR_SPECIAL);
	check_judged_by("2001:2:0:ffff::1", "2001:2::/48", MX_ADDR_SPECIAL);
	check_judged_by("2001:2:1::", "2001::/23", MX_ADDR_SPECIAL);
	check_judged_by("2001:4:113::", "2001::/23", MX_ADDR_SPECIAL);
	check_judged_by("2001:1f::", "2001:10::/28", MX_ADDR_SPECIAL);
	check_judged_by("2001:40::", "2001::/23", MX_ADDR_SPECIAL);
	check_judged_by("100::ffff:ffff:ffff:ffff", "100::/64", MX_ADDR_SPECIAL);
	check_judged_by("100:0:0:1::", "100:0:0:1::/64", MX_ADDR_SPECIAL);
}

static void test_global_controls(void **state)
{
	check_global("8.8.8.8");
	check_global("1.1.1.1");
	check_global("193.0.6.139");
	check_global("2a00:1450::1");
	check_global("2a00:1450:4001:82a::200e");
	// 2001:4860:: lies outside 2001::/23.
	check_global("2001:4860:4860::8888");
	check_global("2606:4700::1111");
}

static void test_loopback(void **state)
{
	check_judged_by("::1", "::1/128", MX_ADDR_LOOPBACK);
	check_judged_by("127.0.0.0", "127.0.0.0/8", MX_ADDR_LOOPBACK);
	check_judged_by("127.0.0.1", "127.0.0.0/8", MX_ADDR_LOOPBACK);
	check_judged_by("127.255.255.255", "127.0.0.0/8", MX_ADDR_LOOPBACK);
}

static void test_unspecified(void **state)
{
	check_judged_by("::", "::/128", MX_ADDR_SPECIAL);
	check_judged_by("0.0.0.0", "0.0.0.0/32", MX_ADDR_SPECIAL);
}

static void test_mapped_loopback(void **state)
{
	check_judged_by("::ffff:127.0.0.1", "127.0.0.0/8", MX_ADDR_LOOPBACK);
	check_judged_by("::ffff:127.255.255.255", "127.0.0.0/8", MX_ADDR_LOOPBACK);
}

static void test_mapped_special(void **state)
{
	check_judged_by("::ffff:192.168.1.1", "192.168.0.0/16", MX_ADDR_SPECIAL);
	check_judged_by("::ffff:10.1.1.1", "10.0.0.0/8", MX_ADDR_SPECIAL);
	check_judged_by("::ffff:192.0.0.9", "192.0.0.9/32", MX_ADDR_SPECIAL);
	check_judged_by("::ffff:0.0.0.0", "0.0.0.0/32", MX_ADDR_SPECIAL);
	check_judged_by("::ffff:255.255.255.255", "255.255.255.255/32",
	                MX_ADDR_SPECIAL);
}

static void test_mapped_global(void **state)
{
	check_global("::ffff:8.8.8.8");
	check_global("::ffff:1.1.1.1");
	check_global("::ffff:9.255.255.255");

	// The mapped entry itself never judges an address.
	const mx_special_range_t *mapped = find_entry("::ffff:0:0/96");
	for (unsigned i = 0; i < 256; i++) {
		char text[MX_ADDR_STRLEN];
		snprintf(text, sizeof(text), "::ffff:%u.%u.%u.%u", i, i ^ 0x5a,
		         255 - i, i);
		const mx_special_range_t *range = NULL;
		(void)classify(text, &range);
		assert_ptr_not_equal(range, mapped);
	}
}

static void test_no_range_output(void **state)
{
	mx_addr_t a = test_addr("127.0.0.1");
	assert_int_equal(mx_addr_classify(&a, NULL), MX_ADDR_LOOPBACK);
	a = test_addr("10.0.0.1");
	assert_int_equal(mx_addr_classify(&a, NULL), MX_ADDR_SPECIAL);
	a = test_addr("8.8.8.8");
	assert_int_equal(mx_addr_classify(&a, NULL), MX_ADDR_GLOBAL);
}

static void test_unknown_family(void **state)
{
	const mx_special_range_t *range = (const void *)1;
	mx_addr_t a;
	memset(&a, 0, sizeof(a));
	assert_int_equal(mx_addr_classify(&a, &range), MX_ADDR_GLOBAL);
	assert_null(range);

	// Loopback bytes under an unknown family are still not loopback.
	a.family = 255;
	a.bytes[0] = 127;
	a.bytes[3] = 1;
	range = (const void *)1;
	assert_int_equal(mx_addr_classify(&a, &range), MX_ADDR_GLOBAL);
	assert_null(range);

	range = (const void *)1;
	assert_int_equal(mx_addr_classify(NULL, &range), MX_ADDR_GLOBAL);
	assert_null(range);
}

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(test_table_well_formed),
	cmocka_unit_test(test_prefilter_neighbours),
	cmocka_unit_test(test_table_complete),
	cmocka_unit_test(test_table_names),
	cmocka_unit_test(test_table_ends),
	cmocka_unit_test(test_boundaries_global),
	cmocka_unit_test(test_boundaries_inside),
	cmocka_unit_test(test_most_specific),
	cmocka_unit_test(test_global_controls),
	cmocka_unit_test(test_loopback),
	cmocka_unit_test(test_unspecified),
	cmocka_unit_test(test_mapped_loopback),
	cmocka_unit_test(test_mapped_special),
	cmocka_unit_test(test_mapped_global),
	cmocka_unit_test(test_no_range_output),
	cmocka_unit_test(test_unknown_family),
};

int main(void)
{
	// The fixed tests, then one test per registry entry, named after it.
	struct CMUnitTest tests[ARRAY_SIZE(fixed_tests) + ARRAY_SIZE(entry_cases)];
	memcpy(tests, fixed_tests, sizeof(fixed_tests));
	for (size_t i = 0; i < ARRAY_SIZE(entry_cases); i++) {
		struct CMUnitTest *t = &tests[ARRAY_SIZE(fixed_tests) + i];
		memset(t, 0, sizeof(*t));
		t->name = entry_cases[i].prefix;
		t->test_func = test_entry;
		t->initial_state = &entry_cases[i];
	}

	return cmocka_run_group_tests_name("special_address", tests, NULL, NULL);
}
