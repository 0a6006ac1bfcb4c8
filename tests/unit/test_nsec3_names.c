/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "nsec3_names.h"
#include "test_helpers.h"

// RFC 5155 appendix A: zone "example", SHA-1, 12 iterations, salt aabbccdd.
static uint8_t salt[] = { 0xaa, 0xbb, 0xcc, 0xdd };
static const dnssec_nsec3_params_t params = {
	.algorithm = DNSSEC_NSEC3_ALGORITHM_SHA1,
	.iterations = 12,
	.salt = { .size = sizeof(salt), .data = salt },
};

static uint8_t *label(const char *text)
{
	static uint8_t buf[64];
	buf[0] = strlen(text);
	memcpy(buf + 1, text, buf[0]);
	return buf;
}

static void test_listed_names_of_the_zone(void **state)
{
	mx_name_list_t *list = mx_name_list_new();
	const char *err = NULL;
	assert_int_equal(mx_name_list_add(list, "a.example", &err), KNOT_EOK);
	assert_int_equal(mx_name_list_add(list, "X.Y.W.example", &err), KNOT_EOK);
	assert_int_equal(mx_name_list_add(list, "other.test", &err), KNOT_EOK);  // elsewhere
	assert_int_equal(mx_name_list_add(list, "*.sub.example", &err), KNOT_EOK);  // a subtree
	knot_dname_t *zone = test_name("example.");

	mx_nsec3_names_t *t = mx_nsec3_names_new(list, zone, &params);
	assert_non_null(t);
	assert_int_equal(mx_nsec3_names_count(t), 2);
	assert_true(mx_nsec3_names_params(t, &params));
	assert_true(mx_nsec3_names_has(t, label("35mthgpgcu1qg68fab165klnsnk3dpvl")));  // a
	assert_true(mx_nsec3_names_has(t, label("2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S")));  // x.y.w
	assert_false(mx_nsec3_names_has(t, label("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom")));  // example
	assert_false(mx_nsec3_names_has(t, label("35mthgpgcu1qg68fab165klnsnk3dpv")));  // short
	assert_false(mx_nsec3_names_has(t, label("35mthgpgcu1qg68fab165klnsnk3dpv!")));
	assert_true(mx_nsec3_names_unhashed(t));  // *.sub.example

	dnssec_nsec3_params_t other = params;
	other.iterations = 0;
	assert_false(mx_nsec3_names_params(t, &other));
	mx_nsec3_names_free(t);
	mx_name_list_free(list);
	free(zone);
}

static void test_empty_list(void **state)
{
	mx_name_list_t *list = mx_name_list_new();
	knot_dname_t *zone = test_name("example.");
	mx_nsec3_names_t *t = mx_nsec3_names_new(list, zone, &params);
	assert_non_null(t);
	assert_int_equal(mx_nsec3_names_count(t), 0);
	assert_false(mx_nsec3_names_has(t, label("35mthgpgcu1qg68fab165klnsnk3dpvl")));
	assert_false(mx_nsec3_names_unhashed(t));
	mx_nsec3_names_free(t);
	mx_name_list_free(list);
	free(zone);
}

// Subtrees whose members the table cannot hold: in the zone, or above it.
static void test_subtrees_meeting_the_zone(void **state)
{
	static const struct {
		const char *entry;
		bool meets;
	} cases[] = {
		{ "*.sub.example", true },
		{ "*.example", true },       // every name below the apex
		{ "*.", true },              // every name
		{ "*.org", false },
		{ "*.example.org", false },
		{ "*.xexample", false },
		{ "sub.example", false },    // a name as it is: hashed
	};
	knot_dname_t *zone = test_name("example.");
	knot_dname_t *below = test_name("deep.sub.example.");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mx_name_list_t *list = mx_name_list_new();
		const char *err = NULL;
		assert_int_equal(mx_name_list_add(list, cases[i].entry, &err), KNOT_EOK);
		assert_int_equal(mx_name_list_subtree_meets(list, zone), cases[i].meets);
		mx_nsec3_names_t *t = mx_nsec3_names_new(list, zone, &params);
		assert_non_null(t);
		assert_int_equal(mx_nsec3_names_unhashed(t), cases[i].meets);
		mx_nsec3_names_free(t);
		// A zone inside the subtree meets it as well.
		bool inside = strcmp(cases[i].entry, "*.org") != 0 &&
		              strcmp(cases[i].entry, "*.example.org") != 0 &&
		              strcmp(cases[i].entry, "*.xexample") != 0 &&
		              strcmp(cases[i].entry, "sub.example") != 0;
		assert_int_equal(mx_name_list_subtree_meets(list, below), inside);
		mx_name_list_free(list);
	}
	assert_false(mx_name_list_subtree_meets(NULL, zone));
	assert_false(mx_nsec3_names_unhashed(NULL));
	free(zone);
	free(below);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listed_names_of_the_zone),
		cmocka_unit_test(test_empty_list),
		cmocka_unit_test(test_subtrees_meeting_the_zone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
