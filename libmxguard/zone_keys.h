/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief The private keys of the zone's signers (signers.h), read from
 *        knotd's PKCS #8 key stores, and the RRSIG records made with them
 *        (RFC 4034 §3), with libdnssec.
 *
 * Nothing here talks to knotd: the module passes the key stores' paths and
 * the records in.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/libknot.h>

#include "dnssec_compat.h"
#include "signers.h"

/*!
 * \brief Loads the private key of a DNSKEY record from PKCS #8 key stores.
 *
 * The key ID (file name "ID.pem") follows from the public key. The loaded
 * key is checked against the record: a test signature must verify with the
 * record's public key.
 *
 * \param dirs    Key store directories (knotd's "keystore" config paths).
 * \param count   Their number.
 * \param zone    The zone's apex name (the key's owner).
 * \param dnskey  The DNSKEY record.
 * \param out     Output: the key, to free with dnssec_key_free.
 * \param reason  Output on failure: "key-not-found", "key-unreadable",
 *                "key-mismatch" or "out-of-memory".
 *
 * \return KNOT_EOK or an error.
 */
int mx_key_load(const char *const *dirs, size_t count, const knot_dname_t *zone,
                const knot_rdata_t *dnskey, dnssec_key_t **out, const char **reason);

/*!
 * \brief Whether \a key is the key of the record \a dnskey (same rdata).
 */
bool mx_key_matches(const dnssec_key_t *key, const knot_rdata_t *dnskey);

/*!
 * \brief Signs \a rr and adds the RRSIG record to \a rrsigs.
 *
 * The signed data is the RRSIG rdata without the signature followed by the
 * RRset in canonical form (RFC 4034 §3.1.8.1, §6.2, §6.3): names in lower
 * case, records sorted, original TTL rr->ttl. \a rr's owner is the name
 * signed for: a wildcard's own name ("*.…") where the answer was expanded
 * from one; the labels field does not count the "*".
 *
 * \param rr          RRset to sign (not empty).
 * \param signer      Signer's name: the zone apex.
 * \param key         Private key (algorithm and key tag taken from it).
 * \param inception   Signature inception.
 * \param expiration  Signature expiration (after inception).
 * \param rrsigs      Output rdataset, grown in \a mm.
 * \param mm          Memory context of \a rrsigs (NULL: malloc).
 *
 * \return KNOT_EOK or an error.
 */
int mx_rrsig_sign(const knot_rrset_t *rr, const knot_dname_t *signer,
                  const dnssec_key_t *key, uint32_t inception, uint32_t expiration,
                  knot_rdataset_t *rrsigs, knot_mm_t *mm);

/*!
 * \brief The key under which a signature set of \a rr may be kept: all it
 *        depends on, byte for byte. The RRset as signed (owner in lower
 *        case, type, class, TTL, records), the signer's name, and for each
 *        signer its algorithm, key tag, validity times and DNSKEY record: a
 *        kept set is reused only for the same data under the same keys and
 *        times.
 *
 * \return The key's length, or 0 if it does not fit in \a max bytes.
 */
size_t mx_signature_key(const knot_rrset_t *rr, const knot_dname_t *signer,
                        const mx_signer_t *signers, size_t count, uint8_t *buf, size_t max);
