/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "policy.h"

#define MX_KIND_ROW(id, len, name_, def_, actions_, flags_, why_) \
	[MX_KIND_##id] = { .name = name_, .item = (const uint8_t *)(len name_), \
	                   .def = def_, .actions = actions_, .flags = flags_, .why = why_ },

const mx_kind_row_t mx_kinds[MX_KIND_COUNT] = {
	MX_KIND_ROWS(MX_KIND_ROW)
	// No item, no checker report (null-mx-missing stands for it), and no
	// choice: a listed name's MX is replaced.
	[MX_KIND_NULL_MX_OVERRIDE] = { .name = "null-mx-override", .def = MX_ACTION_OFF,
	                               .actions = 1u << MX_ACTION_OFF | 1u << MX_ACTION_NULL_MX,
	                               .why = "" },
};

#define MX_ACTION_ROW(id, name_, rewrites_) \
	[MX_ACTION_##id] = { .name = name_, .rewrites = rewrites_ },

const mx_action_row_t mx_actions[MX_ACTION_COUNT] = {
	MX_ACTION_ROWS(MX_ACTION_ROW)
};

const char *mx_kind_name(mx_kind_t kind)
{
	return (unsigned)kind < MX_KIND_COUNT ? mx_kinds[kind].name : "?";
}

const char *mx_action_name(mx_action_t action)
{
	return (unsigned)action < MX_ACTION_COUNT ? mx_actions[action].name : "?";
}

bool mx_policy_needs_lookups(const mx_policy_t *policy)
{
	for (unsigned k = 0; k < MX_KIND_COUNT; k++) {
		if (policy->action[k] != MX_ACTION_OFF &&
		    mx_kind_is(k, MX_KIND_F_NEEDS_LOOKUPS)) {
			return true;
		}
	}
	return false;
}

void mx_policy_init(mx_policy_t *policy, mx_action_t action)
{
	for (unsigned i = 0; i < MX_KIND_COUNT; i++) {
		policy->action[i] = action;
	}
	policy->allow = NULL;
	policy->allow_count = 0;
}
