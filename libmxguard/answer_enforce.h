/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief Carrying out the plans of an answer's MX RRsets.
 *
 * For each RRset whose plan changes it (answer_scan.c, rewrite_plan.c): the
 * records the plan keeps, or "0 .", with the glue of the kept exchanges
 * (the caller renumbers knotd's glue list) and a new signature where the
 * original had one; then the response is rebuilt (answer_rebuild.c). A
 * signed RRset that cannot be signed again keeps its original, which
 * validates (unless unsigned answers are allowed), and says why. Nothing
 * here talks to knotd: signing and the glue list are the caller's.
 */

#pragma once

#include <stdbool.h>
#include <libknot/packet/pkt.h>

#include "answer_rebuild.h"
#include "answer_scan.h"

/*! Gives \a rr (the plan's records) the glue of its kept exchanges, from
 *  \a old's; false: no memory. */
typedef bool (*mx_glue_remap_f)(const knot_rrset_t *old, const mx_plan_t *plan,
                                knot_rrset_t *rr, void *ctx);

/*! What carrying out the plans needs besides the packet. */
typedef struct {
	mx_sign_f sign;           /*!< Signing (NULL: none can be made). */
	mx_glue_remap_f remap;    /*!< The glue of kept exchanges (NULL: none). */
	void *ctx;                /*!< Passed to \a sign and \a remap. */
	bool unsigned_allow;      /*!< Serve a rewrite unsigned if not signable. */
	bool rotate;              /*!< answer-rotation. */
	knot_mm_t *mm;            /*!< Memory for the query's duration. */
} mx_enforce_params_t;

/*! Per RRset of the scan: what was done. */
typedef struct {
	bool *enforced;           /*!< Its plan was carried out. */
	const char **skip_reason; /*!< Why a changing plan was not (NULL: none). */
} mx_enforce_result_t;

/*!
 * \brief Carries out the plans of the scanned answer.
 *
 * \return KNOT_EOK: the answer may go out (rewritten where \a res says so);
 *         another error: it must not go out as it is (no memory, or the
 *         rebuild failed; the packet is then as it was), fail closed.
 */
int mx_answer_enforce(knot_pkt_t *pkt, const knot_pkt_t *query, const mx_scan_t *scan,
                      const mx_enforce_params_t *params, mx_enforce_result_t *res);

/*!
 * \brief The name a signature is made for, in canonical (lower) case: the
 *        wildcard's own name ("*." and the last \a labels labels of
 *        \a served) when the RRset was synthesised from one.
 */
knot_dname_t *mx_signer_owner(const knot_dname_t *served, uint8_t labels, knot_mm_t *mm);
