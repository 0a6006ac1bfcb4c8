/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief Which keys sign what mxguard makes, and for how long: the keys the
 *        zone signs with at this moment.
 *
 * The zone's own apex SOA signatures say it: knotd signs every RRset but
 * the apex DNSKEY, CDS and CDNSKEY sets with the same keys as the SOA (its
 * knot_zone_sign_use_key(): the active ZSKs and CSKs, with those its key
 * states make "active+" during rollovers), re-signs the SOA whenever that
 * set of keys or the zone changes, and refreshes it before it expires.
 * KSKs sign only the DNSKEY, CDS and CDNSKEY sets, which mxguard never
 * makes. So, whatever the rollover (ZSK pre-publish, KSK double signature,
 * CSK, algorithm), the keys that sign the SOA now are the ones to sign
 * with, one per algorithm, with the SOA signature's validity period.
 *
 * A key must also be published in the apex DNSKEY set: its record names its
 * private key (the key ID) and is what a resolver checks the signature
 * with. knotd signs with the new algorithm's keys before it publishes them
 * and with the old algorithm's after it withdrew them (an algorithm
 * rollover's pre-active and post-active steps); mxguard does not.
 *
 * Nothing here talks to knotd: the module passes the apex records in.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/libknot.h>

/*! At most this many signers (algorithms) are used at once. */
#define MX_SIGNERS_MAX 4

/*! One key the zone signs with now, from an apex SOA signature. */
typedef struct {
	uint8_t algorithm;
	uint16_t key_tag;
	uint32_t inception;          // of the apex SOA signature
	uint32_t expiration;         // of the apex SOA signature
	const knot_rdata_t *dnskey;  // its record in the apex DNSKEY set
} mx_signer_t;

/*!
 * \brief Compares two RRSIG times by serial-number arithmetic (RFC 4034
 *        §3.1.5): negative if \a a is before \a b.
 */
static inline int32_t mx_time_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

/*!
 * \brief The keys the zone signs with at time \a now, one per algorithm.
 *
 * Takes the RRSIGs covering SOA in \a apex_rrsig that are valid at \a now
 * (inception ≤ now < expiration) and made by a zone key of \a dnskey (same
 * algorithm and key tag, protocol 3, zone key flag, not revoked); for each
 * algorithm the one that expires last.
 *
 * \param apex_rrsig  The apex RRSIG rdataset (all covered types).
 * \param dnskey      The apex DNSKEY rdataset.
 * \param now         Current time (seconds since the epoch, mod 2^32).
 * \param out         Output, room for MX_SIGNERS_MAX.
 * \param reason      Output on no signer: why ("no-apex-signature": the
 *                    zone has no valid SOA signature by a published key).
 *
 * \return Number of signers (0 on none).
 */
size_t mx_signers_find(const knot_rdataset_t *apex_rrsig, const knot_rdataset_t *dnskey,
                       uint32_t now, mx_signer_t *out, const char **reason);

/*!
 * \brief The keys to sign an RRset of TTL \a ttl with at time \a now: those
 *        of mx_signers_find(), unless one's validity ends within \a ttl
 *        seconds (a resolver could cache its signature past its expiry).
 *
 * \param reason  Output on none: mx_signers_find()'s reason, or
 *                "signatures-expiring".
 *
 * \return Number of signers (0 on none).
 */
size_t mx_signers_choose(const knot_rdataset_t *apex_rrsig, const knot_rdataset_t *dnskey,
                         uint32_t now, uint32_t ttl, mx_signer_t *out, const char **reason);
