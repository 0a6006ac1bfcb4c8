/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief An answer's MX RRsets, their violations and the plan for each.
 *
 * Takes a response packet as knotd builds it (any stage after the answer
 * section is written), the policy, the no-mail list and where the exchanges'
 * addresses come from; finds each MX RRset of the answer section, its owner
 * as served, the RRSIG that covers it, its violations (the rules of
 * mx_check.c plus the no-mail override) and the plan (rewrite_plan.c).
 * Nothing here talks to knotd: the adapter, the unit tests and the fuzzers
 * call the same code.
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <libknot/packet/pkt.h>

#include "mx_check.h"
#include "name_list.h"
#include "rewrite_plan.h"
#include "verdict_cache.h"

/*!
 * The addresses knotd holds for an MX RRset's exchanges (Knot 3.2: its own
 * glue list). \a glue gets the addresses under each exchange's name;
 * \a complete tells whether they are all the server has for in-zone names.
 *
 * \return false on no memory.
 */
typedef bool (*mx_glue_of_f)(const knot_rrset_t *rr, mx_glue_t **glue,
                             size_t *count, bool *complete, void *ctx);

/*!
 * Writes what knotd holds for an MX RRset's exchanges – the same data
 * mx_glue_of_f gives, in any form that is equal exactly when that data is –
 * into \a buf (the verdict cache's key; cheaper than the glue itself).
 *
 * \return Bytes written, or -1 when they do not fit in \a max.
 */
typedef int (*mx_glue_key_f)(const knot_rrset_t *rr, uint8_t *buf, size_t max, void *ctx);

/*!
 * Tells whether what knotd holds for an MX RRset's exchanges is, byte for
 * byte, what mx_glue_key_f wrote into \a key: the same comparison without
 * writing the key first.
 */
typedef bool (*mx_glue_equal_f)(const knot_rrset_t *rr, const uint8_t *key, size_t len,
                                void *ctx);

/*!
 * What knotd's glue list says of the exchange of record \a pos, as a lookup
 * would say it (Knot 3.2: all there is; 3.4+: cheaper than the lookup).
 *
 * \return false when it cannot tell (the lookup is made then).
 */
typedef bool (*mx_glue_target_f)(const knot_rrset_t *rr, uint16_t pos,
                                 mx_target_t *target, void *ctx);

/*! What the scan needs besides the packet, set once per instance. */
typedef struct {
	const mx_policy_t *policy;
	const mx_name_list_t *no_mail;  /*!< No-mail names (or NULL). */
	bool one_zone;                  /*!< The cache serves one zone only (not in its keys). */
	size_t zone_size;               /*!< With one_zone: the size of that zone's name. */
	mx_lookup_f lookup;             /*!< Lookups (exact on Knot 3.4+), or NULL. */
	mx_glue_of_f glue_of;           /*!< Otherwise the glue, or NULL: none. */
	mx_glue_key_f glue_key;         /*!< Its key form (or NULL: from glue_of). */
	mx_glue_equal_f glue_equal;     /*!< Compared with a key form (with glue_key). */
	mx_glue_target_f glue_target;   /*!< With lookups: the glue list first. */
	mx_verdict_cache_t *cache;      /*!< Verdicts already made, or NULL. */
	bool log_only;                  /*!< Nothing is rewritten: no plan, no RRSIG
	                                     looked for (mx_scan_changes() is false). */
	uint64_t log_seed;              /*!< Seed of the violations' log_key. */
} mx_scan_params_t;

/*! One answer's part of a scan: what differs from one query to the next. */
typedef struct {
	const knot_dname_t *zone;       /*!< Apex of the zone answering. */
	void *lookup_ctx;               /*!< Given to params->lookup. */
	void *glue_ctx;                 /*!< Given to params->glue_*. */
	knot_mm_t *mm;                  /*!< Memory for the query's duration. */
} mx_scan_query_t;

/*! One MX RRset of the answer. */
typedef struct {
	uint16_t rr_pos;        /*!< Its index in pkt->rr. */
	knot_dname_t *owner;    /*!< Owner as served (wildcards expanded). */
	mx_plan_t plan;         /*!< What the policy leaves of it. */
	unsigned first;         /*!< Its violations in mx_scan_t.violations... */
	unsigned count;         /*!< ...and how many. */
	int32_t rrsig_pos;      /*!< Index in pkt->rr of its RRSIG, or -1. */
	uint8_t rrsig_labels;   /*!< That RRSIG's labels field (wildcards). */
	bool cached;            /*!< The verdict came from the cache. */
} mx_scan_rrset_t;

/*! The MX RRsets of one answer. */
typedef struct {
	mx_scan_rrset_t *rrsets;    /*!< The RRsets judged, but... */
	unsigned count;
	unsigned clean;             /*!< ...those found clean in the cache (no entry). */
	mx_violation_t *violations;
	unsigned violation_count;
	unsigned violation_cap;
} mx_scan_t;

/*!
 * \brief Finds and judges the MX RRsets of the answer section.
 *
 * An RRset whose verdict the cache holds, made on the data knotd serves now
 * (compared with params->glue_equal, or so found within the cache's max
 * age), without violations, is only counted (\a scan->clean); the others
 * get an entry each in \a scan->rrsets.
 *
 * \return KNOT_EOK (\a scan->count and \a scan->clean may be 0), KNOT_ENOMEM, or KNOT_EMALF
 *         for an owner that cannot be read back from the wire.
 */
int mx_answer_scan(const knot_pkt_t *pkt, const mx_scan_params_t *params,
                   const mx_scan_query_t *query, mx_scan_t *scan);

/*! \brief Tells whether the plan of some RRset changes the answer. */
bool mx_scan_changes(const mx_scan_t *scan);

/*!
 * \brief Reads the owner of pkt->rr[\a rr_pos] as written in the wire.
 *
 * \param out  Buffer of KNOT_DNAME_MAXLEN bytes.
 */
bool mx_wire_owner(const knot_pkt_t *pkt, uint16_t rr_pos, knot_dname_t *out);
