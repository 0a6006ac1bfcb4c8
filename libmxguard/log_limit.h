/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief Log rate limiting: one line per key and interval, shared by threads.
 *
 * A hash table of bounded size that threads use without a lock or a wait
 * (RCU; log_limit.c says how). Callers must be registered RCU threads;
 * mx_log_limit_hit() takes the RCU read lock itself (nesting in knotd's own
 * read-side section is fine), mx_log_limit_hit_locked() is for callers in
 * one already. Keys of 8 bytes (the module's) take the shortest path.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mx_log_limit mx_log_limit_t;

/*!
 * \brief Creates a table.
 *
 * \param interval  Seconds between two lines of one key (0: every time).
 * \param max_keys  Bound on the number of keys remembered (at least 1).
 */
mx_log_limit_t *mx_log_limit_new(uint32_t interval, size_t max_keys);

/*!
 * \brief Frees the table; no other thread may use it any more.
 *
 * Waits for pending RCU callbacks (rcu_barrier), so it must not be called
 * from inside an RCU read-side section.
 */
void mx_log_limit_free(mx_log_limit_t *limit);

/*!
 * \brief Decides whether an occurrence of \a key at time \a now is logged.
 *
 * \param key         Key bytes (compared exactly).
 * \param key_len     Key length.
 * \param now         Current time in seconds (any monotonic clock).
 * \param suppressed  Output when logged: occurrences not logged since the
 *                    previous line of this key.
 *
 * \return True if the caller should log it now.
 */
bool mx_log_limit_hit(mx_log_limit_t *limit, const uint8_t *key, size_t key_len,
                      uint64_t now, uint32_t *suppressed);

/*!
 * \brief The same, for a caller inside an RCU read-side section already
 *        (knotd's hooks): no lock of its own to take and release.
 */
bool mx_log_limit_hit_locked(mx_log_limit_t *limit, const uint8_t *key, size_t key_len,
                             uint64_t now, uint32_t *suppressed);

/*! \brief Number of keys currently remembered (approximate under load). */
size_t mx_log_limit_size(mx_log_limit_t *limit);
