/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief The one reading of a mod-mxguard section: item names, types,
 *        defaults and ranges (as a yparser schema), the actions each kind
 *        accepts, allow-address ranges, the no-mail items and the scope
 *        rule, with the messages that knotd and mxguard-check both give.
 *
 * The module (module/mxguard.c) expands MX_CONF_ITEMS() into the static
 * schema knotd reads; the checker (checker/policy_conf.c) expands it into
 * the schema it hands to libknot's yparser, so both refuse the same values
 * with the same words.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libknot/lookup.h>
#include <libknot/yparser/ypschema.h>

#include "address.h"
#include "name_list.h"
#include "policy.h"

/*! The section name, plain and as a yp_name_t. */
#define MX_CONF_SECTION           "mod-mxguard"
#define MX_CONF_SECTION_YP        "\x0b""mod-mxguard"

/*! Item names (yp_name_t: a length octet, then the name). */
#define MX_CONF_ID                "\x02""id"
#define MX_CONF_ALLOW_ADDRESS     "\x0d""allow-address"
#define MX_CONF_LOG_INTERVAL      "\x0c""log-interval"
#define MX_CONF_LOG_TABLE_SIZE    "\x0e""log-table-size"
#define MX_CONF_DNSSEC_UNSIGNED   "\x0f""dnssec-unsigned"
#define MX_CONF_POLICY            "\x06""policy"
#define MX_CONF_NULL_MX           "\x07""null-mx"
#define MX_CONF_NULL_MX_FILE      "\x0c""null-mx-file"
#define MX_CONF_NULL_MX_IMPLICIT  "\x10""null-mx-implicit"
#define MX_CONF_NULL_MX_TTL       "\x0b""null-mx-ttl"
#define MX_CONF_VERDICT_CACHE     "\x12""verdict-cache-size"
#define MX_CONF_VERDICT_MAX_AGE   "\x0f""verdict-max-age"
#define MX_CONF_NO_MAIL_RECORDS   "\x0f""no-mail-records"
#define MX_CONF_NO_MAIL_DMARC     "\x0d""no-mail-dmarc"

/*! The DMARC record served at _dmarc.NAME of a no-mail name (GOV.UK's,
 *  with DMARCbis's np). */
#define MX_CONF_NO_MAIL_DMARC_DEF "v=DMARC1; p=reject; sp=reject; np=reject; adkim=s; aspf=s"

/*! The records of no-mail-records, as bits. */
enum {
	MX_RECORD_SPF = 1 << 0,
	MX_RECORD_DMARC = 1 << 1,
	MX_RECORD_DKIM = 1 << 2,
};

/*! The section a policy item refers to (knotd's DNSSEC policies). */
#define MX_CONF_POLICY_SECTION    "\x06""policy"

/*! Ranges and defaults of the numeric items (knotd enforces them). */
#define MX_CONF_LOG_INTERVAL_MIN    0
#define MX_CONF_LOG_INTERVAL_MAX    UINT32_MAX
#define MX_CONF_LOG_INTERVAL_DEF    300
#define MX_CONF_LOG_TABLE_SIZE_MIN  1
#define MX_CONF_LOG_TABLE_SIZE_MAX  10000000
#define MX_CONF_LOG_TABLE_SIZE_DEF  16384
#define MX_CONF_NULL_MX_TTL_MIN     0
#define MX_CONF_NULL_MX_TTL_MAX     INT32_MAX
#define MX_CONF_NULL_MX_TTL_DEF     3600
#define MX_CONF_VERDICT_CACHE_MIN   0
#define MX_CONF_VERDICT_CACHE_MAX   1000000
#define MX_CONF_VERDICT_CACHE_DEF   1024
#define MX_CONF_VERDICT_MAX_AGE_MIN 0
#define MX_CONF_VERDICT_MAX_AGE_MAX 3600
#define MX_CONF_VERDICT_MAX_AGE_DEF 1

/*! Values of dnssec-unsigned. */
enum {
	MX_CONF_UNSIGNED_DENY = 0,
	MX_CONF_UNSIGNED_ALLOW,
};

/*! The action words (off, log, strip, null-mx), as yparser options. */
extern const knot_lookup_t mx_conf_action_values[];

/*! The dnssec-unsigned words (deny, allow). */
extern const knot_lookup_t mx_conf_unsigned_values[];

/*! The no-mail-records words (spf, dmarc, dkim). */
extern const knot_lookup_t mx_conf_record_values[];

/*! The config item of each kind (its row's, policy.h), NULL for
 *  MX_KIND_NULL_MX_OVERRIDE (the no-mail list is its policy: no item). */
extern const yp_name_t *const mx_conf_kind_items[MX_KIND_COUNT];

/*! The item of one kind's row (policy.h), with its action words and default. */
#define MX_CONF_KIND_ITEM(id, len, name, def, actions, flags, why) \
	{ (const yp_name_t *)(len name), YP_TOPT, YP_VOPT = { mx_conf_action_values, def } },

/*!
 * The items of a mod-mxguard section after its id, for a yp_item_t array:
 * the kinds' items first, in their rows' order. POLICY_CHECKS are the checks
 * of the policy reference: knotd's knotd_conf_check_ref in the module,
 * nothing in the checker (which checks the reference itself).
 */
#define MX_CONF_ITEMS(...) \
	MX_KIND_ROWS(MX_CONF_KIND_ITEM) \
	{ MX_CONF_NO_MAIL_RECORDS,  YP_TOPT, YP_VOPT = { mx_conf_record_values }, YP_FMULTI }, \
	{ MX_CONF_NO_MAIL_DMARC,    YP_TSTR, YP_VSTR = { MX_CONF_NO_MAIL_DMARC_DEF } }, \
	{ MX_CONF_ALLOW_ADDRESS,    YP_TNET, YP_VNONE, YP_FMULTI }, \
	{ MX_CONF_LOG_INTERVAL,     YP_TINT, YP_VINT = { MX_CONF_LOG_INTERVAL_MIN, \
	                            MX_CONF_LOG_INTERVAL_MAX, MX_CONF_LOG_INTERVAL_DEF, YP_STIME } }, \
	{ MX_CONF_LOG_TABLE_SIZE,   YP_TINT, YP_VINT = { MX_CONF_LOG_TABLE_SIZE_MIN, \
	                            MX_CONF_LOG_TABLE_SIZE_MAX, MX_CONF_LOG_TABLE_SIZE_DEF } }, \
	{ MX_CONF_VERDICT_CACHE,    YP_TINT, YP_VINT = { MX_CONF_VERDICT_CACHE_MIN, \
	                            MX_CONF_VERDICT_CACHE_MAX, MX_CONF_VERDICT_CACHE_DEF } }, \
	{ MX_CONF_VERDICT_MAX_AGE,  YP_TINT, YP_VINT = { MX_CONF_VERDICT_MAX_AGE_MIN, \
	                            MX_CONF_VERDICT_MAX_AGE_MAX, MX_CONF_VERDICT_MAX_AGE_DEF, \
	                            YP_STIME } }, \
	{ MX_CONF_DNSSEC_UNSIGNED,  YP_TOPT, YP_VOPT = { mx_conf_unsigned_values, \
	                            MX_CONF_UNSIGNED_DENY } }, \
	{ MX_CONF_NULL_MX,          YP_TSTR, YP_VNONE, YP_FMULTI }, \
	{ MX_CONF_NULL_MX_FILE,     YP_TSTR, YP_VNONE }, \
	{ MX_CONF_NULL_MX_IMPLICIT, YP_TBOOL, YP_VNONE }, \
	{ MX_CONF_NULL_MX_TTL,      YP_TINT, YP_VINT = { MX_CONF_NULL_MX_TTL_MIN, \
	                            MX_CONF_NULL_MX_TTL_MAX, MX_CONF_NULL_MX_TTL_DEF, YP_STIME } }, \
	{ MX_CONF_POLICY,           YP_TREF, YP_VREF = { MX_CONF_POLICY_SECTION }, YP_FNONE, \
	                            { __VA_ARGS__ } }

/*! What knotd says when it refuses a rewriting instance in global scope. */
#define MX_CONF_GLOBAL_REWRITE_MSG \
	"strip, null-mx and null MX names work only in zone scope (knotd runs " \
	"global modules only around the answer); use 'module:' in a zone or " \
	"template instead"

/*!
 * \brief Checks a no-mail-dmarc value: "v=DMARC1;" then p=reject as the
 *        first tag (internet.nl's no-mail rule), one TXT string (at most
 *        255 characters, printable ASCII).
 *
 * \return KNOT_EOK, or KNOT_EINVAL with the message in \a err.
 */
int mx_conf_check_dmarc(const char *value, char *err, size_t err_len);

/*! \brief Tells whether \a kind's item may be given \a action (its row's
 *         actions; null-mx-override has no item). */
bool mx_conf_kind_accepts(mx_kind_t kind, mx_action_t action);

/*!
 * \brief Checks the action of a kind's item.
 *
 * \param err  Receives e.g. "invalid provider-mix 'strip', it takes only
 *             'off' or 'log'".
 *
 * \retval KNOT_EOK, KNOT_EINVAL.
 */
int mx_conf_check_action(mx_kind_t kind, mx_action_t action, char *err, size_t err_len);

/*!
 * \brief Checks an allow-address range given by its two ends.
 *
 * \param err  Receives e.g. "invalid allow-address '10.0.0.9-10.0.0.1', the
 *             first address must not be above the second".
 *
 * \retval KNOT_EOK, KNOT_EINVAL.
 */
int mx_conf_check_allow(const mx_addr_t *first, const mx_addr_t *last,
                        char *err, size_t err_len);

/*!
 * \brief Parses an allow-address value (ADDR, ADDR/PREFIX, ADDR-ADDR) with
 *        the messages of mx_conf_check_allow() for a reversed range.
 *
 * \retval KNOT_EOK, KNOT_EINVAL.
 */
int mx_conf_parse_allow(mx_addr_range_t *range, const char *text,
                        char *err, size_t err_len);

/*!
 * \brief Adds the null-mx names, then the names of the null-mx-file, to a
 *        no-mail list.
 *
 * \param names  The null-mx values (\a count of them).
 * \param file   The null-mx-file, or NULL.
 * \param err    Receives e.g. "invalid null-mx 'a..b' (empty label)" or
 *               "invalid null-mx-file, PATH:3: invalid name 'x..y': empty
 *               label" or "invalid null-mx-file, PATH: No such file or
 *               directory".
 *
 * \retval KNOT_EOK, KNOT_EINVAL, KNOT_EFILE, KNOT_ENOMEM.
 */
int mx_conf_load_no_mail(mx_name_list_t *list, const char *const *names, size_t count,
                         const char *file, char *err, size_t err_len);

/*!
 * \brief Tells whether an instance changes answers: a kind whose action
 *        strips or answers null MX, no-mail names, or null-mx-implicit.
 */
bool mx_conf_rewrites(const mx_policy_t *policy, bool no_mail, bool implicit);

/*!
 * \brief The scope rule: an instance that rewrites must be a zone's.
 *
 * \param err  Receives MX_CONF_GLOBAL_REWRITE_MSG.
 *
 * \retval KNOT_EOK, KNOT_ENOTSUP (a global instance that rewrites).
 */
int mx_conf_check_scope(bool global, bool rewrites, char *err, size_t err_len);
