/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief Known mail providers, recognised by the names of their exchanges.
 */

#pragma once

#include <stddef.h>
#include <libknot/dname.h>

/*! One pattern of the provider table. */
typedef struct {
	const char *provider;  /*!< Short provider name, as logged. */
	const char *pattern;   /*!< Name suffix; a '*' label matches one label. */
} mx_provider_pattern_t;

extern const mx_provider_pattern_t mx_provider_patterns[];
extern const size_t mx_provider_pattern_count;

/*! \brief Returns the provider whose pattern the exchange falls under, or NULL. */
const char *mx_provider_of(const knot_dname_t *exchange);
