/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief A zone's file name from knotd's 'file' pattern.
 */

#pragma once

#include <libknot/dname.h>

/*!
 * \brief The file knotd reads for \a zone: \a pattern's formatters filled
 *        in, a relative result taken in \a storage.
 *
 * \return A malloc'ed path, or NULL for a pattern knotd refuses.
 */
char *zone_file_name(const char *pattern, const knot_dname_t *zone, const char *storage);
