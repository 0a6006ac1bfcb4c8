/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * What the template and zone sections of a knot.conf say for mod-mxguard:
 * which instance serves each zone, where its zone file is, and the catalog
 * zones knotd interprets with the templates their members get. Items are
 * taken as knotd takes them: a zone's own, else its template's (the zone's
 * template, else the template default); a catalog member has only its
 * catalog template's (knotd never falls back to the template default
 * there).
 */

#include <stdlib.h>
#include <string.h>
#include <libknot/dname.h>
#include <libknot/errcode.h>

#include "conf_reader.h"
#include "config_rules.h"
#include "zone_file_name.h"

// knotd's zone file storage when none is configured (Debian's STORAGE_DIR).
#define DEFAULT_STORAGE "/var/lib/knot"
#define DEFAULT_FILE "%s.zone"

// What a zone or a template says of the module, its zone file and catalogs.
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
	char *role;          // catalog-role.
	char **cat_tpls;     // catalog-template values.
	size_t cat_tpl_count;
} zone_conf_t;

struct conf_zones {
	zone_conf_t *tpls;
	size_t tpl_count;
	zone_conf_t *zones;
	size_t zone_count;
	zone_conf_t *cur;    // The template or zone being read.
	bool cur_is_tpl;
};

conf_zones_t *conf_zones_new(void)
{
	return calloc(1, sizeof(conf_zones_t));
}

static void zone_conf_free(zone_conf_t *items, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(items[i].id);
		free(items[i].tpl);
		free(items[i].file);
		free(items[i].storage);
		free(items[i].global);
		free(items[i].role);
		conf_free_strs(items[i].modules, items[i].module_count);
		conf_free_strs(items[i].cat_tpls, items[i].cat_tpl_count);
	}
	free(items);
}

void conf_zones_free(conf_zones_t *zones)
{
	if (zones == NULL) {
		return;
	}
	zone_conf_free(zones->tpls, zones->tpl_count);
	zone_conf_free(zones->zones, zones->zone_count);
	free(zones);
}

void conf_zones_section(conf_zones_t *zones)
{
	zones->cur = NULL;
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
	if (data[len] == '/' && policy_conf_find(r->conf, data) == NULL) {
		return reader_fail_item(r, KNOT_EINVAL, "invalid module reference");
	}
	return conf_push_str(refs, count, data) ? KNOT_EOK : KNOT_ENOMEM;
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

static const zone_conf_t *find_tpl(const conf_zones_t *zones, const char *id)
{
	for (size_t i = 0; i < zones->tpl_count; i++) {
		if (strcmp(zones->tpls[i].id, id) == 0) {
			return &zones->tpls[i];
		}
	}
	return NULL;
}

int conf_zones_take(reader_t *r, bool is_tpl)
{
	const yp_parser_t *yp = r->yp;
	conf_zones_t *zones = r->zones;
	if (yp->event == YP_EID) {
		zones->cur = is_tpl ? new_zone_conf(&zones->tpls, &zones->tpl_count, yp->data) :
		                      new_zone_conf(&zones->zones, &zones->zone_count, yp->data);
		return zones->cur != NULL ? KNOT_EOK : KNOT_ENOMEM;
	}
	zone_conf_t *z = zones->cur;
	if (z == NULL || yp->event != YP_EKEY1) {
		return KNOT_EOK;
	}
	if (strcmp(yp->key, "file") == 0) {
		return conf_set_str(&z->file, yp->data) ? KNOT_EOK : KNOT_ENOMEM;
	}
	if (strcmp(yp->key, "storage") == 0) {
		return conf_set_str(&z->storage, yp->data) ? KNOT_EOK : KNOT_ENOMEM;
	}
	if (!is_tpl && strcmp(yp->key, "template") == 0) {
		return conf_set_str(&z->tpl, yp->data) ? KNOT_EOK : KNOT_ENOMEM;
	}
	if (strcmp(yp->key, "module") == 0) {
		z->has_modules = true;
		return take_ref(r, &z->modules, &z->module_count);
	}
	if (strcmp(yp->key, "catalog-role") == 0) {
		return conf_set_str(&z->role, yp->data) ? KNOT_EOK : KNOT_ENOMEM;
	}
	if (strcmp(yp->key, "catalog-template") == 0) {
		// knotd takes a reference to a template read before, no other.
		if (find_tpl(zones, yp->data) == NULL) {
			return reader_fail_item(r, KNOT_EINVAL, "invalid reference");
		}
		return conf_push_str(&z->cat_tpls, &z->cat_tpl_count, yp->data) ?
		       KNOT_EOK : KNOT_ENOMEM;
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
		conf_free_strs(refs, count);
		return ret;
	}
	return KNOT_EOK;
}

// The instance of the module items of a zone or template (has_modules
// given), else the global module.
static const policy_instance_t *served_by(const policy_conf_t *conf, const zone_conf_t *src,
                                          bool *global)
{
	const char *ref = (src != NULL && src->module_count > 0) ? src->modules[0] : NULL;
	const policy_instance_t *inst = (ref != NULL) ? policy_conf_find(conf, ref) : NULL;
	*global = (inst == NULL && conf->global != NULL);
	return *global ? conf->global : inst;
}

// The zone's file, as knotd finds it; NULL with the message set.
static char *zone_path(reader_t *r, const zone_conf_t *z, const zone_conf_t *tpl)
{
	knot_dname_t *name = knot_dname_from_str_alloc(z->id);
	if (name == NULL) {
		reader_fail(r, KNOT_EINVAL, "invalid zone '%s'", z->id);
		return NULL;
	}
	knot_dname_to_lower(name);
	const char *file = z->file ? z->file : (tpl && tpl->file) ? tpl->file : DEFAULT_FILE;
	const char *storage = z->storage ? z->storage :
	                      (tpl && tpl->storage) ? tpl->storage : DEFAULT_STORAGE;
	char *path = zone_file_name(file, name, storage);
	free(name);
	if (path == NULL) {
		reader_fail(r, KNOT_EINVAL, "zone '%s', cannot make its file name from '%s'",
		            z->id, file);
	}
	return path;
}

static int add_zone(policy_conf_t *conf, const zone_conf_t *z, char *path,
                    const policy_instance_t *inst, bool global)
{
	policy_zone_t *grown = realloc(conf->zones, (conf->zone_count + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(path);
		return KNOT_ENOMEM;
	}
	conf->zones = grown;
	grown[conf->zone_count++] = (policy_zone_t) {
		.domain = strdup(z->id), .file = path, .instance = inst, .global = global
	};
	return grown[conf->zone_count - 1].domain != NULL ? KNOT_EOK : KNOT_ENOMEM;
}

// A catalog zone knotd interprets, with the templates its members get.
static int add_catalog(reader_t *r, const zone_conf_t *z, char *path, char **tpl_ids,
                       size_t tpl_count)
{
	policy_conf_t *conf = r->conf;
	policy_catalog_t *grown = realloc(conf->catalogs, (conf->catalog_count + 1) *
	                                                  sizeof(*grown));
	if (grown == NULL) {
		free(path);
		return KNOT_ENOMEM;
	}
	conf->catalogs = grown;
	policy_catalog_t *cat = &grown[conf->catalog_count++];
	*cat = (policy_catalog_t) { .domain = strdup(z->id), .file = path };
	cat->templates = calloc(tpl_count, sizeof(*cat->templates));
	if (cat->domain == NULL || (tpl_count > 0 && cat->templates == NULL)) {
		return KNOT_ENOMEM;
	}
	for (size_t i = 0; i < tpl_count; i++) {
		const zone_conf_t *tpl = find_tpl(r->zones, tpl_ids[i]);
		policy_template_t *t = &cat->templates[cat->template_count++];
		t->id = strdup(tpl_ids[i]);
		t->file = (tpl && tpl->file) ? strdup(tpl->file) : NULL;
		t->storage = (tpl && tpl->storage) ? strdup(tpl->storage) : NULL;
		t->instance = served_by(conf, tpl, &t->global);
		if (t->id == NULL || (tpl && tpl->file && t->file == NULL) ||
		    (tpl && tpl->storage && t->storage == NULL)) {
			return KNOT_ENOMEM;
		}
	}
	return KNOT_EOK;
}

static int add_name(policy_conf_t *conf, const char *id)
{
	knot_dname_t *name = knot_dname_from_str_alloc(id);
	if (name == NULL) {
		return KNOT_EOK;  // Refused later, where the zone is resolved.
	}
	knot_dname_to_lower(name);
	knot_dname_t **grown = realloc(conf->names, (conf->name_count + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(name);
		return KNOT_ENOMEM;
	}
	conf->names = grown;
	grown[conf->name_count++] = name;
	return KNOT_EOK;
}

// The global module of the template default, refused where knotd refuses it.
static int resolve_global(reader_t *r, const zone_conf_t *def)
{
	policy_conf_t *conf = r->conf;
	if (def == NULL || def->global == NULL) {
		return KNOT_EOK;
	}
	conf->global = policy_conf_find(conf, def->global);
	char msg[256];
	const policy_instance_t *g = conf->global;
	if (g != NULL && mx_conf_check_scope(true, mx_conf_rewrites(&g->policy,
	    g->no_mail != NULL, g->implicit), msg, sizeof(msg)) != KNOT_EOK) {
		return reader_fail(r, KNOT_EINVAL, "line %zu, item 'global-module', value "
		                   "'%s' (%s)", def->global_line, def->global, msg);
	}
	return KNOT_EOK;
}

int conf_zones_resolve(reader_t *r)
{
	policy_conf_t *conf = r->conf;
	const conf_zones_t *zones = r->zones;
	const zone_conf_t *def = find_tpl(zones, "default");
	int ret = resolve_global(r, def);
	for (size_t i = 0; i < zones->zone_count && ret == KNOT_EOK; i++) {
		const zone_conf_t *z = &zones->zones[i];
		const zone_conf_t *tpl = (z->tpl != NULL) ? find_tpl(zones, z->tpl) : def;
		ret = add_name(conf, z->id);
		if (ret != KNOT_EOK) {
			break;
		}

		// catalog-role and catalog-template: the zone's, else its template's.
		const char *role = z->role ? z->role : tpl ? tpl->role : NULL;
		bool own_tpls = z->cat_tpl_count > 0 || tpl == NULL;
		char **tpl_ids = own_tpls ? z->cat_tpls : tpl->cat_tpls;
		size_t tpl_count = own_tpls ? z->cat_tpl_count : tpl->cat_tpl_count;
		bool interpret = role != NULL && strcmp(role, "interpret") == 0 && tpl_count > 0;
		// knotd makes a generated catalog's data itself: SOA, NS, TXT and
		// PTR records, no MX, and maybe no file.
		if (role != NULL && strcmp(role, "generate") == 0) {
			continue;
		}

		bool global = false;
		const policy_instance_t *inst = served_by(conf, z->has_modules ? z : tpl, &global);
		if (inst == NULL && !interpret) {
			continue;
		}
		if (inst != NULL) {
			char *path = zone_path(r, z, tpl);
			ret = (path != NULL) ? add_zone(conf, z, path, inst, global) : KNOT_EINVAL;
		}
		if (ret == KNOT_EOK && interpret) {
			char *path = zone_path(r, z, tpl);
			ret = (path != NULL) ? add_catalog(r, z, path, tpl_ids, tpl_count) :
			                       KNOT_EINVAL;
		}
	}
	return ret;
}

bool policy_conf_has_name(const policy_conf_t *conf, const knot_dname_t *name)
{
	for (size_t i = 0; i < conf->name_count; i++) {
		if (knot_dname_is_equal(conf->names[i], name)) {
			return true;
		}
	}
	return false;
}

char *policy_template_file(const policy_template_t *tpl, const knot_dname_t *member)
{
	return zone_file_name(tpl->file ? tpl->file : DEFAULT_FILE, member,
	                      tpl->storage ? tpl->storage : DEFAULT_STORAGE);
}
