/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>
#include <libknot/rrtype/rdname.h>
#include <libknot/wire.h>

#include "exchange_name.h"
#include "mx_check.h"
#include "providers.h"
#include "special_address.h"

typedef struct {
	const mx_rrset_view_t *view;
	const mx_policy_t *policy;
	mx_violation_cb cb;
	void *ctx;
	unsigned found;
	bool lookups;  // a kind checked needs the exchanges' addresses or alias
} check_run_t;

static bool checked(const check_run_t *run, mx_kind_t kind)
{
	return run->policy->action[kind] != MX_ACTION_OFF;
}

static void report(check_run_t *run, mx_violation_t *v, mx_kind_t kind,
                   const mx_addr_t *addr, const char *provider)
{
	v->kind = kind;
	v->has_addr = (addr != NULL);
	if (addr != NULL) {
		v->addr = *addr;
	} else {
		memset(&v->addr, 0, sizeof(v->addr));
	}
	v->provider = provider;
	run->found++;
	if (run->cb != NULL) {
		run->cb(v, run->ctx);
	}
}

// The addresses of one exchange, from the lookup or from the glue.
typedef struct {
	const check_run_t *run;
	const knot_dname_t *exchange;
	const mx_target_t *target;
	size_t pos;
} addr_iter_t;

static const mx_addr_t *next_addr(addr_iter_t *it)
{
	const mx_rrset_view_t *view = it->run->view;
	if (view->lookup != NULL) {
		if (it->target->state != MX_TARGET_FOUND || it->pos >= it->target->addr_count) {
			return NULL;
		}
		return &it->target->addrs[it->pos++];
	}
	while (it->pos < view->glue_count) {
		const mx_glue_t *glue = &view->glue[it->pos++];
		// knotd's glue list names the exchange by the record's own name.
		if (glue->owner == it->exchange ||
		    knot_dname_is_case_equal(glue->owner, it->exchange)) {
			return &glue->addr;
		}
	}
	return NULL;
}

static bool allowed(const check_run_t *run, const mx_addr_t *addr)
{
	return mx_addr_in_ranges(run->policy->allow, run->policy->allow_count, addr);
}

// What the addresses of one exchange show: the first loopback and the first
// reportable special-purpose address (the literal one before the others),
// and whether it has any address at all. One pass classifies each address
// once: this runs for every record of every MX answer.
typedef struct {
	const mx_addr_t *loopback;
	const mx_addr_t *special;
	bool any;
} addr_summary_t;

static void note_addr(const check_run_t *run, addr_summary_t *sum, const mx_addr_t *addr,
                      bool want_loopback, bool want_special)
{
	if ((!want_loopback || sum->loopback != NULL) &&
	    (!want_special || sum->special != NULL)) {
		return;
	}
	mx_addr_class_t cls = mx_addr_classify(addr, NULL);
	if (cls == MX_ADDR_LOOPBACK && want_loopback && sum->loopback == NULL) {
		sum->loopback = addr;
	}
	// The allow-list exempts special-purpose addresses, never loopback.
	if (cls == MX_ADDR_SPECIAL && want_special && sum->special == NULL &&
	    !allowed(run, addr)) {
		sum->special = addr;
	}
}

static void summarise_addrs(const check_run_t *run, const knot_dname_t *exchange,
                            const mx_target_t *target, const mx_addr_t *literal,
                            addr_summary_t *sum)
{
	bool want_loopback = checked(run, MX_KIND_LOOPBACK);
	bool want_special = checked(run, MX_KIND_SPECIAL_ADDRESS);
	memset(sum, 0, sizeof(*sum));
	if (literal != NULL) {
		note_addr(run, sum, literal, want_loopback, want_special);
	}
	addr_iter_t it = { .run = run, .exchange = exchange, .target = target };
	const mx_addr_t *addr;
	while ((addr = next_addr(&it)) != NULL) {
		sum->any = true;
		note_addr(run, sum, addr, want_loopback, want_special);
		if ((!want_loopback || sum->loopback != NULL) &&
		    (!want_special || sum->special != NULL)) {
			break;  // nothing left to learn: 'any' is already known
		}
	}
}

// Whether the exchange has no address: proven (an authoritative name without
// one), inferred (\a inferred: no name at hand, which may also be one below
// a zone cut or a DNAME), or not known.
static bool address_missing(const check_run_t *run, const knot_dname_t *exchange,
                            const mx_target_t *target, const addr_summary_t *sum,
                            bool *inferred)
{
	const mx_rrset_view_t *view = run->view;
	if (view->lookup != NULL) {
		*inferred = (target->state == MX_TARGET_ABSENT);
		return *inferred ||
		       (target->state == MX_TARGET_FOUND && target->addr_count == 0);
	}
	// Glue alone never proves an absence.
	*inferred = true;
	return !sum->any && view->glue_complete && view->zone != NULL &&
	       knot_dname_in_bailiwick(exchange, view->zone) >= 0;
}

static void check_exchange(check_run_t *run, mx_violation_t *v)
{
	const mx_rrset_view_t *view = run->view;
	const knot_dname_t *exchange = v->exchange;

	mx_addr_t literal_addr;
	bool literal = mx_exchange_ip_literal(exchange, &literal_addr);
	const mx_addr_t *literal_ptr = (literal && literal_addr.family != 0) ?
	                               &literal_addr : NULL;

	mx_target_t target = { 0 };
	if (view->lookup != NULL && !literal && run->lookups) {
		view->lookup(exchange, &target, view->lookup_ctx);
	}

	if (literal && checked(run, MX_KIND_IP_LITERAL)) {
		report(run, v, MX_KIND_IP_LITERAL, literal_ptr, NULL);
	}

	addr_summary_t sum;
	summarise_addrs(run, exchange, &target, literal_ptr, &sum);

	if (checked(run, MX_KIND_LOOPBACK) &&
	    (sum.loopback != NULL || mx_exchange_localhost(exchange))) {
		report(run, v, MX_KIND_LOOPBACK, sum.loopback, NULL);
	}

	if (checked(run, MX_KIND_SPECIAL_ADDRESS) && sum.special != NULL) {
		report(run, v, MX_KIND_SPECIAL_ADDRESS, sum.special, NULL);
	}

	bool inferred = false;
	if (checked(run, MX_KIND_MISSING_ADDRESS) && !literal &&
	    address_missing(run, exchange, &target, &sum, &inferred)) {
		v->inferred = inferred;
		report(run, v, MX_KIND_MISSING_ADDRESS, NULL, NULL);
		v->inferred = false;
	}

	if (checked(run, MX_KIND_SELF_EXCHANGE) &&
	    knot_dname_is_case_equal(exchange, view->owner)) {
		report(run, v, MX_KIND_SELF_EXCHANGE, NULL, NULL);
	}

	if (checked(run, MX_KIND_CNAME_EXCHANGE) && target.state == MX_TARGET_CNAME) {
		report(run, v, MX_KIND_CNAME_EXCHANGE, NULL, NULL);
	}
}

// Exchanges of two or more known providers: each provider's exchange is reported.
static void check_provider_mix(check_run_t *run)
{
	const knot_rdataset_t *rrs = run->view->rrs;
	const char *first = NULL;
	bool mixed = false;

	knot_rdata_t *rd = rrs->rdata;
	for (uint16_t i = 0; i < rrs->count && !mixed; i++, rd = knot_rdataset_next(rd)) {
		if (!mx_rdata_ok(rd)) {
			continue;
		}
		const char *provider = mx_provider_of(knot_mx_name(rd));
		if (provider == NULL) {
			continue;
		}
		if (first == NULL) {
			first = provider;
		} else if (strcmp(first, provider) != 0) {
			mixed = true;
		}
	}
	if (!mixed) {
		return;
	}

	rd = rrs->rdata;
	for (uint16_t i = 0; i < rrs->count; i++, rd = knot_rdataset_next(rd)) {
		if (!mx_rdata_ok(rd)) {
			continue;
		}
		const char *provider = mx_provider_of(knot_mx_name(rd));
		if (provider == NULL) {
			continue;
		}
		mx_violation_t v = {
			.rr_index = i,
			.preference = knot_wire_read_u16(rd->data),
			.exchange = knot_mx_name(rd),
		};
		report(run, &v, MX_KIND_PROVIDER_MIX, NULL, provider);
	}
}

unsigned mx_check_rrset(const mx_rrset_view_t *view, const mx_policy_t *policy,
                        mx_violation_cb cb, void *ctx)
{
	check_run_t run = { .view = view, .policy = policy, .cb = cb, .ctx = ctx,
	                    .lookups = mx_policy_needs_lookups(policy) };
	const knot_rdataset_t *rrs = view->rrs;

	knot_rdata_t *rd = rrs->rdata;
	for (uint16_t i = 0; i < rrs->count; i++, rd = knot_rdataset_next(rd)) {
		if (!mx_rdata_ok(rd)) {
			continue;  // nothing to judge, nothing to name in a log line
		}
		mx_violation_t v = {
			.rr_index = i,
			.preference = knot_wire_read_u16(rd->data),
			.exchange = knot_mx_name(rd),
		};

		// A null MX (RFC 7505) has no exchange to judge, only its company.
		if (v.exchange[0] == '\0') {
			if (checked(&run, MX_KIND_NULL_MX_CONFLICT) &&
			    (rrs->count > 1 || v.preference != 0)) {
				report(&run, &v, MX_KIND_NULL_MX_CONFLICT, NULL, NULL);
			}
			continue;
		}
		check_exchange(&run, &v);
	}

	if (checked(&run, MX_KIND_PROVIDER_MIX)) {
		check_provider_mix(&run);
	}

	return run.found;
}
