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
#include <stddef.h>
#include <stdint.h>
#include <libknot/dname.h>

#include "name_list.h"
#include "policy.h"
#include "policy_conf.h"
#include "zone_load.h"

#define EXIT_CLEAN 0
#define EXIT_FINDINGS 1
#define EXIT_TROUBLE 2
// With -c: zones knotd serves with the module that could not be checked
// (no zone file yet, catalog members); weaker than 1 and 2.
#define EXIT_UNCHECKED 3

// Threshold of --fail-on that no action reaches, and no threshold given.
#define FAIL_NEVER MX_ACTION_COUNT
#define FAIL_UNSET (MX_ACTION_COUNT + 1)

/*! Findings of the checker alone, after the module's kinds. */
enum {
	CHECK_NULL_MX_MISSING = MX_KIND_COUNT,
	CHECK_IMPLICIT_MX,
	CHECK_KIND_COUNT
};

/*! \brief The name of a kind of the module or of the checker. */
const char *check_kind_name(unsigned kind);

/*!
 * \brief The kind of a name the checker reports (null-mx-override, which it
 *        does not, aside), or CHECK_KIND_COUNT.
 */
unsigned check_kind_from_name(const char *name);

/*! What --fail-on says: which findings make the exit status 1. */
typedef struct {
	unsigned threshold;        /*!< An mx_action_t, FAIL_NEVER or FAIL_UNSET. */
	uint32_t include;          /*!< Kinds (bits) that fail whatever their action. */
	uint32_t exclude;          /*!< Kinds (bits) that never fail. */
} fail_rule_t;

/*!
 * \brief Reads --fail-on's value: "never", or a comma-separated list of at
 *        most one action (log, strip, null-mx), kinds, and kinds preceded
 *        by '-'.
 *
 * \param why  Set to what is wrong on failure.
 */
bool fail_rule_parse(fail_rule_t *rule, const char *text, char *why, size_t why_len);

/*!
 * \brief The exit status of a run of several checks: EXIT_TROUBLE before
 *        EXIT_FINDINGS before EXIT_UNCHECKED before EXIT_CLEAN.
 */
int exit_status_merge(int a, int b);

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
	bool no_mail_records;      // Print the records no-mail names lack, no findings.
	bool json;
	bool quiet;
	fail_rule_t fail_on;
	const policy_conf_t *conf; // NULL without -c.
	const policy_instance_t *instance;  // From --module-id, or NULL.
	unsigned knot_series;      // The server predicted, a KNOT_SERIES().
} check_options_t;

/*! One zone file to check. */
typedef struct {
	const char *path;
	const knot_dname_t *origin;          /*!< Its apex, or NULL ($ORIGIN, else
	                                          the file name). */
	const policy_instance_t *instance;   /*!< The instance to check with, or
	                                          NULL (the one the options and the
	                                          configuration choose). */
	const char *catalog;                 /*!< A member's catalog zone, or NULL. */
	bool served;                         /*!< A zone -c found: a missing file
	                                          is a zone not checked. */
} zone_job_t;

/*!
 * \brief Checks one zone file: writes its findings, the notes for the Knot
 *        series predicted and, unless quiet, its summary; an error that
 *        stops it goes to standard error and, in JSON, to standard output.
 *
 * \return EXIT_CLEAN, EXIT_FINDINGS (findings --fail-on fails on),
 *         EXIT_UNCHECKED (a served zone without its file) or EXIT_TROUBLE.
 */
int check_zone_file(const check_options_t *opt, const zone_job_t *job);

/*!
 * \brief Writes why a file or zone is not checked: "FILE[:LINE]: error:
 *        TEXT" on standard error and, in JSON, an object with file, line
 *        (when not 0), zone (when not NULL), error and reason on standard
 *        output.
 */
void report_error(const check_options_t *opt, const char *file, uint64_t line,
                  const char *zone, const char *reason, const char *text);

/*!
 * The problems of a file being read (a zone_msg_f's context): written to
 * standard error as they come, errors kept for JSON.
 */
typedef struct {
	const check_options_t *opt;
	struct {
		char *file;
		uint64_t line;
		char *text;
	} *errors;
	size_t count;
	bool failed;               /*!< Out of memory. */
} load_msgs_t;

/*! \brief A zone_msg_f for a load_msgs_t. */
void load_msg(void *ctx, zone_msg_level_t level, const char *file, uint64_t line,
              const char *text);

/*!
 * \brief Once \a path is read with the result \a ret: in JSON, an object
 *        for each error kept (reason "unreadable" for KNOT_EFILE, else
 *        "invalid"); frees them.
 */
void load_msgs_finish(load_msgs_t *msgs, const char *path, const char *zone, int ret);

/*! \brief Writes a string as a JSON string. */
void json_string(const char *text);

/*! \brief Writes ', "key": "value"' ('{' instead of ', ' for the first). */
void json_key(const char *key, const char *value, bool first);
