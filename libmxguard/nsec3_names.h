/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief The NSEC3 hashes of the no-mail names of one zone.
 *
 * An NSEC3 record of a listed name appears not only where that name is
 * asked for: it covers the hashes after it, so it is part of the proofs of
 * unrelated names too, and a resolver that caches it (RFC 8198) learns
 * there that the listed name has no MX. Matching every NSEC3 owner of an
 * answer against the hashes of the listed names (those the list names as
 * they are, in the zone; a subtree's members cannot be listed) finds it.
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <libknot/dname.h>

#include "dnssec_compat.h"
#include "name_list.h"

/*! The longest NSEC3 digest (SHA-1, the only hash of RFC 5155, has 20). */
#define MX_NSEC3_DIGEST_MAX 32

typedef struct mx_nsec3_names mx_nsec3_names_t;

/*!
 * \brief The digest an NSEC3 owner's first label spells (base32hex, any
 *        case), if it is one of \a len bytes.
 */
bool mx_nsec3_label_digest(const uint8_t *label, uint8_t *digest, size_t len);

/*!
 * \brief Hashes the names of \a list at or below \a zone with \a params.
 *
 * \return The table (possibly of no name), or NULL on no memory.
 */
mx_nsec3_names_t *mx_nsec3_names_new(const mx_name_list_t *list, const knot_dname_t *zone,
                                     const dnssec_nsec3_params_t *params);

/*! \brief Frees the table (NULL is fine). */
void mx_nsec3_names_free(mx_nsec3_names_t *names);

/*! \brief Tells whether the table was made with these parameters. */
bool mx_nsec3_names_params(const mx_nsec3_names_t *names, const dnssec_nsec3_params_t *params);

/*!
 * \brief Tells whether an NSEC3 owner's first label (a wire label: its
 *        length, then base32hex) is the hash of a listed name.
 */
bool mx_nsec3_names_has(const mx_nsec3_names_t *names, const uint8_t *label);

/*!
 * \brief Tells whether no-mail names of the zone are missing from the table:
 *        the members of a listed subtree that meets the zone, which only the
 *        zone's own tree could name.
 */
bool mx_nsec3_names_unhashed(const mx_nsec3_names_t *names);

/*! \brief Number of names hashed. */
size_t mx_nsec3_names_count(const mx_nsec3_names_t *names);
