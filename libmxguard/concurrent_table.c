/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdlib.h>

#include <libknot/errcode.h>

#include "concurrent_table.h"
#include "tsan_rcu.h"

static mx_table_node_t *chain(uintptr_t head)
{
	return (mx_table_node_t *)(head & ~MX_TABLE_FROZEN);
}

static mx_table_buckets_t *buckets_new(size_t count)
{
	mx_table_buckets_t *b = calloc(1, sizeof(*b) + count * sizeof(b->bucket[0]));
	if (b != NULL) {
		b->mask = count - 1;
	}
	return b;
}

static size_t pow2_at_least(size_t n)
{
	size_t p = 1;
	while (p < n && p < ((size_t)1 << (sizeof(size_t) * 8 - 2))) {
		p <<= 1;
	}
	return p;
}

int mx_table_init(mx_table_t *t, size_t max_entries, size_t init_buckets,
                  mx_table_hash_f node_hash)
{
	if (max_entries == 0 || init_buckets == 0 || (init_buckets & (init_buckets - 1))) {
		return KNOT_EINVAL;
	}
	// Never more entries than max_entries: more buckets are no use.
	size_t max_buckets = pow2_at_least(max_entries);
	*t = (mx_table_t) {
		.node_hash = node_hash,
		.max_entries = max_entries,
		.max_buckets = max_buckets,
	};
	t->buckets = buckets_new(init_buckets < max_buckets ? init_buckets : max_buckets);
	return t->buckets == NULL ? KNOT_ENOMEM : KNOT_EOK;
}

// An unlinked node and its entry, after a grace period.
static void free_node(struct rcu_head *head)
{
	AFTER_GRACE_PERIOD();
	mx_table_node_t *n = caa_container_of(head, mx_table_node_t, rcu);
	free(n->entry);
	free(n);
}

// The nodes of buckets, the entries only of those that own theirs.
static void free_buckets(mx_table_buckets_t *b, bool all_entries)
{
	for (size_t i = 0; i <= b->mask; i++) {
		mx_table_node_t *n = chain(b->bucket[i]);
		while (n != NULL) {
			mx_table_node_t *next = n->next;
			if (all_entries || n->orphan) {
				free(n->entry);
			}
			free(n);
			n = next;
		}
	}
	free(b);
}

// Buckets replaced by a growth: their nodes are the copies' originals.
static void free_old_buckets(struct rcu_head *head)
{
	AFTER_GRACE_PERIOD();
	free_buckets(caa_container_of(head, mx_table_buckets_t, rcu), false);
}

void mx_table_deinit(mx_table_t *t)
{
	if (t->buckets == NULL) {
		return;
	}
	// Removed entries and old buckets wait for their callbacks, which must
	// run before the module can go; the rest no reader sees any more.
	// Every node of the last buckets owns its entry.
	rcu_barrier();
	AFTER_GRACE_PERIOD();
	free_buckets(t->buckets, true);
	t->buckets = NULL;
}

void *mx_table_find_all(const mx_table_t *t, uint64_t hash, uint64_t word,
                        mx_table_match_f match, const void *key)
{
	const mx_table_buckets_t *b = MX_FOLLOW(t->buckets);
	for (;;) {
		uintptr_t head = MX_FOLLOW(b->bucket[hash & b->mask]);
		void *e = mx_table_chain_find(head, word, match, key);
		if (e != NULL || !(head & MX_TABLE_FROZEN)) {
			return e;
		}
		b = MX_FOLLOW(b->next);
	}
}

bool mx_table_reserve(mx_table_t *t)
{
	size_t n = __atomic_load_n(&t->count, __ATOMIC_RELAXED);
	do {
		if (n >= t->max_entries) {
			return false;
		}
	} while (!__atomic_compare_exchange_n(&t->count, &n, n + 1, true,
	                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return true;
}

void mx_table_release(mx_table_t *t)
{
	__atomic_fetch_sub(&t->count, 1, __ATOMIC_RELAXED);
}

int mx_table_insert(mx_table_t *t, uint64_t hash, uint64_t word, void *entry,
                    mx_table_match_f match, const void *key, void **found)
{
	mx_table_node_t *n = malloc(sizeof(*n));
	if (n == NULL) {
		mx_table_release(t);
		return KNOT_ENOMEM;
	}
	*n = (mx_table_node_t) { .word = word, .entry = entry };

	mx_table_buckets_t *b = MX_FOLLOW(t->buckets);
	for (;;) {
		uintptr_t *bucket = &b->bucket[hash & b->mask];
		uintptr_t head = MX_FOLLOW(*bucket);
		void *e = mx_table_chain_find(head, word, match, key);
		if (e != NULL) {
			// Another thread inserted it; ours was never published.
			free(n);
			mx_table_release(t);
			*found = e;
			return KNOT_EEXIST;
		}
		if (head & MX_TABLE_FROZEN) {
			// That chain is complete and stays so: on to the new buckets.
			b = MX_FOLLOW(b->next);
			continue;
		}
		n->next = chain(head);
		// Fails if an entry was pushed or the bucket frozen: scan again.
		if (__atomic_compare_exchange_n(bucket, &head, (uintptr_t)n, false,
		                                __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
			return KNOT_EOK;
		}
	}
}

bool mx_table_try_lock(mx_table_t *t)
{
	return !__atomic_exchange_n(&t->busy, true, __ATOMIC_ACQUIRE);
}

void mx_table_unlock(mx_table_t *t)
{
	__atomic_store_n(&t->busy, false, __ATOMIC_RELEASE);
}

/*** Maintenance: one thread at a time (t->busy), the buckets stay. ***/

// Puts new (NULL: nothing) in the place of n, whose predecessor is prev
// (NULL: the head, when last seen). Entries are pushed at the head
// meanwhile; nothing else changes links.
static void unlink_node(uintptr_t *bucket, mx_table_node_t *prev, mx_table_node_t *n,
                        mx_table_node_t *new)
{
	mx_table_node_t *next = MX_FOLLOW(n->next);
	mx_table_node_t *instead = next;
	if (new != NULL) {
		new->next = next;
		instead = new;
	}
	if (prev == NULL) {
		uintptr_t head = (uintptr_t)n;
		if (__atomic_compare_exchange_n(bucket, &head, (uintptr_t)instead, false,
		                                __ATOMIC_RELEASE, __ATOMIC_ACQUIRE)) {
			goto unlinked;
		}
		// Entries were pushed in front of it.
		prev = chain(head);
		while (MX_FOLLOW(prev->next) != n) {
			prev = MX_FOLLOW(prev->next);
		}
	}
	MX_PUBLISH(prev->next, instead);
unlinked:
	READ_SIDE_END();
	call_rcu(&n->rcu, free_node);
}

void mx_table_evict(mx_table_t *t)
{
	mx_table_buckets_t *b = t->buckets;  // only maintenance replaces them
	for (size_t n = 0; n <= b->mask; n++) {
		size_t i = (t->hand + n) & b->mask;
		mx_table_node_t *head = chain(MX_FOLLOW(b->bucket[i]));
		if (head != NULL) {
			t->hand = i + 1;
			unlink_node(&b->bucket[i], NULL, head, NULL);
			mx_table_release(t);
			return;
		}
	}
}

int mx_table_replace(mx_table_t *t, uint64_t hash, uint64_t word, void *entry,
                     mx_table_match_f match, const void *key)
{
	mx_table_buckets_t *b = t->buckets;
	uintptr_t *bucket = &b->bucket[hash & b->mask];
	mx_table_node_t *prev = NULL;
	for (mx_table_node_t *n = chain(MX_FOLLOW(*bucket)); n != NULL;
	     prev = n, n = MX_FOLLOW(n->next)) {
		if (n->word != word || !match(n->entry, key)) {
			continue;
		}
		mx_table_node_t *new = malloc(sizeof(*new));
		if (new == NULL) {
			return KNOT_ENOMEM;
		}
		*new = (mx_table_node_t) { .word = word, .entry = entry };
		unlink_node(bucket, prev, n, new);
		return KNOT_EOK;
	}
	return KNOT_ENOENT;
}

void mx_table_remove_if(mx_table_t *t, mx_table_drop_f drop, void *ctx, size_t down_to)
{
	mx_table_buckets_t *b = t->buckets;
	for (size_t i = 0; i <= b->mask; i++) {
		mx_table_node_t *prev = NULL;
		mx_table_node_t *next;
		for (mx_table_node_t *n = chain(MX_FOLLOW(b->bucket[i])); n != NULL; n = next) {
			if (mx_table_size(t) <= down_to) {
				return;
			}
			next = MX_FOLLOW(n->next);
			if (drop(n->entry, ctx)) {
				unlink_node(&b->bucket[i], prev, n, NULL);
				mx_table_release(t);
			} else {
				prev = n;
			}
		}
	}
}

static uint64_t node_hash(const mx_table_t *t, const mx_table_node_t *n)
{
	return t->node_hash != NULL ? t->node_hash(t, n) : n->word;
}

// Pushes n at the head of its chain in b, which no one freezes meanwhile.
static void push_node(mx_table_buckets_t *b, uint64_t hash, mx_table_node_t *n)
{
	uintptr_t *bucket = &b->bucket[hash & b->mask];
	uintptr_t head = __atomic_load_n(bucket, __ATOMIC_RELAXED);
	do {
		n->next = chain(head);
	} while (!__atomic_compare_exchange_n(bucket, &head, (uintptr_t)n, true,
	                                      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

static bool needs_growth(const mx_table_t *t)
{
	size_t buckets = MX_FOLLOW(t->buckets)->mask + 1;
	return buckets < t->max_buckets && mx_table_size(t) > buckets;
}

// Twice the buckets: see the top of the header. New entries go on being
// pushed, into the old buckets not frozen yet, then into the new ones.
void mx_table_grow_locked(mx_table_t *t)
{
	if (!needs_growth(t)) {
		return;
	}
	mx_table_buckets_t *old = t->buckets;
	mx_table_buckets_t *b = buckets_new(2 * (old->mask + 1));
	if (b == NULL) {
		return;  // longer chains
	}
	MX_PUBLISH(old->next, b);  // before any bucket is seen frozen
	for (size_t i = 0; i <= old->mask; i++) {
		uintptr_t head = __atomic_fetch_or(&old->bucket[i], MX_TABLE_FROZEN,
		                                   __ATOMIC_ACQ_REL);
		for (mx_table_node_t *n = chain(head); n != NULL; n = MX_FOLLOW(n->next)) {
			mx_table_node_t *copy = malloc(sizeof(*copy));
			if (copy == NULL) {
				// The entry goes with the old buckets.
				n->orphan = true;
				mx_table_release(t);
				continue;
			}
			*copy = (mx_table_node_t) { .word = n->word, .entry = n->entry };
			push_node(b, node_hash(t, n), copy);
		}
	}
	MX_PUBLISH(t->buckets, b);
	READ_SIDE_END();
	call_rcu(&old->rcu, free_old_buckets);
}

void mx_table_grow(mx_table_t *t)
{
	if (needs_growth(t) && mx_table_try_lock(t)) {
		mx_table_grow_locked(t);
		mx_table_unlock(t);
	}
}
