/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The records that say "no mail goes out" beside a null MX
 * (no-mail-records): "v=spf1 -all" at a no-mail name N, the configured
 * DMARC record at _dmarc.N, an empty DKIM key at SELECTOR._domainkey.N,
 * and _domainkey.N as a name that exists (NODATA, not NXDOMAIN). The zone's
 * own data wins: an SPF record N has is served alone, a TXT RRset without
 * one gets it added, _dmarc.N's TXT is served as it is; one that lets mail
 * through is logged (no-mail-policy). N is a no-mail name when the module
 * serves its null MX (listed, or null-mx-implicit and N exists without MX)
 * or when its own MX RRset is a lone "MX 0 ."; a name whose first label
 * starts with '_' never is one.
 *
 * Served in zones knotd does not sign. In a signed zone the names the zone
 * lacks would need denial records made for them (minimally covering NSEC
 * and NSEC3, signed), and the zone's own chain never served over them; the
 * module does not make those yet, so it serves nothing there and logs
 * "not enforced ... reason signed-zone" (mxguard-check --no-mail-records
 * prints the records to put into such a zone, signed with it).
 */

#include <string.h>

#include "adapter.h"
#include "config_rules.h"
#include "no_mail_records.h"
#include "answer_rebuild.h"

// Why N takes no mail (the log's reason), or NULL: it may take mail.
static const char *no_mail_reason(const mxguard_ctx_t *ctx, const knot_dname_t *name,
                                  const mxg_node_t *node)
{
	if (mx_dname_underscored(name)) {
		return NULL;
	}
	if (ctx->no_mail != NULL && mx_name_list_match(ctx->no_mail, name)) {
		return "list";
	}
	if (node == NULL || (node->flags & (MXG_NODE_DELEG | MXG_NODE_NONAUTH))) {
		return NULL;
	}
	const mxg_rr_data_t *mx = NULL;
	for (uint16_t i = 0; i < node->rrset_count; i++) {
		uint16_t type = node->rrs[i].type;
		if (type == KNOT_RRTYPE_CNAME) {
			return NULL;
		}
		if (type == KNOT_RRTYPE_MX) {
			mx = &node->rrs[i];
		}
	}
	if (mx == NULL) {
		return ctx->implicit ? "implicit" : NULL;
	}
	return mx_rdataset_is_null_mx(&mx->rrs) ? "zone" : NULL;
}

// The node of N: the answer's own (N asked), its parent's parent... (a name
// below N that exists), or the closest encloser of one that does not.
static const mxg_node_t *node_of(knotd_qdata_t *qdata, knotd_in_state_t state,
                                 const knot_dname_t *name)
{
	const mxg_node_t *node = (state == KNOTD_IN_STATE_MISS) ? mxg_answer_encloser(qdata) :
	                         mxg_answer_node(qdata);
	while (node != NULL && node->owner != NULL &&
	       knot_dname_labels(node->owner, NULL) > knot_dname_labels(name, NULL)) {
		node = mxg_node_parent(node, qdata);
	}
	if (node == NULL || node->owner == NULL || !knot_dname_is_case_equal(node->owner, name)) {
		return NULL;
	}
	return node;
}

static bool zone_signed(knotd_qdata_t *qdata)
{
	knot_rrset_t dnskey = knotd_qdata_zone_apex_rrset(qdata, KNOT_RRTYPE_DNSKEY);
	return !knot_rrset_empty(&dnskey);
}

// A TXT RRset of one record at the query name: HIT.
static knotd_in_state_t put_txt(knotd_in_state_t state, knot_pkt_t *pkt,
                                knotd_qdata_t *qdata, knotd_mod_t *mod, const char *text,
                                const char *what, const knot_dname_t *name,
                                const char *reason)
{
	const mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	uint8_t *rdata = mxg_alloc(qdata, 256);
	size_t len = (rdata != NULL) ? mx_txt_rdata(text, rdata, 256) : 0;
	knot_rrset_t rr;
	knot_rrset_init(&rr, (knot_dname_t *)qdata->name, KNOT_RRTYPE_TXT, KNOT_CLASS_IN,
	                ctx->null_mx_ttl);
	if (len == 0 || knot_rrset_add_rdata(&rr, rdata, len, qdata->mm) != KNOT_EOK) {
		mxg_count_error(mod, qdata, "out of memory");
		return state;
	}
	uint16_t hint = (pkt->rrset_count == 0) ? KNOT_COMPR_HINT_QNAME : KNOT_COMPR_HINT_NONE;
	if (knot_pkt_put(pkt, hint, &rr, 0) != KNOT_EOK) {
		return KNOTD_IN_STATE_TRUNC;  // TC is set: the client asks over TCP
	}
	mxg_report_synthesis(mod, qdata, MX_LOG_SYNTHESIZED_TXT, what, name, reason);
	return KNOTD_IN_STATE_HIT;
}

// A no-mail-policy line: the zone's own record at OWNER lets mail through.
static void report_policy(knotd_mod_t *mod, knotd_qdata_t *qdata, const knot_dname_t *owner,
                          const char *record)
{
	const mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	if (ctx->policy.action[MX_KIND_NO_MAIL_POLICY] == MX_ACTION_OFF) {
		return;
	}
	mx_violation_t v = {
		.kind = MX_KIND_NO_MAIL_POLICY,
		.exchange = (const knot_dname_t *)"",
		.record = record,
	};
	mxg_report_violation(mod, qdata, owner, &v);
}

// The answer's TXT RRset at the query name, or -1.
static int answer_txt(const knot_pkt_t *pkt)
{
	const knot_pktsection_t *ans = &pkt->sections[KNOT_ANSWER];
	for (uint16_t i = 0; i < ans->count; i++) {
		if (pkt->rr[ans->pos + i].type == KNOT_RRTYPE_TXT) {
			return ans->pos + i;
		}
	}
	return -1;
}

// N's TXT RRset as the zone has it: its SPF record served alone (one that
// lets mail through logged), or the SPF record added to it.
static knotd_in_state_t name_txt(knotd_in_state_t state, knot_pkt_t *pkt,
                                 knotd_qdata_t *qdata, knotd_mod_t *mod,
                                 const char *reason)
{
	int pos = answer_txt(pkt);
	if (pos < 0) {
		return state;
	}
	const knot_rrset_t *rr = &pkt->rr[pos];
	unsigned spf = 0;
	bool denies = true;
	knot_rdata_t *rd = rr->rrs.rdata;
	for (uint16_t i = 0; i < rr->rrs.count; i++, rd = knot_rdataset_next(rd)) {
		if (mx_txt_kind(rd) == MX_TXT_SPF) {
			spf++;
			denies = denies && mx_spf_denies_all(rd);
		}
	}
	if (spf > 0) {
		if (spf > 1 || !denies) {
			report_policy(mod, qdata, qdata->name, "spf");
		}
		return state;
	}
	mx_replacement_t repl = { .rr_pos = pos };
	knot_rrset_init(&repl.rrset, rr->owner, rr->type, rr->rclass, rr->ttl);
	knot_rrset_init_empty(&repl.rrsig);
	uint8_t rdata[256];
	size_t len = mx_txt_rdata(MX_NO_MAIL_SPF, rdata, sizeof(rdata));
	if (knot_rdataset_copy(&repl.rrset.rrs, &rr->rrs, qdata->mm) != KNOT_EOK ||
	    knot_rrset_add_rdata(&repl.rrset, rdata, len, qdata->mm) != KNOT_EOK) {
		mxg_count_error(mod, qdata, "out of memory");
		return state;
	}
	const mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	int ret = mx_answer_rebuild(pkt, qdata->query, &repl, 1, ctx->rotate, qdata->mm);
	if (ret != KNOT_EOK) {
		mxg_count_error(mod, qdata, knot_strerror(ret));
		return state;
	}
	mxg_report_synthesis(mod, qdata, MX_LOG_SYNTHESIZED_TXT, "spf", qdata->name, reason);
	return state;
}

// _dmarc.N's TXT RRset as the zone has it: one that does not reject logged.
static void check_dmarc(const knot_pkt_t *pkt, knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	int pos = answer_txt(pkt);
	if (pos < 0) {
		return;
	}
	const knot_rrset_t *rr = &pkt->rr[pos];
	knot_rdata_t *rd = rr->rrs.rdata;
	for (uint16_t i = 0; i < rr->rrs.count; i++, rd = knot_rdataset_next(rd)) {
		if (mx_txt_kind(rd) == MX_TXT_DMARC && mx_dmarc_rejects(rd)) {
			return;
		}
	}
	report_policy(mod, qdata, qdata->name, "dmarc");
}

knotd_in_state_t mxg_no_mail_answer(knotd_in_state_t state, knot_pkt_t *pkt,
                                    knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	if (state != KNOTD_IN_STATE_HIT && state != KNOTD_IN_STATE_NODATA &&
	    state != KNOTD_IN_STATE_MISS) {
		return state;
	}
	const mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	knot_dname_storage_t qname;
	if (knot_dname_to_wire(qname, qdata->name, sizeof(qname)) <= 0) {
		return state;
	}
	knot_dname_to_lower(qname);
	const knot_dname_t *name;
	mx_no_mail_role_t role = mx_no_mail_role(qname, &name);
	unsigned want = (role == MX_NO_MAIL_NAME) ? MX_RECORD_SPF :
	                (role == MX_NO_MAIL_DMARC) ? MX_RECORD_DMARC :
	                (role == MX_NO_MAIL_NONE) ? 0 : MX_RECORD_DKIM;
	if ((ctx->no_mail_records & want) == 0) {
		return state;
	}
	// The zone has data at an attribute name: the zone's word stands.
	if (role != MX_NO_MAIL_NAME && state != KNOTD_IN_STATE_MISS &&
	    role != MX_NO_MAIL_DMARC) {
		return state;
	}
	const knot_dname_t *sname = qdata->name;
	const mxg_node_t *node = NULL;
	if (role == MX_NO_MAIL_NAME || state == KNOTD_IN_STATE_MISS) {
		node = node_of(qdata, state, name);
	} else {
		node = mxg_node_parent(mxg_answer_node(qdata), qdata);  // _dmarc.N exists
	}
	const knot_dname_t *wire_name = sname + (name - qname);
	const char *reason = no_mail_reason(ctx, name, node);
	if (reason == NULL || (role == MX_NO_MAIL_NAME && state == KNOTD_IN_STATE_MISS)) {
		return state;
	}
	uint16_t qtype = knot_pkt_qtype(qdata->query);
	bool txt = (qtype == KNOT_RRTYPE_TXT);
	if (role == MX_NO_MAIL_DMARC && state == KNOTD_IN_STATE_HIT) {
		if (txt) {
			check_dmarc(pkt, qdata, mod);
		}
		return state;
	}
	if (role == MX_NO_MAIL_NAME && state == KNOTD_IN_STATE_HIT) {
		return txt ? name_txt(state, pkt, qdata, mod, reason) : state;
	}
	// From here the module serves what the zone lacks.
	if (zone_signed(qdata)) {
		if (txt || state == KNOTD_IN_STATE_MISS) {
			mxg_report_not_enforced(mod, qdata, qdata->name, MX_ACTION_NULL_MX,
			                        "signed-zone");
		}
		return state;
	}
	switch (role) {
	case MX_NO_MAIL_NAME:
		return txt ? put_txt(state, pkt, qdata, mod, MX_NO_MAIL_SPF, "spf", wire_name,
		                     reason) : state;
	case MX_NO_MAIL_DMARC:
		if (txt) {
			return put_txt(state, pkt, qdata, mod, ctx->no_mail_dmarc, "dmarc", sname,
			               reason);
		}
		return KNOTD_IN_STATE_NODATA;
	case MX_NO_MAIL_DKIM_KEY:
		if (txt) {
			return put_txt(state, pkt, qdata, mod, MX_NO_MAIL_DKIM, "dkim", sname, reason);
		}
		return KNOTD_IN_STATE_NODATA;
	case MX_NO_MAIL_DKIM_TOP:
		return KNOTD_IN_STATE_NODATA;
	default:
		return state;
	}
}
