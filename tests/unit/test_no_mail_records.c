/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "no_mail_records.h"
#include "test_helpers.h"

static mx_no_mail_role_t role_of(const char *text, const char *name)
{
	knot_dname_t *q = test_name(text);
	const knot_dname_t *n = NULL;
	mx_no_mail_role_t role = mx_no_mail_role(q, &n);
	knot_dname_t *want = test_name(name);
	assert_true(knot_dname_is_equal(n, want));
	free(want);
	free(q);
	return role;
}

static void roles(void **state)
{
	assert_int_equal(role_of("parked.example.", "parked.example."), MX_NO_MAIL_NAME);
	assert_int_equal(role_of("_dmarc.parked.example.", "parked.example."), MX_NO_MAIL_DMARC);
	assert_int_equal(role_of("_domainkey.parked.example.", "parked.example."),
	                 MX_NO_MAIL_DKIM_TOP);
	assert_int_equal(role_of("s1._domainkey.parked.example.", "parked.example."),
	                 MX_NO_MAIL_DKIM_KEY);
	// Attribute leaves are never no-mail names themselves.
	assert_int_equal(role_of("_spf.parked.example.", "_spf.parked.example."),
	                 MX_NO_MAIL_NONE);
	assert_int_equal(role_of("_dmarc.", "_dmarc."), MX_NO_MAIL_NONE);
	assert_int_equal(role_of(".", "."), MX_NO_MAIL_NONE);
	assert_true(mx_dname_underscored((const uint8_t *)"\x06_dmarc\x01x"));
	assert_false(mx_dname_underscored((const uint8_t *)"\x01x\x06_dmarc"));
	// At or below an attribute leaf: a selector, a name below _dmarc.
	assert_true(mx_dname_attribute((const uint8_t *)"\x01x\x06_dmarc\x01n"));
	assert_true(mx_dname_attribute((const uint8_t *)"\x03sel\x0a_domainkey\x01n"));
	assert_false(mx_dname_attribute((const uint8_t *)"\x01x\x01n"));
	assert_false(mx_dname_attribute((const uint8_t *)""));
}

// TXT rdata of the strings given, one character-string each.
static knot_rdata_t *txt(const char *a, const char *b)
{
	uint8_t data[600];
	size_t len = mx_txt_rdata(a, data, sizeof(data));
	if (b != NULL) {
		len += mx_txt_rdata(b, data + len, sizeof(data) - len);
	}
	knot_rdata_t *rd = malloc(knot_rdata_size(len));
	knot_rdata_init(rd, len, data);
	return rd;
}

static bool spf_ok(const char *a, const char *b)
{
	knot_rdata_t *rd = txt(a, b);
	bool ok = mx_txt_kind(rd) == MX_TXT_SPF && mx_spf_denies_all(rd);
	free(rd);
	return ok;
}

static bool dmarc_ok(const char *a)
{
	knot_rdata_t *rd = txt(a, NULL);
	bool ok = mx_txt_kind(rd) == MX_TXT_DMARC && mx_dmarc_rejects(rd);
	free(rd);
	return ok;
}

// internet.nl's rules, as its checks/tasks/mail.py writes them.
static void spf_and_dmarc(void **state)
{
	assert_true(spf_ok("v=spf1 -all", NULL));
	assert_true(spf_ok("V=SPF1  -ALL", NULL));
	assert_true(spf_ok("v=spf1 exp=explain.example -all", NULL));
	assert_false(spf_ok("v=spf1 exp= -all", NULL));
	assert_true(spf_ok("v=spf1 ", "-all"));
	assert_false(spf_ok("v=spf1 ~all", NULL));
	assert_false(spf_ok("v=spf1 a -all", NULL));
	assert_false(spf_ok("v=spf1 -all include:x", NULL));
	assert_false(spf_ok("v=spf10 -all", NULL));
	assert_true(dmarc_ok("v=DMARC1; p=reject; sp=reject"));
	assert_true(dmarc_ok("v=DMARC1;p=reject"));
	assert_false(dmarc_ok("v=DMARC1;\tp=reject"));
	assert_false(dmarc_ok("v=DMARC1; p=none"));
	assert_false(dmarc_ok("v=DMARC1; sp=reject; p=reject"));
	knot_rdata_t *rd = txt("site-verification=x", NULL);
	assert_int_equal(mx_txt_kind(rd), MX_TXT_OTHER);
	free(rd);
	uint8_t out[8];
	assert_int_equal(mx_txt_rdata("too long for eight", out, sizeof(out)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roles),
		cmocka_unit_test(spf_and_dmarc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
