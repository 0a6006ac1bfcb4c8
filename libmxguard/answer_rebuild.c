/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>
#include <libknot/libknot.h>

#include "answer_rebuild.h"
#include "mx_check.h"

typedef enum {
	FATE_KEEP = 0,
	FATE_REPLACE,
	FATE_DROP,
	FATE_RESIGN,  // an old RRSIG whose place the new signature takes
} fate_t;

// One RRset as it was in the packet before the rebuild.
typedef struct {
	knot_rrset_t rr;
	knot_dname_t *wire_owner;   // as written (wildcards expanded)
	uint16_t pos;               // wire offset of its first owner
	uint16_t flags;
	uint16_t hint;
	knot_section_t section;
	fate_t fate;
	const mx_replacement_t *repl;
	bool signed_in_place;       // a replaced RRset's signature takes an old one's place
	uint16_t signs;             // RESIGN: the entry of the RRset it signs
	uint16_t new_hint;          // REPLACE: its owner's position once put again
	uint16_t name_at;           // where its owner's name was written in full
	uint16_t new_name_at;       // the same once put again (0: not yet)
} entry_t;

static void *scratch_alloc(knot_mm_t *mm, size_t size)
{
	return mm->alloc(mm->ctx, size);
}

static knot_section_t section_of(const knot_pkt_t *pkt, uint16_t i)
{
	for (knot_section_t s = KNOT_ANSWER; s <= KNOT_ADDITIONAL; s++) {
		const knot_pktsection_t *sec = &pkt->sections[s];
		if (i >= sec->pos && i < sec->pos + sec->count) {
			return s;
		}
	}
	return KNOT_ADDITIONAL;
}

static bool has_exchange(const knot_rdataset_t *rrs, const knot_dname_t *name)
{
	knot_rdata_t *rd = rrs->rdata;
	for (uint16_t i = 0; i < rrs->count; i++, rd = knot_rdataset_next(rd)) {
		// Empty rdata (possible in a parsed message) names nothing.
		if (rd->len >= 3 && knot_dname_is_case_equal(knot_mx_name(rd), name)) {
			return true;
		}
	}
	return false;
}

// Glue goes when a replaced RRset lost its exchange and no MX served keeps it.
static bool glue_unneeded(const entry_t *e, uint16_t n, const knot_dname_t *owner)
{
	bool lost = false;
	for (uint16_t i = 0; i < n; i++) {
		if (e[i].section != KNOT_ANSWER || e[i].rr.type != KNOT_RRTYPE_MX) {
			continue;
		}
		if (e[i].fate == FATE_REPLACE) {
			if (has_exchange(&e[i].repl->rrset.rrs, owner)) {
				return false;
			}
			lost = lost || has_exchange(&e[i].rr.rrs, owner);
		} else if (has_exchange(&e[i].rr.rrs, owner)) {
			return false;
		}
	}
	return lost;
}

static void plan_fates(entry_t *e, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		if (e[i].rr.type == KNOT_RRTYPE_RRSIG && e[i].section != KNOT_ADDITIONAL) {
			// The old signature of a replaced RRset must not go out.
			for (uint16_t j = 0; j < n; j++) {
				if (e[j].fate == FATE_REPLACE && e[j].section == e[i].section &&
				    mx_rrsig_covers(&e[i].rr, e[j].rr.type) &&
				    knot_dname_is_case_equal(e[j].wire_owner, e[i].wire_owner)) {
					// knotd's order: the new signature where the old was.
					bool resign = !knot_rrset_empty(&e[j].repl->rrsig) &&
					              !e[j].signed_in_place;
					e[i].fate = resign ? FATE_RESIGN : FATE_DROP;
					e[i].repl = e[j].repl;
					e[i].signs = j;
					e[j].signed_in_place = e[j].signed_in_place || resign;
				}
			}
		}
		if (e[i].section != KNOT_ADDITIONAL) {
			continue;
		}
		bool address = e[i].rr.type == KNOT_RRTYPE_A || e[i].rr.type == KNOT_RRTYPE_AAAA ||
		               mx_rrsig_covers(&e[i].rr, KNOT_RRTYPE_A) ||
		               mx_rrsig_covers(&e[i].rr, KNOT_RRTYPE_AAAA);
		if (address && glue_unneeded(e, n, e[i].wire_owner)) {
			e[i].fate = FATE_DROP;
		}
	}
}

// MX RRsets of the answer; NSEC and NSEC3 RRsets of the answer (a query for
// them) and of the authority (denial of existence); same type both sides.
static bool replaceable(const entry_t *e, const knot_rrset_t *by)
{
	if (e->rr.type != by->type) {
		return false;
	}
	switch (e->rr.type) {
	case KNOT_RRTYPE_MX:
	case KNOT_RRTYPE_TXT:
		return e->section == KNOT_ANSWER;
	case KNOT_RRTYPE_NSEC:
	case KNOT_RRTYPE_NSEC3:
		return e->section == KNOT_ANSWER || e->section == KNOT_AUTHORITY;
	default:
		return false;
	}
}

// The new place of the name an old hint pointed at: where an RRset put
// again before this one has it (KNOT_COMPR_HINT_NONE: none has).
static uint16_t moved_hint(const entry_t *all, uint16_t idx, uint16_t old)
{
	for (uint16_t j = 0; j < idx; j++) {
		if (all[j].name_at == old && all[j].new_name_at != 0 &&
		    all[j].new_name_at < KNOT_WIRE_PTR_MAX) {
			return all[j].new_name_at;
		}
	}
	return KNOT_COMPR_HINT_NONE;
}

static int put_entry(knot_pkt_t *pkt, const knot_pkt_t *query, entry_t *all,
                     uint16_t idx, uint16_t first_change, bool rotate, bool original)
{
	entry_t *e = &all[idx];
	knot_rrset_t rr = e->rr;
	uint16_t flags = e->flags;
	uint16_t hint = e->hint;
	bool moved = false;  // a white lie: another owner, written for itself

	if (!original) {
		if (e->fate == FATE_REPLACE) {
			rr = e->repl->rrset;
			// The new data lives in the query's memory, not the packet's.
			flags &= ~KNOT_PF_FREE;
			// Mostly the same name: the owner the RRset was built with.
			moved = rr.owner != e->rr.owner &&
			        !knot_dname_is_equal(rr.owner, e->rr.owner);
		} else if (e->fate == FATE_RESIGN) {
			// The owner of the RRset it signs, as written again.
			rr = e->repl->rrsig;
			flags = KNOT_PF_ORIGTTL;
			hint = all[e->signs].new_hint;
		}
		// A hint into what moved points where that name is now, as knotd
		// would have written it; failing that, the owner as it was seen.
		if (moved) {
			hint = KNOT_COMPR_HINT_NONE;
		} else if (hint >= first_change && e->fate != FATE_RESIGN) {
			hint = moved_hint(all, idx, hint);
			if (hint == KNOT_COMPR_HINT_NONE) {
				rr.owner = e->wire_owner;
			}
		}
	}

	uint16_t rotate_id = 0;
	if (rotate && e->section == KNOT_ANSWER && rr.type != KNOT_RRTYPE_RRSIG) {
		rotate_id = knot_wire_get_id(query->wire);
	}
	int ret = knot_pkt_put_rotate(pkt, hint, &rr, rotate_id, flags);
	if (ret == KNOT_EOK && !original) {
		uint16_t at = pkt->rr_info[pkt->rrset_count - 1].compress_ptr[KNOT_COMPR_HINT_OWNER];
		// Names that pointed at the old owner cannot point at another.
		e->new_name_at = moved ? 0 : at;
		if (e->fate == FATE_REPLACE) {
			e->new_hint = at;
		}
	}
	if (ret != KNOT_EOK || original || e->fate != FATE_REPLACE ||
	    e->signed_in_place || knot_rrset_empty(&e->repl->rrsig)) {
		return ret;
	}

	// No old signature to take the place of: right after the RRset.
	knot_rrset_t rrsig = e->repl->rrsig;
	if (hint == KNOT_COMPR_HINT_NONE) {
		rrsig.owner = rr.owner;
	}
	return knot_pkt_put(pkt, hint, &rrsig, KNOT_PF_ORIGTTL);
}

// The records replacements bring (white lies) at the end of their section,
// each with its signature.
static int put_more(knot_pkt_t *pkt, const entry_t *e, uint16_t n, knot_section_t s)
{
	for (uint16_t i = 0; i < n; i++) {
		if (e[i].section != s || e[i].fate != FATE_REPLACE) {
			continue;
		}
		const mx_replacement_t *r = e[i].repl;
		for (size_t k = 0; k < MX_REPLACEMENT_MORE; k++) {
			if (knot_rrset_empty(&r->more[k])) {
				continue;
			}
			int ret = knot_pkt_put(pkt, KNOT_COMPR_HINT_NONE, &r->more[k], 0);
			if (ret == KNOT_EOK && !knot_rrset_empty(&r->more_sig[k])) {
				const knot_rrinfo_t *info = &pkt->rr_info[pkt->rrset_count - 1];
				ret = knot_pkt_put(pkt, info->compress_ptr[KNOT_COMPR_HINT_OWNER],
				                   &r->more_sig[k], KNOT_PF_ORIGTTL);
			}
			if (ret != KNOT_EOK) {
				return ret;
			}
		}
	}
	return KNOT_EOK;
}

static int put_all(knot_pkt_t *pkt, const knot_pkt_t *query, entry_t *e,
                   uint16_t n, knot_section_t current, uint16_t first_change,
                   bool rotate, bool original)
{
	uint8_t flags1 = knot_wire_get_flags1(pkt->wire);
	uint8_t flags2 = knot_wire_get_flags2(pkt->wire);
	uint16_t reserved = pkt->reserved;

	// The packet owns nothing while it is rebuilt; each put gives it back.
	for (uint16_t i = 0; i < pkt->rrset_count; i++) {
		pkt->rr_info[i].flags &= ~KNOT_PF_FREE;
	}
	int ret = knot_pkt_init_response(pkt, query);
	if (ret != KNOT_EOK) {
		return ret;
	}
	knot_wire_set_flags1(pkt->wire, flags1);
	knot_wire_set_flags2(pkt->wire, flags2);
	// Without it the OPT record no longer fits: every EDNS answer a FORMERR.
	pkt->reserved = reserved;

	for (knot_section_t s = KNOT_ANSWER; s <= current; s++) {
		ret = knot_pkt_begin(pkt, s);
		if (ret != KNOT_EOK) {
			return ret;
		}
		for (uint16_t i = 0; i < n; i++) {
			if (e[i].section != s || (!original && (e[i].fate == FATE_DROP ||
			    (e[i].fate == FATE_REPLACE && knot_rrset_empty(&e[i].repl->rrset))))) {
				continue;
			}
			ret = put_entry(pkt, query, e, i, first_change, rotate, original);
			if (ret != KNOT_EOK) {
				return ret;
			}
		}
		ret = original ? KNOT_EOK : put_more(pkt, e, n, s);
		if (ret != KNOT_EOK) {
			return ret;
		}
	}
	return KNOT_EOK;
}

static int rebuild(knot_pkt_t *pkt, const knot_pkt_t *query,
                   const mx_replacement_t *repl, size_t count, bool rotate,
                   knot_mm_t *scratch, bool cut)
{
	if (pkt == NULL || query == NULL || scratch == NULL || count == 0) {
		return KNOT_EINVAL;
	}
	uint16_t n = pkt->rrset_count;
	entry_t *e = scratch_alloc(scratch, n * sizeof(*e));
	if (e == NULL) {
		return KNOT_ENOMEM;
	}

	for (uint16_t i = 0; i < n; i++) {
		e[i] = (entry_t) {
			.rr = pkt->rr[i],
			.pos = pkt->rr_info[i].pos,
			.flags = pkt->rr_info[i].flags,
			.hint = pkt->rr_info[i].compress_ptr[KNOT_COMPR_HINT_OWNER],
			.section = section_of(pkt, i),
		};
		// An owner put without a hint is written in place, and its hint
		// becomes its own position: put again with it, the owner would
		// point at itself. Such an owner is written in place again.
		if (e[i].hint >= e[i].pos) {
			e[i].hint = KNOT_COMPR_HINT_NONE;
		}
		e[i].name_at = (e[i].hint != KNOT_COMPR_HINT_NONE) ? e[i].hint : e[i].pos;
		e[i].wire_owner = scratch_alloc(scratch, KNOT_DNAME_MAXLEN);
		if (e[i].wire_owner == NULL) {
			return KNOT_ENOMEM;
		}
		if (e[i].pos >= pkt->size ||
		    knot_dname_unpack(e[i].wire_owner, pkt->wire + e[i].pos,
		                      KNOT_DNAME_MAXLEN, pkt->wire) <= 0) {
			return KNOT_EMALF;
		}
	}
	for (size_t k = 0; k < count; k++) {
		uint16_t i = repl[k].rr_pos;
		if (i >= n || !replaceable(&e[i], &repl[k].rrset) || e[i].fate != FATE_KEEP) {
			return KNOT_EINVAL;
		}
		e[i].fate = FATE_REPLACE;
		e[i].repl = &repl[k];
	}
	plan_fates(e, n);

	uint16_t first_change = UINT16_MAX;
	for (uint16_t i = 0; i < n; i++) {
		if (e[i].fate != FATE_KEEP && e[i].pos < first_change) {
			first_change = e[i].pos;
		}
	}

	knot_section_t current = pkt->current;
	uint8_t flags1 = knot_wire_get_flags1(pkt->wire);
	int ret = put_all(pkt, query, e, n, current, first_change, rotate, false);
	if (ret == KNOT_ESPACE && cut) {
		// What fit stays, TC set by the put that did not: as knotd leaves
		// an answer it could not complete.
		return ret;
	}
	if (ret != KNOT_EOK) {
		// What was written before fits again, with the same hints.
		int restored = put_all(pkt, query, e, n, current, first_change, rotate, true);
		// A put that did not fit set TC; the answer as it was has its own.
		knot_wire_set_flags1(pkt->wire, flags1);
		return restored == KNOT_EOK ? ret : restored;
	}

	for (uint16_t i = 0; i < n; i++) {
		if (e[i].fate != FATE_KEEP && (e[i].flags & KNOT_PF_FREE)) {
			knot_rrset_clear(&e[i].rr, &pkt->mm);
		}
	}
	return KNOT_EOK;
}

/*** The common case: an answer section made of the replaced RRset alone. ***/

// At most this many RRsets (the RRset and its RRSIGs) take the short way.
#define WHOLE_MAX 4

// The packet as knot_pkt_init_response() leaves it, the question kept.
static void cut_to_question(knot_pkt_t *pkt, size_t size)
{
	pkt->size = size;
	pkt->rrset_count = 0;
	pkt->sections[KNOT_ANSWER].count = 0;
	knot_wire_set_ancount(pkt->wire, 0);
	pkt->compr.rrinfo = NULL;
	pkt->compr.suffix.pos = 0;
	pkt->compr.suffix.labels = 0;
}

// The owner's hint of pkt->rr[i] as rebuild() takes it: none for an owner
// written in place.
static uint16_t owner_hint(const knot_pkt_t *pkt, uint16_t i)
{
	const knot_rrinfo_t *info = &pkt->rr_info[i];
	uint16_t hint = info->compress_ptr[KNOT_COMPR_HINT_OWNER];
	return hint >= info->pos ? KNOT_COMPR_HINT_NONE : hint;
}

// Whether the packet holds, in its answer section and nowhere else, the
// RRset \a r replaces (first) and only RRSIGs of it at the same owner (each
// owner a pointer to the RRset's): what knotd's ANSWER stage has written
// for an MX or TXT query.
static bool whole_answer(const knot_pkt_t *pkt, const knot_pkt_t *query,
                         const mx_replacement_t *r)
{
	uint16_t n = pkt->rrset_count;
	if (n == 0 || n > WHOLE_MAX || r->rr_pos != 0 || pkt->current != KNOT_ANSWER ||
	    pkt->sections[KNOT_ANSWER].pos != 0 || pkt->sections[KNOT_ANSWER].count != n ||
	    pkt->opt_rr != NULL || pkt->qname_size == 0 ||
	    pkt->rr_info[0].pos != KNOT_WIRE_HEADER_SIZE + knot_pkt_question_size(query)) {
		return false;
	}
	const knot_rrset_t *old = &pkt->rr[0];
	if ((old->type != KNOT_RRTYPE_MX && old->type != KNOT_RRTYPE_TXT) ||
	    r->rrset.type != old->type || r->rrset.owner != old->owner ||
	    knot_rrset_empty(&r->rrset)) {
		return false;
	}
	for (size_t k = 0; k < MX_REPLACEMENT_MORE; k++) {
		if (!knot_rrset_empty(&r->more[k])) {
			return false;
		}
	}
	// Where the owner's name lies: each RRSIG must point there.
	uint16_t name_at = pkt->rr_info[0].compress_ptr[KNOT_COMPR_HINT_OWNER];
	if (name_at == KNOT_COMPR_HINT_NONE || name_at > pkt->rr_info[0].pos) {
		return false;
	}
	for (uint16_t i = 1; i < n; i++) {
		const knot_rrinfo_t *info = &pkt->rr_info[i];
		if (!mx_rrsig_covers(&pkt->rr[i], old->type) ||
		    info->compress_ptr[KNOT_COMPR_HINT_OWNER] != name_at) {
			return false;
		}
	}
	return true;
}

// Puts the RRsets taken out again, as they were (a put that did not fit set
// TC; the caller restores the flags).
static int put_back(knot_pkt_t *pkt, size_t size, const knot_rrset_t *rr,
                    const uint16_t *hint, const uint16_t *flags, uint16_t n,
                    uint16_t rotate_id)
{
	cut_to_question(pkt, size);
	for (uint16_t i = 0; i < n; i++) {
		uint16_t id = (rr[i].type == KNOT_RRTYPE_RRSIG) ? 0 : rotate_id;
		int ret = knot_pkt_put_rotate(pkt, hint[i], &rr[i], id, flags[i]);
		if (ret != KNOT_EOK) {
			return ret;
		}
	}
	return KNOT_EOK;
}

// What rebuild() writes for such a packet, byte for byte, without taking
// the packet apart: it is cut back to the question (the state
// knot_pkt_init_response() leaves) and the replacement put, its signature
// where the old one was (or right after it, without one).
static int rewrite_whole_answer(knot_pkt_t *pkt, const knot_pkt_t *query,
                                const mx_replacement_t *r, bool rotate)
{
	uint16_t n = pkt->rrset_count;
	knot_rrset_t old[WHOLE_MAX];
	uint16_t hint[WHOLE_MAX];
	uint16_t flags[WHOLE_MAX];
	for (uint16_t i = 0; i < n; i++) {
		old[i] = pkt->rr[i];
		hint[i] = owner_hint(pkt, i);
		flags[i] = pkt->rr_info[i].flags;
	}
	size_t size = pkt->rr_info[0].pos;
	uint8_t flags1 = knot_wire_get_flags1(pkt->wire);
	uint16_t rotate_id = rotate ? knot_wire_get_id(query->wire) : 0;

	cut_to_question(pkt, size);
	knot_rrset_t rr = r->rrset;
	int ret = knot_pkt_put_rotate(pkt, hint[0], &rr, rotate_id,
	                              flags[0] & ~KNOT_PF_FREE);
	if (ret == KNOT_EOK && !knot_rrset_empty(&r->rrsig)) {
		knot_rrset_t rrsig = r->rrsig;
		uint16_t sig_hint = hint[0];
		if (n > 1) {
			// In the old one's place: its owner a pointer to the new RRset's.
			sig_hint = pkt->rr_info[0].compress_ptr[KNOT_COMPR_HINT_OWNER];
		} else if (sig_hint == KNOT_COMPR_HINT_NONE) {
			rrsig.owner = rr.owner;
		}
		ret = knot_pkt_put(pkt, sig_hint, &rrsig, KNOT_PF_ORIGTTL);
	}
	if (ret != KNOT_EOK) {
		int restored = put_back(pkt, size, old, hint, flags, n, rotate_id);
		knot_wire_set_flags1(pkt->wire, flags1);
		return restored == KNOT_EOK ? ret : restored;
	}
	for (uint16_t i = 0; i < n; i++) {
		if (flags[i] & KNOT_PF_FREE) {
			knot_rrset_clear(&old[i], &pkt->mm);
		}
	}
	return KNOT_EOK;
}

int mx_answer_rebuild(knot_pkt_t *pkt, const knot_pkt_t *query,
                      const mx_replacement_t *repl, size_t count, bool rotate,
                      knot_mm_t *scratch)
{
	// The rewrite of an MX (or TXT) answer in knotd's ANSWER stage.
	if (pkt != NULL && query != NULL && count == 1 && whole_answer(pkt, query, repl)) {
		return rewrite_whole_answer(pkt, query, repl, rotate);
	}
	return rebuild(pkt, query, repl, count, rotate, scratch, false);
}

int mx_answer_rebuild_or_cut(knot_pkt_t *pkt, const knot_pkt_t *query,
                             const mx_replacement_t *repl, size_t count, bool rotate,
                             knot_mm_t *scratch)
{
	return rebuild(pkt, query, repl, count, rotate, scratch, true);
}

int mx_answer_truncate(knot_pkt_t *pkt, const knot_pkt_t *query)
{
	if (pkt == NULL || query == NULL) {
		return KNOT_EINVAL;
	}
	// The EDNS record stays as knotd wrote it: options neither lost nor
	// added twice. Everything else goes.
	const knot_rrset_t *opt = NULL;
	uint16_t opt_flags = 0;
	for (uint16_t i = 0; i < pkt->rrset_count; i++) {
		if (pkt->rr[i].type == KNOT_RRTYPE_OPT) {
			opt = &pkt->rr[i];
			opt_flags = pkt->rr_info[i].flags;
		}
		pkt->rr_info[i].flags &= ~KNOT_PF_FREE;
	}
	knot_rrset_t opt_rr;
	if (opt != NULL) {
		opt_rr = *opt;
	}

	uint8_t flags1 = knot_wire_get_flags1(pkt->wire);
	uint8_t flags2 = knot_wire_get_flags2(pkt->wire);
	uint8_t rcode = knot_wire_get_rcode(pkt->wire);
	uint16_t reserved = pkt->reserved;
	int ret = knot_pkt_init_response(pkt, query);
	if (ret != KNOT_EOK) {
		return ret;
	}
	// Before knotd adds them, the room for its OPT and TSIG records.
	pkt->reserved = reserved;
	knot_wire_set_flags1(pkt->wire, flags1);
	knot_wire_set_flags2(pkt->wire, flags2);
	knot_wire_set_rcode(pkt->wire, rcode);
	knot_wire_set_tc(pkt->wire);
	if (opt == NULL) {
		return KNOT_EOK;
	}
	ret = knot_pkt_begin(pkt, KNOT_ADDITIONAL);
	if (ret == KNOT_EOK) {
		ret = knot_pkt_put(pkt, KNOT_COMPR_HINT_NONE, &opt_rr, opt_flags);
	}
	return ret;
}
