/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief -c without zone files: every zone knotd serves with the module,
 *        catalog members included.
 */

#pragma once

#include "check_zone.h"

/*!
 * \brief Checks every zone of the configuration that knotd serves with an
 *        mxguard instance, then the members of each catalog zone it
 *        interprets (read from the catalog zone's file) whose template has
 *        one. A zone without its file, and the members of a catalog whose
 *        file cannot be read, are named on standard error (and in JSON on
 *        standard output) and make the status EXIT_UNCHECKED at least.
 *
 * \param config  The configuration file's name, for messages.
 *
 * \return The exit status of the run (see exit_status_merge()).
 */
int check_conf_zones(const check_options_t *opt, const char *config);
