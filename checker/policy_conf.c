/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * knot.conf read as knotd reads it, for mod-mxguard only: libknot's parser
 * (yparser) with the module's own schema (MX_CONF_ITEMS from
 * libmxguard/config_rules.h) checks every mod-mxguard section, the library
 * applies the module's rules at the end of each section, exactly where
 * knotd runs the module's conf-check, and the messages are knotd's:
 * "config, file 'F', line N, item 'I', value 'V' (REASON)" for an item,
 * "config, file 'F', line N, section 'mod-mxguard[ID]' (REASON)" for a
 * section. Other sections are read only for what concerns the module: the
 * ids of policy sections, and the templates and zones (conf_zones.c).
 * include items are followed as knotd follows them: a path or a glob(3)
 * pattern, relative to the directory of the file that holds it, matches
 * read in sorted order at the place of the item.
 */

#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libknot/dname.h>
#include <libknot/errcode.h>
#include <libknot/error.h>
#include <libknot/yparser/yparser.h>
#include <libknot/yparser/ypschema.h>
#include <libknot/version.h>
#include <libknot/yparser/yptrafo.h>

#include "conf_reader.h"
#include "config_rules.h"
#include "policy_conf.h"

// Nested includes knotd follows: MAX_INCLUDE_DEPTH of its conf/tools.c,
// which refuses the include once more than that many are open.
#define MAX_INCLUDE_DEPTH 5

static const yp_item_t section_items[] = {
	{ MX_CONF_ID,           YP_TSTR, YP_VNONE },
	{ "\x07""comment",      YP_TSTR, YP_VNONE },
	MX_CONF_ITEMS(NULL),
	{ NULL }
};

// The policy item refers to a policy section: the schema must have one.
static const yp_item_t policy_items[] = {
	{ MX_CONF_ID, YP_TSTR, YP_VNONE },
	{ NULL }
};

static const yp_item_t schema_src[] = {
	{ MX_CONF_POLICY_SECTION, YP_TGRP, YP_VGRP = { policy_items }, YP_FMULTI },
	{ MX_CONF_SECTION_YP, YP_TGRP, YP_VGRP = { section_items }, YP_FMULTI },
	{ NULL }
};

static int yp_name_cmp(const yp_name_t *a, const yp_name_t *b)
{
	return (a[0] == b[0]) ? memcmp(a + 1, b + 1, a[0]) : 1;
}

bool conf_push_str(char ***items, size_t *count, const char *value)
{
	char **grown = realloc(*items, (*count + 1) * sizeof(*grown));
	if (grown == NULL) {
		return false;
	}
	*items = grown;
	if ((grown[*count] = strdup(value)) == NULL) {
		return false;
	}
	(*count)++;
	return true;
}

void conf_free_strs(char **items, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(items[i]);
	}
	free(items);
}

bool conf_set_str(char **dst, const char *value)
{
	free(*dst);
	*dst = strdup(value);
	return *dst != NULL;
}

int reader_fail(reader_t *r, int ret, const char *fmt, ...)
{
	int len = snprintf(r->err, r->err_len, "config, file '%s', ", r->path);
	if (len >= 0 && (size_t)len < r->err_len) {
		va_list args;
		va_start(args, fmt);
		vsnprintf(r->err + len, r->err_len - len, fmt, args);
		va_end(args);
	}
	return ret;
}

int reader_fail_item(reader_t *r, int ret, const char *reason)
{
	const yp_parser_t *yp = r->yp;
	if (yp->data_len > 0) {
		return reader_fail(r, ret, "line %zu, item '%s', value '%.*s' (%s)", yp->line_count,
		            yp->key, (int)yp->data_len, yp->data,
		            reason ? reason : knot_strerror(ret));
	}
	return reader_fail(r, ret, "line %zu, item '%s' (%s)", yp->line_count, yp->key,
	            reason ? reason : knot_strerror(ret));
}

static void instance_free(policy_instance_t *inst)
{
	if (inst == NULL) {
		return;
	}
	free(inst->id);
	free(inst->allow);
	free(inst->dmarc);
	mx_name_list_free(inst->no_mail);
}

static void instance_init(policy_instance_t *inst)
{
	memset(inst, 0, sizeof(*inst));
	mx_policy_init(&inst->policy, MX_ACTION_LOG);
	// null-mx-override has no item: it follows from the no-mail list.
	inst->policy.action[MX_KIND_NULL_MX_OVERRIDE] = MX_ACTION_OFF;
}

static void section_reset(section_t *sec)
{
	conf_free_strs(sec->names, sec->name_count);
	conf_free_strs(sec->allow, sec->allow_count);
	free(sec->file);
	memset(sec, 0, sizeof(*sec));
}

// The module's conf-check, where knotd runs it: before the next section.
static int finish_section(reader_t *r, size_t line)
{
	section_t *sec = &r->sec;
	policy_instance_t *inst = sec->inst;
	if (inst == NULL) {
		return KNOT_EOK;
	}
	char msg[1024];
	int ret = KNOT_EOK;
	for (unsigned k = 0; k < MX_KIND_COUNT && ret == KNOT_EOK; k++) {
		if (mx_conf_kind_items[k] != NULL) {
			ret = mx_conf_check_action(k, inst->policy.action[k], msg, sizeof(msg));
		}
	}
	if (ret == KNOT_EOK && sec->allow_count > 0) {
		inst->allow = calloc(sec->allow_count, sizeof(*inst->allow));
		if (inst->allow == NULL) {
			return KNOT_ENOMEM;
		}
		for (size_t i = 0; i < sec->allow_count && ret == KNOT_EOK; i++) {
			ret = mx_conf_parse_allow(&inst->allow[i], sec->allow[i], msg, sizeof(msg));
		}
		inst->allow_count = sec->allow_count;
	}
	if (ret == KNOT_EOK && (sec->name_count > 0 || sec->file != NULL)) {
		inst->no_mail = mx_name_list_new();
		if (inst->no_mail == NULL) {
			return KNOT_ENOMEM;
		}
		ret = mx_conf_load_no_mail(inst->no_mail, (const char *const *)sec->names,
		                           sec->name_count, sec->file, msg, sizeof(msg));
		if (ret == KNOT_ENOMEM) {
			return ret;
		}
		inst->policy.action[MX_KIND_NULL_MX_OVERRIDE] = MX_ACTION_NULL_MX;
	}
	// The module checks the DMARC record it would serve at conf-check.
	if (ret == KNOT_EOK && inst->dmarc != NULL) {
		ret = mx_conf_check_dmarc(inst->dmarc, msg, sizeof(msg));
	}
	inst->policy.allow = inst->allow;
	inst->policy.allow_count = inst->allow_count;
	section_reset(sec);
	if (ret != KNOT_EOK) {
		return reader_fail(r, KNOT_EINVAL, "line %zu, section '" MX_CONF_SECTION "[%s]' (%s)",
		            line, inst->id, msg);
	}
	return KNOT_EOK;
}

static const policy_instance_t *find_id(const policy_conf_t *conf, const char *id)
{
	for (size_t i = 0; i < conf->count; i++) {
		if (strcmp(conf->instances[i]->id, id) == 0) {
			return conf->instances[i];
		}
	}
	return NULL;
}

const policy_instance_t *policy_conf_find(const policy_conf_t *conf, const char *ref)
{
	const size_t len = strlen(MX_CONF_SECTION);
	if (strcmp(ref, MX_CONF_SECTION) == 0) {
		return &conf->defaults;
	}
	if (strncmp(ref, MX_CONF_SECTION "/", len + 1) == 0) {
		ref += len + 1;
	}
	return find_id(conf, ref);
}

static int new_instance(reader_t *r)
{
	policy_conf_t *conf = r->conf;
	if (find_id(conf, r->yp->data) != NULL) {
		return reader_fail_item(r, KNOT_EINVAL, knot_strerror(KNOT_CONF_EREDEFINE));
	}
	policy_instance_t **grown = realloc(conf->instances,
	                                    (conf->count + 1) * sizeof(*grown));
	if (grown == NULL) {
		return KNOT_ENOMEM;
	}
	conf->instances = grown;
	policy_instance_t *inst = malloc(sizeof(*inst));
	if (inst == NULL) {
		return KNOT_ENOMEM;
	}
	instance_init(inst);
	inst->line = r->yp->line_count;
	if ((inst->id = strdup(r->yp->data)) == NULL) {
		free(inst);
		return KNOT_ENOMEM;
	}
	conf->instances[conf->count++] = inst;
	r->sec.inst = inst;
	return KNOT_EOK;
}

// An item of a mod-mxguard section, checked and converted by yparser.
static int take_item(reader_t *r, const yp_check_ctx_t *ctx)
{
	const yp_parser_t *yp = r->yp;
	const yp_node_t *node = &ctx->nodes[ctx->current];
	policy_instance_t *inst = r->sec.inst;
	if (inst == NULL || node->item == NULL) {
		return KNOT_EOK;
	}
	const yp_name_t *name = node->item->name;
	for (unsigned k = 0; k < MX_KIND_COUNT; k++) {
		if (mx_conf_kind_items[k] != NULL &&
		    yp_name_cmp(name, mx_conf_kind_items[k]) == 0) {
			inst->policy.action[k] = yp_opt(node->data);
			return KNOT_EOK;
		}
	}
	if (yp_name_cmp(name, (const yp_name_t *)MX_CONF_ALLOW_ADDRESS) == 0) {
		return conf_push_str(&r->sec.allow, &r->sec.allow_count, yp->data) ?
		       KNOT_EOK : KNOT_ENOMEM;
	}
	if (yp_name_cmp(name, (const yp_name_t *)MX_CONF_NULL_MX) == 0) {
		return conf_push_str(&r->sec.names, &r->sec.name_count, yp->data) ?
		       KNOT_EOK : KNOT_ENOMEM;
	}
	if (yp_name_cmp(name, (const yp_name_t *)MX_CONF_NULL_MX_FILE) == 0) {
		return conf_set_str(&r->sec.file, yp->data) ? KNOT_EOK : KNOT_ENOMEM;
	}
	if (yp_name_cmp(name, (const yp_name_t *)MX_CONF_NULL_MX_IMPLICIT) == 0) {
		inst->implicit = yp_bool(node->data);
		return KNOT_EOK;
	}
	if (yp_name_cmp(name, (const yp_name_t *)MX_CONF_NO_MAIL_RECORDS) == 0) {
		inst->records |= yp_opt(node->data);
		return KNOT_EOK;
	}
	if (yp_name_cmp(name, (const yp_name_t *)MX_CONF_NO_MAIL_DMARC) == 0) {
		return conf_set_str(&inst->dmarc, yp_str(node->data)) ? KNOT_EOK : KNOT_ENOMEM;
	}
	if (yp_name_cmp(name, (const yp_name_t *)MX_CONF_POLICY) == 0) {
		for (size_t i = 0; i < r->policy_count; i++) {
			if (strcmp(r->policies[i], yp->data) == 0) {
				return KNOT_EOK;
			}
		}
		return reader_fail_item(r, KNOT_EINVAL, "invalid reference");
	}
	// log-interval, log-table-size, dnssec-unsigned: checked, not used.
	return KNOT_EOK;
}

static int parse_file(reader_t *r, const char *path);

// Where glob(3)'s error callback, which has no context, writes knotd's
// warning for a path it could not read.
static FILE *glob_warnings;

static int glob_error(const char *path, int errcode)
{
	if (glob_warnings != NULL) {
		fprintf(glob_warnings, "warning: config, failed to access '%s' (%s)\n", path,
		        knot_strerror(knot_map_errno_code(errcode)));
	}
	return 0;
}

// The files of an include pattern, read at its place as knotd reads them.
static int include_pattern(reader_t *r, const char *pattern)
{
	// A pattern with '*' may match nothing; a path must name a file.
	glob_t found = { 0 };
	glob_warnings = r->warnings;
	int ret = glob(pattern, 0, glob_error, &found);
	glob_warnings = NULL;
	if (ret != 0 && (ret != GLOB_NOMATCH || strchr(pattern, '*') == NULL)) {
		globfree(&found);
		return reader_fail_item(r, KNOT_EFILE, NULL);
	}
	ret = KNOT_EOK;
	for (size_t i = 0; i < found.gl_pathc && ret == KNOT_EOK; i++) {
		const char *file = found.gl_pathv[i];
		struct stat st;
		const char *skipped = NULL;
		if (stat(file, &st) != 0) {
			skipped = "failed to get file status for";
		} else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
			skipped = "invalid include file";
		}
		if (skipped != NULL && r->warnings != NULL) {
			fprintf(r->warnings, "warning: config, %s '%s'\n", skipped, file);
		}
		// Directories are skipped in silence, as knotd skips them.
		if (skipped == NULL && S_ISREG(st.st_mode)) {
			ret = parse_file(r, file);
		}
	}
	globfree(&found);
	return ret;
}

// An include item: relative to the directory of the file that holds it.
static int include_files(reader_t *r)
{
	const yp_parser_t *yp = r->yp;
	if (yp->data_len == 0) {
#if KNOT_VERSION_MAJOR > 3 || (KNOT_VERSION_MAJOR == 3 && KNOT_VERSION_MINOR >= 4)
		// Knot 3.4 refuses an include without a value; 3.2 and 3.3 skip it.
		return reader_fail_item(r, KNOT_EINVAL, "missing value");
#else
		return KNOT_EOK;
#endif
	}
	if (r->depth >= MAX_INCLUDE_DEPTH + 1) {
		snprintf(r->err, r->err_len, "config, include loop detected");
		return KNOT_EPARSEFAIL;
	}
	char *pattern = NULL;
	if (yp->data[0] == '/') {
		pattern = strdup(yp->data);
	} else {
		char *current = realpath(r->path, NULL);
		if (current == NULL) {
			return reader_fail_item(r, KNOT_ENOMEM, NULL);
		}
		size_t len = strlen(current) + yp->data_len + 2;
		if ((pattern = malloc(len)) != NULL) {
			snprintf(pattern, len, "%s/%s", dirname(current), yp->data);
		}
		free(current);
	}
	if (pattern == NULL) {
		return KNOT_ENOMEM;
	}
	r->depth++;
	int ret = include_pattern(r, pattern);
	r->depth--;
	free(pattern);
	return ret;
}

// The state of the file being read: its current section.
typedef struct {
	bool in_mod;
	enum { OTHER, TEMPLATE, ZONE, POLICY, INCLUDE } section;
} file_state_t;

// One parser event.
static int take_event(reader_t *r, yp_check_ctx_t *ctx, file_state_t *st)
{
	yp_parser_t *yp = r->yp;
	if (yp->event == YP_EKEY0 || yp->event == YP_EID) {
		// knotd checks a section when the next one begins.
		int ret = finish_section(r, yp->line_count - 1);
		if (ret != KNOT_EOK) {
			return ret;
		}
	}
	if (yp->event == YP_EKEY0) {
		st->in_mod = strcmp(yp->key, MX_CONF_SECTION) == 0;
		st->section = strcmp(yp->key, "template") == 0 ? TEMPLATE :
		              strcmp(yp->key, "zone") == 0 ? ZONE :
		              strcmp(yp->key, "policy") == 0 ? POLICY :
		              strcmp(yp->key, "include") == 0 ? INCLUDE : OTHER;
		conf_zones_section(r->zones);
		if (st->section == INCLUDE) {
			return include_files(r);
		}
	}
	if (st->in_mod) {
		int ret = yp_schema_check_parser(ctx, yp);
		if (ret != KNOT_EOK) {
			return reader_fail_item(r, ret, NULL);
		}
		if (yp->event == YP_EID) {
			return new_instance(r);
		}
		return yp->event == YP_EKEY1 ? take_item(r, ctx) : KNOT_EOK;
	}
	switch (st->section) {
	case POLICY:
		if (yp->event == YP_EID) {
			return conf_push_str(&r->policies, &r->policy_count, yp->data) ?
			       KNOT_EOK : KNOT_ENOMEM;
		}
		return KNOT_EOK;
	case TEMPLATE:
	case ZONE:
		return conf_zones_take(r, st->section == TEMPLATE);
	default:
		return KNOT_EOK;
	}
}

// Reads one file (the configuration or an included one) to its end.
static int parse_file(reader_t *r, const char *path)
{
	yp_parser_t *yp = malloc(sizeof(*yp));
	yp_check_ctx_t *ctx = yp_schema_check_init(r->schema);
	if (yp == NULL || ctx == NULL) {
		free(yp);
		yp_schema_check_deinit(ctx);
		return KNOT_ENOMEM;
	}
	yp_init(yp);
	const char *outer_path = r->path;
	yp_parser_t *outer_yp = r->yp;
	r->path = path;
	r->yp = yp;

	int ret = yp_set_input_file(yp, path);
	if (ret != KNOT_EOK) {
		if (outer_yp == NULL) {
			snprintf(r->err, r->err_len, "%s: %s", path, knot_strerror(ret));
			ret = KNOT_EFILE;
		} else {
			snprintf(r->err, r->err_len, "config, failed to load file '%s' (%s)",
			         path, knot_strerror(ret));
		}
		goto done;
	}
	file_state_t st = { .section = OTHER };
	int item_ret = KNOT_EOK;
	while ((ret = yp_parse(yp)) == KNOT_EOK) {
		item_ret = take_event(r, ctx, &st);
		if (item_ret != KNOT_EOK) {
			break;
		}
	}
	if (item_ret != KNOT_EOK) {
		ret = item_ret;
	} else if (ret == KNOT_EOF) {
		// knotd checks the last section at the end of each file.
		ret = finish_section(r, yp->line_count - 1);
	} else {
		reader_fail(r, ret, "line %zu (%s)", yp->line_count, knot_strerror(ret));
		ret = KNOT_EPARSEFAIL;
	}
	conf_zones_section(r->zones);
done:
	r->path = outer_path;
	r->yp = outer_yp;
	yp_deinit(yp);
	free(yp);
	yp_schema_check_deinit(ctx);
	return ret;
}

int policy_conf_load(policy_conf_t *conf, const char *path, char *err, size_t err_len,
                     FILE *warnings)
{
	memset(conf, 0, sizeof(*conf));
	instance_init(&conf->defaults);

	if (access(path, R_OK) != 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return KNOT_EFILE;
	}
	yp_item_t *schema = NULL;
	int ret = yp_schema_copy(&schema, schema_src);
	if (ret != KNOT_EOK) {
		snprintf(err, err_len, "%s: %s", path, knot_strerror(ret));
		return ret;
	}
	reader_t r = { .conf = conf, .path = path, .err = err, .err_len = err_len,
	               .warnings = warnings, .schema = &schema, .zones = conf_zones_new() };
	ret = (r.zones != NULL) ? parse_file(&r, path) : KNOT_ENOMEM;
	if (ret == KNOT_EOK) {
		ret = conf_zones_resolve(&r);
	}
	if (ret == KNOT_ENOMEM) {
		snprintf(err, err_len, "%s: out of memory", path);
	}
	section_reset(&r.sec);
	conf_free_strs(r.policies, r.policy_count);
	conf_zones_free(r.zones);
	yp_schema_free(schema);
	if (ret != KNOT_EOK) {
		policy_conf_clear(conf);
	}
	return ret;
}

const policy_zone_t *policy_conf_zone(const policy_conf_t *conf, const char *name)
{
	knot_dname_t *wanted = knot_dname_from_str_alloc(name);
	if (wanted == NULL) {
		return NULL;
	}
	const policy_zone_t *found = NULL;
	for (size_t i = 0; i < conf->zone_count && found == NULL; i++) {
		knot_dname_t *zone = knot_dname_from_str_alloc(conf->zones[i].domain);
		if (zone != NULL && knot_dname_is_case_equal(zone, wanted)) {
			found = &conf->zones[i];
		}
		free(zone);
	}
	free(wanted);
	return found;
}

void policy_conf_clear(policy_conf_t *conf)
{
	for (size_t i = 0; i < conf->count; i++) {
		instance_free(conf->instances[i]);
		free(conf->instances[i]);
	}
	free(conf->instances);
	instance_free(&conf->defaults);
	for (size_t i = 0; i < conf->zone_count; i++) {
		free(conf->zones[i].domain);
		free(conf->zones[i].file);
	}
	free(conf->zones);
	for (size_t i = 0; i < conf->catalog_count; i++) {
		policy_catalog_t *cat = &conf->catalogs[i];
		for (size_t t = 0; t < cat->template_count; t++) {
			free(cat->templates[t].id);
			free(cat->templates[t].file);
			free(cat->templates[t].storage);
		}
		free(cat->templates);
		free(cat->domain);
		free(cat->file);
	}
	free(conf->catalogs);
	for (size_t i = 0; i < conf->name_count; i++) {
		free(conf->names[i]);
	}
	free(conf->names);
	memset(conf, 0, sizeof(*conf));
	instance_init(&conf->defaults);
}
