/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The module's configuration and life cycle: the schema knotd reads, its
 * checks, and an instance's load and unload. The hooks are in hooks.c,
 * signing in signing.c; the rules and the packet work in libmxguard/.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "adapter.h"

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
#define MOD_DNSSEC_UNSIGNED   "\x0f""dnssec-unsigned"
#define MOD_POLICY            "\x06""policy"
#define MOD_NULL_MX           "\x07""null-mx"
#define MOD_NULL_MX_FILE      "\x0c""null-mx-file"
#define MOD_NULL_MX_IMPLICIT  "\x10""null-mx-implicit"
#define MOD_NULL_MX_TTL       "\x0b""null-mx-ttl"

#define C_SERVER              "\x06""server"
#define C_ANSWER_ROTATION     "\x0f""answer-rotation"
#define C_POLICY              "\x06""policy"

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
	[MX_KIND_NULL_MX_OVERRIDE] = NULL,  // follows from the no-mail list
};

static const knot_lookup_t action_values[] = {
	{ MX_ACTION_OFF,     "off" },
	{ MX_ACTION_LOG,     "log" },
	{ MX_ACTION_STRIP,   "strip" },
	{ MX_ACTION_NULL_MX, "null-mx" },
	{ 0, NULL }
};

enum { UNSIGNED_DENY, UNSIGNED_ALLOW };

static const knot_lookup_t unsigned_values[] = {
	{ UNSIGNED_DENY,  "deny" },
	{ UNSIGNED_ALLOW, "allow" },
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
	{ MOD_ALLOW_ADDRESS,   YP_TNET, YP_VNONE, YP_FMULTI },
	{ MOD_LOG_INTERVAL,    YP_TINT, YP_VINT = { 0, UINT32_MAX, 300, YP_STIME } },
	{ MOD_LOG_TABLE_SIZE,  YP_TINT, YP_VINT = { 1, 10000000, 16384 } },
	{ MOD_DNSSEC_UNSIGNED, YP_TOPT, YP_VOPT = { unsigned_values, UNSIGNED_DENY } },
	{ MOD_NULL_MX,         YP_TSTR, YP_VNONE, YP_FMULTI },
	{ MOD_NULL_MX_FILE,    YP_TSTR, YP_VNONE },
	{ MOD_NULL_MX_IMPLICIT, YP_TBOOL, YP_VNONE },
	{ MOD_NULL_MX_TTL,     YP_TINT, YP_VINT = { 0, INT32_MAX, 3600, YP_STIME } },
	// knotd's DNSSEC init reads this item, and crashes if it is not declared.
	{ MOD_POLICY,          YP_TREF, YP_VREF = { C_POLICY }, YP_FNONE,
	                       { knotd_conf_check_ref } },
	{ NULL }
};

/*** Configuration and life cycle. ***/

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

static int check_allow(knotd_conf_check_args_t *args)
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
		// Knot accepts a range written backwards; it would match nothing.
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

// The no-mail names of the items, then of the file; *err says what is wrong.
static int load_no_mail(mx_name_list_t *list, knotd_conf_t *names, const char *file,
                        const char **err)
{
	// knotd reads the message after the check returns.
	static __thread char msg[640];
	for (size_t i = 0; i < names->count; i++) {
		const char *reason = NULL;
		int ret = mx_name_list_add(list, names->multi[i].string, &reason);
		if (ret != KNOT_EOK) {
			snprintf(msg, sizeof(msg), "invalid null-mx '%s' (%s)",
			         names->multi[i].string, reason ? reason : knot_strerror(ret));
			*err = msg;
			return ret;
		}
	}
	if (file != NULL && file[0] != '\0') {
		char reason[512];
		int ret = mx_name_list_load(list, file, reason, sizeof(reason));
		if (ret != KNOT_EOK) {
			snprintf(msg, sizeof(msg), "invalid null-mx-file, %s", reason);
			*err = msg;
			return ret;
		}
	}
	return KNOT_EOK;
}

static int check_no_mail(knotd_conf_check_args_t *args)
{
	knotd_conf_t names = knotd_conf_check_item(args, MOD_NULL_MX);
	knotd_conf_t file = knotd_conf_check_item(args, MOD_NULL_MX_FILE);
	if (names.count == 0 && file.count == 0) {
		return KNOT_EOK;
	}
	mx_name_list_t *list = mx_name_list_new();
	int ret = (list == NULL) ? KNOT_ENOMEM :
	          load_no_mail(list, &names, file.single.string, &args->err_str);
	mx_name_list_free(list);
	knotd_conf_free(&names);
	return ret;
}

static int mxguard_conf_check(knotd_conf_check_args_t *args)
{
	// No record is wrong by itself in a provider mix: nothing to strip.
	knotd_conf_t mix = knotd_conf_check_item(args, MOD_PROVIDER_MIX);
	if (mix.single.option > MX_ACTION_LOG) {
		args->err_str = (mix.single.option == MX_ACTION_STRIP) ?
			"invalid provider-mix 'strip', it takes only 'off' or 'log'" :
			"invalid provider-mix 'null-mx', it takes only 'off' or 'log'";
		return KNOT_EINVAL;
	}
	int ret = check_allow(args);
	return (ret == KNOT_EOK) ? check_no_mail(args) : ret;
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

static int load_null_mx(knotd_mod_t *mod, mxguard_ctx_t *ctx)
{
	ctx->implicit = knotd_conf_mod(mod, MOD_NULL_MX_IMPLICIT).single.boolean;
	ctx->null_mx_ttl = knotd_conf_mod(mod, MOD_NULL_MX_TTL).single.integer;

	knotd_conf_t names = knotd_conf_mod(mod, MOD_NULL_MX);
	knotd_conf_t file = knotd_conf_mod(mod, MOD_NULL_MX_FILE);
	if (names.count == 0 && file.count == 0) {
		return KNOT_EOK;
	}
	ctx->no_mail = mx_name_list_new();
	if (ctx->no_mail == NULL) {
		knotd_conf_free(&names);
		return KNOT_ENOMEM;
	}
	const char *err = NULL;
	int ret = load_no_mail(ctx->no_mail, &names, file.single.string, &err);
	knotd_conf_free(&names);
	if (ret != KNOT_EOK) {
		// The check passed a moment ago: the file changed in between.
		knotd_mod_log(mod, LOG_ERR, "%s", err ? err : knot_strerror(ret));
		return ret;
	}
	ctx->policy.action[MX_KIND_NULL_MX_OVERRIDE] = MX_ACTION_NULL_MX;
	return KNOT_EOK;
}

static void ctx_free(mxguard_ctx_t *ctx)
{
	if (ctx == NULL) {
		return;
	}
	mx_name_list_free(ctx->no_mail);
	mx_log_limit_free(ctx->log_limit);
	mxg_signing_free(ctx);
	pthread_mutex_destroy(&ctx->keys_lock);
	free(ctx->allow);
	free(ctx);
}

static int mxguard_load(knotd_mod_t *mod)
{
	mxguard_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return KNOT_ENOMEM;
	}
	pthread_mutex_init(&ctx->keys_lock, NULL);

	mx_policy_init(&ctx->policy, MX_ACTION_LOG);
	for (unsigned k = 0; k < MX_KIND_COUNT; k++) {
		ctx->policy.action[k] = (kind_items[k] == NULL) ? MX_ACTION_OFF :
		                        knotd_conf_mod(mod, kind_items[k]).single.option;
	}
	ctx->unsigned_allow = knotd_conf_mod(mod, MOD_DNSSEC_UNSIGNED).single.option ==
	                      UNSIGNED_ALLOW;
	ctx->rotate = knotd_conf(mod, C_SERVER, C_ANSWER_ROTATION, NULL).single.boolean;

	int ret = load_allow(mod, ctx);
	if (ret == KNOT_EOK) {
		ret = load_null_mx(mod, ctx);
	}
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

	for (unsigned k = 0; k < MX_KIND_COUNT; k++) {
		ctx->enforces = ctx->enforces || ctx->policy.action[k] >= MX_ACTION_STRIP;
	}
	bool rewrites = ctx->enforces || ctx->implicit;
	// knotd runs a global module's hooks only when a query begins and ends,
	// never while the answer is made: a global instance can only observe.
	if (rewrites && knotd_mod_zone(mod) == NULL) {
		knotd_mod_log(mod, LOG_ERR, "strip, null-mx and null MX names work only in "
		              "zone scope (knotd runs global modules only around the "
		              "answer); use 'module:' in a zone or template instead");
		ctx_free(ctx);
		knotd_mod_ctx_set(mod, NULL);
		return KNOT_ENOTSUP;
	}
	if (rewrites) {
		mxg_signing_load(mod, ctx);
	}

	ret = mxg_stats_register(mod);
	if (ret == KNOT_EOK) {
		ret = mxg_hooks_register(mod, ctx);
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
