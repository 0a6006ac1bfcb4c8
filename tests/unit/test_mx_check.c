/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <strings.h>

#include "mx_check.h"
#include "test_helpers.h"

#define MAX_FOUND 512

typedef struct {
	mx_violation_t v[MAX_FOUND];
	char exchange[MAX_FOUND][KNOT_DNAME_TXT_MAXLEN + 1];
	unsigned count;
} found_t;

static void collect(const mx_violation_t *v, void *ctx)
{
	found_t *f = ctx;
	assert_true(f->count < MAX_FOUND);
	f->v[f->count] = *v;
	knot_dname_to_str(f->exchange[f->count], v->exchange, KNOT_DNAME_TXT_MAXLEN + 1);
	f->count++;
}

typedef struct {
	knot_dname_t *zone;
	knot_dname_t *owner;
	knot_rdataset_t rrs;
	mx_glue_t glue[16];
	knot_dname_t *glue_names[16];
	size_t glue_count;
	bool glue_complete;
	mx_policy_t policy;
	found_t found;
} fixture_t;

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	f->zone = test_name("example.test.");
	f->owner = test_name("mail.example.test.");
	f->glue_complete = true;
	mx_policy_init(&f->policy, MX_ACTION_LOG);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	knot_rdataset_clear(&f->rrs, NULL);
	for (size_t i = 0; i < f->glue_count; i++) {
		free(f->glue_names[i]);
	}
	free(f->zone);
	free(f->owner);
	free(f);
	return 0;
}

static void glue(fixture_t *f, const char *owner, const char *addr)
{
	f->glue_names[f->glue_count] = test_name(owner);
	f->glue[f->glue_count].owner = f->glue_names[f->glue_count];
	f->glue[f->glue_count].addr = test_addr(addr);
	f->glue_count++;
}

static unsigned run(fixture_t *f)
{
	mx_rrset_view_t view = {
		.zone = f->zone,
		.owner = f->owner,
		.rrs = &f->rrs,
		.glue = f->glue,
		.glue_count = f->glue_count,
		.glue_complete = f->glue_complete,
	};
	memset(&f->found, 0, sizeof(f->found));
	unsigned n = mx_check_rrset(&view, &f->policy, collect, &f->found);
	assert_int_equal(n, f->found.count);
	return n;
}

static void expect(fixture_t *f, unsigned i, mx_kind_t kind, const char *exchange,
                   uint16_t pref, const char *addr)
{
	assert_true(i < f->found.count);
	const mx_violation_t *v = &f->found.v[i];
	assert_string_equal(mx_kind_name(v->kind), mx_kind_name(kind));
	assert_string_equal(f->found.exchange[i], exchange);
	assert_int_equal(v->preference, pref);
	if (addr == NULL) {
		assert_false(v->has_addr);
	} else {
		assert_true(v->has_addr);
		char text[MX_ADDR_STRLEN];
		assert_string_equal(mx_addr_to_str(&v->addr, text, sizeof(text)), addr);
	}
}

static void test_clean(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "mx1.example.test.");
	test_add_mx(&f->rrs, 20, "mx.elsewhere.example.");
	glue(f, "mx1.example.test.", "93.184.215.14");
	glue(f, "mx1.example.test.", "2606:2800:21f:cb07::1");
	assert_int_equal(run(f), 0);
}

static void test_ip_literal_with_special_address(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "192.0.2.1.");
	assert_int_equal(run(f), 2);
	expect(f, 0, MX_KIND_IP_LITERAL, "192.0.2.1.", 10, "192.0.2.1");
	expect(f, 1, MX_KIND_SPECIAL_ADDRESS, "192.0.2.1.", 10, "192.0.2.1");
}

static void test_ip_literal_global_address(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "8.8.8.8.");
	assert_int_equal(run(f), 1);
	expect(f, 0, MX_KIND_IP_LITERAL, "8.8.8.8.", 10, "8.8.8.8");
}

static void test_ip_literal_loopback(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 5, "127.0.0.1.");
	assert_int_equal(run(f), 2);
	expect(f, 0, MX_KIND_IP_LITERAL, "127.0.0.1.", 5, "127.0.0.1");
	expect(f, 1, MX_KIND_LOOPBACK, "127.0.0.1.", 5, "127.0.0.1");
}

static void test_odd_numeric_names(void **state)
{
	fixture_t *f = *state;
	// Ambiguous literals: reported, but with no address guessed.
	const char *names[] = { "010.1.1.1.", "256.1.1.1.", "1.2.3.", "1.2.3.4.5." };
	for (uint16_t i = 0; i < 4; i++) {
		test_add_mx(&f->rrs, 10 + i, names[i]);
	}
	assert_int_equal(run(f), 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(f->found.v[i].kind, MX_KIND_IP_LITERAL);
		assert_false(f->found.v[i].has_addr);
	}
}

static void test_localhost_names(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "localhost.");
	test_add_mx(&f->rrs, 20, "LOCALHOST.");
	test_add_mx(&f->rrs, 30, "mx.localhost.");
	test_add_mx(&f->rrs, 40, "localhost.example.com.");
	assert_int_equal(run(f), 3);
	expect(f, 0, MX_KIND_LOOPBACK, "localhost.", 10, NULL);
	expect(f, 1, MX_KIND_LOOPBACK, "LOCALHOST.", 20, NULL);
	expect(f, 2, MX_KIND_LOOPBACK, "mx.localhost.", 30, NULL);
}

static void test_loopback_glue(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "mx-lo.example.test.");
	glue(f, "mx-lo.example.test.", "93.184.215.14");
	glue(f, "MX-LO.example.test.", "::1");
	assert_int_equal(run(f), 1);
	expect(f, 0, MX_KIND_LOOPBACK, "mx-lo.example.test.", 10, "::1");
}

static void test_mapped_loopback_glue(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "mx.example.test.");
	glue(f, "mx.example.test.", "::ffff:127.0.0.2");
	assert_int_equal(run(f), 1);
	expect(f, 0, MX_KIND_LOOPBACK, "mx.example.test.", 10, "::ffff:127.0.0.2");
}

static void test_special_glue_and_allow(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "a.example.test.");
	test_add_mx(&f->rrs, 20, "b.example.test.");
	glue(f, "a.example.test.", "10.1.2.3");
	glue(f, "b.example.test.", "192.168.1.25");
	glue(f, "b.example.test.", "fd00::25");
	assert_int_equal(run(f), 2);
	expect(f, 0, MX_KIND_SPECIAL_ADDRESS, "a.example.test.", 10, "10.1.2.3");
	expect(f, 1, MX_KIND_SPECIAL_ADDRESS, "b.example.test.", 20, "192.168.1.25");

	// An allowed range exempts its addresses: b's next special one is reported.
	mx_addr_range_t allow;
	assert_true(mx_addr_range_parse(&allow, "192.168.1.0/24"));
	f->policy.allow = &allow;
	f->policy.allow_count = 1;
	assert_int_equal(run(f), 2);
	expect(f, 1, MX_KIND_SPECIAL_ADDRESS, "b.example.test.", 20, "fd00::25");
}

static void test_allow_does_not_cover_loopback(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "a.example.test.");
	glue(f, "a.example.test.", "127.0.0.1");
	mx_addr_range_t allow;
	assert_true(mx_addr_range_parse(&allow, "127.0.0.0/8"));
	f->policy.allow = &allow;
	f->policy.allow_count = 1;
	assert_int_equal(run(f), 1);
	expect(f, 0, MX_KIND_LOOPBACK, "a.example.test.", 10, "127.0.0.1");
}

static void test_missing_address(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "mx-none.example.test.");
	test_add_mx(&f->rrs, 20, "mx-ok.example.test.");
	test_add_mx(&f->rrs, 30, "mx.elsewhere.example.");  // another zone: unknown
	test_add_mx(&f->rrs, 40, "example.test.");          // the apex is in the zone
	glue(f, "mx-ok.example.test.", "93.184.215.14");
	assert_int_equal(run(f), 2);
	expect(f, 0, MX_KIND_MISSING_ADDRESS, "mx-none.example.test.", 10, NULL);
	expect(f, 1, MX_KIND_MISSING_ADDRESS, "example.test.", 40, NULL);

	// Glue cut for size proves nothing.
	f->glue_complete = false;
	assert_int_equal(run(f), 0);
}

static void test_null_mx(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 0, ".");
	assert_int_equal(run(f), 0);

	test_add_mx(&f->rrs, 10, "mx1.example.test.");
	glue(f, "mx1.example.test.", "93.184.215.14");
	assert_int_equal(run(f), 1);
	expect(f, 0, MX_KIND_NULL_MX_CONFLICT, ".", 0, NULL);
}

static void test_null_mx_nonzero_preference(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, ".");
	assert_int_equal(run(f), 1);
	expect(f, 0, MX_KIND_NULL_MX_CONFLICT, ".", 10, NULL);
}

static void test_self_exchange(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "MAIL.example.test.");
	glue(f, "mail.example.test.", "93.184.215.14");
	assert_int_equal(run(f), 1);
	expect(f, 0, MX_KIND_SELF_EXCHANGE, "MAIL.example.test.", 10, NULL);
}

static void test_provider_mix(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 1, "aspmx.l.google.com.");
	test_add_mx(&f->rrs, 5, "alt1.aspmx.l.google.com.");
	test_add_mx(&f->rrs, 20, "mx.elsewhere.example.");
	assert_int_equal(run(f), 0);

	test_add_mx(&f->rrs, 10, "example-test.mail.protection.outlook.com.");
	assert_int_equal(run(f), 3);
	expect(f, 0, MX_KIND_PROVIDER_MIX, "aspmx.l.google.com.", 1, NULL);
	assert_string_equal(f->found.v[0].provider, "google");
	expect(f, 1, MX_KIND_PROVIDER_MIX, "alt1.aspmx.l.google.com.", 5, NULL);
	expect(f, 2, MX_KIND_PROVIDER_MIX, "example-test.mail.protection.outlook.com.", 10, NULL);
	assert_string_equal(f->found.v[2].provider, "microsoft365");
}

static void test_action_off_skips_kind(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "127.0.0.1.");
	test_add_mx(&f->rrs, 20, "mx-none.example.test.");
	f->policy.action[MX_KIND_IP_LITERAL] = MX_ACTION_OFF;
	f->policy.action[MX_KIND_MISSING_ADDRESS] = MX_ACTION_OFF;
	assert_int_equal(run(f), 1);
	expect(f, 0, MX_KIND_LOOPBACK, "127.0.0.1.", 10, "127.0.0.1");

	mx_policy_init(&f->policy, MX_ACTION_OFF);
	assert_int_equal(run(f), 0);
}

static void test_odd_labels(void **state)
{
	fixture_t *f = *state;
	// Escaped dots and binary octets are label content, not structure.
	test_add_mx(&f->rrs, 10, "192\\.0\\.2\\.1.");  // one label: still a literal
	test_add_mx(&f->rrs, 20, "mx\\000\\255.example.test.");
	glue(f, "mx\\000\\255.example.test.", "93.184.215.14");
	test_add_mx(&f->rrs, 30, "localhost\\.example.");  // label "localhost.example"
	assert_int_equal(run(f), 2);
	expect(f, 0, MX_KIND_IP_LITERAL, "192\\.0\\.2\\.1.", 10, "192.0.2.1");
	expect(f, 1, MX_KIND_SPECIAL_ADDRESS, "192\\.0\\.2\\.1.", 10, "192.0.2.1");
}

static void test_longest_names(void **state)
{
	fixture_t *f = *state;
	// 255 octets: 4 labels of 63 and the root. Numeric: an ambiguous literal.
	char numeric[256] = "", alpha[256] = "";
	for (int i = 0; i < 4; i++) {
		char label[64];
		memset(label, '1', 62);
		label[62] = '\0';
		strcat(numeric, label);
		strcat(numeric, ".");
		memset(label, 'a', 62);
		strcat(alpha, label);
		strcat(alpha, ".");
	}
	test_add_mx(&f->rrs, 10, numeric);
	test_add_mx(&f->rrs, 20, alpha);
	assert_int_equal(run(f), 1);
	assert_int_equal(f->found.v[0].kind, MX_KIND_IP_LITERAL);
	assert_false(f->found.v[0].has_addr);
}

static void test_root_owner_and_zone(void **state)
{
	fixture_t *f = *state;
	free(f->zone);
	free(f->owner);
	f->zone = test_name(".");
	f->owner = test_name(".");
	test_add_mx(&f->rrs, 10, "mx.example.");
	assert_int_equal(run(f), 1);
	expect(f, 0, MX_KIND_MISSING_ADDRESS, "mx.example.", 10, NULL);
}

static void test_hundred_records(void **state)
{
	fixture_t *f = *state;
	for (uint16_t i = 0; i < 100; i++) {
		char name[64];
		snprintf(name, sizeof(name), "mx%u.localhost.", i);
		test_add_mx(&f->rrs, i, name);
	}
	assert_int_equal(f->rrs.count, 100);
	assert_int_equal(run(f), 100);
	for (unsigned i = 0; i < 100; i++) {
		assert_int_equal(f->found.v[i].kind, MX_KIND_LOOPBACK);
		assert_int_equal(f->found.v[i].rr_index, i);
		assert_int_equal(f->found.v[i].preference, i);
	}
}

static void test_no_callback(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "localhost.");
	mx_rrset_view_t view = { .zone = f->zone, .owner = f->owner, .rrs = &f->rrs };
	assert_int_equal(mx_check_rrset(&view, &f->policy, NULL, NULL), 1);
}

// An exact lookup over a small table, as a whole zone would answer.
typedef struct {
	const char *name;
	mx_target_state_t state;
	const char *addrs[2];
} lookup_entry_t;

static const lookup_entry_t lookup_table[] = {
	{ "good.example.test.",  MX_TARGET_FOUND, { "93.184.215.14", "2606:2800:21f:cb07::1" } },
	{ "noaddr.example.test.", MX_TARGET_FOUND, { NULL } },
	{ "alias.example.test.", MX_TARGET_CNAME, { NULL } },
	{ "lo.other.test.",      MX_TARGET_FOUND, { "93.184.215.14", "127.0.0.1" } },
	{ "priv.other.test.",    MX_TARGET_FOUND, { "172.16.0.25" } },
	{ NULL }
};

static void table_lookup(const knot_dname_t *exchange, mx_target_t *target, void *ctx)
{
	static __thread mx_addr_t addrs[2];
	char text[KNOT_DNAME_TXT_MAXLEN + 1];
	knot_dname_to_str(text, exchange, sizeof(text));
	unsigned *calls = ctx;
	(*calls)++;
	for (const lookup_entry_t *e = lookup_table; e->name != NULL; e++) {
		if (strcasecmp(e->name, text) != 0) {
			continue;
		}
		target->state = e->state;
		target->addrs = addrs;
		target->addr_count = 0;
		for (int i = 0; i < 2 && e->addrs[i] != NULL; i++) {
			addrs[target->addr_count++] = test_addr(e->addrs[i]);
		}
		return;
	}
}

static unsigned run_lookup(fixture_t *f, unsigned *calls)
{
	mx_rrset_view_t view = {
		.zone = f->zone,
		.owner = f->owner,
		.rrs = &f->rrs,
		.lookup = table_lookup,
		.lookup_ctx = calls,
	};
	memset(&f->found, 0, sizeof(f->found));
	return mx_check_rrset(&view, &f->policy, collect, &f->found);
}

static void test_lookup_exact_verdicts(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "good.example.test.");
	test_add_mx(&f->rrs, 20, "noaddr.example.test.");
	test_add_mx(&f->rrs, 30, "alias.example.test.");
	test_add_mx(&f->rrs, 40, "lo.other.test.");
	test_add_mx(&f->rrs, 50, "priv.other.test.");
	test_add_mx(&f->rrs, 60, "unknown.example.test.");  // e.g. below a delegation
	test_add_mx(&f->rrs, 70, "192.0.2.1.");             // literals are not looked up
	// Glue is ignored when a lookup is given.
	glue(f, "good.example.test.", "127.0.0.1");

	unsigned calls = 0;
	assert_int_equal(run_lookup(f, &calls), 6);
	assert_int_equal(calls, 6);
	expect(f, 0, MX_KIND_MISSING_ADDRESS, "noaddr.example.test.", 20, NULL);
	expect(f, 1, MX_KIND_CNAME_EXCHANGE, "alias.example.test.", 30, NULL);
	expect(f, 2, MX_KIND_LOOPBACK, "lo.other.test.", 40, "127.0.0.1");
	expect(f, 3, MX_KIND_SPECIAL_ADDRESS, "priv.other.test.", 50, "172.16.0.25");
	expect(f, 4, MX_KIND_IP_LITERAL, "192.0.2.1.", 70, "192.0.2.1");
	expect(f, 5, MX_KIND_SPECIAL_ADDRESS, "192.0.2.1.", 70, "192.0.2.1");

	f->policy.action[MX_KIND_CNAME_EXCHANGE] = MX_ACTION_OFF;
	assert_int_equal(run_lookup(f, &calls), 5);
}

static void test_glue_never_reports_cname(void **state)
{
	fixture_t *f = *state;
	// From glue alone a CNAME exchange looks like one without addresses.
	test_add_mx(&f->rrs, 10, "alias.example.test.");
	assert_int_equal(run(f), 1);
	expect(f, 0, MX_KIND_MISSING_ADDRESS, "alias.example.test.", 10, NULL);
}

// Empty MX rdata (as a parsed RFC 2136 deletion carries it) is skipped, not
// read past; the other records are judged as usual (found by fuzzing).
static void test_empty_rdata_skipped(void **state)
{
	fixture_t *f = *state;
	knot_rdata_t empty = { .len = 0 };
	assert_int_equal(knot_rdataset_add(&f->rrs, &empty, NULL), KNOT_EOK);
	test_add_mx(&f->rrs, 10, "localhost.");
	test_add_mx(&f->rrs, 20, "aspmx.l.google.com.");
	test_add_mx(&f->rrs, 30, "example-test.mail.protection.outlook.com.");
	assert_int_equal(f->rrs.count, 4);
	assert_int_equal(run(f), 3);
	expect(f, 0, MX_KIND_LOOPBACK, "localhost.", 10, NULL);
	assert_int_equal(f->found.v[0].rr_index, 1);
	assert_int_equal(f->found.v[1].kind, MX_KIND_PROVIDER_MIX);
	assert_int_equal(f->found.v[2].kind, MX_KIND_PROVIDER_MIX);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_clean),
		T(test_ip_literal_with_special_address),
		T(test_ip_literal_global_address),
		T(test_ip_literal_loopback),
		T(test_odd_numeric_names),
		T(test_localhost_names),
		T(test_loopback_glue),
		T(test_mapped_loopback_glue),
		T(test_special_glue_and_allow),
		T(test_allow_does_not_cover_loopback),
		T(test_missing_address),
		T(test_null_mx),
		T(test_null_mx_nonzero_preference),
		T(test_self_exchange),
		T(test_provider_mix),
		T(test_action_off_skips_kind),
		T(test_odd_labels),
		T(test_longest_names),
		T(test_root_owner_and_zone),
		T(test_hundred_records),
		T(test_no_callback),
		T(test_lookup_exact_verdicts),
		T(test_glue_never_reports_cname),
		T(test_empty_rdata_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
