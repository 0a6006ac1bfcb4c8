/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief One answer, one call: scan, plan, rewrite and report through the
 *        interface the adapter fills once per instance.
 *
 * The adapter reads knotd's state (the packet, the zone, the query's
 * memory) and hands it over; the library judges the MX RRsets
 * (answer_scan.c), carries out the plans (answer_enforce.c), counts and
 * logs what it found. Every log line of the module goes through
 * mx_report_line(): due (the rate limiter), key, text, emit, written once.
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <libknot/packet/pkt.h>

#include "answer_enforce.h"
#include "answer_scan.h"
#include "log_limit.h"
#include "log_line.h"

/*! The counters, in the order the host registers them (mx_counters). */
typedef enum {
	MX_CTR_INSPECTED,    /*!< MX RRsets inspected. */
	MX_CTR_VIOLATION,    /*!< Violations, by kind. */
	MX_CTR_ACTION,       /*!< RRsets with violations, by the action taken. */
	MX_CTR_TRUNCATED,    /*!< UDP answers sent empty with TC=1 (or dropped). */
	MX_CTR_SKIPPED,      /*!< Rewrites not done (a signed answer not signable). */
	MX_CTR_SYNTHESIZED,  /*!< Null MX (and SPF, DMARC, DKIM) made for no-mail names. */
	MX_CTR_ERROR,        /*!< Internal failures. */
	MX_CTR_COUNT
} mx_counter_t;

/*! One counter's row: its name and how many indices it has. */
typedef struct {
	const char *name;
	uint32_t count;
	const char *(*index_name)(unsigned idx);  /*!< NULL: one index. */
} mx_counter_row_t;

/*! The counters' rows, by counter (knotc zone-stats shows these names). */
extern const mx_counter_row_t mx_counters[MX_CTR_COUNT];

/*!
 * What the library needs of its host (knotd's adapter, a test): callbacks
 * and the instance's settings, filled once per instance. \a q, given to
 * every callback, is the host's own context of one query.
 */
typedef struct {
	/*! Adds \a n to index \a idx of a counter. */
	void (*count)(void *q, mx_counter_t ctr, uint32_t idx, uint32_t n);
	/*! Emits a log line at a syslog \a level. */
	void (*log)(void *q, int level, const char *line);
	/*! Counts an internal failure (and may log it). */
	void (*fail)(void *q, const char *what);
	mx_sign_f sign;           /*!< Signing (NULL: none can be made). */
	mx_glue_remap_f remap;    /*!< The glue of kept exchanges (NULL: none). */

	const mx_policy_t *policy;
	mx_log_limit_t *log_limit;  /*!< NULL: every line is due. */
	uint64_t log_seed;          /*!< Seed of the lines' keys. */
	bool zone_in_line;          /*!< Violation lines name the zone (a global
	                                 instance: knotd's prefix does not). */
	bool enforces;              /*!< Plans that change the answer are carried out. */
	bool unsigned_allow;        /*!< Serve a rewrite unsigned if not signable. */
	bool rotate;                /*!< answer-rotation. */
	const mx_scan_params_t *scan;  /*!< The answer scan's parameters. */
} mx_host_t;

/*! One log line's content; the flow makes its key and text. */
typedef struct {
	mx_log_class_t cls;
	const knot_dname_t *owner;
	const mx_violation_t *violation;  /*!< MX_LOG_VIOLATION. */
	mx_action_t action;               /*!< Violation, not enforced: what was done. */
	const char *what;                 /*!< Synthesized: null-mx, spf, dmarc, dkim. */
	const char *reason;               /*!< Not enforced, synthesized. */
} mx_line_t;

/*!
 * \brief The one flow of a log line: due now (the rate limiter, with the
 *        repeats suppressed since), key, text, then host->log (or
 *        host->fail when the text does not fit).
 *
 * \param zone  The zone answering (the key; a global instance's line).
 */
void mx_report_line(const mx_host_t *host, void *q, const knot_dname_t *zone,
                    const mx_line_t *line);

/*! What the host does with the answer after mx_answer_run(). */
typedef enum {
	MX_ANSWER_SERVE = 0,   /*!< As it is now (maybe rewritten). */
	MX_ANSWER_FAIL_CLOSED, /*!< Never as it is: empty TC=1, or SERVFAIL. */
} mx_answer_verdict_t;

/*!
 * \brief Scans the MX RRsets of \a pkt, carries out the plans that change it
 *        (host->enforces), counts and logs what was found and done.
 *
 * \param query  The query's question (the rewrite keeps it).
 * \param part   This query's part of the scan (zone, lookup and glue
 *               contexts, memory).
 *
 * \return MX_ANSWER_SERVE, or MX_ANSWER_FAIL_CLOSED when an enforcing host
 *         must not serve the answer as it is (not judged, not rewritten).
 */
mx_answer_verdict_t mx_answer_run(const mx_host_t *host, void *q, knot_pkt_t *pkt,
                                  const knot_pkt_t *query, const mx_scan_query_t *part);
