/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdio.h>
#include <syslog.h>
#include <time.h>
#include <libknot/errcode.h>
#include <libknot/error.h>

#include "answer_run.h"

static const char *kind_index(unsigned idx)
{
	return mx_kind_name(idx);
}

static const char *action_index(unsigned idx)
{
	return mx_action_name(idx);
}

const mx_counter_row_t mx_counters[MX_CTR_COUNT] = {
	[MX_CTR_INSPECTED]   = { "inspected",   1,               NULL },
	[MX_CTR_VIOLATION]   = { "violation",   MX_KIND_COUNT,   kind_index },
	[MX_CTR_ACTION]      = { "action",      MX_ACTION_COUNT, action_index },
	[MX_CTR_TRUNCATED]   = { "truncated",   1,               NULL },
	[MX_CTR_SKIPPED]     = { "skipped",     1,               NULL },
	[MX_CTR_SYNTHESIZED] = { "synthesized", 1,               NULL },
	[MX_CTR_ERROR]       = { "error",       1,               NULL },
};

/*** One log line. ***/

static uint64_t now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

// A global instance's line has no zone in knotd's prefix: a key says it.
static int append_zone(char *line, size_t size, int len, const knot_dname_t *zone)
{
	char text[KNOT_DNAME_TXT_MAXLEN + 1];
	knot_dname_storage_t lower;
	if (zone == NULL || knot_dname_to_wire(lower, zone, sizeof(lower)) <= 0) {
		return len;
	}
	knot_dname_to_lower(lower);
	if (knot_dname_to_str(text, lower, sizeof(text)) == NULL) {
		return -1;
	}
	int ret = snprintf(line + len, size - len, ", zone %s", text);
	return (ret < 0 || (size_t)ret >= size - len) ? -1 : len + ret;
}

static int line_text(char *buf, size_t size, const mx_line_t *line, uint32_t suppressed)
{
	switch (line->cls) {
	case MX_LOG_VIOLATION:
		return mx_log_line(buf, size, line->owner, line->violation,
		                   mx_action_name(line->action), suppressed);
	case MX_LOG_NOT_ENFORCED:
		return mx_log_line_not_enforced(buf, size, line->owner,
		                                mx_action_name(line->action), line->reason,
		                                suppressed);
	default:
		return mx_log_line_synthesized(buf, size, line->what, line->owner,
		                               line->reason, suppressed);
	}
}

// Whether a line with this key is due now (the rate limiter); its repeats
// since the last one go in *suppressed.
static inline bool line_due(const mx_host_t *host, uint64_t key, uint32_t *suppressed)
{
	*suppressed = 0;
	// The host calls inside its RCU read-side section (knotd's hooks).
	return host->log_limit == NULL ||
	       mx_log_limit_hit_locked(host->log_limit, (const uint8_t *)&key, sizeof(key),
	                               now_seconds(), suppressed);
}

// A due line's text, then host->log (or host->fail when it does not fit).
__attribute__((noinline))
static void emit_line(const mx_host_t *host, void *q, const knot_dname_t *zone,
                      const mx_line_t *line, uint32_t suppressed)
{
	bool violation = line->cls == MX_LOG_VIOLATION;
	char text[3 * KNOT_DNAME_TXT_MAXLEN + 256];
	int len = line_text(text, sizeof(text), line, suppressed);
	if (len >= 0 && violation && host->zone_in_line) {
		len = append_zone(text, sizeof(text), len, zone);
	}
	if (len < 0) {
		host->fail(q, "log line too long");
		return;
	}
	host->log(q, violation || line->cls != MX_LOG_NOT_ENFORCED ? LOG_INFO : LOG_NOTICE,
	          text);
}

void mx_report_line(const mx_host_t *host, void *q, const knot_dname_t *zone,
                    const mx_line_t *line)
{
	bool violation = line->cls == MX_LOG_VIOLATION;
	uint64_t key = 0;
	if (host->log_limit != NULL) {
		key = mx_log_key(host->log_seed, zone, line->owner,
		                 violation ? line->violation->exchange : NULL, line->cls,
		                 violation ? line->violation->kind : 0);
	}
	uint32_t suppressed;
	if (line_due(host, key, &suppressed)) {
		emit_line(host, q, zone, line, suppressed);
	}
}

/*** One answer. ***/

static void report_rrset(const mx_host_t *host, void *q, const mx_scan_t *scan,
                         const knot_dname_t *zone, unsigned idx, bool enforced)
{
	const mx_scan_rrset_t *job = &scan->rrsets[idx];
	if (job->count > 0) {
		host->count(q, MX_CTR_ACTION, enforced ? job->plan.strongest : MX_ACTION_LOG, 1);
	}
	for (unsigned i = job->first; i < job->first + job->count; i++) {
		const mx_violation_t *v = &scan->violations[i];
		host->count(q, MX_CTR_VIOLATION, v->kind, 1);
		// Its key was made with the verdict: a repeat stops here.
		uint32_t suppressed;
		if (!line_due(host, v->log_key, &suppressed)) {
			continue;
		}
		// What was done: the kind's action, if it was carried out (never
		// for an inferred verdict).
		mx_action_t action = host->policy->action[v->kind];
		if (mx_action_rewrites(action) && (!enforced || v->inferred)) {
			action = MX_ACTION_LOG;
		}
		mx_line_t line = { .cls = MX_LOG_VIOLATION, .owner = job->owner,
		                   .violation = v, .action = action };
		emit_line(host, q, zone, &line, suppressed);
	}
}

static void report(const mx_host_t *host, void *q, const mx_scan_t *scan,
                   const knot_dname_t *zone, const mx_enforce_result_t *res)
{
	// Every RRset judged, clean or not: one count.
	if (scan->clean + scan->count > 0) {
		host->count(q, MX_CTR_INSPECTED, 0, scan->clean + scan->count);
	}
	for (unsigned i = 0; i < scan->count; i++) {
		report_rrset(host, q, scan, zone, i, res->enforced != NULL && res->enforced[i]);
		if (res->skip_reason != NULL && res->skip_reason[i] != NULL) {
			host->count(q, MX_CTR_SKIPPED, 0, 1);
			mx_line_t line = { .cls = MX_LOG_NOT_ENFORCED,
			                   .owner = scan->rrsets[i].owner,
			                   .action = scan->rrsets[i].plan.strongest,
			                   .reason = res->skip_reason[i] };
			mx_report_line(host, q, zone, &line);
		}
	}
}

mx_answer_verdict_t mx_answer_run(const mx_host_t *host, void *q, knot_pkt_t *pkt,
                                  const knot_pkt_t *query, const mx_scan_query_t *part)
{
	mx_scan_t scan;
	mx_enforce_result_t res = { 0 };
	if (mx_answer_scan(pkt, host->scan, part, &scan) != KNOT_EOK) {
		host->fail(q, "answer not judged");
		return host->enforces ? MX_ANSWER_FAIL_CLOSED : MX_ANSWER_SERVE;
	}
	mx_answer_verdict_t verdict = MX_ANSWER_SERVE;
	if (scan.count > 0 && host->enforces && mx_scan_changes(&scan)) {
		mx_enforce_params_t ep = {
			.sign = host->sign,
			.remap = host->remap,
			.ctx = q,
			.unsigned_allow = host->unsigned_allow,
			.rotate = host->rotate,
			.mm = part->mm,
		};
		int ret = mx_answer_enforce(pkt, query, &scan, &ep, &res);
		if (ret != KNOT_EOK) {
			host->fail(q, knot_strerror(ret));
			verdict = MX_ANSWER_FAIL_CLOSED;
		}
	}
	report(host, q, &scan, part->zone, &res);
	return verdict;
}
