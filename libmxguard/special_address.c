/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include "special_address.h"

// The table is constant data, so that knotd worker threads may classify
// addresses concurrently without locking. The only derived data, the leading
// bits that some entry covers, is built once (pthread_once) on first use.

/*! An IPv4 entry: four octets, prefix length, class, name, reference. */
#define V4(a, b, c, d, len, cls, name, ref) \
	{ AF_INET, { a, b, c, d }, len, MX_ADDR_##cls, name, ref }

/*! The two octets of a 16-bit IPv6 group. */
#define W(w) (((w) >> 8) & 0xff), ((w) & 0xff)

/*! An IPv6 entry: eight 16-bit groups, prefix length, class, name, reference. */
#define V6(a, b, c, d, e, f, g, h, len, cls, name, ref) \
	{ AF_INET6, { W(a), W(b), W(c), W(d), W(e), W(f), W(g), W(h) }, \
	  len, MX_ADDR_##cls, name, ref }

const mx_special_range_t mx_special_ranges[] = {
	// IANA IPv4 Special-Purpose Address Registry (RFC 6890, RFC 8190).
	V4(  0,   0,   0,   0,  8, SPECIAL,  "This network",                               "RFC 791, Section 3.2"),
	V4(  0,   0,   0,   0, 32, SPECIAL,  "This host on this network",                  "RFC 1122, Section 3.2.1.3"),
	V4( 10,   0,   0,   0,  8, SPECIAL,  "Private-Use",                                "RFC 1918"),
	V4(100,  64,   0,   0, 10, SPECIAL,  "Shared Address Space",                       "RFC 6598"),
	V4(127,   0,   0,   0,  8, LOOPBACK, "Loopback",                                   "RFC 1122, Section 3.2.1.3"),
	V4(169, 254,   0,   0, 16, SPECIAL,  "Link Local",                                 "RFC 3927"),
	V4(172,  16,   0,   0, 12, SPECIAL,  "Private-Use",                                "RFC 1918"),
	V4(192,   0,   0,   0, 24, SPECIAL,  "IETF Protocol Assignments",                  "RFC 6890, Section 2.1"),
	V4(192,   0,   0,   0, 29, SPECIAL,  "IPv4 Service Continuity Prefix",             "RFC 7335"),
	V4(192,   0,   0,   8, 32, SPECIAL,  "IPv4 dummy address",                         "RFC 7600"),
	V4(192,   0,   0,   9, 32, SPECIAL,  "Port Control Protocol Anycast",              "RFC 7723"),
	V4(192,   0,   0,  10, 32, SPECIAL,  "Traversal Using Relays around NAT Anycast",  "RFC 8155"),
	V4(192,   0,   0, 170, 32, SPECIAL,  "NAT64/DNS64 Discovery",                      "RFC 8880, RFC 7050, Section 2.2"),
	V4(192,   0,   0, 171, 32, SPECIAL,  "NAT64/DNS64 Discovery",                      "RFC 8880, RFC 7050, Section 2.2"),
	V4(192,   0,   2,   0, 24, SPECIAL,  "Documentation (TEST-NET-1)",                 "RFC 5737"),
	V4(192,  31, 196,   0, 24, SPECIAL,  "AS112-v4",                                   "RFC 7535"),
	V4(192,  52, 193,   0, 24, SPECIAL,  "AMT",                                        "RFC 7450"),
	V4(192,  88,  99,   0, 24, SPECIAL,  "Deprecated (6to4 Relay Anycast)",            "RFC 7526"),
	V4(192,  88,  99,   2, 32, SPECIAL,  "6a44-relay anycast address",                "RFC 6751"),
	V4(192, 168,   0,   0, 16, SPECIAL,  "Private-Use",                                "RFC 1918"),
	V4(192, 175,  48,   0, 24, SPECIAL,  "Direct Delegation AS112 Service",            "RFC 7534"),
	V4(198,  18,   0,   0, 15, SPECIAL,  "Benchmarking",                               "RFC 2544"),
	V4(198,  51, 100,   0, 24, SPECIAL,  "Documentation (TEST-NET-2)",                 "RFC 5737"),
	V4(203,   0, 113,   0, 24, SPECIAL,  "Documentation (TEST-NET-3)",                 "RFC 5737"),
	V4(240,   0,   0,   0,  4, SPECIAL,  "Reserved",                                   "RFC 1112, Section 4"),
	V4(255, 255, 255, 255, 32, SPECIAL,  "Limited Broadcast",                          "RFC 8190, RFC 919, Section 7"),
	// IANA IPv4 Multicast Address Space Registry: never a mail exchange.
	V4(224,   0,   0,   0,  4, SPECIAL,  "Multicast",                                  "RFC 5771"),

	// IANA IPv6 Special-Purpose Address Registry (RFC 6890, RFC 8190).
	V6(     0,      0,      0, 0, 0,      0, 0, 1, 128, LOOPBACK, "Loopback Address",                                   "RFC 4291"),
	V6(     0,      0,      0, 0, 0,      0, 0, 0, 128, SPECIAL,  "Unspecified Address",                                "RFC 4291"),
	V6(     0,      0,      0, 0, 0, 0xffff, 0, 0,  96, SPECIAL,  "IPv4-mapped Address",                                "RFC 4291"),
	V6(0x0064, 0xff9b,      0, 0, 0,      0, 0, 0,  96, SPECIAL,  "IPv4-IPv6 Translat.",                                "RFC 6052"),
	V6(0x0064, 0xff9b, 0x0001, 0, 0,      0, 0, 0,  48, SPECIAL,  "IPv4-IPv6 Translat.",                                "RFC 8215"),
	V6(0x0100,      0,      0, 0, 0,      0, 0, 0,  64, SPECIAL,  "Discard-Only Address Block",                         "RFC 6666"),
	V6(0x0100,      0,      0, 1, 0,      0, 0, 0,  64, SPECIAL,  "Dummy IPv6 Prefix",                                  "RFC 9780"),
	V6(0x2001,      0,      0, 0, 0,      0, 0, 0,  23, SPECIAL,  "IETF Protocol Assignments",                          "RFC 2928"),
	V6(0x2001,      0,      0, 0, 0,      0, 0, 0,  32, SPECIAL,  "TEREDO",                                             "RFC 4380, RFC 8190"),
	V6(0x2001, 0x0001,      0, 0, 0,      0, 0, 1, 128, SPECIAL,  "Port Control Protocol Anycast",                      "RFC 7723"),
	V6(0x2001, 0x0001,      0, 0, 0,      0, 0, 2, 128, SPECIAL,  "Traversal Using Relays around NAT Anycast",          "RFC 8155"),
	V6(0x2001, 0x0001,      0, 0, 0,      0, 0, 3, 128, SPECIAL,  "DNS-SD Service Registration Protocol Anycast",       "RFC 9665"),
	V6(0x2001, 0x0002,      0, 0, 0,      0, 0, 0,  48, SPECIAL,  "Benchmarking",                                       "RFC 5180, RFC Errata 1752"),
	V6(0x2001, 0x0003,      0, 0, 0,      0, 0, 0,  32, SPECIAL,  "AMT",                                                "RFC 7450"),
	V6(0x2001, 0x0004, 0x0112, 0, 0,      0, 0, 0,  48, SPECIAL,  "AS112-v6",                                           "RFC 7535"),
	V6(0x2001, 0x0010,      0, 0, 0,      0, 0, 0,  28, SPECIAL,  "Deprecated (previously ORCHID)",                     "RFC 4843"),
	V6(0x2001, 0x0020,      0, 0, 0,      0, 0, 0,  28, SPECIAL,  "ORCHIDv2",                                           "RFC 7343"),
	V6(0x2001, 0x0030,      0, 0, 0,      0, 0, 0,  28, SPECIAL,  "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374"),
	V6(0x2001, 0x0db8,      0, 0, 0,      0, 0, 0,  32, SPECIAL,  "Documentation",                                      "RFC 3849"),
	V6(0x2002,      0,      0, 0, 0,      0, 0, 0,  16, SPECIAL,  "6to4",                                               "RFC 3056"),
	V6(0x2620, 0x004f, 0x8000, 0, 0,      0, 0, 0,  48, SPECIAL,  "Direct Delegation AS112 Service",                    "RFC 7534"),
	V6(0x3fff,      0,      0, 0, 0,      0, 0, 0,  20, SPECIAL,  "Documentation",                                      "RFC 9637"),
	V6(0x5f00,      0,      0, 0, 0,      0, 0, 0,  16, SPECIAL,  "Segment Routing (SRv6) SIDs",                        "RFC 9602"),
	V6(0xfc00,      0,      0, 0, 0,      0, 0, 0,   7, SPECIAL,  "Unique-Local",                                       "RFC 4193, RFC 8190"),
	V6(0xfe80,      0,      0, 0, 0,      0, 0, 0,  10, SPECIAL,  "Link-Local Unicast",                                 "RFC 4291"),
	// IANA IPv6 Multicast Address Space Registry: never a mail exchange.
	V6(0xff00,      0,      0, 0, 0,      0, 0, 0,   8, SPECIAL,  "Multicast",                                          "RFC 4291"),
};

const size_t mx_special_range_count =
	sizeof(mx_special_ranges) / sizeof(mx_special_ranges[0]);

/*! Tells whether the leading \a entry->prefix_len bits of \a addr match. */
static bool prefix_match(const mx_special_range_t *entry, const mx_addr_t *addr)
{
	if (entry->family != addr->family) {
		return false;
	}

	size_t full = entry->prefix_len / 8;
	unsigned rest = entry->prefix_len % 8;
	if (memcmp(entry->prefix, addr->bytes, full) != 0) {
		return false;
	}
	if (rest == 0) {
		return true;
	}

	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (entry->prefix[full] & mask) == (addr->bytes[full] & mask);
}

/*! Tells whether an IPv6 address is IPv4-mapped (::ffff:0:0/96). */
static bool is_v4_mapped(const mx_addr_t *addr)
{
	static const uint8_t mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	return addr->family == AF_INET6 &&
	       memcmp(addr->bytes, mapped, sizeof(mapped)) == 0;
}

/*!
 * The first 16 bits of the addresses that some entry covers, per family
 * (0: IPv4, 1: IPv6), one bit each. Most addresses a server hands out are
 * global and fall under no entry even in their first 16 bits (2606:... is
 * not 2620:4f:8000::/48): classifying them costs one bit test, not a table
 * scan.
 */
static uint8_t first_bits[2][65536 / 8];
static pthread_once_t first_bits_once = PTHREAD_ONCE_INIT;

static void first_bits_init(void)
{
	for (size_t i = 0; i < mx_special_range_count; i++) {
		const mx_special_range_t *entry = &mx_special_ranges[i];
		unsigned fam = (entry->family == AF_INET6) ? 1 : 0;
		unsigned len = entry->prefix_len < 16 ? entry->prefix_len : 16;
		unsigned prefix = (unsigned)entry->prefix[0] << 8 | entry->prefix[1];
		unsigned lo = prefix & (0xffff0000u >> len) & 0xffffu;
		unsigned hi = lo | (0xffffu >> len);
		for (unsigned key = lo; key <= hi; key++) {
			first_bits[fam][key / 8] |= (uint8_t)(1u << (key % 8));
		}
	}
}

static bool first_bits_listed(const mx_addr_t *addr)
{
	unsigned fam = (addr->family == AF_INET6) ? 1 : 0;
	unsigned key = (unsigned)addr->bytes[0] << 8 | addr->bytes[1];
	return first_bits[fam][key / 8] & (1u << (key % 8));
}

mx_addr_class_t mx_addr_classify(const mx_addr_t *addr,
                                 const mx_special_range_t **range)
{
	if (range != NULL) {
		*range = NULL;
	}
	if (addr == NULL || mx_addr_len(addr->family) == 0) {
		return MX_ADDR_GLOBAL;
	}

	// A mapped address reaches its IPv4 host, so judge that host instead.
	mx_addr_t v4;
	if (is_v4_mapped(addr)) {
		memset(&v4, 0, sizeof(v4));
		v4.family = AF_INET;
		memcpy(v4.bytes, addr->bytes + 12, 4);
		addr = &v4;
	}

	pthread_once(&first_bits_once, first_bits_init);
	if (!first_bits_listed(addr)) {
		return MX_ADDR_GLOBAL;
	}

	const mx_special_range_t *best = NULL;
	for (size_t i = 0; i < mx_special_range_count; i++) {
		const mx_special_range_t *entry = &mx_special_ranges[i];
		if (!prefix_match(entry, addr)) {
			continue;
		}
		// Loopback wins over any other entry, however specific.
		if (entry->cls == MX_ADDR_LOOPBACK) {
			best = entry;
			break;
		}
		if (best == NULL || entry->prefix_len > best->prefix_len) {
			best = entry;
		}
	}

	if (best == NULL) {
		return MX_ADDR_GLOBAL;
	}
	if (range != NULL) {
		*range = best;
	}
	return best->cls;
}
