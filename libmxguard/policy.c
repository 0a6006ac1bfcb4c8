/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "policy.h"

static const char *kind_names[MX_KIND_COUNT] = {
	[MX_KIND_IP_LITERAL]       = "ip-literal",
	[MX_KIND_LOOPBACK]         = "loopback",
	[MX_KIND_SPECIAL_ADDRESS]  = "special-address",
	[MX_KIND_MISSING_ADDRESS]  = "missing-address",
	[MX_KIND_NULL_MX_CONFLICT] = "null-mx-conflict",
	[MX_KIND_SELF_EXCHANGE]    = "self-exchange",
	[MX_KIND_PROVIDER_MIX]     = "provider-mix",
	[MX_KIND_CNAME_EXCHANGE]   = "cname-exchange",
	[MX_KIND_NO_MAIL_POLICY]   = "no-mail-policy",
	[MX_KIND_NULL_MX_OVERRIDE] = "null-mx-override",
};

static const char *action_names[MX_ACTION_COUNT] = {
	[MX_ACTION_OFF] = "off",
	[MX_ACTION_LOG] = "log",
	[MX_ACTION_STRIP] = "strip",
	[MX_ACTION_NULL_MX] = "null-mx",
};

const char *mx_kind_name(mx_kind_t kind)
{
	return (unsigned)kind < MX_KIND_COUNT ? kind_names[kind] : "?";
}

const char *mx_action_name(mx_action_t action)
{
	return (unsigned)action < MX_ACTION_COUNT ? action_names[action] : "?";
}

void mx_policy_init(mx_policy_t *policy, mx_action_t action)
{
	for (unsigned i = 0; i < MX_KIND_COUNT; i++) {
		policy->action[i] = action;
	}
	policy->allow = NULL;
	policy->allow_count = 0;
}
