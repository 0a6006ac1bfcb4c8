/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief The verdicts of MX RRsets already judged, by what they were judged on.
 *
 * A verdict (the violations of an RRset) depends only on the policy and the
 * no-mail list of the instance, which never change in its lifetime, and on
 * what the key holds: the zone, the owner, the MX records and what is known
 * of each exchange (its addresses, or what a zone lookup found), byte for
 * byte. A verdict is only ever found for the very RRset it judged (zone,
 * owner, records, compared byte for byte). What is known of the exchanges
 * is compared too, but the cache may be told (mx_verdict_cache_set_max_age)
 * that, once read and found equal, it stands for a bounded time without
 * being read again: a change of it is then seen within that time, a change
 * of the RRset on the next lookup. Nothing is copied to look a key
 * up: its owner is hashed (seeded, word by word) and all of it is compared
 * where it lies, the exchanges' part by the caller if it likes
 * (mx_verdict_cache_find). A hash table of bounded size that readers
 * search without locks or atomic writes (RCU; writers take a lock or skip
 * storing, never wait), one verdict per RRset (zone, owner, records): a
 * verdict made with other exchanges replaces the one before, whose data is
 * gone; when the table is full, an entry goes to make room.
 * Callers must be registered RCU reader threads, inside a read-side
 * critical section (knotd's workers in its hooks are).
 */

#pragma once

#include <stddef.h>
#include <stdint.h>

#include "mx_check.h"

typedef struct mx_verdict_cache mx_verdict_cache_t;

/*! A verdict: the violations, without their exchange (\a rr_index says which). */
typedef struct {
	unsigned count;
	const mx_violation_t *violations;
	const uint8_t *extra;        /*!< What it was judged on of the exchanges... */
	size_t extra_len;            /*!< ...(the key's extra when it was stored). */
	bool fresh;                  /*!< That was read within the cache's max age
	                                  of the key's \a now: it need not be read again. */
	uint64_t *read_at;           /*!< When it was last read (mx_verdict_confirm). */
} mx_verdict_t;

/*!
 * What a verdict is judged on, the cache's key: compared byte for byte (the
 * owner ignoring ASCII case), read where it lies.
 */
typedef struct {
	const knot_dname_t *zone;    /*!< Apex of the zone answering (or NULL). */
	const knot_dname_t *owner;   /*!< Owner of the RRset as served. */
	size_t owner_size;           /*!< Its size if known, or 0. */
	bool owner_lower;            /*!< It is in lower case already. */
	const knot_rdataset_t *rrs;  /*!< The MX records. */
	size_t owner_suffix;         /*!< Bytes at the end of every owner the cache
	                                  sees (its zone's name), left out of the hash. */
	const uint8_t *extra;        /*!< What is known of their exchanges... */
	size_t extra_len;            /*!< ...in any form equal exactly when it is. */
	uint64_t now;                /*!< mx_verdict_cache_now() taken before that is
	                                  read (0: no time, nothing found fresh). */
} mx_verdict_key_t;

/*! A monotonic clock in nanoseconds (never 0). */
typedef uint64_t (*mx_clock_f)(void);

/*! Longest key the cache takes (all of its parts); longer ones are judged every time. */
#define MX_VERDICT_KEY_MAXLEN 4096

/*!
 * \brief A cache of at most \a max_entries verdicts (0: none, NULL).
 *
 * \param seed  Seed of the keys' hashes (random: nobody can aim collisions).
 */
mx_verdict_cache_t *mx_verdict_cache_new(size_t max_entries, uint64_t seed);

/*!
 * \brief Lets what is known of a verdict's exchanges, once read and found to
 *        be what the verdict was made on, stand for at most \a max_age_ns
 *        (0, the default: it is read for every lookup). Call before any
 *        lookup.
 *
 * \param clock  The clock ages are measured with, NULL for the system's
 *               monotonic coarse clock (its resolution is taken off the age,
 *               so that the bound holds in real time).
 */
void mx_verdict_cache_set_max_age(mx_verdict_cache_t *cache, uint64_t max_age_ns,
                                  mx_clock_f clock);

/*!
 * \brief The time for a key's \a now, to be taken before the exchanges'
 *        data is read: 0 when the cache keeps no age (no clock read).
 */
uint64_t mx_verdict_cache_now(const mx_verdict_cache_t *cache);

/*!
 * \brief Records that the exchanges' data of a verdict found was read at
 *        \a now (mx_verdict_cache_now() taken before reading it) and is what
 *        the verdict was made on: it stands until the max age has passed.
 */
void mx_verdict_confirm(const mx_verdict_t *verdict, uint64_t now);

/*! \brief Frees the cache; no reader may use it any more (call after a grace period). */
void mx_verdict_cache_free(mx_verdict_cache_t *cache);

/*!
 * \brief The verdict stored under a key.
 *
 * \return true and \a out (valid until the read-side critical section ends),
 *         or false if none is stored.
 */
bool mx_verdict_cache_get(mx_verdict_cache_t *cache, const mx_verdict_key_t *key,
                          mx_verdict_t *out);

/*!
 * \brief The verdict stored for the RRset of a key (zone, owner, records),
 *        whatever the exchanges were: unless \a out->fresh, the caller
 *        compares \a out->extra with what it knows of them now, where that
 *        lies (no key to build on a hit), and confirms it if equal.
 *        \a key->extra is not read.
 *
 * \return true and \a out (valid until the read-side critical section ends),
 *         or false if none is stored.
 */
bool mx_verdict_cache_find(mx_verdict_cache_t *cache, const mx_verdict_key_t *key,
                           mx_verdict_t *out);

/*!
 * \brief Tells whether a verdict found was made on these exchanges' data
 *        (\a extra, as a key's extra holds it).
 */
bool mx_verdict_made_on(const mx_verdict_t *verdict, const uint8_t *extra, size_t extra_len);

/*!
 * \brief Stores a verdict (the violations are copied, their exchanges not),
 *        its exchanges' data read at \a key->now.
 *
 * A verdict of the same zone, owner and records with other \a extra is
 * replaced: that is what the exchanges were, and it is gone. Never blocks
 * and never fails the caller: without memory, or while another thread
 * stores one, it does nothing; when full, an entry is evicted first.
 */
void mx_verdict_cache_put(mx_verdict_cache_t *cache, const mx_verdict_key_t *key,
                          const mx_violation_t *violations, unsigned count);

/*! \brief Number of verdicts stored. */
size_t mx_verdict_cache_size(mx_verdict_cache_t *cache);
