/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief The one hash of the library: FNV-1a, then MurmurHash3's fmix64.
 */

#pragma once

#include <stddef.h>
#include <stdint.h>

/*! Starts a hash from \a seed (0 for a fixed one). */
static inline uint64_t mx_hash_begin(uint64_t seed)
{
	return 0xcbf29ce484222325ULL ^ seed;
}

/*! Adds one byte. */
static inline uint64_t mx_hash_byte(uint64_t h, uint8_t byte)
{
	return (h ^ byte) * 0x100000001b3ULL;
}

/*! Ends the hash: a final mix so that low and high bits are both spread. */
static inline uint64_t mx_hash_end(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/*!
 * \brief Adds a wire-format name (uncompressed) in lower case: one name is one
 *        hash however it is spelt (length octets are below 'A').
 */
static inline uint64_t mx_hash_dname_lower(uint64_t h, const uint8_t *name)
{
	for (;;) {
		uint8_t len = *name;
		h = mx_hash_byte(h, len);
		if (len == 0) {
			return h;
		}
		for (uint8_t i = 1; i <= len; i++) {
			uint8_t c = name[i];
			h = mx_hash_byte(h, (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c);
		}
		name += len + 1;
	}
}

/*! \brief Hash of \a len bytes from \a seed. */
static inline uint64_t mx_hash(uint64_t seed, const uint8_t *data, size_t len)
{
	uint64_t h = mx_hash_begin(seed);
	for (size_t i = 0; i < len; i++) {
		h = mx_hash_byte(h, data[i]);
	}
	return mx_hash_end(h);
}

/*!
 * \brief A faster hash of \a len bytes, eight at a time, for keys that are
 *        compared in full on a match (the verdict cache).
 */
static inline uint64_t mx_hash_words(uint64_t seed, const uint8_t *data, size_t len)
{
	uint64_t h = mx_hash_begin(seed) ^ len;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		__builtin_memcpy(&w, data + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	for (; i < len; i++) {
		h = mx_hash_byte(h, data[i]);
	}
	return mx_hash_end(h);
}
