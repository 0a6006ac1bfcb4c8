/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdlib.h>
#include <string.h>

#include "dnssec_compat.h"
#include "hash.h"
#include "nsec3_names.h"


struct mx_nsec3_names {
	uint8_t algorithm;
	uint16_t iterations;
	uint8_t salt_len;
	uint8_t salt[UINT8_MAX];
	size_t digest_len;
	size_t cap;         // slots, a power of two
	size_t count;
	uint8_t *digests;   // cap slots of digest_len bytes; all zero: empty
	bool unhashed;      // a listed subtree meets the zone
};

static bool empty_slot(const uint8_t *slot, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (slot[i] != 0) {
			return false;
		}
	}
	return true;
}

static uint8_t *find(const mx_nsec3_names_t *t, const uint8_t *digest)
{
	size_t mask = t->cap - 1;
	for (size_t i = mx_hash(0, digest, t->digest_len) & mask; ; i = (i + 1) & mask) {
		uint8_t *slot = t->digests + i * t->digest_len;
		if (empty_slot(slot, t->digest_len) || memcmp(slot, digest, t->digest_len) == 0) {
			return slot;
		}
	}
}

typedef struct {
	mx_nsec3_names_t *table;
	const knot_dname_t *zone;
	const dnssec_nsec3_params_t *params;
	bool failed;
} build_t;

static void add_name(const knot_dname_t *name, void *ctx)
{
	build_t *b = ctx;
	if (b->failed || knot_dname_in_bailiwick(name, b->zone) < 0) {
		return;
	}
	dnssec_binary_t data = { .size = knot_dname_size(name), .data = (uint8_t *)name };
	dnssec_binary_t hash = { 0 };
	if (dnssec_nsec3_hash(&data, b->params, &hash) != MX_DNSSEC_EOK ||
	    hash.size != b->table->digest_len) {
		dnssec_binary_free(&hash);
		b->failed = true;
		return;
	}
	uint8_t *slot = find(b->table, hash.data);
	if (empty_slot(slot, hash.size)) {
		memcpy(slot, hash.data, hash.size);
		b->table->count++;
	}
	dnssec_binary_free(&hash);
}

mx_nsec3_names_t *mx_nsec3_names_new(const mx_name_list_t *list, const knot_dname_t *zone,
                                     const dnssec_nsec3_params_t *params)
{
	size_t digest_len = dnssec_nsec3_hash_length(params->algorithm);
	if (digest_len == 0 || digest_len > MX_NSEC3_DIGEST_MAX || params->salt.size > UINT8_MAX) {
		return NULL;
	}
	mx_nsec3_names_t *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		return NULL;
	}
	t->algorithm = params->algorithm;
	t->iterations = params->iterations;
	t->salt_len = params->salt.size;
	memcpy(t->salt, params->salt.data, params->salt.size);
	t->digest_len = digest_len;
	// At most half full: every listed name may be in the zone.
	t->cap = 16;
	while (t->cap < 2 * mx_name_list_count(list) + 1) {
		t->cap <<= 1;
	}
	t->digests = calloc(t->cap, digest_len);
	if (t->digests == NULL) {
		free(t);
		return NULL;
	}
	build_t b = { .table = t, .zone = zone, .params = params };
	mx_name_list_foreach_name(list, add_name, &b);
	t->unhashed = mx_name_list_subtree_meets(list, zone);
	if (b.failed) {
		mx_nsec3_names_free(t);
		return NULL;
	}
	return t;
}

void mx_nsec3_names_free(mx_nsec3_names_t *names)
{
	if (names != NULL) {
		free(names->digests);
		free(names);
	}
}

bool mx_nsec3_names_params(const mx_nsec3_names_t *names, const dnssec_nsec3_params_t *params)
{
	return names != NULL && names->algorithm == params->algorithm &&
	       names->iterations == params->iterations &&
	       names->salt_len == params->salt.size &&
	       memcmp(names->salt, params->salt.data, params->salt.size) == 0;
}

static int base32hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c |= 0x20;  // lower case
	return (c >= 'a' && c <= 'v') ? c - 'a' + 10 : -1;
}

bool mx_nsec3_label_digest(const uint8_t *label, uint8_t *digest, size_t len)
{
	if (label == NULL || len == 0 || len > MX_NSEC3_DIGEST_MAX ||
	    label[0] != (len * 8 + 4) / 5) {
		return false;
	}
	uint32_t buf = 0;
	int bits = 0;
	size_t n = 0;
	for (uint8_t i = 1; i <= label[0]; i++) {
		int v = base32hex_value(label[i]);
		if (v < 0) {
			return false;
		}
		buf = (buf << 5) | v;
		bits += 5;
		if (bits >= 8 && n < len) {
			digest[n++] = buf >> (bits - 8);
			bits -= 8;
		}
	}
	return n == len;
}

bool mx_nsec3_names_has(const mx_nsec3_names_t *names, const uint8_t *label)
{
	uint8_t digest[MX_NSEC3_DIGEST_MAX] = { 0 };
	if (names == NULL || names->count == 0 ||
	    !mx_nsec3_label_digest(label, digest, names->digest_len)) {
		return false;
	}
	const uint8_t *slot = find(names, digest);
	return !empty_slot(slot, names->digest_len);
}

size_t mx_nsec3_names_count(const mx_nsec3_names_t *names)
{
	return names == NULL ? 0 : names->count;
}

bool mx_nsec3_names_unhashed(const mx_nsec3_names_t *names)
{
	return names != NULL && names->unhashed;
}
