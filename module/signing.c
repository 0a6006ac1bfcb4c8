/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * DNSSEC: signing rewritten and synthesised MX RRsets with the zone's keys,
 * through knotd's module signing API.
 */

#include <time.h>

#include "adapter.h"

#define C_DNSSEC_SIGNING "\x0e""dnssec-signing"

void mxg_signing_load(knotd_mod_t *mod, mxguard_ctx_t *ctx)
{
	const knot_dname_t *zone = knotd_mod_zone(mod);
	if (zone == NULL || !knotd_conf_zone(mod, C_DNSSEC_SIGNING, zone).single.boolean) {
		return;
	}
	int ret = knotd_mod_dnssec_init(mod);
	if (ret == KNOT_EOK) {
		ret = knotd_mod_dnssec_load_keyset(mod, false);
	}
	if (ret != KNOT_EOK) {
		knotd_mod_log(mod, LOG_NOTICE, "signing keys not available (%s), "
		              "signed answers will not be rewritten", knot_strerror(ret));
		return;
	}
	ctx->can_sign = true;
}

bool mxg_sign(knotd_mod_t *mod, knotd_qdata_t *qdata, const knot_rrset_t *rr,
              knot_rrset_t *rrsig, const char **reason)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	if (!ctx->can_sign) {
		*reason = "no-signing-keys";
		return false;
	}

	knot_rrset_init(rrsig, rr->owner, KNOT_RRTYPE_RRSIG, KNOT_CLASS_IN, rr->ttl);
	pthread_mutex_lock(&ctx->sign_lock);
	int ret = knotd_mod_dnssec_sign_rrset(mod, rrsig, rr, qdata->mm);
	pthread_mutex_unlock(&ctx->sign_lock);
	if (ret != KNOT_EOK || rrsig->rrs.count == 0) {
		*reason = "signing-failed";
		return false;
	}

	// knotd fixes the validity period when the module loads: a signature a
	// resolver could cache past its expiry must not go out.
	uint32_t limit = (uint32_t)time(NULL) + rr->ttl;
	knot_rdata_t *rd = rrsig->rrs.rdata;
	for (uint16_t i = 0; i < rrsig->rrs.count; i++, rd = knot_rdataset_next(rd)) {
		// Serial-number arithmetic, as for all RRSIG times (RFC 4034 §3.1.5).
		if ((int32_t)(knot_rrsig_sig_expiration(rd) - limit) <= 0) {
			*reason = "signatures-expiring";
			return false;
		}
	}
	return true;
}
