/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief The rules: which records of an MX RRset violate the policy, and how.
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <libknot/rrset.h>
#include <libknot/rrtype/rdname.h>
#include <libknot/rrtype/rrsig.h>
#include <libknot/wire.h>

#include "address.h"
#include "policy.h"

/*! An address record known for a name (glue, or a zone lookup). */
typedef struct {
	const knot_dname_t *owner;
	mx_addr_t addr;
} mx_glue_t;

/*! What an exact lookup knows of an exchange. */
typedef enum {
	MX_TARGET_UNKNOWN = 0,  /*!< Not data the lookup can judge (another
	                             server's zone, below a delegation). */
	MX_TARGET_FOUND,        /*!< Authoritative name: its addresses, maybe none. */
	MX_TARGET_CNAME,        /*!< An alias (CNAME). */
	MX_TARGET_ABSENT,       /*!< In the zone's bailiwick, but the data at hand
	                             has no node for it: missing, or below a zone
	                             cut or a DNAME; missing-address is only
	                             inferred (Knot 3.2/3.3). */
} mx_target_state_t;

/*! An exchange as an exact lookup sees it. */
typedef struct {
	mx_target_state_t state;
	const mx_addr_t *addrs;   /*!< Its A and AAAA addresses (FOUND only). */
	size_t addr_count;
} mx_target_t;

/*! Looks an exchange up; \a target is zeroed (UNKNOWN) before the call. */
typedef void (*mx_lookup_f)(const knot_dname_t *exchange, mx_target_t *target,
                            void *ctx);

/*!
 * Everything the checks look at for one MX RRset.
 *
 * The exchanges' addresses come either from an exact lookup (\a lookup set:
 * a whole zone at hand) or from the glue served with the answer, from which
 * missing-address is inferred for in-zone exchanges when the glue is complete.
 */
typedef struct {
	const knot_dname_t *zone;     /*!< Apex of the zone that served it. */
	const knot_dname_t *owner;    /*!< Owner name as served. */
	const knot_rdataset_t *rrs;   /*!< The MX records. */
	const mx_glue_t *glue;        /*!< Addresses of the exchanges. */
	size_t glue_count;
	bool glue_complete;           /*!< All addresses the server holds are in \a glue. */
	mx_lookup_f lookup;           /*!< Exact lookup; replaces the glue when set. */
	void *lookup_ctx;
} mx_rrset_view_t;

/*!
 * Tells whether MX rdata holds a preference and a name. Zone data always
 * does; a parsed message may carry empty rdata (RFC 2136 deletions), which
 * the checks skip rather than read past.
 */
static inline bool mx_rdata_ok(const knot_rdata_t *rd)
{
	return rd->len >= 3;
}

/*! The name without its first label (an uncompressed name, not the root). */
static inline const knot_dname_t *mx_dname_parent(const knot_dname_t *name)
{
	return name + name[0] + 1;
}

/*! Tells whether MX rdata is a null MX record ("0 ." or any preference). */
static inline bool mx_rdata_is_null(const knot_rdata_t *rd)
{
	return mx_rdata_ok(rd) && knot_mx_name(rd)[0] == '\0';
}

/*! Tells whether an MX RRset is exactly the null MX of RFC 7505, "0 .". */
static inline bool mx_rdataset_is_null_mx(const knot_rdataset_t *rrs)
{
	return rrs->count == 1 && rrs->rdata->len == 3 &&
	       knot_wire_read_u16(rrs->rdata->data) == 0 && mx_rdata_is_null(rrs->rdata);
}

/*! Tells whether an RRSIG RRset covers \a type (empty rdata covers nothing). */
static inline bool mx_rrsig_covers(const knot_rrset_t *rr, uint16_t type)
{
	return rr->type == KNOT_RRTYPE_RRSIG && rr->rrs.count > 0 &&
	       rr->rrs.rdata->len >= 2 &&
	       knot_rrsig_type_covered(rr->rrs.rdata) == type;
}

/*! One violation of one record. */
typedef struct {
	mx_kind_t kind;
	uint16_t rr_index;              /*!< Position of the record in the RRset. */
	uint16_t preference;
	const knot_dname_t *exchange;
	bool has_addr;                  /*!< \a addr is the offending address. */
	mx_addr_t addr;
	const char *provider;           /*!< Provider name (provider-mix only). */
	const char *record;             /*!< spf or dmarc (no-mail-policy only). */
	bool inferred;                  /*!< Not proven: logged, never enforced. */
	uint64_t log_key;               /*!< The log limiter's key (answer_scan.c). */
} mx_violation_t;

/*! Called once for each violation, in record order. */
typedef void (*mx_violation_cb)(const mx_violation_t *violation, void *ctx);

/*!
 * \brief Checks every record of an MX RRset against the policy.
 *
 * Kinds whose action is off are not checked. Each record gets at most one
 * violation of each kind (the first offending address stands for the rest).
 *
 * \param view    The RRset and what is known of its exchanges.
 * \param policy  Actions and allowed addresses.
 * \param cb      Called for each violation (may be NULL).
 * \param ctx     Passed to \a cb.
 *
 * \return Number of violations found.
 */
unsigned mx_check_rrset(const mx_rrset_view_t *view, const mx_policy_t *policy,
                        mx_violation_cb cb, void *ctx);
