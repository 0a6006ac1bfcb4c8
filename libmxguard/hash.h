/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief The one hash of the library: sixteen bytes a step, each step a
 *        128-bit multiply folded to 64 bits (wyhash's construction), then
 *        MurmurHash3's fmix64.
 *
 * A hash is begun from a seed, takes any number of pieces (bytes, names in
 * lower case, single words) and is ended. Pieces are read in place a word
 * at a time, never past their end. Seeded hashes (the log limiter's keys,
 * the verdict cache) keep collisions out of the reach of whoever chooses the
 * names: every step mixes the state into both factors.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MX_HASH_P0 0xa0761d6478bd642fULL
#define MX_HASH_P1 0xe7037ed1a0b428dbULL
#define MX_HASH_P2 0x8ebc6af09c88c6e3ULL

/*! Reads 8 or 4 bytes from any address. */
static inline uint64_t mx_read8(const uint8_t *p)
{
	uint64_t w;
	__builtin_memcpy(&w, p, sizeof(w));
	return w;
}

static inline uint64_t mx_read4(const uint8_t *p)
{
	uint32_t w;
	__builtin_memcpy(&w, p, sizeof(w));
	return w;
}

/*! The product of \a a and \a b, its high and low halves folded together. */
static inline uint64_t mx_hash_mum(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
	uint64_t ha = a >> 32, la = (uint32_t)a, hb = b >> 32, lb = (uint32_t)b;
	uint64_t hh = ha * hb, hl = ha * lb, lh = la * hb, ll = la * lb;
	uint64_t mid = (ll >> 32) + (uint32_t)hl + (uint32_t)lh;
	uint64_t lo = (mid << 32) | (uint32_t)ll;
	uint64_t hi = hh + (hl >> 32) + (lh >> 32) + (mid >> 32);
	return lo ^ hi;
#endif
}

/*!
 * \brief ASCII letters of eight bytes in lower case, exactly: only the bytes
 *        'A' to 'Z' change (SWAR: each byte's range test in its top bit).
 */
static inline uint64_t mx_lower8(uint64_t w)
{
	const uint64_t low7 = w & 0x7f7f7f7f7f7f7f7fULL;
	const uint64_t ge_a = low7 + 0x3f3f3f3f3f3f3f3fULL;  // top bit: >= 'A'
	const uint64_t gt_z = low7 + 0x2525252525252525ULL;  // top bit: > 'Z'
	const uint64_t upper = ge_a & ~gt_z & ~w & 0x8080808080808080ULL;
	return w | (upper >> 2);
}

/*! Starts a hash from \a seed (0 for a fixed one). */
static inline uint64_t mx_hash_begin(uint64_t seed)
{
	return seed ^ MX_HASH_P0;
}

/*! Adds one 64-bit word. */
static inline uint64_t mx_hash_word(uint64_t h, uint64_t w)
{
	return mx_hash_mum(w ^ h ^ MX_HASH_P1, h ^ MX_HASH_P2);
}

// Adds len bytes, in lower case if asked (a constant: the compiler keeps
// one loop of each). The last 1 to 16 bytes are read as two overlapping
// words, so the length goes into the step too.
__attribute__((always_inline))
static inline uint64_t mx_hash_absorb(uint64_t h, const uint8_t *p, size_t len,
                                      bool lower)
{
	size_t left = len;
	for (; left > 16; left -= 16, p += 16) {
		uint64_t a = mx_read8(p), b = mx_read8(p + 8);
		if (lower) {
			a = mx_lower8(a);
			b = mx_lower8(b);
		}
		h = mx_hash_mum(a ^ h ^ MX_HASH_P1, b ^ h ^ MX_HASH_P2);
	}
	uint64_t a, b;
	if (left >= 8) {
		a = mx_read8(p);
		b = mx_read8(p + left - 8);
	} else if (left >= 4) {
		a = mx_read4(p);
		b = mx_read4(p + left - 4);
	} else if (left > 0) {
		a = ((uint64_t)p[0] << 16) | ((uint64_t)p[left >> 1] << 8) | p[left - 1];
		b = 0;
	} else {
		a = b = 0;
	}
	if (lower) {
		a = mx_lower8(a);
		b = mx_lower8(b);
	}
	return mx_hash_mum(a ^ h ^ MX_HASH_P1, b ^ h ^ MX_HASH_P2 ^ len);
}

/*! Adds \a len bytes. */
static inline uint64_t mx_hash_bytes(uint64_t h, const uint8_t *data, size_t len)
{
	return mx_hash_absorb(h, data, len, false);
}

/*! \brief Size of a wire-format name (uncompressed), cheaper than a call. */
static inline size_t mx_name_size(const uint8_t *name)
{
	const uint8_t *p = name;
	while (*p != 0) {
		p += *p + 1;
	}
	return p - name + 1;
}

/*!
 * \brief Adds a wire-format name (uncompressed) of \a size bytes in lower
 *        case: one name is one hash however it is spelt (length octets are
 *        below 'A').
 */
static inline uint64_t mx_hash_name_lower(uint64_t h, const uint8_t *name, size_t size)
{
	return mx_hash_absorb(h, name, size, true);
}

/*! \brief The same, for a name whose size is not known yet. */
static inline uint64_t mx_hash_dname_lower(uint64_t h, const uint8_t *name)
{
	return mx_hash_absorb(h, name, mx_name_size(name), true);
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

/*! \brief Hash of \a len bytes from \a seed. */
static inline uint64_t mx_hash(uint64_t seed, const uint8_t *data, size_t len)
{
	return mx_hash_end(mx_hash_bytes(mx_hash_begin(seed), data, len));
}

/*!
 * \brief Tells whether \a len bytes at \a a and \a b are equal: words in
 *        place, no call (for short keys; memcmp() pays a call).
 */
static inline bool mx_bytes_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	if (len < 8) {
		if (len >= 4) {
			return mx_read4(a) == mx_read4(b) &&
			       mx_read4(a + len - 4) == mx_read4(b + len - 4);
		}
		for (size_t i = 0; i < len; i++) {
			if (a[i] != b[i]) {
				return false;
			}
		}
		return true;
	}
	size_t i = 0;
	for (; i + 8 < len; i += 8) {
		if (mx_read8(a + i) != mx_read8(b + i)) {
			return false;
		}
	}
	return mx_read8(a + len - 8) == mx_read8(b + len - 8);
}

/*!
 * \brief The same for pieces of any length: longer ones compare faster in
 *        libc (vector instructions) than in words.
 */
static inline bool mx_bytes_equal_any(const uint8_t *a, const uint8_t *b, size_t len)
{
	return (len <= 24) ? mx_bytes_equal(a, b, len) : __builtin_memcmp(a, b, len) == 0;
}

/*!
 * \brief The same, \a a read in lower case (\a b is in lower case already):
 *        equal names ignoring ASCII case.
 */
static inline bool mx_bytes_equal_lower(const uint8_t *a, const uint8_t *b, size_t len)
{
	if (len < 8) {
		for (size_t i = 0; i < len; i++) {
			uint8_t c = a[i];
			if (((c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c) != b[i]) {
				return false;
			}
		}
		return true;
	}
	size_t i = 0;
	for (; i + 8 < len; i += 8) {
		if (mx_lower8(mx_read8(a + i)) != mx_read8(b + i)) {
			return false;
		}
	}
	return mx_lower8(mx_read8(a + len - 8)) == mx_read8(b + len - 8);
}

/*!
 * \brief Copies a wire-format name (uncompressed) of \a size bytes in lower
 *        case, eight bytes at a time (length octets are below 'A').
 */
static inline void mx_name_copy_lower(uint8_t *dst, const uint8_t *src, size_t size)
{
	if (size < 8) {
		for (size_t i = 0; i < size; i++) {
			uint8_t c = src[i];
			dst[i] = (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
		}
		return;
	}
	uint64_t last = mx_lower8(mx_read8(src + size - 8));
	for (size_t i = 0; i + 8 < size; i += 8) {
		uint64_t w = mx_lower8(mx_read8(src + i));
		__builtin_memcpy(dst + i, &w, 8);
	}
	__builtin_memcpy(dst + size - 8, &last, 8);
}

/*!
 * \brief Copies \a len bytes, words in place with no call for short ones
 *        (the verdict cache's keys are made of many short pieces).
 */
static inline void mx_bytes_copy(uint8_t *dst, const uint8_t *src, size_t len)
{
	if (len < 8) {
		if (len >= 4) {
			uint32_t a, b;
			__builtin_memcpy(&a, src, 4);
			__builtin_memcpy(&b, src + len - 4, 4);
			__builtin_memcpy(dst, &a, 4);
			__builtin_memcpy(dst + len - 4, &b, 4);
			return;
		}
		for (size_t i = 0; i < len; i++) {
			dst[i] = src[i];
		}
		return;
	}
	if (len > 32) {
		__builtin_memcpy(dst, src, len);
		return;
	}
	uint64_t last = mx_read8(src + len - 8);
	for (size_t i = 0; i + 8 < len; i += 8) {
		uint64_t w = mx_read8(src + i);
		__builtin_memcpy(dst + i, &w, 8);
	}
	__builtin_memcpy(dst + len - 8, &last, 8);
}
