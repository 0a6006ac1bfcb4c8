/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief What the adapter's files share: an instance's context, its
 *        counters, and the calls between configuration, hooks and signing.
 *
 * The adapter is the only part of mxguard that talks to knotd (module/);
 * the rules and the packet work are in the knotd-free library (libmxguard/).
 */

#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "knot_compat.h"
#include "address.h"
#include "answer_run.h"
#include "answer_scan.h"
#include "bounded_table.h"
#include "exchange_lookup.h"
#include "log_limit.h"
#include "log_line.h"
#include "name_list.h"
#include "policy.h"
#include "verdict_cache.h"

/*! The keys an instance has loaded (signing.c). */
typedef struct mxg_keyset mxg_keyset_t;

typedef struct mxg_nsec3_table mxg_nsec3_table_t;

/*! One instance of the module (a zone's, a template's or the global one). */
typedef struct {
	mx_policy_t policy;
	mx_addr_range_t *allow;
	mx_log_limit_t *log_limit;  // NULL when every violation is logged
	mx_verdict_cache_t *verdicts;  // verdicts already made (NULL: none kept)
	mx_scan_params_t scan;      // the answer scan's parameters but the query's part
	const knot_dname_t *zone;   // the instance's zone (NULL: the global one)
	mx_host_t host;             // what the library calls back (hooks.c), set once
	uint64_t log_seed;          // the log limiter's and the cache's keys hash from it (random)
	bool rotate;                // answer-rotation is on
	bool unsigned_allow;        // serve rewritten signed answers unsigned
	bool enforces;              // some action rewrites answers
	const mx_name_list_t *no_mail;  // names and subtrees that get a null MX (shared)
	bool implicit;              // every existing name without MX gets one
	bool denial;                // no-mail names: their denial records list MX
	unsigned no_mail_records;   // MX_RECORD_* served beside the null MX
	char *no_mail_dmarc;        // the DMARC record served
	uint32_t null_mx_ttl;       // TTL of a synthesised null MX
	bool can_sign;              // knotd signs the zone, key files can be read
	const char *sign_off_reason;  // why not (the "not enforced" reason)
	char **keystore_dirs;       // knotd's PKCS #8 key store directories
	size_t keystore_count;
	mxg_keyset_t *keyset;       // loaded keys (RCU: read in hooks, swapped)
	mx_bounded_table_t *signatures;  // signature sets made (NULL: none kept)
	pthread_mutex_t keys_lock;  // serialises the workers that load keys
	atomic_bool error_logged;
	mxg_nsec3_table_t *nsec3_names;  // RCU: NSEC3 hashes of the listed names
	pthread_mutex_t nsec3_lock;      // taken by the worker that makes them
} mxguard_ctx_t;

/*! \brief Memory for the query's duration (knotd's per-worker pool). */
static inline void *mxg_alloc(knotd_qdata_t *qdata, size_t size)
{
	return qdata->mm->alloc(qdata->mm->ctx, size);
}

/*! \brief Registers the counters of the descriptor table. */
int mxg_stats_register(knotd_mod_t *mod);

/*! \brief Fills the library's interface of the instance (ctx->host), its
 *         settings loaded. */
void mxg_host_init(knotd_mod_t *mod, mxguard_ctx_t *ctx);

/*! \brief Registers the hooks this instance's configuration needs. */
int mxg_hooks_register(knotd_mod_t *mod, const mxguard_ctx_t *ctx);

/*! \brief Adds one to a counter. */
void mxg_count(knotd_mod_t *mod, knotd_qdata_t *qdata, mx_counter_t ctr, uint32_t idx);

/*! \brief Counts an internal failure; logs the first one of the instance. */
void mxg_count_error(knotd_mod_t *mod, knotd_qdata_t *qdata, const char *what);

/*! The exchange lookups of one answer: the query, what they learnt (Knot 3.4+). */
typedef struct {
	knotd_qdata_t *qdata;
	mx_lookup_memo_t memo;
} mxg_lookups_t;

/*! \brief Sets where the answer scan takes the exchanges' addresses from
 *         (the lookups get an mxg_lookups_t, the rest the query's knotd_qdata_t). */
void mxg_exchange_source(mx_scan_params_t *params);

/*!
 * \brief Finds the zone's key stores when knotd signs the zone (sets
 *        can_sign). The keys themselves are loaded when first needed; up
 *        to \a cache_size signature sets made are kept for reuse.
 */
void mxg_signing_load(knotd_mod_t *mod, mxguard_ctx_t *ctx, size_t cache_size);

/*!
 * \brief Frees what signing holds; waits for pending RCU callbacks
 *        (rcu_barrier), so never call it inside a read-side section.
 */
void mxg_signing_free(mxguard_ctx_t *ctx);

/*!
 * \brief Signs \a rr with the keys the zone is signed with now.
 *
 * The keys and the validity period are those of the apex SOA signatures of
 * the zone being answered from (one signature per algorithm); \a rrsig's
 * rdata is allocated in qdata->mm.
 *
 * \a rr's owner is the name to sign for: a wildcard's own name ("*.…") for
 * an answer synthesised from it. On failure \a reason says why (a key word
 * of the "not enforced" log line).
 */
bool mxg_sign(knotd_mod_t *mod, knotd_qdata_t *qdata, const knot_rrset_t *rr,
              knot_rrset_t *rrsig, const char **reason);

/*!
 * \brief What an enforcing instance serves when it cannot rewrite: never what
 *        it would remove. Over UDP an empty answer with TC=1 (the client asks
 *        again over TCP), over TCP SERVFAIL. Counted in 'truncated'.
 */
knotd_in_state_t mxg_fail_closed(knotd_mod_t *mod, knotd_qdata_t *qdata, knot_pkt_t *pkt);

/*! \brief Counts a violation found outside an MX answer (no-mail-policy) and
 *         logs it at most once per log-interval, action log. */
void mxg_report_violation(knotd_mod_t *mod, knotd_qdata_t *qdata,
                          const knot_dname_t *owner, const mx_violation_t *v);

/*! \brief Counts a record served for a no-mail name (null-mx, spf, dmarc,
 *         dkim) and logs it at most once per log-interval. */
void mxg_report_synthesis(knotd_mod_t *mod, knotd_qdata_t *qdata, mx_log_class_t cls,
                          const char *what, const knot_dname_t *owner, const char *reason);

/*! \brief The node of NAME among those knotd found for this query (the
 *         answer's and its encloser's, with their parents), or NULL. */
const mxg_node_t *mxg_node_found(knotd_qdata_t *qdata, const knot_dname_t *name);

/*! \brief The records served below NAME (MX_RECORD_DMARC, _DKIM), a name
 *         knotd found for this query: a no-mail name's; 0 for another. */
unsigned mxg_no_mail_below(knotd_mod_t *mod, knotd_qdata_t *qdata, const knot_dname_t *name);

/*!
 * \brief ANSWER stage, a query that is not for MX: the SPF, DMARC and DKIM
 *        records of no-mail names (module/no_mail.c).
 */
knotd_in_state_t mxg_no_mail_answer(knotd_in_state_t state, knot_pkt_t *pkt,
                                    knotd_qdata_t *qdata, knotd_mod_t *mod);

/*! \brief Tells whether \a rr is a null MX the module synthesised. */
bool mxg_synthesized(const knot_rrset_t *rr);

/*! \brief Counts a rewrite not done; logs it at most once per log-interval. */
void mxg_report_not_enforced(knotd_mod_t *mod, knotd_qdata_t *qdata,
                             const knot_dname_t *owner, mx_action_t action,
                             const char *reason);

/*!
 * \brief AUTHORITY-stage hook: the NSEC and NSEC3 records of no-mail names in
 *        a signed answer list MX, signed again (module/denial.c).
 */
/*!
 * \brief Tells whether an answer knotd cut (TC=1) before the AUTHORITY hooks
 *        ran carries an NSEC or NSEC3 record the denial hook would have
 *        completed with MX (true also when that cannot be told).
 */
bool mxg_denial_cut_leaks(const knot_pkt_t *pkt, knotd_qdata_t *qdata, knotd_mod_t *mod);

/*!
 * \brief For an answer knotd cut (TC=1), maybe before the AUTHORITY hooks
 *        ran: completes its NSEC and NSEC3 records of no-mail names with MX
 *        as the AUTHORITY hook does, cut again where the buffer ends.
 *
 * \return false when a record that denies MX at a no-mail name stays (it
 *         could not be signed, or no memory): the answer must not go out.
 */
bool mxg_denial_complete_cut(knot_pkt_t *pkt, knotd_qdata_t *qdata, knotd_mod_t *mod);

/*! \brief Frees what the denial records' hook keeps (unload only). */
void mxg_denial_free(mxguard_ctx_t *ctx);

knotd_in_state_t mxg_denial_authority(knotd_in_state_t state, knot_pkt_t *pkt,
                                      knotd_qdata_t *qdata, knotd_mod_t *mod);
