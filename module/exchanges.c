/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * What the zones say about an answer's exchanges: the nodes of knotd's own
 * glue list for the MX RRset (every exchange the zone has a name for, in the
 * zone version being served), and on Knot 3.4+ exact lookups in every zone
 * of the server for the rest (knot_compat.h). On Knot 3.2/3.3 the rest is
 * not known: a missing-address there is only inferred, never enforced.
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

// The addresses of a node, as a lookup gives them (false: no memory).
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

static bool node_has(const mxg_node_t *node, uint16_t type)
{
	for (uint16_t t = 0; t < node->rrset_count; t++) {
		if (node->rrs[t].type == type) {
			return true;
		}
	}
	return false;
}

// What a glue node is to the MX: the zone's data (FOUND), an alias (CNAME),
// or not the zone's data (UNKNOWN: at or below a zone cut, below a DNAME).
static mx_target_state_t node_state(const mxg_node_t *node, const knotd_qdata_t *qdata)
{
	if (node->flags & (MXG_NODE_DELEG | MXG_NODE_NONAUTH)) {
		return MX_TARGET_UNKNOWN;
	}
	for (const mxg_node_t *up = mxg_node_parent(node, qdata); up != NULL;
	     up = mxg_node_parent(up, qdata)) {
		if (node_has(up, KNOT_RRTYPE_DNAME)) {
			return MX_TARGET_UNKNOWN;
		}
	}
	return node_has(node, KNOT_RRTYPE_CNAME) ? MX_TARGET_CNAME : MX_TARGET_FOUND;
}

// knotd's glue list holds a node for every exchange the zone has a name
// for (or a wildcard), whatever its data: that node settles it.
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
		if (node == NULL) {
			// No zone version to read it by: a lookup, or nothing known.
			return MXG_ZONE_LOOKUP ? false : true;
		}
		target->state = node_state(node, qdata);
		if (target->state != MX_TARGET_FOUND) {
			return true;
		}
		return node_target(qdata, node, target);
	}
	return false;
}

#if MXG_ZONE_LOOKUP
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

void mxg_exchange_source(mx_scan_params_t *params)
{
	params->lookup = lookup_exchange;
	params->glue_target = glue_target;
}
#else

// Knot 3.2/3.3 cannot look names up: an exchange in the zone's bailiwick
// that the glue list does not hold has no name in the zone, or lies below a
// zone cut without glue or below a DNAME; which, the module cannot tell.
static void absent_exchange(const knot_dname_t *exchange, mx_target_t *target, void *ctx)
{
	const mxg_lookups_t *run = ctx;
	const knot_dname_t *zone = knotd_qdata_zone_name(run->qdata);
	if (zone != NULL && knot_dname_in_bailiwick(exchange, zone) >= 0) {
		target->state = MX_TARGET_ABSENT;
	}
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

// What glue_target() reads, as the verdict cache's key: by the record it
// belongs to, each glue node's state and its A and AAAA records as knotd
// holds them (the records of the others' absence are the MX records, keyed
// apart).
static inline __attribute__((always_inline))
bool glue_walk(const knot_rrset_t *rr, knotd_qdata_t *qdata, glue_key_t *k)
{
	const mxg_additional_t *add = rr->additional;
	for (uint16_t i = 0; add != NULL && i < add->count; i++) {
		const mxg_node_t *node = mxg_glue_node(&add->glues[i], qdata);
		uint8_t state = (node != NULL) ? 1 + node_state(node, qdata) : 0;
		if (!key_piece(k, &add->glues[i].ns_pos, 2) || !key_piece(k, &state, 1)) {
			return false;
		}
		for (uint16_t t = 0; state == 1 + MX_TARGET_FOUND && t < node->rrset_count; t++) {
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
	params->lookup = absent_exchange;
	params->glue_target = glue_target;
	params->glue_key = glue_key;
	params->glue_equal = glue_equal;
}
#endif
