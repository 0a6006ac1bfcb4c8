/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief What a rewrite leaves of an MX RRset, given its violations.
 *
 * Each record gets the strongest action of its violations; strip and
 * null-mx remove exactly the records that have one. The RRset becomes a
 * null MX (RFC 7505) only when no record is left (an empty MX answer sends
 * mail to the domain's A/AAAA records, RFC 5321 §5.1), never while a record
 * that may take mail stays: "no mail" for a domain that takes mail bounces
 * it. The no-mail list (null-mx-override) replaces the whole RRset: it
 * speaks for the name. A null-mx-conflict of a null MX with preference 0
 * targets the other records (the publisher said "no mail"); of one with
 * another preference, the null MX itself.
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <libknot/rrset.h>

#include "mx_check.h"
#include "policy.h"

/*! The plan for one RRset. */
typedef struct {
	const knot_rdataset_t *rrs;  /*!< The RRset planned for. */
	mx_action_t *record;         /*!< Strongest action of each record. */
	mx_action_t strongest;       /*!< Strongest action of the RRset. */
	bool whole;                  /*!< The no-mail list replaces the RRset. */
} mx_plan_t;

/*!
 * \brief Starts a plan where nothing changes.
 *
 * \param record  Caller's array of rrs->count elements.
 */
void mx_plan_init(mx_plan_t *plan, const knot_rdataset_t *rrs, mx_action_t *record);

/*! \brief Adds a violation whose kind has \a action. */
void mx_plan_add(mx_plan_t *plan, const mx_violation_t *violation, mx_action_t action);

/*! \brief Tells whether the RRset changes (some action is strip or null-mx). */
bool mx_plan_changes(const mx_plan_t *plan);

/*! \brief Tells whether the RRset becomes a null MX. */
bool mx_plan_null_mx(const mx_plan_t *plan);

/*! \brief Tells whether record \a pos stays in the answer. */
bool mx_plan_keeps(const mx_plan_t *plan, uint16_t pos);

/*!
 * \brief Builds the rdataset the plan leaves.
 *
 * \param out  Initialised empty rdataset; the kept records or "0 .".
 * \param mm   Memory context for \a out.
 *
 * \return KNOT_EOK or an error (KNOT_ENOMEM).
 */
int mx_plan_build(const mx_plan_t *plan, knot_rdataset_t *out, knot_mm_t *mm);

/*!
 * \brief New positions of the kept records.
 *
 * \param map  Caller's array of rrs->count elements: the new position of each
 *             kept record, or -1 for a removed one (all -1 for a null MX).
 */
void mx_plan_positions(const mx_plan_t *plan, int32_t *map);
