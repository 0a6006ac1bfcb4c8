/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Harness (1): the checks on arbitrary owner names and MX rdata.
 *
 * Input: u16 actions (2 bits per configurable kind), u8 flags (0x01 zone,
 * 0x02 complete glue, 0x04 allow-address, 0x08 exact lookup, 0x20 an empty
 * rdata first, high nibble: lookup verdicts), the zone
 * name (flag 0x01), the owner name, a record count and that many records
 * (u16 preference and an exchange name), then glue (a name, a family octet
 * and 4 or 16 address octets) until the input ends. Names are uncompressed
 * wire names, as knotd holds them. Each violation must name a record of the
 * RRset and a kind that is checked; its log line must fit knotd's message;
 * the plan built from the violations must keep exactly the records that are
 * not stripped, or be a null MX.
 */

#include <sys/socket.h>

#include "fuzz_common.h"
#include "exchange_name.h"
#include "log_line.h"
#include "mx_check.h"
#include "providers.h"
#include "rewrite_plan.h"
#include "special_address.h"

#define MAX_RECORDS 64
#define MAX_GLUE 64
#define MAX_VIOLATIONS (MAX_RECORDS * MX_KIND_COUNT)

typedef struct {
	const mx_policy_t *policy;
	const knot_rdataset_t *rrs;
	const knot_dname_t *owner;
	mx_violation_t v[MAX_VIOLATIONS];
	unsigned count;
	// The exact lookup, served from the glue.
	const mx_glue_t *glue;
	size_t glue_count;
	mx_addr_t addrs[MAX_GLUE];
	uint8_t lookup_mode;
} run_t;

static const mx_addr_range_t allow[] = {
	{ .family = AF_INET, .min = { 192, 168, 1, 0 }, .max = { 192, 168, 1, 255 } },
	{ .family = AF_INET6, .min = { 0x20, 0x01, 0x0d, 0xb8 },
	  .max = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	           0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
};

static knot_rdata_t *rdata_at(const knot_rdataset_t *rrs, uint16_t pos)
{
	knot_rdata_t *rd = rrs->rdata;
	for (uint16_t i = 0; i < pos; i++) {
		rd = knot_rdataset_next(rd);
	}
	return rd;
}

static void on_violation(const mx_violation_t *v, void *ctx)
{
	run_t *run = ctx;
	FUZZ_ASSERT(v->kind < MX_KIND_COUNT);
	FUZZ_ASSERT(run->policy->action[v->kind] != MX_ACTION_OFF);
	FUZZ_ASSERT(v->rr_index < run->rrs->count);
	const knot_rdata_t *rd = rdata_at(run->rrs, v->rr_index);
	FUZZ_ASSERT(v->exchange == knot_mx_name(rd));
	FUZZ_ASSERT(v->preference == knot_wire_read_u16(rd->data));
	FUZZ_ASSERT(!v->has_addr || mx_addr_len(v->addr.family) != 0);
	FUZZ_ASSERT((v->provider != NULL) == (v->kind == MX_KIND_PROVIDER_MIX));
	FUZZ_ASSERT(run->count < MAX_VIOLATIONS);
	run->v[run->count++] = *v;

	// knotd truncates module messages at 511 octets; the line must be whole
	// or refused, never cut.
	char line[2048], small[64];
	int len = mx_log_line(line, sizeof(line), run->owner, v, "strip", 12345);
	FUZZ_ASSERT(len > 0 && (size_t)len == strlen(line));
	len = mx_log_line(small, sizeof(small), run->owner, v, "log", 0);
	FUZZ_ASSERT(len < (int)sizeof(small));
	FUZZ_ASSERT(len >= 0 || small[0] == '\0');
}

static void lookup(const knot_dname_t *exchange, mx_target_t *target, void *ctx)
{
	run_t *run = ctx;
	size_t n = 0;
	for (size_t i = 0; i < run->glue_count; i++) {
		if (knot_dname_is_case_equal(run->glue[i].owner, exchange)) {
			run->addrs[n++] = run->glue[i].addr;
		}
	}
	// The name's last octet picks what the lookup says of it.
	switch ((exchange[0] + run->lookup_mode) % 4) {
	case 0:
		return;  // unknown
	case 1:
		target->state = MX_TARGET_CNAME;
		return;
	default:
		target->state = MX_TARGET_FOUND;
		target->addrs = run->addrs;
		target->addr_count = n;
		return;
	}
}

static void check_plan(run_t *run, const mx_policy_t *policy)
{
	const knot_rdataset_t *rrs = run->rrs;
	mx_action_t record[MAX_RECORDS];
	mx_plan_t plan;
	mx_plan_init(&plan, rrs, record);
	for (unsigned i = 0; i < run->count; i++) {
		mx_plan_add(&plan, &run->v[i], policy->action[run->v[i].kind]);
	}

	knot_rdataset_t out;
	knot_rdataset_init(&out);
	FUZZ_ASSERT(mx_plan_build(&plan, &out, NULL) == KNOT_EOK);
	int32_t map[MAX_RECORDS];
	mx_plan_positions(&plan, map);

	if (mx_plan_null_mx(&plan)) {
		FUZZ_ASSERT(mx_plan_changes(&plan));
		FUZZ_ASSERT(out.count == 1 && out.rdata->len == 3);
		FUZZ_ASSERT(memcmp(out.rdata->data, "\0\0\0", 3) == 0);
		for (uint16_t i = 0; i < rrs->count; i++) {
			FUZZ_ASSERT(!mx_plan_keeps(&plan, i) && map[i] == -1);
		}
	} else {
		uint16_t kept = 0;
		for (uint16_t i = 0; i < rrs->count; i++) {
			knot_rdata_t *rd = rdata_at(rrs, i);
			// A record goes exactly when a strip or null-mx violation
			// targets it: its own, or a "0 ." beside it (rewrite_plan.h);
			// the null MX only when none is left.
			bool strip = false;
			for (unsigned k = 0; k < run->count; k++) {
				const mx_violation_t *v = &run->v[k];
				if (!mx_action_rewrites(policy->action[v->kind])) {
					continue;
				}
				bool conflict0 = v->kind == MX_KIND_NULL_MX_CONFLICT &&
				                 v->preference == 0;
				// ("0 ." strips every other record but a null MX.)
				bool null_mx = mx_rdata_ok(rd) && knot_mx_name(rd)[0] == '\0';
				strip = strip || (conflict0 ? v->rr_index != i && !null_mx
				                            : v->rr_index == i);
			}
			bool keeps = mx_plan_keeps(&plan, i);
			FUZZ_ASSERT(keeps == knot_rdataset_member(&out, rd));
			FUZZ_ASSERT(keeps == (map[i] >= 0));
			if (keeps) {
				FUZZ_ASSERT(map[i] == kept);
				kept++;
			}
			FUZZ_ASSERT(keeps == !strip);
		}
		FUZZ_ASSERT(out.count == kept);
		FUZZ_ASSERT(out.count > 0 || rrs->count == 0);
		FUZZ_ASSERT(mx_plan_changes(&plan) == (kept < rrs->count));
	}
	knot_rdataset_clear(&out, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_reader_t r = { data, size };
	uint16_t actions = fuzz_u16(&r);
	uint8_t flags = fuzz_u8(&r);

	mx_policy_t policy;
	mx_policy_init(&policy, MX_ACTION_OFF);
	for (unsigned k = 0; k < MX_KIND_NULL_MX_OVERRIDE; k++) {
		policy.action[k] = (actions >> (2 * k)) & 3;
	}
	if (policy.action[MX_KIND_PROVIDER_MIX] > MX_ACTION_LOG) {
		policy.action[MX_KIND_PROVIDER_MIX] = MX_ACTION_LOG;  // as the config check
	}
	if (flags & 0x04) {
		policy.allow = allow;
		policy.allow_count = sizeof(allow) / sizeof(allow[0]);
	}

	knot_dname_storage_t zone, owner;
	if ((flags & 0x01) && !fuzz_dname(&r, zone)) {
		return 0;
	}
	if (!fuzz_dname(&r, owner)) {
		return 0;
	}

	knot_rdataset_t rrs;
	knot_rdataset_init(&rrs);
	if (flags & 0x20) {
		// Empty rdata, as a parsed UPDATE may hold it: skipped, never read.
		knot_rdata_t empty = { .len = 0 };
		FUZZ_ASSERT(knot_rdataset_add(&rrs, &empty, NULL) == KNOT_EOK);
	}
	unsigned records = fuzz_u8(&r) % MAX_RECORDS;
	for (unsigned i = 0; i < records; i++) {
		uint8_t rdata[2 + KNOT_DNAME_MAXLEN];
		knot_wire_write_u16(rdata, fuzz_u16(&r));
		if (!fuzz_dname(&r, rdata + 2)) {
			break;
		}
		uint8_t buf[knot_rdata_size(sizeof(rdata))];
		knot_rdata_t *rd = (knot_rdata_t *)buf;
		knot_rdata_init(rd, 2 + knot_dname_size(rdata + 2), rdata);
		FUZZ_ASSERT(knot_rdataset_add(&rrs, rd, NULL) == KNOT_EOK);
	}

	mx_glue_t glue[MAX_GLUE];
	knot_dname_storage_t glue_names[MAX_GLUE];
	size_t glue_count = 0;
	while (glue_count < MAX_GLUE && fuzz_dname(&r, glue_names[glue_count])) {
		uint8_t family = fuzz_u8(&r) & 1 ? AF_INET6 : AF_INET;
		uint8_t bytes[16];
		size_t len = mx_addr_len(family);
		if (!fuzz_bytes(&r, bytes, len)) {
			break;
		}
		glue[glue_count].owner = glue_names[glue_count];
		FUZZ_ASSERT(mx_addr_from_rdata(&glue[glue_count].addr, bytes, len));
		FUZZ_ASSERT(mx_addr_classify(&glue[glue_count].addr, NULL) <= MX_ADDR_SPECIAL);
		glue_count++;
	}

	// The name functions on their own, on every name of the input.
	const knot_dname_t *names[] = { owner, (flags & 0x01) ? zone : NULL };
	for (size_t i = 0; i < 2 && names[i] != NULL; i++) {
		mx_addr_t addr;
		if (mx_exchange_ip_literal(names[i], &addr) && addr.family != 0) {
			char text[MX_ADDR_STRLEN];
			FUZZ_ASSERT(mx_addr_to_str(&addr, text, sizeof(text)) != NULL);
		}
		(void)mx_exchange_localhost(names[i]);
		(void)mx_provider_of(names[i]);
	}

	run_t run = {
		.policy = &policy, .rrs = &rrs, .owner = owner,
		.glue = glue, .glue_count = glue_count, .lookup_mode = flags >> 4,
	};
	mx_rrset_view_t view = {
		.zone = (flags & 0x01) ? zone : NULL,
		.owner = owner,
		.rrs = &rrs,
		.glue = glue,
		.glue_count = glue_count,
		.glue_complete = flags & 0x02,
		.lookup = (flags & 0x08) ? lookup : NULL,
		.lookup_ctx = &run,
	};
	unsigned found = mx_check_rrset(&view, &policy, on_violation, &run);
	FUZZ_ASSERT(found == run.count);
	FUZZ_ASSERT(mx_check_rrset(&view, &policy, NULL, NULL) == found);
	check_plan(&run, &policy);

	knot_rdataset_clear(&rrs, NULL);
	return 0;
}
