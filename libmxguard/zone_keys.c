/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdlib.h>
#include <string.h>

#include "dnssec_compat.h"
#include "zone_keys.h"
#include "reasons.h"

// RRSIG rdata up to the signer's name (RFC 4034 §3.1).
#define RRSIG_HEADER_SIZE 18

static dnssec_binary_t rdata_binary(const knot_rdata_t *rd)
{
	dnssec_binary_t bin = { .size = rd->len, .data = (uint8_t *)rd->data };
	return bin;
}

bool mx_key_matches(const dnssec_key_t *key, const knot_rdata_t *dnskey)
{
	dnssec_binary_t have = { 0 };
	if (key == NULL || dnssec_key_get_rdata(key, &have) != MX_DNSSEC_EOK) {
		return false;
	}
	return have.size == dnskey->len && memcmp(have.data, dnskey->data, have.size) == 0;
}

// Signs a fixed text and verifies it with the key's public part (the record's).
static bool key_self_test(const dnssec_key_t *key)
{
	static const uint8_t probe[] = "mxguard: does this private key belong to the DNSKEY?";
	dnssec_binary_t data = { .size = sizeof(probe), .data = (uint8_t *)probe };
	dnssec_binary_t sig = { 0 };
	dnssec_sign_ctx_t *ctx = NULL;
	bool ok = dnssec_sign_new(&ctx, key) == MX_DNSSEC_EOK &&
	          dnssec_sign_add(ctx, &data) == MX_DNSSEC_EOK &&
	          dnssec_sign_write(ctx, DNSSEC_SIGN_NORMAL, &sig) == MX_DNSSEC_EOK &&
	          dnssec_sign_init(ctx) == MX_DNSSEC_EOK &&
	          dnssec_sign_add(ctx, &data) == MX_DNSSEC_EOK &&
	          dnssec_sign_verify(ctx, false, &sig) == MX_DNSSEC_EOK;
	dnssec_sign_free(ctx);
	dnssec_binary_free(&sig);
	return ok;
}

// The private key from one PKCS #8 directory; MX_DNSSEC_ENOENT if it is not there.
static int load_from_dir(const char *dir, const char *id, dnssec_key_t *key)
{
	dnssec_keystore_t *store = NULL;
	int ret = dnssec_keystore_init_pkcs8(&store);
	if (ret != MX_DNSSEC_EOK) {
		return ret;
	}
	// Opening fails while the directory does not exist (no key made yet).
	ret = dnssec_keystore_open(store, dir);
	if (ret == MX_DNSSEC_EOK) {
		ret = dnssec_keystore_get_private(store, id, key);
	} else {
		ret = MX_DNSSEC_ENOENT;
	}
	dnssec_keystore_deinit(store);
	return ret;
}

int mx_key_load(const char *const *dirs, size_t count, const knot_dname_t *zone,
                const knot_rdata_t *dnskey, dnssec_key_t **out, const char **reason)
{
	*reason = mx_reason_name(MX_REASON_OUT_OF_MEMORY);
	dnssec_key_t *key = NULL;
	if (dnssec_key_new(&key) != MX_DNSSEC_EOK) {
		return KNOT_ENOMEM;
	}
	dnssec_binary_t rdata = rdata_binary(dnskey);
	char *id = NULL;
	int ret = dnssec_key_set_dname(key, zone);
	if (ret == MX_DNSSEC_EOK) {
		ret = dnssec_key_set_rdata(key, &rdata);
		*reason = mx_reason_name(MX_REASON_KEY_UNREADABLE);
	}
	if (ret == MX_DNSSEC_EOK) {
		ret = dnssec_key_get_keyid(key, &id);
	}
	if (ret != MX_DNSSEC_EOK) {
		dnssec_key_free(key);
		return KNOT_EINVAL;
	}

	bool found = false, unreadable = false;
	for (size_t i = 0; i < count && !found; i++) {
		ret = load_from_dir(dirs[i], id, key);
		found = (ret == MX_DNSSEC_EOK);
		unreadable = unreadable || (ret != MX_DNSSEC_ENOENT);
	}
	free(id);
	if (!found) {
		*reason = mx_reason_name(unreadable ? MX_REASON_KEY_UNREADABLE :
		                         MX_REASON_KEY_NOT_FOUND);
		dnssec_key_free(key);
		return KNOT_ENOENT;
	}
	if (!dnssec_key_can_sign(key) || !mx_key_matches(key, dnskey) ||
	    !key_self_test(key)) {
		*reason = mx_reason_name(MX_REASON_KEY_MISMATCH);
		dnssec_key_free(key);
		return KNOT_EINVAL;
	}
	*reason = NULL;
	*out = key;
	return KNOT_EOK;
}

// Adds one RR's rdata in canonical form (RFC 4034 §6.2) to a sorted set.
static int add_canonical(knot_rrset_t *canon, const knot_rdata_t *rd)
{
	knot_rrset_t one;
	knot_rrset_init(&one, canon->owner, canon->type, canon->rclass, canon->ttl);
	int ret = knot_rdataset_add(&one.rrs, rd, NULL);
	if (ret != KNOT_EOK) {
		return ret;
	}
	ret = knot_rrset_rr_to_canonical(&one);
	if (ret == KNOT_EOK) {
		// Sorted, duplicates dropped (RFC 4034 §6.3).
		ret = knot_rdataset_add(&canon->rrs, one.rrs.rdata, NULL);
	}
	knot_rdataset_clear(&one.rrs, NULL);
	return ret;
}

// The RRset in canonical wire form; *wire is malloc'ed.
static int canonical_wire(const knot_rrset_t *rr, const knot_dname_t *owner,
                          uint8_t **wire, size_t *size)
{
	knot_rrset_t canon;
	knot_rrset_init(&canon, (knot_dname_t *)owner, rr->type, rr->rclass, rr->ttl);
	int ret = KNOT_EOK;
	const knot_rdata_t *rd = rr->rrs.rdata;
	for (uint16_t i = 0; i < rr->rrs.count && ret == KNOT_EOK;
	     i++, rd = knot_rdataset_next((knot_rdata_t *)rd)) {
		ret = add_canonical(&canon, rd);
	}

	size_t need = 0;
	rd = canon.rrs.rdata;
	for (uint16_t i = 0; i < canon.rrs.count; i++, rd = knot_rdataset_next((knot_rdata_t *)rd)) {
		need += knot_dname_size(owner) + 10 + rd->len;
	}
	if (ret == KNOT_EOK && need > UINT16_MAX) {
		ret = KNOT_ESPACE;
	}
	uint8_t *buf = (ret == KNOT_EOK) ? malloc(need) : NULL;
	if (ret == KNOT_EOK && buf == NULL) {
		ret = KNOT_ENOMEM;
	}
	if (ret == KNOT_EOK) {
		int written = knot_rrset_to_wire(&canon, buf, need, NULL);
		if (written < 0) {
			ret = written;
		} else {
			*wire = buf;
			*size = written;
			buf = NULL;
		}
	}
	free(buf);
	knot_rdataset_clear(&canon.rrs, NULL);
	return ret;
}

static void write_header(uint8_t *h, const knot_rrset_t *rr, uint8_t algorithm,
                         uint8_t labels, uint32_t inception, uint32_t expiration,
                         uint16_t key_tag)
{
	knot_wire_write_u16(h, rr->type);
	h[2] = algorithm;
	h[3] = labels;
	knot_wire_write_u32(h + 4, rr->ttl);
	knot_wire_write_u32(h + 8, expiration);
	knot_wire_write_u32(h + 12, inception);
	knot_wire_write_u16(h + 16, key_tag);
}

int mx_rrsig_sign(const knot_rrset_t *rr, const knot_dname_t *signer,
                  const dnssec_key_t *key, uint32_t inception, uint32_t expiration,
                  knot_rdataset_t *rrsigs, knot_mm_t *mm)
{
	if (rr == NULL || knot_rrset_empty(rr) || signer == NULL || key == NULL ||
	    rrsigs == NULL || mx_time_diff(expiration, inception) <= 0) {
		return KNOT_EINVAL;
	}

	knot_dname_t *owner = knot_dname_copy(rr->owner, NULL);
	knot_dname_t *signer_lc = knot_dname_copy(signer, NULL);
	if (owner == NULL || signer_lc == NULL) {
		free(owner);
		free(signer_lc);
		return KNOT_ENOMEM;
	}
	knot_dname_to_lower(owner);
	knot_dname_to_lower(signer_lc);
	// The labels of the name signed for, without a wildcard's "*" (§3.1.3).
	size_t labels = knot_dname_labels(owner, NULL);
	if (knot_dname_is_wildcard(owner)) {
		labels--;
	}
	size_t signer_size = knot_dname_size(signer_lc);

	uint8_t *wire = NULL;
	size_t wire_size = 0;
	int ret = canonical_wire(rr, owner, &wire, &wire_size);
	free(owner);

	uint8_t header[RRSIG_HEADER_SIZE];
	write_header(header, rr, dnssec_key_get_algorithm(key), labels, inception,
	             expiration, dnssec_key_get_keytag(key));

	dnssec_binary_t sig = { 0 };
	if (ret == KNOT_EOK) {
		dnssec_binary_t parts[] = {
			{ .size = sizeof(header), .data = header },
			{ .size = signer_size, .data = signer_lc },
			{ .size = wire_size, .data = wire },
		};
		dnssec_sign_ctx_t *ctx = NULL;
		ret = dnssec_sign_new(&ctx, key);
		for (size_t i = 0; i < 3 && ret == MX_DNSSEC_EOK; i++) {
			ret = dnssec_sign_add(ctx, &parts[i]);
		}
		if (ret == MX_DNSSEC_EOK) {
			ret = dnssec_sign_write(ctx, DNSSEC_SIGN_NORMAL, &sig);
		}
		dnssec_sign_free(ctx);
		ret = (ret == MX_DNSSEC_EOK) ? KNOT_EOK : KNOT_ERROR;
	}
	free(wire);

	size_t len = sizeof(header) + signer_size + sig.size;
	if (ret == KNOT_EOK && len > UINT16_MAX) {
		ret = KNOT_ESPACE;
	}
	knot_rdata_t *rd = (ret == KNOT_EOK) ? malloc(knot_rdata_size(len)) : NULL;
	if (ret == KNOT_EOK && rd == NULL) {
		ret = KNOT_ENOMEM;
	}
	if (ret == KNOT_EOK) {
		rd->len = len;
		memcpy(rd->data, header, sizeof(header));
		memcpy(rd->data + sizeof(header), signer_lc, signer_size);
		memcpy(rd->data + sizeof(header) + signer_size, sig.data, sig.size);
		if (len & 1) {
			rd->data[len] = 0;  // the padding, as knot_rdata_init does
		}
		ret = knot_rdataset_add(rrsigs, rd, mm);
	}
	free(rd);
	free(signer_lc);
	dnssec_binary_free(&sig);
	return ret;
}

// Appends LEN bytes, or marks the key as not fitting (*len past max).
static void key_add(uint8_t *buf, size_t max, size_t *len, const void *data, size_t size)
{
	if (*len <= max && size <= max - *len) {
		memcpy(buf + *len, data, size);
	}
	*len += size;
}

size_t mx_signature_key(const knot_rrset_t *rr, const knot_dname_t *signer,
                        const mx_signer_t *signers, size_t count, uint8_t *buf, size_t max)
{
	size_t len = 0;
	key_add(buf, max, &len, signer, knot_dname_size(signer));
	size_t owner_at = len;
	key_add(buf, max, &len, rr->owner, knot_dname_size(rr->owner));
	if (len <= max) {
		knot_dname_to_lower(buf + owner_at);
	}
	key_add(buf, max, &len, &rr->type, sizeof(rr->type));
	key_add(buf, max, &len, &rr->rclass, sizeof(rr->rclass));
	key_add(buf, max, &len, &rr->ttl, sizeof(rr->ttl));
	key_add(buf, max, &len, &rr->rrs.count, sizeof(rr->rrs.count));
	key_add(buf, max, &len, rr->rrs.rdata, rr->rrs.size);
	for (size_t i = 0; i < count; i++) {
		const mx_signer_t *s = &signers[i];
		uint32_t fixed[] = { s->algorithm, s->key_tag, s->inception, s->expiration };
		key_add(buf, max, &len, fixed, sizeof(fixed));
		key_add(buf, max, &len, s->dnskey, knot_rdata_size(s->dnskey->len));
	}
	return len <= max ? len : 0;
}
