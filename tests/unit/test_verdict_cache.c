/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "hash.h"
#include "verdict_cache.h"
#include "test_helpers.h"

// A key of zone, owner, records and extra bytes (freed by key_free).
typedef struct {
	mx_verdict_key_t key;
	knot_rdataset_t rrs;
} test_key_t;

static test_key_t *key_new(const char *zone, const char *owner, const char *exchange,
                           const char *extra)
{
	test_key_t *k = calloc(1, sizeof(*k));
	assert_non_null(k);
	k->key.zone = (zone != NULL) ? test_name(zone) : NULL;
	k->key.owner = test_name(owner);
	test_add_mx(&k->rrs, 10, exchange);
	k->key.rrs = &k->rrs;
	k->key.extra = (const uint8_t *)extra;
	k->key.extra_len = (extra != NULL) ? strlen(extra) : 0;
	return k;
}

static void key_free(test_key_t *k)
{
	free((void *)k->key.zone);
	free((void *)k->key.owner);
	knot_rdataset_clear(&k->rrs, NULL);
	free(k);
}

static mx_violation_t violation(mx_kind_t kind, uint16_t rr_index)
{
	return (mx_violation_t) {
		.kind = kind,
		.rr_index = rr_index,
		.preference = 10,
		.exchange = (const knot_dname_t *)"\x02""mx",
	};
}

static bool found(mx_verdict_cache_t *cache, test_key_t *k)
{
	mx_verdict_t v;
	bool hit = mx_verdict_cache_get(cache, &k->key, &v);
	key_free(k);
	return hit;
}

static void test_off_is_null(void **state)
{
	assert_null(mx_verdict_cache_new(0, 1));
	test_key_t *k = key_new("example.", "a.example.", "mx.example.", "glue");
	mx_verdict_t v;
	assert_false(mx_verdict_cache_get(NULL, &k->key, &v));
	mx_verdict_cache_put(NULL, &k->key, NULL, 0);  // no crash
	key_free(k);
}

static void test_get_what_was_put(void **state)
{
	mx_verdict_cache_t *cache = mx_verdict_cache_new(16, 1);
	assert_non_null(cache);
	mx_violation_t vs[2] = { violation(MX_KIND_LOOPBACK, 1), violation(MX_KIND_IP_LITERAL, 2) };
	test_key_t *a = key_new("example.", "a.example.", "mx.example.", "glue A");
	test_key_t *b = key_new("example.", "b.example.", "mx.example.", "glue A");
	rcu_read_lock();
	mx_verdict_t v;
	assert_false(mx_verdict_cache_get(cache, &a->key, &v));
	mx_verdict_cache_put(cache, &a->key, vs, 2);
	mx_verdict_cache_put(cache, &b->key, NULL, 0);  // a clean verdict
	assert_true(mx_verdict_cache_get(cache, &a->key, &v));
	assert_int_equal(v.count, 2);
	assert_int_equal(v.violations[0].kind, MX_KIND_LOOPBACK);
	assert_int_equal(v.violations[1].rr_index, 2);
	assert_null(v.violations[0].exchange);  // the records' own at use
	assert_true(mx_verdict_cache_get(cache, &b->key, &v));
	assert_int_equal(v.count, 0);
	// The same key twice: one entry.
	mx_verdict_cache_put(cache, &a->key, vs, 1);
	assert_int_equal(mx_verdict_cache_size(cache), 2);
	rcu_read_unlock();
	key_free(a);
	key_free(b);
	mx_verdict_cache_free(cache);
}

// The owner in any letter case is the same key; every other byte counts.
static void test_key_exact(void **state)
{
	mx_verdict_cache_t *cache = mx_verdict_cache_new(16, 7);
	test_key_t *a = key_new("example.", "mail-host.a@.example.", "mx.example.", "glue A");
	rcu_read_lock();
	mx_verdict_cache_put(cache, &a->key, NULL, 0);
	assert_true(found(cache, key_new("example.", "MAIL-HOST.A@.EXAMPLE.", "mx.example.",
	                                 "glue A")));
	assert_true(found(cache, key_new("example.", "mAiL-hOsT.a@.ExAmPlE.", "mx.example.",
	                                 "glue A")));
	// '@' (0x40) and '`' (0x60), '-' (0x2d) and '\r' (0x0d) differ by 0x20 as
	// letters do, and are not letters.
	assert_false(found(cache, key_new("example.", "mail-host.a`.example.", "mx.example.",
	                                  "glue A")));
	assert_false(found(cache, key_new("example.", "mail\\013host.a@.example.",
	                                  "mx.example.", "glue A")));
	// The zone and the records as they are; the extra bytes all and only.
	assert_false(found(cache, key_new("EXAMPLE.", "mail-host.a@.example.", "mx.example.",
	                                  "glue A")));
	assert_false(found(cache, key_new(NULL, "mail-host.a@.example.", "mx.example.",
	                                  "glue A")));
	assert_false(found(cache, key_new("example.", "mail-host.a@.example.", "MX.example.",
	                                  "glue A")));
	assert_false(found(cache, key_new("example.", "mail-host.a@.example.", "mx.example.",
	                                  "glue B")));
	assert_false(found(cache, key_new("example.", "mail-host.a@.example.", "mx.example.",
	                                  "glue ")));
	assert_false(found(cache, key_new("example.", "mail-host.a@.example.", "mx.example.",
	                                  NULL)));
	test_key_t *two = key_new("example.", "mail-host.a@.example.", "mx.example.", "glue A");
	test_add_mx(&two->rrs, 20, "mx2.example.");
	assert_false(found(cache, two));
	rcu_read_unlock();
	key_free(a);
	mx_verdict_cache_free(cache);
}

// A verdict of the same RRset with other exchanges replaces the old one.
static void test_replaced(void **state)
{
	mx_verdict_cache_t *cache = mx_verdict_cache_new(16, 1);
	mx_violation_t loop = violation(MX_KIND_LOOPBACK, 0);
	test_key_t *old = key_new("example.", "a.example.", "mx.example.", "127.0.0.1");
	test_key_t *new = key_new("example.", "A.example.", "mx.example.", "192.0.2.1");
	rcu_read_lock();
	mx_verdict_cache_put(cache, &old->key, &loop, 1);
	mx_verdict_cache_put(cache, &new->key, NULL, 0);
	assert_int_equal(mx_verdict_cache_size(cache), 1);
	mx_verdict_t v;
	assert_false(mx_verdict_cache_get(cache, &old->key, &v));
	assert_true(mx_verdict_cache_get(cache, &new->key, &v));
	assert_int_equal(v.count, 0);
	rcu_read_unlock();
	key_free(old);
	key_free(new);
	mx_verdict_cache_free(cache);
}

// Owners hashed without the suffix they share (the zone's name) are still
// told apart by all of their bytes, the suffix's too; find ignores the extra.
static void test_owner_suffix_not_hashed(void **state)
{
	mx_verdict_cache_t *cache = mx_verdict_cache_new(16, 1);
	mx_violation_t loop = violation(MX_KIND_LOOPBACK, 0);
	test_key_t *a = key_new(NULL, "a.example.", "mx.example.", "x");
	test_key_t *b = key_new(NULL, "a.exampla.", "mx.example.", "x");
	test_key_t *c = key_new(NULL, "A.EXAMPLE.", "mx.example.", "y");
	a->key.owner_suffix = b->key.owner_suffix = c->key.owner_suffix = 9;  // "example."
	rcu_read_lock();
	mx_verdict_cache_put(cache, &a->key, &loop, 1);
	mx_verdict_cache_put(cache, &b->key, NULL, 0);
	assert_int_equal(mx_verdict_cache_size(cache), 2);
	mx_verdict_t v;
	assert_true(mx_verdict_cache_get(cache, &a->key, &v));
	assert_int_equal(v.count, 1);
	assert_true(mx_verdict_cache_get(cache, &b->key, &v));
	assert_int_equal(v.count, 0);
	// The same RRset (owner in any case): found, with what it was judged on.
	assert_false(mx_verdict_cache_get(cache, &c->key, &v));
	assert_true(mx_verdict_cache_find(cache, &c->key, &v));
	assert_int_equal(v.count, 1);
	assert_int_equal(v.extra_len, 1);
	assert_memory_equal(v.extra, "x", 1);
	rcu_read_unlock();
	key_free(a);
	key_free(b);
	key_free(c);
	mx_verdict_cache_free(cache);
}

static void test_bounded(void **state)
{
	const size_t max = 8;
	mx_verdict_cache_t *cache = mx_verdict_cache_new(max, 1);
	rcu_read_lock();
	char owner[32];
	for (uint32_t i = 0; i < 1000; i++) {
		mx_violation_t v = violation(MX_KIND_SPECIAL_ADDRESS, i % 7);
		snprintf(owner, sizeof(owner), "h%u.example.", i);
		test_key_t *k = key_new("example.", owner, "mx.example.", NULL);
		mx_verdict_cache_put(cache, &k->key, &v, 1);
		key_free(k);
		assert_true(mx_verdict_cache_size(cache) <= max);
	}
	// The last one stored is there (an older one made room for it).
	mx_verdict_t v;
	test_key_t *last = key_new("example.", "h999.example.", "mx.example.", NULL);
	assert_true(mx_verdict_cache_get(cache, &last->key, &v));
	assert_int_equal(v.violations[0].rr_index, 999 % 7);
	rcu_read_unlock();
	key_free(last);
	mx_verdict_cache_free(cache);
}

static void test_long_key_not_kept(void **state)
{
	mx_verdict_cache_t *cache = mx_verdict_cache_new(4, 1);
	char *extra = malloc(MX_VERDICT_KEY_MAXLEN + 1);
	memset(extra, 'x', MX_VERDICT_KEY_MAXLEN);
	extra[MX_VERDICT_KEY_MAXLEN] = '\0';
	test_key_t *k = key_new("example.", "a.example.", "mx.example.", extra);
	rcu_read_lock();
	mx_verdict_cache_put(cache, &k->key, NULL, 0);
	mx_verdict_t v;
	assert_false(mx_verdict_cache_get(cache, &k->key, &v));
	assert_int_equal(mx_verdict_cache_size(cache), 0);
	rcu_read_unlock();
	key_free(k);
	free(extra);
	mx_verdict_cache_free(cache);
}

// Past its first buckets (it grows) and past its bound (it evicts), every
// verdict found is the one stored under its key.
static void test_grows_and_evicts(void **state)
{
	const size_t max = 200;
	mx_verdict_cache_t *cache = mx_verdict_cache_new(max, 3);
	char owner[32];
	rcu_read_lock();
	for (uint32_t i = 0; i < max; i++) {
		mx_violation_t v = violation(MX_KIND_LOOPBACK, i);
		snprintf(owner, sizeof(owner), "h%u.example.", i);
		test_key_t *k = key_new("example.", owner, "mx.example.", "x");
		mx_verdict_cache_put(cache, &k->key, &v, 1);
		key_free(k);
	}
	assert_int_equal(mx_verdict_cache_size(cache), max);
	for (uint32_t i = 0; i < max; i++) {
		snprintf(owner, sizeof(owner), "H%u.EXAMPLE.", i);
		test_key_t *k = key_new("example.", owner, "mx.example.", "x");
		mx_verdict_t v;
		assert_true(mx_verdict_cache_get(cache, &k->key, &v));
		assert_int_equal(v.violations[0].rr_index, i);
		key_free(k);
	}
	mx_violation_t v = violation(MX_KIND_LOOPBACK, 999);
	test_key_t *k = key_new("example.", "new.example.", "mx.example.", "x");
	mx_verdict_cache_put(cache, &k->key, &v, 1);
	assert_int_equal(mx_verdict_cache_size(cache), max);
	mx_verdict_t got;
	assert_true(mx_verdict_cache_get(cache, &k->key, &got));
	assert_int_equal(got.violations[0].rr_index, 999);
	rcu_read_unlock();
	key_free(k);
	mx_verdict_cache_free(cache);
}

// A clock the tests set.
static uint64_t test_now;

static uint64_t test_clock(void)
{
	return test_now;
}

// What is known of the exchanges, read at some time and found current,
// stands for the max age after that time, no longer; never without a max
// age, never for a lookup without a time.
static void test_max_age(void **state)
{
	mx_verdict_cache_t *cache = mx_verdict_cache_new(16, 1);
	test_key_t *k = key_new("example.", "a.example.", "mx.example.", "glue A");
	mx_verdict_t v;
	rcu_read_lock();
	assert_int_equal(mx_verdict_cache_now(cache), 0);  // no max age: no clock
	k->key.now = 1000;
	mx_verdict_cache_put(cache, &k->key, NULL, 0);
	k->key.now = 1001;
	assert_true(mx_verdict_cache_find(cache, &k->key, &v));
	assert_false(v.fresh);

	mx_verdict_cache_set_max_age(cache, 500, test_clock);
	test_now = 1400;
	assert_int_equal(mx_verdict_cache_now(cache), 1400);
	k->key.now = 1499;
	assert_true(mx_verdict_cache_find(cache, &k->key, &v));
	assert_true(v.fresh);
	k->key.now = 1500;  // read 500 ago: read again
	assert_true(mx_verdict_cache_find(cache, &k->key, &v));
	assert_false(v.fresh);
	// Read again and found current: another max age from then.
	mx_verdict_confirm(&v, 1500);
	k->key.now = 1999;
	assert_true(mx_verdict_cache_find(cache, &k->key, &v));
	assert_true(v.fresh);
	// Confirmed by a worker that read it after this lookup's time.
	mx_verdict_confirm(&v, 2100);
	k->key.now = 2050;
	assert_true(mx_verdict_cache_find(cache, &k->key, &v));
	assert_true(v.fresh);
	k->key.now = 0;
	assert_true(mx_verdict_cache_find(cache, &k->key, &v));
	assert_false(v.fresh);
	// Another RRset (owner, records) is never found, fresh or not.
	test_key_t *other = key_new("example.", "a.example.", "mx2.example.", "glue A");
	other->key.now = 2100;
	assert_false(mx_verdict_cache_find(cache, &other->key, &v));
	// Stored with the time it was read at: fresh; without a time: never.
	mx_verdict_cache_put(cache, &other->key, NULL, 0);
	other->key.now = 2101;
	assert_true(mx_verdict_cache_find(cache, &other->key, &v));
	assert_true(v.fresh);
	other->key.now = 0;
	mx_verdict_cache_put(cache, &other->key, NULL, 0);
	other->key.now = 2101;
	assert_true(mx_verdict_cache_find(cache, &other->key, &v));
	assert_false(v.fresh);
	rcu_read_unlock();
	key_free(k);
	key_free(other);
	mx_verdict_cache_free(cache);
}

// The system's clock: the bound less its resolution, and 0 is no max age.
static void test_max_age_system_clock(void **state)
{
	mx_verdict_cache_t *cache = mx_verdict_cache_new(16, 1);
	mx_verdict_cache_set_max_age(cache, 0, NULL);
	assert_int_equal(mx_verdict_cache_now(cache), 0);
	mx_verdict_cache_set_max_age(cache, 1000000000, NULL);
	uint64_t a = mx_verdict_cache_now(cache);
	uint64_t b = mx_verdict_cache_now(cache);
	assert_true(a != 0 && b >= a);
	test_key_t *k = key_new("example.", "a.example.", "mx.example.", "glue A");
	mx_verdict_t v;
	rcu_read_lock();
	k->key.now = a;
	mx_verdict_cache_put(cache, &k->key, NULL, 0);
	k->key.now = b;
	assert_true(mx_verdict_cache_find(cache, &k->key, &v));
	assert_true(v.fresh);
	k->key.now = a + 1000000000;
	assert_true(mx_verdict_cache_find(cache, &k->key, &v));
	assert_false(v.fresh);
	rcu_read_unlock();
	key_free(k);
	mx_verdict_cache_free(cache);
}

// Workers storing and finding verdicts at once (growth, eviction and
// replacement under readers): a verdict found is always its key's.
typedef struct {
	mx_verdict_cache_t *cache;
	atomic_uint wrong;
	atomic_uint hits;
} race_t;

typedef struct {
	race_t *race;
	unsigned seed;
} race_arg_t;

static void *race_worker(void *arg)
{
	race_t *r = ((race_arg_t *)arg)->race;
	rcu_register_thread();
	unsigned x = ((race_arg_t *)arg)->seed;
	test_key_t *keys[300];
	char owner[32];
	for (uint32_t i = 0; i < 300; i++) {
		snprintf(owner, sizeof(owner), "h%u.example.", i);
		keys[i] = key_new("example.", owner, "mx.example.", (i & 1) ? "odd" : "even");
	}
	for (unsigned n = 0; n < 20000; n++) {
		x = x * 1103515245 + 12345;
		uint32_t i = (x >> 8) % 300;
		rcu_read_lock();
		mx_verdict_t v;
		if (mx_verdict_cache_get(r->cache, &keys[i]->key, &v)) {
			atomic_fetch_add(&r->hits, 1);
			if (v.count != 1 || v.violations[0].rr_index != i) {
				atomic_fetch_add(&r->wrong, 1);
			}
		} else {
			mx_violation_t viol = violation(MX_KIND_LOOPBACK, i);
			mx_verdict_cache_put(r->cache, &keys[i]->key, &viol, 1);
		}
		rcu_read_unlock();
	}
	for (uint32_t i = 0; i < 300; i++) {
		key_free(keys[i]);
	}
	rcu_unregister_thread();
	return NULL;
}

static void test_concurrent(void **state)
{
	race_t r = { .cache = mx_verdict_cache_new(200, 9) };
	pthread_t t[4];
	race_arg_t args[4];
	for (unsigned i = 0; i < 4; i++) {
		args[i] = (race_arg_t) { .race = &r, .seed = i };
		assert_int_equal(pthread_create(&t[i], NULL, race_worker, &args[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
	}
	assert_int_equal(atomic_load(&r.wrong), 0);
	assert_true(atomic_load(&r.hits) > 0);
	assert_true(mx_verdict_cache_size(r.cache) <= 200);
	mx_verdict_cache_free(r.cache);
}

/*** hash.h: what the cache's keys are hashed and compared with. ***/

static uint8_t upper(uint8_t c)
{
	return (c >= 'a' && c <= 'z') ? c - ('a' - 'A') : c;
}

// Every length from 0 to 40, a difference at every place: words and tails.
static void test_bytes_equal(void **state)
{
	uint8_t a[40], b[40];
	for (size_t i = 0; i < sizeof(a); i++) {
		a[i] = (uint8_t)(i * 37 + 'a');  // letters and others
	}
	for (size_t len = 0; len <= sizeof(a); len++) {
		memcpy(b, a, len);
		assert_true(mx_bytes_equal(a, b, len));
		for (size_t i = 0; i < len; i++) {
			b[i] ^= 0x01;
			assert_false(mx_bytes_equal(a, b, len));
			b[i] ^= 0x01;
		}
	}
	// Lower case: letters of either case are equal, nothing else is.
	for (size_t len = 0; len <= sizeof(a); len++) {
		for (size_t i = 0; i < len; i++) {
			b[i] = (uint8_t)(i * 37 + 'a');
		}
		for (size_t i = 0; i < len; i++) {
			b[i] = (uint8_t)(b[i] >= 'A' && b[i] <= 'Z' ? b[i] + 0x20 : b[i]);
			a[i] = b[i];
		}
		assert_true(mx_bytes_equal_lower(a, b, len));
		for (size_t i = 0; i < len; i++) {
			a[i] = upper(b[i]);
		}
		assert_true(mx_bytes_equal_lower(a, b, len));
		for (size_t i = 0; i < len; i++) {
			uint8_t keep = a[i];
			a[i] ^= 0x20;  // a letter's other case, or another character
			bool letter = (upper(b[i]) != b[i]);
			assert_true(mx_bytes_equal_lower(a, b, len) == letter);
			a[i] = keep;
		}
	}
}

// Every byte value of a name: 'A' to 'Z' and only they are lower-cased.
static void test_lower8(void **state)
{
	for (unsigned c = 0; c < 256; c++) {
		for (unsigned at = 0; at < 8; at++) {
			uint64_t w = 0x4142595a5b60617aULL;  // "AB YZ [ ` a z" around it
			uint8_t bytes[8];
			memcpy(bytes, &w, 8);
			bytes[at] = c;
			memcpy(&w, bytes, 8);
			uint64_t lw = mx_lower8(w);
			uint8_t out[8];
			memcpy(out, &lw, 8);
			for (unsigned i = 0; i < 8; i++) {
				uint8_t x = bytes[i];
				uint8_t want = (x >= 'A' && x <= 'Z') ? x + 0x20 : x;
				assert_int_equal(out[i], want);
			}
		}
	}
}

// A name copied in lower case eight bytes at a time: as libknot lowers it.
static void test_name_copy_lower(void **state)
{
	srand(7);
	for (unsigned round = 0; round < 2000; round++) {
		// Labels of 1 to 12 bytes, any byte in them, up to about 60 bytes.
		uint8_t name[KNOT_DNAME_MAXLEN];
		size_t size = 0;
		unsigned labels = rand() % 6;
		for (unsigned l = 0; l < labels; l++) {
			uint8_t len = 1 + rand() % 12;
			name[size++] = len;
			for (unsigned i = 0; i < len; i++) {
				name[size++] = (rand() % 3 == 0) ? 'A' + rand() % 26 : rand() % 256;
			}
		}
		name[size++] = 0;
		uint8_t want[KNOT_DNAME_MAXLEN], got[KNOT_DNAME_MAXLEN + 8];
		memcpy(want, name, size);
		knot_dname_to_lower(want);
		memset(got, 0xee, sizeof(got));
		mx_name_copy_lower(got, name, size);
		assert_memory_equal(got, want, size);
		assert_int_equal(got[size], 0xee);  // nothing written past it
	}
}

static void test_hash(void **state)
{
	uint8_t data[40] = { 0 }, name[40];
	uint64_t seen[41 + 40 * 8];
	size_t n = 0;
	// Zeros of every length, and one bit flipped anywhere: all different.
	for (size_t len = 0; len <= sizeof(data); len++) {
		seen[n++] = mx_hash(1, data, len);
	}
	for (size_t i = 0; i < sizeof(data); i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			data[i] ^= 1 << bit;
			seen[n++] = mx_hash(1, data, sizeof(data));
			data[i] ^= 1 << bit;
		}
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			assert_true(seen[i] != seen[j]);
		}
	}
	assert_true(mx_hash(1, data, 8) != mx_hash(2, data, 8));  // seeded

	// A name in any case is one hash; a non-letter changed is another.
	for (size_t len = 1; len <= sizeof(name); len++) {
		for (size_t i = 0; i < len; i++) {
			uint8_t c = (uint8_t)(i * 37 + 'a');
			name[i] = (c >= 'A' && c <= 'Z') ? c + 0x20 : c;
			data[i] = upper(name[i]);
		}
		uint64_t h = mx_hash_name_lower(5, name, len);
		assert_true(h == mx_hash_name_lower(5, data, len));
		assert_true(h == mx_hash_bytes(5, name, len));  // no capitals in it
		for (size_t i = 0; i < len; i++) {
			if (upper(name[i]) == name[i]) {
				data[i] ^= 0x20;
				assert_true(h != mx_hash_name_lower(5, data, len));
				data[i] ^= 0x20;
			}
		}
	}
}

int main(void)
{
	rcu_register_thread();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_is_null),
		cmocka_unit_test(test_get_what_was_put),
		cmocka_unit_test(test_key_exact),
		cmocka_unit_test(test_replaced),
		cmocka_unit_test(test_owner_suffix_not_hashed),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_long_key_not_kept),
		cmocka_unit_test(test_grows_and_evicts),
		cmocka_unit_test(test_max_age),
		cmocka_unit_test(test_max_age_system_clock),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_bytes_equal),
		cmocka_unit_test(test_lower8),
		cmocka_unit_test(test_name_copy_lower),
		cmocka_unit_test(test_hash),
	};
	int ret = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return ret;
}
