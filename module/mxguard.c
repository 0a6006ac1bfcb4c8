/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The adapter: the only file that talks to knotd's module API. It reads the
 * configuration, hooks into the answer path, feeds each MX RRset that knotd
 * serves to the rules (mx_check.c) and logs and counts what they find.
 */

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include "knot_compat.h"
#include "log_limit.h"
#include "log_line.h"
#include "mx_check.h"
#include "policy.h"

#define MOD_IP_LITERAL        "\x0a""ip-literal"
#define MOD_LOOPBACK          "\x08""loopback"
#define MOD_SPECIAL_ADDRESS   "\x0f""special-address"
#define MOD_MISSING_ADDRESS   "\x0f""missing-address"
#define MOD_NULL_MX_CONFLICT  "\x10""null-mx-conflict"
#define MOD_SELF_EXCHANGE     "\x0d""self-exchange"
#define MOD_PROVIDER_MIX      "\x0c""provider-mix"
#define MOD_CNAME_EXCHANGE    "\x0e""cname-exchange"
#define MOD_ALLOW_ADDRESS     "\x0d""allow-address"
#define MOD_LOG_INTERVAL      "\x0c""log-interval"
#define MOD_LOG_TABLE_SIZE    "\x0e""log-table-size"

// Config item of each kind, in mx_kind_t order.
static const yp_name_t *kind_items[MX_KIND_COUNT] = {
	[MX_KIND_IP_LITERAL]       = (const yp_name_t *)MOD_IP_LITERAL,
	[MX_KIND_LOOPBACK]         = (const yp_name_t *)MOD_LOOPBACK,
	[MX_KIND_SPECIAL_ADDRESS]  = (const yp_name_t *)MOD_SPECIAL_ADDRESS,
	[MX_KIND_MISSING_ADDRESS]  = (const yp_name_t *)MOD_MISSING_ADDRESS,
	[MX_KIND_NULL_MX_CONFLICT] = (const yp_name_t *)MOD_NULL_MX_CONFLICT,
	[MX_KIND_SELF_EXCHANGE]    = (const yp_name_t *)MOD_SELF_EXCHANGE,
	[MX_KIND_PROVIDER_MIX]     = (const yp_name_t *)MOD_PROVIDER_MIX,
	[MX_KIND_CNAME_EXCHANGE]   = (const yp_name_t *)MOD_CNAME_EXCHANGE,
};

static const knot_lookup_t action_values[] = {
	{ MX_ACTION_OFF, "off" },
	{ MX_ACTION_LOG, "log" },
	{ 0, NULL }
};

#define ACTION_ITEM(name) { name, YP_TOPT, YP_VOPT = { action_values, MX_ACTION_LOG } }

static const yp_item_t mxguard_conf[] = {
	ACTION_ITEM(MOD_IP_LITERAL),
	ACTION_ITEM(MOD_LOOPBACK),
	ACTION_ITEM(MOD_SPECIAL_ADDRESS),
	ACTION_ITEM(MOD_MISSING_ADDRESS),
	ACTION_ITEM(MOD_NULL_MX_CONFLICT),
	ACTION_ITEM(MOD_SELF_EXCHANGE),
	ACTION_ITEM(MOD_PROVIDER_MIX),
	ACTION_ITEM(MOD_CNAME_EXCHANGE),
	{ MOD_ALLOW_ADDRESS,  YP_TNET, YP_VNONE, YP_FMULTI },
	{ MOD_LOG_INTERVAL,   YP_TINT, YP_VINT = { 0, UINT32_MAX, 300, YP_STIME } },
	{ MOD_LOG_TABLE_SIZE, YP_TINT, YP_VINT = { 1, 10000000, 16384 } },
	{ NULL }
};

enum {
	CTR_INSPECTED,  // MX RRsets inspected
	CTR_VIOLATION,  // violations, by kind
	CTR_ACTION,     // RRsets with violations, by the action taken
	CTR_ERROR,      // internal failures (the answer went out unchanged)
};

typedef struct {
	mx_policy_t policy;
	mx_addr_range_t *allow;
	mx_log_limit_t *log_limit;  // NULL when every violation is logged
	atomic_bool error_logged;
} mxguard_ctx_t;

// Whether knotd ran the ADDITIONAL stage of the query being answered on this
// thread: only then is the glue complete (overflowing glue skips the stage).
static __thread struct {
	const knot_pkt_t *pkt;
	uint16_t id;
	bool glue_done;
} query_mark;

static char *kind_to_str(uint32_t idx, uint32_t count)
{
	return strdup(mx_kind_name(idx));
}

static char *action_to_str(uint32_t idx, uint32_t count)
{
	return strdup(mx_action_name(idx));
}

static bool is_mx_query(const knotd_qdata_t *qdata)
{
	if (qdata->type != KNOTD_QUERY_TYPE_NORMAL) {
		return false;
	}
	uint16_t qtype = knot_pkt_qtype(qdata->query);
	return qtype == KNOT_RRTYPE_MX || qtype == KNOT_RRTYPE_ANY;
}

static uint64_t now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

static void count_error(knotd_mod_t *mod, knotd_qdata_t *qdata, const char *what)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	knotd_mod_stats_incr(mod, qdata->params->thread_id, CTR_ERROR, 0, 1);
	if (!atomic_exchange(&ctx->error_logged, true)) {
		knotd_mod_log(mod, LOG_WARNING, "internal failure (%s), answer served "
		              "unchanged; further failures are only counted", what);
	}
}

static void *mm_get(knotd_qdata_t *qdata, size_t size)
{
	return qdata->mm->alloc(qdata->mm->ctx, size);
}

// The owner as written in the wire: wildcard answers and glue are expanded there.
static bool wire_owner(const knot_pkt_t *pkt, uint16_t rr_pos, knot_dname_t *out)
{
	uint16_t pos = pkt->rr_info[rr_pos].pos;
	if (pos >= pkt->size) {
		return false;
	}
	return knot_dname_unpack(out, pkt->wire + pos, KNOT_DNAME_MAXLEN, pkt->wire) > 0;
}

typedef struct {
	knotd_mod_t *mod;
	knotd_qdata_t *qdata;
	const knot_dname_t *zone;
	const knot_dname_t *owner;
	unsigned violations;
} report_ctx_t;

// Key of the log limiter: zone, owner, exchange (all lower case) and kind.
static size_t log_key(uint8_t *key, const report_ctx_t *r, const mx_violation_t *v)
{
	size_t len = 0;
	const knot_dname_t *names[] = { r->zone, r->owner, v->exchange };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t size = knot_dname_size(names[i]);
		memcpy(key + len, names[i], size);
		knot_dname_to_lower(key + len);
		len += size;
	}
	key[len++] = v->kind;
	return len;
}

static void report_violation(const mx_violation_t *v, void *data)
{
	report_ctx_t *r = data;
	mxguard_ctx_t *ctx = knotd_mod_ctx(r->mod);
	mx_action_t action = ctx->policy.action[v->kind];

	r->violations++;
	knotd_mod_stats_incr(r->mod, r->qdata->params->thread_id, CTR_VIOLATION,
	                     v->kind, 1);

	uint32_t suppressed = 0;
	if (ctx->log_limit != NULL) {
		uint8_t key[3 * KNOT_DNAME_MAXLEN + 1];
		size_t key_len = log_key(key, r, v);
		if (!mx_log_limit_hit(ctx->log_limit, key, key_len, now_seconds(),
		                      &suppressed)) {
			return;
		}
	}

	char line[2 * KNOT_DNAME_TXT_MAXLEN + 256];
	if (mx_log_line(line, sizeof(line), r->owner, v, mx_action_name(action),
	                suppressed) < 0) {
		count_error(r->mod, r->qdata, "log line too long");
		return;
	}
	knotd_mod_log(r->mod, LOG_INFO, "%s", line);
}

// Addresses in the ADDITIONAL section, under the names the client sees.
static bool collect_glue(const knot_pkt_t *pkt, knotd_qdata_t *qdata,
                         mx_glue_t **glue, size_t *count)
{
	const knot_pktsection_t *add = knot_pkt_section(pkt, KNOT_ADDITIONAL);
	size_t total = 0;
	for (uint16_t i = 0; i < add->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(add, i);
		if (rr->type == KNOT_RRTYPE_A || rr->type == KNOT_RRTYPE_AAAA) {
			total += rr->rrs.count;
		}
	}
	*glue = NULL;
	*count = 0;
	if (total == 0) {
		return true;
	}

	mx_glue_t *out = mm_get(qdata, total * sizeof(*out));
	if (out == NULL) {
		return false;
	}
	size_t n = 0;
	for (uint16_t i = 0; i < add->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(add, i);
		if (rr->type != KNOT_RRTYPE_A && rr->type != KNOT_RRTYPE_AAAA) {
			continue;
		}
		knot_dname_t *owner = mm_get(qdata, KNOT_DNAME_MAXLEN);
		if (owner == NULL || !wire_owner(pkt, add->pos + i, owner)) {
			return false;
		}
		knot_rdata_t *rd = rr->rrs.rdata;
		for (uint16_t j = 0; j < rr->rrs.count; j++, rd = knot_rdataset_next(rd)) {
			out[n].owner = owner;
			if (mx_addr_from_rdata(&out[n].addr, rd->data, rd->len)) {
				n++;
			}
		}
	}
	*glue = out;
	*count = n;
	return true;
}

static void inspect_rrset(knotd_mod_t *mod, knotd_qdata_t *qdata, const knot_pkt_t *pkt,
                          uint16_t rr_pos, const mx_glue_t *glue, size_t glue_count,
                          bool glue_complete)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	const knot_rrset_t *rr = &pkt->rr[rr_pos];

	knot_dname_storage_t owner;
	if (!wire_owner(pkt, rr_pos, owner)) {
		count_error(mod, qdata, "unreadable owner");
		return;
	}

	report_ctx_t report = {
		.mod = mod,
		.qdata = qdata,
		.zone = knotd_qdata_zone_name(qdata),
		.owner = owner,
	};
	mx_rrset_view_t view = {
		.zone = report.zone,
		.owner = owner,
		.rrs = &rr->rrs,
		.glue = glue,
		.glue_count = glue_count,
		.glue_complete = glue_complete,
	};

	knotd_mod_stats_incr(mod, qdata->params->thread_id, CTR_INSPECTED, 0, 1);
	mx_check_rrset(&view, &ctx->policy, report_violation, &report);
	if (report.violations > 0) {
		knotd_mod_stats_incr(mod, qdata->params->thread_id, CTR_ACTION,
		                     MX_ACTION_LOG, 1);
	}
}

static knotd_in_state_t mxguard_answer(knotd_in_state_t state, knot_pkt_t *pkt,
                                       knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	if (!is_mx_query(qdata)) {
		return state;
	}
	query_mark.pkt = pkt;
	query_mark.id = knot_wire_get_id(pkt->wire);
	query_mark.glue_done = false;
	return state;
}

static knotd_in_state_t mxguard_additional(knotd_in_state_t state, knot_pkt_t *pkt,
                                           knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	if (!is_mx_query(qdata)) {
		return state;
	}
	if (query_mark.pkt == pkt && query_mark.id == knot_wire_get_id(pkt->wire)) {
		query_mark.glue_done = true;
	}
	return state;
}

static knotd_state_t mxguard_end(knotd_state_t state, knot_pkt_t *pkt,
                                 knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	if (!is_mx_query(qdata)) {
		return state;
	}

	const knot_pktsection_t *answer = knot_pkt_section(pkt, KNOT_ANSWER);
	bool has_mx = false;
	for (uint16_t i = 0; i < answer->count && !has_mx; i++) {
		has_mx = (knot_pkt_rr(answer, i)->type == KNOT_RRTYPE_MX);
	}
	if (!has_mx) {
		return state;
	}

	bool glue_complete = query_mark.glue_done && query_mark.pkt == pkt &&
	                     query_mark.id == knot_wire_get_id(pkt->wire) &&
	                     !knot_wire_get_tc(pkt->wire);
	mx_glue_t *glue;
	size_t glue_count;
	if (!collect_glue(pkt, qdata, &glue, &glue_count)) {
		count_error(mod, qdata, "out of memory");
		return state;
	}

	for (uint16_t i = 0; i < answer->count; i++) {
		if (knot_pkt_rr(answer, i)->type == KNOT_RRTYPE_MX) {
			inspect_rrset(mod, qdata, pkt, answer->pos + i, glue, glue_count,
			              glue_complete);
		}
	}
	return state;
}

static bool addr_from_sockaddr(mx_addr_t *addr, const struct sockaddr_storage *ss)
{
	memset(addr, 0, sizeof(*addr));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		addr->family = AF_INET;
		memcpy(addr->bytes, &in->sin_addr, 4);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		addr->family = AF_INET6;
		memcpy(addr->bytes, &in6->sin6_addr, 16);
		return true;
	}
	return false;
}

// Knot accepts a range written backwards; it would silently match nothing.
static int mxguard_conf_check(knotd_conf_check_args_t *args)
{
	knotd_conf_t allow = knotd_conf_check_item(args, MOD_ALLOW_ADDRESS);
	int ret = KNOT_EOK;
	for (size_t i = 0; i < allow.count && ret == KNOT_EOK; i++) {
		const knotd_conf_val_t *val = &allow.multi[i];
		mx_addr_t min, max;
		if (val->addr_max.ss_family == AF_UNSPEC ||
		    !addr_from_sockaddr(&min, &val->addr) ||
		    !addr_from_sockaddr(&max, &val->addr_max)) {
			continue;
		}
		if (min.family != max.family ||
		    memcmp(min.bytes, max.bytes, sizeof(min.bytes)) > 0) {
			// knotd reads the message after we return.
			static __thread char err[160];
			char a[MX_ADDR_STRLEN], b[MX_ADDR_STRLEN];
			snprintf(err, sizeof(err), "invalid allow-address '%s-%s', "
			         "the first address must not be above the second",
			         mx_addr_to_str(&min, a, sizeof(a)),
			         mx_addr_to_str(&max, b, sizeof(b)));
			args->err_str = err;
			ret = KNOT_EINVAL;
		}
	}
	knotd_conf_free(&allow);
	return ret;
}

static int load_allow(knotd_mod_t *mod, mxguard_ctx_t *ctx)
{
	knotd_conf_t conf = knotd_conf_mod(mod, MOD_ALLOW_ADDRESS);
	if (conf.count == 0) {
		return KNOT_EOK;
	}
	ctx->allow = calloc(conf.count, sizeof(*ctx->allow));
	if (ctx->allow == NULL) {
		knotd_conf_free(&conf);
		return KNOT_ENOMEM;
	}

	size_t n = 0;
	for (size_t i = 0; i < conf.count; i++) {
		const knotd_conf_val_t *val = &conf.multi[i];
		mx_addr_t min, max;
		if (!addr_from_sockaddr(&min, &val->addr)) {
			continue;
		}
		mx_addr_range_t *range = &ctx->allow[n];
		if (val->addr_max.ss_family == AF_UNSPEC) {
			unsigned bits = val->addr_mask >= 0 ? (unsigned)val->addr_mask :
			                8 * mx_addr_len(min.family);
			if (!mx_addr_range_prefix(range, &min, bits)) {
				continue;
			}
		} else {
			if (!addr_from_sockaddr(&max, &val->addr_max)) {
				continue;
			}
			range->family = min.family;
			memcpy(range->min, min.bytes, sizeof(range->min));
			memcpy(range->max, max.bytes, sizeof(range->max));
		}
		n++;
	}
	knotd_conf_free(&conf);

	ctx->policy.allow = ctx->allow;
	ctx->policy.allow_count = n;
	return KNOT_EOK;
}

static void ctx_free(mxguard_ctx_t *ctx)
{
	if (ctx == NULL) {
		return;
	}
	mx_log_limit_free(ctx->log_limit);
	free(ctx->allow);
	free(ctx);
}

static int register_stats(knotd_mod_t *mod)
{
	int ret = knotd_mod_stats_add(mod, "inspected", 1, NULL);
	if (ret == KNOT_EOK) {
		ret = knotd_mod_stats_add(mod, "violation", MX_KIND_COUNT, kind_to_str);
	}
	if (ret == KNOT_EOK) {
		ret = knotd_mod_stats_add(mod, "action", MX_ACTION_COUNT, action_to_str);
	}
	if (ret == KNOT_EOK) {
		ret = knotd_mod_stats_add(mod, "error", 1, NULL);
	}
	return ret;
}

static int register_hooks(knotd_mod_t *mod)
{
	int ret = knotd_mod_in_hook(mod, KNOTD_STAGE_ANSWER, mxguard_answer);
	if (ret == KNOT_EOK) {
		ret = knotd_mod_in_hook(mod, KNOTD_STAGE_ADDITIONAL, mxguard_additional);
	}
	if (ret == KNOT_EOK) {
		ret = knotd_mod_hook(mod, KNOTD_STAGE_END, mxguard_end);
	}
	return ret;
}

static int mxguard_load(knotd_mod_t *mod)
{
	mxguard_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return KNOT_ENOMEM;
	}

	mx_policy_init(&ctx->policy, MX_ACTION_LOG);
	for (unsigned k = 0; k < MX_KIND_COUNT; k++) {
		ctx->policy.action[k] = knotd_conf_mod(mod, kind_items[k]).single.option;
	}

	int ret = load_allow(mod, ctx);
	if (ret != KNOT_EOK) {
		ctx_free(ctx);
		return ret;
	}

	uint32_t interval = knotd_conf_mod(mod, MOD_LOG_INTERVAL).single.integer;
	size_t table_size = knotd_conf_mod(mod, MOD_LOG_TABLE_SIZE).single.integer;
	if (interval > 0) {
		ctx->log_limit = mx_log_limit_new(interval, table_size);
		if (ctx->log_limit == NULL) {
			ctx_free(ctx);
			return KNOT_ENOMEM;
		}
	}

	// Knot 3.5.4+ calls unload after a failed load only if a context is set.
	knotd_mod_ctx_set(mod, ctx);

	ret = register_stats(mod);
	if (ret == KNOT_EOK) {
		ret = register_hooks(mod);
	}
	if (ret != KNOT_EOK) {
		ctx_free(ctx);
		knotd_mod_ctx_set(mod, NULL);
	}
	return ret;
}

static void mxguard_unload(knotd_mod_t *mod)
{
	// knotd_mod_log and knotd_mod_zone are unsafe here: the zone may be gone.
	ctx_free(knotd_mod_ctx(mod));
	knotd_mod_ctx_set(mod, NULL);
}

KNOTD_MOD_API(mxguard, KNOTD_MOD_FLAG_SCOPE_ANY | KNOTD_MOD_FLAG_OPT_CONF,
              mxguard_load, mxguard_unload, mxguard_conf, mxguard_conf_check);
