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
 * In a zone knotd signs, each record goes out signed by the module (as a
 * name of its own), and a name the zone lacks gets NODATA with a denial
 * record of its own name alone (RFC 4470 white lie); denial.c then serves
 * every other range of the zone's chain narrowed the same way, so that no
 * answer denies these records. Where the module cannot sign (keys kept
 * elsewhere), it serves none of them there and logs "not enforced ...
 * reason REASON" (mxguard-check --no-mail-records prints the records to put
 * into such a zone).
 */

#include <string.h>

#include "adapter.h"
#include "config_rules.h"
#include "no_mail_records.h"
#include "answer_rebuild.h"
#include "white_lies.h"

// Why N takes no mail (the log's reason), or NULL: it may take mail.
static const char *no_mail_reason(const mxguard_ctx_t *ctx, const knot_dname_t *name,
                                  const mxg_node_t *node)
{
	if (mx_dname_attribute(name)) {
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

const mxg_node_t *mxg_node_found(knotd_qdata_t *qdata, const knot_dname_t *name)
{
	const mxg_node_t *node = mxg_answer_node(qdata);
	if (node == NULL || node->owner == NULL ||
	    knot_dname_in_bailiwick(node->owner, name) < 0) {
		node = mxg_answer_encloser(qdata);
	}
	size_t labels = knot_dname_labels(name, NULL);
	while (node != NULL && node->owner != NULL &&
	       knot_dname_labels(node->owner, NULL) > labels) {
		node = mxg_node_parent(node, qdata);
	}
	if (node == NULL || node->owner == NULL || !knot_dname_is_case_equal(node->owner, name)) {
		return NULL;
	}
	return node;
}

unsigned mxg_no_mail_below(knotd_mod_t *mod, knotd_qdata_t *qdata, const knot_dname_t *name)
{
	const mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	const mxg_node_t *node = mxg_node_found(qdata, name);
	if (node == NULL || no_mail_reason(ctx, name, node) == NULL) {
		return 0;
	}
	return ctx->no_mail_records & (MX_RECORD_DMARC | MX_RECORD_DKIM);
}

static bool zone_signed(knotd_qdata_t *qdata)
{
	knot_rrset_t dnskey = knotd_qdata_zone_apex_rrset(qdata, KNOT_RRTYPE_DNSKEY);
	return !knot_rrset_empty(&dnskey);
}

// The signature of RR where the answer is signed (an empty one where not);
// false: it cannot be made (reported).
static bool sign_for(knotd_qdata_t *qdata, knotd_mod_t *mod, const knot_rrset_t *rr,
                     knot_rrset_t *rrsig)
{
	knot_rrset_init_empty(rrsig);
	if (!knot_pkt_has_dnssec(qdata->query) || !zone_signed(qdata)) {
		return true;
	}
	const char *reason = NULL;
	if (!mxg_sign(mod, qdata, rr, rrsig, &reason)) {
		mxg_report_not_enforced(mod, qdata, rr->owner, MX_ACTION_NULL_MX, reason);
		return false;
	}
	rrsig->owner = rr->owner;
	return true;
}

// Puts RR and its signature; the state of an answer that did not fit.
static bool put_signed(knot_pkt_t *pkt, uint16_t hint, const knot_rrset_t *rr,
                       const knot_rrset_t *rrsig, uint16_t flags)
{
	if (knot_pkt_put(pkt, hint, rr, flags) != KNOT_EOK) {
		return false;
	}
	if (knot_rrset_empty(rrsig)) {
		return true;
	}
	uint16_t at = pkt->rr_info[pkt->rrset_count - 1].compress_ptr[KNOT_COMPR_HINT_OWNER];
	return knot_pkt_put(pkt, at, rrsig, KNOT_PF_ORIGTTL) == KNOT_EOK;
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
	knot_rrset_t rrsig;
	if (!sign_for(qdata, mod, &rr, &rrsig)) {
		return state;
	}
	uint16_t hint = (pkt->rrset_count == 0) ? KNOT_COMPR_HINT_QNAME : KNOT_COMPR_HINT_NONE;
	if (!put_signed(pkt, hint, &rr, &rrsig, 0)) {
		return KNOTD_IN_STATE_TRUNC;  // TC is set: the client asks over TCP
	}
	mxg_report_synthesis(mod, qdata, MX_LOG_SYNTHESIZED_TXT, what, name, reason);
	return KNOTD_IN_STATE_HIT;
}

// The zone's SOA as a negative answer carries it (TTL at most its minimum),
// with its signature where the answer is signed.
static bool put_soa(knot_pkt_t *pkt, knotd_qdata_t *qdata, uint32_t *neg_ttl)
{
	knot_rrset_t soa = knotd_qdata_zone_apex_rrset(qdata, KNOT_RRTYPE_SOA);
	if (knot_rrset_empty(&soa)) {
		return false;
	}
	uint32_t min = knot_soa_minimum(soa.rrs.rdata);
	*neg_ttl = (min < soa.ttl) ? min : soa.ttl;
	knot_rrset_t sigs = knotd_qdata_zone_apex_rrset(qdata, KNOT_RRTYPE_RRSIG);
	knot_rrset_t rrsig;
	knot_rrset_init(&rrsig, soa.owner, KNOT_RRTYPE_RRSIG, KNOT_CLASS_IN, *neg_ttl);
	knot_rdata_t *rd = sigs.rrs.rdata;
	for (uint16_t i = 0; i < sigs.rrs.count; i++, rd = knot_rdataset_next(rd)) {
		if (knot_rrsig_type_covered(rd) == KNOT_RRTYPE_SOA &&
		    knot_rdataset_add(&rrsig.rrs, rd, qdata->mm) != KNOT_EOK) {
			return false;
		}
	}
	return knot_pkt_begin(pkt, KNOT_AUTHORITY) == KNOT_EOK &&
	       put_signed(pkt, KNOT_COMPR_HINT_NONE, &soa, &rrsig,
	                  KNOT_PF_NOTRUNC | KNOT_PF_SOAMINTTL);
}

// NODATA at a name the zone lacks, in a signed answer: the SOA, and a
// denial record of the name alone (the types it holds), both signed.
static knotd_in_state_t signed_nodata(knotd_in_state_t state, knot_pkt_t *pkt,
                                      knotd_qdata_t *qdata, knotd_mod_t *mod, bool txt)
{
	uint32_t ttl = 0;
	knot_dname_storage_t name, after;
	knot_dname_to_wire(name, qdata->name, sizeof(name));
	knot_dname_to_lower(name);
	knot_rrset_t nsec3param = knotd_qdata_zone_apex_rrset(qdata, KNOT_RRTYPE_NSEC3PARAM);
	knot_rrset_t denial, rrsig;
	int ret = KNOT_EOK;
	if (!knot_rrset_empty(&nsec3param)) {
		ret = mx_nsec3_of_name(nsec3param.rrs.rdata, name, knotd_qdata_zone_name(qdata),
		                       txt ? MX_BITMAP_TXT : NULL, txt ? sizeof(MX_BITMAP_TXT) : 0,
		                       0, &denial, qdata->mm);
	} else {
		static const uint8_t none[] = { 0, 6, 0, 0, 0, 0, 0, 0x03 };
		ret = mx_dname_after(name, after, sizeof(after));
		if (ret == KNOT_EOK) {
			ret = mx_nsec_make(name, after, txt ? MX_BITMAP_TXT_NSEC : none,
			                   sizeof(none), 0, &denial, qdata->mm);
		}
	}
	if (ret != KNOT_EOK) {
		mxg_count_error(mod, qdata, knot_strerror(ret));
		return state;
	}
	size_t before = pkt->size;
	uint16_t count = pkt->rrset_count;
	if (!put_soa(pkt, qdata, &ttl)) {
		return (pkt->size == before && pkt->rrset_count == count) ? state :
		       KNOTD_IN_STATE_TRUNC;
	}
	denial.ttl = ttl;
	if (!sign_for(qdata, mod, &denial, &rrsig)) {
		return KNOTD_IN_STATE_TRUNC;  // never NODATA without its proof
	}
	if (!put_signed(pkt, KNOT_COMPR_HINT_NONE, &denial, &rrsig, 0)) {
		return KNOTD_IN_STATE_TRUNC;
	}
	return KNOTD_IN_STATE_HIT;  // knotd adds nothing more to a HIT
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
	if (!sign_for(qdata, mod, &repl.rrset, &repl.rrsig)) {
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

// Whether the first or the second label starts with '_': the names whose
// role (mx_no_mail_role) is an attribute's, not a name's.
static bool attribute_name(const knot_dname_t *name)
{
	if (name[0] == 0) {
		return false;
	}
	const uint8_t *second = name + name[0] + 1;
	return name[1] == '_' || (second[0] != 0 && second[1] == '_');
}

knotd_in_state_t mxg_no_mail_answer(knotd_in_state_t state, knot_pkt_t *pkt,
                                    knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	if (state != KNOTD_IN_STATE_HIT && state != KNOTD_IN_STATE_NODATA &&
	    state != KNOTD_IN_STATE_MISS) {
		return state;
	}
	uint16_t qtype = knot_pkt_qtype(qdata->query);
	bool txt = (qtype == KNOT_RRTYPE_TXT);
	// Other types matter only at _dmarc.N, _domainkey.N and
	// SELECTOR._domainkey.N: most queries end here, before any lookup.
	if (!txt && !attribute_name(qdata->name)) {
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
	bool signs = zone_signed(qdata);
	if (signs && !ctx->can_sign) {
		if (txt || state == KNOTD_IN_STATE_MISS) {
			mxg_report_not_enforced(mod, qdata, qdata->name, MX_ACTION_NULL_MX,
			                        ctx->sign_off_reason != NULL ? ctx->sign_off_reason :
			                        "no-signing-keys");
		}
		return state;
	}
	// A _dmarc.N of the zone's own without TXT: its denial record says so.
	if (signs && role == MX_NO_MAIL_DMARC && state != KNOTD_IN_STATE_MISS) {
		return state;
	}
	bool proofs = signs && knot_pkt_has_dnssec(qdata->query);
	switch (role) {
	case MX_NO_MAIL_NAME:
		return txt ? put_txt(state, pkt, qdata, mod, MX_NO_MAIL_SPF, "spf", wire_name,
		                     reason) : state;
	case MX_NO_MAIL_DMARC:
		if (txt) {
			return put_txt(state, pkt, qdata, mod, ctx->no_mail_dmarc, "dmarc", sname,
			               reason);
		}
		return proofs ? signed_nodata(state, pkt, qdata, mod, true) : KNOTD_IN_STATE_NODATA;
	case MX_NO_MAIL_DKIM_KEY:
		if (txt) {
			return put_txt(state, pkt, qdata, mod, MX_NO_MAIL_DKIM, "dkim", sname, reason);
		}
		return proofs ? signed_nodata(state, pkt, qdata, mod, true) : KNOTD_IN_STATE_NODATA;
	case MX_NO_MAIL_DKIM_TOP:
		return proofs ? signed_nodata(state, pkt, qdata, mod, false) : KNOTD_IN_STATE_NODATA;
	default:
		return state;
	}
}
