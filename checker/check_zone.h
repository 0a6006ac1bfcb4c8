/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief One zone file through the module's rules: its findings, in text or
 *        JSON, its summary and its exit status.
 */

#pragma once

#include <stdbool.h>
#include <libknot/dname.h>

#include "name_list.h"
#include "policy.h"
#include "policy_conf.h"

#define EXIT_CLEAN 0
#define EXIT_FINDINGS 1
#define EXIT_TROUBLE 2

// Threshold of --fail-on that no action reaches, and no --fail-on given.
#define FAIL_NEVER MX_ACTION_COUNT
#define FAIL_UNSET (MX_ACTION_COUNT + 1)

// A Knot release series as MAJOR << 8 | MINOR.
#define KNOT_SERIES(major, minor) ((unsigned)(major) << 8 | (unsigned)(minor))
// The first series the module runs on, and the first with exchange lookups:
// before it, the module sees only the glue knotd lists with an answer.
#define KNOT_SERIES_OLDEST KNOT_SERIES(3, 2)
#define KNOT_SERIES_LOOKUPS KNOT_SERIES(3, 4)

/*! What the command line asks of every zone. */
typedef struct {
	const knot_dname_t *origin;
	mx_name_list_t *no_mail;   // NULL without --no-mail/--no-mail-file.
	bool implicit;
	bool json;
	bool quiet;
	unsigned fail_on;          // An mx_action_t, FAIL_NEVER or FAIL_UNSET.
	const policy_conf_t *conf; // NULL without -c.
	const policy_instance_t *instance;  // From --module-id, or NULL.
	unsigned knot_series;      // The server predicted, a KNOT_SERIES().
} check_options_t;

/*!
 * \brief Checks one zone file: writes its findings, the notes for the Knot
 *        series predicted and, unless quiet, its summary.
 *
 * \param opt       The command line's options.
 * \param path      The zone file.
 * \param origin    Its apex, or NULL ($ORIGIN, else the file name).
 * \param instance  The module instance to check with, or NULL (the one the
 *                  options and the configuration choose for the zone).
 *
 * \return EXIT_CLEAN, EXIT_FINDINGS (findings at or above --fail-on) or
 *         EXIT_TROUBLE.
 */
int check_zone_file(const check_options_t *opt, const char *path,
                    const knot_dname_t *origin, const policy_instance_t *instance);
