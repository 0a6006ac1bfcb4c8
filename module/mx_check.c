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

static bool glue_of(const mx_glue_t *glue, const knot_dname_t *exchange)
{
	return knot_dname_is_case_equal(glue->owner, exchange);
}

// Every address of the exchange: the literal one first, then the glue.
static const mx_addr_t *first_addr_of_class(const check_run_t *run,
                                            const knot_dname_t *exchange,
                                            const mx_addr_t *literal,
                                            mx_addr_class_t cls)
{
	if (literal != NULL && mx_addr_classify(literal, NULL) == cls &&
	    (cls != MX_ADDR_SPECIAL ||
	     !mx_addr_in_ranges(run->policy->allow, run->policy->allow_count, literal))) {
		return literal;
	}
	const mx_rrset_view_t *view = run->view;
	for (size_t i = 0; i < view->glue_count; i++) {
		const mx_addr_t *addr = &view->glue[i].addr;
		if (!glue_of(&view->glue[i], exchange) ||
		    mx_addr_classify(addr, NULL) != cls) {
			continue;
		}
		if (cls == MX_ADDR_SPECIAL &&
		    mx_addr_in_ranges(run->policy->allow, run->policy->allow_count, addr)) {
			continue;
		}
		return addr;
	}
	return NULL;
}

static bool has_glue(const mx_rrset_view_t *view, const knot_dname_t *exchange)
{
	for (size_t i = 0; i < view->glue_count; i++) {
		if (glue_of(&view->glue[i], exchange)) {
			return true;
		}
	}
	return false;
}

static bool in_zone(const mx_rrset_view_t *view, const knot_dname_t *name)
{
	return view->zone != NULL && knot_dname_in_bailiwick(name, view->zone) >= 0;
}

static void check_exchange(check_run_t *run, mx_violation_t *v)
{
	const mx_rrset_view_t *view = run->view;
	const knot_dname_t *exchange = v->exchange;

	mx_addr_t literal_addr;
	bool literal = mx_exchange_ip_literal(exchange, &literal_addr);
	const mx_addr_t *literal_ptr = (literal && literal_addr.family != 0) ?
	                               &literal_addr : NULL;

	if (literal && checked(run, MX_KIND_IP_LITERAL)) {
		report(run, v, MX_KIND_IP_LITERAL, literal_ptr, NULL);
	}

	if (checked(run, MX_KIND_LOOPBACK)) {
		const mx_addr_t *addr = first_addr_of_class(run, exchange, literal_ptr,
		                                            MX_ADDR_LOOPBACK);
		if (addr != NULL || mx_exchange_localhost(exchange)) {
			report(run, v, MX_KIND_LOOPBACK, addr, NULL);
		}
	}

	if (checked(run, MX_KIND_SPECIAL_ADDRESS)) {
		const mx_addr_t *addr = first_addr_of_class(run, exchange, literal_ptr,
		                                            MX_ADDR_SPECIAL);
		if (addr != NULL) {
			report(run, v, MX_KIND_SPECIAL_ADDRESS, addr, NULL);
		}
	}

	// Without every address the server holds, absence proves nothing.
	if (checked(run, MX_KIND_MISSING_ADDRESS) && view->glue_complete &&
	    !literal && in_zone(view, exchange) && !has_glue(view, exchange)) {
		report(run, v, MX_KIND_MISSING_ADDRESS, NULL, NULL);
	}

	if (checked(run, MX_KIND_SELF_EXCHANGE) &&
	    knot_dname_is_case_equal(exchange, view->owner)) {
		report(run, v, MX_KIND_SELF_EXCHANGE, NULL, NULL);
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
	check_run_t run = { .view = view, .policy = policy, .cb = cb, .ctx = ctx };
	const knot_rdataset_t *rrs = view->rrs;

	knot_rdata_t *rd = rrs->rdata;
	for (uint16_t i = 0; i < rrs->count; i++, rd = knot_rdataset_next(rd)) {
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
