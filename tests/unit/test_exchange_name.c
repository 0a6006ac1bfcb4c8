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
#include <libknot/dname.h>
#include <libknot/consts.h>

#include "exchange_name.h"

/*! \brief Checks mx_exchange_ip_literal() on a wire name. */
static void check_wire(const char *what, const knot_dname_t *name, bool expected,
                       int family, const char *addr_text)
{
	// Garbage first: the function must clear what it does not set.
	mx_addr_t addr;
	memset(&addr, 0xa5, sizeof(addr));

	bool got = mx_exchange_ip_literal(name, &addr);
	if (got != expected) {
		fail_msg("%s: expected %s, got %s", what,
		         expected ? "true" : "false", got ? "true" : "false");
	}
	if (mx_exchange_ip_literal(name, NULL) != expected) {
		fail_msg("%s: differs without an address output", what);
	}

	mx_addr_t want;
	memset(&want, 0, sizeof(want));
	if (family != 0) {
		want.family = (uint8_t)family;
		if (inet_pton(family, addr_text, want.bytes) != 1) {
			fail_msg("%s: bad expected address %s", what, addr_text);
		}
	}
	if (memcmp(&addr, &want, sizeof(addr)) != 0) {
		fail_msg("%s: address is family %u, expected %d %s", what,
		         addr.family, family, family != 0 ? addr_text : "(cleared)");
	}
}

/*! \brief Checks mx_exchange_ip_literal() on a presentation name. */
static void check(const char *text, bool expected, int family, const char *addr_text)
{
	uint8_t buf[KNOT_DNAME_MAXLEN];
	if (knot_dname_from_str(buf, text, sizeof(buf)) == NULL) {
		fail_msg("cannot parse name %s", text);
	}
	check_wire(text, buf, expected, family, addr_text);
}

static void check_false(const char *text)
{
	check(text, false, 0, NULL);
}

static void check_ambiguous(const char *text)
{
	check(text, true, 0, NULL);
}

static void test_dotted_quad(void **state)
{
	check("192.0.2.1.", true, AF_INET, "192.0.2.1");
	check("0.0.0.0.", true, AF_INET, "0.0.0.0");
	check("255.255.255.255.", true, AF_INET, "255.255.255.255");
	check("10.0.0.1.", true, AF_INET, "10.0.0.1");
}

static void test_escaped_dots(void **state)
{
	// One label holding the whole quad: still the same text once joined.
	uint8_t buf[KNOT_DNAME_MAXLEN];
	assert_non_null(knot_dname_from_str(buf, "192\\.0\\.2\\.1.", sizeof(buf)));
	assert_int_equal(knot_dname_labels(buf, NULL), 1);
	check_wire("192\\.0\\.2\\.1.", buf, true, AF_INET, "192.0.2.1");

	check("192\\.0.2\\.1.", true, AF_INET, "192.0.2.1");
	check("192.0.2.\\0491.", true, AF_INET, "192.0.2.11");  // \049 is '1'
}

static void test_bracket_literal(void **state)
{
	check("[192.0.2.1].", true, AF_INET, "192.0.2.1");
	check("[IPv6:2001:db8::1].", true, AF_INET6, "2001:db8::1");
	check("[ipv6:2001:DB8::1].", true, AF_INET6, "2001:db8::1");
	check("[IPV6:::ffff:192.0.2.1].", true, AF_INET6, "::ffff:192.0.2.1");

	uint8_t buf[KNOT_DNAME_MAXLEN];
	assert_non_null(knot_dname_from_str(buf, "\\[192\\.0\\.2\\.1\\].", sizeof(buf)));
	assert_int_equal(knot_dname_labels(buf, NULL), 1);
	check_wire("\\[192\\.0\\.2\\.1\\].", buf, true, AF_INET, "192.0.2.1");

	// An address literal whatever is inside, but no address from garbage.
	check_ambiguous("[not-an-address].");
	check_ambiguous("[].");
	check_ambiguous("[IPv6:].");
	check_ambiguous("[IPv6:192.0.2.1].");
	check_ambiguous("[2001:db8::1].");
	check_ambiguous("[010.1.1.1].");
	check_ambiguous("[256.1.1.1].");
	check_ambiguous("[1.2.3].");

	// Not closed: no literal, so the numeric last label decides.
	check_ambiguous("[192.0.2.1.");
	check_false("[mx.example.");

	// Brackets not at both ends: an odd host name, not a literal.
	check_false("[192.0.2.1].example.");
	check_false("mx.[192.0.2.1].example.");
}

static void test_ipv6(void **state)
{
	check("2001:db8::1.", true, AF_INET6, "2001:db8::1");
	check("::1.", true, AF_INET6, "::1");
	check("::.", true, AF_INET6, "::");
	check("::ffff:127.0.0.1.", true, AF_INET6, "::ffff:127.0.0.1");
	check("2001:DB8:0:0:0:0:0:1.", true, AF_INET6, "2001:db8::1");

	check_false("dead:beef.");
	check_false("2001:db8::1.example.");
	check_false("2001:db8:::1.");
}

static void test_numeric_top_label(void **state)
{
	check_ambiguous("010.1.1.1.");
	check_ambiguous("192.0.2.01.");
	check_ambiguous("256.1.1.1.");
	check_ambiguous("1.2.3.");
	check_ambiguous("1.2.3.4.5.");
	check_ambiguous("4.");
	check_ambiguous("0.");
	check_ambiguous("1234.1.1.1.");
	check_ambiguous("+1.2.3.4.");
	check_ambiguous("example.123.");
	check_ambiguous("0x7f.0.0.1.");
}

static void test_binary_labels(void **state)
{
	// Not printable: the joined text is no address, yet the last label is.
	check_ambiguous("1\\000.2.3.4.");
	check_ambiguous("\\032192.0.2.1.");

	// A binary octet in the last label makes it non-numeric.
	check_false("1.2.3.4\\000.");
	check_false("192.0.2.1\\032.");
}

static void test_not_literal(void **state)
{
	check_false("mx1.example.com.");
	check_false("1.2.3.4.example.com.");
	check_false("123.example.");
	check_false("localhost.");
	check_false("LOCALHOST.");
	check_false("1.2.3.4a.");
	check_false("xn--80ak6aa92e.com.");
	check_false(".");
}

/*! \brief Builds a name of \a count labels, each \a len copies of \a c. */
static size_t build_name(uint8_t *buf, size_t count, uint8_t len, uint8_t c)
{
	size_t pos = 0;
	for (size_t i = 0; i < count; i++) {
		buf[pos++] = len;
		memset(buf + pos, c, len);
		pos += len;
	}
	buf[pos++] = 0;
	return pos;
}

static void test_longest_names(void **state)
{
	uint8_t buf[KNOT_DNAME_MAXLEN];

	// 127 labels of one octet and the root: 255 octets.
	assert_int_equal(build_name(buf, 127, 1, '1'), KNOT_DNAME_MAXLEN);
	assert_int_equal(knot_dname_size(buf), KNOT_DNAME_MAXLEN);
	check_wire("127 x '1'", buf, true, 0, NULL);

	assert_int_equal(build_name(buf, 127, 1, 'a'), KNOT_DNAME_MAXLEN);
	check_wire("127 x 'a'", buf, false, 0, NULL);

	// Long labels: three of 63 octets, one of 61, the root.
	size_t len = build_name(buf, 3, 63, 'a');
	len += build_name(buf + len - 1, 1, 61, '7') - 1;
	assert_int_equal(len, KNOT_DNAME_MAXLEN);
	assert_int_equal(knot_dname_size(buf), KNOT_DNAME_MAXLEN);
	check_wire("3 x 63 'a', 61 '7'", buf, true, 0, NULL);

	buf[len - 2] = 'z';
	check_wire("3 x 63 'a', 60 '7' 'z'", buf, false, 0, NULL);

	// A long bracket literal is still a literal, with no address.
	buf[0] = 1;
	buf[1] = '[';
	buf[2] = 63;
	memset(buf + 3, 'x', 63);
	buf[66] = 1;
	buf[67] = ']';
	buf[68] = 0;
	check_wire("[.x{63}.]", buf, true, 0, NULL);
}

static void test_localhost(void **state)
{
	static const char *yes[] = {
		"localhost.", "LOCALHOST.", "LocalHost.", "a.b.localhost.",
		"mx.LOCALHOST.",
	};
	static const char *no[] = {
		".", "localhost.example.com.", "notlocalhost.", "localhostx.",
		"local.host.", "localhost\\.com.", "localhost\\000.", "com.",
		"127.0.0.1.",
	};

	uint8_t buf[KNOT_DNAME_MAXLEN];
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		assert_non_null(knot_dname_from_str(buf, yes[i], sizeof(buf)));
		if (!mx_exchange_localhost(buf)) {
			fail_msg("%s: expected localhost", yes[i]);
		}
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		assert_non_null(knot_dname_from_str(buf, no[i], sizeof(buf)));
		if (mx_exchange_localhost(buf)) {
			fail_msg("%s: expected not localhost", no[i]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dotted_quad),
		cmocka_unit_test(test_escaped_dots),
		cmocka_unit_test(test_bracket_literal),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_numeric_top_label),
		cmocka_unit_test(test_binary_labels),
		cmocka_unit_test(test_not_literal),
		cmocka_unit_test(test_longest_names),
		cmocka_unit_test(test_localhost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
