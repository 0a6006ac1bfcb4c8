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

/*!
 * \brief Writes the log text of a violation.
 *
 * "violation KIND, owner NAME, exchange NAME, preference N[, address A]
 *  [, provider P], action ACTION[, suppressed N]"
 *
 * The suppressed key is written only when \a suppressed is not zero.
 *
 * \return Length written, or -1 if \a buf is too small (then it holds "").
 */
int mx_log_line(char *buf, size_t len, const knot_dname_t *owner,
                const mx_violation_t *violation, const char *action,
                uint32_t suppressed);
