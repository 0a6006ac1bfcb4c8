/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * What makes a run fail: --fail-on's thresholds and kinds, and the exit
 * status of several checks together.
 */

#include <stdio.h>
#include <string.h>

#include "check_zone.h"

static const char *check_names[] = {
	[CHECK_NULL_MX_MISSING - MX_KIND_COUNT] = "null-mx-missing",
	[CHECK_IMPLICIT_MX - MX_KIND_COUNT] = "implicit-mx",
};

const char *check_kind_name(unsigned kind)
{
	return (kind < MX_KIND_COUNT) ? mx_kind_name(kind) : check_names[kind - MX_KIND_COUNT];
}

unsigned check_kind_from_name(const char *name)
{
	for (unsigned k = 0; k < CHECK_KIND_COUNT; k++) {
		// The checker does not report null-mx-override (the server's rewrite
		// of a listed name's MX): null-mx-missing stands for it.
		if ((k >= MX_KIND_COUNT || mx_kind_is(k, MX_KIND_F_CHECKER)) &&
		    strcmp(name, check_kind_name(k)) == 0) {
			return k;
		}
	}
	return CHECK_KIND_COUNT;
}

static unsigned action_from_name(const char *name)
{
	for (unsigned a = MX_ACTION_LOG; a < MX_ACTION_COUNT; a++) {
		if (strcmp(name, mx_action_name(a)) == 0) {
			return a;
		}
	}
	return FAIL_UNSET;
}

bool fail_rule_parse(fail_rule_t *rule, const char *text, char *why, size_t why_len)
{
	*rule = (fail_rule_t) { .threshold = FAIL_UNSET };
	if (strcmp(text, "never") == 0) {
		rule->threshold = FAIL_NEVER;
		return true;
	}
	char item[64];
	const char *p = text;
	while (true) {
		size_t len = strcspn(p, ",");
		if (len == 0) {
			snprintf(why, why_len, "an empty item");
			return false;
		}
		if (len >= sizeof(item)) {
			snprintf(why, why_len, "'%.*s' is no action and no kind", (int)len, p);
			return false;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		bool minus = item[0] == '-';
		unsigned kind = check_kind_from_name(item + (minus ? 1 : 0));
		unsigned action = minus ? FAIL_UNSET : action_from_name(item);
		if (action != FAIL_UNSET) {
			if (rule->threshold != FAIL_UNSET) {
				snprintf(why, why_len, "more than one action");
				return false;
			}
			rule->threshold = action;
		} else if (kind != CHECK_KIND_COUNT) {
			uint32_t *set = minus ? &rule->exclude : &rule->include;
			uint32_t *other = minus ? &rule->include : &rule->exclude;
			if (*other & (1u << kind)) {
				snprintf(why, why_len, "'%s' both included and excluded",
				         check_kind_name(kind));
				return false;
			}
			*set |= 1u << kind;
		} else if (strcmp(item, "never") == 0) {
			snprintf(why, why_len, "never stands alone");
			return false;
		} else {
			snprintf(why, why_len, "'%s' is no action and no kind", item);
			return false;
		}
		if (p[len] == '\0') {
			return true;
		}
		p += len + 1;
	}
}

int exit_status_merge(int a, int b)
{
	static const int rank[] = {
		[EXIT_CLEAN] = 0, [EXIT_UNCHECKED] = 1, [EXIT_FINDINGS] = 2, [EXIT_TROUBLE] = 3
	};
	return rank[b] > rank[a] ? b : a;
}
