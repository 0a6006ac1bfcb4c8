/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief The stable key-value text of a violation, as logged.
 */

#pragma once

#include <stddef.h>
#include <stdint.h>

#include "mx_check.h"

/*! What a log line is about: with the names, the key of the rate limiter. */
typedef enum {
	MX_LOG_VIOLATION = 0,   /*!< A violation (the key also holds its kind). */
	MX_LOG_NOT_ENFORCED,    /*!< A rewrite the policy asks for was not done. */
	MX_LOG_SYNTHESIZED,     /*!< A null MX was served for a no-mail name. */
	MX_LOG_SYNTHESIZED_TXT, /*!< An SPF, DMARC or DKIM record was. */
} mx_log_class_t;

/*!
 * \brief The rate limiter's key of a line: a hash, from \a seed, of the zone,
 *        owner and exchange (each in lower case), the class and the kind.
 *
 * \param exchange  The exchange, or NULL for lines without one.
 */
uint64_t mx_log_key(uint64_t seed, const knot_dname_t *zone, const knot_dname_t *owner,
                    const knot_dname_t *exchange, mx_log_class_t cls, mx_kind_t kind);

/*!
 * \brief Writes the log text of a violation.
 *
 * "violation KIND, owner NAME, exchange NAME, preference N[, address A]
 *  [, provider P], action ACTION[, verdict inferred][, suppressed N]"
 *
 * Names are written in canonical form, lower case (RFC 4034 §6.2), however
 * the query spelt them. The suppressed key is written only when
 * \a suppressed is not zero.
 * A missing-address that is only inferred (Knot 3.2/3.3: the zone has no
 * name for the exchange, which may also lie below a zone cut or a DNAME)
 * carries "verdict inferred"; it is never enforced, so ACTION is log.
 *
 * \return Length written, or -1 if \a buf is too small (then it holds "").
 */
int mx_log_line(char *buf, size_t len, const knot_dname_t *owner,
                const mx_violation_t *violation, const char *action,
                uint32_t suppressed);

/*!
 * \brief "not enforced, owner NAME, action ACTION, reason REASON[, suppressed N]"
 *
 * \return As mx_log_line().
 */
int mx_log_line_not_enforced(char *buf, size_t len, const knot_dname_t *owner,
                             const char *action, const char *reason,
                             uint32_t suppressed);

/*!
 * \brief "synthesized WHAT, owner NAME, reason REASON[, suppressed N]": WHAT
 *        null-mx, spf, dmarc or dkim"
 *
 * \return As mx_log_line().
 */
int mx_log_line_synthesized(char *buf, size_t len, const char *what,
                            const knot_dname_t *owner, const char *reason,
                            uint32_t suppressed);
