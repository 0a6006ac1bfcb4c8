/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * What the zones say about an answer's exchanges: the nodes of knotd's own
 * glue list for the MX RRset (its in-zone exchanges, the zone version being
 * served), and on Knot 3.4+ exact lookups in every zone of the server for
 * the rest (knot_compat.h).
 */

#include <string.h>

#include "adapter.h"
#include "exchange_lookup.h"
#include "hash.h"

static size_t node_addresses(const mxg_node_t *node)
{
	size_t n = 0;
	for (uint16_t i = 0; i < node->rrset_count; i++) {
		uint16_t type = node->rrs[i].type;
		if (type == KNOT_RRTYPE_A || type == KNOT_RRTYPE_AAAA) {
			n += node->rrs[i].rrs.count;
		}
	}
	return n;
}

#if MXG_ZONE_LOOKUP
// The addresses of a node, as a lookup gives them (NULL: no memory).
static bool node_target(knotd_qdata_t *qdata, const mxg_node_t *node, mx_target_t *target)
{
	size_t total = node_addresses(node);
	mx_addr_t *addrs = (total > 0) ? mxg_alloc(qdata, total * sizeof(*addrs)) : NULL;
	if (total > 0 && addrs == NULL) {
		return false;
	}
	size_t n = 0;
	for (uint16_t t = 0; t < node->rrset_count; t++) {
		const mxg_rr_data_t *data = &node->rrs[t];
		if (data->type != KNOT_RRTYPE_A && data->type != KNOT_RRTYPE_AAAA) {
			continue;
		}
		knot_rdata_t *rd = data->rrs.rdata;
		for (uint16_t j = 0; j < data->rrs.count; j++, rd = knot_rdataset_next(rd)) {
			n += mx_addr_from_rdata(&addrs[n], rd->data, rd->len) ? 1 : 0;
		}
	}
	target->state = MX_TARGET_FOUND;
	target->addrs = addrs;
	target->addr_count = n;
	return true;
}

static int zone_get(void *ctx, const knot_dname_t *zone, const knot_dname_t *name,
                    uint16_t type, knot_rrset_t *out)
{
	return knotd_qdata_zone_rrset(ctx, zone, name, type, out);
}

static void lookup_exchange(const knot_dname_t *exchange, mx_target_t *target, void *ctx)
{
	mxg_lookups_t *run = ctx;
	mx_exchange_lookup(exchange, target, zone_get, run->qdata, run->qdata->mm, &run->memo);
}

// An in-zone exchange in the RRset's glue list needs no lookup: its node is
// at hand (lookups judge the rest, and names at or below a delegation).
static bool glue_target(const knot_rrset_t *rr, uint16_t pos, mx_target_t *target,
                        void *ctx)
{
	knotd_qdata_t *qdata = ctx;
	const mxg_additional_t *add = rr->additional;
	for (uint16_t i = 0; add != NULL && i < add->count; i++) {
		if (add->glues[i].ns_pos != pos) {
			continue;
		}
		const mxg_node_t *node = mxg_glue_node(&add->glues[i], qdata);
		if (node == NULL || (node->flags & (MXG_NODE_DELEG | MXG_NODE_NONAUTH))) {
			return false;
		}
		for (uint16_t t = 0; t < node->rrset_count; t++) {
			if (node->rrs[t].type == KNOT_RRTYPE_CNAME) {
				target->state = MX_TARGET_CNAME;
				return true;
			}
		}
		return node_target(qdata, node, target);
	}
	return false;
}

void mxg_exchange_source(mx_scan_params_t *params)
{
	params->lookup = lookup_exchange;
	params->glue_target = glue_target;
}
#else

// The addresses of knotd's glue list, under the names of their exchanges.
static bool glue_of(const knot_rrset_t *rr, mx_glue_t **glue, size_t *count,
                    bool *complete, void *ctx)
{
	knotd_qdata_t *qdata = ctx;
	const mxg_additional_t *add = rr->additional;
	*glue = NULL;
	*count = 0;
	*complete = true;
	if (add == NULL) {
		return true;
	}

	size_t total = 0;
	for (uint16_t i = 0; i < add->count; i++) {
		const mxg_node_t *node = mxg_glue_node(&add->glues[i], qdata);
		if (node == NULL) {
			*complete = false;  // cannot tell which version: judge less
			return true;
		}
		total += node_addresses(node);
	}
	mx_glue_t *out = (total > 0) ? mxg_alloc(qdata, total * sizeof(*out)) : NULL;
	if (total > 0 && out == NULL) {
		return false;
	}

	size_t n = 0;
	for (uint16_t i = 0; i < add->count; i++) {
		const mxg_glue_t *g = &add->glues[i];
		if (g->ns_pos >= rr->rrs.count) {
			continue;
		}
		const knot_rdata_t *rd = knot_rdataset_at(&rr->rrs, g->ns_pos);
		if (!mx_rdata_ok(rd)) {
			continue;
		}
		const mxg_node_t *node = mxg_glue_node(g, qdata);
		for (uint16_t t = 0; t < node->rrset_count; t++) {
			const mxg_rr_data_t *data = &node->rrs[t];
			if (data->type != KNOT_RRTYPE_A && data->type != KNOT_RRTYPE_AAAA) {
				continue;
			}
			knot_rdata_t *addr = data->rrs.rdata;
			for (uint16_t j = 0; j < data->rrs.count; j++) {
				out[n].owner = knot_mx_name(rd);
				if (mx_addr_from_rdata(&out[n].addr, addr->data, addr->len)) {
					n++;
				}
				addr = knot_rdataset_next(addr);
			}
		}
	}
	*glue = out;
	*count = n;
	return true;
}

// A key being written (\a cmp NULL) or compared with one written before.
typedef struct {
	uint8_t *buf;
	const uint8_t *cmp;
	size_t len;
	size_t max;
} glue_key_t;

// Adds a piece of the key; false when it does not fit or differs. Inlined
// where the walk is, so that each caller's walk only writes or compares.
static inline __attribute__((always_inline)) bool key_piece(glue_key_t *k, const void *data, size_t size)
{
	if (k->len + size > k->max) {
		return false;
	}
	// Fixed sizes compile to loads, the records' to word compares.
	bool fixed = __builtin_constant_p(size);
	if (k->cmp != NULL && (fixed ? memcmp(k->cmp + k->len, data, size) != 0 :
	                                !mx_bytes_equal(k->cmp + k->len, data, size))) {
		return false;
	}
	if (k->cmp == NULL) {
		mx_bytes_copy(k->buf + k->len, data, size);
	}
	k->len += size;
	return true;
}

// What glue_of() gives, as the verdict cache's key: each glue node's A and
// AAAA records as knotd holds them, by the record they belong to.
static inline __attribute__((always_inline))
bool glue_walk(const knot_rrset_t *rr, knotd_qdata_t *qdata, glue_key_t *k)
{
	const mxg_additional_t *add = rr->additional;
	for (uint16_t i = 0; add != NULL && i < add->count; i++) {
		const mxg_node_t *node = mxg_glue_node(&add->glues[i], qdata);
		uint8_t found = (node != NULL);
		if (!key_piece(k, &add->glues[i].ns_pos, 2) || !key_piece(k, &found, 1)) {
			return false;
		}
		for (uint16_t t = 0; node != NULL && t < node->rrset_count; t++) {
			const mxg_rr_data_t *data = &node->rrs[t];
			if (data->type != KNOT_RRTYPE_A && data->type != KNOT_RRTYPE_AAAA) {
				continue;
			}
			if (!key_piece(k, &data->type, 2) || !key_piece(k, &data->rrs.count, 2) ||
			    !key_piece(k, data->rrs.rdata, data->rrs.size)) {
				return false;
			}
		}
	}
	return true;
}

static int glue_key(const knot_rrset_t *rr, uint8_t *buf, size_t max, void *ctx)
{
	glue_key_t k = { .buf = buf, .max = max };
	return glue_walk(rr, ctx, &k) ? (int)k.len : -1;
}

// The same data as a key glue_key() wrote, without writing one.
static bool glue_equal(const knot_rrset_t *rr, const uint8_t *key, size_t len, void *ctx)
{
	glue_key_t k = { .cmp = key, .max = len };
	return glue_walk(rr, ctx, &k) && k.len == len;
}

void mxg_exchange_source(mx_scan_params_t *params)
{
	params->glue_of = glue_of;
	params->glue_key = glue_key;
	params->glue_equal = glue_equal;
}
#endif
