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

#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "answer_enforce.h"
#include "answer_rebuild.h"
#include "answer_scan.h"
#include "no_mail_records.h"
#include "rewrite_plan.h"

static char *kind_to_str(uint32_t idx, uint32_t count)
{
	return strdup(mx_counters[MX_CTR_VIOLATION].index_name(idx));
}

static char *action_to_str(uint32_t idx, uint32_t count)
{
	return strdup(mx_counters[MX_CTR_ACTION].index_name(idx));
}

// The counters of the library's table (answer_run.c), as knotc zone-stats
// shows them.
int mxg_stats_register(knotd_mod_t *mod)
{
	static const knotd_mod_idx_to_str_f to_str[MX_CTR_COUNT] = {
		[MX_CTR_VIOLATION] = kind_to_str,
		[MX_CTR_ACTION] = action_to_str,
	};
	for (unsigned i = 0; i < MX_CTR_COUNT; i++) {
		int ret = knotd_mod_stats_add(mod, mx_counters[i].name, mx_counters[i].count,
		                              to_str[i]);
		if (ret != KNOT_EOK) {
			return ret;
		}
	}
	return KNOT_EOK;
}

void mxg_count(knotd_mod_t *mod, knotd_qdata_t *qdata, mx_counter_t ctr, uint32_t idx)
{
	knotd_mod_stats_incr(mod, qdata->params->thread_id, ctr, idx, 1);
}

void mxg_count_error(knotd_mod_t *mod, knotd_qdata_t *qdata, const char *what)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	mxg_count(mod, qdata, MX_CTR_ERROR, 0);
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

/*** The library's host: knotd's counters, log, signing and glue list. ***/

// One query, as the library's callbacks get it.
typedef struct {
	knotd_mod_t *mod;
	knotd_qdata_t *qdata;
} query_t;

static void host_count(void *q, mx_counter_t ctr, uint32_t idx, uint32_t n)
{
	query_t *qr = q;
	knotd_mod_stats_incr(qr->mod, qr->qdata->params->thread_id, ctr, idx, n);
}

static void host_log(void *q, int level, const char *line)
{
	query_t *qr = q;
	knotd_mod_log(qr->mod, level, "%s", line);
}

static void host_fail(void *q, const char *what)
{
	query_t *qr = q;
	mxg_count_error(qr->mod, qr->qdata, what);
}

static bool host_sign(const knot_rrset_t *rr, knot_rrset_t *rrsig, const char **reason,
                      void *q)
{
	query_t *qr = q;
	return mxg_sign(qr->mod, qr->qdata, rr, rrsig, reason);
}

// The glue of the kept records, renumbered; none for a null MX.
static bool host_remap(const knot_rrset_t *old, const mx_plan_t *plan, knot_rrset_t *rr,
                       void *q)
{
	knotd_qdata_t *qdata = ((query_t *)q)->qdata;
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

void mxg_host_init(knotd_mod_t *mod, mxguard_ctx_t *ctx)
{
	ctx->host = (mx_host_t) {
		.count = host_count,
		.log = host_log,
		.fail = host_fail,
		.sign = host_sign,
		.remap = host_remap,
		.policy = &ctx->policy,
		.log_limit = ctx->log_limit,
		.log_seed = ctx->log_seed,
		.zone_in_line = knotd_mod_zone(mod) == NULL,
		.enforces = ctx->enforces,
		.unsigned_allow = ctx->unsigned_allow,
		.rotate = ctx->rotate,
		.scan = &ctx->scan,
	};
}

// One line through the library's flow (answer_run.c).
static void report_line(knotd_mod_t *mod, knotd_qdata_t *qdata, const mx_line_t *line)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	query_t q = { .mod = mod, .qdata = qdata };
	mx_report_line(&ctx->host, &q, knotd_qdata_zone_name(qdata), line);
}

void mxg_report_violation(knotd_mod_t *mod, knotd_qdata_t *qdata,
                          const knot_dname_t *owner, const mx_violation_t *v)
{
	mxg_count(mod, qdata, MX_CTR_VIOLATION, v->kind);
	mx_line_t line = { .cls = MX_LOG_VIOLATION, .owner = owner, .violation = v,
	                   .action = MX_ACTION_LOG };
	report_line(mod, qdata, &line);
}

void mxg_report_not_enforced(knotd_mod_t *mod, knotd_qdata_t *qdata,
                             const knot_dname_t *owner, mx_action_t action,
                             const char *reason)
{
	mxg_count(mod, qdata, MX_CTR_SKIPPED, 0);
	mx_line_t line = { .cls = MX_LOG_NOT_ENFORCED, .owner = owner, .action = action,
	                   .reason = reason };
	report_line(mod, qdata, &line);
}

void mxg_report_synthesis(knotd_mod_t *mod, knotd_qdata_t *qdata, mx_log_class_t cls,
                          const char *what, const knot_dname_t *owner, const char *reason)
{
	mxg_count(mod, qdata, MX_CTR_SYNTHESIZED, 0);
	mx_line_t line = { .cls = cls, .owner = owner, .what = what, .reason = reason };
	report_line(mod, qdata, &line);
}

/*** One answer. ***/

// This query's part of the scan: the zone answering, the lookups' memo,
// knotd's glue list, the query's memory.
static inline __attribute__((always_inline))
void query_part(const mxguard_ctx_t *ctx, knotd_qdata_t *qdata, mx_scan_query_t *part,
                mxg_lookups_t *lookups)
{
	// A zone's instance knows its zone; the global one asks knotd.
	part->zone = ctx->scan.one_zone ? ctx->zone : knotd_qdata_zone_name(qdata);
	lookups->qdata = qdata;  // the memo's name is not cleared: its size is
	lookups->memo.size = 0;
	part->lookup_ctx = lookups;
	part->glue_ctx = qdata;
	part->mm = qdata->mm;
}

// Judges, rewrites, counts and logs an answer: one library call.
static inline __attribute__((always_inline))
mx_answer_verdict_t run_answer(knotd_mod_t *mod, knotd_qdata_t *qdata, knot_pkt_t *pkt)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	mx_scan_query_t part;
	mxg_lookups_t lookups;
	query_part(ctx, qdata, &part, &lookups);
	query_t q = { .mod = mod, .qdata = qdata };
	return mx_answer_run(&ctx->host, &q, pkt, qdata->query, &part);
}

// An enforcing instance that cannot rewrite never serves what it would
// remove: an empty TC=1 answer over UDP (the client asks again over TCP),
// SERVFAIL over TCP (where a rewrite only fails for want of memory).
knotd_in_state_t mxg_fail_closed(knotd_mod_t *mod, knotd_qdata_t *qdata, knot_pkt_t *pkt)
{
	mxg_count(mod, qdata, MX_CTR_TRUNCATED, 0);
	if (qdata->params->proto == KNOTD_QUERY_PROTO_UDP &&
	    mx_answer_truncate(pkt, qdata->query) == KNOT_EOK) {
		return KNOTD_IN_STATE_TRUNC;
	}
	qdata->rcode = KNOT_RCODE_SERVFAIL;
	return KNOTD_IN_STATE_ERROR;
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
			mxg_report_not_enforced(mod, qdata, qdata->name, MX_ACTION_NULL_MX, reason);
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

	if (run_answer(mod, qdata, pkt) == MX_ANSWER_FAIL_CLOSED) {
		return mxg_fail_closed(mod, qdata, pkt);
	}
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
// not two). Kept only once a global instance is loaded: a module's thread
// variable costs a call to reach.
static __thread const knotd_qdata_t *zone_judged;
static bool observed;

// The answer section is complete and no glue is written yet.
static knotd_in_state_t mxguard_answer(knotd_in_state_t state, knot_pkt_t *pkt,
                                       knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	if (!is_mx_query(qdata)) {
		return state;
	}
	if (__atomic_load_n(&observed, __ATOMIC_RELAXED)) {
		zone_judged = qdata;
	}
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
		mx_scan_query_t part;
		mxg_lookups_t lookups;
		query_part(ctx, qdata, &part, &lookups);
		mx_scan_t scan;
		leaks = mx_answer_scan(pkt, &ctx->scan, &part, &scan) != KNOT_EOK ||
		        mx_scan_changes(&scan);
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
	mxg_count(mod, qdata, MX_CTR_TRUNCATED, 0);
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
	run_answer(mod, qdata, pkt);  // a global instance never enforces
	return state;
}

int mxg_hooks_register(knotd_mod_t *mod, const mxguard_ctx_t *ctx)
{
	if (knotd_mod_zone(mod) == NULL) {
		__atomic_store_n(&observed, true, __ATOMIC_RELAXED);
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
