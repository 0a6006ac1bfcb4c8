/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "exchange_lookup.h"
#include "hash.h"

typedef struct {
	mx_rrset_get_f get;
	void *ctx;
	const knot_dname_t *zone;
} zone_t;

static const knot_dname_t *parent_of(const knot_dname_t *name)
{
	return name[0] == '\0' ? NULL : name + 1 + name[0];
}

// The size of an uncompressed name, or 0 when it is not one.
static size_t name_size(const knot_dname_t *name)
{
	if (name == NULL) {
		return 0;
	}
	size_t size = 0;
	while (name[size] != 0) {
		if (name[size] > KNOT_DNAME_MAXLABELLEN) {
			return 0;  // a compression pointer, or no label length
		}
		size += 1 + name[size];
		if (size >= KNOT_DNAME_MAXLEN) {
			return 0;
		}
	}
	return size + 1;
}

// Whether NAME (of SIZE bytes, lower case) is the memo's name or one of
// its ancestors: then no zone holds it.
static bool known_no_zone(const mx_lookup_memo_t *memo, const knot_dname_t *name,
                          size_t size)
{
	if (memo == NULL || memo->size == 0 || size > memo->size) {
		return false;
	}
	// Label by label, so that a match is a whole name, not bytes inside one.
	const uint8_t *p = memo->no_zone;
	while (memo->size - (size_t)(p - memo->no_zone) > size) {
		p += 1 + p[0];
	}
	return memo->size - (size_t)(p - memo->no_zone) == size && memcmp(p, name, size) == 0;
}

// The zone holding the name (SIZE bytes, lower case): its ancestors as
// apexes, longest first.
static bool find_zone(zone_t *z, const knot_dname_t *name, size_t size,
                      mx_lookup_memo_t *memo)
{
	size_t apex_size = size;
	for (const knot_dname_t *apex = name; apex != NULL; apex = parent_of(apex)) {
		if (known_no_zone(memo, apex, apex_size)) {
			if (apex == name) {
				return false;  // the name learnt or one of its ancestors
			}
			break;  // nor any of its ancestors
		}
		knot_rrset_t soa;
		int ret = z->get(z->ctx, apex, apex, KNOT_RRTYPE_SOA, &soa);
		if (ret == KNOT_EOK && !knot_rrset_empty(&soa)) {
			z->zone = apex;
			return true;
		}
		if (ret != KNOT_ENOZONE && ret != KNOT_ENONODE && ret != KNOT_EOK) {
			return false;  // e.g. a zone without contents yet
		}
		apex_size -= 1 + apex[0];
	}
	// The name last asked about stands for its ancestors too.
	if (memo != NULL) {
		memcpy(memo->no_zone, name, size);
		memo->size = size;
	}
	return false;
}

// KNOT_EOK with a non-empty RRset, or false.
static bool has(const zone_t *z, const knot_dname_t *name, uint16_t type,
                knot_rrset_t *out)
{
	return z->get(z->ctx, z->zone, name, type, out) == KNOT_EOK && !knot_rrset_empty(out);
}

static bool exists(const zone_t *z, const knot_dname_t *name)
{
	knot_rrset_t rr;
	int ret = z->get(z->ctx, z->zone, name, KNOT_RRTYPE_A, &rr);
	return ret == KNOT_EOK;
}

static void collect(const zone_t *z, const knot_dname_t *node, mx_target_t *target,
                    knot_mm_t *mm)
{
	knot_rrset_t a, aaaa;
	bool have_a = has(z, node, KNOT_RRTYPE_A, &a);
	bool have_aaaa = has(z, node, KNOT_RRTYPE_AAAA, &aaaa);
	size_t total = (have_a ? a.rrs.count : 0) + (have_aaaa ? aaaa.rrs.count : 0);

	target->state = MX_TARGET_FOUND;
	target->addr_count = 0;
	target->addrs = NULL;
	if (total == 0) {
		return;
	}
	mx_addr_t *addrs = mm->alloc(mm->ctx, total * sizeof(*addrs));
	if (addrs == NULL) {
		target->state = MX_TARGET_UNKNOWN;  // judge nothing rather than wrongly
		return;
	}
	const knot_rrset_t *sets[] = { have_a ? &a : NULL, have_aaaa ? &aaaa : NULL };
	for (int s = 0; s < 2; s++) {
		if (sets[s] == NULL) {
			continue;
		}
		knot_rdata_t *rd = sets[s]->rrs.rdata;
		for (uint16_t i = 0; i < sets[s]->rrs.count; i++, rd = knot_rdataset_next(rd)) {
			if (mx_addr_from_rdata(&addrs[target->addr_count], rd->data, rd->len)) {
				target->addr_count++;
			}
		}
	}
	target->addrs = addrs;
}

// What the node at NAME (which exists) says: alias, or its addresses.
static void judge_node(const zone_t *z, const knot_dname_t *name, mx_target_t *target,
                       knot_mm_t *mm)
{
	knot_rrset_t rr;
	if (has(z, name, KNOT_RRTYPE_CNAME, &rr)) {
		target->state = MX_TARGET_CNAME;
		return;
	}
	collect(z, name, target, mm);
}

void mx_exchange_lookup(const knot_dname_t *exchange, mx_target_t *target,
                        mx_rrset_get_f get, void *ctx, knot_mm_t *mm,
                        mx_lookup_memo_t *memo)
{
	memset(target, 0, sizeof(*target));
	knot_dname_storage_t name;
	size_t size = name_size(exchange);
	if (size == 0) {
		return;
	}
	mx_name_copy_lower(name, exchange, size);

	zone_t z = { .get = get, .ctx = ctx };
	if (!find_zone(&z, name, size, memo)) {
		return;
	}

	// Walk down from the apex: the labels between it and the exchange.
	size_t depth = knot_dname_labels(name, NULL) - knot_dname_labels(z.zone, NULL);
	if (depth == 0) {
		judge_node(&z, z.zone, target, mm);
		return;
	}
	// Below a DNAME the name is another's (out of zone, as below a cut).
	knot_rrset_t dname;
	if (has(&z, z.zone, KNOT_RRTYPE_DNAME, &dname)) {
		return;
	}
	const knot_dname_t *encloser = z.zone;
	for (size_t d = depth; d > 0; d--) {
		// The ancestor d - 1 labels above the exchange (d = 1: the exchange).
		const knot_dname_t *node = name;
		for (size_t i = 1; i < d; i++) {
			node = parent_of(node);
		}
		knot_rrset_t rr;
		int ret = get(ctx, z.zone, node, KNOT_RRTYPE_NS, &rr);
		if (ret == KNOT_ENONODE) {
			break;  // the closest encloser is the node above
		}
		if (ret != KNOT_EOK) {
			return;
		}
		// At or below a zone cut the data is not the zone's.
		if (!knot_rrset_empty(&rr)) {
			return;
		}
		if (d > 1 && has(&z, node, KNOT_RRTYPE_DNAME, &rr)) {
			return;
		}
		encloser = node;
		if (d == 1) {
			judge_node(&z, node, target, mm);
			return;
		}
	}

	// No such name: a wildcard at the closest encloser speaks for it.
	knot_dname_storage_t wildcard;
	size_t encloser_size = knot_dname_size(encloser);
	if (encloser_size + 2 <= sizeof(wildcard)) {
		wildcard[0] = 1;
		wildcard[1] = '*';
		memcpy(wildcard + 2, encloser, encloser_size);
		if (exists(&z, wildcard)) {
			judge_node(&z, wildcard, target, mm);
			return;
		}
	}
	// The exchange does not exist: it has no address.
	target->state = MX_TARGET_FOUND;
}
