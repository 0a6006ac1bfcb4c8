/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Harness (5): the denial rewrite knotd's AUTHORITY hook runs
 * (mx_denial_complete, libmxguard/denial_proofs.c), on responses in the
 * shape knotd writes them.
 *
 * The input is one control byte, then a DNS response (the corpus holds real
 * knotd answers of the integration zones). Its question makes a query; its
 * answer and authority sections are put into a fresh response to that query
 * as knotd leaves them for the AUTHORITY hooks (owners that are the query
 * name compressed against the question, RRSIGs with their original TTL), in
 * a buffer of the size the message ID picks. The no-mail list holds the
 * query name, or the subtree of its parent, or nothing, as the control byte
 * says; so do null-mx-implicit, a NODATA answer to an MX query, signing
 * that fails, and a listed name's own null MX; and the no-mail records
 * (SPF, DMARC, DKIM) served in a signed zone, where the ranges that meet
 * them are narrowed to white lies. Then:
 *
 *  - a failure other than a cut left the response byte for byte as it was;
 *  - the response parses, is never larger than its buffer, keeps the
 *    question (letter case included), ID and RCODE;
 *  - a cut has TC set;
 *  - unless a record could not be signed, no NSEC or NSEC3 record that
 *    denies MX at a no-mail name, or a range that meets a served name, is
 *    left in the authority section (the shipped leak check,
 *    mx_denial_leaks, finds none).
 */

#include "fuzz_common.h"
#include "config_rules.h"
#include "denial_proofs.h"
#include "no_mail_records.h"

typedef struct {
	bool fail;
	knot_mm_t *mm;
	const mx_name_list_t *list;
	const knot_dname_t *zone;
	mx_nsec3_names_t *names;
} sign_ctx_t;

// A signature of the right shape: 18 bytes of fields, the signer, 64 bytes.
static bool fake_sign(const knot_rrset_t *rr, knot_rrset_t *rrsig, const char **reason,
                      void *ctx)
{
	sign_ctx_t *s = ctx;
	if (s->fail) {
		*reason = "no-signing-keys";
		return false;
	}
	uint8_t rd[18 + KNOT_DNAME_MAXLEN + 64] = { 0 };
	knot_wire_write_u16(rd, rr->type);
	rd[2] = 13;
	rd[3] = knot_dname_labels(rr->owner, NULL);
	size_t signer = knot_dname_size(s->zone);
	memcpy(rd + 18, s->zone, signer);
	knot_rrset_init(rrsig, rr->owner, KNOT_RRTYPE_RRSIG, KNOT_CLASS_IN, rr->ttl);
	return knot_rrset_add_rdata(rrsig, rd, 18 + signer + 64, s->mm) == KNOT_EOK;
}

static const mx_nsec3_names_t *names_of(const dnssec_nsec3_params_t *params, void *ctx)
{
	sign_ctx_t *s = ctx;
	if (s->list == NULL) {
		return NULL;
	}
	if (s->names == NULL || !mx_nsec3_names_params(s->names, params)) {
		mx_nsec3_names_free(s->names);
		s->names = mx_nsec3_names_new(s->list, s->zone, params);
	}
	return s->names;
}

// Puts the parsed answer and authority into the fresh response; false when
// the first record does not fit (then there is nothing to look at).
static bool put_parsed(knot_pkt_t *resp, const knot_pkt_t *parsed)
{
	for (knot_section_t s = KNOT_ANSWER; s <= KNOT_AUTHORITY; s++) {
		const knot_pktsection_t *sec = knot_pkt_section(parsed, s);
		if (knot_pkt_begin(resp, s) != KNOT_EOK) {
			return false;
		}
		for (uint16_t i = 0; i < sec->count; i++) {
			const knot_rrset_t *rr = knot_pkt_rr(sec, i);
			if (rr->type == KNOT_RRTYPE_OPT || rr->type == KNOT_RRTYPE_TSIG ||
			    rr->rrs.count == 0) {
				continue;
			}
			uint16_t flags = (rr->type == KNOT_RRTYPE_RRSIG &&
			                  rr->rrs.rdata->len >= 8) ? KNOT_PF_ORIGTTL : 0;
			uint16_t hint = knot_dname_is_case_equal(rr->owner, knot_pkt_qname(resp)) ?
			                KNOT_COMPR_HINT_QNAME : KNOT_COMPR_HINT_NONE;
			if (knot_pkt_put(resp, hint, rr, flags) != KNOT_EOK) {
				// As knotd: what fit stays, the rest of the stage is not run.
				return resp->rrset_count > 0;
			}
		}
	}
	return true;
}

// No node is known here: any name may have a lone null MX of its own, and
// then the records are served below it (the adapter's two callbacks agree).
static int zone_null_mx(const knot_dname_t *name, void *ctx)
{
	return -1;
}

static unsigned kit_below(const knot_dname_t *name, void *ctx)
{
	return mx_dname_attribute(name) ? 0 : (MX_RECORD_DMARC | MX_RECORD_DKIM);
}

static int one_input(const uint8_t *data, size_t size, knot_mm_t *mm)
{
	if (size < 1 + KNOT_WIRE_HEADER_SIZE) {
		return 0;
	}
	uint8_t control = data[0];
	knot_pkt_t *parsed = knot_pkt_new((uint8_t *)data + 1, size - 1, NULL);
	knot_pkt_t *query = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	knot_pkt_t *resp = NULL;
	mx_name_list_t *list = NULL;
	sign_ctx_t sc = { .fail = control & 0x08, .mm = mm };
	if (parsed == NULL || query == NULL || knot_pkt_parse(parsed, 0) != KNOT_EOK ||
	    knot_pkt_qname(parsed) == NULL || knot_wire_get_qdcount(parsed->wire) != 1) {
		goto out;
	}
	const knot_dname_t *qname = knot_pkt_qname(parsed);
	if (knot_pkt_put_question(query, qname, KNOT_CLASS_IN,
	                          knot_pkt_qtype(parsed)) != KNOT_EOK) {
		goto out;
	}
	knot_wire_set_id(query->wire, knot_wire_get_id(parsed->wire));
	size_t max = 512 + knot_wire_get_id(parsed->wire) % (KNOT_WIRE_MAX_PKTSIZE - 512);
	resp = knot_pkt_new(NULL, max, NULL);
	if (resp == NULL || knot_pkt_init_response(resp, query) != KNOT_EOK) {
		goto out;
	}
	knot_wire_set_rcode(resp->wire, knot_wire_get_rcode(parsed->wire));
	if (!put_parsed(resp, parsed) || resp->current < KNOT_AUTHORITY) {
		goto out;
	}

	// The zone: the owner of the first SOA, else the query name's parent.
	knot_dname_t *lower = knot_dname_copy(qname, mm);
	FUZZ_ASSERT(lower != NULL);
	knot_dname_to_lower(lower);
	sc.zone = (lower[0] != 0) ? lower + lower[0] + 1 : lower;
	for (uint16_t i = 0; i < resp->rrset_count; i++) {
		if (resp->rr[i].type == KNOT_RRTYPE_SOA) {
			knot_dname_t *apex = knot_dname_copy(resp->rr[i].owner, mm);
			FUZZ_ASSERT(apex != NULL);
			knot_dname_to_lower(apex);
			sc.zone = apex;
			break;
		}
	}
	list = mx_name_list_new();
	FUZZ_ASSERT(list != NULL);
	char text[KNOT_DNAME_TXT_MAXLEN + 3] = "*.";
	if ((control & 0x30) == 0x10 &&
	    knot_dname_to_str(text, lower, sizeof(text) - 2) != NULL) {
		(void)mx_name_list_add(list, text, NULL);
	} else if ((control & 0x30) == 0x20 && lower[0] != 0 &&
	           knot_dname_to_str(text + 2, lower + lower[0] + 1, sizeof(text) - 2) != NULL) {
		(void)mx_name_list_add(list, text, NULL);
	}
	sc.list = list;

	mx_denial_params_t params = {
		.zone = sc.zone,
		.qname = knot_pkt_qname(resp),
		.no_mail = list,
		.implicit = control & 0x01,
		.mx_nodata = control & 0x02,
		.own_name_null_mx = control & 0x04,
		.rotate = control & 0x40,
		.sign = fake_sign,
		.names = names_of,
		.spf = control & 0x80,
		.below = control & 0x80,
		.narrow = control & 0x80,
		.zone_null_mx = zone_null_mx,
		.kit_below = kit_below,
		.ctx = &sc,
		.mm = mm,
	};
	uint8_t *before = mm->alloc(mm->ctx, resp->size);
	FUZZ_ASSERT(before != NULL);
	size_t before_size = resp->size;
	memcpy(before, resp->wire, before_size);
	uint16_t id = knot_wire_get_id(resp->wire);
	uint8_t rcode = knot_wire_get_rcode(resp->wire);

	mx_denial_outcome_t outcome;
	int ret = mx_denial_complete(resp, query, &params, &outcome);
	if (ret != KNOT_EOK && ret != KNOT_ESPACE) {
		FUZZ_ASSERT(resp->size == before_size);
		FUZZ_ASSERT(memcmp(resp->wire, before, before_size) == 0);
		goto out;
	}
	FUZZ_ASSERT(resp->size <= resp->max_size);
	FUZZ_ASSERT(knot_wire_get_id(resp->wire) == id);
	FUZZ_ASSERT(knot_wire_get_rcode(resp->wire) == rcode);
	FUZZ_ASSERT(ret != KNOT_ESPACE || knot_wire_get_tc(resp->wire));
	knot_pkt_t *check = knot_pkt_new(resp->wire, resp->size, NULL);
	FUZZ_ASSERT(check != NULL);
	FUZZ_ASSERT(knot_pkt_parse(check, 0) == KNOT_EOK);
	FUZZ_ASSERT(knot_dname_is_equal(knot_pkt_qname(check), knot_pkt_qname(query)));
	knot_pkt_free(check);
	// Only the authority section is the hook's (and the answer of an NSEC
	// query); other answers' denial records are knotd's answer itself.
	const knot_pktsection_t *ans = knot_pkt_section(resp, KNOT_ANSWER);
	bool answer_denial = false;
	for (uint16_t i = 0; i < ans->count; i++) {
		uint16_t type = knot_pkt_rr(ans, i)->type;
		answer_denial = answer_denial || type == KNOT_RRTYPE_NSEC || type == KNOT_RRTYPE_NSEC3;
	}
	if (!outcome.left && !params.own_name_null_mx &&
	    (!answer_denial || knot_pkt_qtype(query) == KNOT_RRTYPE_NSEC)) {
		FUZZ_ASSERT(!mx_denial_leaks(resp, &params));
	}
out:
	mx_nsec3_names_free(sc.names);
	mx_name_list_free(list);
	knot_pkt_free(resp);
	knot_pkt_free(query);
	knot_pkt_free(parsed);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_block_t *arena = NULL;
	knot_mm_t mm = fuzz_arena_mm(&arena);
	one_input(data, size, &mm);
	fuzz_arena_free(&arena);
	return 0;
}
