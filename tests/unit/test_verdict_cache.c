/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <urcu.h>

#include "verdict_cache.h"
#include "test_helpers.h"

static const uint8_t key_a[] = "zone|owner|records A";
static const uint8_t key_b[] = "zone|owner|records B";

static mx_violation_t violation(mx_kind_t kind, uint16_t rr_index)
{
	return (mx_violation_t) {
		.kind = kind,
		.rr_index = rr_index,
		.preference = 10,
		.exchange = (const knot_dname_t *)"\x02""mx",
	};
}

static void test_off_is_null(void **state)
{
	assert_null(mx_verdict_cache_new(0));
	mx_verdict_t v;
	assert_false(mx_verdict_cache_get(NULL, key_a, sizeof(key_a), &v));
	mx_verdict_cache_put(NULL, key_a, sizeof(key_a), NULL, 0);  // no crash
}

static void test_get_what_was_put(void **state)
{
	mx_verdict_cache_t *cache = mx_verdict_cache_new(16);
	assert_non_null(cache);
	mx_violation_t vs[2] = { violation(MX_KIND_LOOPBACK, 1), violation(MX_KIND_IP_LITERAL, 2) };
	rcu_read_lock();
	mx_verdict_t v;
	assert_false(mx_verdict_cache_get(cache, key_a, sizeof(key_a), &v));
	mx_verdict_cache_put(cache, key_a, sizeof(key_a), vs, 2);
	mx_verdict_cache_put(cache, key_b, sizeof(key_b), NULL, 0);  // a clean verdict
	assert_true(mx_verdict_cache_get(cache, key_a, sizeof(key_a), &v));
	assert_int_equal(v.count, 2);
	assert_int_equal(v.violations[0].kind, MX_KIND_LOOPBACK);
	assert_int_equal(v.violations[1].rr_index, 2);
	assert_null(v.violations[0].exchange);  // the records' own at use
	assert_true(mx_verdict_cache_get(cache, key_b, sizeof(key_b), &v));
	assert_int_equal(v.count, 0);
	// A key that differs in one byte, or is a prefix, is another key.
	assert_false(mx_verdict_cache_get(cache, key_a, sizeof(key_a) - 1, &v));
	uint8_t other[sizeof(key_a)];
	memcpy(other, key_a, sizeof(key_a));
	other[3] ^= 0x20;
	assert_false(mx_verdict_cache_get(cache, other, sizeof(other), &v));
	// The same key twice: one entry.
	mx_verdict_cache_put(cache, key_a, sizeof(key_a), vs, 1);
	assert_int_equal(mx_verdict_cache_size(cache), 2);
	rcu_read_unlock();
	mx_verdict_cache_free(cache);
}

static void test_bounded(void **state)
{
	const size_t max = 8;
	mx_verdict_cache_t *cache = mx_verdict_cache_new(max);
	rcu_read_lock();
	for (uint32_t i = 0; i < 1000; i++) {
		mx_violation_t v = violation(MX_KIND_SPECIAL_ADDRESS, i % 7);
		mx_verdict_cache_put(cache, (const uint8_t *)&i, sizeof(i), &v, 1);
		assert_true(mx_verdict_cache_size(cache) <= max);
	}
	// The last one stored is there (an older one made room for it).
	mx_verdict_t v;
	uint32_t last = 999;
	assert_true(mx_verdict_cache_get(cache, (const uint8_t *)&last, sizeof(last), &v));
	assert_int_equal(v.violations[0].rr_index, 999 % 7);
	rcu_read_unlock();
	mx_verdict_cache_free(cache);
}

static void test_long_key_not_kept(void **state)
{
	mx_verdict_cache_t *cache = mx_verdict_cache_new(4);
	uint8_t *key = calloc(1, MX_VERDICT_KEY_MAXLEN + 1);
	rcu_read_lock();
	mx_verdict_cache_put(cache, key, MX_VERDICT_KEY_MAXLEN + 1, NULL, 0);
	mx_verdict_t v;
	assert_false(mx_verdict_cache_get(cache, key, MX_VERDICT_KEY_MAXLEN + 1, &v));
	assert_int_equal(mx_verdict_cache_size(cache), 0);
	rcu_read_unlock();
	free(key);
	mx_verdict_cache_free(cache);
}

int main(void)
{
	rcu_register_thread();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_is_null),
		cmocka_unit_test(test_get_what_was_put),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_long_key_not_kept),
	};
	int ret = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return ret;
}
