/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libknot/errcode.h>

#include "concurrent_table.h"
#include "hash.h"
#include "tsan_rcu.h"
#include "verdict_cache.h"

// Buckets the table starts with; it doubles, up to one per entry, as it fills.
#define INIT_BUCKETS 64

// A verdict in the table (concurrent_table.h), its node's word the hash.
typedef struct {
	uint64_t shape;      // the sizes (shape_of), compared at once
	uint64_t read_at;    // when the extra was last read and found current
	uint16_t extra_at;   // where in key the extra begins
	uint16_t extra_len;
	uint16_t count;
	uint16_t violations_at;  // where, after key, they begin (aligned)
	uint8_t key[];       // zone, owner in lower case, rdata, extra
} entry_t;

/*
 * Readers follow the table without a lock (a chain changed under them can
 * make them miss a verdict, which is made again, never take a wrong one).
 * Writers hold the table's maintenance, or give up when another holds it
 * (a verdict not stored is made again next time): they never wait.
 */
struct mx_verdict_cache {
	mx_table_t table;
	uint64_t seed;
	uint64_t window;       // how long a read of the extra stands (0: never)
	int64_t fresh_below;   // the window, or (none) below any age (fresh)
	mx_clock_f clock;      // NULL: the coarse monotonic clock
};

// A key with the sizes of its names.
typedef struct {
	const mx_verdict_key_t *key;
	size_t zone_len;
	size_t owner_len;
	uint64_t shape;
} sized_key_t;

// The sizes of zone, owner and records in a word (the records' count is
// in their bytes, each record's length before it).
static inline uint64_t shape_of(size_t zone_len, size_t owner_len, uint32_t size)
{
	return (uint64_t)zone_len | (uint64_t)owner_len << 8 | (uint64_t)size << 16;
}

// Inlined where used: a lookup is one function's frame.
#define INLINE static inline __attribute__((always_inline))

INLINE bool size_key(sized_key_t *k, const mx_verdict_key_t *key)
{
	k->key = key;
	k->zone_len = (key->zone != NULL) ? mx_name_size(key->zone) : 0;
	k->owner_len = key->owner_size ? key->owner_size : mx_name_size(key->owner);
	k->shape = shape_of(k->zone_len, k->owner_len, key->rrs->size);
	return k->zone_len + k->owner_len + key->rrs->size + key->extra_len <=
	       MX_VERDICT_KEY_MAXLEN;
}

// The owner: one verdict per RRset, and one RRset of MX per owner and
// zone. The rest is compared, not hashed; so is a suffix all owners share.
// An owner in lower case already hashes as it is (the same hash). The
// multiply-fold spreads every bit of the seeded step into the low ones the
// buckets take: no final mix.
INLINE uint64_t key_hash(const mx_verdict_cache_t *cache, const sized_key_t *k)
{
	size_t len = k->owner_len;
	if (len > k->key->owner_suffix) {
		len -= k->key->owner_suffix;
	}
	uint64_t h = mx_hash_begin(cache->seed);
	return k->key->owner_lower ? mx_hash_bytes(h, k->key->owner, len) :
	                             mx_hash_name_lower(h, k->key->owner, len);
}

// The same zone, owner (ignoring ASCII case) and records.
INLINE bool match_rrset(const void *entry, const void *key)
{
	const entry_t *e = entry;
	const sized_key_t *k = key;
	const knot_rdataset_t *rrs = k->key->rrs;
	if (e->shape != k->shape) {
		return false;
	}
	const uint8_t *stored = e->key;
	if (!mx_bytes_equal(stored, k->key->zone, k->zone_len)) {
		return false;
	}
	stored += k->zone_len;
	if (k->key->owner_lower ? !mx_bytes_equal(k->key->owner, stored, k->owner_len) :
	                          !mx_bytes_equal_lower(k->key->owner, stored, k->owner_len)) {
		return false;
	}
	stored += k->owner_len;
	return mx_bytes_equal_any(stored, (const uint8_t *)rrs->rdata, rrs->size);
}

mx_verdict_cache_t *mx_verdict_cache_new(size_t max_entries, uint64_t seed)
{
	if (max_entries == 0) {
		return NULL;
	}
	mx_verdict_cache_t *cache = calloc(1, sizeof(*cache));
	if (cache == NULL) {
		return NULL;
	}
	if (mx_table_init(&cache->table, max_entries, INIT_BUCKETS, NULL) != KNOT_EOK) {
		free(cache);
		return NULL;
	}
	cache->seed = seed;
	cache->fresh_below = INT64_MIN;
	return cache;
}

void mx_verdict_cache_free(mx_verdict_cache_t *cache)
{
	if (cache == NULL) {
		return;
	}
	mx_table_deinit(&cache->table);
	free(cache);
}

INLINE uint64_t coarse_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void mx_verdict_cache_set_max_age(mx_verdict_cache_t *cache, uint64_t max_age_ns,
                                  mx_clock_f clock)
{
	if (cache == NULL) {
		return;
	}
	uint64_t resolution = 0;
	struct timespec res;
	if (clock == NULL) {
		// The coarse clock lags real time by up to one tick.
		resolution = (clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0) ?
		             (uint64_t)res.tv_sec * 1000000000 + res.tv_nsec : 1000000000;
	}
	cache->clock = clock;
	cache->window = (max_age_ns > resolution) ? max_age_ns - resolution : 0;
	cache->fresh_below = (cache->window == 0) ? INT64_MIN :
	                     (cache->window > INT64_MAX) ? INT64_MAX : (int64_t)cache->window;
}

uint64_t mx_verdict_cache_now(const mx_verdict_cache_t *cache)
{
	if (cache == NULL || cache->window == 0) {
		return 0;
	}
	return (cache->clock != NULL) ? cache->clock() : coarse_ns();
}

void mx_verdict_confirm(const mx_verdict_t *verdict, uint64_t now)
{
	// Any worker may: a time stored over a later one only shortens its life.
	if (now != 0) {
		__atomic_store_n(verdict->read_at, now, __ATOMIC_RELAXED);
		READ_SIDE_END();
	}
}

// Read less than the window before NOW (or after it, by another worker);
// never without a time of both. One signed comparison: the clock's times
// are far apart by less than 2^63 ns, and no max age is below any age.
INLINE bool fresh(const mx_verdict_cache_t *cache, const entry_t *e, uint64_t now)
{
	uint64_t read_at = __atomic_load_n(&e->read_at, __ATOMIC_RELAXED);
	return now != 0 && read_at != 0 && (int64_t)(now - read_at) < cache->fresh_below;
}

bool mx_verdict_cache_find(mx_verdict_cache_t *cache, const mx_verdict_key_t *key,
                           mx_verdict_t *out)
{
	sized_key_t k;
	if (cache == NULL || !size_key(&k, key)) {
		return false;
	}
	uint64_t hash = key_hash(cache, &k);
	entry_t *e = mx_table_find(&cache->table, hash, hash, match_rrset, &k);
	if (e == NULL) {
		READ_SIDE_END();
		return false;
	}
	out->count = e->count;
	out->violations = (const mx_violation_t *)(e->key + e->violations_at);
	out->extra = e->key + e->extra_at;
	out->extra_len = e->extra_len;
	out->fresh = fresh(cache, e, key->now);
	out->read_at = &e->read_at;
	READ_SIDE_END();
	return true;
}

bool mx_verdict_made_on(const mx_verdict_t *verdict, const uint8_t *extra, size_t extra_len)
{
	return verdict->extra_len == extra_len &&
	       mx_bytes_equal_any(verdict->extra, extra, extra_len);
}

bool mx_verdict_cache_get(mx_verdict_cache_t *cache, const mx_verdict_key_t *key,
                          mx_verdict_t *out)
{
	// One verdict per RRset: the one found is the only one there can be.
	return mx_verdict_cache_find(cache, key, out) &&
	       mx_verdict_made_on(out, key->extra, key->extra_len);
}

/*** Writers, holding the table's maintenance. ***/

static entry_t *entry_new(const sized_key_t *k, const mx_violation_t *violations,
                          unsigned count)
{
	// Key, then the violations, aligned.
	const mx_verdict_key_t *key = k->key;
	size_t extra_at = k->zone_len + k->owner_len + key->rrs->size;
	size_t key_space = (extra_at + key->extra_len + 7) & ~(size_t)7;
	entry_t *e = malloc(sizeof(*e) + key_space + count * sizeof(*violations));
	if (e == NULL) {
		return NULL;
	}
	e->read_at = key->now;
	e->shape = k->shape;
	e->extra_at = extra_at;
	e->extra_len = key->extra_len;
	e->count = count;
	e->violations_at = key_space;
	uint8_t *p = e->key;
	if (k->zone_len > 0) {
		memcpy(p, key->zone, k->zone_len);
		p += k->zone_len;
	}
	for (size_t i = 0; i < k->owner_len; i++) {
		uint8_t c = key->owner[i];
		*p++ = (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;  // as mx_lower8()
	}
	if (key->rrs->size > 0) {
		memcpy(p, key->rrs->rdata, key->rrs->size);
		p += key->rrs->size;
	}
	if (key->extra_len > 0) {
		memcpy(p, key->extra, key->extra_len);
	}
	mx_violation_t *stored = (mx_violation_t *)(e->key + key_space);
	for (unsigned i = 0; i < count; i++) {
		stored[i] = violations[i];
		stored[i].exchange = NULL;  // the records' own, at use
	}
	return e;
}

// One verdict per RRset: one of other exchanges is of data that is gone.
// Otherwise a new entry, an old one evicted first when the table is full.
static int store(mx_table_t *table, uint64_t hash, const sized_key_t *k, entry_t *e)
{
	int ret = mx_table_replace(table, hash, hash, e, match_rrset, k);
	if (ret != KNOT_ENOENT) {
		return ret;
	}
	if (!mx_table_reserve(table)) {
		mx_table_evict(table);
		if (!mx_table_reserve(table)) {
			return KNOT_ESPACE;
		}
	}
	void *found = NULL;
	ret = mx_table_insert(table, hash, hash, e, match_rrset, k, &found);
	if (ret == KNOT_EOK) {
		mx_table_grow_locked(table);
	}
	return ret;
}

void mx_verdict_cache_put(mx_verdict_cache_t *cache, const mx_verdict_key_t *key,
                          const mx_violation_t *violations, unsigned count)
{
	sized_key_t k;
	if (cache == NULL || !size_key(&k, key) || count > UINT16_MAX) {
		return;
	}
	uint64_t hash = key_hash(cache, &k);
	entry_t *e = entry_new(&k, violations, count);
	if (e == NULL) {
		return;
	}
	if (!mx_table_try_lock(&cache->table)) {
		free(e);  // another worker is storing one; this one is made again
		return;
	}
	if (store(&cache->table, hash, &k, e) != KNOT_EOK) {
		free(e);
	}
	mx_table_unlock(&cache->table);
}

size_t mx_verdict_cache_size(mx_verdict_cache_t *cache)
{
	return cache == NULL ? 0 : mx_table_size(&cache->table);
}
