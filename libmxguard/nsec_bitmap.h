/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief Type bitmaps of NSEC and NSEC3 records (RFC 4034 §4.1.2,
 *        RFC 5155 §3.2.1): reading them and adding a type.
 *
 * A bitmap is a sequence of windows in ascending order, each a window
 * number, a length of 1 to 32 and that many octets; type W * 256 + B is
 * present when bit B (most significant first) of the window is set.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libknot/libknot.h>

/*! Longest possible type bitmap: 256 windows of 32 octets. */
#define MX_BITMAP_MAXLEN (256 * (2 + 32))

/*! \brief Tells whether \a bitmap is well formed. */
bool mx_bitmap_valid(const uint8_t *bitmap, size_t len);

/*! \brief Tells whether a well-formed \a bitmap holds \a type. */
bool mx_bitmap_has(const uint8_t *bitmap, size_t len, uint16_t type);

/*!
 * \brief Writes \a bitmap with \a type added into \a out.
 *
 * The result is the canonical bitmap of the old types and \a type: the
 * window of \a type is created or lengthened as needed, nothing else
 * changes. Adding a type already there copies the bitmap.
 *
 * \retval KNOT_EOK     Written, its length in \a out_len.
 * \retval KNOT_EMALF   \a bitmap is not well formed.
 * \retval KNOT_ESPACE  \a out is too small.
 * \retval KNOT_EINVAL  NULL arguments.
 */
int mx_bitmap_add(const uint8_t *bitmap, size_t len, uint16_t type,
                  uint8_t *out, size_t out_size, size_t *out_len);

/*!
 * \brief The type bitmap of an NSEC or NSEC3 rdata.
 *
 * \retval KNOT_EOK    Set \a bitmap and \a len.
 * \retval KNOT_EMALF  The rdata is too short for its own fields.
 * \retval KNOT_EINVAL Not an NSEC or NSEC3 type.
 */
int mx_denial_bitmap(uint16_t rrtype, const knot_rdata_t *rd, const uint8_t **bitmap,
                     size_t *len);

/*!
 * \brief A copy of an NSEC or NSEC3 rdataset whose (single) record also
 *        lists \a type.
 *
 * \param rrtype  KNOT_RRTYPE_NSEC or KNOT_RRTYPE_NSEC3.
 * \param rrs     The rdataset (one record; others are copied the same way).
 * \param type    The type to add.
 * \param out     The new rdataset, allocated from \a mm.
 *
 * \retval KNOT_EOK, KNOT_EMALF, KNOT_EINVAL, KNOT_ENOMEM.
 */
int mx_denial_add_type(uint16_t rrtype, const knot_rdataset_t *rrs, uint16_t type,
                       knot_rdataset_t *out, knot_mm_t *mm);
