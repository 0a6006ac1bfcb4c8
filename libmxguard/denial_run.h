/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief What the denial room shares between its files (not exported): the
 *        names an answer's denial records may stand for, and what a record
 *        says of its owner.
 */

#pragma once

#include <stdbool.h>
#include <libknot/libknot.h>

#include "denial_proofs.h"
#include "dnssec_compat.h"
#include "nsec3_names.h"
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
	bool matched;    // an NSEC3 record of the answer is its own (narrowing)
} candidate_t;

typedef struct {
	const mx_denial_params_t *p;
	knot_dname_t *qname;         // lower case
	candidate_t cand[MAX_CANDIDATES];
	size_t cand_count;
	dnssec_nsec3_params_t hashed_with;  // the candidates' hashes' (salt in an rdata)
} denial_run_t;

static inline void *dr_alloc(knot_mm_t *mm, size_t size)
{
	return mm->alloc(mm->ctx, size);
}

// What a denial record says of its owner, as far as this answer goes.
typedef struct {
	const uint8_t *bitmap;
	size_t len;
	uint8_t owner[KNOT_DNAME_MAXLEN];  // NSEC: its owner, lower case
	const knot_dname_t *name;  // the name it stands for (NSEC3: if known), or NULL
	const candidate_t *cand;   // NSEC3: the candidate it matches, or NULL
	bool skip;      // CNAME, delegation: not the zone's to complete
	bool proof;     // proves this answer's "no MX": left without MX
	bool no_mail;   // stands for a name that may be a no-mail name
} owner_info_t;

static inline bool dr_has_type(const owner_info_t *o, uint16_t type)
{
	return mx_bitmap_has(o->bitmap, o->len, type);
}

/*! \brief Whether \a name (lower case) is listed. */
bool dr_listed(const denial_run_t *run, const knot_dname_t *name);
/*! \brief "*.X" with the query name strictly below X. */
bool dr_wildcard_above_qname(const denial_run_t *run, const knot_dname_t *owner);
/*! \brief Whether "*.PARENT" can stand for a no-mail name. */
bool dr_wildcard_no_mail(const denial_run_t *run, const knot_dname_t *parent);
/*! \brief "*." before \a name, from \a mm (NULL: no room, no memory). */
knot_dname_t *dr_wildcard_of(knot_mm_t *mm, const knot_dname_t *name);
/*! \brief Sets up a run: the query name in lower case, the candidates. */
bool dr_run_init(denial_run_t *run, const mx_denial_params_t *p);
/*! \brief The hashing parameters of an NSEC3 record (false: too short). */
bool dr_nsec3_params(const knot_rrset_t *rr, dnssec_nsec3_params_t *params);
/*! \brief The candidate an NSEC3 record is the record of, or NULL; every
 *         candidate is hashed with the record's parameters. */
const candidate_t *dr_nsec3_match(denial_run_t *run, const knot_rrset_t *rr,
                                  const dnssec_nsec3_params_t *p);
/*! \brief What \a rr says of its owner (false: malformed, leave it). */
bool dr_owner_info(denial_run_t *run, const knot_rrset_t *rr, owner_info_t *o);
/*! \brief Whether the record must list MX. */
bool dr_needs_mx(const owner_info_t *o);
/*! \brief Whether it must list TXT (the SPF record of a no-mail name). */
bool dr_needs_txt(const denial_run_t *run, const owner_info_t *o);
/*! \brief Its rdataset with MX and TXT added as needed (the same: none is). */
int dr_completed_rrs(const denial_run_t *run, const knot_rrset_t *rr, const owner_info_t *o,
                     knot_rdataset_t *out);
/*! \brief Whether an NSEC record proves the query name an empty non-terminal. */
bool dr_ent_proof(const denial_run_t *run, const knot_rrset_t *rr);
/*! \brief Whether the answer holds a signature of pkt->rr[pos]. */
bool dr_signed_in(const knot_pkt_t *pkt, uint16_t pos);
/*! \brief Signs \a rr into \a rrsig where knotd signed pkt->rr[pos]; false:
 *         it cannot be (out says why). */
bool dr_sign_like(const knot_pkt_t *pkt, uint16_t pos, const mx_denial_params_t *p,
                  knot_rrset_t *rr, knot_rrset_t *rrsig, mx_denial_outcome_t *out);
/*! \brief NSEC or NSEC3. */
bool dr_is_denial(const knot_rrset_t *rr);
/*! \brief The records to look at ([*first, *end) of pkt->rr); false: none
 *         is a denial record. */
bool dr_span(const knot_pkt_t *pkt, const knot_pkt_t *query, uint16_t *first, uint16_t *end);

/*! \brief Whether a denial record of the span may deny a record the module
 *         serves (its range meets a name served below a no-mail name). */
bool dr_narrow_needed(denial_run_t *run, const knot_pkt_t *pkt, uint16_t first, uint16_t end);

/*!
 * \brief Replaces the answer's denial records by white lies that prove
 *        what they proved (records the zone lacks are served: no range of
 *        the zone's chain goes out).
 *
 * \param repl  Room for one replacement per record of the span; \a n the
 *              number written.
 */
int dr_narrow(denial_run_t *run, const knot_pkt_t *pkt, uint16_t first, uint16_t end,
              mx_replacement_t *repl, size_t *n, mx_denial_outcome_t *out);
