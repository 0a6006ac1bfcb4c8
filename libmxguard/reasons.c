/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "reasons.h"

#define MX_REASON_WORD(id, word) [MX_REASON_##id] = word,

static const char *const words[MX_REASON_COUNT] = {
	[MX_REASON_NONE] = 0,
	MX_REASON_ROWS(MX_REASON_WORD)
};

const char *mx_reason_name(mx_reason_t reason)
{
	return (unsigned)reason < MX_REASON_COUNT ? words[reason] : words[MX_REASON_SIGNING_FAILED];
}
