/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdio.h>
#include <string.h>
#include <libknot/errcode.h>
#include <libknot/error.h>

#include "config_rules.h"

#define MX_CONF_ACTION_VALUE(id, name, rewrites) { MX_ACTION_##id, name },

const knot_lookup_t mx_conf_action_values[] = {
	MX_ACTION_ROWS(MX_CONF_ACTION_VALUE)
	{ 0, NULL }
};

const knot_lookup_t mx_conf_unsigned_values[] = {
	{ MX_CONF_UNSIGNED_DENY,  "deny" },
	{ MX_CONF_UNSIGNED_ALLOW, "allow" },
	{ 0, NULL }
};

const knot_lookup_t mx_conf_record_values[] = {
	{ MX_RECORD_SPF,   "spf" },
	{ MX_RECORD_DMARC, "dmarc" },
	{ MX_RECORD_DKIM,  "dkim" },
	{ 0, NULL }
};

#define MX_CONF_KIND_NAME(id, len, name, def, actions, flags, why) \
	[MX_KIND_##id] = (const yp_name_t *)(len name),

const yp_name_t *const mx_conf_kind_items[MX_KIND_COUNT] = {
	MX_KIND_ROWS(MX_CONF_KIND_NAME)
	[MX_KIND_NULL_MX_OVERRIDE] = NULL,
};

bool mx_conf_kind_accepts(mx_kind_t kind, mx_action_t action)
{
	if ((unsigned)kind >= MX_KIND_COUNT || (unsigned)action >= MX_ACTION_COUNT ||
	    mx_conf_kind_items[kind] == NULL) {
		return false;
	}
	return (mx_kinds[kind].actions & (1u << action)) != 0;
}

int mx_conf_check_action(mx_kind_t kind, mx_action_t action, char *err, size_t err_len)
{
	if (mx_conf_kind_accepts(kind, action)) {
		return KNOT_EOK;
	}
	if ((unsigned)kind < MX_KIND_COUNT && mx_kind_log_only(kind)) {
		snprintf(err, err_len, "invalid %s '%s', it takes only 'off' or 'log'%s",
		         mx_kind_name(kind), mx_action_name(action), mx_kinds[kind].why);
	} else {
		snprintf(err, err_len, "invalid %s '%s'", mx_kind_name(kind),
		         mx_action_name(action));
	}
	return KNOT_EINVAL;
}

int mx_conf_check_dmarc(const char *value, char *err, size_t err_len)
{
	static const char version[] = "v=DMARC1;";
	size_t len = strlen(value);
	bool printable = true;
	for (size_t i = 0; i < len; i++) {
		printable = printable && value[i] >= 0x20 && value[i] < 0x7f;
	}
	if (!printable || len > 255) {
		snprintf(err, err_len, "invalid no-mail-dmarc '%.300s', one TXT string of at "
		         "most 255 printable characters", value);
		return KNOT_EINVAL;
	}
	const char *p = value + sizeof(version) - 1;
	if (strncmp(value, version, sizeof(version) - 1) == 0) {
		while (*p == ' ') {
			p++;
		}
	}
	if (strncmp(value, version, sizeof(version) - 1) != 0 ||
	    strncmp(p, "p=reject", 8) != 0 ||
	    (p[8] != '\0' && p[8] != ';' && p[8] != ' ')) {
		snprintf(err, err_len, "invalid no-mail-dmarc '%s', it must start with "
		         "'v=DMARC1;' and 'p=reject' as the first tag", value);
		return KNOT_EINVAL;
	}
	return KNOT_EOK;
}

int mx_conf_check_allow(const mx_addr_t *first, const mx_addr_t *last,
                        char *err, size_t err_len)
{
	// Knot accepts a range written backwards; it would match nothing.
	if (first->family == last->family &&
	    memcmp(first->bytes, last->bytes, mx_addr_len(first->family)) <= 0) {
		return KNOT_EOK;
	}
	char a[MX_ADDR_STRLEN], b[MX_ADDR_STRLEN];
	if (first->family != last->family) {
		snprintf(err, err_len, "invalid allow-address '%s-%s', both addresses "
		         "must be of one family", mx_addr_to_str(first, a, sizeof(a)),
		         mx_addr_to_str(last, b, sizeof(b)));
	} else {
		snprintf(err, err_len, "invalid allow-address '%s-%s', the first address "
		         "must not be above the second", mx_addr_to_str(first, a, sizeof(a)),
		         mx_addr_to_str(last, b, sizeof(b)));
	}
	return KNOT_EINVAL;
}

// One address alone, as a range parse takes it.
static bool parse_one(mx_addr_t *addr, const char *text, size_t len)
{
	char buf[MX_ADDR_STRLEN + 1];
	if (len >= sizeof(buf)) {
		return false;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	mx_addr_range_t range;
	if (strchr(buf, '/') != NULL || !mx_addr_range_parse(&range, buf)) {
		return false;
	}
	memset(addr, 0, sizeof(*addr));
	addr->family = range.family;
	memcpy(addr->bytes, range.min, sizeof(addr->bytes));
	return true;
}

int mx_conf_parse_allow(mx_addr_range_t *range, const char *text,
                        char *err, size_t err_len)
{
	const char *dash = strchr(text, '-');
	mx_addr_t first, last;
	if (dash != NULL && strchr(text, '/') == NULL &&
	    parse_one(&first, text, (size_t)(dash - text)) &&
	    parse_one(&last, dash + 1, strlen(dash + 1))) {
		int ret = mx_conf_check_allow(&first, &last, err, err_len);
		if (ret != KNOT_EOK) {
			return ret;
		}
	}
	if (!mx_addr_range_parse(range, text)) {
		snprintf(err, err_len, "invalid allow-address '%s', expected ADDR, "
		         "ADDR/PREFIX or ADDR-ADDR", text);
		return KNOT_EINVAL;
	}
	return KNOT_EOK;
}

int mx_conf_load_no_mail(mx_name_list_t *list, const char *const *names, size_t count,
                         const char *file, char *err, size_t err_len)
{
	for (size_t i = 0; i < count; i++) {
		const char *reason = NULL;
		int ret = mx_name_list_add(list, names[i], &reason);
		if (ret != KNOT_EOK) {
			snprintf(err, err_len, "invalid null-mx '%s' (%s)", names[i],
			         reason ? reason : knot_strerror(ret));
			return ret;
		}
	}
	if (file == NULL) {
		return KNOT_EOK;
	}
	if (file[0] == '\0') {
		snprintf(err, err_len, "invalid null-mx-file '', a file name is needed");
		return KNOT_EFILE;
	}
	char reason[512];
	int ret = mx_name_list_load(list, file, reason, sizeof(reason));
	if (ret != KNOT_EOK) {
		snprintf(err, err_len, "invalid null-mx-file, %s", reason);
		return ret;
	}
	return KNOT_EOK;
}

bool mx_conf_rewrites(const mx_policy_t *policy, bool no_mail, bool implicit)
{
	if (no_mail || implicit) {
		return true;
	}
	for (unsigned k = 0; k < MX_KIND_COUNT; k++) {
		if (mx_action_rewrites(policy->action[k])) {
			return true;
		}
	}
	return false;
}

int mx_conf_check_scope(bool global, bool rewrites, char *err, size_t err_len)
{
	if (!global || !rewrites) {
		return KNOT_EOK;
	}
	snprintf(err, err_len, "%s", MX_CONF_GLOBAL_REWRITE_MSG);
	return KNOT_ENOTSUP;
}
