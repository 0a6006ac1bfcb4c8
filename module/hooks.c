/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The hooks: judge the MX RRsets of an answer when knotd has written the
 * answer section (libmxguard/answer_scan.c), rewrite what the policy says
 * (rewrite_plan.c, answer_rebuild.c) before knotd adds the glue, log and
 * count; synthesise null MX answers for no-mail names. What an instance
 * keeps from one query to the next is its own (verdicts, signatures, log
 * limiter), so stacked instances and a global observer never depend on each
 * other.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapter.h"
#include "answer_enforce.h"
#include "answer_rebuild.h"
#include "answer_scan.h"
#include "no_mail_records.h"
#include "rewrite_plan.h"

static char *kind_to_str(uint32_t idx, uint32_t count)
{
	return strdup(mx_kind_name(idx));
}

static char *action_to_str(uint32_t idx, uint32_t count)
{
	return strdup(mx_action_name(idx));
}

// The counters, in enum order (adapter.h), as knotc zone-stats shows them.
static const struct {
	const char *name;
	uint32_t count;
	knotd_mod_idx_to_str_f to_str;
} counters[CTR_COUNT] = {
	[CTR_INSPECTED]   = { "inspected",   1,               NULL },
	[CTR_VIOLATION]   = { "violation",   MX_KIND_COUNT,   kind_to_str },
	[CTR_ACTION]      = { "action",      MX_ACTION_COUNT, action_to_str },
	[CTR_TRUNCATED]   = { "truncated",   1,               NULL },
	[CTR_SKIPPED]     = { "skipped",     1,               NULL },
	[CTR_SYNTHESIZED] = { "synthesized", 1,               NULL },
	[CTR_ERROR]       = { "error",       1,               NULL },
};

int mxg_stats_register(knotd_mod_t *mod)
{
	for (unsigned i = 0; i < CTR_COUNT; i++) {
		int ret = knotd_mod_stats_add(mod, counters[i].name, counters[i].count,
		                              counters[i].to_str);
		if (ret != KNOT_EOK) {
			return ret;
		}
	}
	return KNOT_EOK;
}

void mxg_count(knotd_mod_t *mod, knotd_qdata_t *qdata, uint32_t ctr, uint32_t idx)
{
	knotd_mod_stats_incr(mod, qdata->params->thread_id, ctr, idx, 1);
}

void mxg_count_error(knotd_mod_t *mod, knotd_qdata_t *qdata, const char *what)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	mxg_count(mod, qdata, CTR_ERROR, 0);
	if (!atomic_exchange(&ctx->error_logged, true)) {
		knotd_mod_log(mod, LOG_WARNING, "internal failure (%s); further failures "
		              "are only counted", what);
	}
}

static bool is_mx_query(const knotd_qdata_t *qdata)
{
	if (qdata->type != KNOTD_QUERY_TYPE_NORMAL) {
		return false;
	}
	uint16_t qtype = knot_pkt_qtype(qdata->query);
	return qtype == KNOT_RRTYPE_MX || qtype == KNOT_RRTYPE_ANY;
}

/*** Logging. ***/

static uint64_t now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

// Whether a line is due now; its repeats since the last one go in *suppressed.
static bool log_due(knotd_mod_t *mod, uint64_t key, uint32_t *suppressed)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	*suppressed = 0;
	if (ctx->log_limit == NULL) {
		return true;
	}
	// knotd runs the hooks inside its RCU read-side section.
	return mx_log_limit_hit_locked(ctx->log_limit, (const uint8_t *)&key, sizeof(key),
	                               now_seconds(), suppressed);
}

// The key of a line that is not a violation's.
static uint64_t line_key(knotd_mod_t *mod, knotd_qdata_t *qdata, const knot_dname_t *owner,
                         mx_log_class_t cls)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	return mx_log_key(ctx->log_seed, knotd_qdata_zone_name(qdata), owner, NULL, cls, 0);
}

static void log_line(knotd_mod_t *mod, knotd_qdata_t *qdata, int level, int len,
                     const char *line)
{
	if (len < 0) {
		mxg_count_error(mod, qdata, "log line too long");
		return;
	}
	knotd_mod_log(mod, level, "%s", line);
}

/*** One answer. ***/

typedef struct {
	knotd_mod_t *mod;
	mxguard_ctx_t *ctx;
	knotd_qdata_t *qdata;
	knot_pkt_t *pkt;
	mx_scan_t scan;
	bool *enforced;             // per RRset: its plan was carried out (NULL: none was)
	const char **skip_reason;   // per RRset: why a changing plan was not (NULL: none)
} answer_run_t;

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

static void report_rrset(answer_run_t *run, unsigned idx)
{
	mxguard_ctx_t *ctx = run->ctx;
	const mx_scan_rrset_t *job = &run->scan.rrsets[idx];
	bool enforced = run->enforced != NULL && run->enforced[idx];
	mxg_count(run->mod, run->qdata, CTR_INSPECTED, 0);
	if (job->count > 0) {
		mxg_count(run->mod, run->qdata, CTR_ACTION,
		          enforced ? job->plan.strongest : MX_ACTION_LOG);
	}

	for (unsigned i = job->first; i < job->first + job->count; i++) {
		const mx_violation_t *v = &run->scan.violations[i];
		mxg_count(run->mod, run->qdata, CTR_VIOLATION, v->kind);
		uint32_t suppressed;
		if (!log_due(run->mod, v->log_key, &suppressed)) {
			continue;
		}
		// What was done: the kind's action, if it was carried out (never
		// for an inferred verdict).
		mx_action_t action = ctx->policy.action[v->kind];
		if (mx_action_rewrites(action) && (!enforced || v->inferred)) {
			action = MX_ACTION_LOG;
		}
		char line[3 * KNOT_DNAME_TXT_MAXLEN + 256];
		int len = mx_log_line(line, sizeof(line), job->owner, v,
		                      mx_action_name(action), suppressed);
		if (len >= 0 && knotd_mod_zone(run->mod) == NULL) {
			len = append_zone(line, sizeof(line), len, knotd_qdata_zone_name(run->qdata));
		}
		log_line(run->mod, run->qdata, LOG_INFO, len, line);
	}
}

void mxg_report_violation(knotd_mod_t *mod, knotd_qdata_t *qdata,
                          const knot_dname_t *owner, const mx_violation_t *v)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	mxg_count(mod, qdata, CTR_VIOLATION, v->kind);
	uint64_t key = mx_log_key(ctx->log_seed, knotd_qdata_zone_name(qdata), owner,
	                          v->exchange, MX_LOG_VIOLATION, v->kind);
	uint32_t suppressed;
	if (!log_due(mod, key, &suppressed)) {
		return;
	}
	char line[3 * KNOT_DNAME_TXT_MAXLEN + 256];
	int len = mx_log_line(line, sizeof(line), owner, v, "log", suppressed);
	if (len >= 0 && knotd_mod_zone(mod) == NULL) {
		len = append_zone(line, sizeof(line), len, knotd_qdata_zone_name(qdata));
	}
	log_line(mod, qdata, LOG_INFO, len, line);
}

static void report_not_enforced(knotd_mod_t *mod, knotd_qdata_t *qdata,
                                const knot_dname_t *owner, mx_action_t action,
                                const char *reason)
{
	mxg_count(mod, qdata, CTR_SKIPPED, 0);
	uint32_t suppressed;
	if (!log_due(mod, line_key(mod, qdata, owner, MX_LOG_NOT_ENFORCED), &suppressed)) {
		return;
	}
	char line[KNOT_DNAME_TXT_MAXLEN + 128];
	int len = mx_log_line_not_enforced(line, sizeof(line), owner,
	                                   mx_action_name(action), reason, suppressed);
	log_line(mod, qdata, LOG_NOTICE, len, line);
}

void mxg_report_not_enforced(knotd_mod_t *mod, knotd_qdata_t *qdata,
                             const knot_dname_t *owner, mx_action_t action,
                             const char *reason)
{
	report_not_enforced(mod, qdata, owner, action, reason);
}

/*** Rewriting. ***/

// The glue of the kept records, renumbered; none for a null MX.
static bool remap_glue(const knot_rrset_t *old, const mx_plan_t *plan, knot_rrset_t *rr,
                       void *data)
{
	knotd_qdata_t *qdata = data;
	rr->additional = NULL;
	const mxg_additional_t *add = old->additional;
	if (add == NULL || add->count == 0 || mx_plan_null_mx(plan)) {
		return true;
	}

	// One block: the list, its glue, then the records' new positions.
	mxg_additional_t *out = mxg_alloc(qdata, sizeof(*out) + add->count * sizeof(mxg_glue_t) +
	                                         old->rrs.count * sizeof(int32_t));
	if (out == NULL) {
		return false;
	}
	mxg_glue_t *glues = (mxg_glue_t *)(out + 1);
	int32_t *map = (int32_t *)(glues + add->count);
	mx_plan_positions(plan, map);

	uint16_t n = 0;
	for (uint16_t i = 0; i < add->count; i++) {
		uint16_t pos = add->glues[i].ns_pos;
		if (pos < old->rrs.count && map[pos] >= 0) {
			glues[n] = add->glues[i];
			glues[n].ns_pos = map[pos];
			n++;
		}
	}
	out->glues = glues;
	out->count = n;
	rr->additional = (n > 0) ? out : NULL;
	return true;
}

typedef struct {
	knotd_mod_t *mod;
	knotd_qdata_t *qdata;
} sign_ctx_t;

static bool sign(const knot_rrset_t *rr, knot_rrset_t *rrsig, const char **reason,
                 void *data)
{
	sign_ctx_t *sc = data;
	return mxg_sign(sc->mod, sc->qdata, rr, rrsig, reason);
}

static bool remap(const knot_rrset_t *old, const mx_plan_t *plan, knot_rrset_t *rr,
                  void *data)
{
	sign_ctx_t *sc = data;
	return remap_glue(old, plan, rr, sc->qdata);
}

// Carries out the plans (answer_enforce.c); false when the answer must not
// go out as it is.
static bool enforce(answer_run_t *run)
{
	sign_ctx_t sc = { .mod = run->mod, .qdata = run->qdata };
	mx_enforce_params_t params = {
		.sign = sign,
		.remap = remap,
		.ctx = &sc,
		.unsigned_allow = run->ctx->unsigned_allow,
		.rotate = run->ctx->rotate,
		.mm = run->qdata->mm,
	};
	mx_enforce_result_t res;
	int ret = mx_answer_enforce(run->pkt, run->qdata->query, &run->scan, &params, &res);
	run->enforced = res.enforced;
	run->skip_reason = res.skip_reason;
	if (ret != KNOT_EOK) {
		mxg_count_error(run->mod, run->qdata, knot_strerror(ret));
		return false;
	}
	return true;
}

static int scan_answer(answer_run_t *run)
{
	mx_scan_params_t params = run->ctx->scan;
	if (!params.one_zone) {
		params.zone = knotd_qdata_zone_name(run->qdata);
	}
	mxg_lookups_t lookups;  // the memo's name is not cleared: its size is
	lookups.qdata = run->qdata;
	lookups.memo.size = 0;
	params.lookup_ctx = &lookups;
	params.glue_ctx = run->qdata;
	params.mm = run->qdata->mm;
	return mx_answer_scan(run->pkt, &params, &run->scan);
}

static void report(answer_run_t *run)
{
	if (run->scan.clean > 0) {
		knotd_mod_stats_incr(run->mod, run->qdata->params->thread_id, CTR_INSPECTED, 0,
		                     run->scan.clean);
	}
	for (unsigned i = 0; i < run->scan.count; i++) {
		report_rrset(run, i);
		if (run->skip_reason != NULL && run->skip_reason[i] != NULL) {
			report_not_enforced(run->mod, run->qdata, run->scan.rrsets[i].owner,
			                    run->scan.rrsets[i].plan.strongest,
			                    run->skip_reason[i]);
		}
	}
}

// An enforcing instance that cannot rewrite never serves what it would
// remove: an empty TC=1 answer over UDP (the client asks again over TCP),
// SERVFAIL over TCP (where a rewrite only fails for want of memory).
knotd_in_state_t mxg_fail_closed(knotd_mod_t *mod, knotd_qdata_t *qdata, knot_pkt_t *pkt)
{
	mxg_count(mod, qdata, CTR_TRUNCATED, 0);
	if (qdata->params->proto == KNOTD_QUERY_PROTO_UDP &&
	    mx_answer_truncate(pkt, qdata->query) == KNOT_EOK) {
		return KNOTD_IN_STATE_TRUNC;
	}
	qdata->rcode = KNOT_RCODE_SERVFAIL;
	return KNOTD_IN_STATE_ERROR;
}

static knotd_in_state_t fail_closed(answer_run_t *run)
{
	return mxg_fail_closed(run->mod, run->qdata, run->pkt);
}

/*** Null MX for no-mail names. ***/

// knot_pkt_put copies the RRset structure; the owner (the query's name) and
// this constant rdata outlive the answer: nothing to allocate.
static const struct {
	uint16_t len;
	uint8_t data[4];  // preference 0, exchange the root, padding
} null_mx = { 3, { 0, 0, 0, 0 } };

bool mxg_synthesized(const knot_rrset_t *rr)
{
	return rr->type == KNOT_RRTYPE_MX && rr->rrs.rdata == (const knot_rdata_t *)&null_mx;
}

void mxg_report_synthesis(knotd_mod_t *mod, knotd_qdata_t *qdata, mx_log_class_t cls,
                          const char *what, const knot_dname_t *owner, const char *reason)
{
	mxg_count(mod, qdata, CTR_SYNTHESIZED, 0);
	uint32_t suppressed;
	if (!log_due(mod, line_key(mod, qdata, owner, cls), &suppressed)) {
		return;
	}
	char line[KNOT_DNAME_TXT_MAXLEN + 128];
	int len = mx_log_line_synthesized(line, sizeof(line), what, owner, reason, suppressed);
	log_line(mod, qdata, LOG_INFO, len, line);
}

static bool zone_signed(knotd_qdata_t *qdata)
{
	knot_rrset_t dnskey = knotd_qdata_zone_apex_rrset(qdata, KNOT_RRTYPE_DNSKEY);
	return !knot_rrset_empty(&dnskey);
}

// A name that exists without MX: answer "NAME TTL IN MX 0 ." instead of NODATA.
static knotd_in_state_t synthesize(knotd_in_state_t state, knot_pkt_t *pkt,
                                   knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	bool listed = ctx->no_mail != NULL && mx_name_list_match(ctx->no_mail, qdata->name);
	// RFC 8552 attribute leaves (_dmarc.N, ...) never are no-mail names.
	if ((!listed && !ctx->implicit) || mx_dname_attribute(qdata->name)) {
		return state;
	}

	knot_rrset_t rr;
	knot_rrset_init(&rr, (knot_dname_t *)qdata->name, KNOT_RRTYPE_MX, KNOT_CLASS_IN,
	                ctx->null_mx_ttl);
	rr.rrs.count = 1;
	rr.rrs.size = knot_rdata_size(null_mx.len);
	rr.rrs.rdata = (knot_rdata_t *)&null_mx;

	knot_rrset_t rrsig;
	knot_rrset_init_empty(&rrsig);
	if (knot_pkt_has_dnssec(qdata->query) && zone_signed(qdata)) {
		// A name a wildcard stands for: with null-mx-implicit the wildcard
		// itself takes no mail, and the null MX is signed as its expansion
		// (with knotd's proof that the name does not exist). A listed name
		// is signed as a name of its own (denial.c drops that proof): a
		// resolver would give a wildcard's null MX to every name below it.
		knot_rrset_t sign_as = rr;
		const mxg_node_t *node = mxg_answer_node(qdata);
		if (!listed && node != NULL && node->owner != NULL &&
		    knot_dname_is_wildcard(node->owner)) {
			sign_as.owner = node->owner;
		}
		const char *reason = NULL;
		if (!mxg_sign(mod, qdata, &sign_as, &rrsig, &reason) && !ctx->unsigned_allow) {
			report_not_enforced(mod, qdata, qdata->name, MX_ACTION_NULL_MX, reason);
			return state;
		}
		rrsig.owner = rr.owner;
	}

	// The first answer record's owner is the QNAME; after a CNAME it is not.
	uint16_t hint = (pkt->rrset_count == 0) ? KNOT_COMPR_HINT_QNAME : KNOT_COMPR_HINT_NONE;
	if (knot_pkt_put(pkt, hint, &rr, 0) != KNOT_EOK) {
		// Nothing was written: the NODATA answer goes on.
		mxg_count_error(mod, qdata, "no room for the null MX");
		return state;
	}
	if (!knot_rrset_empty(&rrsig) &&
	    knot_pkt_put(pkt, hint, &rrsig, KNOT_PF_ORIGTTL) != KNOT_EOK) {
		// TC is set: the client asks again over TCP.
		return KNOTD_IN_STATE_TRUNC;
	}
	mxg_report_synthesis(mod, qdata, MX_LOG_SYNTHESIZED, "null-mx", qdata->name,
	                     listed ? "list" : "implicit");
	return KNOTD_IN_STATE_HIT;
}

/*** Hooks. ***/

// An MX (or ANY) answer: judge, rewrite. Apart from the hook, whose every
// other query then returns without the frame this one needs.
__attribute__((noinline))
static knotd_in_state_t answer_mx(knotd_in_state_t state, knot_pkt_t *pkt,
                                  knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	if (state == KNOTD_IN_STATE_NODATA) {
		return synthesize(state, pkt, qdata, mod);
	}

	mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	answer_run_t run = { .mod = mod, .ctx = ctx, .qdata = qdata, .pkt = pkt };
	if (scan_answer(&run) != KNOT_EOK) {
		mxg_count_error(mod, qdata, "answer not judged");
		return ctx->enforces ? fail_closed(&run) : state;
	}
	if (run.scan.count == 0) {
		report(&run);  // clean ones, if any
		return state;
	}
	if (ctx->enforces && mx_scan_changes(&run.scan) && !enforce(&run)) {
		report(&run);
		return fail_closed(&run);
	}
	report(&run);
	return state;
}

// SPF, DMARC and DKIM of no-mail names (an instance with no-mail-records
// only); for MX, only a name the zone lacks (_dmarc.N MX: NODATA).
static knotd_in_state_t mxguard_no_mail(knotd_in_state_t state, knot_pkt_t *pkt,
                                        knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	if (qdata->type != KNOTD_QUERY_TYPE_NORMAL ||
	    (is_mx_query(qdata) && state != KNOTD_IN_STATE_MISS)) {
		return state;
	}
	return mxg_no_mail_answer(state, pkt, qdata, mod);
}

// The query a zone's instance judged last on this thread: a global
// instance leaves its answer to it (one line and one count per violation,
// not two).
static __thread const knotd_qdata_t *zone_judged;

// The answer section is complete and no glue is written yet.
static knotd_in_state_t mxguard_answer(knotd_in_state_t state, knot_pkt_t *pkt,
                                       knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	if (!is_mx_query(qdata)) {
		return state;
	}
	zone_judged = qdata;
	return answer_mx(state, pkt, qdata, mod);
}

// An enforcing instance: a UDP answer knotd truncated before the ANSWER hooks
// ran may carry an MX RRset the policy rewrites; one it truncated before the
// AUTHORITY hooks ran, a denial record that denies MX at a no-mail name.
__attribute__((noinline))
static knotd_state_t guard_truncated(knotd_state_t state, knot_pkt_t *pkt,
                                     knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	const mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	bool leaks = false;
	if (is_mx_query(qdata)) {
		answer_run_t run = { .mod = mod, .ctx = knotd_mod_ctx(mod), .qdata = qdata,
		                     .pkt = pkt };
		leaks = scan_answer(&run) != KNOT_EOK || mx_scan_changes(&run.scan);
	}
	// The proofs as the AUTHORITY hook leaves them; a TSIG-signed answer
	// cannot change any more: it goes if anything would.
	if (!leaks && ctx->denial) {
		leaks = knot_pkt_has_tsig(qdata->query) ? mxg_denial_cut_leaks(pkt, qdata, mod) :
		        !mxg_denial_complete_cut(pkt, qdata, mod);
	}
	if (!leaks) {
		return state;
	}
	mxg_count(mod, qdata, CTR_TRUNCATED, 0);
	if (knot_pkt_has_tsig(qdata->query)) {
		// The answer is signed already; one changed now would fail TSIG.
		return KNOTD_STATE_NOOP;
	}
	if (mx_answer_truncate(pkt, qdata->query) != KNOT_EOK) {
		return KNOTD_STATE_NOOP;
	}
	return state;
}

static knotd_state_t mxguard_end_guard(knotd_state_t state, knot_pkt_t *pkt,
                                       knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	if (!knot_wire_get_tc(pkt->wire)) {
		return state;
	}
	return guard_truncated(state, pkt, qdata, mod);
}

// A global instance only observes: knotd runs its hooks around the answer,
// not while it is made. It judges the answer as it goes out.
static knotd_state_t mxguard_begin_observe(knotd_state_t state, knot_pkt_t *pkt,
                                           knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	zone_judged = NULL;
	return state;
}

static knotd_state_t mxguard_end_observe(knotd_state_t state, knot_pkt_t *pkt,
                                         knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	// An answer a zone's own instance judged is its to log and count: the
	// global counters and lines add up with the zones' without overlap.
	if (!is_mx_query(qdata) || zone_judged == qdata) {
		return state;
	}
	answer_run_t run = { .mod = mod, .ctx = knotd_mod_ctx(mod), .qdata = qdata, .pkt = pkt };
	if (scan_answer(&run) != KNOT_EOK) {
		mxg_count_error(mod, qdata, "answer not judged");
		return state;
	}
	report(&run);
	return state;
}

int mxg_hooks_register(knotd_mod_t *mod, const mxguard_ctx_t *ctx)
{
	if (knotd_mod_zone(mod) == NULL) {
		int ret = knotd_mod_hook(mod, KNOTD_STAGE_BEGIN, mxguard_begin_observe);
		return ret != KNOT_EOK ? ret : knotd_mod_hook(mod, KNOTD_STAGE_END,
		                                              mxguard_end_observe);
	}
	int ret = KNOT_EOK;
	if (ctx->no_mail_records != 0) {
		ret = knotd_mod_in_hook(mod, KNOTD_STAGE_ANSWER, mxguard_no_mail);
	}
	if (ret == KNOT_EOK) {
		ret = knotd_mod_in_hook(mod, KNOTD_STAGE_ANSWER, mxguard_answer);
	}
	if (ret == KNOT_EOK && (ctx->enforces || ctx->denial)) {
		ret = knotd_mod_hook(mod, KNOTD_STAGE_END, mxguard_end_guard);
	}
	// Denial records that would contradict the null MX answers (denial.c).
	if (ret == KNOT_EOK && ctx->denial) {
		ret = knotd_mod_in_hook(mod, KNOTD_STAGE_AUTHORITY, mxg_denial_authority);
	}
	return ret;
}
