/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Denial of existence that agrees with the null MX answers: in a signed
 * answer, every NSEC or NSEC3 record of a no-mail name gets MX in its type
 * bitmap and a new signature with the zone's keys. Otherwise a resolver
 * that reuses cached denial records (RFC 8198) answers "no MX" for the name
 * without asking, and mail falls back to its address records.
 *
 * This runs in the AUTHORITY stage, when knotd has written its proofs and
 * their signatures. No-mail names, by the owner of an NSEC record:
 *   - a listed name or a name of a listed subtree;
 *   - with null-mx-implicit, any name (every NSEC owner exists), but for
 *     delegations (NS without SOA) and CNAMEs;
 *   - a wildcard "*.X" that may stand for a listed name (one lies below X,
 *     or X is in a listed subtree; with null-mx-implicit, any): a resolver
 *     that caches its NSEC denies MX for every name it covers.
 * An NSEC3 record is matched by its hash: against the query name, its
 * ancestors in the zone and their wildcards, as NSEC3 proofs name them, and
 * the listed names of the zone. Every other NSEC3 record counts with
 * null-mx-implicit, and where a listed subtree meets the zone: its members
 * cannot be hashed ahead, and any unknown owner may be one of them. Listing
 * MX where a name has none only sends a resolver to ask for it; only the
 * record that matches the query name proves anything about its types.
 * Never touched: the record that proves this very answer's "no MX" (a
 * NODATA answer to an MX query the module did not turn into a null MX).
 */

#include <stdlib.h>
#include <string.h>
#include <urcu.h>
#include <libdnssec/binary.h>
#include <libdnssec/error.h>
#include <libdnssec/nsec.h>

#include "adapter.h"
#include "answer_rebuild.h"
#include "nsec3_names.h"
#include "nsec_bitmap.h"

/*! Names an NSEC3 record of this answer may stand for: QNAME, its ancestors
 *  down to the apex, and the wildcards below them. */
#define MAX_CANDIDATES (2 * KNOT_DNAME_MAXLABELS + 1)

typedef struct {
	knot_dname_t *name;
	bool no_mail;    // listed, or a wildcard that may stand for a listed name
	bool proof;      // its NSEC3 proves this answer's "no MX": leave it
	uint8_t hash[64];
	size_t hash_len;
	bool hashed;
} candidate_t;

typedef struct {
	knotd_mod_t *mod;
	knotd_qdata_t *qdata;
	const mxguard_ctx_t *ctx;
	const knot_dname_t *qname;   // lower case
	bool mx_nodata;              // a NODATA answer to an MX (or ANY) query
	candidate_t cand[MAX_CANDIDATES];
	size_t cand_count;
} denial_run_t;

static bool listed(const denial_run_t *run, const knot_dname_t *name)
{
	return run->ctx->no_mail != NULL && mx_name_list_match(run->ctx->no_mail, name);
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

static knot_dname_t *wildcard_of(knotd_qdata_t *qdata, const knot_dname_t *name)
{
	size_t size = knot_dname_size(name);
	if (size + 2 > KNOT_DNAME_MAXLEN) {
		return NULL;
	}
	knot_dname_t *wild = mxg_alloc(qdata, size + 2);
	if (wild != NULL) {
		wild[0] = 1;
		wild[1] = '*';
		memcpy(wild + 2, name, size);
	}
	return wild;
}

// Whether "*.PARENT" can stand for a no-mail name (never, where a listed
// name cannot lie below PARENT: its denial records stay as knotd has them).
static bool wildcard_no_mail(const denial_run_t *run, const knot_dname_t *parent)
{
	return run->ctx->implicit ||
	       (run->ctx->no_mail != NULL && mx_name_list_below(run->ctx->no_mail, parent));
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
	const knot_dname_t *zone = knotd_qdata_zone_name(run->qdata);
	bool q_listed = listed(run, run->qname);
	add_candidate(run, (knot_dname_t *)run->qname, q_listed, run->mx_nodata);
	const knot_dname_t *name = run->qname;
	while (true) {
		bool at_apex = knot_dname_is_equal(name, zone);
		if (name != run->qname) {
			add_candidate(run, (knot_dname_t *)name, listed(run, name), false);
		}
		// The wildcard that may cover the query name: it lists MX where
		// it can stand for a no-mail name, but where it proves this
		// answer's "no MX".
		add_candidate(run, wildcard_of(run->qdata, name), wildcard_no_mail(run, name),
		              run->mx_nodata);
		if (at_apex || *name == 0) {
			break;
		}
		name = mx_dname_parent(name);
	}
}

// Base32hex (RFC 4648 §7), lower case, as NSEC3 owners are written.
static size_t base32hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
	size_t o = 0;
	uint32_t buf = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = digits[(buf >> (bits - 5)) & 0x1f];
			bits -= 5;
		}
	}
	if (bits > 0) {
		out[o++] = digits[(buf << (5 - bits)) & 0x1f];
	}
	return o;
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

// The table of the zone's listed names, published for all workers.
struct mxg_nsec3_table {
	struct rcu_head rcu;
	mx_nsec3_names_t *names;
};

static void table_free(struct rcu_head *head)
{
	mxg_nsec3_table_t *table = caa_container_of(head, mxg_nsec3_table_t, rcu);
	mx_nsec3_names_free(table->names);
	free(table);
}

// The hashes of the zone's listed names: an NSEC3 record covers other
// names' hashes too, and is part of their proofs. The first worker that
// meets the zone's NSEC3 parameters hashes the listed names; the others go
// on meanwhile without waiting (and without the table: NULL).
static const mx_nsec3_names_t *nsec3_table(denial_run_t *run,
                                           const dnssec_nsec3_params_t *params)
{
	mxguard_ctx_t *ctx = (mxguard_ctx_t *)run->ctx;
	if (ctx->no_mail == NULL) {
		return NULL;
	}
	mxg_nsec3_table_t *table = rcu_dereference(ctx->nsec3_names);
	if (table == NULL || !mx_nsec3_names_params(table->names, params)) {
		if (pthread_mutex_trylock(&ctx->nsec3_lock) != 0) {
			return NULL;
		}
		table = rcu_dereference(ctx->nsec3_names);
		if (table == NULL || !mx_nsec3_names_params(table->names, params)) {
			mxg_nsec3_table_t *fresh = calloc(1, sizeof(*fresh));
			if (fresh != NULL) {
				fresh->names = mx_nsec3_names_new(ctx->no_mail,
				                                  knotd_qdata_zone_name(run->qdata),
				                                  params);
			}
			if (fresh == NULL || fresh->names == NULL) {
				free(fresh);
				pthread_mutex_unlock(&ctx->nsec3_lock);
				mxg_count_error(run->mod, run->qdata, "out of memory");
				return NULL;
			}
			mxg_nsec3_table_t *old = rcu_xchg_pointer(&ctx->nsec3_names, fresh);
			if (old != NULL) {
				call_rcu(&old->rcu, table_free);
			}
			table = fresh;
		}
		pthread_mutex_unlock(&ctx->nsec3_lock);
	}
	return table->names;
}

void mxg_denial_free(mxguard_ctx_t *ctx)
{
	// No hook runs any more (knotd waited for them): the table goes now,
	// and any older one whose callback is pending before the module does.
	mxg_nsec3_table_t *table = ctx->nsec3_names;
	if (table != NULL) {
		mx_nsec3_names_free(table->names);
		free(table);
		ctx->nsec3_names = NULL;
	}
	rcu_barrier();
	pthread_mutex_destroy(&ctx->nsec3_lock);
}

// The candidate whose hash is the NSEC3 owner's first label, or NULL.
static const candidate_t *nsec3_match(denial_run_t *run, const knot_rrset_t *rr,
                                      const dnssec_nsec3_params_t *p)
{
	dnssec_nsec3_params_t params = *p;
	const uint8_t *label = rr->owner;
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
		if (c->hash_len == 0) {
			continue;
		}
		char text[128];
		size_t len = base32hex(c->hash, c->hash_len, text);
		if (label[0] == len && strncasecmp((const char *)label + 1, text, len) == 0) {
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
		knot_dname_to_wire(owner, rr->owner, sizeof(owner));
		knot_dname_to_lower(owner);
		bool proof = run->mx_nodata && (knot_dname_is_equal(owner, run->qname) ||
		                                wildcard_above_qname(run, owner));
		if (proof) {
			return false;
		}
		return run->ctx->implicit || listed(run, owner) ||
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
	if (run->ctx->implicit) {
		return true;
	}
	if (c != NULL) {
		return c->no_mail;
	}
	const mx_nsec3_names_t *names = nsec3_table(run, &params);
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

// Whether the answer is a listed name's null MX, signed as a name of its
// own (hooks.c), where knotd found a wildcard: its proof of the name's
// non-existence goes, as a bare knotd serving the name's null MX has none.
static bool null_mx_as_own_name(const knot_pkt_t *pkt, const denial_run_t *run)
{
	const mxg_node_t *node = mxg_answer_node(run->qdata);
	if (node == NULL || node->owner == NULL || !knot_dname_is_wildcard(node->owner) ||
	    !listed(run, run->qname)) {
		return false;
	}
	const knot_pktsection_t *ans = &pkt->sections[KNOT_ANSWER];
	for (uint16_t i = 0; i < ans->count; i++) {
		if (mxg_synthesized(knot_pkt_rr(ans, i))) {
			return true;
		}
	}
	return false;
}

// Completes the answer's NSEC and NSEC3 records of no-mail names with MX,
// signed again. KNOT_EOK: done, or nothing to do; KNOT_ESPACE: cut where the
// client's buffer ended (TC set), as knotd cuts; any other error: the packet
// is as it was. *left: a record that denies MX at a no-mail name stays (it
// could not be signed; reported with report).
static int complete_denial(knot_pkt_t *pkt, knotd_qdata_t *qdata, knotd_mod_t *mod,
                           bool mx_nodata, bool report, bool *left)
{
	*left = false;
	uint16_t qtype = knot_pkt_qtype(qdata->query);
	const knot_pktsection_t *auth = &pkt->sections[KNOT_AUTHORITY];
	const knot_pktsection_t *ans = &pkt->sections[KNOT_ANSWER];
	uint16_t first = (qtype == KNOT_RRTYPE_NSEC) ? ans->pos : auth->pos;
	uint16_t end = auth->pos + auth->count;
	if (pkt->current < KNOT_AUTHORITY || end > pkt->rrset_count) {
		return KNOT_EOK;
	}
	bool any = false;
	for (uint16_t i = first; i < end && !any; i++) {
		any = pkt->rr[i].type == KNOT_RRTYPE_NSEC || pkt->rr[i].type == KNOT_RRTYPE_NSEC3;
	}
	if (!any) {
		return KNOT_EOK;
	}

	const mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	denial_run_t *run = mxg_alloc(qdata, sizeof(*run));
	knot_dname_t *qname = mxg_alloc(qdata, KNOT_DNAME_MAXLEN);
	mx_replacement_t *repl = mxg_alloc(qdata, (end - first) * sizeof(*repl));
	if (run == NULL || qname == NULL || repl == NULL) {
		return KNOT_ENOMEM;
	}
	knot_dname_to_wire(qname, qdata->name, KNOT_DNAME_MAXLEN);
	knot_dname_to_lower(qname);
	*run = (denial_run_t) {
		.mod = mod, .qdata = qdata, .ctx = ctx, .qname = qname, .mx_nodata = mx_nodata,
	};
	collect_candidates(run);

	size_t n = 0;
	const char *reason = NULL;  // why a record could not be signed
	bool ent = false;
	bool no_mail_qname = ctx->implicit || run->cand[0].no_mail;
	bool as_own_name = null_mx_as_own_name(pkt, run);
	for (uint16_t i = first; i < end; i++) {
		const knot_rrset_t *rr = &pkt->rr[i];
		if (as_own_name && i >= auth->pos &&
		    (rr->type == KNOT_RRTYPE_NSEC || rr->type == KNOT_RRTYPE_NSEC3)) {
			// No proof that a name with a record of its own does not exist.
			mx_replacement_t *r = &repl[n++];
			memset(r, 0, sizeof(*r));
			r->rr_pos = i;
			knot_rrset_init(&r->rrset, rr->owner, rr->type, rr->rclass, rr->ttl);
			knot_rrset_init_empty(&r->rrsig);
			continue;
		}
		// No NSEC of its own to list MX: a resolver may infer "no MX" there.
		ent = ent || (no_mail_qname && i >= auth->pos && ent_proof(run, rr));
		if ((rr->type != KNOT_RRTYPE_NSEC && rr->type != KNOT_RRTYPE_NSEC3) ||
		    (i < auth->pos && i >= ans->pos + ans->count) || !needs_mx(run, rr)) {
			continue;
		}
		mx_replacement_t *r = &repl[n];
		memset(r, 0, sizeof(*r));
		r->rr_pos = i;
		knot_rrset_init(&r->rrset, rr->owner, rr->type, rr->rclass, rr->ttl);
		knot_rrset_init_empty(&r->rrsig);
		int ret = mx_denial_add_type(rr->type, &rr->rrs, KNOT_RRTYPE_MX,
		                             &r->rrset.rrs, qdata->mm);
		if (ret != KNOT_EOK) {
			return ret;
		}
		// Signed as knotd signed it: an answer knotd cut before its
		// signatures has none. An unsigned denial record in a signed answer
		// is bogus: without a new signature the record stays as it was.
		if (signed_in(pkt, i) && !mxg_sign(mod, qdata, &r->rrset, &r->rrsig, &reason)) {
			*left = true;
			continue;
		}
		r->rrsig.owner = rr->owner;
		n++;
	}
	if (report && (reason != NULL || ent)) {
		mxg_report_not_enforced(mod, qdata, qdata->name, MX_ACTION_NULL_MX,
		                        reason != NULL ? reason : "empty-non-terminal");
	}
	if (n == 0) {
		return KNOT_EOK;
	}
	return mx_answer_rebuild_or_cut(pkt, qdata->query, repl, n, ctx->rotate, qdata->mm);
}

// The denial records of an answer that has some. Apart from the hook, whose
// every other query then returns without the frame this one needs.
__attribute__((noinline))
static knotd_in_state_t rewrite_denial(knotd_in_state_t state, knot_pkt_t *pkt,
                                       knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	uint16_t qtype = knot_pkt_qtype(qdata->query);
	bool mx_nodata = state == KNOTD_IN_STATE_NODATA &&
	                 (qtype == KNOT_RRTYPE_MX || qtype == KNOT_RRTYPE_ANY);
	bool left;
	int ret = complete_denial(pkt, qdata, mod, mx_nodata, true, &left);
	if (ret == KNOT_ESPACE) {
		// The proofs that list MX do not fit the client's buffer: what fit
		// goes out with TC=1, as knotd serves an overflowing answer, and the
		// client asks again over TCP. Nothing kept denies MX here.
		mxg_count(mod, qdata, CTR_TRUNCATED, 0);
		return KNOTD_IN_STATE_TRUNC;
	}
	if (ret != KNOT_EOK) {
		// Never the proofs that deny MX at a no-mail name.
		mxg_count_error(mod, qdata, knot_strerror(ret));
		return mxg_fail_closed(mod, qdata, pkt);
	}
	return state;
}

bool mxg_denial_complete_cut(knot_pkt_t *pkt, knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	if (qdata->type != KNOTD_QUERY_TYPE_NORMAL || !knot_pkt_has_dnssec(qdata->query)) {
		return true;
	}
	// Whether the answer proves "no MX" at the query name: knotd wrote it
	// whole before it went on to the proofs.
	uint16_t qtype = knot_pkt_qtype(qdata->query);
	const knot_pktsection_t *ans = &pkt->sections[KNOT_ANSWER];
	bool mx_nodata = (qtype == KNOT_RRTYPE_MX || qtype == KNOT_RRTYPE_ANY) &&
	                 knot_wire_get_rcode(pkt->wire) == KNOT_RCODE_NOERROR;
	for (uint16_t i = 0; i < ans->count && mx_nodata; i++) {
		mx_nodata = knot_pkt_rr(ans, i)->type != KNOT_RRTYPE_MX;
	}
	// knotd cut the proofs before writing any glue: the additional section
	// holds its OPT record alone. It is taken out while the proofs are put
	// again with its room reserved, as knotd reserved it, then put back.
	const knot_pktsection_t *add = &pkt->sections[KNOT_ADDITIONAL];
	uint16_t last = pkt->rrset_count - 1;
	bool opt = add->count == 1 && add->pos == last && pkt->rr[last].type == KNOT_RRTYPE_OPT;
	if (add->count > 1 || (add->count == 1 && !opt) || pkt->rr_info[last].pos > pkt->size) {
		return !mxg_denial_cut_leaks(pkt, qdata, mod);
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
	bool left;
	int ret = complete_denial(pkt, qdata, mod, mx_nodata, false, &left);
	if (opt) {
		pkt->reserved -= opt_size;
		if (knot_pkt_begin(pkt, KNOT_ADDITIONAL) != KNOT_EOK ||
		    knot_pkt_put(pkt, KNOT_COMPR_HINT_NONE, &opt_rr, opt_flags) != KNOT_EOK) {
			ret = KNOT_ERROR;
		}
	}
	if (ret != KNOT_EOK && ret != KNOT_ESPACE) {
		mxg_count_error(mod, qdata, knot_strerror(ret));
		return false;
	}
	return !left;
}

bool mxg_denial_cut_leaks(const knot_pkt_t *pkt, knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	if (qdata->type != KNOTD_QUERY_TYPE_NORMAL || !knot_pkt_has_dnssec(qdata->query)) {
		return false;
	}
	const knot_pktsection_t *ans = &pkt->sections[KNOT_ANSWER];
	const knot_pktsection_t *auth = &pkt->sections[KNOT_AUTHORITY];
	uint16_t end = auth->pos + auth->count;
	bool any = false;
	for (uint16_t i = ans->pos; i < end && i < pkt->rrset_count && !any; i++) {
		any = pkt->rr[i].type == KNOT_RRTYPE_NSEC || pkt->rr[i].type == KNOT_RRTYPE_NSEC3;
	}
	if (!any) {
		return false;
	}
	denial_run_t *run = mxg_alloc(qdata, sizeof(*run));
	knot_dname_t *qname = mxg_alloc(qdata, KNOT_DNAME_MAXLEN);
	if (run == NULL || qname == NULL) {
		return true;  // not known: it may
	}
	knot_dname_to_wire(qname, qdata->name, KNOT_DNAME_MAXLEN);
	knot_dname_to_lower(qname);
	// No record here is known to prove this answer's "no MX": each counts.
	*run = (denial_run_t) {
		.mod = mod, .qdata = qdata, .ctx = knotd_mod_ctx(mod), .qname = qname,
	};
	collect_candidates(run);
	for (uint16_t i = ans->pos; i < end && i < pkt->rrset_count; i++) {
		const knot_rrset_t *rr = &pkt->rr[i];
		if ((rr->type == KNOT_RRTYPE_NSEC || rr->type == KNOT_RRTYPE_NSEC3) &&
		    needs_mx(run, rr)) {
			return true;
		}
	}
	return false;
}

knotd_in_state_t mxg_denial_authority(knotd_in_state_t state, knot_pkt_t *pkt,
                                      knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	// Most answers have no authority section at all: they leave first.
	if ((pkt->sections[KNOT_AUTHORITY].count == 0 &&
	     knot_pkt_qtype(qdata->query) != KNOT_RRTYPE_NSEC) ||
	    qdata->type != KNOTD_QUERY_TYPE_NORMAL || !knot_pkt_has_dnssec(qdata->query) ||
	    state == KNOTD_IN_STATE_TRUNC || state == KNOTD_IN_STATE_ERROR) {
		return state;
	}
	return rewrite_denial(state, pkt, qdata, mod);
}
