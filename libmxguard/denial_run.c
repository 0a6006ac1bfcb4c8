/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stddef.h>
#include <string.h>
#include <libknot/libknot.h>

#include "denial_run.h"
#include "dnssec_compat.h"
#include "mx_check.h"
#include "no_mail_records.h"
#include "white_lies.h"


bool dr_listed(const denial_run_t *run, const knot_dname_t *name)
{
	return run->p->no_mail != NULL && mx_name_list_match(run->p->no_mail, name);
}

// "*.X" with the query name strictly below X.
bool dr_wildcard_above_qname(const denial_run_t *run, const knot_dname_t *owner)
{
	if (!knot_dname_is_wildcard(owner)) {
		return false;
	}
	const knot_dname_t *parent = mx_dname_parent(owner);
	return knot_dname_in_bailiwick(run->qname, parent) > 0;
}

// Whether "*.PARENT" can stand for a no-mail name (never, where a listed
// name cannot lie below PARENT: its denial records stay as knotd has them).
bool dr_wildcard_no_mail(const denial_run_t *run, const knot_dname_t *parent)
{
	return run->p->implicit ||
	       (run->p->no_mail != NULL && mx_name_list_below(run->p->no_mail, parent));
}

knot_dname_t *dr_wildcard_of(knot_mm_t *mm, const knot_dname_t *name)
{
	size_t size = knot_dname_size(name);
	if (size + 2 > KNOT_DNAME_MAXLEN) {
		return NULL;
	}
	knot_dname_t *wild = dr_alloc(mm, size + 2);
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
	bool q_listed = dr_listed(run, run->qname);
	add_candidate(run, run->qname, q_listed, run->p->mx_nodata);
	const knot_dname_t *name = run->qname;
	while (true) {
		bool at_apex = zone == NULL || knot_dname_is_equal(name, zone);
		if (name != run->qname) {
			add_candidate(run, (knot_dname_t *)name, dr_listed(run, name), false);
		}
		// The wildcard that may cover the query name: it lists MX where
		// it can stand for a no-mail name, but where it proves this
		// answer's "no MX".
		add_candidate(run, dr_wildcard_of(run->p->mm, name), dr_wildcard_no_mail(run, name),
		              run->p->mx_nodata);
		if (at_apex || *name == 0) {
			break;
		}
		name = mx_dname_parent(name);
	}
}

// Sets up a run: the query name in lower case, the candidates.
bool dr_run_init(denial_run_t *run, const mx_denial_params_t *p)
{
	run->p = p;
	run->cand_count = 0;
	memset(&run->hashed_with, 0, sizeof(run->hashed_with));
	run->qname = dr_alloc(p->mm, KNOT_DNAME_MAXLEN);
	if (run->qname == NULL || p->qname == NULL ||
	    knot_dname_to_wire(run->qname, p->qname, KNOT_DNAME_MAXLEN) <= 0) {
		return false;
	}
	knot_dname_to_lower(run->qname);
	collect_candidates(run);
	return true;
}

// The hashing parameters of an NSEC3 record (false: rdata too short).
bool dr_nsec3_params(const knot_rrset_t *rr, dnssec_nsec3_params_t *params)
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
const candidate_t *dr_nsec3_match(denial_run_t *run, const knot_rrset_t *rr,
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
	// Every candidate is hashed: white lies cover the ones no record is.
	for (size_t i = 0; i < run->cand_count; i++) {
		candidate_t *c = &run->cand[i];
		if (!c->hashed) {
			c->hashed = true;
			uint8_t lower[KNOT_DNAME_MAXLEN];
			knot_dname_to_wire(lower, c->name, sizeof(lower));
			knot_dname_to_lower(lower);
			dnssec_binary_t data = { .size = knot_dname_size(lower), .data = lower };
			dnssec_binary_t hash = { 0 };
			if (dnssec_nsec3_hash(&data, &params, &hash) == MX_DNSSEC_EOK &&
			    hash.size <= sizeof(c->hash)) {
				memcpy(c->hash, hash.data, hash.size);
				c->hash_len = hash.size;
			}
			dnssec_binary_free(&hash);
		}
	}
	for (size_t i = 0; i < run->cand_count; i++) {
		candidate_t *c = &run->cand[i];
		uint8_t digest[MX_NSEC3_DIGEST_MAX];
		if (c->hash_len > 0 && mx_nsec3_label_digest(rr->owner, digest, c->hash_len) &&
		    memcmp(digest, c->hash, c->hash_len) == 0) {
			return c;
		}
	}
	return NULL;
}



// False: not a well-formed NSEC or NSEC3 record, leave it.
bool dr_owner_info(denial_run_t *run, const knot_rrset_t *rr, owner_info_t *o)
{
	memset(o, 0, offsetof(owner_info_t, owner));
	o->name = NULL;
	if (rr->rrs.count == 0 ||
	    mx_denial_bitmap(rr->type, rr->rrs.rdata, &o->bitmap, &o->len) != KNOT_EOK ||
	    !mx_bitmap_valid(o->bitmap, o->len)) {
		return false;
	}
	// A delegation is not the zone's to answer for (an NSEC3 opt-out span
	// or an unsigned delegation's NSEC3 lists NS alone). A white lie stands
	// for no name: an NSEC whose owner has no data ("RRSIG NSEC", never a
	// zone's own), an NSEC3 over one hash, no types.
	static const uint8_t no_data[] = { 0, 6, 0, 0, 0, 0, 0, 0x03 };
	o->skip = dr_has_type(o, KNOT_RRTYPE_CNAME) ||
	          (dr_has_type(o, KNOT_RRTYPE_NS) && !dr_has_type(o, KNOT_RRTYPE_SOA)) ||
	          (rr->type == KNOT_RRTYPE_NSEC && o->len == sizeof(no_data) &&
	           memcmp(o->bitmap, no_data, sizeof(no_data)) == 0) ||
	          (o->len == 0 && rr->type == KNOT_RRTYPE_NSEC3 && mx_nsec3_is_cover(rr));

	if (rr->type == KNOT_RRTYPE_NSEC) {
		if (knot_dname_to_wire(o->owner, rr->owner, sizeof(o->owner)) <= 0) {
			return false;
		}
		knot_dname_to_lower(o->owner);
		o->name = o->owner;
		o->proof = run->p->mx_nodata && (knot_dname_is_equal(o->owner, run->qname) ||
		                                 dr_wildcard_above_qname(run, o->owner));
		o->no_mail = !mx_dname_attribute(o->owner) &&
		             (run->p->implicit || dr_listed(run, o->owner) ||
		              (knot_dname_is_wildcard(o->owner) &&
		               dr_wildcard_no_mail(run, mx_dname_parent(o->owner))));
		return true;
	}

	dnssec_nsec3_params_t params;
	if (!dr_nsec3_params(rr, &params)) {
		return false;
	}
	o->cand = dr_nsec3_match(run, rr, &params);
	// The record of a name the answer is about is no white lie.
	o->skip = o->skip && !(o->len == 0 && o->cand != NULL);
	o->name = (o->cand != NULL) ? o->cand->name : NULL;
	o->proof = o->cand != NULL && o->cand->proof;
	if (run->p->implicit) {
		o->no_mail = true;
	} else if (o->cand != NULL) {
		o->no_mail = o->cand->no_mail;
	} else {
		const mx_nsec3_names_t *names = (run->p->names != NULL) ?
		                                run->p->names(&params, run->p->ctx) : NULL;
		o->no_mail = mx_nsec3_names_has(names, rr->owner) || mx_nsec3_names_unhashed(names);
	}
	// Attribute leaves (_dmarc, _domainkey) are never no-mail names.
	o->no_mail = o->no_mail && (o->name == NULL || !mx_dname_attribute(o->name));
	return true;
}

// Whether this NSEC or NSEC3 RRset must list MX.
bool dr_needs_mx(const owner_info_t *o)
{
	return !o->skip && !o->proof && o->no_mail && !dr_has_type(o, KNOT_RRTYPE_MX);
}

// Whether it must list TXT: the SPF record of a no-mail name (a lone null
// MX of the zone's own, too, where the caller can tell).
bool dr_needs_txt(const denial_run_t *run, const owner_info_t *o)
{
	if (!run->p->spf || o->skip || o->proof || dr_has_type(o, KNOT_RRTYPE_TXT) ||
	    (o->name != NULL && mx_dname_attribute(o->name))) {
		return false;
	}
	if (!dr_has_type(o, KNOT_RRTYPE_MX)) {
		return o->no_mail;
	}
	return o->name != NULL && (dr_listed(run, o->name) ||
	       (run->p->zone_null_mx != NULL && run->p->zone_null_mx(o->name, run->p->ctx) == 1));
}

// Its rdataset with MX and TXT added as needed (the same one: none is).
int dr_completed_rrs(const denial_run_t *run, const knot_rrset_t *rr,
                         const owner_info_t *o, knot_rdataset_t *out)
{
	*out = rr->rrs;
	knot_rdataset_t more;
	if (dr_needs_mx(o)) {
		int ret = mx_denial_add_type(rr->type, out, KNOT_RRTYPE_MX, &more, run->p->mm);
		if (ret != KNOT_EOK) {
			return ret;
		}
		*out = more;
	}
	if (dr_needs_txt(run, o)) {
		int ret = mx_denial_add_type(rr->type, out, KNOT_RRTYPE_TXT, &more, run->p->mm);
		if (ret != KNOT_EOK) {
			return ret;
		}
		*out = more;
	}
	return KNOT_EOK;
}

// Whether an NSEC record proves that the query name is an empty
// non-terminal: it precedes the name and its next name lies below it. An
// NSEC owned by the name itself (the apex's, say) proves the name exists:
// its own bitmap, which dr_needs_mx() completes, is what resolvers read.
bool dr_ent_proof(const denial_run_t *run, const knot_rrset_t *rr)
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
bool dr_signed_in(const knot_pkt_t *pkt, uint16_t pos)
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

bool dr_is_denial(const knot_rrset_t *rr)
{
	return rr->type == KNOT_RRTYPE_NSEC || rr->type == KNOT_RRTYPE_NSEC3;
}

// The records to look at: the authority section, and the answer section of
// an NSEC query ([*first, *end) of pkt->rr); false: none has a denial record.
bool dr_span(const knot_pkt_t *pkt, const knot_pkt_t *query,
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
		if (dr_is_denial(&pkt->rr[i])) {
			return true;
		}
	}
	return false;
}

// Signs \a rr into \a rrsig where knotd signed the record at \a pos (an
// answer knotd cut before its signatures has none; an unsigned denial
// record in a signed answer is bogus). False: it cannot be, out says why.
bool dr_sign_like(const knot_pkt_t *pkt, uint16_t pos, const mx_denial_params_t *p,
                      knot_rrset_t *rr, knot_rrset_t *rrsig, mx_denial_outcome_t *out)
{
	knot_rrset_init_empty(rrsig);
	if (!dr_signed_in(pkt, pos)) {
		return true;
	}
	const char *reason = NULL;
	if (p->sign == NULL || !p->sign(rr, rrsig, &reason, p->ctx)) {
		out->left = true;
		out->reason = reason;
		return false;
	}
	rrsig->owner = rr->owner;
	return true;
}
