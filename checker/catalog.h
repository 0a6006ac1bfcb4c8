/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief The member zones of a catalog zone (RFC 9432), read from its zone
 *        file as knotd interprets them.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <libknot/dname.h>

#include "zone_load.h"

/*! A member zone of a catalog. */
typedef struct {
	knot_dname_t *name;   /*!< The member zone, lowercase. */
	char *group;          /*!< Its group property, or NULL. */
} catalog_member_t;

/*! The members of one catalog zone, in the order of the file. */
typedef struct {
	catalog_member_t *members;
	size_t count;
	catalog_member_t **by_name;  /*!< The members in canonical order. */
} catalog_t;

/*!
 * \brief Reads the members of a catalog zone from its zone file, as Knot
 *        3.2 and later interpret it: the zone needs the TXT record "2" at
 *        version.CATALOG; a PTR record at UNIQUE.zones.CATALOG names a
 *        member, a TXT record at group.UNIQUE.zones.CATALOG its group.
 *        A member listed twice is kept once (knotd keeps the first).
 *
 * \param cat    Filled with the members; catalog_clear() it.
 * \param path   The catalog zone's file.
 * \param apex   The catalog zone's name.
 * \param msg    Receives each problem.
 *
 * \retval KNOT_EOK         Read.
 * \retval KNOT_EFILE       Not a usable file.
 * \retval KNOT_EPARSEFAIL  Syntax errors, or not a zone knotd loads.
 * \retval KNOT_EZONEINVAL  A zone knotd refuses as a catalog.
 * \retval KNOT_ENOMEM      Out of memory.
 */
int catalog_load(catalog_t *cat, const char *path, const knot_dname_t *apex,
                 zone_msg_f msg, void *msg_ctx);

/*! \brief Tells whether the catalog lists a member (lowercase name). */
bool catalog_has(const catalog_t *cat, const knot_dname_t *name);

/*! \brief Frees the members. */
void catalog_clear(catalog_t *cat);
