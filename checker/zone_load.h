/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief Reads a zone file into a zone index with Knot's zone parser.
 */

#pragma once

#include <stdint.h>
#include <stdio.h>
#include <libknot/dname.h>

#include "zone_index.h"

/*! How bad a problem of a zone file is. */
typedef enum {
	ZONE_MSG_WARNING,  /*!< knotd loads the zone all the same. */
	ZONE_MSG_ERROR,    /*!< knotd would not load it; it is not checked. */
} zone_msg_level_t;

/*!
 * \brief Receives a problem: the file it is in (the zone file or a file it
 *        includes), its line (0 for the whole file) and what it is.
 */
typedef void (*zone_msg_f)(void *ctx, zone_msg_level_t level, const char *file,
                           uint64_t line, const char *text);

/*!
 * \brief Tells whether a file can be read as a zone file: it exists, is a
 *        regular file (a FIFO would block), can be opened and holds no NUL
 *        byte. Says why not through \a msg.
 *
 * \retval KNOT_EOK    Usable.
 * \retval KNOT_EFILE  Not usable (errno tells why when a call failed).
 */
int zone_file_usable(const char *path, zone_msg_f msg, void *msg_ctx);

/*!
 * \brief zone_load() with each problem given to \a msg (warnings too).
 */
int zone_load_msg(zone_index_t *idx, const char *path, const knot_dname_t *origin,
                  zone_msg_f msg, void *msg_ctx, size_t *records);

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
