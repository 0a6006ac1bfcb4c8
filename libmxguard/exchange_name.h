/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief Checks on an exchange name alone: IP literals, localhost, the root.
 */

#pragma once

#include <stdbool.h>
#include <libknot/dname.h>

#include "address.h"

/*!
 * \brief Tells whether an exchange is an address written as a name.
 *
 * Recognised: a dotted quad (192.0.2.1.), an address literal in brackets
 * ([192.0.2.1], [IPv6:2001:db8::1], also with escaped dots), a label that
 * parses as an IPv6 address, and any name whose last label is all digits
 * (no host name has a numeric top-level label, RFC 3696 §2, yet resolvers
 * and mail software may read it as an address: 1.2.3., 010.1.1.1.).
 *
 * \param name  Exchange name (wire format).
 * \param addr  Optional output: the address, only when it is unambiguous
 *              (cleared to family 0 otherwise).
 */
bool mx_exchange_ip_literal(const knot_dname_t *name, mx_addr_t *addr);

/*! \brief Tells whether the name is localhost. or ends in a localhost label. */
bool mx_exchange_localhost(const knot_dname_t *name);
