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
 * ids of policy sections, and the templates and zones that use mxguard.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <libknot/dname.h>
#include <libknot/errcode.h>
#include <libknot/error.h>
#include <libknot/yparser/yparser.h>
#include <libknot/yparser/ypschema.h>
#include <libknot/yparser/yptrafo.h>

#include "config_rules.h"
#include "policy_conf.h"
#include "zone_file_name.h"

// knotd's zone file storage when none is configured (Debian's STORAGE_DIR).
#define DEFAULT_STORAGE "/var/lib/knot"
#define DEFAULT_FILE "%s.zone"

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

// What a zone or a template says of the module and its zone file.
typedef struct {
	char *id;            // Template id, or zone domain.
	char *tpl;           // A zone's template.
	char *file;
	char *storage;
	char **modules;      // mxguard references (others are not kept).
	size_t module_count;
	bool has_modules;    // A module item, of any module.
	char *global;        // A template's global mxguard reference.
	size_t global_line;
} zone_conf_t;

// The values of the section being read.
typedef struct {
	policy_instance_t *inst;
	char **names;        // null-mx values.
	size_t name_count;
	char *file;          // null-mx-file, NULL when absent.
	char **allow;        // allow-address values as written.
	size_t allow_count;
} section_t;

typedef struct {
	policy_conf_t *conf;
	const char *path;
	char *err;
	size_t err_len;
	yp_parser_t *yp;
	section_t sec;
	char **policies;     // Ids of policy sections.
	size_t policy_count;
	zone_conf_t *tpls;
	size_t tpl_count;
	zone_conf_t *zones;
	size_t zone_count;
	zone_conf_t *cur;    // The template or zone being read.
} reader_t;

static int yp_name_cmp(const yp_name_t *a, const yp_name_t *b)
{
	return (a[0] == b[0]) ? memcmp(a + 1, b + 1, a[0]) : 1;
}

static bool push_str(char ***items, size_t *count, const char *value)
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

static void free_strs(char **items, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(items[i]);
	}
	free(items);
}

static bool set_str(char **dst, const char *value)
{
	free(*dst);
	*dst = strdup(value);
	return *dst != NULL;
}

__attribute__((format(printf, 3, 4)))
static int fail(reader_t *r, int ret, const char *fmt, ...)
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

// An error of the current item, in knotd's words.
static int fail_item(reader_t *r, int ret, const char *reason)
{
	const yp_parser_t *yp = r->yp;
	if (yp->data_len > 0) {
		return fail(r, ret, "line %zu, item '%s', value '%.*s' (%s)", yp->line_count,
		            yp->key, (int)yp->data_len, yp->data,
		            reason ? reason : knot_strerror(ret));
	}
	return fail(r, ret, "line %zu, item '%s' (%s)", yp->line_count, yp->key,
	            reason ? reason : knot_strerror(ret));
}

static void instance_free(policy_instance_t *inst)
{
	if (inst == NULL) {
		return;
	}
	free(inst->id);
	free(inst->allow);
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
	free_strs(sec->names, sec->name_count);
	free_strs(sec->allow, sec->allow_count);
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
	inst->policy.allow = inst->allow;
	inst->policy.allow_count = inst->allow_count;
	section_reset(sec);
	if (ret != KNOT_EOK) {
		return fail(r, KNOT_EINVAL, "line %zu, section '" MX_CONF_SECTION "[%s]' (%s)",
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
		return fail_item(r, KNOT_EINVAL, knot_strerror(KNOT_CONF_EREDEFINE));
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
		return push_str(&r->sec.allow, &r->sec.allow_count, yp->data) ?
		       KNOT_EOK : KNOT_ENOMEM;
	}
	if (yp_name_cmp(name, (const yp_name_t *)MX_CONF_NULL_MX) == 0) {
		return push_str(&r->sec.names, &r->sec.name_count, yp->data) ?
		       KNOT_EOK : KNOT_ENOMEM;
	}
	if (yp_name_cmp(name, (const yp_name_t *)MX_CONF_NULL_MX_FILE) == 0) {
		return set_str(&r->sec.file, yp->data) ? KNOT_EOK : KNOT_ENOMEM;
	}
	if (yp_name_cmp(name, (const yp_name_t *)MX_CONF_NULL_MX_IMPLICIT) == 0) {
		inst->implicit = yp_bool(node->data);
		return KNOT_EOK;
	}
	if (yp_name_cmp(name, (const yp_name_t *)MX_CONF_POLICY) == 0) {
		for (size_t i = 0; i < r->policy_count; i++) {
			if (strcmp(r->policies[i], yp->data) == 0) {
				return KNOT_EOK;
			}
		}
		return fail_item(r, KNOT_EINVAL, "invalid reference");
	}
	// log-interval, log-table-size, dnssec-unsigned: checked, not used.
	return KNOT_EOK;
}

// A module reference (zone module, template module or global-module).
static int take_ref(reader_t *r, char ***refs, size_t *count)
{
	const char *data = r->yp->data;
	const size_t len = strlen(MX_CONF_SECTION);
	if (strncmp(data, MX_CONF_SECTION, len) != 0 ||
	    (data[len] != '\0' && data[len] != '/')) {
		return KNOT_EOK;
	}
	if (data[len] == '/' && find_id(r->conf, data + len + 1) == NULL) {
		return fail_item(r, KNOT_EINVAL, "invalid module reference");
	}
	return push_str(refs, count, data) ? KNOT_EOK : KNOT_ENOMEM;
}

static zone_conf_t *new_zone_conf(zone_conf_t **items, size_t *count, const char *id)
{
	zone_conf_t *grown = realloc(*items, (*count + 1) * sizeof(*grown));
	if (grown == NULL) {
		return NULL;
	}
	*items = grown;
	zone_conf_t *z = &grown[*count];
	memset(z, 0, sizeof(*z));
	if ((z->id = strdup(id)) == NULL) {
		return NULL;
	}
	(*count)++;
	return z;
}

// An item of a template or a zone.
static int take_zone_item(reader_t *r, bool is_tpl)
{
	const yp_parser_t *yp = r->yp;
	zone_conf_t *z = r->cur;
	if (yp->event == YP_EID) {
		z = is_tpl ? new_zone_conf(&r->tpls, &r->tpl_count, yp->data) :
		             new_zone_conf(&r->zones, &r->zone_count, yp->data);
		r->cur = z;
		return z != NULL ? KNOT_EOK : KNOT_ENOMEM;
	}
	if (z == NULL || yp->event != YP_EKEY1) {
		return KNOT_EOK;
	}
	if (strcmp(yp->key, "file") == 0) {
		return set_str(&z->file, yp->data) ? KNOT_EOK : KNOT_ENOMEM;
	}
	if (strcmp(yp->key, "storage") == 0) {
		return set_str(&z->storage, yp->data) ? KNOT_EOK : KNOT_ENOMEM;
	}
	if (!is_tpl && strcmp(yp->key, "template") == 0) {
		return set_str(&z->tpl, yp->data) ? KNOT_EOK : KNOT_ENOMEM;
	}
	if (strcmp(yp->key, "module") == 0) {
		z->has_modules = true;
		return take_ref(r, &z->modules, &z->module_count);
	}
	if (is_tpl && strcmp(yp->key, "global-module") == 0) {
		char **refs = NULL;
		size_t count = 0;
		int ret = take_ref(r, &refs, &count);
		if (ret == KNOT_EOK && count > 0 && z->global == NULL) {
			z->global = refs[0];
			z->global_line = yp->line_count;
			refs[0] = NULL;
		}
		free_strs(refs, count);
		return ret;
	}
	return KNOT_EOK;
}

// One parser event.
static int take_event(reader_t *r, yp_check_ctx_t *ctx, bool *in_mod, int *section)
{
	yp_parser_t *yp = r->yp;
	enum { OTHER, TEMPLATE, ZONE, POLICY };
	if (yp->event == YP_EKEY0 || yp->event == YP_EID) {
		// knotd checks a section when the next one begins.
		int ret = finish_section(r, yp->line_count - 1);
		if (ret != KNOT_EOK) {
			return ret;
		}
	}
	if (yp->event == YP_EKEY0) {
		*in_mod = strcmp(yp->key, MX_CONF_SECTION) == 0;
		*section = strcmp(yp->key, "template") == 0 ? TEMPLATE :
		           strcmp(yp->key, "zone") == 0 ? ZONE :
		           strcmp(yp->key, "policy") == 0 ? POLICY : OTHER;
		r->cur = NULL;
	}
	if (*in_mod) {
		int ret = yp_schema_check_parser(ctx, yp);
		if (ret != KNOT_EOK) {
			return fail_item(r, ret, NULL);
		}
		if (yp->event == YP_EID) {
			return new_instance(r);
		}
		return yp->event == YP_EKEY1 ? take_item(r, ctx) : KNOT_EOK;
	}
	switch (*section) {
	case POLICY:
		if (yp->event == YP_EID) {
			return push_str(&r->policies, &r->policy_count, yp->data) ?
			       KNOT_EOK : KNOT_ENOMEM;
		}
		return KNOT_EOK;
	case TEMPLATE:
	case ZONE:
		return take_zone_item(r, *section == TEMPLATE);
	default:
		return KNOT_EOK;
	}
}

static const zone_conf_t *find_tpl(const reader_t *r, const char *id)
{
	for (size_t i = 0; i < r->tpl_count; i++) {
		if (strcmp(r->tpls[i].id, id) == 0) {
			return &r->tpls[i];
		}
	}
	return NULL;
}

// The zones and the global module, once the whole file is read.
static int resolve(reader_t *r)
{
	policy_conf_t *conf = r->conf;
	const zone_conf_t *def = find_tpl(r, "default");
	if (def != NULL && def->global != NULL) {
		conf->global = policy_conf_find(conf, def->global);
		char msg[256];
		const policy_instance_t *g = conf->global;
		if (g != NULL && mx_conf_check_scope(true, mx_conf_rewrites(&g->policy,
		    g->no_mail != NULL, g->implicit), msg, sizeof(msg)) != KNOT_EOK) {
			return fail(r, KNOT_EINVAL, "line %zu, item 'global-module', value '%s' (%s)",
			            def->global_line, def->global, msg);
		}
	}
	for (size_t i = 0; i < r->zone_count; i++) {
		const zone_conf_t *z = &r->zones[i];
		const zone_conf_t *tpl = (z->tpl != NULL) ? find_tpl(r, z->tpl) : def;
		const char *ref = (z->has_modules || tpl == NULL) ?
		                  (z->module_count > 0 ? z->modules[0] : NULL) :
		                  (tpl->module_count > 0 ? tpl->modules[0] : NULL);
		const policy_instance_t *inst = (ref != NULL) ? policy_conf_find(conf, ref) : NULL;
		bool global = false;
		if (inst == NULL && conf->global != NULL) {
			inst = conf->global;
			global = true;
		}
		if (inst == NULL) {
			continue;
		}
		knot_dname_t *name = knot_dname_from_str_alloc(z->id);
		if (name == NULL) {
			return fail(r, KNOT_EINVAL, "invalid zone '%s'", z->id);
		}
		knot_dname_to_lower(name);
		const char *file = z->file ? z->file : (tpl && tpl->file) ? tpl->file :
		                   DEFAULT_FILE;
		const char *storage = z->storage ? z->storage :
		                      (tpl && tpl->storage) ? tpl->storage : DEFAULT_STORAGE;
		char *path = zone_file_name(file, name, storage);
		free(name);
		if (path == NULL) {
			return fail(r, KNOT_EINVAL, "zone '%s', cannot make its file name from "
			            "'%s'", z->id, file);
		}
		policy_zone_t *grown = realloc(conf->zones, (conf->zone_count + 1) *
		                                            sizeof(*grown));
		if (grown == NULL) {
			free(path);
			return KNOT_ENOMEM;
		}
		conf->zones = grown;
		grown[conf->zone_count++] = (policy_zone_t) {
			.domain = strdup(z->id), .file = path, .instance = inst, .global = global
		};
		if (grown[conf->zone_count - 1].domain == NULL) {
			return KNOT_ENOMEM;
		}
	}
	return KNOT_EOK;
}

static void zone_conf_free(zone_conf_t *items, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(items[i].id);
		free(items[i].tpl);
		free(items[i].file);
		free(items[i].storage);
		free(items[i].global);
		free_strs(items[i].modules, items[i].module_count);
	}
	free(items);
}

int policy_conf_load(policy_conf_t *conf, const char *path, char *err, size_t err_len)
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
	yp_check_ctx_t *ctx = yp_schema_check_init(&schema);
	yp_parser_t *yp = malloc(sizeof(*yp));
	if (ctx == NULL || yp == NULL) {
		yp_schema_check_deinit(ctx);
		yp_schema_free(schema);
		free(yp);
		return KNOT_ENOMEM;
	}
	yp_init(yp);
	ret = yp_set_input_file(yp, path);
	if (ret != KNOT_EOK) {
		snprintf(err, err_len, "%s: %s", path, knot_strerror(ret));
		ret = KNOT_EFILE;
		goto done;
	}

	reader_t r = { .conf = conf, .path = path, .err = err, .err_len = err_len, .yp = yp };
	bool in_mod = false;
	int section = 0;
	int item_ret = KNOT_EOK;
	while ((ret = yp_parse(yp)) == KNOT_EOK) {
		item_ret = take_event(&r, ctx, &in_mod, &section);
		if (item_ret != KNOT_EOK) {
			break;
		}
	}
	if (item_ret != KNOT_EOK) {
		ret = item_ret;
	} else if (ret == KNOT_EOF) {
		ret = finish_section(&r, yp->line_count - 1);
		if (ret == KNOT_EOK) {
			ret = resolve(&r);
		}
	} else {
		fail(&r, ret, "line %zu (%s)", yp->line_count, knot_strerror(ret));
		ret = KNOT_EPARSEFAIL;
	}
	if (ret == KNOT_ENOMEM) {
		snprintf(err, err_len, "%s: out of memory", path);
	}
	section_reset(&r.sec);
	free_strs(r.policies, r.policy_count);
	zone_conf_free(r.tpls, r.tpl_count);
	zone_conf_free(r.zones, r.zone_count);
done:
	yp_deinit(yp);
	free(yp);
	yp_schema_check_deinit(ctx);
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
	memset(conf, 0, sizeof(*conf));
	instance_init(&conf->defaults);
}
