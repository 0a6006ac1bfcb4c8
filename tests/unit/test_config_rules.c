/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libknot/errcode.h>
#include <libknot/yparser/yparser.h>
#include <libknot/yparser/ypschema.h>

#include "config_rules.h"
#include "reasons.h"
#include "test_helpers.h"

// The section's schema as the checker builds it.
static const yp_item_t items[] = {
	{ MX_CONF_ID, YP_TSTR, YP_VNONE },
	MX_CONF_ITEMS(NULL),
	{ NULL }
};
static const yp_item_t policy_items[] = {
	{ MX_CONF_ID, YP_TSTR, YP_VNONE },
	{ NULL }
};
static const yp_item_t schema_src[] = {
	{ MX_CONF_POLICY_SECTION, YP_TGRP, YP_VGRP = { policy_items }, YP_FMULTI },
	{ MX_CONF_SECTION_YP, YP_TGRP, YP_VGRP = { items }, YP_FMULTI },
	{ NULL }
};

// yparser's verdict on one item of a section.
static int parse_item(const char *key, const char *value)
{
	char text[512];
	snprintf(text, sizeof(text), MX_CONF_SECTION ":\n  - id: a\n    %s: %s\n", key, value);
	yp_item_t *schema = NULL;
	assert_int_equal(yp_schema_copy(&schema, schema_src), KNOT_EOK);
	yp_check_ctx_t *ctx = yp_schema_check_init(&schema);
	assert_non_null(ctx);
	yp_parser_t yp;
	yp_init(&yp);
	assert_int_equal(yp_set_input_string(&yp, text, strlen(text)), KNOT_EOK);
	int ret;
	while ((ret = yp_parse(&yp)) == KNOT_EOK) {
		ret = yp_schema_check_parser(ctx, &yp);
		if (ret != KNOT_EOK) {
			break;
		}
	}
	yp_deinit(&yp);
	yp_schema_check_deinit(ctx);
	yp_schema_free(schema);
	return ret == KNOT_EOF ? KNOT_EOK : ret;
}

static void schema_ranges(void **state)
{
	assert_int_equal(parse_item("log-interval", "0"), KNOT_EOK);
	assert_int_equal(parse_item("log-interval", "4294967295"), KNOT_EOK);
	assert_int_equal(parse_item("log-interval", "1h"), KNOT_EOK);
	assert_int_equal(parse_item("log-interval", "-1"), KNOT_ERANGE);
	assert_int_equal(parse_item("log-interval", "4294967296"), KNOT_ERANGE);
	assert_int_equal(parse_item("log-table-size", "1"), KNOT_EOK);
	assert_int_equal(parse_item("log-table-size", "10000000"), KNOT_EOK);
	assert_int_equal(parse_item("log-table-size", "0"), KNOT_ERANGE);
	assert_int_equal(parse_item("log-table-size", "10000001"), KNOT_ERANGE);
	assert_int_equal(parse_item("null-mx-ttl", "2147483647"), KNOT_EOK);
	assert_int_equal(parse_item("null-mx-ttl", "2147483648"), KNOT_ERANGE);
	assert_int_equal(parse_item("null-mx-ttl", "4294967296"), KNOT_ERANGE);
}

static void schema_words(void **state)
{
	assert_int_equal(parse_item("loopback", "strip"), KNOT_EOK);
	assert_int_equal(parse_item("ip-literal", "null-mx"), KNOT_EOK);
	assert_int_not_equal(parse_item("loopback", "block"), KNOT_EOK);
	assert_int_equal(parse_item("dnssec-unsigned", "allow"), KNOT_EOK);
	assert_int_not_equal(parse_item("dnssec-unsigned", "maybe"), KNOT_EOK);
	assert_int_equal(parse_item("null-mx-implicit", "on"), KNOT_EOK);
	assert_int_not_equal(parse_item("null-mx-implicit", "maybe"), KNOT_EOK);
	assert_int_equal(parse_item("allow-address", "10.0.0.0/8"), KNOT_EOK);
	assert_int_not_equal(parse_item("allow-address", "10.0.0.0/33"), KNOT_EOK);
	// Not items: the typo, and the kind that has none.
	assert_int_equal(parse_item("loopbak", "log"), KNOT_YP_EINVAL_ITEM);
	assert_int_equal(parse_item("null-mx-override", "strip"), KNOT_YP_EINVAL_ITEM);
}

static void kind_items(void **state)
{
	for (unsigned k = 0; k < MX_KIND_COUNT; k++) {
		if (k == MX_KIND_NULL_MX_OVERRIDE) {
			assert_null(mx_conf_kind_items[k]);
			continue;
		}
		// The item is named as the kind.
		const yp_name_t *name = mx_conf_kind_items[k];
		assert_non_null(name);
		assert_int_equal(name[0], strlen(mx_kind_name(k)));
		assert_memory_equal(name + 1, mx_kind_name(k), name[0]);
	}
}

// The rows' properties, as code asks for them.
static void rows(void **state)
{
	for (unsigned k = 0; k < MX_KIND_COUNT; k++) {
		assert_true(strlen(mx_kind_name(k)) > 0);
		for (unsigned j = 0; j < k; j++) {
			assert_string_not_equal(mx_kind_name(k), mx_kind_name(j));
		}
		// The kinds whose records may carry mail take only off and log.
		assert_int_equal(mx_kind_log_only(k),
		                 k == MX_KIND_SELF_EXCHANGE || k == MX_KIND_PROVIDER_MIX ||
		                 k == MX_KIND_CNAME_EXCHANGE || k == MX_KIND_NO_MAIL_POLICY);
		// One policy checking only this kind needs lookups as its row says.
		mx_policy_t policy;
		mx_policy_init(&policy, MX_ACTION_OFF);
		policy.action[k] = MX_ACTION_LOG;
		assert_int_equal(mx_policy_needs_lookups(&policy),
		                 mx_kind_is(k, MX_KIND_F_NEEDS_LOOKUPS));
	}
	assert_true(mx_kind_is(MX_KIND_MISSING_ADDRESS, MX_KIND_F_EXACT_WITH_LOOKUPS));
	assert_false(mx_kind_is(MX_KIND_IP_LITERAL, MX_KIND_F_NEEDS_LOOKUPS));
	// Only strip and null-mx change an answer; actions are weakest first.
	for (unsigned a = 0; a < MX_ACTION_COUNT; a++) {
		assert_int_equal(mx_action_rewrites(a), a == MX_ACTION_STRIP || a == MX_ACTION_NULL_MX);
	}
	assert_string_equal(mx_action_name(MX_ACTION_NULL_MX), "null-mx");
	assert_true(MX_ACTION_OFF < MX_ACTION_LOG && MX_ACTION_LOG < MX_ACTION_STRIP &&
	            MX_ACTION_STRIP < MX_ACTION_NULL_MX);
	// Reasons: a word each, none shared; none for "done".
	assert_null(mx_reason_name(MX_REASON_NONE));
	for (unsigned r = MX_REASON_NONE + 1; r < MX_REASON_COUNT; r++) {
		assert_non_null(mx_reason_name(r));
		for (unsigned j = MX_REASON_NONE + 1; j < r; j++) {
			assert_string_not_equal(mx_reason_name(r), mx_reason_name(j));
		}
	}
	assert_string_equal(mx_reason_name(MX_REASON_OUT_OF_MEMORY), "out-of-memory");
}

static void actions(void **state)
{
	char err[256];
	for (unsigned k = 0; k < MX_KIND_COUNT; k++) {
		for (unsigned a = 0; a < MX_ACTION_COUNT; a++) {
			bool ok = k != MX_KIND_NULL_MX_OVERRIDE &&
			          ((k != MX_KIND_PROVIDER_MIX && k != MX_KIND_CNAME_EXCHANGE &&
			            k != MX_KIND_SELF_EXCHANGE && k != MX_KIND_NO_MAIL_POLICY) ||
			           a <= MX_ACTION_LOG);
			assert_int_equal(mx_conf_kind_accepts(k, a), ok);
			assert_int_equal(mx_conf_check_action(k, a, err, sizeof(err)),
			                 ok ? KNOT_EOK : KNOT_EINVAL);
		}
	}
	mx_conf_check_action(MX_KIND_PROVIDER_MIX, MX_ACTION_STRIP, err, sizeof(err));
	assert_string_equal(err, "invalid provider-mix 'strip', it takes only 'off' or 'log'");
	mx_conf_check_action(MX_KIND_PROVIDER_MIX, MX_ACTION_NULL_MX, err, sizeof(err));
	assert_string_equal(err, "invalid provider-mix 'null-mx', it takes only 'off' or 'log'");
	mx_conf_check_action(MX_KIND_CNAME_EXCHANGE, MX_ACTION_STRIP, err, sizeof(err));
	assert_string_equal(err, "invalid cname-exchange 'strip', it takes only 'off' or "
	                    "'log' (mail to a CNAME exchange is delivered)");
	mx_conf_check_action(MX_KIND_SELF_EXCHANGE, MX_ACTION_NULL_MX, err, sizeof(err));
	assert_string_equal(err, "invalid self-exchange 'null-mx', it takes only 'off' or "
	                    "'log' (the domain's own host may receive its mail)");
}

static void dmarc_values(void **state)
{
	char err[512] = "";
	assert_int_equal(mx_conf_check_dmarc(MX_CONF_NO_MAIL_DMARC_DEF, err, sizeof(err)),
	                 KNOT_EOK);
	assert_int_equal(mx_conf_check_dmarc("v=DMARC1;p=reject", err, sizeof(err)), KNOT_EOK);
	assert_int_equal(mx_conf_check_dmarc("v=DMARC1; p=reject; rua=mailto:d@example.net",
	                                     err, sizeof(err)), KNOT_EOK);
	const char *bad[] = { "v=DMARC1; p=none", "v=DMARC1; sp=reject; p=reject",
	                      "p=reject", "v=DMARC1 p=reject", "v=DMARC1; p=rejected",
	                      "v=DMARC1;\tp=reject", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(mx_conf_check_dmarc(bad[i], err, sizeof(err)), KNOT_EINVAL);
	}
	mx_conf_check_dmarc("v=DMARC1; p=none", err, sizeof(err));
	assert_string_equal(err, "invalid no-mail-dmarc 'v=DMARC1; p=none', it must start "
	                    "with 'v=DMARC1;' and 'p=reject' as the first tag");
	char longer[300];
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	memcpy(longer, "v=DMARC1; p=reject; ", 20);
	assert_int_equal(mx_conf_check_dmarc(longer, err, sizeof(err)), KNOT_EINVAL);
}

static void allow_ranges(void **state)
{
	char err[256] = "";
	mx_addr_range_t range;
	assert_int_equal(mx_conf_parse_allow(&range, "10.0.0.1-10.0.0.9", err, sizeof(err)),
	                 KNOT_EOK);
	assert_int_equal(range.min[3], 1);
	assert_int_equal(range.max[3], 9);
	assert_int_equal(mx_conf_parse_allow(&range, "10.0.0.5-10.0.0.5", err, sizeof(err)),
	                 KNOT_EOK);
	assert_int_equal(mx_conf_parse_allow(&range, "192.168.0.0/16", err, sizeof(err)),
	                 KNOT_EOK);
	assert_int_equal(mx_conf_parse_allow(&range, "10.0.0.9-10.0.0.1", err, sizeof(err)),
	                 KNOT_EINVAL);
	assert_string_equal(err, "invalid allow-address '10.0.0.9-10.0.0.1', the first "
	                         "address must not be above the second");
	assert_int_equal(mx_conf_parse_allow(&range, "2001:db8::ff-2001:db8::1", err,
	                                     sizeof(err)), KNOT_EINVAL);
	assert_string_equal(err, "invalid allow-address '2001:db8::ff-2001:db8::1', the "
	                         "first address must not be above the second");
	assert_int_equal(mx_conf_parse_allow(&range, "10.0.0.1-2001:db8::1", err,
	                                     sizeof(err)), KNOT_EINVAL);
	assert_non_null(strstr(err, "one family"));
	assert_int_equal(mx_conf_parse_allow(&range, "banana", err, sizeof(err)), KNOT_EINVAL);
	assert_string_equal(err, "invalid allow-address 'banana', expected ADDR, "
	                         "ADDR/PREFIX or ADDR-ADDR");

	// The module's form: the two ends as knotd gives them.
	mx_addr_t a = { .family = AF_INET, .bytes = { 10, 0, 0, 9 } };
	mx_addr_t b = { .family = AF_INET, .bytes = { 10, 0, 0, 1 } };
	assert_int_equal(mx_conf_check_allow(&b, &a, err, sizeof(err)), KNOT_EOK);
	assert_int_equal(mx_conf_check_allow(&a, &b, err, sizeof(err)), KNOT_EINVAL);
	assert_string_equal(err, "invalid allow-address '10.0.0.9-10.0.0.1', the first "
	                         "address must not be above the second");
}

static void no_mail(void **state)
{
	char err[1024] = "";
	char path[] = "/tmp/test_config_rules.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("good.test\n# comment\nbad..test\n", f);
	fclose(f);

	mx_name_list_t *list = mx_name_list_new();
	const char *names[] = { "a.test", "*.b.test" };
	assert_int_equal(mx_conf_load_no_mail(list, names, 2, NULL, err, sizeof(err)),
	                 KNOT_EOK);
	assert_int_equal(mx_name_list_count(list), 2);

	const char *bad[] = { "a..b" };
	assert_int_equal(mx_conf_load_no_mail(list, bad, 1, NULL, err, sizeof(err)),
	                 KNOT_EINVAL);
	assert_string_equal(err, "invalid null-mx 'a..b' (empty label)");

	// The line of the list file is named.
	assert_int_equal(mx_conf_load_no_mail(list, NULL, 0, path, err, sizeof(err)),
	                 KNOT_EINVAL);
	char want[512];
	snprintf(want, sizeof(want), "invalid null-mx-file, %s:3: invalid name "
	         "'bad..test': empty label", path);
	assert_string_equal(err, want);
	unlink(path);

	assert_int_equal(mx_conf_load_no_mail(list, NULL, 0, path, err, sizeof(err)),
	                 KNOT_EFILE);
	snprintf(want, sizeof(want), "invalid null-mx-file, %s: No such file or directory",
	         path);
	assert_string_equal(err, want);
	assert_int_equal(mx_conf_load_no_mail(list, NULL, 0, "", err, sizeof(err)),
	                 KNOT_EFILE);
	assert_non_null(strstr(err, "null-mx-file ''"));
	mx_name_list_free(list);
}

static void scope(void **state)
{
	char err[256] = "";
	mx_policy_t policy;
	mx_policy_init(&policy, MX_ACTION_LOG);
	policy.action[MX_KIND_NULL_MX_OVERRIDE] = MX_ACTION_OFF;
	assert_false(mx_conf_rewrites(&policy, false, false));
	assert_true(mx_conf_rewrites(&policy, true, false));
	assert_true(mx_conf_rewrites(&policy, false, true));
	policy.action[MX_KIND_LOOPBACK] = MX_ACTION_STRIP;
	assert_true(mx_conf_rewrites(&policy, false, false));

	assert_int_equal(mx_conf_check_scope(false, true, err, sizeof(err)), KNOT_EOK);
	assert_int_equal(mx_conf_check_scope(true, false, err, sizeof(err)), KNOT_EOK);
	assert_int_equal(mx_conf_check_scope(true, true, err, sizeof(err)), KNOT_ENOTSUP);
	assert_string_equal(err, MX_CONF_GLOBAL_REWRITE_MSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(schema_ranges),
		cmocka_unit_test(schema_words),
		cmocka_unit_test(kind_items),
		cmocka_unit_test(rows),
		cmocka_unit_test(dmarc_values),
		cmocka_unit_test(actions),
		cmocka_unit_test(allow_ranges),
		cmocka_unit_test(no_mail),
		cmocka_unit_test(scope),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
