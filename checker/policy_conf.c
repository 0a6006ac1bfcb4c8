/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libknot/errcode.h>
#include <libknot/error.h>
#include <libknot/yparser/yparser.h>

#include "address.h"
#include "policy_conf.h"

#define SECTION "mod-mxguard"

static bool parse_action(const char *text, mx_action_t *action)
{
	for (unsigned a = 0; a < MX_ACTION_COUNT; a++) {
		if (strcmp(text, mx_action_name(a)) == 0) {
			*action = a;
			return true;
		}
	}
	return false;
}

static bool parse_kind(const char *text, mx_kind_t *kind)
{
	for (unsigned k = 0; k < MX_KIND_COUNT; k++) {
		if (strcmp(text, mx_kind_name(k)) == 0) {
			*kind = k;
			return true;
		}
	}
	return false;
}

static int add_range(policy_conf_t *conf, const mx_addr_range_t *range)
{
	mx_addr_range_t *grown = realloc(conf->allow,
	                                 (conf->allow_count + 1) * sizeof(*grown));
	if (grown == NULL) {
		return KNOT_ENOMEM;
	}
	conf->allow = grown;
	conf->allow[conf->allow_count++] = *range;
	return KNOT_EOK;
}

// One item of the chosen section.
static int take_item(policy_conf_t *conf, const yp_parser_t *yp, const char *path,
                     const char *id, char *err, size_t err_len)
{
	mx_kind_t kind;
	if (parse_kind(yp->key, &kind)) {
		mx_action_t action;
		if (!parse_action(yp->data, &action)) {
			snprintf(err, err_len, "%s:%zu: " SECTION "[%s]: invalid value '%s' "
			         "of item '%s' (expected off, log, strip or null-mx)",
			         path, yp->line_count, id, yp->data, yp->key);
			return KNOT_EINVAL;
		}
		conf->policy.action[kind] = action;
		return KNOT_EOK;
	}
	if (strcmp(yp->key, "allow-address") == 0) {
		mx_addr_range_t range;
		if (!mx_addr_range_parse(&range, yp->data)) {
			snprintf(err, err_len, "%s:%zu: " SECTION "[%s]: invalid value '%s' "
			         "of item '%s' (expected ADDR, ADDR/PREFIX or ADDR-ADDR)",
			         path, yp->line_count, id, yp->data, yp->key);
			return KNOT_EINVAL;
		}
		return add_range(conf, &range);
	}
	// log-interval, log-table-size and later items are the server's business.
	return KNOT_EOK;
}

int policy_conf_load(policy_conf_t *conf, const char *path, const char *id,
                     char *err, size_t err_len)
{
	memset(conf, 0, sizeof(*conf));
	mx_policy_init(&conf->policy, MX_ACTION_LOG);

	if (access(path, R_OK) != 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return KNOT_EFILE;
	}
	yp_parser_t *yp = malloc(sizeof(*yp));
	if (yp == NULL) {
		return KNOT_ENOMEM;
	}
	yp_init(yp);
	int ret = yp_set_input_file(yp, path);
	if (ret != KNOT_EOK) {
		snprintf(err, err_len, "%s: %s", path, knot_strerror(ret));
		free(yp);
		return KNOT_EFILE;
	}

	bool in_section = false;  // Under "mod-mxguard:".
	bool in_id = false;       // In the list item with the wanted id.
	bool found = false;
	int item_ret = KNOT_EOK;
	while ((ret = yp_parse(yp)) == KNOT_EOK) {
		switch (yp->event) {
		case YP_EKEY0:
			in_section = strcmp(yp->key, SECTION) == 0;
			in_id = false;
			break;
		case YP_EID:
			in_id = in_section && strcmp(yp->data, id) == 0;
			found = found || in_id;
			break;
		case YP_EKEY1:
			if (in_id) {
				item_ret = take_item(conf, yp, path, id, err, err_len);
			}
			break;
		default:
			break;
		}
		if (item_ret != KNOT_EOK) {
			break;
		}
	}

	if (item_ret != KNOT_EOK) {
		ret = item_ret;
		if (ret == KNOT_ENOMEM) {
			snprintf(err, err_len, "%s: out of memory", path);
		}
	} else if (ret == KNOT_EOF) {
		ret = KNOT_EOK;
	} else {
		snprintf(err, err_len, "%s:%zu: configuration syntax error (%s)", path,
		         yp->line_count, knot_strerror(ret));
		ret = KNOT_EPARSEFAIL;
	}
	yp_deinit(yp);
	free(yp);

	if (ret == KNOT_EOK && !found) {
		snprintf(err, err_len, "%s: no " SECTION " section with id '%s'", path, id);
		ret = KNOT_ENOENT;
	}
	if (ret != KNOT_EOK) {
		policy_conf_clear(conf);
		return ret;
	}
	conf->policy.allow = conf->allow;
	conf->policy.allow_count = conf->allow_count;
	return KNOT_EOK;
}

void policy_conf_clear(policy_conf_t *conf)
{
	free(conf->allow);
	conf->allow = NULL;
	conf->allow_count = 0;
	conf->policy.allow = NULL;
	conf->policy.allow_count = 0;
}
