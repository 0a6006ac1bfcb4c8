/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "exchange_name.h"

// A wire name has at most 255 octets, so its labels joined with dots fit in
// 253 characters; the margin covers a malformed name cut short by the bound.
#define JOINED_MAX 256

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/*!
 * \brief Joins the labels of \a name with dots into \a buf (NUL-terminated).
 *
 * \return Text length, or -1 for the root name, a label with an octet outside
 *         printable ASCII (such a text cannot be an address), or too long.
 */
static int join_labels(const knot_dname_t *name, char *buf, size_t size)
{
	size_t len = 0;
	for (const uint8_t *label = name; *label != 0; label += 1 + *label) {
		if (len > 0) {
			if (len + 1 >= size) {
				return -1;
			}
			buf[len++] = '.';
		}
		uint8_t label_len = *label;
		if (len + label_len >= size) {
			return -1;
		}
		for (uint8_t i = 1; i <= label_len; i++) {
			uint8_t c = label[i];
			if (c < 0x21 || c > 0x7e) {
				return -1;
			}
			buf[len++] = (char)c;
		}
	}
	if (len == 0) {
		return -1;
	}
	buf[len] = '\0';
	return (int)len;
}

/*!
 * \brief Parses a strict dotted quad: four decimal parts 0-255, no leading
 *        zeros (010 is octal to inet_aton), no sign, no spaces.
 */
static bool parse_dotted_quad(const char *text, size_t len, uint8_t out[4])
{
	size_t pos = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (pos >= len || text[pos] != '.') {
				return false;
			}
			pos++;
		}
		size_t start = pos;
		unsigned value = 0;
		while (pos < len && is_digit(text[pos]) && pos - start < 3) {
			value = value * 10 + (unsigned)(text[pos] - '0');
			pos++;
		}
		size_t digits = pos - start;
		if (digits == 0 || value > 255 || (digits > 1 && text[start] == '0')) {
			return false;
		}
		out[part] = (uint8_t)value;
	}
	return pos == len;
}

static bool parse_ipv4(const char *text, size_t len, mx_addr_t *addr)
{
	uint8_t bytes[4];
	if (!parse_dotted_quad(text, len, bytes)) {
		return false;
	}
	if (addr != NULL) {
		addr->family = AF_INET;
		memcpy(addr->bytes, bytes, sizeof(bytes));
	}
	return true;
}

/*! \brief Parses NUL-terminated IPv6 text (inet_pton rules). */
static bool parse_ipv6(const char *text, mx_addr_t *addr)
{
	uint8_t bytes[16];
	if (inet_pton(AF_INET6, text, bytes) != 1) {
		return false;
	}
	if (addr != NULL) {
		addr->family = AF_INET6;
		memcpy(addr->bytes, bytes, sizeof(bytes));
	}
	return true;
}

static bool last_label_numeric(const knot_dname_t *name)
{
	const uint8_t *last = NULL;
	for (const uint8_t *label = name; *label != 0; label += 1 + *label) {
		last = label;
	}
	if (last == NULL) {
		return false;
	}
	for (uint8_t i = 1; i <= last[0]; i++) {
		if (!is_digit(last[i])) {
			return false;
		}
	}
	return true;
}

bool mx_exchange_ip_literal(const knot_dname_t *name, mx_addr_t *addr)
{
	if (addr != NULL) {
		memset(addr, 0, sizeof(*addr));
	}
	if (name == NULL || *name == 0) {
		return false;
	}

	// Fast path for host names: an address literal starts with '[', IPv6
	// text has a ':', and a dotted quad either ends in a numeric label or
	// has a '.' inside a label. (A length octet of 46 or 58 only sends a
	// name down the full path.)
	size_t size = knot_dname_size(name);
	if (name[1] != '[' && memchr(name, ':', size) == NULL &&
	    memchr(name, '.', size) == NULL && !last_label_numeric(name)) {
		return false;
	}

	char text[JOINED_MAX];
	int ret = join_labels(name, text, sizeof(text));
	if (ret > 0) {
		size_t len = (size_t)ret;

		// RFC 5321 address literal: true even when the inside is garbage.
		if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
			char *inner = text + 1;
			size_t inner_len = len - 2;
			inner[inner_len] = '\0';
			if (inner_len >= 5 && strncasecmp(inner, "IPv6:", 5) == 0) {
				parse_ipv6(inner + 5, addr);
			} else {
				parse_ipv4(inner, inner_len, addr);
			}
			return true;
		}

		if (parse_ipv6(text, addr) || parse_ipv4(text, len, addr)) {
			return true;
		}
	}

	// A numeric top-level label is never a host name, but some software
	// reads the name as an address (1.2.3. as 1.2.0.3): no address is safe.
	return last_label_numeric(name);
}

bool mx_exchange_localhost(const knot_dname_t *name)
{
	if (name == NULL) {
		return false;
	}
	const uint8_t *last = NULL;
	for (const uint8_t *label = name; *label != 0; label += 1 + *label) {
		last = label;
	}
	if (last == NULL) {
		return false;
	}
	// The last label followed by the root is itself a name.
	return knot_dname_is_case_equal(last, (const uint8_t *)"\x09" "localhost");
}
