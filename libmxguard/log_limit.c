/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The table: an RCU hash table of our own, an array of bucket chains.
 *
 * Readers (the common path: a key seen before) take no lock and never wait:
 * they load the table, one bucket and follow its chain with acquire loads,
 * then count the hit on the key's entry with one CAS. An 8-byte key (the
 * module's, a uint64 hash) is hashed as one word and kept in the chain node
 * itself, so it compares in one word; other lengths compare their hash
 * there, then their bytes in the entry.
 *
 * New keys are pushed at the head of their chain with a CAS, after a scan of
 * the chain from the head they replace: two threads inserting one key race
 * on the same head, the loser scans again and finds the winner's key, so a
 * key has one entry, and its first occurrence one line. No lock there
 * either. Removing (pruning) and growing are maintenance: one thread at a
 * time, the others skip it (a try-flag, never a wait). A removal unlinks
 * with a CAS on the head, or by storing the predecessor's link (only the
 * maintainer writes links of published nodes).
 *
 * Growth doubles the buckets without moving anything readers follow: the
 * maintainer links the new table from the old one, freezes each old bucket
 * (a tag bit in its head: pushes there fail), copies its nodes into the new
 * table, then publishes the new table. Nodes point to the entries, which
 * hold the state and are shared by a node and its copy, so a hit counts
 * wherever it is found. A reader in the old table still finds every key it
 * had; a key it misses may be in the new table only, and the insert path,
 * meeting a frozen bucket, goes on there (to the next table) after scanning
 * the frozen chain, which no longer changes: still one entry per key. Old
 * tables with their nodes, and removed nodes with their entries, are freed
 * by call_rcu; mx_log_limit_free waits for them (rcu_barrier).
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

#include <urcu.h>

#include "hash.h"
#include "tsan_rcu.h"
#include "log_limit.h"

// Publishing and following the chains: C11 release and acquire (plain moves
// on x86; correct, and visible to TSan, everywhere).
#define PUBLISH(ptr, value) __atomic_store_n(&(ptr), (value), __ATOMIC_RELEASE)
#define FOLLOW(ptr) __atomic_load_n(&(ptr), __ATOMIC_ACQUIRE)

// Longer keys are not tracked (always logged); the module's are 8 bytes.
#define MAX_KEY_LEN UINT16_MAX

// The length kept in the chain node itself: the module's keys.
#define WORD_LEN 8

// Buckets the table starts with; it doubles, up to one per key, as it fills.
#define INIT_BUCKETS 256

// A bucket head with this bit set is frozen: a growth copies its chain.
#define FROZEN ((uintptr_t)1)

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
	uint8_t key[];       // the key, unless it is WORD_LEN bytes long
} entry_t;

// A key in a chain; a growth copies it, the entry stays.
typedef struct node {
	struct node *next;   // RCU: readers follow it without a lock
	uint64_t word;       // the key itself if WORD_LEN bytes long, else its hash
	entry_t *entry;
	uint16_t len;
	bool orphan;         // its entry was not copied (no memory): freed with it
	struct rcu_head rcu;
} node_t;

typedef struct table {
	struct rcu_head rcu;
	struct table *next;  // the table a growth fills, once it has begun
	size_t mask;
	uintptr_t bucket[];  // node_t *, and FROZEN
} table_t;

struct mx_log_limit {
	table_t *table;          // RCU; NULL when every hit is logged
	uint64_t seed;
	uint64_t word_seed[2];   // for 8-byte keys, from seed
	uint32_t interval;
	size_t max_keys;
	size_t max_buckets;
	size_t prune_target;
	size_t count;            // atomic: keys in the table plus reservations
	bool busy;               // atomic: someone prunes or grows the table
};

// A key looked up: word and hash as a node has them.
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

static uint64_t node_hash(const mx_log_limit_t *limit, const node_t *n)
{
	return n->len == WORD_LEN ? hash_word(limit, n->word) : n->word;
}

static node_t *chain(uintptr_t head)
{
	return (node_t *)(head & ~FROZEN);
}

// Longer keys compare faster in libc (vector instructions) than in words.
static bool equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	return (len <= 24) ? mx_bytes_equal(a, b, len) : memcmp(a, b, len) == 0;
}

// The entry of the key in a chain, or NULL. Inlined, so that the common
// path of 8-byte keys compares one word (and the length).
__attribute__((always_inline))
static inline entry_t *find(const node_t *n, const lookup_t *k)
{
	for (; n != NULL; n = FOLLOW(n->next)) {
		if (n->word == k->word && n->len == k->len &&
		    (k->len == WORD_LEN || equal(n->entry->key, k->data, k->len))) {
			return n->entry;
		}
	}
	return NULL;
}

static void free_node_entry(struct rcu_head *head)
{
	AFTER_GRACE_PERIOD();
	node_t *n = caa_container_of(head, node_t, rcu);
	free(n->entry);
	free(n);
}

// Nodes of a table, the entries only of those that own theirs.
static void free_nodes(table_t *t, bool all_entries)
{
	for (size_t i = 0; i <= t->mask; i++) {
		node_t *n = chain(t->bucket[i]);
		while (n != NULL) {
			node_t *next = n->next;
			if (all_entries || n->orphan) {
				free(n->entry);
			}
			free(n);
			n = next;
		}
	}
	free(t);
}

// A table replaced by a growth: its nodes are copies' originals.
static void free_table(struct rcu_head *head)
{
	AFTER_GRACE_PERIOD();
	free_nodes(caa_container_of(head, table_t, rcu), false);
}

static table_t *table_new(size_t buckets)
{
	table_t *t = calloc(1, sizeof(*t) + buckets * sizeof(t->bucket[0]));
	if (t != NULL) {
		t->mask = buckets - 1;
	}
	return t;
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
	limit->word_seed[0] = limit->seed ^ MX_HASH_P1;
	limit->word_seed[1] = mx_hash_end(limit->seed) ^ MX_HASH_P2;

	// Never more keys than max_keys: more buckets than that are no use.
	limit->max_buckets = pow2_at_least(max_keys);
	size_t init = limit->max_buckets < INIT_BUCKETS ? limit->max_buckets : INIT_BUCKETS;
	limit->table = table_new(init);
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
		// Pruned entries and old tables wait for their callbacks, which
		// must run before the module can go; the rest no reader sees
		// any more. Every node of the last table owns its entry.
		rcu_barrier();
		AFTER_GRACE_PERIOD();
		free_nodes(limit->table, true);
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

/*** Maintenance: one thread at a time (limit->busy), the table stays. ***/

// Unlinks n, whose predecessor is prev (NULL: the head, when last seen).
// New keys are pushed at the head meanwhile, nothing else changes links.
static void remove_node(mx_log_limit_t *limit, uintptr_t *bucket, node_t *prev,
                        node_t *n)
{
	node_t *next = FOLLOW(n->next);
	if (prev == NULL) {
		uintptr_t head = (uintptr_t)n;
		if (__atomic_compare_exchange_n(bucket, &head, (uintptr_t)next, false,
		                                __ATOMIC_RELEASE, __ATOMIC_ACQUIRE)) {
			goto unlinked;
		}
		// Keys were pushed in front of it.
		prev = chain(head);
		while (FOLLOW(prev->next) != n) {
			prev = FOLLOW(prev->next);
		}
	}
	PUBLISH(prev->next, next);
unlinked:
	release_slot(limit);
	READ_SIDE_END();
	call_rcu(&n->rcu, free_node_entry);
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

// One pass over the table while it is over the target. With bins: removes
// expired entries (their next hit logs anyway), counts the others' ages.
// Without: removes those of bin whole and older, and take of the bin before.
static void prune_pass(mx_log_limit_t *limit, uint32_t now, size_t *bins,
                       unsigned whole, size_t take)
{
	table_t *t = limit->table;  // only maintenance replaces it
	for (size_t i = 0; i <= t->mask; i++) {
		node_t *prev = NULL;
		node_t *next;
		for (node_t *n = chain(FOLLOW(t->bucket[i])); n != NULL; n = next) {
			if (!over_target(limit)) {
				return;
			}
			next = FOLLOW(n->next);
			const entry_t *e = n->entry;
			uint32_t seen = __atomic_load_n(&e->last_seen, __ATOMIC_RELAXED);
			unsigned bin = age_bin(age(seen, now));
			bool drop;
			if (bins != NULL) {
				uint64_t state = __atomic_load_n(&e->state, __ATOMIC_RELAXED);
				drop = expired(limit, state, now);
				bins[bin] += !drop;
			} else if (bin + 1 == whole && take > 0) {
				take--;
				drop = true;
			} else {
				drop = bin >= whole;
			}
			if (drop) {
				remove_node(limit, &t->bucket[i], prev, n);
			} else {
				prev = n;
			}
		}
	}
}

/*
 * Removes entries down to prune_target: first expired ones, then the least
 * recently seen (ties in table order).
 */
static void prune(mx_log_limit_t *limit, uint32_t now)
{
	size_t bins[AGE_BINS] = { 0 };
	prune_pass(limit, now, bins, 0, 0);

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
	prune_pass(limit, now, NULL, whole, take);
}

// Pushes n at the head of its chain in t, which no one freezes meanwhile.
static void push_node(table_t *t, uint64_t hash, node_t *n)
{
	uintptr_t *bucket = &t->bucket[hash & t->mask];
	uintptr_t head = __atomic_load_n(bucket, __ATOMIC_RELAXED);
	do {
		n->next = chain(head);
	} while (!__atomic_compare_exchange_n(bucket, &head, (uintptr_t)n, true,
	                                      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

// Twice the buckets: see the top of the file. New keys go on being pushed,
// into the old table's buckets not frozen yet, then into the new one.
static void grow(mx_log_limit_t *limit)
{
	table_t *old = limit->table;
	table_t *t = table_new(2 * (old->mask + 1));
	if (t == NULL) {
		return;  // longer chains
	}
	PUBLISH(old->next, t);  // before any bucket is seen frozen
	for (size_t i = 0; i <= old->mask; i++) {
		uintptr_t head = __atomic_fetch_or(&old->bucket[i], FROZEN, __ATOMIC_ACQ_REL);
		for (node_t *n = chain(head); n != NULL; n = FOLLOW(n->next)) {
			node_t *copy = malloc(sizeof(*copy));
			if (copy == NULL) {
				// The key goes; its next hit is a first one again.
				n->orphan = true;
				release_slot(limit);
				continue;
			}
			*copy = (node_t) { .word = n->word, .entry = n->entry, .len = n->len };
			push_node(t, node_hash(limit, n), copy);
		}
	}
	PUBLISH(limit->table, t);
	READ_SIDE_END();
	call_rcu(&old->rcu, free_table);
}

static bool needs_growth(mx_log_limit_t *limit)
{
	size_t buckets = FOLLOW(limit->table)->mask + 1;
	return buckets < limit->max_buckets &&
	       __atomic_load_n(&limit->count, __ATOMIC_RELAXED) > buckets;
}

// Wins the maintenance flag or leaves at once; never waits for the winner.
static bool try_maintain(mx_log_limit_t *limit, uint32_t now, bool prune_it)
{
	if (__atomic_exchange_n(&limit->busy, true, __ATOMIC_ACQUIRE)) {
		return false;
	}
	if (prune_it) {
		prune(limit, now);
	} else if (needs_growth(limit)) {
		grow(limit);
	}
	__atomic_store_n(&limit->busy, false, __ATOMIC_RELEASE);
	return true;
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

static node_t *new_node(const lookup_t *k, uint32_t now)
{
	node_t *n = malloc(sizeof(*n));
	entry_t *e = malloc(sizeof(*e) + (k->len == WORD_LEN ? 0 : k->len));
	if (n == NULL || e == NULL) {
		free(n);
		free(e);
		return NULL;
	}
	__atomic_store_n(&e->state, STATE(now, 0), __ATOMIC_RELAXED);
	__atomic_store_n(&e->last_seen, now, __ATOMIC_RELAXED);
	if (k->len != WORD_LEN && k->len > 0) {
		memcpy(e->key, k->data, k->len);
	}
	*n = (node_t) { .word = k->word, .entry = e, .len = k->len };
	return n;
}

// The entry of a key in the table or in those a growth fills, or NULL.
static entry_t *find_all(mx_log_limit_t *limit, const lookup_t *k)
{
	const table_t *t = FOLLOW(limit->table);
	for (;;) {
		uintptr_t head = FOLLOW(t->bucket[k->hash & t->mask]);
		entry_t *e = find(chain(head), k);
		if (e != NULL || !(head & FROZEN)) {
			return e;
		}
		t = FOLLOW(t->next);
	}
}

// A key not found: inserted, unless another thread was first (see the top).
static bool insert(mx_log_limit_t *limit, const lookup_t *k, uint32_t now,
                   uint32_t *suppressed)
{
	// A full table is pruned by one thread; the others log untracked.
	// But first: the key may have come in meanwhile (taking the last
	// place), then it is found in the table, not pruned out of it.
	if (!reserve_slot(limit)) {
		entry_t *e = find_all(limit, k);
		if (e != NULL) {
			return entry_hit(limit, e, now, suppressed);
		}
		if (!try_maintain(limit, now, true) || !reserve_slot(limit)) {
			return true;
		}
	}
	node_t *n = new_node(k, now);
	if (n == NULL) {
		release_slot(limit);
		return true;
	}

	table_t *t = FOLLOW(limit->table);
	for (;;) {
		uintptr_t *bucket = &t->bucket[k->hash & t->mask];
		uintptr_t head = FOLLOW(*bucket);
		entry_t *e = find(chain(head), k);
		if (e != NULL) {
			// Another thread inserted it; ours was never published.
			free(n->entry);
			free(n);
			release_slot(limit);
			return entry_hit(limit, e, now, suppressed);
		}
		if (head & FROZEN) {
			// That chain is complete and stays so: on to the next table.
			t = FOLLOW(t->next);
			continue;
		}
		n->next = chain(head);
		// Fails if a key was pushed or the bucket frozen: scan again.
		if (__atomic_compare_exchange_n(bucket, &head, (uintptr_t)n, false,
		                                __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
			break;
		}
	}

	if (needs_growth(limit)) {
		try_maintain(limit, now, false);
	}
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
	const table_t *t = FOLLOW(limit->table);
	entry_t *e = find(chain(FOLLOW(t->bucket[k->hash & t->mask])), k);
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
	// (Not limit->table: a growth replaces it.)
	if (limit == NULL || limit->interval == 0 || key_len > MAX_KEY_LEN) {
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
