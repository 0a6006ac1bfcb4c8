/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief The one concurrent table of the library: entries of bounded number,
 *        found by a hash and a word, shared by threads under RCU (liburcu).
 *
 * Its users (the verdict cache, the signature table, the log limiter) keep
 * what an entry holds and how it matches a key; the table keeps where
 * entries are. Each entry has a node in a chain of its bucket; the node
 * holds the entry's word (a hash, or a short key itself), compared before
 * the user's match is asked. Readers take no lock, write nothing and never
 * wait: mx_table_find() loads the buckets, one bucket and follows its chain
 * with acquire loads, inside the caller's RCU read-side section. A chain
 * changed under a reader can make it miss an entry, never find a wrong one.
 *
 * Writers never wait either. Inserts are lock-free (mx_table_insert pushes
 * at the head of the chain with a CAS, after a scan of the chain from the
 * head it replaces: one entry per key). Removing, replacing, evicting and
 * growing are maintenance: one thread at a time (mx_table_try_lock), the
 * others skip it. Only the maintainer writes the links of published nodes.
 *
 * The bound: an entry takes its place in the count (mx_table_reserve)
 * before it is pushed, so the count, places taken included, never exceeds
 * it. Growth doubles the buckets, up to one per entry, without changing
 * anything readers follow: the maintainer links the new buckets from the
 * old, freezes each old bucket (a tag bit in its head: pushes there fail),
 * copies its nodes into the new buckets and then publishes them. A node's
 * copy points to the same entry, so an entry's state is one wherever it
 * is found. An insert meeting a frozen bucket scans its chain, which no
 * longer changes, and goes on in the new buckets. Unlinked nodes with their
 * entries, and old buckets with their nodes, are freed by call_rcu;
 * mx_table_deinit() waits for them (rcu_barrier).
 *
 * Entries are one allocation each (malloc), freed with free() by the table
 * once they are in it.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <urcu.h>

// Publishing and following the chains: C11 release and acquire (plain moves
// on x86; correct, and visible to TSan, everywhere).
#define MX_PUBLISH(ptr, value) __atomic_store_n(&(ptr), (value), __ATOMIC_RELEASE)
#define MX_FOLLOW(ptr) __atomic_load_n(&(ptr), __ATOMIC_ACQUIRE)

// A bucket head with this bit set is frozen: a growth copies its chain.
#define MX_TABLE_FROZEN ((uintptr_t)1)

/*! An entry's place in a chain; a growth copies it, the entry stays. */
typedef struct mx_table_node {
	struct mx_table_node *next;  /*!< RCU: readers follow it without a lock. */
	uint64_t word;               /*!< The user's word: a hash, or a short key. */
	void *entry;                 /*!< The user's entry. */
	union {
		struct rcu_head rcu;     /*!< Once unlinked. */
		bool orphan;             /*!< In old buckets: not copied (no memory),
		                              its entry goes with them. */
	};
} mx_table_node_t;

/*! The buckets: chains of nodes, newest first. */
typedef struct mx_table_buckets {
	struct rcu_head rcu;
	struct mx_table_buckets *next;  /*!< The buckets a growth fills. */
	size_t mask;
	uintptr_t bucket[];             /*!< mx_table_node_t *, and MX_TABLE_FROZEN. */
} mx_table_buckets_t;

typedef struct mx_table mx_table_t;

/*! The hash of a node's entry (for a growth); NULL: the node's word is. */
typedef uint64_t (*mx_table_hash_f)(const mx_table_t *table, const mx_table_node_t *node);

/*! Whether an entry (whose node's word is the key's) is the key's. */
typedef bool (*mx_table_match_f)(const void *entry, const void *key);

/*! Whether maintenance removes an entry. */
typedef bool (*mx_table_drop_f)(const void *entry, void *ctx);

/*! A table; embedded in its user (readers reach the buckets in one load). */
struct mx_table {
	mx_table_buckets_t *buckets;  /*!< RCU; NULL: no table. */
	mx_table_hash_f node_hash;
	size_t max_entries;
	size_t max_buckets;
	size_t count;                 /*!< Atomic: entries plus places taken. */
	size_t hand;                  /*!< Where eviction looks next (maintainer's). */
	bool busy;                    /*!< Atomic: someone maintains the table. */
};

/*!
 * \brief Makes a table of at most \a max_entries entries (at least 1),
 *        starting with \a init_buckets buckets (a power of two).
 *
 * \param node_hash  For a growth: a node's hash when its word is not it.
 *
 * \return KNOT_EOK, KNOT_EINVAL or KNOT_ENOMEM.
 */
int mx_table_init(mx_table_t *table, size_t max_entries, size_t init_buckets,
                  mx_table_hash_f node_hash);

/*!
 * \brief Frees the entries and the buckets; no reader may use them any more.
 *
 * Waits for pending RCU callbacks (rcu_barrier), so it must not be called
 * from inside an RCU read-side section. A table never made is nothing.
 */
void mx_table_deinit(mx_table_t *table);

/*! \brief The entries stored now, and places taken (approximate under load). */
static inline size_t mx_table_size(const mx_table_t *table)
{
	return __atomic_load_n(&table->count, __ATOMIC_RELAXED);
}

/*!
 * \brief The entry of a key in a chain from \a head, or NULL. Inlined with
 *        the match, so that a lookup is one function's frame.
 */
__attribute__((always_inline))
static inline void *mx_table_chain_find(uintptr_t head, uint64_t word,
                                        mx_table_match_f match, const void *key)
{
	const mx_table_node_t *n = (const mx_table_node_t *)(head & ~MX_TABLE_FROZEN);
	for (; n != NULL; n = MX_FOLLOW(n->next)) {
		if (n->word == word && match(n->entry, key)) {
			return n->entry;
		}
	}
	return NULL;
}

/*!
 * \brief The entry of a key in the buckets readers see, or NULL (one that
 *        a growth under way holds in its new buckets only is missed).
 *        Valid until the caller's read-side section ends.
 */
__attribute__((always_inline))
static inline void *mx_table_find(const mx_table_t *table, uint64_t hash, uint64_t word,
                                  mx_table_match_f match, const void *key)
{
	const mx_table_buckets_t *b = MX_FOLLOW(table->buckets);
	return mx_table_chain_find(MX_FOLLOW(b->bucket[hash & b->mask]), word, match, key);
}

/*! \brief The same, in the buckets a growth under way fills too: never missed. */
void *mx_table_find_all(const mx_table_t *table, uint64_t hash, uint64_t word,
                        mx_table_match_f match, const void *key);

/*! \brief Takes a place for an entry: false if the table is full. */
bool mx_table_reserve(mx_table_t *table);

/*! \brief Gives a place back. */
void mx_table_release(mx_table_t *table);

/*!
 * \brief Inserts an entry in a place taken, unless the key has one already.
 *
 * \param found  Output on KNOT_EEXIST: the key's entry (\a entry is not
 *               taken; the caller frees it).
 *
 * \return KNOT_EOK (the entry is the table's), KNOT_EEXIST or KNOT_ENOMEM;
 *         on either error the place is given back.
 */
int mx_table_insert(mx_table_t *table, uint64_t hash, uint64_t word, void *entry,
                    mx_table_match_f match, const void *key, void **found);

/*! \brief Doubles the buckets if entries outnumber them, unless another
 *         thread maintains the table. */
void mx_table_grow(mx_table_t *table);

/*! \brief Wins the maintenance or returns false at once: never waits. */
bool mx_table_try_lock(mx_table_t *table);

/*! \brief Ends the maintenance. */
void mx_table_unlock(mx_table_t *table);

/* Maintenance: between mx_table_try_lock() and mx_table_unlock(). */

/*! \brief The same as mx_table_grow(), by the maintainer. */
void mx_table_grow_locked(mx_table_t *table);

/*! \brief Removes one entry, the first after the last one evicted. */
void mx_table_evict(mx_table_t *table);

/*!
 * \brief Puts \a entry in the place of the key's entry, which goes.
 *
 * \return KNOT_EOK, KNOT_ENOENT (no entry of the key) or KNOT_ENOMEM; on
 *         either error \a entry is not taken.
 */
int mx_table_replace(mx_table_t *table, uint64_t hash, uint64_t word, void *entry,
                     mx_table_match_f match, const void *key);

/*!
 * \brief Removes the entries \a drop says, in table order, while there are
 *        more than \a down_to.
 */
void mx_table_remove_if(mx_table_t *table, mx_table_drop_f drop, void *ctx, size_t down_to);
