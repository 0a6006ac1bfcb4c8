/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <libknot/dname.h>
#include <libknot/consts.h>

#include "providers.h"

/*! \brief Checks the provider of a presentation name (NULL: none). */
static void check(const char *text, const char *expected)
{
	uint8_t buf[KNOT_DNAME_MAXLEN];
	if (knot_dname_from_str(buf, text, sizeof(buf)) == NULL) {
		fail_msg("cannot parse name %s", text);
	}
	const char *got = mx_provider_of(buf);
	if (got == NULL && expected == NULL) {
		return;
	}
	if (got == NULL || expected == NULL || strcmp(got, expected) != 0) {
		fail_msg("%s: expected %s, got %s", text,
		         expected ? expected : "none", got ? got : "none");
	}
}

/*! \brief Writes \a pattern as a name: '*' labels become \a star, a final dot. */
static void pattern_to_name(char *out, size_t size, const char *prefix,
                            const char *pattern, const char *star)
{
	size_t pos = (size_t)snprintf(out, size, "%s", prefix);
	for (const char *p = pattern; *p != '\0'; p++) {
		bool is_star = (*p == '*') && (p == pattern || p[-1] == '.') &&
		               (p[1] == '.' || p[1] == '\0');
		const char *piece = is_star ? star : (char[2]){ *p, '\0' };
		pos += (size_t)snprintf(out + pos, size - pos, "%s", piece);
		assert_true(pos < size);
	}
	snprintf(out + pos, size - pos, ".");
}

static void test_table_sane(void **state)
{
	assert_true(mx_provider_pattern_count > 0);
	for (size_t i = 0; i < mx_provider_pattern_count; i++) {
		const mx_provider_pattern_t *row = &mx_provider_patterns[i];
		assert_non_null(row->provider);
		assert_non_null(row->pattern);
		assert_true(row->provider[0] != '\0');
		for (const char *c = row->provider; *c != '\0'; c++) {
			if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-')) {
				fail_msg("provider '%s': not short lowercase", row->provider);
			}
		}
		// Lowercase labels, no empty label, no escapes, no final dot.
		const char *p = row->pattern;
		size_t len = strlen(p);
		if (len == 0 || p[0] == '.' || p[len - 1] == '.' || strstr(p, "..") != NULL) {
			fail_msg("pattern '%s': empty label", p);
		}
		for (const char *c = p; *c != '\0'; c++) {
			if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
			      *c == '-' || *c == '.' || *c == '*')) {
				fail_msg("pattern '%s': unexpected character", p);
			}
		}
	}
}

static void test_every_pattern(void **state)
{
	char name[KNOT_DNAME_TXT_MAXLEN + 1];
	for (size_t i = 0; i < mx_provider_pattern_count; i++) {
		const char *provider = mx_provider_patterns[i].provider;
		const char *pattern = mx_provider_patterns[i].pattern;

		// Below the pattern, and the pattern itself.
		pattern_to_name(name, sizeof(name), "mx1.", pattern, "region-1");
		check(name, provider);
		pattern_to_name(name, sizeof(name), "", pattern, "region-1");
		check(name, provider);

		// Case does not matter.
		pattern_to_name(name, sizeof(name), "MX1.", pattern, "REGION-1");
		for (char *c = name; *c != '\0'; c++) {
			if (*c >= 'a' && *c <= 'z') {
				*c = (char)(*c - 'a' + 'A');
			}
		}
		check(name, provider);

		// Glued to the first label: no label boundary, no match.
		pattern_to_name(name, sizeof(name), "x", pattern, "region-1");
		check(name, NULL);

		// The parent of the pattern is not this provider.
		const char *dot = strchr(pattern, '.');
		assert_non_null(dot);
		pattern_to_name(name, sizeof(name), "", dot + 1, "region-1");
		uint8_t buf[KNOT_DNAME_MAXLEN];
		assert_non_null(knot_dname_from_str(buf, name, sizeof(buf)));
		const char *got = mx_provider_of(buf);
		if (got != NULL && strcmp(got, provider) == 0) {
			fail_msg("%s: parent of %s matches %s", name, pattern, got);
		}
	}
}

static void test_known_exchanges(void **state)
{
	check("aspmx.l.google.com.", "google");
	check("alt1.aspmx.l.google.com.", "google");
	check("smtp.google.com.", "google");
	check("aspmx2.googlemail.com.", "google");
	check("example-com.mail.protection.outlook.com.", "microsoft365");
	check("example-com.l-v1.mx.microsoft.", "microsoft365");
	check("hotmail-com.olc.protection.outlook.com.", "outlook");
	check("mx0a-00123456.pphosted.com.", "proofpoint");
	check("mxa-00123456.gslb.pphosted.com.", "proofpoint");
	check("eu-smtp-inbound-1.mimecast.com.", "mimecast");
	check("mx.zoho.com.", "zoho");
	check("mx2.zoho.eu.", "zoho");
	check("mx.zoho.com.au.", "zoho");
	check("in1-smtp.messagingengine.com.", "fastmail");
	check("mta5.am0.yahoodns.net.", "yahoo");
	check("mx01.mail.icloud.com.", "icloud");
	check("mail.protonmail.ch.", "proton");
	check("mailsec.protonmail.ch.", "proton");
	check("mxa.mailgun.org.", "mailgun");
	check("d123456a.ess.barracudanetworks.com.", "barracuda");
	check("route1.mx.cloudflare.net.", "cloudflare");
}

static void test_case(void **state)
{
	check("ASPMX.L.GOOGLE.COM.", "google");
	check("Alt2.AspMx.L.Google.Com.", "google");
	check("MAIL.PROTONMAIL.CH.", "proton");
	check("INBOUND-SMTP.US-EAST-1.AMAZONAWS.COM.", "amazon-ses");
}

static void test_boundaries(void **state)
{
	check("google.com.", "google");
	check("notgoogle.com.", NULL);
	check("google.com.evil.example.", NULL);
	check("aspmx.l.google.com.evil.example.", NULL);
	check("google.co.", NULL);
	check("oogle.com.", NULL);

	// A '.' octet inside a label is not a label boundary.
	check("google\\.com.", NULL);
	check("aspmx\\.l.google\\.com.", NULL);
	check("mail\\.protection.outlook.com.", NULL);
	check("x.mail\\.icloud.com.", NULL);

	// Binary octets compare as they are.
	check("google\\000.com.", NULL);
	check("google.com\\000.", NULL);
	check("mx\\000.google.com.", "google");

	// Multi-label patterns need all of their labels.
	check("icloud.com.", NULL);
	check("x.icloud.com.", NULL);
	check("protection.outlook.com.", NULL);
	check("outlook.com.", NULL);
	check("microsoft.", NULL);
	check("zoho.co.", NULL);
	check("com.au.", NULL);
}

static void test_amazon_ses(void **state)
{
	check("inbound-smtp.us-east-1.amazonaws.com.", "amazon-ses");
	check("inbound-smtp.eu-west-1.amazonaws.com.", "amazon-ses");
	check("x.inbound-smtp.us-west-2.amazonaws.com.", "amazon-ses");

	check("ec2-1-2-3-4.compute-1.amazonaws.com.", NULL);
	check("inbound-smtp.amazonaws.com.", NULL);
	check("inbound-smtp.a.b.amazonaws.com.", NULL);
	check("inbound-smtp\\.us-east-1.amazonaws.com.", NULL);
	check("us-east-1.amazonaws.com.", NULL);
	check("amazonaws.com.", NULL);
	check("inbound-smtp.us-east-1.amazonaws.com.evil.", NULL);
}

static void test_nothing(void **state)
{
	check(".", NULL);
	check("com.", NULL);
	check("net.", NULL);
	check("mx1.example.com.", NULL);
	check("localhost.", NULL);
	assert_null(mx_provider_of(NULL));
}

static void test_longest_name(void **state)
{
	// 120 labels "a", one "aa", then google.com.: 240 + 3 + 12 = 255 octets.
	uint8_t buf[KNOT_DNAME_MAXLEN];
	size_t pos = 0;
	for (int i = 0; i < 120; i++) {
		buf[pos++] = 1;
		buf[pos++] = 'a';
	}
	memcpy(buf + pos, "\x02" "aa" "\x06" "google" "\x03" "com", 14);
	pos += 14;
	buf[pos++] = 0;
	assert_int_equal(pos, KNOT_DNAME_MAXLEN);
	assert_int_equal(knot_dname_size(buf), KNOT_DNAME_MAXLEN);
	assert_string_equal(mx_provider_of(buf), "google");

	buf[pos - 2] = 'x';
	assert_null(mx_provider_of(buf));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_sane),
		cmocka_unit_test(test_every_pattern),
		cmocka_unit_test(test_known_exchanges),
		cmocka_unit_test(test_case),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_amazon_ses),
		cmocka_unit_test(test_nothing),
		cmocka_unit_test(test_longest_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
