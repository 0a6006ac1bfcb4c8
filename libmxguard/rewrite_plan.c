/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>
#include <libknot/errcode.h>
#include <stdlib.h>
#include <libknot/mm_ctx.h>
#include <libknot/rrtype/rdname.h>

#include "rewrite_plan.h"

static const knot_rdata_t *rdata_at(const knot_rdataset_t *rrs, uint16_t pos)
{
	return knot_rdataset_at(rrs, pos);
}

static void raise_to(mx_action_t *current, mx_action_t action)
{
	if (action > *current) {
		*current = action;
	}
}

void mx_plan_init(mx_plan_t *plan, const knot_rdataset_t *rrs, mx_action_t *record)
{
	plan->rrs = rrs;
	plan->record = record;
	plan->strongest = MX_ACTION_OFF;
	plan->whole = false;
	for (uint16_t i = 0; i < rrs->count; i++) {
		record[i] = MX_ACTION_OFF;
	}
}

void mx_plan_add(mx_plan_t *plan, const mx_violation_t *violation, mx_action_t action)
{
	uint16_t pos = violation->rr_index;
	if (pos >= plan->rrs->count) {
		return;
	}
	raise_to(&plan->strongest, action);
	// The no-mail list speaks for the name, not for one record.
	if (violation->kind == MX_KIND_NULL_MX_OVERRIDE && action == MX_ACTION_NULL_MX) {
		plan->whole = true;
	}

	// "0 ." beside other records: the others are what contradicts it.
	if (violation->kind == MX_KIND_NULL_MX_CONFLICT && violation->preference == 0) {
		raise_to(&plan->record[pos], mx_action_rewrites(action) ? MX_ACTION_LOG : action);
		for (uint16_t i = 0; i < plan->rrs->count; i++) {
			if (i != pos && !mx_rdata_is_null(rdata_at(plan->rrs, i))) {
				raise_to(&plan->record[i], action);
			}
		}
		return;
	}
	raise_to(&plan->record[pos], action);
}

bool mx_plan_changes(const mx_plan_t *plan)
{
	return mx_action_rewrites(plan->strongest);
}

static uint16_t kept_count(const mx_plan_t *plan)
{
	uint16_t kept = 0;
	for (uint16_t i = 0; i < plan->rrs->count; i++) {
		kept += !mx_action_rewrites(plan->record[i]);
	}
	return kept;
}

bool mx_plan_null_mx(const mx_plan_t *plan)
{
	return plan->whole ||
	       (mx_action_rewrites(plan->strongest) && kept_count(plan) == 0);
}

bool mx_plan_keeps(const mx_plan_t *plan, uint16_t pos)
{
	if (pos >= plan->rrs->count || mx_plan_null_mx(plan)) {
		return false;
	}
	return !mx_action_rewrites(plan->record[pos]);
}

// The records kept, in one block as libknot lays an rdataset out: a part of a
// canonically ordered set, in its order, is ordered still.
int mx_plan_build(const mx_plan_t *plan, knot_rdataset_t *out, knot_mm_t *mm)
{
	// Preference 0, exchange the root (RFC 7505).
	static const uint8_t null_mx[3] = { 0, 0, 0 };
	bool null = mx_plan_null_mx(plan);
	uint16_t count = null ? 1 : 0;
	size_t size = null ? knot_rdata_size(sizeof(null_mx)) : 0;
	const knot_rdata_t *rd = plan->rrs->rdata;
	for (uint16_t i = 0; !null && i < plan->rrs->count; i++, rd = knot_rdataset_next((knot_rdata_t *)rd)) {
		if (!mx_action_rewrites(plan->record[i])) {
			count++;
			size += knot_rdata_size(rd->len);
		}
	}
	if (count == 0) {
		return KNOT_EOK;
	}
	// As libknot allocates (knot_rdataset_clear frees it).
	uint8_t *block = (mm != NULL) ? mm->alloc(mm->ctx, size) : malloc(size);
	if (block == NULL) {
		return KNOT_ENOMEM;
	}
	out->count = count;
	out->size = size;
	out->rdata = (knot_rdata_t *)block;
	if (null) {
		knot_rdata_init(out->rdata, sizeof(null_mx), null_mx);
		return KNOT_EOK;
	}
	rd = plan->rrs->rdata;
	for (uint16_t i = 0; i < plan->rrs->count; i++, rd = knot_rdataset_next((knot_rdata_t *)rd)) {
		if (!mx_action_rewrites(plan->record[i])) {
			size_t rd_size = knot_rdata_size(rd->len);
			memcpy(block, rd, rd_size);
			block += rd_size;
		}
	}
	return KNOT_EOK;
}

void mx_plan_positions(const mx_plan_t *plan, int32_t *map)
{
	bool null_mx = mx_plan_null_mx(plan);
	int32_t next = 0;
	for (uint16_t i = 0; i < plan->rrs->count; i++) {
		map[i] = (!null_mx && !mx_action_rewrites(plan->record[i])) ? next++ : -1;
	}
}
