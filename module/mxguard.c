/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The adapter: the only file that talks to knotd's module API. It reads the
 * configuration, hooks into the answer path, feeds each MX RRset that knotd
 * serves to the rules (mx_check.c), carries out what the plan says
 * (rewrite_plan.c, answer_rebuild.c) and logs and counts what it did.
 */

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

#include "answer_rebuild.h"
#include "exchange_lookup.h"
#include "knot_compat.h"
#include "log_limit.h"
#include "log_line.h"
#include "mx_check.h"
#include "name_list.h"
#include "policy.h"
#include "rewrite_plan.h"

#define MOD_IP_LITERAL        "\x0a""ip-literal"
#define MOD_LOOPBACK          "\x08""loopback"
#define MOD_SPECIAL_ADDRESS   "\x0f""special-address"
#define MOD_MISSING_ADDRESS   "\x0f""missing-address"
#define MOD_NULL_MX_CONFLICT  "\x10""null-mx-conflict"
#define MOD_SELF_EXCHANGE     "\x0d""self-exchange"
#define MOD_PROVIDER_MIX      "\x0c""provider-mix"
#define MOD_CNAME_EXCHANGE    "\x0e""cname-exchange"
#define MOD_ALLOW_ADDRESS     "\x0d""allow-address"
#define MOD_LOG_INTERVAL      "\x0c""log-interval"
#define MOD_LOG_TABLE_SIZE    "\x0e""log-table-size"
#define MOD_DNSSEC_UNSIGNED   "\x0f""dnssec-unsigned"
#define MOD_POLICY            "\x06""policy"
#define MOD_NULL_MX           "\x07""null-mx"
#define MOD_NULL_MX_FILE      "\x0c""null-mx-file"
#define MOD_NULL_MX_IMPLICIT  "\x10""null-mx-implicit"
#define MOD_NULL_MX_TTL       "\x0b""null-mx-ttl"

#define C_SERVER              "\x06""server"
#define C_ANSWER_ROTATION     "\x0f""answer-rotation"
#define C_DNSSEC_SIGNING      "\x0e""dnssec-signing"
#define C_POLICY              "\x06""policy"

// Config item of each kind, in mx_kind_t order.
static const yp_name_t *kind_items[MX_KIND_COUNT] = {
	[MX_KIND_IP_LITERAL]       = (const yp_name_t *)MOD_IP_LITERAL,
	[MX_KIND_LOOPBACK]         = (const yp_name_t *)MOD_LOOPBACK,
	[MX_KIND_SPECIAL_ADDRESS]  = (const yp_name_t *)MOD_SPECIAL_ADDRESS,
	[MX_KIND_MISSING_ADDRESS]  = (const yp_name_t *)MOD_MISSING_ADDRESS,
	[MX_KIND_NULL_MX_CONFLICT] = (const yp_name_t *)MOD_NULL_MX_CONFLICT,
	[MX_KIND_SELF_EXCHANGE]    = (const yp_name_t *)MOD_SELF_EXCHANGE,
	[MX_KIND_PROVIDER_MIX]     = (const yp_name_t *)MOD_PROVIDER_MIX,
	[MX_KIND_CNAME_EXCHANGE]   = (const yp_name_t *)MOD_CNAME_EXCHANGE,
	[MX_KIND_NULL_MX_OVERRIDE] = NULL,  // follows from the no-mail list
};

static const knot_lookup_t action_values[] = {
	{ MX_ACTION_OFF,     "off" },
	{ MX_ACTION_LOG,     "log" },
	{ MX_ACTION_STRIP,   "strip" },
	{ MX_ACTION_NULL_MX, "null-mx" },
	{ 0, NULL }
};

enum { UNSIGNED_DENY, UNSIGNED_ALLOW };

static const knot_lookup_t unsigned_values[] = {
	{ UNSIGNED_DENY,  "deny" },
	{ UNSIGNED_ALLOW, "allow" },
	{ 0, NULL }
};

#define ACTION_ITEM(name) { name, YP_TOPT, YP_VOPT = { action_values, MX_ACTION_LOG } }

static const yp_item_t mxguard_conf[] = {
	ACTION_ITEM(MOD_IP_LITERAL),
	ACTION_ITEM(MOD_LOOPBACK),
	ACTION_ITEM(MOD_SPECIAL_ADDRESS),
	ACTION_ITEM(MOD_MISSING_ADDRESS),
	ACTION_ITEM(MOD_NULL_MX_CONFLICT),
	ACTION_ITEM(MOD_SELF_EXCHANGE),
	ACTION_ITEM(MOD_PROVIDER_MIX),
	ACTION_ITEM(MOD_CNAME_EXCHANGE),
	{ MOD_ALLOW_ADDRESS,   YP_TNET, YP_VNONE, YP_FMULTI },
	{ MOD_LOG_INTERVAL,    YP_TINT, YP_VINT = { 0, UINT32_MAX, 300, YP_STIME } },
	{ MOD_LOG_TABLE_SIZE,  YP_TINT, YP_VINT = { 1, 10000000, 16384 } },
	{ MOD_DNSSEC_UNSIGNED, YP_TOPT, YP_VOPT = { unsigned_values, UNSIGNED_DENY } },
	{ MOD_NULL_MX,         YP_TSTR, YP_VNONE, YP_FMULTI },
	{ MOD_NULL_MX_FILE,    YP_TSTR, YP_VNONE },
	{ MOD_NULL_MX_IMPLICIT, YP_TBOOL, YP_VNONE },
	{ MOD_NULL_MX_TTL,     YP_TINT, YP_VINT = { 0, INT32_MAX, 3600, YP_STIME } },
	// knotd's DNSSEC init reads this item, and crashes if it is not declared.
	{ MOD_POLICY,          YP_TREF, YP_VREF = { C_POLICY }, YP_FNONE,
	                       { knotd_conf_check_ref } },
	{ NULL }
};

enum {
	CTR_INSPECTED,  // MX RRsets inspected
	CTR_VIOLATION,  // violations, by kind
	CTR_ACTION,     // RRsets with violations, by the action taken
	CTR_TRUNCATED,  // answers sent empty with TC=1 (or dropped) not to leak
	CTR_SKIPPED,    // rewrites not done: a signed answer the module cannot sign
	CTR_SYNTHESIZED,  // null MX answers made for no-mail names
	CTR_ERROR,      // internal failures (the answer went out unchanged)
};

typedef struct {
	mx_policy_t policy;
	mx_addr_range_t *allow;
	mx_log_limit_t *log_limit;  // NULL when every violation is logged
	bool rotate;                // answer-rotation is on
	bool unsigned_allow;        // serve rewritten signed answers unsigned
	bool enforce_address;       // an address kind strips or replaces
	bool can_sign;              // the zone's keys are loaded
	mx_name_list_t *no_mail;    // names and subtrees that get a null MX
	bool implicit;              // every existing name without MX gets one
	uint32_t null_mx_ttl;       // TTL of a synthesised null MX
	pthread_mutex_t sign_lock;  // knotd's signing context is not thread-safe
	atomic_bool error_logged;
} mxguard_ctx_t;

// Whether the answer being made on this thread was judged in the stage that
// can rewrite it (ANSWER with zone lookups, ADDITIONAL with glue). Answers
// that skip it – knotd's own truncation, overflowing glue – are caught at END.
static __thread struct {
	const knot_pkt_t *pkt;
	uint16_t id;
	bool handled;
} query_mark;

static void mark_query(const knot_pkt_t *pkt, bool handled)
{
	query_mark.pkt = pkt;
	query_mark.id = knot_wire_get_id(pkt->wire);
	query_mark.handled = handled;
}

static bool query_handled(const knot_pkt_t *pkt)
{
	return query_mark.handled && query_mark.pkt == pkt &&
	       query_mark.id == knot_wire_get_id(pkt->wire);
}

static char *kind_to_str(uint32_t idx, uint32_t count)
{
	return strdup(mx_kind_name(idx));
}

static char *action_to_str(uint32_t idx, uint32_t count)
{
	return strdup(mx_action_name(idx));
}

static bool is_mx_query(const knotd_qdata_t *qdata)
{
	if (qdata->type != KNOTD_QUERY_TYPE_NORMAL) {
		return false;
	}
	uint16_t qtype = knot_pkt_qtype(qdata->query);
	return qtype == KNOT_RRTYPE_MX || qtype == KNOT_RRTYPE_ANY;
}

static uint64_t now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

static void count(knotd_mod_t *mod, knotd_qdata_t *qdata, uint32_t ctr, uint32_t idx)
{
	knotd_mod_stats_incr(mod, qdata->params->thread_id, ctr, idx, 1);
}

static void count_error(knotd_mod_t *mod, knotd_qdata_t *qdata, const char *what)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	count(mod, qdata, CTR_ERROR, 0);
	if (!atomic_exchange(&ctx->error_logged, true)) {
		knotd_mod_log(mod, LOG_WARNING, "internal failure (%s), answer served "
		              "unchanged; further failures are only counted", what);
	}
}

static void *mm_get(knotd_qdata_t *qdata, size_t size)
{
	return qdata->mm->alloc(qdata->mm->ctx, size);
}

// The owner as written in the wire: wildcard answers and glue are expanded there.
static bool wire_owner(const knot_pkt_t *pkt, uint16_t rr_pos, knot_dname_t *out)
{
	uint16_t pos = pkt->rr_info[rr_pos].pos;
	if (pos >= pkt->size) {
		return false;
	}
	return knot_dname_unpack(out, pkt->wire + pos, KNOT_DNAME_MAXLEN, pkt->wire) > 0;
}

/*** One answer: its MX RRsets, their violations and what is done. ***/

typedef struct {
	uint16_t rr_pos;             // index in pkt->rr
	knot_dname_t *owner;         // owner as served
	mx_plan_t plan;
	unsigned first, count;       // its violations in the run's array
	bool signed_answer;          // its RRSIG is in the answer
	bool enforce;                // the plan is carried out
	const char *skip_reason;     // why a changing plan is not carried out
} rrset_job_t;

typedef struct {
	knotd_mod_t *mod;
	knotd_qdata_t *qdata;
	knot_pkt_t *pkt;
	rrset_job_t *jobs;
	unsigned job_count;
	mx_violation_t *violations;
	unsigned violation_count;
	unsigned violation_cap;
} answer_run_t;

static void collect_violation(const mx_violation_t *v, void *data)
{
	answer_run_t *run = data;
	if (run->violation_count < run->violation_cap) {
		run->violations[run->violation_count++] = *v;
	}
}

// Addresses in the ADDITIONAL section, under the names the client sees.
static bool collect_glue(const knot_pkt_t *pkt, knotd_qdata_t *qdata,
                         mx_glue_t **glue, size_t *glue_count)
{
	const knot_pktsection_t *add = knot_pkt_section(pkt, KNOT_ADDITIONAL);
	size_t total = 0;
	for (uint16_t i = 0; i < add->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(add, i);
		if (rr->type == KNOT_RRTYPE_A || rr->type == KNOT_RRTYPE_AAAA) {
			total += rr->rrs.count;
		}
	}
	*glue = NULL;
	*glue_count = 0;
	if (total == 0) {
		return true;
	}

	mx_glue_t *out = mm_get(qdata, total * sizeof(*out));
	if (out == NULL) {
		return false;
	}
	size_t n = 0;
	for (uint16_t i = 0; i < add->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(add, i);
		if (rr->type != KNOT_RRTYPE_A && rr->type != KNOT_RRTYPE_AAAA) {
			continue;
		}
		knot_dname_t *owner = mm_get(qdata, KNOT_DNAME_MAXLEN);
		if (owner == NULL || !wire_owner(pkt, add->pos + i, owner)) {
			return false;
		}
		knot_rdata_t *rd = rr->rrs.rdata;
		for (uint16_t j = 0; j < rr->rrs.count; j++, rd = knot_rdataset_next(rd)) {
			out[n].owner = owner;
			if (mx_addr_from_rdata(&out[n].addr, rd->data, rd->len)) {
				n++;
			}
		}
	}
	*glue = out;
	*glue_count = n;
	return true;
}

static bool answer_signs(const knot_pkt_t *pkt, const knot_dname_t *owner)
{
	const knot_pktsection_t *answer = knot_pkt_section(pkt, KNOT_ANSWER);
	knot_dname_storage_t name;
	for (uint16_t i = 0; i < answer->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(answer, i);
		if (rr->type == KNOT_RRTYPE_RRSIG && rr->rrs.count > 0 &&
		    rr->rrs.rdata->len >= 2 &&
		    knot_rrsig_type_covered(rr->rrs.rdata) == KNOT_RRTYPE_MX &&
		    wire_owner(pkt, answer->pos + i, name) &&
		    knot_dname_is_case_equal(name, owner)) {
			return true;
		}
	}
	return false;
}

static bool is_null_mx(const knot_rdataset_t *rrs)
{
	return rrs->count == 1 && rrs->rdata->len == 3 &&
	       knot_wire_read_u16(rrs->rdata->data) == 0 && rrs->rdata->data[2] == 0;
}

// A no-mail name with MX records: the list wins, the RRset becomes a null MX.
static void add_override(answer_run_t *run, const mxguard_ctx_t *ctx,
                         const rrset_job_t *job, const knot_rdataset_t *rrs)
{
	if (ctx->no_mail == NULL || !mx_rdata_ok(rrs->rdata) || is_null_mx(rrs) ||
	    !mx_name_list_match(ctx->no_mail, job->owner)) {
		return;
	}
	mx_violation_t v = {
		.kind = MX_KIND_NULL_MX_OVERRIDE,
		.rr_index = 0,
		.preference = knot_wire_read_u16(rrs->rdata->data),
		.exchange = knot_mx_name(rrs->rdata),
	};
	collect_violation(&v, run);
}

#if MXG_ZONE_LOOKUP
static int zone_get(void *ctx, const knot_dname_t *zone, const knot_dname_t *name,
                    uint16_t type, knot_rrset_t *out)
{
	return knotd_qdata_zone_rrset(ctx, zone, name, type, out);
}

static void lookup_exchange(const knot_dname_t *exchange, mx_target_t *target, void *ctx)
{
	knotd_qdata_t *qdata = ctx;
	mx_exchange_lookup(exchange, target, zone_get, qdata, qdata->mm);
}

static mx_lookup_f exchange_lookup_fn(void)
{
	return lookup_exchange;
}
#else
static mx_lookup_f exchange_lookup_fn(void)
{
	return NULL;  // judged from the glue
}
#endif

// Finds the MX RRsets of the answer and checks each; false on no memory.
static bool inspect_answer(answer_run_t *run, bool glue_complete)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(run->mod);
	knot_pkt_t *pkt = run->pkt;
	const knot_pktsection_t *answer = knot_pkt_section(pkt, KNOT_ANSWER);

	unsigned records = 0;
	for (uint16_t i = 0; i < answer->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(answer, i);
		if (rr->type == KNOT_RRTYPE_MX) {
			run->job_count++;
			records += rr->rrs.count;
		}
	}
	if (run->job_count == 0) {
		return true;
	}

	mx_glue_t *glue = NULL;
	size_t glue_count = 0;
	run->jobs = mm_get(run->qdata, run->job_count * sizeof(*run->jobs));
	run->violation_cap = records * MX_KIND_COUNT + run->job_count;
	run->violations = mm_get(run->qdata, run->violation_cap * sizeof(*run->violations));
	if (run->jobs == NULL || run->violations == NULL ||
	    (!MXG_ZONE_LOOKUP && !collect_glue(pkt, run->qdata, &glue, &glue_count))) {
		return false;
	}

	const knot_dname_t *zone = knotd_qdata_zone_name(run->qdata);
	rrset_job_t *job = run->jobs;
	for (uint16_t i = 0; i < answer->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(answer, i);
		if (rr->type != KNOT_RRTYPE_MX) {
			continue;
		}
		memset(job, 0, sizeof(*job));
		job->rr_pos = answer->pos + i;
		job->owner = mm_get(run->qdata, KNOT_DNAME_MAXLEN);
		mx_action_t *record = mm_get(run->qdata, rr->rrs.count * sizeof(*record));
		if (job->owner == NULL || record == NULL ||
		    !wire_owner(pkt, job->rr_pos, job->owner)) {
			return false;
		}

		mx_rrset_view_t view = {
			.zone = zone,
			.owner = job->owner,
			.rrs = &rr->rrs,
			.glue = glue,
			.glue_count = glue_count,
			.glue_complete = glue_complete,
			.lookup = exchange_lookup_fn(),
			.lookup_ctx = run->qdata,
		};
		job->first = run->violation_count;
		mx_check_rrset(&view, &ctx->policy, collect_violation, run);

		add_override(run, ctx, job, &rr->rrs);
		job->count = run->violation_count - job->first;

		mx_plan_init(&job->plan, &rr->rrs, record);
		for (unsigned v = job->first; v < run->violation_count; v++) {
			mx_kind_t kind = run->violations[v].kind;
			mx_plan_add(&job->plan, &run->violations[v], ctx->policy.action[kind]);
		}
		job->signed_answer = answer_signs(pkt, job->owner);
		job++;
	}
	return true;
}

// Key of the log limiter: zone, owner, exchange (all lower case) and kind.
static size_t log_key(uint8_t *key, const knot_dname_t *zone, const knot_dname_t *owner,
                      const knot_dname_t *exchange, uint8_t kind)
{
	size_t len = 0;
	const knot_dname_t *names[] = { zone, owner, exchange };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t size = knot_dname_size(names[i]);
		memcpy(key + len, names[i], size);
		knot_dname_to_lower(key + len);
		len += size;
	}
	key[len++] = kind;
	return len;
}

// Whether to log now; the key's repeats since its last line go in *suppressed.
static bool log_due(answer_run_t *run, const knot_dname_t *owner,
                    const knot_dname_t *exchange, uint8_t kind, uint32_t *suppressed)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(run->mod);
	*suppressed = 0;
	if (ctx->log_limit == NULL) {
		return true;
	}
	uint8_t key[3 * KNOT_DNAME_MAXLEN + 1];
	size_t key_len = log_key(key, knotd_qdata_zone_name(run->qdata), owner, exchange, kind);
	return mx_log_limit_hit(ctx->log_limit, key, key_len, now_seconds(), suppressed);
}

// What was done about a violation: its kind's action, if it was carried out.
static mx_action_t effective_action(const mxguard_ctx_t *ctx, const rrset_job_t *job,
                                    mx_kind_t kind)
{
	mx_action_t action = ctx->policy.action[kind];
	return (action >= MX_ACTION_STRIP && !job->enforce) ? MX_ACTION_LOG : action;
}

static void report_job(answer_run_t *run, const rrset_job_t *job)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(run->mod);
	if (job->count > 0) {
		count(run->mod, run->qdata, CTR_ACTION,
		      job->enforce ? job->plan.strongest : MX_ACTION_LOG);
	}

	for (unsigned i = job->first; i < job->first + job->count; i++) {
		const mx_violation_t *v = &run->violations[i];
		count(run->mod, run->qdata, CTR_VIOLATION, v->kind);

		uint32_t suppressed;
		if (!log_due(run, job->owner, v->exchange, v->kind, &suppressed)) {
			continue;
		}
		char line[2 * KNOT_DNAME_TXT_MAXLEN + 256];
		const char *action = mx_action_name(effective_action(ctx, job, v->kind));
		if (mx_log_line(line, sizeof(line), job->owner, v, action, suppressed) < 0) {
			count_error(run->mod, run->qdata, "log line too long");
			continue;
		}
		knotd_mod_log(run->mod, LOG_INFO, "%s", line);
	}

	if (job->skip_reason == NULL) {
		return;
	}
	count(run->mod, run->qdata, CTR_SKIPPED, 0);
	uint32_t suppressed;
	// The root as exchange and an impossible kind make the key of this line.
	if (log_due(run, job->owner, (const knot_dname_t *)"", MX_KIND_COUNT, &suppressed)) {
		knot_dname_txt_storage_t owner;
		knot_dname_to_str(owner, job->owner, sizeof(owner));
		char repeats[32] = "";
		if (suppressed > 0) {
			snprintf(repeats, sizeof(repeats), ", suppressed %u", suppressed);
		}
		knotd_mod_log(run->mod, LOG_NOTICE, "not enforced, owner %s, action %s, "
		              "reason %s%s", owner, mx_action_name(job->plan.strongest),
		              job->skip_reason, repeats);
	}
}

/*** Rewriting. ***/

static bool sign_rrset(answer_run_t *run, const knot_rrset_t *rr, knot_rrset_t *rrsig,
                       const char **reason)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(run->mod);
	if (!ctx->can_sign) {
		*reason = "no-signing-keys";
		return false;
	}

	knot_rrset_init(rrsig, rr->owner, KNOT_RRTYPE_RRSIG, KNOT_CLASS_IN, rr->ttl);
	pthread_mutex_lock(&ctx->sign_lock);
	int ret = knotd_mod_dnssec_sign_rrset(run->mod, rrsig, rr, run->qdata->mm);
	pthread_mutex_unlock(&ctx->sign_lock);
	if (ret != KNOT_EOK || rrsig->rrs.count == 0) {
		*reason = "signing-failed";
		return false;
	}

	// knotd fixes the validity period when the module loads: a signature a
	// resolver could cache past its expiry must not go out.
	uint32_t limit = (uint32_t)time(NULL) + rr->ttl;
	knot_rdata_t *rd = rrsig->rrs.rdata;
	for (uint16_t i = 0; i < rrsig->rrs.count; i++, rd = knot_rdataset_next(rd)) {
		// Serial-number arithmetic, as for all RRSIG times (RFC 4034 §3.1.5).
		if ((int32_t)(knot_rrsig_sig_expiration(rd) - limit) <= 0) {
			*reason = "signatures-expiring";
			return false;
		}
	}
	return true;
}

// The glue of the kept records, renumbered; none for a null MX.
static bool remap_glue(answer_run_t *run, const rrset_job_t *job, const knot_rrset_t *old,
                       knot_rrset_t *rr)
{
	rr->additional = NULL;
	const mxg_additional_t *add = old->additional;
	if (add == NULL || add->count == 0 || mx_plan_null_mx(&job->plan)) {
		return true;
	}

	int32_t *map = mm_get(run->qdata, old->rrs.count * sizeof(*map));
	mxg_additional_t *out = mm_get(run->qdata, sizeof(*out));
	mxg_glue_t *glues = mm_get(run->qdata, add->count * sizeof(*glues));
	if (map == NULL || out == NULL || glues == NULL) {
		return false;
	}
	mx_plan_positions(&job->plan, map);

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

static bool build_replacement(answer_run_t *run, rrset_job_t *job, mx_replacement_t *repl)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(run->mod);
	const knot_rrset_t *old = &run->pkt->rr[job->rr_pos];

	memset(repl, 0, sizeof(*repl));
	repl->rr_pos = job->rr_pos;
	knot_rrset_init(&repl->rrset, old->owner, old->type, old->rclass, old->ttl);
	if (mx_plan_build(&job->plan, &repl->rrset.rrs, run->qdata->mm) != KNOT_EOK ||
	    !remap_glue(run, job, old, &repl->rrset)) {
		count_error(run->mod, run->qdata, "out of memory");
		return false;
	}
	knot_rrset_init_empty(&repl->rrsig);

	// A changed RRset never goes out with the signature of the original.
	if (job->signed_answer && !sign_rrset(run, &repl->rrset, &repl->rrsig,
	                                      &job->skip_reason)) {
		if (!ctx->unsigned_allow) {
			return false;
		}
		job->skip_reason = NULL;
		knot_rrset_init_empty(&repl->rrsig);
	}
	return true;
}

static void enforce(answer_run_t *run)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(run->mod);
	mx_replacement_t *repl = mm_get(run->qdata, run->job_count * sizeof(*repl));
	if (repl == NULL) {
		count_error(run->mod, run->qdata, "out of memory");
		return;
	}

	size_t n = 0;
	for (unsigned i = 0; i < run->job_count; i++) {
		rrset_job_t *job = &run->jobs[i];
		if (mx_plan_changes(&job->plan) && build_replacement(run, job, &repl[n])) {
			job->enforce = true;
			n++;
		}
	}
	if (n == 0) {
		return;
	}

	int ret = mx_answer_rebuild(run->pkt, run->qdata->query, repl, n, ctx->rotate,
	                            run->qdata->mm);
	if (ret != KNOT_EOK) {
		// The packet holds the original answer again.
		count_error(run->mod, run->qdata, knot_strerror(ret));
		for (unsigned i = 0; i < run->job_count; i++) {
			run->jobs[i].enforce = false;
		}
	}
}

// Whether the answer, served as it is, could hand out what the policy rewrites.
static bool needs_guard(const answer_run_t *run)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(run->mod);
	for (unsigned i = 0; i < run->job_count; i++) {
		// Without the glue (and zone lookups), address kinds cannot be judged.
		if (mx_plan_changes(&run->jobs[i].plan) ||
		    (!MXG_ZONE_LOOKUP && ctx->enforce_address)) {
			return true;
		}
	}
	return false;
}

/*** Null MX for no-mail names. ***/

static bool zone_signed(knotd_qdata_t *qdata)
{
	knot_rrset_t dnskey = knotd_qdata_zone_apex_rrset(qdata, KNOT_RRTYPE_DNSKEY);
	return !knot_rrset_empty(&dnskey);
}

static void log_synthesis(answer_run_t *run, const knot_dname_t *owner, const char *reason)
{
	uint32_t suppressed;
	// An impossible kind keeps this line's key apart from the violations'.
	if (!log_due(run, owner, (const knot_dname_t *)"", MX_KIND_COUNT + 1, &suppressed)) {
		return;
	}
	knot_dname_txt_storage_t text;
	knot_dname_to_str(text, owner, sizeof(text));
	char repeats[32] = "";
	if (suppressed > 0) {
		snprintf(repeats, sizeof(repeats), ", suppressed %u", suppressed);
	}
	knotd_mod_log(run->mod, LOG_INFO, "synthesized null-mx, owner %s, reason %s%s",
	              text, reason, repeats);
}

// A name that exists without MX: answer "NAME TTL IN MX 0 ." instead of NODATA.
static knotd_in_state_t synthesize(knotd_in_state_t state, knot_pkt_t *pkt,
                                   knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	bool listed = ctx->no_mail != NULL && mx_name_list_match(ctx->no_mail, qdata->name);
	if (!listed && !ctx->implicit) {
		return state;
	}

	answer_run_t run = { .mod = mod, .qdata = qdata, .pkt = pkt };
	// knot_pkt_put copies the RRset structure; the owner (the query's name)
	// and the constant rdata outlive the answer: nothing to allocate.
	static const struct {
		uint16_t len;
		uint8_t data[4];  // preference 0, exchange the root, padding
	} null_mx = { 3, { 0, 0, 0, 0 } };
	knot_rrset_t null_rr;
	knot_rrset_t *rr = &null_rr;
	knot_rrset_init(rr, (knot_dname_t *)qdata->name, KNOT_RRTYPE_MX, KNOT_CLASS_IN,
	                ctx->null_mx_ttl);
	rr->rrs.count = 1;
	rr->rrs.size = knot_rdata_size(null_mx.len);
	rr->rrs.rdata = (knot_rdata_t *)&null_mx;

	knot_rrset_t rrsig;
	knot_rrset_init_empty(&rrsig);
	if (knot_pkt_has_dnssec(qdata->query) && zone_signed(qdata)) {
		const char *reason = NULL;
		if (!sign_rrset(&run, rr, &rrsig, &reason) && !ctx->unsigned_allow) {
			rrset_job_t job = { .owner = (knot_dname_t *)qdata->name,
			                    .skip_reason = reason };
			job.plan.strongest = MX_ACTION_NULL_MX;
			report_job(&run, &job);
			return state;
		}
	}

	// The first answer record's owner is the QNAME; after a CNAME it is not.
	uint16_t hint = (pkt->rrset_count == 0) ? KNOT_COMPR_HINT_QNAME : KNOT_COMPR_HINT_NONE;
	if (knot_pkt_put(pkt, hint, rr, 0) != KNOT_EOK) {
		// Nothing was written: the NODATA answer goes on.
		count_error(mod, qdata, "no room for the null MX");
		return state;
	}
	if (!knot_rrset_empty(&rrsig) &&
	    knot_pkt_put(pkt, hint, &rrsig, KNOT_PF_ORIGTTL) != KNOT_EOK) {
		// TC is set: the client asks again over TCP.
		return KNOTD_IN_STATE_TRUNC;
	}

	count(mod, qdata, CTR_SYNTHESIZED, 0);
	log_synthesis(&run, qdata->name, listed ? "list" : "implicit");
	return KNOTD_IN_STATE_HIT;
}

/*** Hooks. ***/

// Judges the answer, rewrites it where the policy says, logs and counts.
static void process_answer(knot_pkt_t *pkt, knotd_qdata_t *qdata, knotd_mod_t *mod,
                           bool glue_complete)
{
	answer_run_t run = { .mod = mod, .qdata = qdata, .pkt = pkt };
	if (!inspect_answer(&run, glue_complete)) {
		count_error(mod, qdata, "out of memory");
		return;
	}
	if (run.job_count == 0) {
		return;
	}
	enforce(&run);
	for (unsigned i = 0; i < run.job_count; i++) {
		count(mod, qdata, CTR_INSPECTED, 0);
		report_job(&run, &run.jobs[i]);
	}
}

static knotd_in_state_t mxguard_answer(knotd_in_state_t state, knot_pkt_t *pkt,
                                       knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	if (!is_mx_query(qdata)) {
		return state;
	}
	mark_query(pkt, false);

	if (state == KNOTD_IN_STATE_NODATA) {
		state = synthesize(state, pkt, qdata, mod);
		// The answer's only MX RRset is then the module's own null MX:
		// nothing for the later stages to judge.
		mark_query(pkt, state == KNOTD_IN_STATE_HIT);
		return state;
	}
	if (MXG_ZONE_LOOKUP) {
		// Exact lookups: judge and rewrite before knotd adds the glue.
		process_answer(pkt, qdata, mod, false);
		mark_query(pkt, true);
	}
	return state;
}

// Without zone lookups: the glue is complete here (it overflowed otherwise).
static knotd_in_state_t mxguard_additional(knotd_in_state_t state, knot_pkt_t *pkt,
                                           knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	if (!is_mx_query(qdata) || query_handled(pkt)) {
		return state;
	}
	process_answer(pkt, qdata, mod, true);
	mark_query(pkt, true);
	return state;
}

// Answers that skipped the judging stage: glue that overflowed, or a UDP
// answer that knotd truncated (possibly with the whole MX RRset in it).
static knotd_state_t mxguard_end(knotd_state_t state, knot_pkt_t *pkt,
                                 knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	if (!is_mx_query(qdata) || query_handled(pkt)) {
		return state;
	}

	answer_run_t run = { .mod = mod, .qdata = qdata, .pkt = pkt };
	if (!inspect_answer(&run, false)) {
		count_error(mod, qdata, "out of memory");
		return state;
	}
	if (run.job_count == 0) {
		return state;
	}

	if (needs_guard(&run)) {
		// Rewriting here would break TSIG and signatures: send nothing of the
		// answer, so that the client asks again over TCP, where it fits.
		count(mod, qdata, CTR_TRUNCATED, 0);
		if (knot_pkt_has_tsig(qdata->query)) {
			// Re-signing a failed TC answer yields BADSIG: drop it instead.
			return KNOTD_STATE_NOOP;
		}
		qdata->err_truncated = true;
		return KNOTD_STATE_FAIL;
	}
	for (unsigned i = 0; i < run.job_count; i++) {
		count(mod, qdata, CTR_INSPECTED, 0);
		report_job(&run, &run.jobs[i]);
	}
	return state;
}

/*** Configuration and life cycle. ***/

static bool addr_from_sockaddr(mx_addr_t *addr, const struct sockaddr_storage *ss)
{
	memset(addr, 0, sizeof(*addr));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		addr->family = AF_INET;
		memcpy(addr->bytes, &in->sin_addr, 4);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		addr->family = AF_INET6;
		memcpy(addr->bytes, &in6->sin6_addr, 16);
		return true;
	}
	return false;
}

static int check_allow(knotd_conf_check_args_t *args)
{
	knotd_conf_t allow = knotd_conf_check_item(args, MOD_ALLOW_ADDRESS);
	int ret = KNOT_EOK;
	for (size_t i = 0; i < allow.count && ret == KNOT_EOK; i++) {
		const knotd_conf_val_t *val = &allow.multi[i];
		mx_addr_t min, max;
		if (val->addr_max.ss_family == AF_UNSPEC ||
		    !addr_from_sockaddr(&min, &val->addr) ||
		    !addr_from_sockaddr(&max, &val->addr_max)) {
			continue;
		}
		// Knot accepts a range written backwards; it would match nothing.
		if (min.family != max.family ||
		    memcmp(min.bytes, max.bytes, sizeof(min.bytes)) > 0) {
			// knotd reads the message after we return.
			static __thread char err[160];
			char a[MX_ADDR_STRLEN], b[MX_ADDR_STRLEN];
			snprintf(err, sizeof(err), "invalid allow-address '%s-%s', "
			         "the first address must not be above the second",
			         mx_addr_to_str(&min, a, sizeof(a)),
			         mx_addr_to_str(&max, b, sizeof(b)));
			args->err_str = err;
			ret = KNOT_EINVAL;
		}
	}
	knotd_conf_free(&allow);
	return ret;
}

// The no-mail names of the items, then of the file; *err says what is wrong.
static int load_no_mail(mx_name_list_t *list, knotd_conf_t *names, const char *file,
                        const char **err)
{
	// knotd reads the message after the check returns.
	static __thread char msg[640];
	for (size_t i = 0; i < names->count; i++) {
		const char *reason = NULL;
		int ret = mx_name_list_add(list, names->multi[i].string, &reason);
		if (ret != KNOT_EOK) {
			snprintf(msg, sizeof(msg), "invalid null-mx '%s' (%s)",
			         names->multi[i].string, reason ? reason : knot_strerror(ret));
			*err = msg;
			return ret;
		}
	}
	if (file != NULL && file[0] != '\0') {
		char reason[512];
		int ret = mx_name_list_load(list, file, reason, sizeof(reason));
		if (ret != KNOT_EOK) {
			snprintf(msg, sizeof(msg), "invalid null-mx-file, %s", reason);
			*err = msg;
			return ret;
		}
	}
	return KNOT_EOK;
}

static int check_no_mail(knotd_conf_check_args_t *args)
{
	knotd_conf_t names = knotd_conf_check_item(args, MOD_NULL_MX);
	knotd_conf_t file = knotd_conf_check_item(args, MOD_NULL_MX_FILE);
	if (names.count == 0 && file.count == 0) {
		return KNOT_EOK;
	}
	mx_name_list_t *list = mx_name_list_new();
	int ret = (list == NULL) ? KNOT_ENOMEM :
	          load_no_mail(list, &names, file.single.string, &args->err_str);
	mx_name_list_free(list);
	knotd_conf_free(&names);
	return ret;
}

static int mxguard_conf_check(knotd_conf_check_args_t *args)
{
	// No record is wrong by itself in a provider mix: nothing to strip.
	knotd_conf_t mix = knotd_conf_check_item(args, MOD_PROVIDER_MIX);
	if (mix.single.option > MX_ACTION_LOG) {
		args->err_str = (mix.single.option == MX_ACTION_STRIP) ?
			"invalid provider-mix 'strip', it takes only 'off' or 'log'" :
			"invalid provider-mix 'null-mx', it takes only 'off' or 'log'";
		return KNOT_EINVAL;
	}
	int ret = check_allow(args);
	return (ret == KNOT_EOK) ? check_no_mail(args) : ret;
}

static int load_allow(knotd_mod_t *mod, mxguard_ctx_t *ctx)
{
	knotd_conf_t conf = knotd_conf_mod(mod, MOD_ALLOW_ADDRESS);
	if (conf.count == 0) {
		return KNOT_EOK;
	}
	ctx->allow = calloc(conf.count, sizeof(*ctx->allow));
	if (ctx->allow == NULL) {
		knotd_conf_free(&conf);
		return KNOT_ENOMEM;
	}

	size_t n = 0;
	for (size_t i = 0; i < conf.count; i++) {
		const knotd_conf_val_t *val = &conf.multi[i];
		mx_addr_t min, max;
		if (!addr_from_sockaddr(&min, &val->addr)) {
			continue;
		}
		mx_addr_range_t *range = &ctx->allow[n];
		if (val->addr_max.ss_family == AF_UNSPEC) {
			unsigned bits = val->addr_mask >= 0 ? (unsigned)val->addr_mask :
			                8 * mx_addr_len(min.family);
			if (!mx_addr_range_prefix(range, &min, bits)) {
				continue;
			}
		} else {
			if (!addr_from_sockaddr(&max, &val->addr_max)) {
				continue;
			}
			range->family = min.family;
			memcpy(range->min, min.bytes, sizeof(range->min));
			memcpy(range->max, max.bytes, sizeof(range->max));
		}
		n++;
	}
	knotd_conf_free(&conf);

	ctx->policy.allow = ctx->allow;
	ctx->policy.allow_count = n;
	return KNOT_EOK;
}

// The zone's own keys, when knotd signs it; otherwise signed answers that
// would change are left alone (or served unsigned, if allowed).
static void load_signing(knotd_mod_t *mod, mxguard_ctx_t *ctx)
{
	const knot_dname_t *zone = knotd_mod_zone(mod);
	if (zone == NULL || !knotd_conf_zone(mod, C_DNSSEC_SIGNING, zone).single.boolean) {
		return;
	}
	int ret = knotd_mod_dnssec_init(mod);
	if (ret == KNOT_EOK) {
		ret = knotd_mod_dnssec_load_keyset(mod, false);
	}
	if (ret != KNOT_EOK) {
		knotd_mod_log(mod, LOG_NOTICE, "signing keys not available (%s), "
		              "signed answers will not be rewritten", knot_strerror(ret));
		return;
	}
	ctx->can_sign = true;
}

static int load_null_mx(knotd_mod_t *mod, mxguard_ctx_t *ctx)
{
	ctx->implicit = knotd_conf_mod(mod, MOD_NULL_MX_IMPLICIT).single.boolean;
	ctx->null_mx_ttl = knotd_conf_mod(mod, MOD_NULL_MX_TTL).single.integer;

	knotd_conf_t names = knotd_conf_mod(mod, MOD_NULL_MX);
	knotd_conf_t file = knotd_conf_mod(mod, MOD_NULL_MX_FILE);
	if (names.count == 0 && file.count == 0) {
		return KNOT_EOK;
	}
	ctx->no_mail = mx_name_list_new();
	if (ctx->no_mail == NULL) {
		knotd_conf_free(&names);
		return KNOT_ENOMEM;
	}
	const char *err = NULL;
	int ret = load_no_mail(ctx->no_mail, &names, file.single.string, &err);
	knotd_conf_free(&names);
	if (ret != KNOT_EOK) {
		// The check passed a moment ago: the file changed in between.
		knotd_mod_log(mod, LOG_ERR, "%s", err ? err : knot_strerror(ret));
		return ret;
	}
	ctx->policy.action[MX_KIND_NULL_MX_OVERRIDE] = MX_ACTION_NULL_MX;
	return KNOT_EOK;
}

static void ctx_free(mxguard_ctx_t *ctx)
{
	if (ctx == NULL) {
		return;
	}
	mx_name_list_free(ctx->no_mail);
	mx_log_limit_free(ctx->log_limit);
	pthread_mutex_destroy(&ctx->sign_lock);
	free(ctx->allow);
	free(ctx);
}

static int register_stats(knotd_mod_t *mod)
{
	int ret = knotd_mod_stats_add(mod, "inspected", 1, NULL);
	if (ret == KNOT_EOK) {
		ret = knotd_mod_stats_add(mod, "violation", MX_KIND_COUNT, kind_to_str);
	}
	if (ret == KNOT_EOK) {
		ret = knotd_mod_stats_add(mod, "action", MX_ACTION_COUNT, action_to_str);
	}
	if (ret == KNOT_EOK) {
		ret = knotd_mod_stats_add(mod, "truncated", 1, NULL);
	}
	if (ret == KNOT_EOK) {
		ret = knotd_mod_stats_add(mod, "skipped", 1, NULL);
	}
	if (ret == KNOT_EOK) {
		ret = knotd_mod_stats_add(mod, "synthesized", 1, NULL);
	}
	if (ret == KNOT_EOK) {
		ret = knotd_mod_stats_add(mod, "error", 1, NULL);
	}
	return ret;
}

static int register_hooks(knotd_mod_t *mod)
{
	int ret = knotd_mod_in_hook(mod, KNOTD_STAGE_ANSWER, mxguard_answer);
	if (ret == KNOT_EOK && !MXG_ZONE_LOOKUP) {
		ret = knotd_mod_in_hook(mod, KNOTD_STAGE_ADDITIONAL, mxguard_additional);
	}
	if (ret == KNOT_EOK) {
		ret = knotd_mod_hook(mod, KNOTD_STAGE_END, mxguard_end);
	}
	return ret;
}

static int mxguard_load(knotd_mod_t *mod)
{
	mxguard_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return KNOT_ENOMEM;
	}
	pthread_mutex_init(&ctx->sign_lock, NULL);

	mx_policy_init(&ctx->policy, MX_ACTION_LOG);
	for (unsigned k = 0; k < MX_KIND_COUNT; k++) {
		ctx->policy.action[k] = (kind_items[k] == NULL) ? MX_ACTION_OFF :
		                        knotd_conf_mod(mod, kind_items[k]).single.option;
	}
	ctx->enforce_address = ctx->policy.action[MX_KIND_LOOPBACK] >= MX_ACTION_STRIP ||
	                       ctx->policy.action[MX_KIND_SPECIAL_ADDRESS] >= MX_ACTION_STRIP ||
	                       ctx->policy.action[MX_KIND_MISSING_ADDRESS] >= MX_ACTION_STRIP;
	ctx->unsigned_allow = knotd_conf_mod(mod, MOD_DNSSEC_UNSIGNED).single.option ==
	                      UNSIGNED_ALLOW;
	ctx->rotate = knotd_conf(mod, C_SERVER, C_ANSWER_ROTATION, NULL).single.boolean;

	int ret = load_allow(mod, ctx);
	if (ret == KNOT_EOK) {
		ret = load_null_mx(mod, ctx);
	}
	if (ret != KNOT_EOK) {
		ctx_free(ctx);
		return ret;
	}

	uint32_t interval = knotd_conf_mod(mod, MOD_LOG_INTERVAL).single.integer;
	size_t table_size = knotd_conf_mod(mod, MOD_LOG_TABLE_SIZE).single.integer;
	if (interval > 0) {
		ctx->log_limit = mx_log_limit_new(interval, table_size);
		if (ctx->log_limit == NULL) {
			ctx_free(ctx);
			return KNOT_ENOMEM;
		}
	}

	// Knot 3.5.4+ calls unload after a failed load only if a context is set.
	knotd_mod_ctx_set(mod, ctx);

	bool rewrites = ctx->no_mail != NULL || ctx->implicit;
	for (unsigned k = 0; k < MX_KIND_COUNT; k++) {
		rewrites = rewrites || ctx->policy.action[k] >= MX_ACTION_STRIP;
	}
	// knotd runs a global module's hooks only when a query begins and ends,
	// never while the answer is made: a global instance can only observe.
	if (rewrites && knotd_mod_zone(mod) == NULL) {
		knotd_mod_log(mod, LOG_ERR, "strip, null-mx and null MX names work only in "
		              "zone scope (knotd runs global modules only around the "
		              "answer); use 'module:' in a zone or template instead");
		ctx_free(ctx);
		knotd_mod_ctx_set(mod, NULL);
		return KNOT_ENOTSUP;
	}
	if (rewrites) {
		load_signing(mod, ctx);
	}

	ret = register_stats(mod);
	if (ret == KNOT_EOK) {
		ret = register_hooks(mod);
	}
	if (ret != KNOT_EOK) {
		ctx_free(ctx);
		knotd_mod_ctx_set(mod, NULL);
	}
	return ret;
}

static void mxguard_unload(knotd_mod_t *mod)
{
	// knotd_mod_log and knotd_mod_zone are unsafe here: the zone may be gone.
	ctx_free(knotd_mod_ctx(mod));
	knotd_mod_ctx_set(mod, NULL);
}

KNOTD_MOD_API(mxguard, KNOTD_MOD_FLAG_SCOPE_ANY | KNOTD_MOD_FLAG_OPT_CONF,
              mxguard_load, mxguard_unload, mxguard_conf, mxguard_conf_check);
