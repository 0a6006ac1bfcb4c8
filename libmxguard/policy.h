/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief Violation kinds, actions and the policy that maps one to the other.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address.h"

/*!
 * The violation kinds, one row each: X(ID, ITEM_LEN, NAME, DEFAULT, ACTIONS,
 * FLAGS, WHY). NAME is the config item, the log line's and the counter's
 * word; ITEM_LEN its length as the octet before a yp_name_t; ACTIONS the
 * actions its item accepts (MX_ACTIONS_*); FLAGS its MX_KIND_F_* properties;
 * WHY what a refused rewriting action is told ("" or " (...)").
 *
 * Adding a kind is a row here and its rule in mx_check.c; the enum, the
 * names, the config schema (module and checker), the checks of its actions
 * and the counters follow from the row. The schema lists the items in this
 * order. null-mx-override is the one kind without an item (the no-mail list
 * is its policy): it follows the rows.
 */
#define MX_KIND_ROWS(X) \
	X(IP_LITERAL,       "\x0a", "ip-literal",       MX_ACTION_LOG, MX_ACTIONS_ALL, \
	  MX_KIND_F_CHECKER, "") \
	X(LOOPBACK,         "\x08", "loopback",         MX_ACTION_LOG, MX_ACTIONS_ALL, \
	  MX_KIND_F_CHECKER | MX_KIND_F_NEEDS_LOOKUPS, "") \
	X(SPECIAL_ADDRESS,  "\x0f", "special-address",  MX_ACTION_LOG, MX_ACTIONS_ALL, \
	  MX_KIND_F_CHECKER | MX_KIND_F_NEEDS_LOOKUPS, "") \
	X(MISSING_ADDRESS,  "\x0f", "missing-address",  MX_ACTION_LOG, MX_ACTIONS_ALL, \
	  MX_KIND_F_CHECKER | MX_KIND_F_NEEDS_LOOKUPS | MX_KIND_F_EXACT_WITH_LOOKUPS, "") \
	X(NULL_MX_CONFLICT, "\x10", "null-mx-conflict", MX_ACTION_LOG, MX_ACTIONS_ALL, \
	  MX_KIND_F_CHECKER, "") \
	X(SELF_EXCHANGE,    "\x0d", "self-exchange",    MX_ACTION_LOG, MX_ACTIONS_LOG_ONLY, \
	  MX_KIND_F_CHECKER, " (the domain's own host may receive its mail)") \
	X(PROVIDER_MIX,     "\x0c", "provider-mix",     MX_ACTION_LOG, MX_ACTIONS_LOG_ONLY, \
	  MX_KIND_F_CHECKER, "") \
	X(CNAME_EXCHANGE,   "\x0e", "cname-exchange",   MX_ACTION_LOG, MX_ACTIONS_LOG_ONLY, \
	  MX_KIND_F_CHECKER | MX_KIND_F_NEEDS_LOOKUPS, " (mail to a CNAME exchange is delivered)") \
	X(NO_MAIL_POLICY,   "\x0e", "no-mail-policy",   MX_ACTION_LOG, MX_ACTIONS_LOG_ONLY, \
	  MX_KIND_F_CHECKER, "")

/*!
 * Why some kinds take only off and log: no record is wrong by itself in a
 * provider mix (nothing to strip); a no-mail name's own SPF or DMARC record
 * is the zone's word (served as it is); mail to a CNAME exchange or to the
 * domain's own host can be delivered (MTAs follow a CNAME, RFC 5321 §5.1):
 * removing them, or "no mail" in their place, would harm mail that works.
 */

#define MX_KIND_ENUM(id, len, name, def, actions, flags, why) MX_KIND_##id,

/*! Kinds of violation; each has a config item of the same name. */
typedef enum {
	MX_KIND_ROWS(MX_KIND_ENUM)
	MX_KIND_NULL_MX_OVERRIDE,  /*!< A no-mail name has MX records (no config
	                                item: the list is the policy). */
	MX_KIND_COUNT
} mx_kind_t;

/*!
 * The actions, weakest first (when several apply, the strongest wins), one
 * row each: X(ID, NAME, REWRITES). NAME is the config, log and counter
 * word; REWRITES tells whether it changes the answer. Adding an action is a
 * row here and what it leaves of an RRset in rewrite_plan.c.
 */
#define MX_ACTION_ROWS(X) \
	X(OFF,     "off",     false)  /* Do not check. */ \
	X(LOG,     "log",     false)  /* Log and count, serve the answer unchanged. */ \
	X(STRIP,   "strip",   true)   /* Remove the offending records. */ \
	X(NULL_MX, "null-mx", true)   /* Replace the RRset with a null MX. */

#define MX_ACTION_ENUM(id, name, rewrites) MX_ACTION_##id,

typedef enum {
	MX_ACTION_ROWS(MX_ACTION_ENUM)
	MX_ACTION_COUNT
} mx_action_t;

/*! Sets of actions (bit 1 << action). */
#define MX_ACTIONS_LOG_ONLY  ((1u << MX_ACTION_OFF) | (1u << MX_ACTION_LOG))
#define MX_ACTIONS_ALL       ((1u << MX_ACTION_COUNT) - 1)

/*! Properties of a kind. */
enum {
	MX_KIND_F_CHECKER = 1 << 0,           /*!< mxguard-check reports it. */
	MX_KIND_F_NEEDS_LOOKUPS = 1 << 1,     /*!< Judged on the exchange's addresses
	                                           or alias (lookup or glue). */
	MX_KIND_F_EXACT_WITH_LOOKUPS = 1 << 2,/*!< Exact only with lookups (Knot
	                                           3.4+); inferred on 3.2/3.3, then
	                                           logged, never enforced. */
};

/*! One kind's row. */
typedef struct {
	const char *name;       /*!< Config item, log and counter word. */
	const uint8_t *item;    /*!< Its config item as a yp_name_t, NULL: none. */
	mx_action_t def;        /*!< Default action of the item. */
	unsigned actions;       /*!< Actions the item accepts (MX_ACTIONS_*). */
	unsigned flags;         /*!< MX_KIND_F_*. */
	const char *why;        /*!< Why a rewriting action is refused, or "". */
} mx_kind_row_t;

/*! The kinds' rows, by kind. */
extern const mx_kind_row_t mx_kinds[MX_KIND_COUNT];

/*! One action's row. */
typedef struct {
	const char *name;       /*!< Config, log and counter word. */
	bool rewrites;          /*!< Changes the answer (the records go). */
} mx_action_row_t;

/*! The actions' rows, by action. */
extern const mx_action_row_t mx_actions[MX_ACTION_COUNT];

/*! \brief Tells whether \a action changes the answer (strip, null-mx). */
static inline bool mx_action_rewrites(mx_action_t action)
{
	return mx_actions[action].rewrites;
}

/*! \brief Tells whether \a kind takes only off and log (MX_ACTIONS_LOG_ONLY). */
static inline bool mx_kind_log_only(mx_kind_t kind)
{
	return mx_kinds[kind].actions == MX_ACTIONS_LOG_ONLY;
}

/*! \brief Tells whether \a kind has the properties \a flags (MX_KIND_F_*). */
static inline bool mx_kind_is(mx_kind_t kind, unsigned flags)
{
	return (mx_kinds[kind].flags & flags) == flags;
}

/*! What the checks need to know of the configuration. */
typedef struct {
	mx_action_t action[MX_KIND_COUNT];
	const mx_addr_range_t *allow;  /*!< Addresses exempt from special-address. */
	size_t allow_count;
} mx_policy_t;

/*! \brief Config and log name of a kind ("ip-literal", ...). */
const char *mx_kind_name(mx_kind_t kind);

/*! \brief Config and log name of an action ("off", "log", ...). */
const char *mx_action_name(mx_action_t action);

/*! \brief Tells whether a kind the policy checks needs the exchanges'
 *         addresses or alias (MX_KIND_F_NEEDS_LOOKUPS): else none is looked up. */
bool mx_policy_needs_lookups(const mx_policy_t *policy);

/*! \brief Sets every kind to \a action, with no allowed addresses. */
void mx_policy_init(mx_policy_t *policy, mx_action_t action);
