/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <urcu.h>
#include <urcu/rculfhash.h>

#include "hash.h"
#include "tsan_rcu.h"
#include "log_limit.h"

// Longer keys are not tracked (always logged); the module's are under 800 B.
#define MAX_KEY_LEN UINT16_MAX

// Buckets the table starts with; it grows up to max_keys on its own.
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
	struct cds_lfht_node node;
	struct rcu_head rcu;
	uint64_t state;      // atomic, see STATE()
	uint32_t last_seen;  // atomic, truncated time of the last hit
	uint16_t key_len;    // written last, read first (publication order)
	uint8_t key[];
} entry_t;

typedef struct {
	const uint8_t *data;
	size_t len;
} lookup_key_t;

struct mx_log_limit {
	struct cds_lfht *table;  // NULL when every hit is logged
	uint64_t seed;
	uint32_t interval;
	size_t max_keys;
	size_t prune_target;
	size_t count;            // atomic: entries in the table plus reservations
	bool pruning;            // atomic: someone is pruning
};

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

static uint64_t hash_key(const mx_log_limit_t *limit, const uint8_t *key,
                         size_t len)
{
	return mx_hash(limit->seed, key, len);
}

// The table publishes entries already; this acquire, paired with the release
// in new_entry(), states it in C11 terms (and so TSan sees it too).
static size_t acquire_key_len(const entry_t *e)
{
	return __atomic_load_n(&e->key_len, __ATOMIC_ACQUIRE);
}

static int match_key(struct cds_lfht_node *node, const void *data)
{
	const entry_t *e = caa_container_of(node, entry_t, node);
	const lookup_key_t *key = data;
	size_t len = acquire_key_len(e);
	return len == key->len && (len == 0 || memcmp(e->key, key->data, len) == 0);
}

static void free_entry(struct rcu_head *head)
{
	AFTER_GRACE_PERIOD();
	free(caa_container_of(head, entry_t, rcu));
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

static size_t pow2_at_least(size_t n)
{
	size_t p = 1;
	while (p < n && p < ((size_t)1 << (sizeof(size_t) * 8 - 2))) {
		p <<= 1;
	}
	return p;
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
	limit->max_keys = max_keys;
	// Prune down to about 3/4, but always make room for at least one key.
	limit->prune_target = max_keys - max_keys / 4;
	if (limit->prune_target == max_keys) {
		limit->prune_target--;
	}
	if (interval == 0) {
		return limit;  // every hit logs, no table needed
	}
	limit->seed = random_seed(limit);

	// Never more keys than max_keys: more buckets than that are no use.
	size_t max_buckets = pow2_at_least(max_keys);
	size_t init = max_buckets < INIT_BUCKETS ? max_buckets : INIT_BUCKETS;
	limit->table = cds_lfht_new(init, init, max_buckets,
	                            CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, NULL);
	if (limit->table == NULL) {
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
	if (limit->table != NULL) {
		struct cds_lfht_iter iter;
		entry_t *e;
		rcu_read_lock();
		cds_lfht_for_each_entry(limit->table, &iter, e, node) {
			if (cds_lfht_del(limit->table, &e->node) == 0) {
				call_rcu(&e->rcu, free_entry);
			}
		}
		READ_SIDE_END();
		rcu_read_unlock();
		// Fails only if the table is still in use; better leak than crash.
		(void)cds_lfht_destroy(limit->table, NULL);
		// Also waits for the entries pruned earlier.
		rcu_barrier();
	}
	free(limit);
}

size_t mx_log_limit_size(mx_log_limit_t *limit)
{
	if (limit == NULL) {
		return 0;
	}
	return __atomic_load_n(&limit->count, __ATOMIC_RELAXED);
}

// Takes a place for a new key; the count never goes over max_keys.
static bool reserve_slot(mx_log_limit_t *limit)
{
	size_t n = __atomic_load_n(&limit->count, __ATOMIC_RELAXED);
	do {
		if (n >= limit->max_keys) {
			return false;
		}
	} while (!__atomic_compare_exchange_n(&limit->count, &n, n + 1, true,
	                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return true;
}

static void release_slot(mx_log_limit_t *limit)
{
	__atomic_fetch_sub(&limit->count, 1, __ATOMIC_RELAXED);
}

static bool over_target(mx_log_limit_t *limit)
{
	return __atomic_load_n(&limit->count, __ATOMIC_RELAXED) > limit->prune_target;
}

// Call with the RCU read lock held.
static void remove_entry(mx_log_limit_t *limit, entry_t *e)
{
	// Only the pruner removes entries, but a failed del must not free twice.
	if (cds_lfht_del(limit->table, &e->node) != 0) {
		return;
	}
	release_slot(limit);
	call_rcu(&e->rcu, free_entry);
}

static unsigned age_bin(int32_t a)
{
	if (a < EXACT_AGES) {
		return a < 0 ? 0 : (unsigned)a;
	}
	// Octaves: 64..127 -> EXACT_AGES, 128..255 -> EXACT_AGES + 1, ...
	unsigned log2 = 31 - (unsigned)__builtin_clz((uint32_t)a);
	return EXACT_AGES + log2 - 6;
}

/*
 * Removes entries down to prune_target: first expired ones (their next hit
 * logs anyway), then the least recently seen (ties in table order).
 * Only one thread prunes at a time; call with the RCU read lock held.
 */
static void prune(mx_log_limit_t *limit, uint32_t now)
{
	size_t bins[AGE_BINS] = { 0 };
	struct cds_lfht_iter iter;
	entry_t *e;

	cds_lfht_for_each_entry(limit->table, &iter, e, node) {
		if (!over_target(limit)) {
			return;
		}
		acquire_key_len(e);
		uint64_t state = __atomic_load_n(&e->state, __ATOMIC_RELAXED);
		if (expired(limit, state, now)) {
			remove_entry(limit, e);
			continue;
		}
		uint32_t seen = __atomic_load_n(&e->last_seen, __ATOMIC_RELAXED);
		bins[age_bin(age(seen, now))]++;
	}

	size_t count = __atomic_load_n(&limit->count, __ATOMIC_RELAXED);
	if (count <= limit->prune_target) {
		return;
	}
	// From the oldest: whole bins go while they do not cover the excess,
	// then "take" entries of the next (younger) bin, in table order.
	size_t take = count - limit->prune_target;
	unsigned whole = AGE_BINS;
	while (whole > 0 && bins[whole - 1] < take) {
		take -= bins[--whole];
	}

	cds_lfht_for_each_entry(limit->table, &iter, e, node) {
		if (!over_target(limit)) {
			return;
		}
		acquire_key_len(e);
		uint32_t seen = __atomic_load_n(&e->last_seen, __ATOMIC_RELAXED);
		unsigned bin = age_bin(age(seen, now));
		if (bin >= whole) {
			remove_entry(limit, e);
		} else if (bin + 1 == whole && take > 0) {
			take--;
			remove_entry(limit, e);
		}
	}
}

// Wins the pruning flag or leaves at once; never waits for the winner.
static bool try_prune(mx_log_limit_t *limit, uint32_t now)
{
	if (__atomic_exchange_n(&limit->pruning, true, __ATOMIC_ACQUIRE)) {
		return false;
	}
	prune(limit, now);
	__atomic_store_n(&limit->pruning, false, __ATOMIC_RELEASE);
	return true;
}

static entry_t *new_entry(const lookup_key_t *key, uint32_t now)
{
	entry_t *e = malloc(sizeof(*e) + key->len);
	if (e == NULL) {
		return NULL;
	}
	cds_lfht_node_init(&e->node);
	__atomic_store_n(&e->state, STATE(now, 0), __ATOMIC_RELAXED);
	__atomic_store_n(&e->last_seen, now, __ATOMIC_RELAXED);
	if (key->len > 0) {
		memcpy(e->key, key->data, key->len);
	}
	__atomic_store_n(&e->key_len, (uint16_t)key->len, __ATOMIC_RELEASE);
	return e;
}

static bool entry_hit(mx_log_limit_t *limit, entry_t *e, uint32_t now,
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

static bool insert_hit(mx_log_limit_t *limit, const lookup_key_t *key,
                       uint64_t hash, uint32_t now, uint32_t *suppressed)
{
	// A full table is pruned by one thread; the others log untracked.
	if (!reserve_slot(limit) &&
	    (!try_prune(limit, now) || !reserve_slot(limit))) {
		return true;
	}

	entry_t *e = new_entry(key, now);
	if (e == NULL) {
		release_slot(limit);
		return true;
	}

	struct cds_lfht_node *node = cds_lfht_add_unique(limit->table, hash,
	                                                 match_key, key, &e->node);
	if (node == &e->node) {
		return true;  // first occurrence
	}

	// Another thread inserted the key meanwhile; ours was never published.
	free(e);
	release_slot(limit);
	return entry_hit(limit, caa_container_of(node, entry_t, node), now,
	                 suppressed);
}

static bool hit(mx_log_limit_t *limit, const uint8_t *key, size_t key_len,
                uint64_t now, uint32_t *suppressed, bool lock)
{
	uint32_t dummy;
	if (suppressed == NULL) {
		suppressed = &dummy;
	}
	*suppressed = 0;
	if (limit == NULL || limit->table == NULL || key_len > MAX_KEY_LEN) {
		return true;
	}

	const lookup_key_t k = { .data = key, .len = key_len };
	uint64_t hash = hash_key(limit, key, key_len);
	uint32_t now32 = (uint32_t)now;  // ages are taken modulo 2^32 s

	if (lock) {
		rcu_read_lock();
	}
	struct cds_lfht_iter iter;
	cds_lfht_lookup(limit->table, hash, match_key, &k, &iter);
	struct cds_lfht_node *node = cds_lfht_iter_get_node(&iter);
	bool logged;
	if (node != NULL) {
		logged = entry_hit(limit, caa_container_of(node, entry_t, node),
		                   now32, suppressed);
	} else {
		logged = insert_hit(limit, &k, hash, now32, suppressed);
	}
	READ_SIDE_END();
	if (lock) {
		rcu_read_unlock();
	}
	return logged;
}

bool mx_log_limit_hit(mx_log_limit_t *limit, const uint8_t *key, size_t key_len,
                      uint64_t now, uint32_t *suppressed)
{
	return hit(limit, key, key_len, now, suppressed, true);
}

bool mx_log_limit_hit_locked(mx_log_limit_t *limit, const uint8_t *key, size_t key_len,
                             uint64_t now, uint32_t *suppressed)
{
	return hit(limit, key, key_len, now, suppressed, false);
}
