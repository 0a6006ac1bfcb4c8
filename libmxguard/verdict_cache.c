/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <urcu.h>

#include "hash.h"
#include "tsan_rcu.h"
#include "verdict_cache.h"

// Publishing and following the chains: C11 release and acquire (plain moves
// on x86; correct, and visible to TSan, everywhere).
#define PUBLISH(ptr, value) __atomic_store_n(&(ptr), (value), __ATOMIC_RELEASE)
#define FOLLOW(ptr) __atomic_load_n(&(ptr), __ATOMIC_ACQUIRE)

// Buckets the table starts with; it doubles, up to one per entry, as it fills.
#define INIT_BUCKETS 64

typedef struct entry {
	struct entry *next;  // RCU: readers follow it without a lock
	uint64_t hash;
	uint64_t shape;      // the sizes below in one word (shape_of), compared at once
	uint64_t read_at;    // when the extra was last read and found current
	uint8_t zone_len;
	uint8_t owner_len;
	uint16_t rr_count;
	uint16_t rdata_len;
	uint16_t extra_len;
	uint16_t count;
	mx_violation_t *violations;  // in the same allocation, after the key
	struct rcu_head rcu;
	uint8_t key[];               // zone, owner in lower case, rdata, extra
} entry_t;

// The buckets: chains of entries, newest first.
typedef struct {
	struct rcu_head rcu;
	size_t mask;
	entry_t *bucket[];
} table_t;

/*
 * Readers take no lock: they follow the chains under RCU and compare every
 * byte of what they find, so a chain changed under them can make them miss
 * a verdict (it is made again), never take a wrong one. Writers take the
 * lock, or give up when another holds it (a verdict not stored is made
 * again next time): they never wait. Entries and old bucket arrays are
 * freed after a grace period.
 */
struct mx_verdict_cache {
	table_t *table;        // RCU
	pthread_mutex_t lock;  // writers
	size_t max_entries;
	size_t max_buckets;
	size_t hand;           // where eviction looks next
	uint64_t seed;
	uint64_t window;       // how long a read of the extra stands (0: never)
	mx_clock_f clock;      // NULL: the coarse monotonic clock
	atomic_size_t count;
};

// A key with the sizes of its names.
typedef struct {
	const mx_verdict_key_t *key;
	size_t zone_len;
	size_t owner_len;
	uint64_t shape;
} sized_key_t;

// The sizes of zone, owner and records, and the records' count, in a word.
static inline uint64_t shape_of(size_t zone_len, size_t owner_len, uint16_t count,
                                uint32_t size)
{
	return (uint64_t)zone_len | (uint64_t)owner_len << 8 | (uint64_t)count << 16 |
	       (uint64_t)size << 32;
}

// Inlined where used: a lookup is one function's frame.
#define INLINE static inline __attribute__((always_inline))

INLINE bool size_key(sized_key_t *k, const mx_verdict_key_t *key)
{
	k->key = key;
	k->zone_len = (key->zone != NULL) ? mx_name_size(key->zone) : 0;
	k->owner_len = key->owner_size ? key->owner_size : mx_name_size(key->owner);
	k->shape = shape_of(k->zone_len, k->owner_len, key->rrs->count, key->rrs->size);
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

// Longer pieces compare faster in libc (vector instructions) than in words.
INLINE bool equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	return (len <= 24) ? mx_bytes_equal(a, b, len) : memcmp(a, b, len) == 0;
}

// The same zone, owner (ignoring ASCII case) and records.
INLINE bool match_rrset(const entry_t *e, const sized_key_t *k)
{
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
	return equal(stored, (const uint8_t *)rrs->rdata, rrs->size);
}

static const uint8_t *entry_extra(const entry_t *e)
{
	return e->key + e->zone_len + e->owner_len + e->rdata_len;
}

static void free_entry(struct rcu_head *head)
{
	AFTER_GRACE_PERIOD();
	free(caa_container_of(head, entry_t, rcu));
}

static void free_table(struct rcu_head *head)
{
	AFTER_GRACE_PERIOD();
	free(caa_container_of(head, table_t, rcu));
}

static table_t *table_new(size_t buckets)
{
	table_t *t = calloc(1, sizeof(*t) + buckets * sizeof(t->bucket[0]));
	if (t != NULL) {
		t->mask = buckets - 1;
	}
	return t;
}

static size_t pow2_at_least(size_t n)
{
	size_t p = 1;
	while (p < n) {
		p <<= 1;
	}
	return p;
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
	cache->max_buckets = pow2_at_least(max_entries);
	size_t init = (cache->max_buckets < INIT_BUCKETS) ? cache->max_buckets : INIT_BUCKETS;
	cache->table = table_new(init);
	if (cache->table == NULL || pthread_mutex_init(&cache->lock, NULL) != 0) {
		free(cache->table);
		free(cache);
		return NULL;
	}
	cache->max_entries = max_entries;
	cache->seed = seed;
	return cache;
}

void mx_verdict_cache_free(mx_verdict_cache_t *cache)
{
	if (cache == NULL) {
		return;
	}
	// Evicted entries and old bucket arrays wait for their callbacks, which
	// must run before the module can go; the rest no reader sees any more.
	rcu_barrier();
	AFTER_GRACE_PERIOD();
	table_t *t = cache->table;
	for (size_t i = 0; i <= t->mask; i++) {
		entry_t *e = t->bucket[i];
		while (e != NULL) {
			entry_t *next = e->next;
			free(e);
			e = next;
		}
	}
	free(t);
	pthread_mutex_destroy(&cache->lock);
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
// never without a time of both.
INLINE bool fresh(const mx_verdict_cache_t *cache, const entry_t *e, uint64_t now)
{
	uint64_t read_at = __atomic_load_n(&e->read_at, __ATOMIC_RELAXED);
	return (now - read_at < cache->window || (now < read_at && cache->window != 0)) &&
	       now != 0 && read_at != 0;
}

bool mx_verdict_cache_find(mx_verdict_cache_t *cache, const mx_verdict_key_t *key,
                           mx_verdict_t *out)
{
	sized_key_t k;
	if (cache == NULL || !size_key(&k, key)) {
		return false;
	}
	uint64_t hash = key_hash(cache, &k);
	const table_t *t = FOLLOW(cache->table);
	const entry_t *e = FOLLOW(t->bucket[hash & t->mask]);
	for (; e != NULL; e = FOLLOW(e->next)) {
		if (e->hash == hash && match_rrset(e, &k)) {
			out->count = e->count;
			out->violations = e->violations;
			out->extra = entry_extra(e);
			out->extra_len = e->extra_len;
			out->fresh = fresh(cache, e, key->now);
			out->read_at = (uint64_t *)&e->read_at;
			READ_SIDE_END();
			return true;
		}
	}
	READ_SIDE_END();
	return false;
}

bool mx_verdict_made_on(const mx_verdict_t *verdict, const uint8_t *extra, size_t extra_len)
{
	return verdict->extra_len == extra_len && equal(verdict->extra, extra, extra_len);
}

bool mx_verdict_cache_get(mx_verdict_cache_t *cache, const mx_verdict_key_t *key,
                          mx_verdict_t *out)
{
	// One verdict per RRset: the one found is the only one there can be.
	return mx_verdict_cache_find(cache, key, out) &&
	       mx_verdict_made_on(out, key->extra, key->extra_len);
}

/*** Writers, under the lock. ***/

// Twice the buckets, the entries moved over. Each goes to the front of its
// new chain, which holds only entries moved already: a reader still in the
// old chains may be led into a new one and miss, but never loops.
static void grow(mx_verdict_cache_t *cache)
{
	table_t *old = cache->table;
	table_t *t = table_new(2 * (old->mask + 1));
	if (t == NULL) {
		return;  // longer chains
	}
	for (size_t i = 0; i <= old->mask; i++) {
		entry_t *e = old->bucket[i];
		while (e != NULL) {
			entry_t *next = e->next;
			entry_t **head = &t->bucket[e->hash & t->mask];
			PUBLISH(e->next, *head);
			*head = e;
			e = next;
		}
	}
	PUBLISH(cache->table, t);
	READ_SIDE_END();
	call_rcu(&old->rcu, free_table);
}

static void unlink_entry(mx_verdict_cache_t *cache, entry_t **link, entry_t *e)
{
	PUBLISH(*link, e->next);
	READ_SIDE_END();
	call_rcu(&e->rcu, free_entry);
	atomic_fetch_sub(&cache->count, 1);
}

// Makes room: any one entry goes, the first after the last one evicted.
static void evict_one(mx_verdict_cache_t *cache)
{
	table_t *t = cache->table;
	for (size_t n = 0; n <= t->mask; n++) {
		size_t i = (cache->hand + n) & t->mask;
		if (t->bucket[i] != NULL) {
			cache->hand = i + 1;
			unlink_entry(cache, &t->bucket[i], t->bucket[i]);
			return;
		}
	}
}

static entry_t *entry_new(const sized_key_t *k, uint64_t hash,
                          const mx_violation_t *violations, unsigned count)
{
	// Key, then the violations, aligned.
	const mx_verdict_key_t *key = k->key;
	size_t len = k->zone_len + k->owner_len + key->rrs->size + key->extra_len;
	size_t key_space = (len + 7) & ~(size_t)7;
	entry_t *e = malloc(sizeof(*e) + key_space + count * sizeof(*violations));
	if (e == NULL) {
		return NULL;
	}
	e->next = NULL;
	e->hash = hash;
	e->read_at = key->now;
	e->shape = k->shape;
	e->zone_len = k->zone_len;
	e->owner_len = k->owner_len;
	e->rr_count = key->rrs->count;
	e->rdata_len = key->rrs->size;
	e->extra_len = key->extra_len;
	e->count = count;
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
	e->violations = (mx_violation_t *)(e->key + key_space);
	for (unsigned i = 0; i < count; i++) {
		e->violations[i] = violations[i];
		e->violations[i].exchange = NULL;  // the records' own, at use
	}
	return e;
}

void mx_verdict_cache_put(mx_verdict_cache_t *cache, const mx_verdict_key_t *key,
                          const mx_violation_t *violations, unsigned count)
{
	sized_key_t k;
	if (cache == NULL || !size_key(&k, key) || count > UINT16_MAX) {
		return;
	}
	uint64_t hash = key_hash(cache, &k);
	entry_t *e = entry_new(&k, hash, violations, count);
	if (e == NULL) {
		return;
	}
	if (pthread_mutex_trylock(&cache->lock) != 0) {
		free(e);  // another worker is storing one; this one is made again
		return;
	}

	// One verdict per RRset: one of other exchanges is of data that is gone.
	table_t *t = cache->table;
	entry_t **link = &t->bucket[hash & t->mask];
	for (entry_t *old = *link; old != NULL; link = &old->next, old = old->next) {
		if (old->hash == hash && match_rrset(old, &k)) {
			e->next = old->next;
			PUBLISH(*link, e);
			READ_SIDE_END();
			call_rcu(&old->rcu, free_entry);
			pthread_mutex_unlock(&cache->lock);
			return;
		}
	}
	if (atomic_load(&cache->count) >= cache->max_entries) {
		evict_one(cache);
	}
	size_t count_now = atomic_fetch_add(&cache->count, 1) + 1;
	if (count_now > t->mask + 1 && t->mask + 1 < cache->max_buckets) {
		grow(cache);
		t = cache->table;
	}
	entry_t **head = &t->bucket[hash & t->mask];
	e->next = *head;
	PUBLISH(*head, e);
	pthread_mutex_unlock(&cache->lock);
}

size_t mx_verdict_cache_size(mx_verdict_cache_t *cache)
{
	return cache == NULL ? 0 : atomic_load(&cache->count);
}
