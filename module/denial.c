/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Denial of existence that agrees with the null MX answers, as knotd asks
 * for it: the AUTHORITY-stage hook and the truncation guard hand the answer
 * to the library (libmxguard/denial_proofs.c, which says which records and
 * why) with what only the adapter has: the zone's keys (signing.c) and the
 * per-instance table of the listed names' NSEC3 hashes, kept here.
 */

#include <stdlib.h>
#include <urcu.h>

#include "adapter.h"
#include "config_rules.h"
#include "denial_proofs.h"
#include "mx_check.h"

// The table of the zone's listed names, published for all workers.
struct mxg_nsec3_table {
	struct rcu_head rcu;
	mx_nsec3_names_t *names;
};

typedef struct {
	knotd_mod_t *mod;
	knotd_qdata_t *qdata;
} denial_ctx_t;

static void table_free(struct rcu_head *head)
{
	mxg_nsec3_table_t *table = caa_container_of(head, mxg_nsec3_table_t, rcu);
	mx_nsec3_names_free(table->names);
	free(table);
}

// The hashes of the zone's listed names: an NSEC3 record covers other
// names' hashes too, and is part of their proofs. The first worker that
// meets the zone's NSEC3 parameters hashes the listed names; the others go
// on meanwhile without waiting (and without the table: NULL).
static const mx_nsec3_names_t *nsec3_table(const dnssec_nsec3_params_t *params, void *data)
{
	denial_ctx_t *dc = data;
	mxguard_ctx_t *ctx = knotd_mod_ctx(dc->mod);
	if (ctx->no_mail == NULL) {
		return NULL;
	}
	mxg_nsec3_table_t *table = rcu_dereference(ctx->nsec3_names);
	if (table != NULL && mx_nsec3_names_params(table->names, params)) {
		return table->names;
	}
	if (pthread_mutex_trylock(&ctx->nsec3_lock) != 0) {
		return NULL;
	}
	table = rcu_dereference(ctx->nsec3_names);
	if (table == NULL || !mx_nsec3_names_params(table->names, params)) {
		mxg_nsec3_table_t *fresh = calloc(1, sizeof(*fresh));
		if (fresh != NULL) {
			fresh->names = mx_nsec3_names_new(ctx->no_mail,
			                                  knotd_qdata_zone_name(dc->qdata), params);
		}
		if (fresh == NULL || fresh->names == NULL) {
			free(fresh);
			pthread_mutex_unlock(&ctx->nsec3_lock);
			mxg_count_error(dc->mod, dc->qdata, "out of memory");
			return NULL;
		}
		mxg_nsec3_table_t *old = rcu_xchg_pointer(&ctx->nsec3_names, fresh);
		if (old != NULL) {
			call_rcu(&old->rcu, table_free);
		}
		table = fresh;
	}
	pthread_mutex_unlock(&ctx->nsec3_lock);
	return table->names;
}

void mxg_denial_free(mxguard_ctx_t *ctx)
{
	// No hook runs any more (knotd waited for them): the table goes now,
	// and any older one whose callback is pending before the module does.
	mxg_nsec3_table_t *table = ctx->nsec3_names;
	if (table != NULL) {
		mx_nsec3_names_free(table->names);
		free(table);
		ctx->nsec3_names = NULL;
	}
	rcu_barrier();
	pthread_mutex_destroy(&ctx->nsec3_lock);
}

static bool sign(const knot_rrset_t *rr, knot_rrset_t *rrsig, const char **reason, void *data)
{
	denial_ctx_t *dc = data;
	return mxg_sign(dc->mod, dc->qdata, rr, rrsig, reason);
}

// A listed name's null MX where knotd found a wildcard: signed as a name of
// its own (hooks.c), so knotd's proof that the name does not exist goes.
static bool own_name_null_mx(const knot_pkt_t *pkt, knotd_qdata_t *qdata,
                             const mxguard_ctx_t *ctx)
{
	const mxg_node_t *node = mxg_answer_node(qdata);
	if (node == NULL || node->owner == NULL || !knot_dname_is_wildcard(node->owner) ||
	    ctx->no_mail == NULL || !mx_name_list_match(ctx->no_mail, qdata->name)) {
		return false;
	}
	const knot_pktsection_t *ans = &pkt->sections[KNOT_ANSWER];
	for (uint16_t i = 0; i < ans->count; i++) {
		if (mxg_synthesized(knot_pkt_rr(ans, i))) {
			return true;
		}
	}
	return false;
}

// Whether NAME has a lone null MX of the zone's own: 1, 0, or -1 where
// knotd found no node of it for this query (the query name's and its
// ancestors' are known).
static int zone_null_mx(const knot_dname_t *name, void *data)
{
	denial_ctx_t *dc = data;
	const mxg_node_t *node = mxg_node_found(dc->qdata, name);
	if (node == NULL) {
		return -1;
	}
	for (uint16_t i = 0; i < node->rrset_count; i++) {
		if (node->rrs[i].type == KNOT_RRTYPE_MX) {
			return mx_rdataset_is_null_mx(&node->rrs[i].rrs) ? 1 : 0;
		}
	}
	return 0;
}

static unsigned kit_below(const knot_dname_t *name, void *data)
{
	denial_ctx_t *dc = data;
	return mxg_no_mail_below(dc->mod, dc->qdata, name);
}

static void params_init(mx_denial_params_t *p, denial_ctx_t *dc, const knot_pkt_t *pkt,
                        bool mx_nodata)
{
	const mxguard_ctx_t *ctx = knotd_mod_ctx(dc->mod);
	*p = (mx_denial_params_t) {
		.zone = knotd_qdata_zone_name(dc->qdata),
		.qname = dc->qdata->name,
		.no_mail = ctx->no_mail,
		.implicit = ctx->implicit,
		.mx_nodata = mx_nodata,
		.own_name_null_mx = own_name_null_mx(pkt, dc->qdata, ctx),
		.rotate = ctx->rotate,
		.sign = sign,
		.names = nsec3_table,
		.spf = (ctx->no_mail_records & MX_RECORD_SPF) != 0,
		.below = (ctx->no_mail_records & (MX_RECORD_DMARC | MX_RECORD_DKIM)) != 0,
		// The records a signed zone lacks are served only where the module signs.
		.narrow = ctx->no_mail_records != 0 && ctx->can_sign,
		.zone_null_mx = zone_null_mx,
		.kit_below = kit_below,
		.ctx = dc,
		.mm = dc->qdata->mm,
	};
}

// The denial records of an answer that has some. Apart from the hook, whose
// every other query then returns without the frame this one needs.
__attribute__((noinline))
static knotd_in_state_t rewrite_denial(knotd_in_state_t state, knot_pkt_t *pkt,
                                       knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	uint16_t qtype = knot_pkt_qtype(qdata->query);
	bool mx_nodata = state == KNOTD_IN_STATE_NODATA &&
	                 (qtype == KNOT_RRTYPE_MX || qtype == KNOT_RRTYPE_ANY);
	denial_ctx_t dc = { .mod = mod, .qdata = qdata };
	mx_denial_params_t params;
	params_init(&params, &dc, pkt, mx_nodata);
	mx_denial_outcome_t out;
	int ret = mx_denial_complete(pkt, qdata->query, &params, &out);
	if (out.reason != NULL || out.ent) {
		mxg_report_not_enforced(mod, qdata, qdata->name, MX_ACTION_NULL_MX,
		                        out.reason != NULL ? out.reason : "empty-non-terminal");
	}
	if (ret == KNOT_ESPACE) {
		// The proofs that list MX do not fit the client's buffer: what fit
		// goes out with TC=1, as knotd serves an overflowing answer, and the
		// client asks again over TCP. Nothing kept denies MX here.
		mxg_count(mod, qdata, MX_CTR_TRUNCATED, 0);
		return KNOTD_IN_STATE_TRUNC;
	}
	if (ret != KNOT_EOK) {
		// Never the proofs that deny MX at a no-mail name.
		mxg_count_error(mod, qdata, knot_strerror(ret));
		return mxg_fail_closed(mod, qdata, pkt);
	}
	return state;
}

// Whether the answer proves "no MX" at the query name: knotd wrote it
// whole before it went on to the proofs.
static bool answer_mx_nodata(const knot_pkt_t *pkt, knotd_qdata_t *qdata)
{
	uint16_t qtype = knot_pkt_qtype(qdata->query);
	if ((qtype != KNOT_RRTYPE_MX && qtype != KNOT_RRTYPE_ANY) ||
	    knot_wire_get_rcode(pkt->wire) != KNOT_RCODE_NOERROR) {
		return false;
	}
	const knot_pktsection_t *ans = &pkt->sections[KNOT_ANSWER];
	for (uint16_t i = 0; i < ans->count; i++) {
		if (knot_pkt_rr(ans, i)->type == KNOT_RRTYPE_MX) {
			return false;
		}
	}
	return true;
}

bool mxg_denial_complete_cut(knot_pkt_t *pkt, knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	if (qdata->type != KNOTD_QUERY_TYPE_NORMAL || !knot_pkt_has_dnssec(qdata->query)) {
		return true;
	}
	denial_ctx_t dc = { .mod = mod, .qdata = qdata };
	mx_denial_params_t params;
	params_init(&params, &dc, pkt, answer_mx_nodata(pkt, qdata));
	mx_denial_outcome_t out;
	int ret = mx_denial_complete_cut(pkt, qdata->query, &params, &out);
	if (ret == KNOT_ENOTSUP) {
		return !mxg_denial_cut_leaks(pkt, qdata, mod);
	}
	if (ret != KNOT_EOK && ret != KNOT_ESPACE) {
		mxg_count_error(mod, qdata, knot_strerror(ret));
		return false;
	}
	return !out.left;
}

bool mxg_denial_cut_leaks(const knot_pkt_t *pkt, knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	if (qdata->type != KNOTD_QUERY_TYPE_NORMAL || !knot_pkt_has_dnssec(qdata->query)) {
		return false;
	}
	// No record here is known to prove this answer's "no MX": each counts.
	denial_ctx_t dc = { .mod = mod, .qdata = qdata };
	mx_denial_params_t params;
	params_init(&params, &dc, pkt, false);
	return mx_denial_leaks(pkt, &params);
}

knotd_in_state_t mxg_denial_authority(knotd_in_state_t state, knot_pkt_t *pkt,
                                      knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	// Most answers have no authority section at all: they leave first.
	if ((pkt->sections[KNOT_AUTHORITY].count == 0 &&
	     knot_pkt_qtype(qdata->query) != KNOT_RRTYPE_NSEC) ||
	    qdata->type != KNOTD_QUERY_TYPE_NORMAL || !knot_pkt_has_dnssec(qdata->query) ||
	    state == KNOTD_IN_STATE_TRUNC || state == KNOTD_IN_STATE_ERROR) {
		return state;
	}
	return rewrite_denial(state, pkt, qdata, mod);
}
