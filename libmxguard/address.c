/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "address.h"

// Longest text accepted for one side of a range, with its terminator.
#define ADDR_TEXT_MAX INET6_ADDRSTRLEN

size_t mx_addr_len(uint8_t family)
{
	switch (family) {
	case AF_INET:
		return 4;
	case AF_INET6:
		return 16;
	default:
		return 0;
	}
}

bool mx_addr_from_rdata(mx_addr_t *addr, const uint8_t *data, size_t len)
{
	if (addr == NULL || data == NULL) {
		return false;
	}

	uint8_t family;
	if (len == 4) {
		family = AF_INET;
	} else if (len == 16) {
		family = AF_INET6;
	} else {
		return false;
	}

	// Zero everything first so that two equal addresses compare equal whole.
	memset(addr, 0, sizeof(*addr));
	addr->family = family;
	memcpy(addr->bytes, data, len);
	return true;
}

const char *mx_addr_to_str(const mx_addr_t *addr, char *buf, size_t len)
{
	if (buf == NULL || len == 0) {
		return buf;
	}

	if (addr != NULL && mx_addr_len(addr->family) != 0 &&
	    inet_ntop(addr->family, addr->bytes, buf, (socklen_t)len) != NULL) {
		return buf;
	}

	// Unknown family or too small a buffer: say so rather than print garbage.
	if (len >= 2) {
		buf[0] = '?';
		buf[1] = '\0';
	} else {
		buf[0] = '\0';
	}
	return buf;
}

/*! Parses one address; the family is told by the text itself. */
static bool parse_addr(mx_addr_t *addr, const char *text, size_t text_len)
{
	if (text_len == 0 || text_len >= ADDR_TEXT_MAX) {
		return false;
	}

	// inet_pton() needs a terminated string; the text is a slice of the input.
	char buf[ADDR_TEXT_MAX];
	memcpy(buf, text, text_len);
	buf[text_len] = '\0';

	memset(addr, 0, sizeof(*addr));
	if (inet_pton(AF_INET, buf, addr->bytes) == 1) {
		addr->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, buf, addr->bytes) == 1) {
		addr->family = AF_INET6;
		return true;
	}
	return false;
}

/*! Parses a prefix length: decimal digits only, at most \a max. */
static bool parse_prefix_len(const char *text, unsigned max, unsigned *out)
{
	if (*text == '\0') {
		return false;
	}

	unsigned value = 0;
	for (const char *p = text; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			return false;
		}
		value = value * 10 + (unsigned)(*p - '0');
		// Checked on every digit, so the value cannot overflow.
		if (value > max) {
			return false;
		}
	}

	*out = value;
	return true;
}

bool mx_addr_range_parse(mx_addr_range_t *range, const char *text)
{
	if (range == NULL || text == NULL) {
		return false;
	}

	mx_addr_range_t parsed;
	mx_addr_t first;
	const char *slash = strchr(text, '/');
	const char *dash = strchr(text, '-');

	if (slash != NULL) {
		// A dash anywhere in "ADDR/PREFIX" is junk.
		if (dash != NULL ||
		    !parse_addr(&first, text, (size_t)(slash - text))) {
			return false;
		}
		unsigned prefix_len;
		unsigned max_len = (unsigned)mx_addr_len(first.family) * 8;
		if (!parse_prefix_len(slash + 1, max_len, &prefix_len) ||
		    !mx_addr_range_prefix(&parsed, &first, prefix_len)) {
			return false;
		}
	} else if (dash != NULL) {
		mx_addr_t last;
		if (!parse_addr(&first, text, (size_t)(dash - text)) ||
		    !parse_addr(&last, dash + 1, strlen(dash + 1)) ||
		    first.family != last.family) {
			return false;
		}
		size_t len = mx_addr_len(first.family);
		if (memcmp(first.bytes, last.bytes, len) > 0) {
			return false;
		}
		memset(&parsed, 0, sizeof(parsed));
		parsed.family = first.family;
		memcpy(parsed.min, first.bytes, len);
		memcpy(parsed.max, last.bytes, len);
	} else {
		if (!parse_addr(&first, text, strlen(text))) {
			return false;
		}
		memset(&parsed, 0, sizeof(parsed));
		parsed.family = first.family;
		memcpy(parsed.min, first.bytes, sizeof(parsed.min));
		memcpy(parsed.max, first.bytes, sizeof(parsed.max));
	}

	// Only a well-formed range reaches the caller.
	*range = parsed;
	return true;
}

bool mx_addr_range_prefix(mx_addr_range_t *range, const mx_addr_t *addr,
                          unsigned prefix_len)
{
	if (range == NULL || addr == NULL) {
		return false;
	}

	size_t len = mx_addr_len(addr->family);
	if (len == 0 || prefix_len > len * 8) {
		return false;
	}

	memset(range, 0, sizeof(*range));
	range->family = addr->family;
	for (size_t i = 0; i < len; i++) {
		// Mask of the network bits within octet i.
		uint8_t mask;
		if (prefix_len >= (i + 1) * 8) {
			mask = 0xff;
		} else if (prefix_len <= i * 8) {
			mask = 0x00;
		} else {
			mask = (uint8_t)(0xff << (8 - (prefix_len - i * 8)));
		}
		range->min[i] = addr->bytes[i] & mask;
		range->max[i] = addr->bytes[i] | (uint8_t)~mask;
	}
	return true;
}

bool mx_addr_range_match(const mx_addr_range_t *range, const mx_addr_t *addr)
{
	if (range == NULL || addr == NULL || range->family != addr->family) {
		return false;
	}

	size_t len = mx_addr_len(addr->family);
	if (len == 0) {
		return false;
	}

	return memcmp(range->min, addr->bytes, len) <= 0 &&
	       memcmp(addr->bytes, range->max, len) <= 0;
}

bool mx_addr_in_ranges(const mx_addr_range_t *ranges, size_t count,
                       const mx_addr_t *addr)
{
	if (ranges == NULL) {
		return false;
	}

	for (size_t i = 0; i < count; i++) {
		if (mx_addr_range_match(&ranges[i], addr)) {
			return true;
		}
	}
	return false;
}
