/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>
#include <libknot/libknot.h>

#include "answer_scan.h"

static void *mm_get(knot_mm_t *mm, size_t size)
{
	return mm->alloc(mm->ctx, size);
}

bool mx_wire_owner(const knot_pkt_t *pkt, uint16_t rr_pos, knot_dname_t *out)
{
	uint16_t pos = pkt->rr_info[rr_pos].pos;
	if (pos >= pkt->size) {
		return false;
	}
	return knot_dname_unpack(out, pkt->wire + pos, KNOT_DNAME_MAXLEN, pkt->wire) > 0;
}

static void collect(const mx_violation_t *v, void *data)
{
	mx_scan_t *scan = data;
	if (scan->violation_count < scan->violation_cap) {
		scan->violations[scan->violation_count++] = *v;
	}
}

// A no-mail name with MX records: the list wins, the RRset becomes a null MX.
static void add_override(mx_scan_t *scan, const mx_scan_params_t *p,
                         const knot_dname_t *owner, const knot_rdataset_t *rrs)
{
	if (p->no_mail == NULL || !mx_rdata_ok(rrs->rdata) ||
	    mx_rdataset_is_null_mx(rrs) || !mx_name_list_match(p->no_mail, owner)) {
		return;
	}
	mx_violation_t v = {
		.kind = MX_KIND_NULL_MX_OVERRIDE,
		.preference = knot_wire_read_u16(rrs->rdata->data),
		.exchange = knot_mx_name(rrs->rdata),
	};
	collect(&v, scan);
}

// The RRSIG of the answer that covers the MX RRset at this owner.
static void find_rrsig(const knot_pkt_t *pkt, mx_scan_rrset_t *job, knot_dname_t *name)
{
	const knot_pktsection_t *answer = knot_pkt_section(pkt, KNOT_ANSWER);
	job->rrsig_pos = -1;
	for (uint16_t i = 0; i < answer->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(answer, i);
		if (mx_rrsig_covers(rr, KNOT_RRTYPE_MX) && rr->rrs.rdata->len >= 4 &&
		    mx_wire_owner(pkt, answer->pos + i, name) &&
		    knot_dname_is_case_equal(name, job->owner)) {
			job->rrsig_pos = answer->pos + i;
			job->rrsig_labels = knot_rrsig_labels(rr->rrs.rdata);
			return;
		}
	}
}

static int scan_rrset(const knot_pkt_t *pkt, const mx_scan_params_t *p,
                      mx_scan_t *scan, mx_scan_rrset_t *job, uint16_t rr_pos)
{
	const knot_rrset_t *rr = &pkt->rr[rr_pos];
	memset(job, 0, sizeof(*job));
	job->rr_pos = rr_pos;
	job->owner = mm_get(p->mm, KNOT_DNAME_MAXLEN);
	mx_action_t *record = mm_get(p->mm, rr->rrs.count * sizeof(*record));
	knot_dname_t *name = mm_get(p->mm, KNOT_DNAME_MAXLEN);
	if (job->owner == NULL || record == NULL || name == NULL) {
		return KNOT_ENOMEM;
	}
	if (!mx_wire_owner(pkt, rr_pos, job->owner)) {
		return KNOT_EMALF;
	}

	mx_rrset_view_t view = {
		.zone = p->zone,
		.owner = job->owner,
		.rrs = &rr->rrs,
		.lookup = p->lookup,
		.lookup_ctx = p->lookup_ctx,
	};
	if (p->lookup == NULL && p->glue_of != NULL &&
	    !p->glue_of(rr, (mx_glue_t **)&view.glue, &view.glue_count,
	                &view.glue_complete, p->glue_ctx)) {
		return KNOT_ENOMEM;
	}

	job->first = scan->violation_count;
	mx_check_rrset(&view, p->policy, collect, scan);
	add_override(scan, p, job->owner, &rr->rrs);
	job->count = scan->violation_count - job->first;

	mx_plan_init(&job->plan, &rr->rrs, record);
	for (unsigned v = job->first; v < scan->violation_count; v++) {
		mx_kind_t kind = scan->violations[v].kind;
		mx_plan_add(&job->plan, &scan->violations[v], p->policy->action[kind]);
	}
	find_rrsig(pkt, job, name);
	return KNOT_EOK;
}

int mx_answer_scan(const knot_pkt_t *pkt, const mx_scan_params_t *params,
                   mx_scan_t *scan)
{
	memset(scan, 0, sizeof(*scan));
	const knot_pktsection_t *answer = knot_pkt_section(pkt, KNOT_ANSWER);
	unsigned records = 0;
	for (uint16_t i = 0; i < answer->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(answer, i);
		if (rr->type == KNOT_RRTYPE_MX) {
			scan->count++;
			records += rr->rrs.count;
		}
	}
	if (scan->count == 0) {
		return KNOT_EOK;
	}

	// At most one violation of each kind per record, one override per RRset.
	scan->violation_cap = records * MX_KIND_COUNT + scan->count;
	scan->violations = mm_get(params->mm, scan->violation_cap * sizeof(*scan->violations));
	scan->rrsets = mm_get(params->mm, scan->count * sizeof(*scan->rrsets));
	if (scan->violations == NULL || scan->rrsets == NULL) {
		return KNOT_ENOMEM;
	}

	mx_scan_rrset_t *job = scan->rrsets;
	for (uint16_t i = 0; i < answer->count; i++) {
		if (knot_pkt_rr(answer, i)->type != KNOT_RRTYPE_MX) {
			continue;
		}
		int ret = scan_rrset(pkt, params, scan, job++, answer->pos + i);
		if (ret != KNOT_EOK) {
			return ret;
		}
	}
	return KNOT_EOK;
}

bool mx_scan_changes(const mx_scan_t *scan)
{
	for (unsigned i = 0; i < scan->count; i++) {
		if (mx_plan_changes(&scan->rrsets[i].plan)) {
			return true;
		}
	}
	return false;
}
