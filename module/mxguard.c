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
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "adapter.h"
#include "config_rules.h"
#include "list_registry.h"

#define C_SERVER              "\x06""server"
#define C_ANSWER_ROTATION     "\x0f""answer-rotation"

// The schema knotd reads: the library's one description of the section.
static const yp_item_t mxguard_conf[] = {
	MX_CONF_ITEMS(knotd_conf_check_ref),
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

// knotd reads a check's message after the check returns.
static __thread char check_msg[640];

static int check_allow(knotd_conf_check_args_t *args)
{
	knotd_conf_t allow = knotd_conf_check_item(args, MX_CONF_ALLOW_ADDRESS);
	int ret = KNOT_EOK;
	for (size_t i = 0; i < allow.count && ret == KNOT_EOK; i++) {
		const knotd_conf_val_t *val = &allow.multi[i];
		mx_addr_t min, max;
		if (val->addr_max.ss_family == AF_UNSPEC ||
		    !addr_from_sockaddr(&min, &val->addr) ||
		    !addr_from_sockaddr(&max, &val->addr_max)) {
			continue;
		}
		ret = mx_conf_check_allow(&min, &max, check_msg, sizeof(check_msg));
		if (ret != KNOT_EOK) {
			args->err_str = check_msg;
		}
	}
	knotd_conf_free(&allow);
	return ret;
}

// The no-mail names of the items, then of the file: a list shared by the
// instances (zones) configured alike.
static int acquire_no_mail(knotd_conf_t *names, knotd_conf_t *file,
                           const mx_name_list_t **list, char *err, size_t err_len)
{
	const char *values[names->count + 1];
	for (size_t i = 0; i < names->count; i++) {
		values[i] = names->multi[i].string;
	}
	return mx_list_registry_acquire(values, names->count,
	                                file->count > 0 ? file->single.string : NULL,
	                                list, err, err_len);
}

static int check_no_mail(knotd_conf_check_args_t *args)
{
	knotd_conf_t names = knotd_conf_check_item(args, MX_CONF_NULL_MX);
	knotd_conf_t file = knotd_conf_check_item(args, MX_CONF_NULL_MX_FILE);
	if (names.count == 0 && file.count == 0) {
		return KNOT_EOK;
	}
	const mx_name_list_t *list = NULL;
	int ret = acquire_no_mail(&names, &file, &list, check_msg, sizeof(check_msg));
	if (ret != KNOT_EOK && ret != KNOT_ENOMEM) {
		args->err_str = check_msg;
	}
	mx_list_registry_release(list);
	knotd_conf_free(&names);
	return ret;
}

/*
 * The scope rule (a rewriting instance only in zone scope) cannot be checked
 * here: knotd checks a section as soon as it ends, and a global-module
 * reference to it can only come later in the file (a reference to an id not
 * yet defined is refused), so no use of the section is known yet. knotd
 * refuses such an instance when it loads it; mxguard-check, which reads the
 * whole file, refuses it with the same message.
 */
static int mxguard_conf_check(knotd_conf_check_args_t *args)
{
	for (unsigned k = 0; k < MX_KIND_COUNT; k++) {
		if (mx_conf_kind_items[k] == NULL) {
			continue;
		}
		knotd_conf_t val = knotd_conf_check_item(args, mx_conf_kind_items[k]);
		int ret = mx_conf_check_action(k, val.single.option, check_msg,
		                               sizeof(check_msg));
		if (ret != KNOT_EOK) {
			args->err_str = check_msg;
			return ret;
		}
	}
	knotd_conf_t dmarc = knotd_conf_check_item(args, MX_CONF_NO_MAIL_DMARC);
	if (dmarc.count > 0 &&
	    mx_conf_check_dmarc(dmarc.single.string, check_msg, sizeof(check_msg)) != KNOT_EOK) {
		args->err_str = check_msg;
		return KNOT_EINVAL;
	}
	int ret = check_allow(args);
	return (ret == KNOT_EOK) ? check_no_mail(args) : ret;
}

static int load_allow(knotd_mod_t *mod, mxguard_ctx_t *ctx)
{
	knotd_conf_t conf = knotd_conf_mod(mod, MX_CONF_ALLOW_ADDRESS);
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
	ctx->implicit = knotd_conf_mod(mod, MX_CONF_NULL_MX_IMPLICIT).single.boolean;
	ctx->null_mx_ttl = knotd_conf_mod(mod, MX_CONF_NULL_MX_TTL).single.integer;

	knotd_conf_t records = knotd_conf_mod(mod, MX_CONF_NO_MAIL_RECORDS);
	for (size_t i = 0; i < records.count; i++) {
		ctx->no_mail_records |= records.multi[i].option;
	}
	knotd_conf_free(&records);
	knotd_conf_t dmarc = knotd_conf_mod(mod, MX_CONF_NO_MAIL_DMARC);
	ctx->no_mail_dmarc = strdup(dmarc.single.string);
	if (ctx->no_mail_dmarc == NULL) {
		return KNOT_ENOMEM;
	}

	knotd_conf_t names = knotd_conf_mod(mod, MX_CONF_NULL_MX);
	knotd_conf_t file = knotd_conf_mod(mod, MX_CONF_NULL_MX_FILE);
	if (names.count == 0 && file.count == 0) {
		return KNOT_EOK;
	}
	char err[640] = "";
	int ret = acquire_no_mail(&names, &file, &ctx->no_mail, err, sizeof(err));
	knotd_conf_free(&names);
	if (ret != KNOT_EOK) {
		// The check passed a moment ago: the file changed in between.
		knotd_mod_log(mod, LOG_ERR, "%s", err[0] ? err : knot_strerror(ret));
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
	mxg_denial_free(ctx);
	mx_list_registry_release(ctx->no_mail);
	mx_log_limit_free(ctx->log_limit);
	mx_verdict_cache_free(ctx->verdicts);
	mxg_signing_free(ctx);
	pthread_mutex_destroy(&ctx->keys_lock);
	free(ctx->allow);
	free(ctx->no_mail_dmarc);
	free(ctx);
}

static int mxguard_load(knotd_mod_t *mod)
{
	mxguard_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return KNOT_ENOMEM;
	}
	pthread_mutex_init(&ctx->keys_lock, NULL);
	pthread_mutex_init(&ctx->nsec3_lock, NULL);

	mx_policy_init(&ctx->policy, MX_ACTION_LOG);
	for (unsigned k = 0; k < MX_KIND_COUNT; k++) {
		ctx->policy.action[k] = (mx_conf_kind_items[k] == NULL) ? MX_ACTION_OFF :
		                        knotd_conf_mod(mod, mx_conf_kind_items[k]).single.option;
	}
	ctx->unsigned_allow = knotd_conf_mod(mod, MX_CONF_DNSSEC_UNSIGNED).single.option ==
	                      MX_CONF_UNSIGNED_ALLOW;
	ctx->rotate = knotd_conf(mod, C_SERVER, C_ANSWER_ROTATION, NULL).single.boolean;

	int ret = load_allow(mod, ctx);
	if (ret == KNOT_EOK) {
		ret = load_null_mx(mod, ctx);
	}
	if (ret != KNOT_EOK) {
		ctx_free(ctx);
		return ret;
	}

	uint32_t interval = knotd_conf_mod(mod, MX_CONF_LOG_INTERVAL).single.integer;
	size_t table_size = knotd_conf_mod(mod, MX_CONF_LOG_TABLE_SIZE).single.integer;
	if (interval > 0) {
		ctx->log_limit = mx_log_limit_new(interval, table_size);
		if (ctx->log_limit == NULL) {
			ctx_free(ctx);
			return KNOT_ENOMEM;
		}
	}

	// Keys nobody can aim collisions at: from a seed of this instance.
	if (getrandom(&ctx->log_seed, sizeof(ctx->log_seed), GRND_NONBLOCK) !=
	    sizeof(ctx->log_seed)) {
		ctx->log_seed = (uint64_t)time(NULL) ^ (uintptr_t)ctx;
	}

	size_t cache_size = knotd_conf_mod(mod, MX_CONF_VERDICT_CACHE).single.integer;
	if (cache_size > 0) {
		ctx->verdicts = mx_verdict_cache_new(cache_size, ctx->log_seed);
		if (ctx->verdicts == NULL) {
			ctx_free(ctx);
			return KNOT_ENOMEM;
		}
		// The MX records stay exact; what is known of their exchanges
		// may lag by this much (the module's page says why).
		uint64_t max_age = knotd_conf_mod(mod, MX_CONF_VERDICT_MAX_AGE).single.integer;
		mx_verdict_cache_set_max_age(ctx->verdicts, max_age * 1000000000, NULL);
	}

	ctx->scan = (mx_scan_params_t) {
		.policy = &ctx->policy,
		.no_mail = ctx->no_mail,
		// A zone's instance answers for its zone only.
		.zone_size = knotd_mod_zone(mod) ? knot_dname_size(knotd_mod_zone(mod)) : 0,
		.one_zone = knotd_mod_zone(mod) != NULL,
		.cache = ctx->verdicts,
		.log_seed = ctx->log_seed,
	};
	ctx->zone = knotd_mod_zone(mod);
	mxg_exchange_source(&ctx->scan);
	// An instance that only logs needs no plans (the same test as enforces).
	ctx->scan.log_only = !mx_conf_rewrites(&ctx->policy, false, false);

	// Knot 3.5.4+ calls unload after a failed load only if a context is set.
	knotd_mod_ctx_set(mod, ctx);

	ctx->enforces = mx_conf_rewrites(&ctx->policy, false, false);
	// With no-mail-records, a zone's own lone null MX makes a no-mail name too.
	ctx->denial = ctx->implicit || ctx->no_mail_records != 0 ||
	              (ctx->no_mail != NULL && mx_name_list_count(ctx->no_mail) > 0);
	bool rewrites = mx_conf_rewrites(&ctx->policy, ctx->no_mail != NULL, ctx->implicit);
	// knotd runs a global module's hooks only when a query begins and ends,
	// never while the answer is made: a global instance can only observe.
	char scope_err[256];
	if (mx_conf_check_scope(knotd_mod_zone(mod) == NULL, rewrites, scope_err,
	                        sizeof(scope_err)) != KNOT_EOK) {
		knotd_mod_log(mod, LOG_ERR, "%s", scope_err);
		ctx_free(ctx);
		knotd_mod_ctx_set(mod, NULL);
		return KNOT_ENOTSUP;
	}
	if (rewrites) {
		mxg_signing_load(mod, ctx, cache_size);
	}

	mxg_host_init(mod, ctx);
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
