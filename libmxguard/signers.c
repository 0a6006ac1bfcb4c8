/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "dnssec_compat.h"
#include "signers.h"
#include "reasons.h"

// RRSIG rdata up to the signer's name (RFC 4034 §3.1).
#define RRSIG_HEADER_SIZE 18

// DNSKEY flags (RFC 4034 §2.1.1, RFC 5011 §3).
#define DNSKEY_FLAG_ZONE   0x0100
#define DNSKEY_FLAG_REVOKE 0x0080
#define DNSKEY_PROTOCOL    3

static bool dnskey_usable(const knot_rdata_t *rd, uint8_t algorithm, uint16_t key_tag)
{
	if (rd->len < 4 || knot_dnskey_proto(rd) != DNSKEY_PROTOCOL ||
	    knot_dnskey_alg(rd) != algorithm) {
		return false;
	}
	uint16_t flags = knot_dnskey_flags(rd);
	if (!(flags & DNSKEY_FLAG_ZONE) || (flags & DNSKEY_FLAG_REVOKE)) {
		return false;
	}
	dnssec_binary_t bin = { .size = rd->len, .data = (uint8_t *)rd->data };
	uint16_t tag = 0;
	return dnssec_keytag(&bin, &tag) == MX_DNSSEC_EOK && tag == key_tag;
}

static const knot_rdata_t *find_dnskey(const knot_rdataset_t *dnskey, uint8_t algorithm,
                                       uint16_t key_tag)
{
	const knot_rdata_t *rd = dnskey->rdata;
	for (uint16_t i = 0; i < dnskey->count; i++, rd = knot_rdataset_next((knot_rdata_t *)rd)) {
		if (dnskey_usable(rd, algorithm, key_tag)) {
			return rd;
		}
	}
	return NULL;
}

size_t mx_signers_find(const knot_rdataset_t *apex_rrsig, const knot_rdataset_t *dnskey,
                       uint32_t now, mx_signer_t *out, const char **reason)
{
	*reason = mx_reason_name(MX_REASON_NO_APEX_SIGNATURE);
	if (apex_rrsig == NULL || dnskey == NULL) {
		return 0;
	}

	size_t count = 0;
	const knot_rdata_t *rd = apex_rrsig->rdata;
	for (uint16_t i = 0; i < apex_rrsig->count;
	     i++, rd = knot_rdataset_next((knot_rdata_t *)rd)) {
		// The fixed part and a signer name of at least the root.
		if (rd->len < RRSIG_HEADER_SIZE + 1 ||
		    knot_rrsig_type_covered(rd) != KNOT_RRTYPE_SOA) {
			continue;
		}
		uint32_t inception = knot_rrsig_sig_inception(rd);
		uint32_t expiration = knot_rrsig_sig_expiration(rd);
		if (mx_time_diff(now, inception) < 0 || mx_time_diff(expiration, now) <= 0) {
			continue;
		}
		uint8_t algorithm = knot_rrsig_alg(rd);
		uint16_t key_tag = knot_rrsig_key_tag(rd);
		const knot_rdata_t *key = find_dnskey(dnskey, algorithm, key_tag);
		if (key == NULL) {
			continue;
		}

		mx_signer_t signer = {
			.algorithm = algorithm,
			.key_tag = key_tag,
			.inception = inception,
			.expiration = expiration,
			.dnskey = key,
		};
		size_t slot = 0;
		while (slot < count && out[slot].algorithm != algorithm) {
			slot++;
		}
		if (slot < count) {
			// Two signatures of one algorithm: the one that lasts longer.
			if (mx_time_diff(expiration, out[slot].expiration) > 0) {
				out[slot] = signer;
			}
		} else if (count < MX_SIGNERS_MAX) {
			out[count++] = signer;
		}
	}
	if (count > 0) {
		*reason = NULL;
	}
	return count;
}

size_t mx_signers_choose(const knot_rdataset_t *apex_rrsig, const knot_rdataset_t *dnskey,
                         uint32_t now, uint32_t ttl, mx_signer_t *out, const char **reason)
{
	size_t count = mx_signers_find(apex_rrsig, dnskey, now, out, reason);
	for (size_t i = 0; i < count; i++) {
		// A signature a resolver could cache past its expiry does not go out.
		if (mx_time_diff(out[i].expiration, now) <= (int64_t)ttl) {
			*reason = mx_reason_name(MX_REASON_SIGNATURES_EXPIRING);
			return 0;
		}
	}
	return count;
}
