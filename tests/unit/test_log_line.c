/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "log_line.h"
#include "test_helpers.h"

static void check_line(const char *owner_text, mx_violation_t *v, const char *action,
                       uint32_t suppressed, const char *expected)
{
	knot_dname_t *owner = test_name(owner_text);
	char buf[4096];
	int len = mx_log_line(buf, sizeof(buf), owner, v, action, suppressed);
	assert_string_equal(buf, expected);
	assert_int_equal(len, strlen(expected));
	free(owner);
}

static void test_keys_in_order(void **state)
{
	knot_dname_t *exchange = test_name("localhost.");
	mx_violation_t v = { .kind = MX_KIND_LOOPBACK, .preference = 30, .exchange = exchange };
	check_line("example.com.", &v, "log", 0,
	           "violation loopback, owner example.com., exchange localhost., "
	           "preference 30, action log");
	free(exchange);
}

static void test_address_provider_suppressed(void **state)
{
	knot_dname_t *exchange = test_name("mx.example.com.");
	mx_violation_t v = {
		.kind = MX_KIND_SPECIAL_ADDRESS, .preference = 0, .exchange = exchange,
		.has_addr = true, .addr = test_addr("2001:db8::25"),
	};
	check_line("example.com.", &v, "log", 17,
	           "violation special-address, owner example.com., exchange mx.example.com., "
	           "preference 0, address 2001:db8::25, action log, suppressed 17");

	v.kind = MX_KIND_PROVIDER_MIX;
	v.has_addr = false;
	v.provider = "google";
	check_line("example.com.", &v, "log", 0,
	           "violation provider-mix, owner example.com., exchange mx.example.com., "
	           "preference 0, provider google, action log");
	free(exchange);
}

static void test_names_escaped_as_knotd_prints_them(void **state)
{
	knot_dname_t *exchange = test_name("a\\.b\\000\\255\\ .example.");
	mx_violation_t v = { .kind = MX_KIND_IP_LITERAL, .preference = 65535,
	                     .exchange = exchange };
	char expected[2 * KNOT_DNAME_TXT_MAXLEN];
	char text[KNOT_DNAME_TXT_MAXLEN + 1];
	knot_dname_to_str(text, exchange, sizeof(text));
	snprintf(expected, sizeof(expected), "violation ip-literal, owner ., exchange %s, "
	         "preference 65535, action log", text);
	check_line(".", &v, "log", 0, expected);
	// The escapes keep the separators of the format unambiguous.
	assert_null(strstr(text, ", "));
	assert_non_null(strstr(text, "\\."));
	free(exchange);
}

static void test_longest_names_fit(void **state)
{
	// Four 63-octet labels of \255: the longest presentation form there is.
	char text[1100] = "";
	for (int i = 0; i < 4; i++) {
		for (int j = 0; j < (i < 3 ? 63 : 61); j++) {
			strcat(text, "\\255");
		}
		strcat(text, ".");
	}
	knot_dname_t *name = test_name(text);
	mx_violation_t v = { .kind = MX_KIND_LOOPBACK, .exchange = name, .has_addr = true,
	                     .addr = test_addr("127.0.0.1") };
	char buf[2 * KNOT_DNAME_TXT_MAXLEN + 256];
	int len = mx_log_line(buf, sizeof(buf), name, &v, "log", UINT32_MAX);
	assert_true(len > 2 * 1000);
	assert_non_null(strstr(buf, ", suppressed 4294967295"));
	free(name);
}

static void test_small_buffer(void **state)
{
	knot_dname_t *exchange = test_name("localhost.");
	mx_violation_t v = { .kind = MX_KIND_LOOPBACK, .exchange = exchange };
	char buf[20];
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(mx_log_line(buf, sizeof(buf), exchange, &v, "log", 0), -1);
	assert_string_equal(buf, "");
	assert_int_equal(mx_log_line(buf, 0, exchange, &v, "log", 0), -1);
	free(exchange);
}

// One key per (zone, owner, exchange, class, kind), whatever the letter case.
static void test_log_key(void **state)
{
	knot_dname_t *zone = test_name("example.test.");
	knot_dname_t *owner = test_name("loop.example.test.");
	knot_dname_t *upper = test_name("LoOp.EXAMPLE.test.");
	knot_dname_t *exch = test_name("localhost.");
	knot_dname_t *other = test_name("mx.example.test.");
	uint64_t k = mx_log_key(7, zone, owner, exch, MX_LOG_VIOLATION, MX_KIND_LOOPBACK);
	assert_true(k == mx_log_key(7, zone, upper, exch, MX_LOG_VIOLATION, MX_KIND_LOOPBACK));
	assert_true(k != mx_log_key(8, zone, owner, exch, MX_LOG_VIOLATION, MX_KIND_LOOPBACK));
	assert_true(k != mx_log_key(7, zone, owner, other, MX_LOG_VIOLATION, MX_KIND_LOOPBACK));
	assert_true(k != mx_log_key(7, zone, owner, exch, MX_LOG_VIOLATION, MX_KIND_IP_LITERAL));
	assert_true(k != mx_log_key(7, NULL, owner, exch, MX_LOG_VIOLATION, MX_KIND_LOOPBACK));
	uint64_t synth = mx_log_key(7, zone, owner, NULL, MX_LOG_SYNTHESIZED, 0);
	assert_true(synth != mx_log_key(7, zone, owner, NULL, MX_LOG_NOT_ENFORCED, 0));
	// The kind counts only for violations.
	assert_true(synth == mx_log_key(7, zone, owner, NULL, MX_LOG_SYNTHESIZED, MX_KIND_LOOPBACK));
	free(zone);
	free(owner);
	free(upper);
	free(exch);
	free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_in_order),
		cmocka_unit_test(test_address_provider_suppressed),
		cmocka_unit_test(test_names_escaped_as_knotd_prints_them),
		cmocka_unit_test(test_longest_names_fit),
		cmocka_unit_test(test_small_buffer),
		cmocka_unit_test(test_log_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
