/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief Violation kinds, actions and the policy that maps one to the other.
 */

#pragma once

#include <stddef.h>

#include "address.h"

/*! Kinds of violation; each has a config item of the same name. */
typedef enum {
	MX_KIND_IP_LITERAL = 0,
	MX_KIND_LOOPBACK,
	MX_KIND_SPECIAL_ADDRESS,
	MX_KIND_MISSING_ADDRESS,
	MX_KIND_NULL_MX_CONFLICT,
	MX_KIND_SELF_EXCHANGE,
	MX_KIND_PROVIDER_MIX,
	MX_KIND_CNAME_EXCHANGE,  /*!< An alias (CNAME) exchange. */
	MX_KIND_NO_MAIL_POLICY,  /*!< A no-mail name's own SPF or DMARC record
	                              that lets mail through (only off or log). */
	MX_KIND_NULL_MX_OVERRIDE,  /*!< A no-mail name has MX records (no config
	                                item: the list is the policy). */
	MX_KIND_COUNT
} mx_kind_t;

/*! Actions, weakest first: when several apply, the strongest wins. */
typedef enum {
	MX_ACTION_OFF = 0,  /*!< Do not check. */
	MX_ACTION_LOG,      /*!< Log and count, serve the answer unchanged. */
	MX_ACTION_STRIP,    /*!< Remove the offending records. */
	MX_ACTION_NULL_MX,  /*!< Replace the RRset with a null MX. */
	MX_ACTION_COUNT
} mx_action_t;

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

/*! \brief Sets every kind to \a action, with no allowed addresses. */
void mx_policy_init(mx_policy_t *policy, mx_action_t action);
