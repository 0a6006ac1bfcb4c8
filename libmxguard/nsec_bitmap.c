/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "nsec_bitmap.h"

bool mx_bitmap_valid(const uint8_t *bitmap, size_t len)
{
	if (bitmap == NULL && len > 0) {
		return false;
	}
	int last = -1;
	size_t i = 0;
	while (i < len) {
		if (len - i < 2) {
			return false;
		}
		uint8_t window = bitmap[i];
		uint8_t wlen = bitmap[i + 1];
		if ((int)window <= last || wlen == 0 || wlen > 32 || len - i - 2 < wlen) {
			return false;
		}
		last = window;
		i += 2 + wlen;
	}
	return true;
}

bool mx_bitmap_has(const uint8_t *bitmap, size_t len, uint16_t type)
{
	uint8_t window = type >> 8;
	uint8_t bit = type & 0xff;
	size_t i = 0;
	while (i + 2 <= len) {
		uint8_t wlen = bitmap[i + 1];
		if (i + 2 + wlen > len) {
			return false;
		}
		if (bitmap[i] == window) {
			return bit / 8 < wlen && (bitmap[i + 2 + bit / 8] & (0x80 >> (bit % 8)));
		}
		i += 2 + wlen;
	}
	return false;
}

int mx_bitmap_add(const uint8_t *bitmap, size_t len, uint16_t type,
                  uint8_t *out, size_t out_size, size_t *out_len)
{
	if ((bitmap == NULL && len > 0) || out == NULL || out_len == NULL) {
		return KNOT_EINVAL;
	}
	if (!mx_bitmap_valid(bitmap, len)) {
		return KNOT_EMALF;
	}

	uint8_t window = type >> 8;
	uint8_t bit = type & 0xff;
	size_t need = bit / 8 + 1;
	size_t o = 0;
	bool done = false;
	size_t i = 0;
	while (i < len || !done) {
		bool have = i < len;
		if (!done && (!have || bitmap[i] >= window)) {
			// The type's window: the old one widened, or a new one.
			size_t old = (have && bitmap[i] == window) ? bitmap[i + 1] : 0;
			size_t wlen = old > need ? old : need;
			if (out_size - o < 2 + wlen) {
				return KNOT_ESPACE;
			}
			out[o] = window;
			out[o + 1] = wlen;
			memset(out + o + 2, 0, wlen);
			if (old > 0) {
				memcpy(out + o + 2, bitmap + i + 2, old);
				i += 2 + old;
			}
			out[o + 2 + bit / 8] |= 0x80 >> (bit % 8);
			o += 2 + wlen;
			done = true;
			continue;
		}
		size_t wlen = bitmap[i + 1];
		if (out_size - o < 2 + wlen) {
			return KNOT_ESPACE;
		}
		memcpy(out + o, bitmap + i, 2 + wlen);
		o += 2 + wlen;
		i += 2 + wlen;
	}
	*out_len = o;
	return KNOT_EOK;
}

// Length of the fields before the bitmap.
static int bitmap_offset(uint16_t rrtype, const knot_rdata_t *rd, size_t *offset)
{
	if (rrtype == KNOT_RRTYPE_NSEC) {
		// The next owner name, uncompressed: its labels stay inside.
		const uint8_t *end = rd->data + rd->len;
		const uint8_t *p = rd->data;
		while (p < end && *p != 0) {
			if (*p > 63) {
				return KNOT_EMALF;
			}
			p += 1 + *p;
		}
		if (p >= end) {
			return KNOT_EMALF;
		}
		*offset = p + 1 - rd->data;
		return KNOT_EOK;
	}
	if (rrtype == KNOT_RRTYPE_NSEC3) {
		if (rd->len < 5 || rd->len < 6 + rd->data[4]) {
			return KNOT_EMALF;
		}
		size_t off = 6 + rd->data[4] + rd->data[5 + rd->data[4]];
		if (rd->len < off) {
			return KNOT_EMALF;
		}
		*offset = off;
		return KNOT_EOK;
	}
	return KNOT_EINVAL;
}

int mx_denial_bitmap(uint16_t rrtype, const knot_rdata_t *rd, const uint8_t **bitmap,
                     size_t *len)
{
	if (rd == NULL || bitmap == NULL || len == NULL) {
		return KNOT_EINVAL;
	}
	size_t off = 0;
	int ret = bitmap_offset(rrtype, rd, &off);
	if (ret != KNOT_EOK) {
		return ret;
	}
	*bitmap = rd->data + off;
	*len = rd->len - off;
	return KNOT_EOK;
}

int mx_denial_add_type(uint16_t rrtype, const knot_rdataset_t *rrs, uint16_t type,
                       knot_rdataset_t *out, knot_mm_t *mm)
{
	if (rrs == NULL || out == NULL) {
		return KNOT_EINVAL;
	}
	knot_rdataset_init(out);
	// One record at most 64 KiB: built in place, then copied into the set.
	static _Thread_local uint8_t raw[sizeof(knot_rdata_t) + UINT16_MAX + 1];
	knot_rdata_t *nrd = (knot_rdata_t *)raw;
	uint8_t *buf = nrd->data;
	knot_rdata_t *rd = rrs->rdata;
	for (uint16_t i = 0; i < rrs->count; i++, rd = knot_rdataset_next(rd)) {
		size_t off = 0;
		int ret = bitmap_offset(rrtype, rd, &off);
		if (ret != KNOT_EOK) {
			return ret;
		}
		memcpy(buf, rd->data, off);
		size_t blen = 0;
		ret = mx_bitmap_add(rd->data + off, rd->len - off, type, buf + off,
		                    UINT16_MAX - off, &blen);
		if (ret != KNOT_EOK) {
			return ret;
		}
		nrd->len = off + blen;
		ret = knot_rdataset_add(out, nrd, mm);
		if (ret != KNOT_EOK) {
			return ret;
		}
	}
	return KNOT_EOK;
}
