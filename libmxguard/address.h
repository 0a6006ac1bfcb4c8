/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief IP addresses and address ranges as plain values.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*! An IPv4 or IPv6 address in network byte order. */
typedef struct {
	uint8_t family;     /*!< AF_INET or AF_INET6. */
	uint8_t bytes[16];  /*!< The first 4 octets for AF_INET. */
} mx_addr_t;

/*! An inclusive address range [min, max] of one family. */
typedef struct {
	uint8_t family;
	uint8_t min[16];
	uint8_t max[16];
} mx_addr_range_t;

/*! Longest text of an address as written by mx_addr_to_str(). */
#define MX_ADDR_STRLEN 46

/*! \brief Octet length of an address family (4, 16, or 0 when unknown). */
size_t mx_addr_len(uint8_t family);

/*! \brief Makes an address from A (4 octets) or AAAA (16 octets) rdata. */
bool mx_addr_from_rdata(mx_addr_t *addr, const uint8_t *data, size_t len);

/*! \brief Writes the address in its usual text form; returns \a buf. */
const char *mx_addr_to_str(const mx_addr_t *addr, char *buf, size_t len);

/*!
 * \brief Parses "ADDR", "ADDR/PREFIX" or "ADDR-ADDR" into a range.
 *
 * \return True on success, false on a malformed range.
 */
bool mx_addr_range_parse(mx_addr_range_t *range, const char *text);

/*! \brief Makes the range of a prefix: \a prefix_len leading bits of \a addr. */
bool mx_addr_range_prefix(mx_addr_range_t *range, const mx_addr_t *addr,
                          unsigned prefix_len);

/*! \brief Tells whether \a addr lies in \a range (same family only). */
bool mx_addr_range_match(const mx_addr_range_t *range, const mx_addr_t *addr);

/*! \brief Tells whether \a addr lies in any of \a count ranges. */
bool mx_addr_in_ranges(const mx_addr_range_t *ranges, size_t count,
                       const mx_addr_t *addr);
