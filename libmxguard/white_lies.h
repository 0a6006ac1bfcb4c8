/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief Minimally covering denial records ("white lies", RFC 4470): NSEC
 *        records that span one name, NSEC3 records that span one hash.
 *
 * Where the module serves records the zone lacks (the SPF, DMARC and DKIM
 * records of a no-mail name), the zone's own chain must never go out over
 * them: a resolver that reuses cached NSEC or NSEC3 ranges (RFC 8198) would
 * deny them without asking. Each range that a signed answer needs is served
 * as narrow as it can be instead: it proves what the answer needs and
 * nothing about any other name. Nothing here talks to knotd.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libknot/dname.h>
#include <libknot/mm_ctx.h>
#include <libknot/rrset.h>

/*!
 * \brief Canonical order of names (RFC 4034 §6.1), as validators compare
 *        them: labels from the right, each as lower case octets, a label
 *        before any it is the start of ("x" before "x\000", which
 *        knot_dname_cmp() does not tell apart from "y.x").
 */
int mx_dname_canon_cmp(const knot_dname_t *a, const knot_dname_t *b);

/*!
 * \brief A name just before \a name in canonical order (RFC 4471 §3.1.2,
 *        the absolute method without its extra labels): the last octet of
 *        the first label one less, the label filled with 0xff octets.
 *
 * \param name  Lower case, uncompressed.
 *
 * \return KNOT_EOK; KNOT_EINVAL for the root or a first label that ends in
 *         a zero octet (its predecessor is a name the zone may hold).
 */
int mx_dname_before(const knot_dname_t *name, knot_dname_t *out, size_t max);

/*! \brief The name just after \a name: "\000." before it (KNOT_ESPACE: no room). */
int mx_dname_after(const knot_dname_t *name, knot_dname_t *out, size_t max);

/*! \brief The name just after \a name and all names below it: its first
 *         label with a zero octet added (KNOT_ESPACE: no room). */
int mx_dname_after_all(const knot_dname_t *name, knot_dname_t *out, size_t max);

/*! \brief The types of the NSEC record of a name that holds TXT records
 *         only ("TXT RRSIG NSEC"); without NSEC, its NSEC3 record's. */
extern const uint8_t MX_BITMAP_TXT_NSEC[8];
extern const uint8_t MX_BITMAP_TXT[8];

/*!
 * \brief An NSEC record: \a owner, next name \a next, the types of
 *        \a bitmap (a well-formed NSEC bitmap, or NULL and 0 for
 *        "RRSIG NSEC"); its owner and data are allocated from \a mm.
 */
int mx_nsec_make(const knot_dname_t *owner, const knot_dname_t *next, const uint8_t *bitmap,
                 size_t bitmap_len, uint32_t ttl, knot_rrset_t *out, knot_mm_t *mm);

/*!
 * \brief An NSEC3 record that spans \a digest only: owner "digest - 1" in
 *        \a zone, next hashed owner "digest + 1", the hash parameters and
 *        flags of \a model (an NSEC3 rdata of the zone), no types.
 *
 * \param digest  The hash to cover, \a len octets (the model's length).
 */
int mx_nsec3_cover(const knot_rdata_t *model, const uint8_t *digest, size_t len,
                   const knot_dname_t *zone, uint32_t ttl, knot_rrset_t *out, knot_mm_t *mm);

/*!
 * \brief The NSEC3 record of \a name alone: owner its hash in \a zone, next
 *        hashed owner the hash right after, the types of \a bitmap.
 *
 * \param params  The zone's NSEC3PARAM rdata (its hash parameters).
 */
int mx_nsec3_of_name(const knot_rdata_t *params, const knot_dname_t *name,
                     const knot_dname_t *zone, const uint8_t *bitmap, size_t bitmap_len,
                     uint32_t ttl, knot_rrset_t *out, knot_mm_t *mm);

/*! \brief The same for a hash already made, with the fields of \a model
 *         (an NSEC3 rdata of the zone). */
int mx_nsec3_at(const knot_rdata_t *model, const uint8_t *digest, size_t len,
                const knot_dname_t *zone, const uint8_t *bitmap, size_t bitmap_len,
                uint32_t ttl, knot_rrset_t *out, knot_mm_t *mm);

/*!
 * \brief The NSEC3 record \a rr (owner and types kept) with its next hashed
 *        owner the hash right after its own: it then proves its own name's
 *        types and nothing else.
 *
 * \param bitmap  The types to list (NULL: the record's own).
 */
int mx_nsec3_match_only(const knot_rrset_t *rr, const uint8_t *bitmap, size_t bitmap_len,
                        knot_rrset_t *out, knot_mm_t *mm);

/*! \brief Tells whether the hash \a digest lies strictly between the
 *         record's own and its next (the chain wraps after its last). */
bool mx_nsec3_covers(const knot_rrset_t *rr, const uint8_t *digest, size_t len);

/*! \brief Tells whether \a name lies strictly between the owner of an NSEC
 *         record and its next name (canonical order; the last wraps). */
bool mx_nsec_covers(const knot_rrset_t *rr, const knot_dname_t *name);

/*! \brief Tells whether an NSEC3 record covers one hash alone (a white
 *         lie over a name that does not exist: it stands for no name). */
bool mx_nsec3_is_cover(const knot_rrset_t *rr);

/*! \brief Tells whether a denial record spans nothing but its owner
 *         already, or (NSEC3) one hash (a white lie, by the module or
 *         another signer). */
bool mx_denial_is_narrow(const knot_rrset_t *rr);
