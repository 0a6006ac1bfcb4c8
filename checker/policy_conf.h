/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief A knot.conf as knotd reads it for mod-mxguard: every mod-mxguard
 *        section checked with the module's own schema and rules
 *        (libmxguard/config_rules.h), the references to them, and the zones
 *        that use them with their zone files.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <libknot/dname.h>

#include "name_list.h"
#include "policy.h"

/*! One mod-mxguard instance: a section, or the defaults (no id). */
typedef struct {
	char *id;                  /*!< NULL for the defaults ("mod-mxguard"). */
	size_t line;               /*!< Line of its id. */
	mx_policy_t policy;        /*!< Its allow points into \a allow. */
	mx_addr_range_t *allow;
	size_t allow_count;
	mx_name_list_t *no_mail;   /*!< NULL without null-mx/null-mx-file. */
	bool implicit;             /*!< null-mx-implicit. */
	unsigned records;          /*!< no-mail-records: MX_RECORD_* served beside
	                                a null MX. */
	char *dmarc;               /*!< no-mail-dmarc, or NULL (the default). */
} policy_instance_t;

/*! A zone of the configuration served with an mxguard instance. */
typedef struct {
	char *domain;              /*!< The zone name as written. */
	char *file;                /*!< Its zone file, found as knotd finds it. */
	const policy_instance_t *instance;
	bool global;               /*!< The instance is the global module. */
} policy_zone_t;

/*! A catalog template: what the members that use it are served with. */
typedef struct {
	char *id;
	char *file;                /*!< Its file pattern, or NULL (knotd's default). */
	char *storage;             /*!< Its storage, or NULL (knotd's default). */
	const policy_instance_t *instance;  /*!< NULL: no mxguard instance. */
	bool global;               /*!< The instance is the global module. */
} policy_template_t;

/*! A catalog zone knotd interprets (catalog-role: interpret). */
typedef struct {
	char *domain;              /*!< The catalog zone's name as written. */
	char *file;                /*!< Its zone file, found as knotd finds it. */
	policy_template_t *templates;  /*!< catalog-template, in order: the first
	                                    serves members without a group. */
	size_t template_count;
} policy_catalog_t;

/*! A configuration read from a file. */
typedef struct {
	policy_instance_t defaults;      /*!< The instance without id. */
	policy_instance_t **instances;   /*!< Every section, in file order. */
	size_t count;
	const policy_instance_t *global; /*!< The global mxguard module, or NULL. */
	policy_zone_t *zones;            /*!< Zones served with an instance. */
	size_t zone_count;
	policy_catalog_t *catalogs;      /*!< Catalog zones knotd interprets. */
	size_t catalog_count;
	knot_dname_t **names;            /*!< Every configured zone, lowercase. */
	size_t name_count;
} policy_conf_t;

/*!
 * \brief Reads a knot.conf, with the files its include items name, and
 *        refuses what knotd refuses in it for mod-mxguard: bad values,
 *        unknown items, duplicate ids, bad allow-address ranges, no-mail
 *        items and no-mail-dmarc records, missing list files, references to undefined instances,
 *        policies or catalog templates, includes that name no file or
 *        loop, and global instances that rewrite answers (refused by knotd
 *        when it loads).
 *
 * \param err       The message on failure, in knotd's words, e.g. "config,
 *                  file 'knot.conf', line 8, item 'loopback', value 'block'
 *                  (invalid parameter)".
 * \param warnings  Where knotd's warnings go (an include file skipped), as
 *                  "warning: config, ..." lines; or NULL.
 *
 * \retval KNOT_EOK         Read.
 * \retval KNOT_EFILE       Unreadable file.
 * \retval KNOT_EPARSEFAIL  Not a valid configuration file.
 * \retval KNOT_EINVAL      Refused (see \a err).
 * \retval KNOT_ENOMEM      Out of memory.
 */
int policy_conf_load(policy_conf_t *conf, const char *path, char *err, size_t err_len,
                     FILE *warnings);

/*!
 * \brief The instance of a module reference or id: "mod-mxguard" (the
 *        defaults, as knotd reads a reference without id),
 *        "mod-mxguard/ID" or "ID". NULL when no such section.
 */
const policy_instance_t *policy_conf_find(const policy_conf_t *conf, const char *ref);

/*! \brief The configured zone of a name (any case, trailing dot optional), or NULL. */
const policy_zone_t *policy_conf_zone(const policy_conf_t *conf, const char *name);

/*! \brief Tells whether the configuration has a zone of this name (lowercase). */
bool policy_conf_has_name(const policy_conf_t *conf, const knot_dname_t *name);

/*!
 * \brief The file knotd reads for a catalog member served with \a tpl.
 *
 * \return A malloc'ed path, or NULL.
 */
char *policy_template_file(const policy_template_t *tpl, const knot_dname_t *member);

/*! \brief Frees what policy_conf_load() allocated. */
void policy_conf_clear(policy_conf_t *conf);
