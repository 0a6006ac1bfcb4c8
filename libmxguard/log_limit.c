/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The keys and their state in the library's concurrent table
 * (concurrent_table.h says how it is shared without locks or waits).
 *
 * Readers (the common path: a key seen before) find the key's entry and
 * count the hit on it with one CAS. An 8-byte key (the module's, a uint64
 * hash) is hashed as one word and is itself the word of its node, so it
 * compares in one word; other lengths compare their hash there, then their
 * bytes in the entry. A new key is inserted lock-free: two threads
 * inserting one key find each other's, so a key has one entry, and its
 * first occurrence one line.
 *
 * The bound: a key takes its place in the count before it is pushed (and
 * gives it back if it finds the key there). The thread that finds the table
 * full prunes it down to 3/4, expired keys first, then the least recently
 * seen (an age histogram, two passes); a thread finding it full while
 * another prunes looks the key up once more, and logs it untracked only if
 * it is not there: a key under that contention may log twice, as it did on
 * cds_lfht. Hits on a known key are exact: one CAS of the entry's state.
 */

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <libknot/errcode.h>
#include <urcu.h>

#include "concurrent_table.h"
#include "hash.h"
#include "tsan_rcu.h"
#include "log_limit.h"

// Longer keys are not tracked (always logged); the module's are 8 bytes.
#define MAX_KEY_LEN UINT16_MAX

// The length of the keys that are their node's word: the module's keys.
#define WORD_LEN 8

// Buckets the table starts with; it doubles, up to one per key, as it fills.
#define INIT_BUCKETS 256

// Age histogram for pruning: exact seconds below 64, then one bin per octave.
#define EXACT_AGES 64
#define AGE_BINS (EXACT_AGES + 32)

/*
 * The state of a key in one word, so that "log now" and "count one more"
 * are a single CAS: the high half is the (truncated) time of the last line,
 * the low half the number of occurrences suppressed since.
 */
#define STATE(time, count) (((uint64_t)(time) << 32) | (uint32_t)(count))

typedef struct {
	uint64_t state;      // atomic, see STATE()
	uint32_t last_seen;  // atomic, truncated time of the last hit
	uint16_t len;
	uint8_t key[];       // the key, unless it is WORD_LEN bytes long
} entry_t;

struct mx_log_limit {
	mx_table_t table;        // no buckets when every hit is logged
	uint64_t seed;
	uint64_t word_seed[2];   // for 8-byte keys, from seed
	uint32_t interval;
	size_t prune_target;
};

// A key looked up: its node's word and its hash.
typedef struct {
	const uint8_t *data;
	size_t len;
	uint64_t word;
	uint64_t hash;
} lookup_t;

static uint32_t state_time(uint64_t state)
{
	return state >> 32;
}

static uint32_t state_count(uint64_t state)
{
	return (uint32_t)state;
}

// Seconds from then to now on the truncated clock; negative if now is older
// (another thread read the clock a bit earlier).
static int32_t age(uint32_t then, uint32_t now)
{
	return (int32_t)(now - then);
}

static bool expired(const mx_log_limit_t *limit, uint64_t state, uint32_t now)
{
	int32_t a = age(state_time(state), now);
	return a >= 0 && (uint32_t)a >= limit->interval;
}

// An 8-byte key is one step of the hash (wyhash's last one): the word times
// itself, each side mixed with a secret, the halves folded. The module's
// keys are seeded hashes already; this keeps others' chains short too.
static uint64_t hash_word(const mx_log_limit_t *limit, uint64_t word)
{
	return mx_hash_mum(word ^ limit->word_seed[0], word ^ limit->word_seed[1]);
}

// For a growth: the node's word is the key or its hash.
static uint64_t node_hash(const mx_table_t *table, const mx_table_node_t *n)
{
	const mx_log_limit_t *limit = caa_container_of(table, mx_log_limit_t, table);
	const entry_t *e = n->entry;
	return e->len == WORD_LEN ? hash_word(limit, n->word) : n->word;
}

// Inlined into the lookup, so that the common path of 8-byte keys compares
// one word (and the length).
__attribute__((always_inline))
static inline bool match(const void *entry, const void *key)
{
	const entry_t *e = entry;
	const lookup_t *k = key;
	return e->len == k->len &&
	       (k->len == WORD_LEN || mx_bytes_equal_any(e->key, k->data, k->len));
}

static uint64_t random_seed(mx_log_limit_t *limit)
{
	uint64_t seed;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed)) {
		return seed;
	}
	// Not secret, but differs between tables and runs.
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)(uintptr_t)limit ^ ((uint64_t)ts.tv_sec << 32) ^
	       (uint64_t)ts.tv_nsec;
}

mx_log_limit_t *mx_log_limit_new(uint32_t interval, size_t max_keys)
{
	if (max_keys == 0) {
		return NULL;
	}
	mx_log_limit_t *limit = calloc(1, sizeof(*limit));
	if (limit == NULL) {
		return NULL;
	}
	// The truncated clock compares ages as signed 32-bit numbers: an
	// interval of 68 years and more means "once".
	limit->interval = interval > INT32_MAX ? INT32_MAX : interval;
	// Prune down to about 3/4, but always make room for at least one key.
	limit->prune_target = max_keys - max_keys / 4;
	if (limit->prune_target == max_keys) {
		limit->prune_target--;
	}
	if (interval == 0) {
		return limit;  // every hit logs, no table needed
	}
	limit->seed = random_seed(limit);
	limit->word_seed[0] = limit->seed ^ MX_HASH_P1;
	limit->word_seed[1] = mx_hash_end(limit->seed) ^ MX_HASH_P2;
	if (mx_table_init(&limit->table, max_keys, INIT_BUCKETS, node_hash) != KNOT_EOK) {
		free(limit);
		return NULL;
	}
	return limit;
}

void mx_log_limit_free(mx_log_limit_t *limit)
{
	if (limit == NULL) {
		return;
	}
	mx_table_deinit(&limit->table);
	free(limit);
}

size_t mx_log_limit_size(mx_log_limit_t *limit)
{
	return limit == NULL ? 0 : mx_table_size(&limit->table);
}

/*** Pruning: one thread at a time (the table's maintenance). ***/

static unsigned age_bin(int32_t a)
{
	if (a < EXACT_AGES) {
		return a < 0 ? 0 : (unsigned)a;
	}
	// Octaves: 64..127 -> EXACT_AGES, 128..255 -> EXACT_AGES + 1, ...
	unsigned log2 = 31 - (unsigned)__builtin_clz((uint32_t)a);
	return EXACT_AGES + log2 - 6;
}

// A pass of pruning. With bins: removes expired entries (their next hit
// logs anyway), counts the others' ages. Without: removes those of bin
// whole and older, and take of the bin before.
typedef struct {
	const mx_log_limit_t *limit;
	uint32_t now;
	size_t *bins;
	unsigned whole;
	size_t take;
} prune_t;

static bool prune_drop(const void *entry, void *ctx)
{
	prune_t *p = ctx;
	const entry_t *e = entry;
	uint32_t seen = __atomic_load_n(&e->last_seen, __ATOMIC_RELAXED);
	unsigned bin = age_bin(age(seen, p->now));
	if (p->bins != NULL) {
		uint64_t state = __atomic_load_n(&e->state, __ATOMIC_RELAXED);
		bool drop = expired(p->limit, state, p->now);
		p->bins[bin] += !drop;
		return drop;
	}
	if (bin + 1 == p->whole && p->take > 0) {
		p->take--;
		return true;
	}
	return bin >= p->whole;
}

/*
 * Removes entries down to prune_target: first expired ones, then the least
 * recently seen (ties in table order).
 */
static void prune(mx_log_limit_t *limit, uint32_t now)
{
	size_t bins[AGE_BINS] = { 0 };
	prune_t p = { .limit = limit, .now = now, .bins = bins };
	mx_table_remove_if(&limit->table, prune_drop, &p, limit->prune_target);

	size_t count = mx_table_size(&limit->table);
	if (count <= limit->prune_target) {
		return;
	}
	// From the oldest: whole bins go while they do not cover the excess,
	// then "take" entries of the next (younger) bin, in table order.
	p.take = count - limit->prune_target;
	p.whole = AGE_BINS;
	while (p.whole > 0 && bins[p.whole - 1] < p.take) {
		p.take -= bins[--p.whole];
	}
	p.bins = NULL;
	mx_table_remove_if(&limit->table, prune_drop, &p, limit->prune_target);
}

/*** Hits. ***/

__attribute__((always_inline))
static inline bool entry_hit(mx_log_limit_t *limit, entry_t *e, uint32_t now,
                             uint32_t *suppressed)
{
	// Read first: hot keys would otherwise bounce the line on every hit.
	if (__atomic_load_n(&e->last_seen, __ATOMIC_RELAXED) != now) {
		__atomic_store_n(&e->last_seen, now, __ATOMIC_RELAXED);
	}

	uint64_t old = __atomic_load_n(&e->state, __ATOMIC_RELAXED);
	for (;;) {
		bool logged = expired(limit, old, now);
		uint64_t new;
		if (logged) {
			new = STATE(now, 0);
		} else if (state_count(old) == UINT32_MAX) {
			return false;  // saturated; the line says 4294967295
		} else {
			new = old + 1;
		}
		// Exactly one of the threads that saw the interval expired wins.
		if (__atomic_compare_exchange_n(&e->state, &old, new, true,
		                                __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
			if (logged) {
				*suppressed = state_count(old);
			}
			return logged;
		}
	}
}

static entry_t *new_entry(const lookup_t *k, uint32_t now)
{
	entry_t *e = malloc(sizeof(*e) + (k->len == WORD_LEN ? 0 : k->len));
	if (e == NULL) {
		return NULL;
	}
	__atomic_store_n(&e->state, STATE(now, 0), __ATOMIC_RELAXED);
	__atomic_store_n(&e->last_seen, now, __ATOMIC_RELAXED);
	e->len = k->len;
	if (k->len != WORD_LEN && k->len > 0) {
		memcpy(e->key, k->data, k->len);
	}
	return e;
}

// A key not found: inserted, unless another thread was first (see the top).
static bool insert(mx_log_limit_t *limit, const lookup_t *k, uint32_t now,
                   uint32_t *suppressed)
{
	mx_table_t *table = &limit->table;
	// A full table is pruned by one thread; the others log untracked.
	// But first: the key may have come in meanwhile (taking the last
	// place), then it is found in the table, not pruned out of it.
	if (!mx_table_reserve(table)) {
		entry_t *e = mx_table_find_all(table, k->hash, k->word, match, k);
		if (e != NULL) {
			return entry_hit(limit, e, now, suppressed);
		}
		if (!mx_table_try_lock(table)) {
			return true;
		}
		prune(limit, now);
		mx_table_unlock(table);
		if (!mx_table_reserve(table)) {
			return true;
		}
	}
	entry_t *e = new_entry(k, now);
	if (e == NULL) {
		mx_table_release(table);
		return true;
	}
	void *found = NULL;
	int ret = mx_table_insert(table, k->hash, k->word, e, match, k, &found);
	if (ret == KNOT_EEXIST) {
		// Another thread inserted it; ours was never published.
		free(e);
		return entry_hit(limit, found, now, suppressed);
	}
	if (ret != KNOT_EOK) {
		free(e);
		return true;
	}
	mx_table_grow(table);
	return true;  // first occurrence
}

// The same, called from the common path: a tail call (no lookup_t on the
// caller's stack).
__attribute__((noinline))
static bool insert_hit(mx_log_limit_t *limit, const uint8_t *key, size_t key_len,
                       uint64_t hash, uint32_t now, uint32_t *suppressed)
{
	const lookup_t k = {
		.data = key, .len = key_len, .hash = hash,
		.word = key_len == WORD_LEN ? mx_read8(key) : hash,
	};
	bool logged = insert(limit, &k, now, suppressed);
	READ_SIDE_END();
	return logged;
}

// Readers are done with what they found when they return (READ_SIDE_END).
__attribute__((always_inline))
static inline bool hit_key(mx_log_limit_t *limit, const lookup_t *k, uint32_t now,
                           uint32_t *suppressed)
{
	entry_t *e = mx_table_find(&limit->table, k->hash, k->word, match, k);
	if (__builtin_expect(e == NULL, 0)) {
		return insert_hit(limit, k->data, k->len, k->hash, now, suppressed);
	}
	bool logged = entry_hit(limit, e, now, suppressed);
	READ_SIDE_END();
	return logged;
}

// Keys of other lengths: hashed and compared as bytes, out of the way of
// the common path's registers.
__attribute__((noinline))
static bool hit_bytes(mx_log_limit_t *limit, const uint8_t *key, size_t key_len,
                      uint32_t now, uint32_t *suppressed)
{
	if (key_len > MAX_KEY_LEN) {
		return true;
	}
	uint64_t hash = mx_hash(limit->seed, key, key_len);
	const lookup_t k = { .data = key, .len = key_len, .word = hash, .hash = hash };
	return hit_key(limit, &k, now, suppressed);
}

// The common path: no call but the insert's and the other lengths', tail
// calls both. suppressed is not NULL.
__attribute__((always_inline))
static inline bool hit(mx_log_limit_t *limit, const uint8_t *key, size_t key_len,
                       uint64_t now, uint32_t *suppressed)
{
	*suppressed = 0;
	if (limit == NULL || limit->interval == 0) {
		return true;
	}
	uint32_t now32 = (uint32_t)now;  // ages are taken modulo 2^32 s
	if (key_len != WORD_LEN) {
		return hit_bytes(limit, key, key_len, now32, suppressed);
	}
	// The module's keys: one word, compared in the node.
	uint64_t word = mx_read8(key);
	const lookup_t k = { key, WORD_LEN, word, hash_word(limit, word) };
	return hit_key(limit, &k, now32, suppressed);
}

// Out of the common path: a count nobody reads.
__attribute__((noinline))
static bool hit_uncounted(mx_log_limit_t *limit, const uint8_t *key, size_t key_len,
                          uint64_t now)
{
	uint32_t suppressed;
	return hit(limit, key, key_len, now, &suppressed);
}

bool mx_log_limit_hit(mx_log_limit_t *limit, const uint8_t *key, size_t key_len,
                      uint64_t now, uint32_t *suppressed)
{
	rcu_read_lock();
	bool logged = mx_log_limit_hit_locked(limit, key, key_len, now, suppressed);
	rcu_read_unlock();
	return logged;
}

bool mx_log_limit_hit_locked(mx_log_limit_t *limit, const uint8_t *key, size_t key_len,
                             uint64_t now, uint32_t *suppressed)
{
	if (suppressed == NULL) {
		return hit_uncounted(limit, key, key_len, now);
	}
	return hit(limit, key, key_len, now, suppressed);
}
