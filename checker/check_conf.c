/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * -c alone: the zones knotd serves with the module. The configured zones
 * first, in the order of the configuration; then the members of each
 * catalog zone knotd interprets, read from the catalog zone's file, as
 * knotd configures them: the catalog template named by the member's group,
 * else the first; a member that is a configured zone, or a member of an
 * earlier catalog, is not one (knotd ignores it). What cannot be checked is
 * named, and the run's status says so (EXIT_UNCHECKED).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libknot/errcode.h>

#include "catalog.h"
#include "check_conf.h"
#include "config_rules.h"

#define PROGRAM "mxguard-check"

// What could not be checked, for the last line.
typedef struct {
	char *text;
	size_t len;
	size_t count;
} unchecked_t;

static void note_unchecked(unchecked_t *u, const char *what, const char *name)
{
	size_t add = strlen(what) + strlen(name) + 3;
	char *grown = realloc(u->text, u->len + add);
	if (grown == NULL) {
		return;  // Each was named where it was found.
	}
	u->text = grown;
	u->len += snprintf(u->text + u->len, add, "%s%s%s", u->count > 0 ? ", " : "",
	                   what, name);
	u->count++;
}

// Whether any member of a catalog would be served with the module.
static bool catalog_served(const policy_catalog_t *cat)
{
	for (size_t i = 0; i < cat->template_count; i++) {
		if (cat->templates[i].instance != NULL) {
			return true;
		}
	}
	return false;
}

// The catalog template knotd gives a member: its group's, else the first.
static const policy_template_t *member_template(const policy_catalog_t *cat,
                                                const catalog_member_t *m)
{
	for (size_t i = 0; m->group != NULL && i < cat->template_count; i++) {
		if (strcmp(cat->templates[i].id, m->group) == 0) {
			return &cat->templates[i];
		}
	}
	return &cat->templates[0];
}

// Checks the members of one catalog; \a cat_data is kept for later catalogs.
static int check_members(const check_options_t *opt, const policy_catalog_t *cat,
                         const knot_dname_t *apex, const char *apex_txt,
                         catalog_t *cat_data, const catalog_t *earlier,
                         size_t earlier_count, unchecked_t *unchecked)
{
	load_msgs_t msgs = { .opt = opt };
	int ret = catalog_load(cat_data, cat->file, apex, load_msg, &msgs);
	load_msgs_finish(&msgs, cat->file, apex_txt, ret);
	if (ret != KNOT_EOK) {
		char text[KNOT_DNAME_TXT_MAXLEN + 128];
		snprintf(text, sizeof(text), "catalog members of %s not checked: their list is "
		         "in the catalog zone's data, and knotd would not load its file "
		         "(above)", apex_txt);
		report_error(opt, cat->file, 0, apex_txt, "catalog", text);
		note_unchecked(unchecked, "the members of catalog ", apex_txt);
		return exit_status_merge(EXIT_TROUBLE, EXIT_UNCHECKED);
	}

	int status = EXIT_CLEAN;
	for (size_t i = 0; i < cat_data->count; i++) {
		const catalog_member_t *m = &cat_data->members[i];
		bool taken = policy_conf_has_name(opt->conf, m->name);
		for (size_t j = 0; j < earlier_count && !taken; j++) {
			taken = catalog_has(&earlier[j], m->name);
		}
		const policy_template_t *tpl = member_template(cat, m);
		if (taken || tpl->instance == NULL) {
			continue;  // Not a member for knotd, or not served with mxguard.
		}
		char name[KNOT_DNAME_TXT_MAXLEN + 1];
		if (knot_dname_to_str(name, m->name, sizeof(name)) == NULL) {
			continue;
		}
		char *path = policy_template_file(tpl, m->name);
		if (path == NULL) {
			fprintf(stderr, PROGRAM ": zone %s of catalog %s: cannot make its file "
			        "name from '%s'\n", name, apex_txt, tpl->file ? tpl->file : "");
			status = exit_status_merge(status, EXIT_TROUBLE);
			continue;
		}
		zone_job_t job = {
			.path = path, .origin = m->name, .catalog = apex_txt, .served = true,
			.instance = opt->instance ? opt->instance : tpl->instance,
		};
		int member = check_zone_file(opt, &job);
		if (member == EXIT_UNCHECKED) {
			note_unchecked(unchecked, "zone ", name);
		}
		status = exit_status_merge(status, member);
		free(path);
	}
	return status;
}

// The catalogs in configuration order, each member checked once.
static int check_catalogs(const check_options_t *opt, unchecked_t *unchecked)
{
	const policy_conf_t *conf = opt->conf;
	catalog_t *data = calloc(conf->catalog_count + 1, sizeof(*data));
	if (data == NULL) {
		fprintf(stderr, PROGRAM ": out of memory\n");
		return EXIT_TROUBLE;
	}
	int status = EXIT_CLEAN;
	size_t loaded = 0;
	for (size_t i = 0; i < conf->catalog_count; i++) {
		const policy_catalog_t *cat = &conf->catalogs[i];
		if (!catalog_served(cat)) {
			continue;
		}
		knot_dname_t *apex = knot_dname_from_str_alloc(cat->domain);
		char apex_txt[KNOT_DNAME_TXT_MAXLEN + 1];
		if (apex != NULL) {
			knot_dname_to_lower(apex);
		}
		if (apex == NULL || knot_dname_to_str(apex_txt, apex, sizeof(apex_txt)) == NULL) {
			fprintf(stderr, PROGRAM ": invalid zone '%s'\n", cat->domain);
			free(apex);
			status = exit_status_merge(status, EXIT_TROUBLE);
			continue;
		}
		if (access(cat->file, F_OK) != 0 && errno == ENOENT) {
			char text[KNOT_DNAME_TXT_MAXLEN + 128];
			snprintf(text, sizeof(text), "catalog members of %s not checked: their "
			         "list is in the catalog zone's data, and its file is not there "
			         "(%s)", apex_txt, strerror(ENOENT));
			report_error(opt, cat->file, 0, apex_txt, "catalog", text);
			note_unchecked(unchecked, "the members of catalog ", apex_txt);
			status = exit_status_merge(status, EXIT_UNCHECKED);
			free(apex);
			continue;
		}
		int ret = check_members(opt, cat, apex, apex_txt, &data[loaded], data, loaded,
		                        unchecked);
		status = exit_status_merge(status, ret);
		loaded++;
		free(apex);
	}
	for (size_t i = 0; i < loaded; i++) {
		catalog_clear(&data[i]);
	}
	free(data);
	return status;
}

int check_conf_zones(const check_options_t *opt, const char *config)
{
	const policy_conf_t *conf = opt->conf;
	bool catalogs = false;
	for (size_t i = 0; i < conf->catalog_count; i++) {
		catalogs |= catalog_served(&conf->catalogs[i]);
	}
	if (conf->zone_count == 0 && !catalogs) {
		fprintf(stderr, PROGRAM ": %s: no zone is served with " MX_CONF_SECTION "\n",
		        config);
		return EXIT_TROUBLE;
	}
	unchecked_t unchecked = { 0 };
	int status = EXIT_CLEAN;
	for (size_t i = 0; i < conf->zone_count; i++) {
		const policy_zone_t *zone = &conf->zones[i];
		knot_dname_t *origin = knot_dname_from_str_alloc(zone->domain);
		if (origin == NULL) {
			fprintf(stderr, PROGRAM ": invalid zone '%s'\n", zone->domain);
			status = exit_status_merge(status, EXIT_TROUBLE);
			continue;
		}
		knot_dname_to_lower(origin);
		zone_job_t job = {
			.path = zone->file, .origin = origin, .served = true,
			.instance = opt->instance ? opt->instance : zone->instance,
		};
		int ret = check_zone_file(opt, &job);
		if (ret == EXIT_UNCHECKED) {
			char name[KNOT_DNAME_TXT_MAXLEN + 1];
			if (knot_dname_to_str(name, origin, sizeof(name)) != NULL) {
				note_unchecked(&unchecked, "zone ", name);
			}
		}
		free(origin);
		status = exit_status_merge(status, ret);
	}
	status = exit_status_merge(status, check_catalogs(opt, &unchecked));

	if (unchecked.count > 0 && !opt->quiet) {
		fprintf(stderr, PROGRAM ": %s: not checked: %s\n", config, unchecked.text);
	}
	free(unchecked.text);
	return status;
}
