/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Denial of existence where the module serves records the zone lacks (the
 * SPF, DMARC and DKIM records of no-mail names in a signed zone). No range
 * of the zone's own chain goes out: a resolver that reuses cached ranges
 * (RFC 8198) would deny the served records without asking. What an answer's
 * denial records proved is proved again by white lies (RFC 4470):
 *   - the record of a name that exists keeps its owner and types, and its
 *     next name becomes the name right after its own (NSEC3: but for the
 *     ancestors above the closest encloser, whose records knotd gave only
 *     for their ranges: an NXDOMAIN proof stays three records);
 *   - an empty non-terminal query name gets a record of its own (MX and TXT
 *     where it is a no-mail name);
 *   - a name that does not exist (the next closer name) and the wildcard of
 *     the closest encloser are each covered by a range that holds nothing
 *     else (NSEC: the name and the names below it; NSEC3: its hash).
 * The closest encloser counts the names served below a no-mail name N
 * (_dmarc.N, _domainkey.N, SELECTOR._domainkey.N): an NXDOMAIN below one of
 * them is proved at it, not at N. Only answers whose ranges may meet a
 * served name are narrowed (dr_narrow_needed): an NSEC range where N is its
 * owner or an ancestor of its owner or next name, any NSEC3 range (a
 * selector's hash can fall anywhere).
 */

#include <string.h>
#include <libknot/libknot.h>

#include "config_rules.h"
#include "denial_run.h"
#include "mx_check.h"
#include "no_mail_records.h"
#include "white_lies.h"

#define PROOFS_MAX (2 * (1 + MX_REPLACEMENT_MORE))
#define PROOF_DROPPED (-2)

// The records that take the place of the span's.
typedef struct {
	knot_rrset_t rr[PROOFS_MAX];
	int from[PROOFS_MAX];  // the span's record it stands in for, -1 (any
	                       // place), or PROOF_DROPPED
	size_t count;
} proofs_t;

static knot_rrset_t *proof_add(proofs_t *pr, int from)
{
	if (pr->count >= PROOFS_MAX) {
		return NULL;
	}
	pr->from[pr->count] = from;
	return &pr->rr[pr->count++];
}

// The ancestor of the query name with \a labels labels (lower case).
static const knot_dname_t *ancestor(const denial_run_t *run, size_t labels)
{
	const knot_dname_t *name = run->qname;
	for (size_t l = knot_dname_labels(name, NULL); l > labels; l--) {
		name = mx_dname_parent(name);
	}
	return name;
}

static bool label_is(const knot_dname_t *name, const char *label)
{
	size_t len = strlen(label);
	return name[0] == len && memcmp(name + 1, label, len) == 0;
}

// The labels of the closest encloser once the names served below a no-mail
// name count; *served: it is one of them. KNOT_EDENIED: the query name is
// one (the module serves it; no range may deny it).
static int served_encloser(const denial_run_t *run, size_t ce_labels, size_t *out,
                           bool *served)
{
	*served = false;
	*out = ce_labels;
	size_t q_labels = knot_dname_labels(run->qname, NULL);
	if (run->p->kit_below == NULL || q_labels <= ce_labels) {
		return KNOT_EOK;
	}
	unsigned kit = run->p->kit_below(ancestor(run, ce_labels), run->p->ctx);
	const knot_dname_t *child = ancestor(run, ce_labels + 1);
	size_t depth = 0;
	if ((kit & MX_RECORD_DMARC) && label_is(child, "_dmarc")) {
		depth = 1;
	} else if ((kit & MX_RECORD_DKIM) && label_is(child, "_domainkey")) {
		depth = (q_labels > ce_labels + 1) ? 2 : 1;
	}
	if (depth == 0) {
		return KNOT_EOK;
	}
	if (q_labels == ce_labels + depth) {
		return KNOT_EDENIED;
	}
	*served = true;
	*out = ce_labels + depth;
	return KNOT_EOK;
}

// The NSEC3 types of a served name: TXT at _dmarc.N and the selectors,
// none at _domainkey.N.
static const uint8_t *served_types(const knot_dname_t *name, size_t *len)
{
	if (label_is(name, "_domainkey")) {
		*len = 0;
		return NULL;
	}
	*len = sizeof(MX_BITMAP_TXT);
	return MX_BITMAP_TXT;
}

// NSEC: a range over \a name and every name below it.
static int nsec_cover(const denial_run_t *run, const knot_dname_t *name, uint32_t ttl,
                      proofs_t *pr)
{
	knot_dname_storage_t before, after;
	knot_rrset_t *rr = proof_add(pr, -1);
	int ret = (rr == NULL) ? KNOT_ESPACE : mx_dname_before(name, before, sizeof(before));
	if (ret == KNOT_EOK) {
		ret = mx_dname_after_all(name, after, sizeof(after));
	}
	return (ret != KNOT_EOK) ? ret :
	       mx_nsec_make(before, after, NULL, 0, ttl, rr, run->p->mm);
}

// The query name, an empty non-terminal: a record of its own.
static int nsec_ent(const denial_run_t *run, uint32_t ttl, int from, proofs_t *pr)
{
	uint8_t types[MX_BITMAP_MAXLEN], more[MX_BITMAP_MAXLEN];
	size_t len = 8;
	memcpy(types, (const uint8_t []){ 0, 6, 0, 0, 0, 0, 0, 0x03 }, len);
	bool no_mail = !mx_dname_attribute(run->qname) &&
	               (run->p->implicit || run->cand[0].no_mail);
	if (no_mail && mx_bitmap_add(types, len, KNOT_RRTYPE_MX, more, sizeof(more), &len) ==
	    KNOT_EOK) {
		memcpy(types, more, len);
		if (run->p->spf &&
		    mx_bitmap_add(types, len, KNOT_RRTYPE_TXT, more, sizeof(more), &len) == KNOT_EOK) {
			memcpy(types, more, len);
		}
	}
	knot_dname_storage_t after;
	knot_rrset_t *rr = proof_add(pr, from);
	int ret = (rr == NULL) ? KNOT_ESPACE : mx_dname_after(run->qname, after, sizeof(after));
	return (ret != KNOT_EOK) ? ret :
	       mx_nsec_make(run->qname, after, types, len, ttl, rr, run->p->mm);
}

// A record of a name that exists, its next name the one right after it.
static int own_only(denial_run_t *run, const knot_rrset_t *rr, owner_info_t *o, int from,
                    proofs_t *pr)
{
	knot_rdataset_t rrs;
	int ret = dr_completed_rrs(run, rr, o, &rrs);
	const uint8_t *bitmap;
	size_t len;
	if (ret == KNOT_EOK) {
		ret = mx_denial_bitmap(rr->type, rrs.rdata, &bitmap, &len);
	}
	knot_rrset_t *out = proof_add(pr, from);
	if (ret != KNOT_EOK || out == NULL) {
		return (ret != KNOT_EOK) ? ret : KNOT_ESPACE;
	}
	// Narrow already (a white lie of its own): as it is, completed.
	if (mx_denial_is_narrow(rr)) {
		*out = *rr;
		out->rrs = rrs;
		return KNOT_EOK;
	}
	if (rr->type == KNOT_RRTYPE_NSEC3) {
		knot_rrset_t completed = *rr;
		completed.rrs = rrs;
		return mx_nsec3_match_only(&completed, bitmap, len, out, run->p->mm);
	}
	knot_dname_storage_t after;
	ret = mx_dname_after(o->owner, after, sizeof(after));
	return (ret != KNOT_EOK) ? ret :
	       mx_nsec_make(rr->owner, after, bitmap, len, rr->ttl, out, run->p->mm);
}

static bool covers_a_candidate(const denial_run_t *run, const knot_rrset_t *rr)
{
	for (size_t i = 0; i < run->cand_count; i++) {
		const candidate_t *c = &run->cand[i];
		if (rr->type == KNOT_RRTYPE_NSEC ? mx_nsec_covers(rr, c->name) :
		    (c->hash_len > 0 && mx_nsec3_covers(rr, c->hash, c->hash_len))) {
			return true;
		}
	}
	return false;
}

static int narrow_nsec(denial_run_t *run, const knot_pkt_t *pkt, uint16_t first,
                       uint16_t end, owner_info_t *o, proofs_t *pr)
{
	size_t q_labels = knot_dname_labels(run->qname, NULL);
	const knot_rrset_t *cover = NULL;
	size_t ce_labels = 0;
	int ret = KNOT_EOK;
	for (uint16_t i = first; i < end && ret == KNOT_EOK; i++) {
		const knot_rrset_t *rr = &pkt->rr[i];
		if (rr->type != KNOT_RRTYPE_NSEC) {
			continue;
		}
		if (!dr_owner_info(run, rr, o)) {
			return KNOT_EMALF;
		}
		uint8_t next[KNOT_DNAME_MAXLEN];
		if (knot_dname_wire_check(rr->rrs.rdata->data,
		                          rr->rrs.rdata->data + rr->rrs.rdata->len, NULL) <= 0 ||
		    knot_dname_to_wire(next, rr->rrs.rdata->data, sizeof(next)) <= 0) {
			return KNOT_EMALF;
		}
		knot_dname_to_lower(next);
		bool ent = knot_dname_in_bailiwick(next, run->qname) > 0;
		if (!ent && cover == NULL && mx_nsec_covers(rr, run->qname)) {
			cover = rr;
			size_t common = knot_dname_matched_labels(run->qname, o->owner);
			size_t with_next = knot_dname_matched_labels(run->qname, next);
			ce_labels = (with_next > common) ? with_next : common;
		}
		if (knot_dname_is_equal(o->owner, run->qname) ||
		    (knot_dname_is_wildcard(o->owner) && dr_wildcard_above_qname(run, o->owner))) {
			ret = own_only(run, rr, o, i, pr);
		} else if (ent) {
			ret = nsec_ent(run, rr->ttl, i, pr);
		} else if (!covers_a_candidate(run, rr)) {
			ret = own_only(run, rr, o, i, pr);
		}
	}
	if (ret != KNOT_EOK || cover == NULL || ce_labels >= q_labels) {
		return ret;
	}
	bool served;
	size_t ce;
	ret = served_encloser(run, ce_labels, &ce, &served);
	if (ret != KNOT_EOK) {
		return ret;
	}
	ret = nsec_cover(run, ancestor(run, ce + 1), cover->ttl, pr);
	knot_dname_t *wild = dr_wildcard_of(run->p->mm, ancestor(run, ce));
	if (ret != KNOT_EOK || wild == NULL) {
		return (ret != KNOT_EOK) ? ret : KNOT_ENOMEM;
	}
	// The wildcard where knotd proved there is none (no name is served below
	// the names the module serves).
	bool wild_denied = served;
	for (uint16_t i = first; i < end && !wild_denied; i++) {
		wild_denied = pkt->rr[i].type == KNOT_RRTYPE_NSEC && mx_nsec_covers(&pkt->rr[i], wild);
	}
	return wild_denied ? nsec_cover(run, wild, cover->ttl, pr) : KNOT_EOK;
}

static const candidate_t *candidate_named(const denial_run_t *run, const knot_dname_t *name)
{
	for (size_t i = 0; i < run->cand_count; i++) {
		if (knot_dname_is_equal(run->cand[i].name, name)) {
			return &run->cand[i];
		}
	}
	return NULL;
}

// NSEC3: the record of the span that covers a hash (its flags: opt-out), or
// the first one.
static const knot_rrset_t *nsec3_model(const knot_pkt_t *pkt, uint16_t first, uint16_t end,
                                       const candidate_t *c)
{
	const knot_rrset_t *model = NULL;
	for (uint16_t i = first; i < end; i++) {
		const knot_rrset_t *rr = &pkt->rr[i];
		if (rr->type != KNOT_RRTYPE_NSEC3) {
			continue;
		}
		if (mx_nsec3_covers(rr, c->hash, c->hash_len)) {
			return rr;
		}
		model = (model == NULL) ? rr : model;
	}
	return model;
}

static int nsec3_cover(const denial_run_t *run, const knot_pkt_t *pkt, uint16_t first,
                       uint16_t end, const candidate_t *c, proofs_t *pr)
{
	const knot_rrset_t *model = nsec3_model(pkt, first, end, c);
	knot_rrset_t *rr = proof_add(pr, -1);
	if (model == NULL || rr == NULL || c->hash_len == 0) {
		return KNOT_ESPACE;
	}
	return mx_nsec3_cover(model->rrs.rdata, c->hash, c->hash_len, run->p->zone, model->ttl,
	                      rr, run->p->mm);
}

// Whether the NSEC3 records of the span share their hash parameters (a
// zone's always do; the white lies are made with them).
static bool nsec3_uniform(const knot_pkt_t *pkt, uint16_t first, uint16_t end)
{
	const knot_rdata_t *head = NULL;
	for (uint16_t i = first; i < end; i++) {
		const knot_rrset_t *rr = &pkt->rr[i];
		if (rr->type != KNOT_RRTYPE_NSEC3 || rr->rrs.count == 0) {
			continue;
		}
		const knot_rdata_t *rd = rr->rrs.rdata;
		if (rd->len < 5 || rd->len < 5 + rd->data[4]) {
			return false;
		}
		if (head == NULL) {
			head = rd;
		} else if (head->data[0] != rd->data[0] || head->data[4] != rd->data[4] ||
		           memcmp(head->data + 2, rd->data + 2, 3 + head->data[4]) != 0) {
			return false;
		}
	}
	return true;
}

static int narrow_nsec3(denial_run_t *run, const knot_pkt_t *pkt, uint16_t first,
                        uint16_t end, owner_info_t *o, proofs_t *pr)
{
	if (!nsec3_uniform(pkt, first, end)) {
		return KNOT_EMALF;
	}
	// The closest encloser: the deepest name (no wildcard) the answer has the record of.
	const candidate_t *ce = NULL;
	size_t ce_labels = 0;
	for (uint16_t i = first; i < end; i++) {
		const knot_rrset_t *rr = &pkt->rr[i];
		if (rr->type != KNOT_RRTYPE_NSEC3) {
			continue;
		}
		if (!dr_owner_info(run, rr, o)) {
			return KNOT_EMALF;
		}
		if (o->cand == NULL) {
			continue;
		}
		((candidate_t *)o->cand)->matched = true;
		size_t labels = knot_dname_labels(o->cand->name, NULL);
		if (!knot_dname_is_wildcard(o->cand->name) && (ce == NULL || labels > ce_labels)) {
			ce = o->cand;
			ce_labels = labels;
		}
	}
	// Its record and a wildcard's keep their own names only. An ancestor
	// above it was in knotd's answer only because its range covered a
	// name, which the covers below prove: its record goes (kept, it made
	// NXDOMAIN answers of up to 5 NSEC3 records, and Knot Resolver answers
	// SERVFAIL where its reply then outgrows the client's buffer).
	size_t ce_proof = 0;
	int ret = KNOT_EOK;
	for (uint16_t i = first; i < end && ret == KNOT_EOK; i++) {
		const knot_rrset_t *rr = &pkt->rr[i];
		if (rr->type != KNOT_RRTYPE_NSEC3 || !dr_owner_info(run, rr, o) || o->cand == NULL ||
		    (o->cand != ce && !knot_dname_is_wildcard(o->cand->name))) {
			continue;
		}
		if (o->cand == ce) {
			ce_proof = pr->count;
		}
		ret = own_only(run, rr, o, i, pr);
	}
	// Records of no name the answer is about: each keeps its own name only.
	for (uint16_t i = first; i < end && ret == KNOT_EOK; i++) {
		const knot_rrset_t *rr = &pkt->rr[i];
		if (rr->type == KNOT_RRTYPE_NSEC3 && dr_owner_info(run, rr, o) && o->cand == NULL &&
		    !covers_a_candidate(run, rr)) {
			ret = own_only(run, rr, o, i, pr);
		}
	}
	if (ret != KNOT_EOK) {
		return ret;
	}
	if (ce == NULL) {
		// A wildcard's expansion: the shallowest name a range denies is
		// the next closer name (the names that exist are no range's).
		const candidate_t *next_closer = NULL;
		for (size_t i = 0; i < run->cand_count; i++) {
			const candidate_t *c = &run->cand[i];
			const knot_rrset_t *by = nsec3_model(pkt, first, end, c);
			if (!knot_dname_is_wildcard(c->name) && by != NULL &&
			    mx_nsec3_covers(by, c->hash, c->hash_len)) {
				next_closer = c;  // ancestors come after the query name
			}
		}
		return (next_closer == NULL) ? KNOT_EOK :
		       nsec3_cover(run, pkt, first, end, next_closer, pr);
	}
	if (knot_dname_is_equal(ce->name, run->qname)) {
		return KNOT_EOK;
	}
	bool served;
	size_t ce_served;
	ret = served_encloser(run, ce_labels, &ce_served, &served);
	if (ret != KNOT_EOK) {
		return ret;
	}
	const candidate_t *encloser = candidate_named(run, ancestor(run, ce_served));
	const candidate_t *next_closer = candidate_named(run, ancestor(run, ce_served + 1));
	if (encloser == NULL || next_closer == NULL) {
		return KNOT_EINVAL;
	}
	if (served) {
		// The served name is the closest encloser: the record of the one
		// knotd proved goes (a validator takes the deepest it is given).
		pr->from[ce_proof] = PROOF_DROPPED;
		size_t len;
		const uint8_t *types = served_types(encloser->name, &len);
		knot_rrset_t *rr = proof_add(pr, -1);
		const knot_rrset_t *model = nsec3_model(pkt, first, end, encloser);
		if (rr == NULL || model == NULL) {
			return KNOT_ESPACE;
		}
		ret = mx_nsec3_at(model->rrs.rdata, encloser->hash, encloser->hash_len, run->p->zone,
		                  types, len, model->ttl, rr, run->p->mm);
	}
	if (ret == KNOT_EOK && !next_closer->matched) {
		ret = nsec3_cover(run, pkt, first, end, next_closer, pr);
	}
	uint8_t wild[KNOT_DNAME_MAXLEN] = { 1, '*' };
	knot_dname_to_wire(wild + 2, encloser->name, sizeof(wild) - 2);
	const candidate_t *w = candidate_named(run, wild);
	if (ret == KNOT_EOK && w != NULL && !w->matched) {
		const knot_rrset_t *by = nsec3_model(pkt, first, end, w);
		if (served || (by != NULL && mx_nsec3_covers(by, w->hash, w->hash_len))) {
			ret = nsec3_cover(run, pkt, first, end, w, pr);
		}
	}
	return ret;
}

// Puts the proofs in the span's places: each in its own record's, the new
// ones in the places of those that go, the rest after the last.
static int place(const denial_run_t *run, const knot_pkt_t *pkt, uint16_t first, uint16_t end,
                 proofs_t *pr, mx_replacement_t *repl, size_t *n, mx_denial_outcome_t *out)
{
	const knot_pktsection_t *auth = &pkt->sections[KNOT_AUTHORITY];
	bool used[PROOFS_MAX] = { false };
	mx_replacement_t *last = NULL;
	uint16_t signer = first;
	*n = 0;
	for (uint16_t i = first; i < end; i++) {
		const knot_rrset_t *rr = &pkt->rr[i];
		if (!dr_is_denial(rr)) {
			continue;
		}
		signer = i;
		mx_replacement_t *r = &repl[(*n)++];
		memset(r, 0, sizeof(*r));
		r->rr_pos = i;
		knot_rrset_init(&r->rrset, rr->owner, rr->type, rr->rclass, rr->ttl);
		size_t k = 0;
		while (k < pr->count && (used[k] || pr->from[k] != i)) {
			k++;
		}
		if (k == pr->count && i >= auth->pos) {
			for (k = 0; k < pr->count && (used[k] || pr->from[k] != -1); k++) {
			}
		}
		if (k < pr->count) {
			used[k] = true;
			r->rrset = pr->rr[k];
			if (!dr_sign_like(pkt, i, run->p, &r->rrset, &r->rrsig, out)) {
				return KNOT_EDENIED;  // the range may deny a served record
			}
			last = (i >= auth->pos) ? r : last;
		}
	}
	size_t more = 0;
	for (size_t k = 0; k < pr->count; k++) {
		if (used[k] || pr->from[k] == PROOF_DROPPED) {
			continue;
		}
		if (last == NULL || more >= MX_REPLACEMENT_MORE) {
			return KNOT_ESPACE;
		}
		last->more[more] = pr->rr[k];
		if (!dr_sign_like(pkt, signer, run->p, &last->more[more], &last->more_sig[more], out)) {
			return KNOT_EDENIED;
		}
		more++;
	}
	return KNOT_EOK;
}

// LABEL.NAME into \a out (false: too long).
static bool prefixed(const char *label, const knot_dname_t *name, uint8_t *out)
{
	size_t len = strlen(label);
	size_t size = knot_dname_size(name);
	if (1 + len + size > KNOT_DNAME_MAXLEN) {
		return false;
	}
	out[0] = len;
	memcpy(out + 1, label, len);
	memcpy(out + 1 + len, name, size);
	return true;
}

// Whether names may be served at or below N (lower case), a name this NSEC
// record's owner (P, of bitmap o) or next name lies at or below.
static bool may_serve(const denial_run_t *run, const owner_info_t *o, const knot_dname_t *n)
{
	if (mx_dname_attribute(n)) {
		return false;
	}
	// A delegation, a CNAME, a white lie's owner: nothing served below.
	if (o->skip && knot_dname_is_equal(n, o->owner)) {
		return false;
	}
	if (run->p->implicit || dr_listed(run, n)) {
		return true;
	}
	if (knot_dname_is_equal(n, o->owner) && !dr_has_type(o, KNOT_RRTYPE_MX)) {
		return false;  // no MX of its own, let alone a null one
	}
	return run->p->zone_null_mx == NULL || run->p->zone_null_mx(n, run->p->ctx) != 0;
}

// Whether the range of \a rr meets the names served at or below N: N itself
// (an empty non-terminal), _dmarc.N, _domainkey.N and the names below it.
static bool meets_served(const denial_run_t *run, const knot_rrset_t *rr,
                         const owner_info_t *o, const knot_dname_t *n)
{
	uint8_t name[KNOT_DNAME_MAXLEN], end[KNOT_DNAME_MAXLEN];
	if (mx_nsec_covers(rr, n)) {
		return true;
	}
	if (!run->p->below) {
		return false;
	}
	if (prefixed("_dmarc", n, name) && mx_nsec_covers(rr, name)) {
		return true;
	}
	if (!prefixed("_domainkey", n, name)) {
		return false;
	}
	if (mx_nsec_covers(rr, name)) {
		return true;
	}
	// A range that starts below _domainkey.N meets a selector (one label
	// below it) unless it ends below the same selector.
	if (mx_dname_after_all(name, end, sizeof(end)) != KNOT_EOK ||
	    mx_dname_canon_cmp(name, o->owner) >= 0 || mx_dname_canon_cmp(o->owner, end) >= 0) {
		return false;
	}
	const knot_dname_t *selector = o->owner;
	size_t below = knot_dname_labels(name, NULL) + 1;
	while (knot_dname_labels(selector, NULL) > below) {
		selector = mx_dname_parent(selector);
	}
	uint8_t next[KNOT_DNAME_MAXLEN];
	const knot_rdata_t *rd = rr->rrs.rdata;
	if (knot_dname_wire_check(rd->data, rd->data + rd->len, NULL) <= 0 ||
	    knot_dname_to_wire(next, rd->data, sizeof(next)) <= 0) {
		return true;
	}
	knot_dname_to_lower(next);
	return knot_dname_in_bailiwick(next, selector) <= 0;
}

// Whether an NSEC record's range may deny a name the module serves: for N
// its owner or an ancestor of it or of its next name (the names served
// below N lie between N and N's next sibling).
static bool nsec_may_deny(denial_run_t *run, const knot_rrset_t *rr, owner_info_t *o)
{
	uint8_t next[KNOT_DNAME_MAXLEN];
	if (!dr_owner_info(run, rr, o) ||
	    knot_dname_wire_check(rr->rrs.rdata->data, rr->rrs.rdata->data + rr->rrs.rdata->len,
	                          NULL) <= 0 ||
	    knot_dname_to_wire(next, rr->rrs.rdata->data, sizeof(next)) <= 0) {
		return true;  // not known: it may
	}
	knot_dname_to_lower(next);
	const knot_dname_t *zone = run->p->zone;
	const knot_dname_t *from[2] = { o->owner, next };
	for (size_t k = 0; k < 2; k++) {
		const knot_dname_t *n = from[k];
		while (zone == NULL || knot_dname_in_bailiwick(n, zone) >= 0) {
			if (may_serve(run, o, n) && meets_served(run, rr, o, n)) {
				return true;
			}
			if (*n == 0 || (zone != NULL && knot_dname_is_equal(n, zone))) {
				break;
			}
			n = mx_dname_parent(n);
		}
	}
	return false;
}

bool dr_narrow_needed(denial_run_t *run, const knot_pkt_t *pkt, uint16_t first, uint16_t end)
{
	owner_info_t *o = dr_alloc(run->p->mm, sizeof(*o));
	for (uint16_t i = first; i < end; i++) {
		const knot_rrset_t *rr = &pkt->rr[i];
		if (!dr_is_denial(rr) || mx_denial_is_narrow(rr)) {
			continue;
		}
		// Any NSEC3 range may hold the hash of a served name.
		if (rr->type == KNOT_RRTYPE_NSEC3 || o == NULL || nsec_may_deny(run, rr, o)) {
			return true;
		}
	}
	return false;
}

int dr_narrow(denial_run_t *run, const knot_pkt_t *pkt, uint16_t first, uint16_t end,
              mx_replacement_t *repl, size_t *n, mx_denial_outcome_t *out)
{
	*n = 0;
	owner_info_t *o = dr_alloc(run->p->mm, sizeof(*o));
	proofs_t *pr = dr_alloc(run->p->mm, sizeof(*pr));
	if (o == NULL || pr == NULL) {
		return KNOT_ENOMEM;
	}
	memset(pr, 0, sizeof(*pr));
	bool nsec3 = false;
	bool all_narrow = true;
	for (uint16_t i = first; i < end; i++) {
		const knot_rrset_t *rr = &pkt->rr[i];
		if (dr_is_denial(rr)) {
			nsec3 = nsec3 || rr->type == KNOT_RRTYPE_NSEC3;
			all_narrow = all_narrow && mx_denial_is_narrow(rr);
		}
	}
	if (all_narrow) {
		return KNOT_EOK;  // the module's own (or another signer's) white lies
	}
	int ret = nsec3 ? narrow_nsec3(run, pkt, first, end, o, pr) :
	                  narrow_nsec(run, pkt, first, end, o, pr);
	if (ret == KNOT_EOK) {
		ret = place(run, pkt, first, end, pr, repl, n, out);
	}
	// No room for a name or a record is no cut of the answer: it fails.
	return (ret == KNOT_ESPACE) ? KNOT_ELIMIT : ret;
}
