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
 * byte. So a verdict can never outlive the data it was computed from: a
 * change of any of it is a different key. A lock-free hash table (liburcu's
 * cds_lfht) of bounded size; when it is full, an entry goes to make room.
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
} mx_verdict_t;

/*! Longest key the cache takes; longer ones are judged every time. */
#define MX_VERDICT_KEY_MAXLEN 4096

/*!
 * \brief A cache of at most \a max_entries verdicts (0: none, NULL).
 */
mx_verdict_cache_t *mx_verdict_cache_new(size_t max_entries);

/*! \brief Frees the cache; no reader may use it any more (call after a grace period). */
void mx_verdict_cache_free(mx_verdict_cache_t *cache);

/*!
 * \brief The verdict stored under a key.
 *
 * \return true and \a out (valid until the read-side critical section ends),
 *         or false if none is stored.
 */
bool mx_verdict_cache_get(mx_verdict_cache_t *cache, const uint8_t *key, size_t len,
                          mx_verdict_t *out);

/*!
 * \brief Stores a verdict (the violations are copied, their exchanges not).
 *
 * Never blocks and never fails the caller: without memory, or with the key
 * stored already, it does nothing; when full, an entry is evicted first.
 */
void mx_verdict_cache_put(mx_verdict_cache_t *cache, const uint8_t *key, size_t len,
                          const mx_violation_t *violations, unsigned count);

/*! \brief Number of verdicts stored. */
size_t mx_verdict_cache_size(mx_verdict_cache_t *cache);
