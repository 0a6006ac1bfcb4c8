/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief Reads a zone file into a zone index with Knot's zone parser.
 */

#pragma once

#include <stdio.h>
#include <libknot/dname.h>

#include "zone_index.h"

/*!
 * \brief Parses a zone file ($INCLUDE followed) into a fresh index and
 *        finishes it.
 *
 * The apex is \a origin when given, else the owner of the SOA record, else
 * the origin ($ORIGIN) in effect at the first record. Every problem goes to
 * \a errors as one line: "FILE:LINE: error: MESSAGE" for a syntax error,
 * "FILE: error: MESSAGE" for an unreadable file or an unknown origin.
 *
 * \param idx      A new, empty index.
 * \param path     The zone file.
 * \param origin   The apex, or NULL.
 * \param errors   Where to write errors.
 * \param records  Set to the number of records read.
 *
 * \retval KNOT_EOK         Loaded.
 * \retval KNOT_EFILE       Unreadable.
 * \retval KNOT_EPARSEFAIL  Syntax errors (all of them were written).
 * \retval KNOT_ENOENT      No origin could be found.
 * \retval KNOT_ENOMEM      Out of memory.
 */
int zone_load(zone_index_t *idx, const char *path, const knot_dname_t *origin,
              FILE *errors, size_t *records);
