/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <urcu.h>

#include "bounded_table.h"

static const uint8_t key_a[] = "key a";
static const uint8_t key_b[] = "key b";

static void test_off_is_null(void **state)
{
	assert_null(mx_bounded_table_new(0));
	size_t len = 1;
	assert_null(mx_bounded_table_get(NULL, key_a, sizeof(key_a), &len));
	mx_bounded_table_put(NULL, key_a, sizeof(key_a), "x", 1);  // no crash
	assert_int_equal(mx_bounded_table_size(NULL), 0);
}

static void test_get_what_was_put(void **state)
{
	mx_bounded_table_t *t = mx_bounded_table_new(16);
	assert_non_null(t);
	rcu_read_lock();
	size_t len = 0;
	assert_null(mx_bounded_table_get(t, key_a, sizeof(key_a), &len));
	mx_bounded_table_put(t, key_a, sizeof(key_a), "value a", 8);
	mx_bounded_table_put(t, key_b, sizeof(key_b), "", 0);
	const char *v = mx_bounded_table_get(t, key_a, sizeof(key_a), &len);
	assert_non_null(v);
	assert_int_equal(len, 8);
	assert_string_equal(v, "value a");
	assert_int_equal((uintptr_t)v % 8, 0);
	assert_non_null(mx_bounded_table_get(t, key_b, sizeof(key_b), &len));
	assert_int_equal(len, 0);
	// A key is a whole byte string: a prefix is another key.
	assert_null(mx_bounded_table_get(t, key_a, sizeof(key_a) - 1, &len));
	// Stored once: a second put neither replaces it nor counts.
	mx_bounded_table_put(t, key_a, sizeof(key_a), "value 2", 8);
	v = mx_bounded_table_get(t, key_a, sizeof(key_a), &len);
	assert_string_equal(v, "value a");
	assert_int_equal(mx_bounded_table_size(t), 2);
	rcu_read_unlock();
	mx_bounded_table_free(t);
}

static void test_bounded(void **state)
{
	const size_t max = 8;
	mx_bounded_table_t *t = mx_bounded_table_new(max);
	rcu_read_lock();
	for (uint32_t i = 0; i < 1000; i++) {
		uint32_t value = i * 3;
		mx_bounded_table_put(t, (const uint8_t *)&i, sizeof(i), &value, sizeof(value));
		assert_true(mx_bounded_table_size(t) <= max);
	}
	// The last one stored is there (an older one made room for it).
	uint32_t last = 999;
	size_t len = 0;
	const uint32_t *v = mx_bounded_table_get(t, (const uint8_t *)&last, sizeof(last), &len);
	assert_non_null(v);
	assert_int_equal(*v, 999 * 3);
	rcu_read_unlock();
	mx_bounded_table_free(t);
}

int main(void)
{
	rcu_register_thread();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_is_null),
		cmocka_unit_test(test_get_what_was_put),
		cmocka_unit_test(test_bounded),
	};
	int ret = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return ret;
}
