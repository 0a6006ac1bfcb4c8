/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief Rebuilding a response packet with some RRsets replaced: MX
 *        RRsets of the answer, NSEC and NSEC3 RRsets of the answer or the
 *        authority section.
 *
 * libknot cannot take an RRset back out of a packet, so the packet is
 * initialised again as a response to its query and every RRset written so
 * far is put again, in order, with its flags: the replaced RRsets with
 * their new data (and new signature, if any, where the old one was),
 * without their old RRSIGs (those of the same section, owner and covered
 * type) and, for MX, without the glue that only their removed exchanges
 * needed. The header
 * flags and the reserved space (EDNS OPT, TSIG) survive. Compression hints
 * that point at or past the first change are dropped, and owners that
 * knotd expanded through such a hint (wildcards) are written out in full.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <libknot/packet/pkt.h>

/*! Records a denial record's replacement brings after it. */
#define MX_REPLACEMENT_MORE 3

/*! One RRset to replace: an MX or TXT RRset of the answer section, or an
 *  NSEC or NSEC3 RRset of the answer or authority section. */
typedef struct {
	uint16_t rr_pos;      /*!< Its index in pkt->rr. */
	knot_rrset_t rrset;   /*!< The replacement (same TTL and type; same owner
	                           but for a denial record's white lie);
	                           empty: the RRset and its RRSIGs go. */
	knot_rrset_t rrsig;   /*!< Its signature, or an empty RRset. */
	knot_rrset_t more[MX_REPLACEMENT_MORE];      /*!< Denial records put at the
	                                                  end of its section (or
	                                                  empty ones). */
	knot_rrset_t more_sig[MX_REPLACEMENT_MORE];  /*!< Their signatures. */
} mx_replacement_t;

/*! Signs \a rr (its owner: the name to sign for) into \a rrsig; on failure
 *  \a reason says why (a key word of the "not enforced" log line). */
typedef bool (*mx_sign_f)(const knot_rrset_t *rr, knot_rrset_t *rrsig,
                          const char **reason, void *ctx);

/*!
 * \brief Rebuilds \a pkt with the replacements.
 *
 * On failure the packet holds what it held before, byte for byte.
 *
 * \param pkt      Response being built (any section may be current).
 * \param query    The query it answers.
 * \param repl     Replacements (at most one per RRset), each of the type
 *                 of the RRset it replaces: MX in the answer section, NSEC
 *                 or NSEC3 in the answer or authority section.
 * \param count    Number of replacements.
 * \param rotate   Put answer RRsets rotated by the query ID (answer-rotation).
 * \param scratch  Memory for the duration of the query.
 *
 * \return KNOT_EOK, KNOT_EINVAL for a replacement of another type or
 *         section (or a second one of the same RRset), KNOT_ENOMEM, or a
 *         libknot error of a put.
 */
int mx_answer_rebuild(knot_pkt_t *pkt, const knot_pkt_t *query,
                      const mx_replacement_t *repl, size_t count, bool rotate,
                      knot_mm_t *scratch);

/*!
 * \brief Rebuilds \a pkt with the replacements, cut where it overflows.
 *
 * As mx_answer_rebuild(), but on KNOT_ESPACE (the client's buffer is full)
 * the packet holds the RRsets that fit, with TC set unless the one that did
 * not fit was put with KNOT_PF_NOTRUNC: what knotd serves when the answer
 * it makes overflows. A replaced RRset is there only in its new form.
 */
int mx_answer_rebuild_or_cut(knot_pkt_t *pkt, const knot_pkt_t *query,
                             const mx_replacement_t *repl, size_t count, bool rotate,
                             knot_mm_t *scratch);

/*!
 * \brief Empties a finished response but for its EDNS record, and sets TC.
 *
 * For an answer that must not go out as it is: the client asks again over
 * TCP. The header flags and RCODE stay; the OPT record keeps exactly the
 * options it had.
 *
 * \return KNOT_EOK, or a libknot error (the packet is then empty, TC set
 *         unless init failed).
 */
int mx_answer_truncate(knot_pkt_t *pkt, const knot_pkt_t *query);
