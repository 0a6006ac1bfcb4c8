/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Harness (2): the rewrite, on arbitrary DNS responses.
 *
 * The input is parsed as a response (knot_pkt_parse). Its question, in a
 * letter case the message ID picks (resolvers randomise it), makes a query;
 * its answer RRsets are put into a fresh response to that query as knotd's
 * ANSWER stage leaves them for the hooks (owned by the query name or a
 * CNAME chain's targets, compressed against the question; others are not
 * knotd's answers and are left out); its A/AAAA records stand for the glue
 * knotd holds. The shipped
 * scan (mx_answer_scan) judges the answer with an enforcing policy (picked
 * by the ID), and the shipped enforcement (mx_answer_enforce, what knotd's
 * ANSWER hook runs) carries out the plans: replacements, signatures (the
 * old ones, or none can be made, as the ID says), rebuild. Then:
 *
 *  - a failed enforcement left the response byte for byte as it was, and
 *    an RRset that could not be signed again is served as it was;
 *  - a rebuilt response is never larger than the original, still takes its
 *    OPT record in the reserved space, parses, has the same question (letter
 *    case included), ID and header flags, and its answer holds exactly the
 *    MX records that were kept or put in (none that a plan removed).
 */

#include <sys/socket.h>

#include "fuzz_common.h"
#include "answer_enforce.h"
#include "answer_rebuild.h"
#include "answer_scan.h"
#include "mx_check.h"
#include "rewrite_plan.h"

static void *mm_alloc(knot_mm_t *mm, size_t len)
{
	return mm->alloc(mm->ctx, len);
}

static bool skipped_type(uint16_t type)
{
	return type == KNOT_RRTYPE_OPT || type == KNOT_RRTYPE_TSIG;
}

// Knot's own hints in the answer section: the question name, else none.
static uint16_t hint_for(const knot_pkt_t *resp, const knot_dname_t *owner)
{
	if (knot_dname_is_equal(owner, knot_pkt_qname(resp))) {
		return KNOT_COMPR_HINT_QNAME;
	}
	return KNOT_COMPR_HINT_NONE;
}

// Puts the parsed answer into the fresh response; false if it does not fit.
static bool put_parsed(knot_pkt_t *resp, const knot_pkt_t *parsed)
{
	for (knot_section_t s = KNOT_ANSWER; s <= KNOT_ANSWER; s++) {
		const knot_pktsection_t *sec = knot_pkt_section(parsed, s);
		if (s != KNOT_ANSWER && sec->count == 0) {
			continue;
		}
		if (knot_pkt_begin(resp, s) != KNOT_EOK) {
			return false;
		}
		// knotd's answer: RRsets owned by the query name, or by the target
		// of a CNAME it put before (a chain); no other owners.
		const knot_dname_t *chain = knot_pkt_qname(resp);
		for (uint16_t i = 0; i < sec->count; i++) {
			const knot_rrset_t *rr = knot_pkt_rr(sec, i);
			if (skipped_type(rr->type) || !knot_dname_is_case_equal(rr->owner, chain)) {
				continue;
			}
			if (rr->type == KNOT_RRTYPE_CNAME && rr->rrs.count > 0) {
				chain = knot_cname_name(rr->rrs.rdata);
			}
			uint16_t flags = (s == KNOT_ADDITIONAL) ? KNOT_PF_NOTRUNC : 0;
			// knotd's RRSIGs carry their original TTL (libknot reads it
			// from the rdata, so only from rdata that holds one).
			if (rr->type == KNOT_RRTYPE_RRSIG && rr->rrs.count > 0 &&
			    rr->rrs.rdata->len >= 18) {
				flags |= KNOT_PF_ORIGTTL;
			}
			if (knot_pkt_put(resp, hint_for(resp, rr->owner), rr, flags) != KNOT_EOK) {
				return false;
			}
		}
	}
	return true;
}

// The glue "knotd holds": the input's A/AAAA records, under their owners.
typedef struct {
	const knot_pkt_t *parsed;
	knot_mm_t *mm;
} glue_src_t;

static bool glue_of(const knot_rrset_t *rr, mx_glue_t **glue, size_t *count,
                    bool *complete, void *ctx)
{
	glue_src_t *src = ctx;
	const knot_pktsection_t *add = knot_pkt_section(src->parsed, KNOT_ADDITIONAL);
	size_t total = 0;
	for (uint16_t i = 0; i < add->count; i++) {
		total += knot_pkt_rr(add, i)->rrs.count;
	}
	mx_glue_t *out = mm_alloc(src->mm, (total + 1) * sizeof(*out));
	FUZZ_ASSERT(out != NULL);
	size_t n = 0;
	for (uint16_t i = 0; i < add->count; i++) {
		const knot_rrset_t *a = knot_pkt_rr(add, i);
		if (a->type != KNOT_RRTYPE_A && a->type != KNOT_RRTYPE_AAAA) {
			continue;
		}
		knot_rdata_t *rd = a->rrs.rdata;
		for (uint16_t j = 0; j < a->rrs.count; j++, rd = knot_rdataset_next(rd)) {
			out[n].owner = a->owner;
			if (mx_addr_from_rdata(&out[n].addr, rd->data, rd->len)) {
				n++;
			}
		}
	}
	*glue = out;
	*count = n;
	*complete = true;
	return true;
}

// The question in the letter case the bits of \a seed pick.
static void mix_case(knot_dname_t *name, uint16_t seed)
{
	unsigned bit = 0;
	for (uint8_t *p = name; *p != 0; p += *p + 1) {
		for (uint8_t i = 1; i <= *p; i++, bit++) {
			uint8_t c = p[i];
			if (((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && ((seed >> (bit % 16)) & 1)) {
				p[i] = c ^ 0x20;
			}
		}
	}
}

// One MX record as expected in (or banned from) the answer.
typedef struct {
	knot_dname_t *owner;
	const knot_rdata_t *rd;
} mx_rec_t;

static bool same_rec(const mx_rec_t *a, const knot_dname_t *owner, const knot_rdata_t *rd)
{
	return knot_dname_is_case_equal(a->owner, owner) && knot_rdata_cmp(a->rd, rd) == 0;
}

static void check_result(const knot_pkt_t *resp, const knot_pkt_t *query,
                         uint8_t flags1, uint8_t flags2, const mx_rec_t *expect,
                         size_t expect_count, const mx_rec_t *removed,
                         size_t removed_count)
{
	knot_pkt_t *out = knot_pkt_new(NULL, resp->size, NULL);
	FUZZ_ASSERT(out != NULL);
	memcpy(out->wire, resp->wire, resp->size);
	out->size = resp->size;
	int ret = knot_pkt_parse(out, 0);
	if (ret != KNOT_EOK) {
		fprintf(stderr, "rebuilt answer does not parse: %s\n", knot_strerror(ret));
		abort();
	}

	FUZZ_ASSERT(knot_wire_get_id(out->wire) == knot_wire_get_id(query->wire));
	FUZZ_ASSERT(knot_wire_get_flags1(out->wire) == flags1);
	FUZZ_ASSERT(knot_wire_get_flags2(out->wire) == flags2);
	FUZZ_ASSERT(knot_wire_get_qdcount(out->wire) == 1);
	FUZZ_ASSERT(knot_dname_is_equal(knot_pkt_qname(out), knot_pkt_qname(query)));
	FUZZ_ASSERT(knot_pkt_qtype(out) == knot_pkt_qtype(query));
	FUZZ_ASSERT(knot_pkt_qclass(out) == knot_pkt_qclass(query));

	const knot_pktsection_t *answer = knot_pkt_section(out, KNOT_ANSWER);
	size_t seen = 0;
	knot_dname_storage_t owner;
	for (uint16_t i = 0; i < answer->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(answer, i);
		if (rr->type != KNOT_RRTYPE_MX) {
			continue;
		}
		FUZZ_ASSERT(mx_wire_owner(out, answer->pos + i, owner));
		knot_rdata_t *rd = rr->rrs.rdata;
		for (uint16_t j = 0; j < rr->rrs.count; j++, rd = knot_rdataset_next(rd)) {
			bool allowed = false;
			for (size_t k = 0; k < expect_count && !allowed; k++) {
				allowed = same_rec(&expect[k], owner, rd);
			}
			FUZZ_ASSERT(allowed);
			for (size_t k = 0; k < removed_count; k++) {
				FUZZ_ASSERT(!same_rec(&removed[k], owner, rd));
			}
			seen++;
		}
	}
	FUZZ_ASSERT(seen == expect_count);
	knot_pkt_free(out);
}

// "Signing": the RRset's old signature, as large as a new one would be
// (or, as the ID says, none can be made).
typedef struct {
	const knot_pkt_t *resp;
	const mx_scan_t *scan;
	bool ok;
	knot_mm_t *mm;
} sign_src_t;

static bool fake_sign(const knot_rrset_t *rr, knot_rrset_t *rrsig, const char **reason,
                      void *ctx)
{
	sign_src_t *src = ctx;
	if (!src->ok) {
		*reason = "no-signing-keys";
		return false;
	}
	for (unsigned k = 0; k < src->scan->count; k++) {
		const mx_scan_rrset_t *job = &src->scan->rrsets[k];
		if (job->rrsig_pos < 0) {
			continue;
		}
		knot_dname_t *signer = mx_signer_owner(job->owner, job->rrsig_labels, src->mm);
		FUZZ_ASSERT(signer != NULL);
		if (knot_dname_is_equal(signer, rr->owner)) {
			*rrsig = src->resp->rr[job->rrsig_pos];
			return true;
		}
	}
	*reason = "signing-failed";
	return false;
}

static void fuzz_one(const uint8_t *data, size_t size, knot_mm_t *mm)
{
	knot_pkt_t *parsed = knot_pkt_new((uint8_t *)data, size, NULL);
	if (parsed == NULL) {
		return;
	}
	knot_pkt_t *query = NULL, *resp = NULL;
	if (knot_pkt_parse(parsed, 0) != KNOT_EOK || knot_wire_get_qdcount(parsed->wire) != 1) {
		goto done;
	}

	// The query knotd answered: the question, ID, opcode, RD and CD.
	query = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	FUZZ_ASSERT(query != NULL);
	uint16_t id = knot_wire_get_id(parsed->wire);
	knot_wire_set_id(query->wire, id);
	knot_wire_set_flags1(query->wire, knot_wire_get_flags1(parsed->wire) &
	                     (KNOT_WIRE_RD_MASK | KNOT_WIRE_OPCODE_MASK));
	knot_wire_set_flags2(query->wire, knot_wire_get_flags2(parsed->wire) & KNOT_WIRE_CD_MASK);
	knot_dname_storage_t qname;
	if (knot_dname_to_wire(qname, knot_pkt_qname(parsed), sizeof(qname)) <= 0) {
		goto done;
	}
	mix_case(qname, id * 0x9e37u);
	if (knot_pkt_put_question(query, qname, knot_pkt_qclass(parsed),
	                          knot_pkt_qtype(parsed)) != KNOT_EOK) {
		goto done;
	}

	// The response as knotd's solvers leave it for the hooks.
	size_t max = size + 128 < 512 ? 512 : (size + 128 > KNOT_WIRE_MAX_PKTSIZE ?
	             KNOT_WIRE_MAX_PKTSIZE : size + 128);
	resp = knot_pkt_new(NULL, max, NULL);
	FUZZ_ASSERT(resp != NULL);
	FUZZ_ASSERT(knot_pkt_init_response(resp, query) == KNOT_EOK);
	knot_wire_set_flags1(resp->wire, knot_wire_get_flags1(parsed->wire));
	knot_wire_set_flags2(resp->wire, knot_wire_get_flags2(parsed->wire));
	const knot_rrset_t *opt = parsed->opt_rr;
	uint16_t opt_size = opt != NULL ? knot_edns_wire_size(parsed->opt_rr) : 0;
	if (opt_size >= max) {
		goto done;
	}
	resp->reserved = opt_size;
	if (!put_parsed(resp, parsed)) {
		goto done;
	}

	// Policy: the usual enforcing one; the ID's bits vary the rest.
	mx_policy_t policy;
	mx_policy_init(&policy, MX_ACTION_LOG);
	policy.action[MX_KIND_IP_LITERAL] = MX_ACTION_STRIP;
	policy.action[MX_KIND_LOOPBACK] = MX_ACTION_STRIP;
	policy.action[MX_KIND_SPECIAL_ADDRESS] = (id & 0x10) ? MX_ACTION_NULL_MX : MX_ACTION_STRIP;
	policy.action[MX_KIND_MISSING_ADDRESS] = (id & 0x02) ? MX_ACTION_STRIP : MX_ACTION_OFF;
	policy.action[MX_KIND_NULL_MX_CONFLICT] = MX_ACTION_STRIP;
	policy.action[MX_KIND_SELF_EXCHANGE] = (id & 0x01) ? MX_ACTION_NULL_MX : MX_ACTION_LOG;
	policy.action[MX_KIND_CNAME_EXCHANGE] = MX_ACTION_OFF;
	policy.action[MX_KIND_NULL_MX_OVERRIDE] = MX_ACTION_OFF;

	glue_src_t src = { .parsed = parsed, .mm = mm };
	mx_scan_params_t params = { .policy = &policy, .glue_of = glue_of };
	mx_scan_query_t part = { .zone = knot_pkt_qname(resp), .glue_ctx = &src, .mm = mm };
	mx_scan_t scan;
	if (mx_answer_scan(resp, &params, &part, &scan) != KNOT_EOK) {
		goto done;
	}

	// The records as they were (the rebuild frees the packet's copies).
	knot_rdataset_t *before_rrs = mm_alloc(mm, (scan.count + 1) * sizeof(*before_rrs));
	FUZZ_ASSERT(before_rrs != NULL);
	for (unsigned k = 0; k < scan.count; k++) {
		const knot_rrset_t *rr = &resp->rr[scan.rrsets[k].rr_pos];
		before_rrs[k].count = rr->rrs.count;
		before_rrs[k].size = rr->rrs.size;
		before_rrs[k].rdata = mm_alloc(mm, rr->rrs.size + 1);
		FUZZ_ASSERT(before_rrs[k].rdata != NULL);
		memcpy(before_rrs[k].rdata, rr->rrs.rdata, rr->rrs.size);
	}

	uint8_t *before = mm_alloc(mm, resp->size + 1);
	FUZZ_ASSERT(before != NULL);
	memcpy(before, resp->wire, resp->size);
	size_t before_size = resp->size;
	uint8_t flags1 = knot_wire_get_flags1(resp->wire);
	uint8_t flags2 = knot_wire_get_flags2(resp->wire);
	uint16_t reserved = resp->reserved;

	// The shipped enforcement (answer_enforce.c), signing as the ID says.
	sign_src_t sign_src = { .resp = resp, .scan = &scan, .ok = id & 0x04, .mm = mm };
	mx_enforce_params_t enforce = {
		.sign = fake_sign,
		.ctx = &sign_src,
		.unsigned_allow = id & 0x20,
		.rotate = id & 0x08,
		.mm = mm,
	};
	mx_enforce_result_t res;
	int ret = mx_answer_enforce(resp, query, &scan, &enforce, &res);
	FUZZ_ASSERT(resp->reserved == reserved);
	if (ret != KNOT_EOK) {
		// On failure the packet holds what it held before, byte for byte.
		FUZZ_ASSERT(ret == KNOT_ESPACE || ret == KNOT_EMALF);
		FUZZ_ASSERT(resp->size == before_size);
		FUZZ_ASSERT(memcmp(resp->wire, before, before_size) == 0);
		goto done;
	}

	// What the answer must hold now: the plans of the RRsets enforced, the
	// others as they were (a signed one that could not be signed again).
	size_t mx_records = 0;
	for (unsigned k = 0; k < scan.count; k++) {
		mx_records += before_rrs[k].count;
	}
	mx_rec_t *expect = mm_alloc(mm, (mx_records + 1) * sizeof(*expect));
	mx_rec_t *removed = mm_alloc(mm, (mx_records + 1) * sizeof(*removed));
	FUZZ_ASSERT(expect != NULL && removed != NULL);
	size_t expect_count = 0, removed_count = 0;
	bool any = false;
	for (unsigned k = 0; k < scan.count; k++) {
		const mx_scan_rrset_t *job = &scan.rrsets[k];
		knot_dname_t *owner = job->owner;
		knot_rdata_t *rd = before_rrs[k].rdata;
		FUZZ_ASSERT(!res.enforced[k] || mx_plan_changes(&job->plan));
		FUZZ_ASSERT(res.skip_reason[k] == NULL || !res.enforced[k]);
		if (!res.enforced[k]) {
			for (uint16_t j = 0; j < before_rrs[k].count; j++, rd = knot_rdataset_next(rd)) {
				expect[expect_count++] = (mx_rec_t) { owner, rd };
			}
			continue;
		}
		any = true;
		knot_rdataset_t kept;
		knot_rdataset_init(&kept);
		FUZZ_ASSERT(mx_plan_build(&job->plan, &kept, mm) == KNOT_EOK);
		for (uint16_t j = 0; j < before_rrs[k].count; j++, rd = knot_rdataset_next(rd)) {
			if (!mx_plan_keeps(&job->plan, j)) {
				removed[removed_count++] = (mx_rec_t) { owner, rd };
			}
		}
		rd = kept.rdata;
		for (uint16_t j = 0; j < kept.count; j++, rd = knot_rdataset_next(rd)) {
			expect[expect_count++] = (mx_rec_t) { owner, rd };
		}
	}
	if (!any) {
		FUZZ_ASSERT(resp->size == before_size);
		FUZZ_ASSERT(memcmp(resp->wire, before, before_size) == 0);
		goto done;
	}
	// A record removed from one RRset but served by another stays.
	size_t kept_removed = 0;
	for (size_t k = 0; k < removed_count; k++) {
		bool also_expected = false;
		for (size_t e = 0; e < expect_count && !also_expected; e++) {
			also_expected = same_rec(&expect[e], removed[k].owner, removed[k].rd);
		}
		if (!also_expected) {
			removed[kept_removed++] = removed[k];
		}
	}
	removed_count = kept_removed;

	// A rewrite only removes records, or puts "0 ." for a whole RRset (and
	// a signature no larger than the one it replaces): never a larger answer.
	FUZZ_ASSERT(resp->size <= before_size);

	// knotd then adds the OPT record in the space reserved for it.
	if (opt != NULL) {
		FUZZ_ASSERT(knot_pkt_begin(resp, KNOT_ADDITIONAL) == KNOT_EOK);
		resp->reserved -= opt_size;
		FUZZ_ASSERT(knot_pkt_put(resp, KNOT_COMPR_HINT_NONE, opt, KNOT_PF_NOTRUNC) == KNOT_EOK);
	}
	check_result(resp, query, flags1, flags2, expect, expect_count, removed,
	             removed_count);
done:
	knot_pkt_free(resp);
	knot_pkt_free(query);
	knot_pkt_free(parsed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > KNOT_WIRE_MAX_PKTSIZE) {
		return 0;
	}
	// knot_pkt_new keeps the buffer; parsing writes nothing into it, but a
	// copy keeps libFuzzer's input const for sure.
	uint8_t *copy = malloc(size ? size : 1);
	if (copy == NULL) {
		return 0;
	}
	memcpy(copy, data, size);
	fuzz_block_t *arena = NULL;
	knot_mm_t mm = fuzz_arena_mm(&arena);
	fuzz_one(copy, size, &mm);
	fuzz_arena_free(&arena);
	free(copy);
	return 0;
}
