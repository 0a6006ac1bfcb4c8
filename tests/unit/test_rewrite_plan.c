/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rewrite_plan.h"
#include "test_helpers.h"

typedef struct {
	knot_rdataset_t rrs;
	mx_action_t record[8];
	mx_plan_t plan;
} fixture_t;

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	knot_rdataset_clear(&f->rrs, NULL);
	free(f);
	return 0;
}

static void start(fixture_t *f)
{
	mx_plan_init(&f->plan, &f->rrs, f->record);
}

static void add(fixture_t *f, mx_kind_t kind, uint16_t pos, mx_action_t action)
{
	const knot_rdata_t *rd = knot_rdataset_at(&f->rrs, pos);
	mx_violation_t v = {
		.kind = kind,
		.rr_index = pos,
		.preference = knot_wire_read_u16(rd->data),
		.exchange = knot_mx_name(rd),
	};
	mx_plan_add(&f->plan, &v, action);
}

// The exchanges the plan leaves, as "pref name" joined by spaces.
static void expect_result(fixture_t *f, const char *expected)
{
	knot_rdataset_t out;
	knot_rdataset_init(&out);
	assert_int_equal(mx_plan_build(&f->plan, &out, NULL), KNOT_EOK);
	char text[4096] = "";
	knot_rdata_t *rd = out.rdata;
	for (uint16_t i = 0; i < out.count; i++, rd = knot_rdataset_next(rd)) {
		char name[KNOT_DNAME_TXT_MAXLEN + 1];
		knot_dname_to_str(name, knot_mx_name(rd), sizeof(name));
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%u %s",
		         i > 0 ? " " : "", knot_wire_read_u16(rd->data), name);
	}
	assert_string_equal(text, expected);
	knot_rdataset_clear(&out, NULL);
}

static void test_log_changes_nothing(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "localhost.");
	test_add_mx(&f->rrs, 20, "mx.example.");
	start(f);
	assert_false(mx_plan_changes(&f->plan));
	add(f, MX_KIND_LOOPBACK, 0, MX_ACTION_LOG);
	assert_false(mx_plan_changes(&f->plan));
	assert_true(mx_plan_keeps(&f->plan, 0));
	assert_int_equal(f->plan.strongest, MX_ACTION_LOG);
	expect_result(f, "10 localhost. 20 mx.example.");
}

static void test_strip_one_of_three(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "mx1.example.");
	test_add_mx(&f->rrs, 20, "localhost.");
	test_add_mx(&f->rrs, 30, "mx2.example.");
	start(f);
	add(f, MX_KIND_LOOPBACK, 1, MX_ACTION_STRIP);
	add(f, MX_KIND_PROVIDER_MIX, 2, MX_ACTION_LOG);
	assert_true(mx_plan_changes(&f->plan));
	assert_false(mx_plan_null_mx(&f->plan));
	assert_true(mx_plan_keeps(&f->plan, 0));
	assert_false(mx_plan_keeps(&f->plan, 1));
	assert_true(mx_plan_keeps(&f->plan, 2));
	assert_false(mx_plan_keeps(&f->plan, 3));
	expect_result(f, "10 mx1.example. 30 mx2.example.");

	int32_t map[3];
	mx_plan_positions(&f->plan, map);
	assert_int_equal(map[0], 0);
	assert_int_equal(map[1], -1);
	assert_int_equal(map[2], 1);
}

static void test_strip_all_leaves_null_mx(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "localhost.");
	test_add_mx(&f->rrs, 20, "192.0.2.1.");
	start(f);
	add(f, MX_KIND_LOOPBACK, 0, MX_ACTION_STRIP);
	add(f, MX_KIND_IP_LITERAL, 1, MX_ACTION_STRIP);
	assert_true(mx_plan_null_mx(&f->plan));
	assert_int_equal(f->plan.strongest, MX_ACTION_STRIP);
	expect_result(f, "0 .");
	int32_t map[2];
	mx_plan_positions(&f->plan, map);
	assert_int_equal(map[0], -1);
	assert_int_equal(map[1], -1);
}

static void test_strongest_wins(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "mx1.example.");
	test_add_mx(&f->rrs, 20, "mx1.example.test.");
	start(f);
	add(f, MX_KIND_SPECIAL_ADDRESS, 1, MX_ACTION_LOG);
	add(f, MX_KIND_MISSING_ADDRESS, 1, MX_ACTION_STRIP);
	assert_false(mx_plan_keeps(&f->plan, 1));
	add(f, MX_KIND_SELF_EXCHANGE, 0, MX_ACTION_NULL_MX);
	assert_int_equal(f->plan.strongest, MX_ACTION_NULL_MX);
	assert_true(mx_plan_null_mx(&f->plan));
	assert_false(mx_plan_keeps(&f->plan, 0));
	expect_result(f, "0 .");
}

// null-mx removes the offending record; the null MX comes only when nothing
// that may take mail is left (issue 21).
static void test_null_mx_never_beside_a_usable_exchange(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "mx1.example.");
	test_add_mx(&f->rrs, 20, "localhost.");
	start(f);
	add(f, MX_KIND_LOOPBACK, 1, MX_ACTION_NULL_MX);
	assert_true(mx_plan_changes(&f->plan));
	assert_false(mx_plan_null_mx(&f->plan));
	assert_true(mx_plan_keeps(&f->plan, 0));
	assert_false(mx_plan_keeps(&f->plan, 1));
	expect_result(f, "10 mx1.example.");
}

// The no-mail list speaks for the name: the whole RRset goes.
static void test_no_mail_override_replaces_all(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "mx1.example.");
	test_add_mx(&f->rrs, 20, "mx2.example.");
	start(f);
	add(f, MX_KIND_NULL_MX_OVERRIDE, 0, MX_ACTION_NULL_MX);
	assert_true(mx_plan_null_mx(&f->plan));
	assert_false(mx_plan_keeps(&f->plan, 1));
	expect_result(f, "0 .");
}

static void test_null_mx_conflict_keeps_the_null_mx(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 0, ".");
	test_add_mx(&f->rrs, 10, "mx1.example.");
	test_add_mx(&f->rrs, 20, "mx2.example.");
	start(f);
	add(f, MX_KIND_NULL_MX_CONFLICT, 0, MX_ACTION_STRIP);
	assert_true(mx_plan_changes(&f->plan));
	assert_true(mx_plan_keeps(&f->plan, 0));
	assert_false(mx_plan_keeps(&f->plan, 1));
	assert_false(mx_plan_keeps(&f->plan, 2));
	expect_result(f, "0 .");
}

static void test_null_mx_with_preference_is_what_goes(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, ".");
	test_add_mx(&f->rrs, 20, "mx1.example.");
	start(f);
	add(f, MX_KIND_NULL_MX_CONFLICT, 0, MX_ACTION_STRIP);
	assert_false(mx_plan_keeps(&f->plan, 0));
	assert_true(mx_plan_keeps(&f->plan, 1));
	expect_result(f, "20 mx1.example.");
}

static void test_bad_position_ignored(void **state)
{
	fixture_t *f = *state;
	test_add_mx(&f->rrs, 10, "mx1.example.");
	start(f);
	mx_violation_t v = { .kind = MX_KIND_LOOPBACK, .rr_index = 5 };
	mx_plan_add(&f->plan, &v, MX_ACTION_STRIP);
	assert_false(mx_plan_changes(&f->plan));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_log_changes_nothing),
		T(test_strip_one_of_three),
		T(test_strip_all_leaves_null_mx),
		T(test_strongest_wins),
		T(test_null_mx_never_beside_a_usable_exchange),
		T(test_no_mail_override_replaces_all),
		T(test_null_mx_conflict_keeps_the_null_mx),
		T(test_null_mx_with_preference_is_what_goes),
		T(test_bad_position_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
