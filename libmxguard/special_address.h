/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief Special-purpose address registries (RFC 6890 and IANA's registries).
 */

#pragma once

#include "address.h"

/*! What an address is good for as a mail exchange. */
typedef enum {
	MX_ADDR_GLOBAL = 0,  /*!< Ordinary unicast address. */
	MX_ADDR_LOOPBACK,    /*!< 127.0.0.0/8, ::1 (also as IPv4-mapped). */
	MX_ADDR_SPECIAL,     /*!< Any other special-purpose range. */
} mx_addr_class_t;

/*! One entry of the special-purpose table. */
typedef struct {
	uint8_t family;
	uint8_t prefix[16];
	uint8_t prefix_len;
	mx_addr_class_t cls;
	const char *name;       /*!< Registry name, e.g. "TEST-NET-1". */
	const char *reference;  /*!< Defining document, e.g. "RFC 5737". */
} mx_special_range_t;

/*! The table, for tests and documentation. */
extern const mx_special_range_t mx_special_ranges[];
extern const size_t mx_special_range_count;

/*!
 * \brief Classifies an address.
 *
 * An IPv4-mapped IPv6 address (::ffff:0:0/96) is judged by its IPv4 address.
 *
 * \param addr   Address to classify.
 * \param range  Optional output: the matching table entry (NULL if global).
 */
mx_addr_class_t mx_addr_classify(const mx_addr_t *addr,
                                 const mx_special_range_t **range);
