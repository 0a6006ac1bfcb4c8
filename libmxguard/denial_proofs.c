/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>
#include <libknot/libknot.h>

#include "answer_rebuild.h"
#include "denial_run.h"
#include "white_lies.h"

int mx_denial_complete(knot_pkt_t *pkt, const knot_pkt_t *query,
                       const mx_denial_params_t *p, mx_denial_outcome_t *out)
{
	memset(out, 0, sizeof(*out));
	uint16_t first, end;
	if (pkt == NULL || query == NULL || p == NULL || p->mm == NULL ||
	    !dr_span(pkt, query, &first, &end)) {
		return KNOT_EOK;
	}
	const knot_pktsection_t *auth = &pkt->sections[KNOT_AUTHORITY];
	const knot_pktsection_t *ans = &pkt->sections[KNOT_ANSWER];
	denial_run_t *run = dr_alloc(p->mm, sizeof(*run));
	mx_replacement_t *repl = dr_alloc(p->mm, (end - first) * sizeof(*repl));
	owner_info_t *o = dr_alloc(p->mm, sizeof(*o));
	if (run == NULL || repl == NULL || o == NULL || !dr_run_init(run, p)) {
		return KNOT_ENOMEM;
	}

	size_t n = 0;
	if (p->narrow && !p->own_name_null_mx && dr_narrow_needed(run, pkt, first, end)) {
		int ret = dr_narrow(run, pkt, first, end, repl, &n, out);
		if (ret != KNOT_EOK) {
			return ret;
		}
		return (n == 0) ? KNOT_EOK :
		       mx_answer_rebuild_or_cut(pkt, query, repl, n, p->rotate, p->mm);
	}
	bool no_mail_qname = p->implicit || run->cand[0].no_mail;
	for (uint16_t i = first; i < end; i++) {
		const knot_rrset_t *rr = &pkt->rr[i];
		// No NSEC of its own to list MX: a resolver may infer "no MX" there.
		out->ent = out->ent || (no_mail_qname && i >= auth->pos && dr_ent_proof(run, rr));
		if (!dr_is_denial(rr) || (i < auth->pos && i >= ans->pos + ans->count)) {
			continue;
		}
		mx_replacement_t *r = &repl[n];
		memset(r, 0, sizeof(*r));
		r->rr_pos = i;
		knot_rrset_init(&r->rrset, rr->owner, rr->type, rr->rclass, rr->ttl);
		knot_rrset_init_empty(&r->rrsig);
		if (p->own_name_null_mx && i >= auth->pos) {
			// No proof that a name with a record of its own does not exist:
			// the record and its signature go.
			n++;
			continue;
		}
		if (!dr_owner_info(run, rr, o)) {
			continue;
		}
		int ret = dr_completed_rrs(run, rr, o, &r->rrset.rrs);
		if (ret != KNOT_EOK) {
			return ret;
		}
		// Without a new signature the record stays as it was.
		if (r->rrset.rrs.rdata != rr->rrs.rdata &&
		    dr_sign_like(pkt, i, p, &r->rrset, &r->rrsig, out)) {
			n++;
		}
	}
	if (n == 0) {
		return KNOT_EOK;
	}
	return mx_answer_rebuild_or_cut(pkt, query, repl, n, p->rotate, p->mm);
}

int mx_denial_complete_cut(knot_pkt_t *pkt, const knot_pkt_t *query,
                           const mx_denial_params_t *p, mx_denial_outcome_t *out)
{
	memset(out, 0, sizeof(*out));
	if (pkt == NULL || pkt->rrset_count == 0) {
		return KNOT_EOK;
	}
	// knotd cut the proofs before writing any glue: the additional section
	// holds its OPT record alone.
	const knot_pktsection_t *add = &pkt->sections[KNOT_ADDITIONAL];
	uint16_t last = pkt->rrset_count - 1;
	bool opt = add->count == 1 && add->pos == last && pkt->rr[last].type == KNOT_RRTYPE_OPT;
	if (add->count > 1 || (add->count == 1 && !opt) || pkt->rr_info[last].pos > pkt->size) {
		return KNOT_ENOTSUP;
	}
	knot_rrset_t opt_rr;
	uint16_t opt_flags = 0;
	size_t opt_size = 0;
	if (opt) {
		opt_rr = pkt->rr[last];
		opt_flags = pkt->rr_info[last].flags & ~KNOT_PF_FREE;
		opt_size = pkt->size - pkt->rr_info[last].pos;
		pkt->size -= opt_size;
		pkt->rrset_count--;
		pkt->sections[KNOT_ADDITIONAL].count = 0;
		knot_wire_set_arcount(pkt->wire, 0);
		pkt->reserved += opt_size;
	}
	int ret = mx_denial_complete(pkt, query, p, out);
	if (opt) {
		pkt->reserved -= opt_size;
		if (knot_pkt_begin(pkt, KNOT_ADDITIONAL) != KNOT_EOK ||
		    knot_pkt_put(pkt, KNOT_COMPR_HINT_NONE, &opt_rr, opt_flags) != KNOT_EOK) {
			return KNOT_ERROR;
		}
	}
	return ret;
}

bool mx_denial_leaks(const knot_pkt_t *pkt, const mx_denial_params_t *p)
{
	const knot_pktsection_t *ans = &pkt->sections[KNOT_ANSWER];
	const knot_pktsection_t *auth = &pkt->sections[KNOT_AUTHORITY];
	uint16_t end = auth->pos + auth->count;
	bool any = false;
	for (uint16_t i = ans->pos; i < end && i < pkt->rrset_count && !any; i++) {
		any = dr_is_denial(&pkt->rr[i]);
	}
	if (!any) {
		return false;
	}
	denial_run_t *run = dr_alloc(p->mm, sizeof(*run));
	if (run == NULL || !dr_run_init(run, p)) {
		return true;  // not known: it may
	}
	// Records the zone lacks are served: a range of its own may deny one.
	if (p->narrow && dr_narrow_needed(run, pkt, ans->pos, (end < pkt->rrset_count) ? end : pkt->rrset_count)) {
		return true;
	}
	for (uint16_t i = ans->pos; i < end && i < pkt->rrset_count; i++) {
		const knot_rrset_t *rr = &pkt->rr[i];
		owner_info_t o;
		if (dr_is_denial(rr) && dr_owner_info(run, rr, &o) &&
		    (dr_needs_mx(&o) || dr_needs_txt(run, &o))) {
			return true;
		}
	}
	return false;
}
