/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief Denial of existence that agrees with the null MX answers.
 *
 * In a signed answer, every NSEC or NSEC3 record of a no-mail name gets MX
 * in its type bitmap and a new signature. Otherwise a resolver that reuses
 * cached denial records (RFC 8198) answers "no MX" for the name without
 * asking, and mail falls back to its address records. No-mail names, by
 * the owner of an NSEC record:
 *   - a listed name or a name of a listed subtree;
 *   - with null-mx-implicit, any name (every NSEC owner exists), but for
 *     delegations (NS without SOA) and CNAMEs;
 *   - a wildcard "*.X" that may stand for a listed name (one lies below X,
 *     or X is in a listed subtree; with null-mx-implicit, any): a resolver
 *     that caches its NSEC denies MX for every name it covers.
 * An NSEC3 record is matched by its hash: against the query name, its
 * ancestors in the zone and their wildcards, as NSEC3 proofs name them, and
 * the listed names of the zone (a table the caller keeps). Every other
 * NSEC3 record counts with null-mx-implicit, and where a listed subtree
 * meets the zone: its members cannot be hashed ahead. Never touched: the
 * record that proves this very answer's "no MX" (a NODATA answer to an MX
 * query the module did not turn into a null MX).
 *
 * Nothing here talks to knotd: the caller gives the signing and the table
 * of listed names' hashes as callbacks, the unit tests and fuzzers the
 * same code as knotd's adapter.
 */

#pragma once

#include <stdbool.h>
#include <libknot/packet/pkt.h>

#include "answer_rebuild.h"
#include "dnssec_compat.h"
#include "name_list.h"
#include "nsec3_names.h"

/*! The hashes of the listed names of the zone under these NSEC3 parameters,
 *  or NULL (not known now). */
typedef const mx_nsec3_names_t *(*mx_denial_names_f)(const dnssec_nsec3_params_t *params,
                                                      void *ctx);

/*! What the completion needs besides the packet. */
typedef struct {
	const knot_dname_t *zone;        /*!< Apex of the zone answering. */
	const knot_dname_t *qname;       /*!< The current query name (any case). */
	const mx_name_list_t *no_mail;   /*!< Listed names (or NULL). */
	bool implicit;                   /*!< null-mx-implicit. */
	bool mx_nodata;                  /*!< A NODATA answer to an MX (or ANY) query. */
	bool own_name_null_mx;           /*!< The answer is a listed name's null MX where
	                                      a wildcard was found: signed as a name of
	                                      its own, its proofs of non-existence go. */
	bool rotate;                     /*!< answer-rotation. */
	mx_sign_f sign;
	mx_denial_names_f names;         /*!< Or NULL. */
	bool spf;                        /*!< no-mail-records spf: no-mail names list TXT. */
	bool below;                      /*!< no-mail-records dmarc or dkim: names are
	                                      served below no-mail names. */
	bool narrow;                     /*!< Records the zone lacks are served (the
	                                      no-mail records of a signed zone): every
	                                      range goes out as a white lie. */
	int (*zone_null_mx)(const knot_dname_t *name, void *ctx);  /*!< Whether a
	                                      name's own MX RRset is a lone null MX:
	                                      1, 0, or -1 (not known; NULL: never
	                                      known). */
	unsigned (*kit_below)(const knot_dname_t *name, void *ctx);  /*!< The
	                                      records served below a name that
	                                      exists (MX_RECORD_DMARC, _DKIM): a
	                                      no-mail name's; 0 for another. */
	void *ctx;                       /*!< Passed to \a sign and \a names. */
	knot_mm_t *mm;                   /*!< Memory for the query's duration. */
} mx_denial_params_t;

/*! What the completion did not do, for the caller to report. */
typedef struct {
	bool left;            /*!< A record that denies MX at a no-mail name stays
	                           (it could not be signed). */
	const char *reason;   /*!< Why (from \a sign), or NULL. */
	bool ent;             /*!< The answer proves that the no-mail query name
	                           is an empty non-terminal (NSEC: no record of its
	                           own can list MX). */
} mx_denial_outcome_t;

/*!
 * \brief Completes the NSEC and NSEC3 records of no-mail names with MX.
 *
 * The authority section (and the answer section of an NSEC query) as knotd
 * wrote it; the records are signed again where knotd signed them.
 *
 * \return KNOT_EOK: done, or nothing to do; KNOT_ESPACE: cut where the
 *         client's buffer ended, TC set, as knotd cuts (nothing kept denies
 *         MX at a no-mail name); another error: the packet is as it was.
 */
int mx_denial_complete(knot_pkt_t *pkt, const knot_pkt_t *query,
                       const mx_denial_params_t *params, mx_denial_outcome_t *out);

/*!
 * \brief The same for an answer knotd finished after cutting it (TC set,
 *        its OPT record written): the OPT record is taken out while the
 *        proofs are put again with its room reserved, then put back.
 *
 * \return As mx_denial_complete(); KNOT_ENOTSUP for an answer of another
 *         shape (glue after the proofs: knotd did not cut them).
 */
int mx_denial_complete_cut(knot_pkt_t *pkt, const knot_pkt_t *query,
                           const mx_denial_params_t *params, mx_denial_outcome_t *out);

/*!
 * \brief Tells whether the answer holds an NSEC or NSEC3 record that denies
 *        MX at a no-mail name (true also when that cannot be told: memory).
 */
bool mx_denial_leaks(const knot_pkt_t *pkt, const mx_denial_params_t *params);
