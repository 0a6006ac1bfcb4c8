/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief What the zones a server holds say about an exchange.
 *
 * Works on exact lookups only (knotd_qdata_zone_rrset() in Knot 3.4+, or a
 * whole zone file): finds the zone by trying the exchange and its ancestors
 * as apex names, longest first, then walks down from the apex as a resolver
 * would – delegations, DNAMEs, the closest encloser and its wildcard – so
 * that the verdicts match what a sender would see. Nothing is cached beyond
 * one answer's lookups (mx_lookup_memo_t).
 */

#pragma once

#include <libknot/libknot.h>

#include "mx_check.h"

/*!
 * Gets the RRset of \a type at \a name in the zone whose apex is \a zone.
 *
 * \return KNOT_EOK (an empty \a out when the node has no such type),
 *         KNOT_ENONODE (no such node), KNOT_ENOZONE (no such zone), or
 *         another error (the name is then not judged).
 */
typedef int (*mx_rrset_get_f)(void *ctx, const knot_dname_t *zone,
                              const knot_dname_t *name, uint16_t type,
                              knot_rrset_t *out);

/*!
 * What the lookups of one answer have learnt: a name that no zone holds – no
 * zone has it or any of its ancestors as apex. An answer's exchanges mostly
 * end alike (aspmx.l.google.com, alt1.aspmx.l.google.com), and a provider's
 * are in no zone of the server: the next one's search stops where it meets
 * this name's. Only for the lookups of one answer: zones come and go.
 */
typedef struct {
	knot_dname_storage_t no_zone;  /*!< Lower case. */
	size_t size;                   /*!< Its size; 0: nothing learnt yet. */
} mx_lookup_memo_t;

/*!
 * \brief Looks an exchange up in the zones \a get reaches.
 *
 * \param exchange  The exchange (any case).
 * \param target    Output: UNKNOWN (no zone holds it, or it is at or below a
 *                  delegation or a DNAME), CNAME (an alias), or FOUND
 *                  with all its A/AAAA addresses (none when the name does not
 *                  exist, is an empty non-terminal, or has no address).
 * \param get       Exact lookup.
 * \param ctx       Passed to \a get.
 * \param mm        Memory for the addresses (lives as long as \a target).
 * \param memo      What earlier lookups of the same answer learnt, updated
 *                  (or NULL).
 */
void mx_exchange_lookup(const knot_dname_t *exchange, mx_target_t *target,
                        mx_rrset_get_f get, void *ctx, knot_mm_t *mm,
                        mx_lookup_memo_t *memo);
