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

// What glue_of() gives, as the verdict cache's key: each glue node's A and
// AAAA records as knotd holds them, by the record they belong to.
static int glue_key(const knot_rrset_t *rr, uint8_t *buf, size_t max, void *ctx)
{
	knotd_qdata_t *qdata = ctx;
	const mxg_additional_t *add = rr->additional;
	size_t len = 0;
	for (uint16_t i = 0; add != NULL && i < add->count; i++) {
		const mxg_node_t *node = mxg_glue_node(&add->glues[i], qdata);
		if (len + 3 > max) {
			return -1;
		}
		memcpy(buf + len, &add->glues[i].ns_pos, 2);
		buf[len + 2] = (node != NULL);
		len += 3;
		for (uint16_t t = 0; node != NULL && t < node->rrset_count; t++) {
			const mxg_rr_data_t *data = &node->rrs[t];
			if (data->type != KNOT_RRTYPE_A && data->type != KNOT_RRTYPE_AAAA) {
				continue;
			}
			uint32_t size = data->rrs.size;
			if (len + 4 + size > max) {
				return -1;
			}
			memcpy(buf + len, &data->type, 2);
			memcpy(buf + len + 2, &data->rrs.count, 2);
			mx_bytes_copy(buf + len + 4, (const uint8_t *)data->rrs.rdata, size);
			len += 4 + size;
		}
	}
	return len;
}

// glue_key() compared with a key it wrote, without writing one.
static bool glue_equal(const knot_rrset_t *rr, const uint8_t *key, size_t len, void *ctx)
{
	knotd_qdata_t *qdata = ctx;
	const mxg_additional_t *add = rr->additional;
	const uint8_t *end = key + len;
	for (uint16_t i = 0; add != NULL && i < add->count; i++) {
		const mxg_node_t *node = mxg_glue_node(&add->glues[i], qdata);
		if (end - key < 3 || memcmp(key, &add->glues[i].ns_pos, 2) != 0 ||
		    key[2] != (node != NULL)) {
			return false;
		}
		key += 3;
		for (uint16_t t = 0; node != NULL && t < node->rrset_count; t++) {
			const mxg_rr_data_t *data = &node->rrs[t];
			if (data->type != KNOT_RRTYPE_A && data->type != KNOT_RRTYPE_AAAA) {
				continue;
			}
			uint32_t size = data->rrs.size;
			if ((size_t)(end - key) < 4 + size || memcmp(key, &data->type, 2) != 0 ||
			    memcmp(key + 2, &data->rrs.count, 2) != 0 ||
			    !mx_bytes_equal(key + 4, (const uint8_t *)data->rrs.rdata, size)) {
				return false;
			}
			key += 4 + size;
		}
	}
	return key == end;
}

void mxg_exchange_source(mx_scan_params_t *params)
{
	params->glue_of = glue_of;
	params->glue_key = glue_key;
	params->glue_equal = glue_equal;
}
#endif
