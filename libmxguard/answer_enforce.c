/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>
#include <libknot/libknot.h>

#include "answer_enforce.h"
#include "mx_check.h"
#include "reasons.h"

static void *mm_get(knot_mm_t *mm, size_t size)
{
	return mm->alloc(mm->ctx, size);
}

knot_dname_t *mx_signer_owner(const knot_dname_t *served, uint8_t labels, knot_mm_t *mm)
{
	knot_dname_t *owner = knot_dname_copy(served, mm);
	if (owner == NULL) {
		return NULL;
	}
	knot_dname_to_lower(owner);
	size_t count = knot_dname_labels(owner, NULL);
	if (labels >= count) {
		return owner;
	}
	const knot_dname_t *suffix = owner;
	for (size_t i = labels; i < count; i++) {
		suffix = mx_dname_parent(suffix);
	}
	size_t size = knot_dname_size(suffix);
	knot_dname_t *wild = mm_get(mm, size + 2);
	if (wild == NULL) {
		return NULL;
	}
	wild[0] = 1;
	wild[1] = '*';
	memcpy(wild + 2, suffix, size);
	return wild;
}

// The replacement of one RRset. KNOT_EOK; KNOT_ENOMEM; or KNOT_EDENIED with
// *reason when it is signed and cannot be signed again.
static int build_replacement(const knot_pkt_t *pkt, const mx_scan_rrset_t *job,
                             const mx_enforce_params_t *p, mx_replacement_t *repl,
                             const char **reason)
{
	const knot_rrset_t *old = &pkt->rr[job->rr_pos];
	memset(repl, 0, sizeof(*repl));
	repl->rr_pos = job->rr_pos;
	knot_rrset_init(&repl->rrset, old->owner, old->type, old->rclass, old->ttl);
	knot_rrset_init_empty(&repl->rrsig);
	if (mx_plan_build(&job->plan, &repl->rrset.rrs, p->mm) != KNOT_EOK) {
		return KNOT_ENOMEM;
	}
	// Without the caller's list, no glue: never one of a removed exchange.
	if (p->remap != NULL && !p->remap(old, &job->plan, &repl->rrset, p->ctx)) {
		return KNOT_ENOMEM;
	}
	if (job->rrsig_pos < 0) {
		return KNOT_EOK;
	}

	// A changed RRset never goes out with the signature of the original.
	knot_rrset_t to_sign = repl->rrset;
	to_sign.owner = mx_signer_owner(job->owner, job->rrsig_labels, p->mm);
	if (to_sign.owner == NULL) {
		return KNOT_ENOMEM;
	}
	if (p->sign != NULL && p->sign(&to_sign, &repl->rrsig, reason, p->ctx)) {
		repl->rrsig.owner = job->owner;
		return KNOT_EOK;
	}
	if (p->unsigned_allow) {
		knot_rrset_init_empty(&repl->rrsig);
		return KNOT_EOK;
	}
	if (*reason == NULL) {
		*reason = mx_reason_name(MX_REASON_SIGNING_FAILED);
	}
	return KNOT_EDENIED;
}

int mx_answer_enforce(knot_pkt_t *pkt, const knot_pkt_t *query, const mx_scan_t *scan,
                      const mx_enforce_params_t *p, mx_enforce_result_t *res)
{
	unsigned count = scan->count;
	// One block: the replacements, the reasons, the flags.
	mx_replacement_t *repl = mm_get(p->mm, (count + 1) * (sizeof(*repl) +
	                                sizeof(*res->skip_reason) + sizeof(*res->enforced)));
	if (repl == NULL) {
		res->enforced = NULL;
		res->skip_reason = NULL;
		return KNOT_ENOMEM;
	}
	res->skip_reason = (const char **)(repl + count + 1);
	res->enforced = (bool *)(res->skip_reason + count + 1);
	memset(res->enforced, 0, count * sizeof(*res->enforced));
	memset(res->skip_reason, 0, count * sizeof(*res->skip_reason));

	size_t n = 0;
	for (unsigned i = 0; i < count; i++) {
		const mx_scan_rrset_t *job = &scan->rrsets[i];
		if (!mx_plan_changes(&job->plan)) {
			continue;
		}
		const char *reason = NULL;
		int ret = build_replacement(pkt, job, p, &repl[n], &reason);
		if (ret == KNOT_EOK) {
			res->enforced[i] = true;
			n++;
		} else if (ret == KNOT_EDENIED) {
			// Signed and not signable: the original, which validates.
			res->skip_reason[i] = reason;
		} else {
			return ret;
		}
	}
	if (n == 0) {
		return KNOT_EOK;
	}
	int ret = mx_answer_rebuild(pkt, query, repl, n, p->rotate, p->mm);
	if (ret != KNOT_EOK) {
		memset(res->enforced, 0, count * sizeof(*res->enforced));
	}
	return ret;
}
