/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>
#include <libdnssec/binary.h>
#include <libdnssec/error.h>
#include <libknot/libknot.h>

#include "answer_rebuild.h"
#include "denial_proofs.h"
#include "mx_check.h"
#include "nsec_bitmap.h"

/*! Names an NSEC3 record of this answer may stand for: QNAME, its ancestors
 *  down to the apex, and the wildcards below them. */
#define MAX_CANDIDATES (2 * KNOT_DNAME_MAXLABELS + 1)

typedef struct {
	knot_dname_t *name;
	bool no_mail;    // listed, or a wildcard that may stand for a listed name
	bool proof;      // its NSEC3 proves this answer's "no MX": leave it
	uint8_t hash[MX_NSEC3_DIGEST_MAX];
	size_t hash_len;
	bool hashed;
} candidate_t;

typedef struct {
	const mx_denial_params_t *p;
	knot_dname_t *qname;         // lower case
	candidate_t cand[MAX_CANDIDATES];
	size_t cand_count;
	dnssec_nsec3_params_t hashed_with;  // the candidates' hashes' (salt in an rdata)
} denial_run_t;

static void *mm_get(knot_mm_t *mm, size_t size)
{
	return mm->alloc(mm->ctx, size);
}

static bool listed(const denial_run_t *run, const knot_dname_t *name)
{
	return run->p->no_mail != NULL && mx_name_list_match(run->p->no_mail, name);
}

// "*.X" with the query name strictly below X.
static bool wildcard_above_qname(const denial_run_t *run, const knot_dname_t *owner)
{
	if (!knot_dname_is_wildcard(owner)) {
		return false;
	}
	const knot_dname_t *parent = mx_dname_parent(owner);
	return knot_dname_in_bailiwick(run->qname, parent) > 0;
}

// Whether "*.PARENT" can stand for a no-mail name (never, where a listed
// name cannot lie below PARENT: its denial records stay as knotd has them).
static bool wildcard_no_mail(const denial_run_t *run, const knot_dname_t *parent)
{
	return run->p->implicit ||
	       (run->p->no_mail != NULL && mx_name_list_below(run->p->no_mail, parent));
}

static knot_dname_t *wildcard_of(knot_mm_t *mm, const knot_dname_t *name)
{
	size_t size = knot_dname_size(name);
	if (size + 2 > KNOT_DNAME_MAXLEN) {
		return NULL;
	}
	knot_dname_t *wild = mm_get(mm, size + 2);
	if (wild != NULL) {
		wild[0] = 1;
		wild[1] = '*';
		memcpy(wild + 2, name, size);
	}
	return wild;
}

static void add_candidate(denial_run_t *run, knot_dname_t *name, bool no_mail, bool proof)
{
	if (name == NULL || run->cand_count >= MAX_CANDIDATES) {
		return;
	}
	run->cand[run->cand_count++] = (candidate_t) {
		.name = name, .no_mail = no_mail, .proof = proof,
	};
}

static void collect_candidates(denial_run_t *run)
{
	const knot_dname_t *zone = run->p->zone;
	bool q_listed = listed(run, run->qname);
	add_candidate(run, run->qname, q_listed, run->p->mx_nodata);
	const knot_dname_t *name = run->qname;
	while (true) {
		bool at_apex = zone == NULL || knot_dname_is_equal(name, zone);
		if (name != run->qname) {
			add_candidate(run, (knot_dname_t *)name, listed(run, name), false);
		}
		// The wildcard that may cover the query name: it lists MX where
		// it can stand for a no-mail name, but where it proves this
		// answer's "no MX".
		add_candidate(run, wildcard_of(run->p->mm, name), wildcard_no_mail(run, name),
		              run->p->mx_nodata);
		if (at_apex || *name == 0) {
			break;
		}
		name = mx_dname_parent(name);
	}
}

// Sets up a run: the query name in lower case, the candidates.
static bool run_init(denial_run_t *run, const mx_denial_params_t *p)
{
	run->p = p;
	run->cand_count = 0;
	memset(&run->hashed_with, 0, sizeof(run->hashed_with));
	run->qname = mm_get(p->mm, KNOT_DNAME_MAXLEN);
	if (run->qname == NULL || p->qname == NULL ||
	    knot_dname_to_wire(run->qname, p->qname, KNOT_DNAME_MAXLEN) <= 0) {
		return false;
	}
	knot_dname_to_lower(run->qname);
	collect_candidates(run);
	return true;
}

// The hashing parameters of an NSEC3 record (false: rdata too short).
static bool nsec3_params(const knot_rrset_t *rr, dnssec_nsec3_params_t *params)
{
	const knot_rdata_t *rd = rr->rrs.rdata;
	if (rd->len < 5 || rd->len < 5 + rd->data[4]) {
		return false;
	}
	*params = (dnssec_nsec3_params_t) {
		.algorithm = rd->data[0],
		.iterations = knot_wire_read_u16(rd->data + 2),
		.salt = { .size = rd->data[4], .data = (uint8_t *)rd->data + 5 },
	};
	return true;
}

// The candidate whose hash the NSEC3 owner's first label spells, or NULL.
static const candidate_t *nsec3_match(denial_run_t *run, const knot_rrset_t *rr,
                                      const dnssec_nsec3_params_t *p)
{
	dnssec_nsec3_params_t params = *p;
	// The records of one answer share their parameters; one that does not
	// is matched against hashes made with its own.
	dnssec_nsec3_params_t *with = &run->hashed_with;
	if (with->algorithm != p->algorithm || with->iterations != p->iterations ||
	    with->salt.size != p->salt.size ||
	    (p->salt.size > 0 && memcmp(with->salt.data, p->salt.data, p->salt.size) != 0)) {
		for (size_t i = 0; i < run->cand_count; i++) {
			run->cand[i].hashed = false;
			run->cand[i].hash_len = 0;
		}
		*with = *p;
	}
	for (size_t i = 0; i < run->cand_count; i++) {
		candidate_t *c = &run->cand[i];
		if (!c->hashed) {
			c->hashed = true;
			uint8_t lower[KNOT_DNAME_MAXLEN];
			knot_dname_to_wire(lower, c->name, sizeof(lower));
			knot_dname_to_lower(lower);
			dnssec_binary_t data = { .size = knot_dname_size(lower), .data = lower };
			dnssec_binary_t hash = { 0 };
			if (dnssec_nsec3_hash(&data, &params, &hash) == DNSSEC_EOK &&
			    hash.size <= sizeof(c->hash)) {
				memcpy(c->hash, hash.data, hash.size);
				c->hash_len = hash.size;
			}
			dnssec_binary_free(&hash);
		}
		uint8_t digest[MX_NSEC3_DIGEST_MAX];
		if (c->hash_len > 0 && mx_nsec3_label_digest(rr->owner, digest, c->hash_len) &&
		    memcmp(digest, c->hash, c->hash_len) == 0) {
			return c;
		}
	}
	return NULL;
}

// Whether this NSEC or NSEC3 RRset must list MX.
static bool needs_mx(denial_run_t *run, const knot_rrset_t *rr)
{
	if (rr->rrs.count == 0) {
		return false;
	}
	const uint8_t *bitmap;
	size_t len;
	if (mx_denial_bitmap(rr->type, rr->rrs.rdata, &bitmap, &len) != KNOT_EOK ||
	    !mx_bitmap_valid(bitmap, len) || mx_bitmap_has(bitmap, len, KNOT_RRTYPE_MX) ||
	    mx_bitmap_has(bitmap, len, KNOT_RRTYPE_CNAME)) {
		return false;
	}
	// A delegation is not the zone's to answer for (an NSEC3 opt-out span
	// or an unsigned delegation's NSEC3 lists NS alone).
	if (mx_bitmap_has(bitmap, len, KNOT_RRTYPE_NS) &&
	    !mx_bitmap_has(bitmap, len, KNOT_RRTYPE_SOA)) {
		return false;
	}

	if (rr->type == KNOT_RRTYPE_NSEC) {
		uint8_t owner[KNOT_DNAME_MAXLEN];
		if (knot_dname_to_wire(owner, rr->owner, sizeof(owner)) <= 0) {
			return false;
		}
		knot_dname_to_lower(owner);
		bool proof = run->p->mx_nodata && (knot_dname_is_equal(owner, run->qname) ||
		                                   wildcard_above_qname(run, owner));
		if (proof) {
			return false;
		}
		return run->p->implicit || listed(run, owner) ||
		       (knot_dname_is_wildcard(owner) &&
		        wildcard_no_mail(run, mx_dname_parent(owner)));
	}

	dnssec_nsec3_params_t params;
	if (!nsec3_params(rr, &params)) {
		return false;
	}
	const candidate_t *c = nsec3_match(run, rr, &params);
	if (c != NULL && c->proof) {
		return false;
	}
	if (run->p->implicit) {
		return true;
	}
	if (c != NULL) {
		return c->no_mail;
	}
	const mx_nsec3_names_t *names = (run->p->names != NULL) ?
	                                run->p->names(&params, run->p->ctx) : NULL;
	return mx_nsec3_names_has(names, rr->owner) || mx_nsec3_names_unhashed(names);
}

// Whether an NSEC record proves that the query name is an empty
// non-terminal: it precedes the name and its next name lies below it. An
// NSEC owned by the name itself (the apex's, say) proves the name exists:
// its own bitmap, which needs_mx() completes, is what resolvers read.
static bool ent_proof(const denial_run_t *run, const knot_rrset_t *rr)
{
	if (rr->type != KNOT_RRTYPE_NSEC || rr->rrs.count == 0 ||
	    knot_dname_is_case_equal(rr->owner, run->qname)) {
		return false;
	}
	const knot_rdata_t *rd = rr->rrs.rdata;
	uint8_t next[KNOT_DNAME_MAXLEN];
	if (knot_dname_wire_check(rd->data, rd->data + rd->len, NULL) <= 0 ||
	    knot_dname_to_wire(next, rd->data, sizeof(next)) <= 0) {
		return false;
	}
	knot_dname_to_lower(next);
	return knot_dname_in_bailiwick(next, run->qname) > 0;
}

// Whether the answer holds a signature of pkt->rr[pos] (same section, type
// covered and owner).
static bool signed_in(const knot_pkt_t *pkt, uint16_t pos)
{
	const knot_rrset_t *rr = &pkt->rr[pos];
	for (knot_section_t s = KNOT_ANSWER; s <= KNOT_AUTHORITY; s++) {
		const knot_pktsection_t *sec = &pkt->sections[s];
		if (pos < sec->pos || pos >= sec->pos + sec->count) {
			continue;
		}
		for (uint16_t i = sec->pos; i < sec->pos + sec->count; i++) {
			if (mx_rrsig_covers(&pkt->rr[i], rr->type) &&
			    knot_dname_is_case_equal(pkt->rr[i].owner, rr->owner)) {
				return true;
			}
		}
	}
	return false;
}

static bool is_denial(const knot_rrset_t *rr)
{
	return rr->type == KNOT_RRTYPE_NSEC || rr->type == KNOT_RRTYPE_NSEC3;
}

// The records to look at: the authority section, and the answer section of
// an NSEC query ([*first, *end) of pkt->rr); false: none has a denial record.
static bool denial_span(const knot_pkt_t *pkt, const knot_pkt_t *query,
                        uint16_t *first, uint16_t *end)
{
	const knot_pktsection_t *auth = &pkt->sections[KNOT_AUTHORITY];
	const knot_pktsection_t *ans = &pkt->sections[KNOT_ANSWER];
	*first = (knot_pkt_qtype(query) == KNOT_RRTYPE_NSEC) ? ans->pos : auth->pos;
	*end = auth->pos + auth->count;
	if (pkt->current < KNOT_AUTHORITY || *end > pkt->rrset_count) {
		return false;
	}
	for (uint16_t i = *first; i < *end; i++) {
		if (is_denial(&pkt->rr[i])) {
			return true;
		}
	}
	return false;
}

int mx_denial_complete(knot_pkt_t *pkt, const knot_pkt_t *query,
                       const mx_denial_params_t *p, mx_denial_outcome_t *out)
{
	memset(out, 0, sizeof(*out));
	uint16_t first, end;
	if (pkt == NULL || query == NULL || p == NULL || p->mm == NULL ||
	    !denial_span(pkt, query, &first, &end)) {
		return KNOT_EOK;
	}
	const knot_pktsection_t *auth = &pkt->sections[KNOT_AUTHORITY];
	const knot_pktsection_t *ans = &pkt->sections[KNOT_ANSWER];
	denial_run_t *run = mm_get(p->mm, sizeof(*run));
	mx_replacement_t *repl = mm_get(p->mm, (end - first) * sizeof(*repl));
	if (run == NULL || repl == NULL || !run_init(run, p)) {
		return KNOT_ENOMEM;
	}

	size_t n = 0;
	bool no_mail_qname = p->implicit || run->cand[0].no_mail;
	for (uint16_t i = first; i < end; i++) {
		const knot_rrset_t *rr = &pkt->rr[i];
		// No NSEC of its own to list MX: a resolver may infer "no MX" there.
		out->ent = out->ent || (no_mail_qname && i >= auth->pos && ent_proof(run, rr));
		if (!is_denial(rr) || (i < auth->pos && i >= ans->pos + ans->count)) {
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
		if (!needs_mx(run, rr)) {
			continue;
		}
		int ret = mx_denial_add_type(rr->type, &rr->rrs, KNOT_RRTYPE_MX, &r->rrset.rrs,
		                             p->mm);
		if (ret != KNOT_EOK) {
			return ret;
		}
		// Signed as knotd signed it: an answer knotd cut before its
		// signatures has none. An unsigned denial record in a signed answer
		// is bogus: without a new signature the record stays as it was.
		if (signed_in(pkt, i)) {
			const char *reason = NULL;
			if (p->sign == NULL || !p->sign(&r->rrset, &r->rrsig, &reason, p->ctx)) {
				out->left = true;
				out->reason = reason;
				continue;
			}
			r->rrsig.owner = rr->owner;
		}
		n++;
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
		any = is_denial(&pkt->rr[i]);
	}
	if (!any) {
		return false;
	}
	denial_run_t *run = mm_get(p->mm, sizeof(*run));
	if (run == NULL || !run_init(run, p)) {
		return true;  // not known: it may
	}
	for (uint16_t i = ans->pos; i < end && i < pkt->rrset_count; i++) {
		if (is_denial(&pkt->rr[i]) && needs_mx(run, &pkt->rr[i])) {
			return true;
		}
	}
	return false;
}
