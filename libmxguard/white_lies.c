/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>
#include <libknot/libknot.h>

#include "dnssec_compat.h"
#include "nsec3_names.h"
#include "white_lies.h"

// "RRSIG NSEC": window 0, six octets, types 46 and 47.
static const uint8_t RRSIG_NSEC[] = { 0, 6, 0, 0, 0, 0, 0, 0x03 };
const uint8_t MX_BITMAP_TXT_NSEC[8] = { 0, 6, 0, 0, 0x80, 0, 0, 0x03 };
const uint8_t MX_BITMAP_TXT[8] = { 0, 6, 0, 0, 0x80, 0, 0, 0x02 };

static void *mm_get(knot_mm_t *mm, size_t size)
{
	return mm->alloc(mm->ctx, size);
}

static uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

// The labels of NAME, leftmost first; their count.
static size_t labels_of(const knot_dname_t *name, const uint8_t *at[KNOT_DNAME_MAXLABELS])
{
	size_t n = 0;
	while (*name != 0 && n < KNOT_DNAME_MAXLABELS) {
		at[n++] = name;
		name += 1 + *name;
	}
	return n;
}

int mx_dname_canon_cmp(const knot_dname_t *a, const knot_dname_t *b)
{
	const uint8_t *la[KNOT_DNAME_MAXLABELS], *lb[KNOT_DNAME_MAXLABELS];
	size_t na = labels_of(a, la), nb = labels_of(b, lb);
	while (na > 0 && nb > 0) {
		const uint8_t *x = la[--na], *y = lb[--nb];
		size_t len = (x[0] < y[0]) ? x[0] : y[0];
		for (size_t i = 1; i <= len; i++) {
			int d = lower(x[i]) - lower(y[i]);
			if (d != 0) {
				return d;
			}
		}
		if (x[0] != y[0]) {
			return x[0] - y[0];
		}
	}
	return (int)na - (int)nb;
}

int mx_dname_before(const knot_dname_t *name, knot_dname_t *out, size_t max)
{
	if (name == NULL || out == NULL || name[0] == 0) {
		return KNOT_EINVAL;
	}
	size_t size = knot_dname_size(name);
	uint8_t len = name[0];
	uint8_t last = name[len];
	if (last == 0 || size > max) {
		return KNOT_EINVAL;
	}
	// The label grows to 63 octets while the name stays within 255.
	size_t room = KNOT_DNAME_MAXLEN - size;
	size_t grow = KNOT_DNAME_MAXLABELLEN - len;
	if (grow > room) {
		grow = room;
	}
	if (size + grow > max) {
		return KNOT_ESPACE;
	}
	out[0] = len + grow;
	memcpy(out + 1, name + 1, len);
	// One less; an upper case letter would compare as its lower case.
	uint8_t prev = last - 1;
	out[len] = (prev >= 'A' && prev <= 'Z') ? 'A' - 1 : prev;
	memset(out + 1 + len, 0xff, grow);
	memcpy(out + 1 + len + grow, name + 1 + len, size - 1 - len);
	return KNOT_EOK;
}

int mx_dname_after(const knot_dname_t *name, knot_dname_t *out, size_t max)
{
	if (name == NULL || out == NULL) {
		return KNOT_EINVAL;
	}
	size_t size = knot_dname_size(name);
	if (size + 2 > KNOT_DNAME_MAXLEN || size + 2 > max) {
		return KNOT_ESPACE;
	}
	out[0] = 1;
	out[1] = 0;
	memcpy(out + 2, name, size);
	return KNOT_EOK;
}

int mx_dname_after_all(const knot_dname_t *name, knot_dname_t *out, size_t max)
{
	if (name == NULL || out == NULL || name[0] == 0) {
		return KNOT_EINVAL;
	}
	size_t size = knot_dname_size(name);
	uint8_t len = name[0];
	if (len >= KNOT_DNAME_MAXLABELLEN || size + 1 > KNOT_DNAME_MAXLEN || size + 1 > max) {
		return KNOT_ESPACE;
	}
	out[0] = len + 1;
	memcpy(out + 1, name + 1, len);
	out[1 + len] = 0;
	memcpy(out + 2 + len, name + 1 + len, size - 1 - len);
	return KNOT_EOK;
}

static knot_dname_t *dname_copy(const knot_dname_t *name, knot_mm_t *mm)
{
	size_t size = knot_dname_size(name);
	knot_dname_t *copy = mm_get(mm, size);
	if (copy != NULL) {
		memcpy(copy, name, size);
	}
	return copy;
}

int mx_nsec_make(const knot_dname_t *owner, const knot_dname_t *next, const uint8_t *bitmap,
                 size_t bitmap_len, uint32_t ttl, knot_rrset_t *out, knot_mm_t *mm)
{
	if (owner == NULL || next == NULL || out == NULL || mm == NULL) {
		return KNOT_EINVAL;
	}
	if (bitmap == NULL) {
		bitmap = RRSIG_NSEC;
		bitmap_len = sizeof(RRSIG_NSEC);
	}
	size_t next_size = knot_dname_size(next);
	uint8_t rdata[KNOT_DNAME_MAXLEN + 256 * 34];
	if (next_size + bitmap_len > sizeof(rdata)) {
		return KNOT_ESPACE;
	}
	memcpy(rdata, next, next_size);
	memcpy(rdata + next_size, bitmap, bitmap_len);
	knot_dname_t *own = dname_copy(owner, mm);
	if (own == NULL) {
		return KNOT_ENOMEM;
	}
	knot_rrset_init(out, own, KNOT_RRTYPE_NSEC, KNOT_CLASS_IN, ttl);
	return knot_rrset_add_rdata(out, rdata, next_size + bitmap_len, mm);
}

// The NSEC3 fields before the next hashed owner, and that owner.
static bool nsec3_fields(const knot_rdata_t *rd, size_t *head, const uint8_t **next,
                         size_t *next_len)
{
	if (rd->len < 6 || rd->len < 6 + rd->data[4]) {
		return false;
	}
	*head = 5 + rd->data[4];
	*next_len = rd->data[*head];
	*next = rd->data + *head + 1;
	return *next_len > 0 && *next_len <= MX_NSEC3_DIGEST_MAX &&
	       *head + 1 + *next_len <= rd->len;
}

static void digest_step(uint8_t *digest, size_t len, int step)
{
	for (size_t i = len; i-- > 0; ) {
		uint8_t old = digest[i];
		digest[i] += step;
		// No carry unless the octet wrapped.
		if ((step > 0 && old != 0xff) || (step < 0 && old != 0x00)) {
			return;
		}
	}
}

static const char BASE32HEX[] = "0123456789abcdefghijklmnopqrstuv";

// The owner label of a hash, then the zone.
static knot_dname_t *hashed_owner(const uint8_t *digest, size_t len, const knot_dname_t *zone,
                                  knot_mm_t *mm)
{
	size_t label = (len * 8 + 4) / 5;
	size_t zone_size = knot_dname_size(zone);
	if (1 + label + zone_size > KNOT_DNAME_MAXLEN) {
		return NULL;
	}
	knot_dname_t *owner = mm_get(mm, 1 + label + zone_size);
	if (owner == NULL) {
		return NULL;
	}
	owner[0] = label;
	uint32_t buf = 0;
	int bits = 0;
	size_t n = 1;
	for (size_t i = 0; i < len; i++) {
		buf = (buf << 8) | digest[i];
		bits += 8;
		while (bits >= 5) {
			owner[n++] = BASE32HEX[(buf >> (bits - 5)) & 0x1f];
			bits -= 5;
		}
	}
	if (bits > 0) {
		owner[n++] = BASE32HEX[(buf << (5 - bits)) & 0x1f];
	}
	memcpy(owner + n, zone, zone_size);
	knot_dname_to_lower(owner);
	return owner;
}

// An NSEC3 rdata: the model's fields up to the next hashed owner, \a next,
// then \a bitmap.
static int nsec3_rdata(const knot_rdata_t *model, const uint8_t *next, size_t next_len,
                       const uint8_t *bitmap, size_t bitmap_len, knot_rrset_t *out,
                       knot_mm_t *mm)
{
	size_t head;
	const uint8_t *old_next;
	size_t old_len;
	if (!nsec3_fields(model, &head, &old_next, &old_len)) {
		return KNOT_EMALF;
	}
	uint8_t rdata[5 + 255 + 1 + MX_NSEC3_DIGEST_MAX + 256 * 34];
	if (head + 1 + next_len + bitmap_len > sizeof(rdata)) {
		return KNOT_ESPACE;
	}
	memcpy(rdata, model->data, head);
	rdata[head] = next_len;
	memcpy(rdata + head + 1, next, next_len);
	if (bitmap_len > 0) {
		memcpy(rdata + head + 1 + next_len, bitmap, bitmap_len);
	}
	return knot_rrset_add_rdata(out, rdata, head + 1 + next_len + bitmap_len, mm);
}

int mx_nsec3_cover(const knot_rdata_t *model, const uint8_t *digest, size_t len,
                   const knot_dname_t *zone, uint32_t ttl, knot_rrset_t *out, knot_mm_t *mm)
{
	if (model == NULL || digest == NULL || len == 0 || len > MX_NSEC3_DIGEST_MAX ||
	    zone == NULL || out == NULL || mm == NULL) {
		return KNOT_EINVAL;
	}
	uint8_t before[MX_NSEC3_DIGEST_MAX], after[MX_NSEC3_DIGEST_MAX];
	memcpy(before, digest, len);
	memcpy(after, digest, len);
	digest_step(before, len, -1);
	digest_step(after, len, +1);
	knot_dname_t *owner = hashed_owner(before, len, zone, mm);
	if (owner == NULL) {
		return KNOT_ENOMEM;
	}
	knot_rrset_init(out, owner, KNOT_RRTYPE_NSEC3, KNOT_CLASS_IN, ttl);
	return nsec3_rdata(model, after, len, NULL, 0, out, mm);
}

int mx_nsec3_at(const knot_rdata_t *model, const uint8_t *digest, size_t len,
                const knot_dname_t *zone, const uint8_t *bitmap, size_t bitmap_len,
                uint32_t ttl, knot_rrset_t *out, knot_mm_t *mm)
{
	if (model == NULL || digest == NULL || len == 0 || len > MX_NSEC3_DIGEST_MAX ||
	    zone == NULL || out == NULL || mm == NULL) {
		return KNOT_EINVAL;
	}
	uint8_t after[MX_NSEC3_DIGEST_MAX];
	memcpy(after, digest, len);
	digest_step(after, len, +1);
	knot_dname_t *owner = hashed_owner(digest, len, zone, mm);
	if (owner == NULL) {
		return KNOT_ENOMEM;
	}
	knot_rrset_init(out, owner, KNOT_RRTYPE_NSEC3, KNOT_CLASS_IN, ttl);
	return nsec3_rdata(model, after, len, bitmap, bitmap_len, out, mm);
}

int mx_nsec3_of_name(const knot_rdata_t *params, const knot_dname_t *name,
                     const knot_dname_t *zone, const uint8_t *bitmap, size_t bitmap_len,
                     uint32_t ttl, knot_rrset_t *out, knot_mm_t *mm)
{
	if (params == NULL || name == NULL || params->len < 5 ||
	    params->len < 5 + params->data[4]) {
		return KNOT_EINVAL;
	}
	dnssec_nsec3_params_t p = {
		.algorithm = params->data[0],
		.iterations = knot_wire_read_u16(params->data + 2),
		.salt = { .size = params->data[4], .data = (uint8_t *)params->data + 5 },
	};
	uint8_t lower[KNOT_DNAME_MAXLEN];
	if (knot_dname_to_wire(lower, name, sizeof(lower)) <= 0) {
		return KNOT_EINVAL;
	}
	knot_dname_to_lower(lower);
	dnssec_binary_t data = { .size = knot_dname_size(lower), .data = lower };
	dnssec_binary_t hash = { 0 };
	if (dnssec_nsec3_hash(&data, &p, &hash) != MX_DNSSEC_EOK) {
		return KNOT_ERROR;
	}
	// A model record: the parameters (flags 0), a hash of this length.
	uint8_t model[sizeof(knot_rdata_t) + 5 + 255 + 1 + MX_NSEC3_DIGEST_MAX];
	knot_rdata_t *rd = (knot_rdata_t *)model;
	size_t head = 5 + p.salt.size;
	int ret = KNOT_EINVAL;
	if (hash.size > 0 && hash.size <= MX_NSEC3_DIGEST_MAX) {
		rd->len = head + 1 + hash.size;
		memcpy(rd->data, params->data, head);
		rd->data[1] = 0;
		rd->data[head] = hash.size;
		memset(rd->data + head + 1, 0, hash.size);
		ret = mx_nsec3_at(rd, hash.data, hash.size, zone, bitmap, bitmap_len, ttl, out, mm);
	}
	dnssec_binary_free(&hash);
	return ret;
}

int mx_nsec3_match_only(const knot_rrset_t *rr, const uint8_t *bitmap, size_t bitmap_len,
                        knot_rrset_t *out, knot_mm_t *mm)
{
	if (rr == NULL || rr->type != KNOT_RRTYPE_NSEC3 || rr->rrs.count == 0 || out == NULL) {
		return KNOT_EINVAL;
	}
	const knot_rdata_t *rd = rr->rrs.rdata;
	size_t head;
	const uint8_t *next;
	size_t len;
	uint8_t own[MX_NSEC3_DIGEST_MAX];
	if (!nsec3_fields(rd, &head, &next, &len) ||
	    !mx_nsec3_label_digest(rr->owner, own, len)) {
		return KNOT_EMALF;
	}
	if (bitmap == NULL) {
		bitmap = next + len;
		bitmap_len = rd->len - (head + 1 + len);
	}
	digest_step(own, len, +1);
	knot_rrset_init(out, rr->owner, KNOT_RRTYPE_NSEC3, rr->rclass, rr->ttl);
	return nsec3_rdata(rd, own, len, bitmap, bitmap_len, out, mm);
}

// a < b for hashes of one length.
static int digest_cmp(const uint8_t *a, const uint8_t *b, size_t len)
{
	return memcmp(a, b, len);
}

bool mx_nsec3_covers(const knot_rrset_t *rr, const uint8_t *digest, size_t len)
{
	if (rr == NULL || rr->type != KNOT_RRTYPE_NSEC3 || rr->rrs.count == 0) {
		return false;
	}
	size_t head;
	const uint8_t *next;
	size_t next_len;
	uint8_t own[MX_NSEC3_DIGEST_MAX];
	if (!nsec3_fields(rr->rrs.rdata, &head, &next, &next_len) || next_len != len ||
	    !mx_nsec3_label_digest(rr->owner, own, len)) {
		return false;
	}
	bool after_own = digest_cmp(own, digest, len) < 0;
	bool before_next = digest_cmp(digest, next, len) < 0;
	if (digest_cmp(own, next, len) < 0) {
		return after_own && before_next;
	}
	return after_own || before_next;  // the last record: it wraps
}

bool mx_nsec_covers(const knot_rrset_t *rr, const knot_dname_t *name)
{
	if (rr == NULL || rr->type != KNOT_RRTYPE_NSEC || rr->rrs.count == 0) {
		return false;
	}
	const knot_rdata_t *rd = rr->rrs.rdata;
	if (knot_dname_wire_check(rd->data, rd->data + rd->len, NULL) <= 0) {
		return false;
	}
	int after_own = mx_dname_canon_cmp(rr->owner, name) < 0;
	int before_next = mx_dname_canon_cmp(name, rd->data) < 0;
	if (mx_dname_canon_cmp(rr->owner, rd->data) < 0) {
		return after_own && before_next;
	}
	return after_own || before_next;  // the last record: back to the apex
}

// The next hashed owner minus the owner's hash: 1 or 2 (a white lie), or 0.
static int nsec3_span(const knot_rrset_t *rr)
{
	size_t head;
	const uint8_t *next;
	size_t len;
	uint8_t own[MX_NSEC3_DIGEST_MAX];
	if (rr == NULL || rr->type != KNOT_RRTYPE_NSEC3 || rr->rrs.count == 0 ||
	    !nsec3_fields(rr->rrs.rdata, &head, &next, &len) ||
	    !mx_nsec3_label_digest(rr->owner, own, len)) {
		return 0;
	}
	for (int span = 1; span <= 2; span++) {
		digest_step(own, len, +1);
		if (memcmp(own, next, len) == 0) {
			return span;
		}
	}
	return 0;
}

bool mx_nsec3_is_cover(const knot_rrset_t *rr)
{
	return nsec3_span(rr) == 2;
}

bool mx_denial_is_narrow(const knot_rrset_t *rr)
{
	if (rr == NULL || rr->rrs.count == 0) {
		return false;
	}
	const knot_rdata_t *rd = rr->rrs.rdata;
	if (rr->type == KNOT_RRTYPE_NSEC) {
		knot_dname_storage_t after;
		uint8_t owner[KNOT_DNAME_MAXLEN];
		if (knot_dname_wire_check(rd->data, rd->data + rd->len, NULL) <= 0 ||
		    knot_dname_to_wire(owner, rr->owner, sizeof(owner)) <= 0) {
			return false;
		}
		knot_dname_to_lower(owner);
		return mx_dname_after(owner, after, sizeof(after)) == KNOT_EOK &&
		       knot_dname_is_case_equal(after, rd->data);
	}
	// Its own hash alone, or the one hash after it (a cover's).
	return nsec3_span(rr) != 0;
}
