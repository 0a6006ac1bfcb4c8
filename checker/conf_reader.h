/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief The state of one reading of a knot.conf, shared by policy_conf.c
 *        (the parser, includes, mod-mxguard sections) and conf_zones.c
 *        (templates, zones, catalogs).
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <libknot/yparser/yparser.h>
#include <libknot/yparser/ypschema.h>

#include "policy_conf.h"

/*! What templates and zones say, kept by conf_zones.c. */
typedef struct conf_zones conf_zones_t;

/*! The values of the mod-mxguard section being read. */
typedef struct {
	policy_instance_t *inst;
	char **names;        /*!< null-mx values. */
	size_t name_count;
	char *file;          /*!< null-mx-file, NULL when absent. */
	char **allow;        /*!< allow-address values as written. */
	size_t allow_count;
} section_t;

/*! One reading of a configuration and its included files. */
typedef struct {
	policy_conf_t *conf;
	const char *path;    /*!< The file being read, as knotd names it. */
	char *err;
	size_t err_len;
	FILE *warnings;      /*!< knotd's warnings (includes skipped), or NULL. */
	yp_item_t **schema;  /*!< The schema the mod-mxguard sections are read with. */
	yp_parser_t *yp;     /*!< The parser of that file. */
	unsigned depth;      /*!< Includes being followed. */
	section_t sec;
	char **policies;     /*!< Ids of policy sections. */
	size_t policy_count;
	conf_zones_t *zones;
} reader_t;

/*!
 * \brief Sets the message, "config, file 'F', " then \a fmt, and returns
 *        \a ret.
 */
__attribute__((format(printf, 3, 4)))
int reader_fail(reader_t *r, int ret, const char *fmt, ...);

/*!
 * \brief An error of the current item, in knotd's words: "config, file 'F',
 *        line N, item 'I', value 'V' (REASON)"; returns \a ret.
 */
int reader_fail_item(reader_t *r, int ret, const char *reason);

/*! \brief Appends a copy of \a value; false when out of memory. */
bool conf_push_str(char ***items, size_t *count, const char *value);

/*! \brief Frees \a count strings and their array. */
void conf_free_strs(char **items, size_t count);

/*! \brief Replaces \a *dst by a copy of \a value; false when out of memory. */
bool conf_set_str(char **dst, const char *value);

/*! \brief A new, empty record of templates and zones, or NULL. */
conf_zones_t *conf_zones_new(void);

/*! \brief Frees it. */
void conf_zones_free(conf_zones_t *zones);

/*! \brief A new top-level section begins: no template or zone is current. */
void conf_zones_section(conf_zones_t *zones);

/*!
 * \brief Takes an event of a template section (\a is_tpl) or a zone
 *        section: ids, file, storage, template, module references,
 *        global-module, catalog-role and catalog-template.
 */
int conf_zones_take(reader_t *r, bool is_tpl);

/*!
 * \brief Once every file is read: the global module, the zones served with
 *        an instance, the catalogs that knotd interprets, and every zone
 *        name, into \a r->conf.
 */
int conf_zones_resolve(reader_t *r);
