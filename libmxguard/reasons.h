/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief Why a rewrite was not done: the values, and their words in the
 *        "not enforced" log line (reason KEY).
 *
 * Code passes and compares the values, or the words this table gives (the
 * same pointers: never compared as text). Adding a reason is a row here.
 */

#pragma once

/*! The reasons, one row each: X(ID, WORD). */
#define MX_REASON_ROWS(X) \
	X(SIGNING_FAILED,       "signing-failed") \
	X(NO_APEX_SIGNATURE,    "no-apex-signature") \
	X(SIGNATURES_EXPIRING,  "signatures-expiring") \
	X(OUT_OF_MEMORY,        "out-of-memory") \
	X(KEY_UNREADABLE,       "key-unreadable") \
	X(KEY_NOT_FOUND,        "key-not-found") \
	X(KEY_MISMATCH,         "key-mismatch") \
	X(NO_SIGNING_KEYS,      "no-signing-keys") \
	X(KEYSTORE_UNSUPPORTED, "keystore-unsupported") \
	X(EMPTY_NON_TERMINAL,   "empty-non-terminal")

#define MX_REASON_ENUM(id, word) MX_REASON_##id,

typedef enum {
	MX_REASON_NONE = 0,  /*!< Done: no reason. */
	MX_REASON_ROWS(MX_REASON_ENUM)
	MX_REASON_COUNT
} mx_reason_t;

/*! \brief The log word of \a reason (NULL for MX_REASON_NONE). */
const char *mx_reason_name(mx_reason_t reason);
