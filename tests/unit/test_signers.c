/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Which keys sign what mxguard makes, through Knot's rollovers. Each phase
 * is the zone's apex as knotd leaves it (knot/dnssec/zone-keys.c, set_key();
 * zone-sign.c, knot_zone_sign_use_key(), the same in Knot 3.2 to 3.5): the
 * DNSKEY set holds the published keys; the SOA, like every RRset but the
 * DNSKEY, CDS and CDNSKEY sets, is signed by the active ZSKs and CSKs and
 * the "active+" ones; the DNSKEY set by the KSKs and CSKs.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "dnssec_compat.h"
#include "signers.h"
#include "test_helpers.h"

#define ALG_RSASHA256  8
#define ALG_RSASHA512  10
#define ALG_ECDSAP256  13
#define ALG_ECDSAP384  14
#define ALG_ED25519    15
#define FLAGS_ZSK      256
#define FLAGS_KSK      257  // and CSK: the SEP bit, which signing ignores
#define FLAG_REVOKE    0x0080
#define NOW 1800000000u
#define DAY 86400u

typedef struct {
	knot_rdata_t *rd;
	uint16_t tag;
	uint8_t algorithm;
} test_key_t;

// The keys of the rollovers below (made-up public keys: the choice reads
// flags, protocol, algorithm and the key tag only).
static test_key_t zsk_a, zsk_b, ksk_a, ksk_b, csk_a, csk_b, ed_zsk, ed_ksk;
static knot_dname_t *apex_name;

typedef struct {
	knot_rdataset_t rrsig;   // every RRSIG at the apex
	knot_rdataset_t dnskey;  // the published keys
} apex_t;

static void key_retag(test_key_t *k)
{
	dnssec_binary_t bin = { .size = k->rd->len, .data = k->rd->data };
	assert_int_equal(dnssec_keytag(&bin, &k->tag), MX_DNSSEC_EOK);
}

static void key_make(test_key_t *k, uint16_t flags, uint8_t algorithm, uint8_t seed)
{
	uint8_t data[4 + 64];
	knot_wire_write_u16(data, flags);
	data[2] = 3;
	data[3] = algorithm;
	for (size_t i = 4; i < sizeof(data); i++) {
		data[i] = (uint8_t)(seed * 31 + i);
	}
	k->rd = malloc(knot_rdata_size(sizeof(data)));
	assert_non_null(k->rd);
	knot_rdata_init(k->rd, sizeof(data), data);
	k->algorithm = algorithm;
	key_retag(k);
}

static int group_setup(void **state)
{
	apex_name = test_name("example.test.");
	key_make(&zsk_a, FLAGS_ZSK, ALG_ECDSAP256, 1);
	key_make(&zsk_b, FLAGS_ZSK, ALG_ECDSAP256, 2);
	key_make(&ksk_a, FLAGS_KSK, ALG_ECDSAP256, 3);
	key_make(&ksk_b, FLAGS_KSK, ALG_ECDSAP256, 4);
	key_make(&csk_a, FLAGS_KSK, ALG_ECDSAP256, 5);
	key_make(&csk_b, FLAGS_KSK, ALG_ECDSAP256, 6);
	key_make(&ed_zsk, FLAGS_ZSK, ALG_ED25519, 7);
	key_make(&ed_ksk, FLAGS_KSK, ALG_ED25519, 8);
	// Distinct tags: a test about one key is not passed by another.
	const test_key_t *all[] = { &zsk_a, &zsk_b, &ksk_a, &ksk_b, &csk_a, &csk_b,
	                            &ed_zsk, &ed_ksk };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		for (size_t j = 0; j < i; j++) {
			assert_int_not_equal(all[i]->tag, all[j]->tag);
		}
	}
	return 0;
}

static int group_teardown(void **state)
{
	test_key_t *all[] = { &zsk_a, &zsk_b, &ksk_a, &ksk_b, &csk_a, &csk_b,
	                      &ed_zsk, &ed_ksk };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		free(all[i]->rd);
	}
	free(apex_name);
	return 0;
}

static void publish(apex_t *a, const test_key_t *k)
{
	assert_int_equal(knot_rdataset_add(&a->dnskey, k->rd, NULL), KNOT_EOK);
}

// An RRSIG record (with a dummy signature) as knotd keeps one at the apex.
static void sign_tagged(apex_t *a, uint16_t covered, uint8_t algorithm, uint16_t tag,
                        uint32_t inception, uint32_t expiration)
{
	uint8_t data[18 + 14 + 8];
	knot_wire_write_u16(data, covered);
	data[2] = algorithm;
	data[3] = 2;
	knot_wire_write_u32(data + 4, 3600);
	knot_wire_write_u32(data + 8, expiration);
	knot_wire_write_u32(data + 12, inception);
	knot_wire_write_u16(data + 16, tag);
	memcpy(data + 18, apex_name, knot_dname_size(apex_name));
	memset(data + 18 + 14, 0xab, 8);
	uint8_t buf[knot_rdata_size(sizeof(data))];
	knot_rdata_t *rd = (knot_rdata_t *)buf;
	knot_rdata_init(rd, sizeof(data), data);
	assert_int_equal(knot_rdataset_add(&a->rrsig, rd, NULL), KNOT_EOK);
}

static void sign(apex_t *a, uint16_t covered, const test_key_t *k, uint32_t inception,
                 uint32_t expiration)
{
	sign_tagged(a, covered, k->algorithm, k->tag, inception, expiration);
}

// The apex records a key signs when knotd uses it as a ZSK, valid a week.
static void sign_as_zsk(apex_t *a, const test_key_t *k)
{
	sign(a, KNOT_RRTYPE_SOA, k, NOW - 3600, NOW + 7 * DAY);
	sign(a, KNOT_RRTYPE_NS, k, NOW - 3600, NOW + 7 * DAY);
	sign(a, KNOT_RRTYPE_NSEC, k, NOW - 3600, NOW + 7 * DAY);
}

// ... and as a KSK: the DNSKEY set and, during a rollover, CDS and CDNSKEY.
static void sign_as_ksk(apex_t *a, const test_key_t *k)
{
	sign(a, KNOT_RRTYPE_DNSKEY, k, NOW - 3600, NOW + 14 * DAY);
	sign(a, KNOT_RRTYPE_CDS, k, NOW - 3600, NOW + 14 * DAY);
	sign(a, KNOT_RRTYPE_CDNSKEY, k, NOW - 3600, NOW + 14 * DAY);
}

static void apex_clear(apex_t *a)
{
	knot_rdataset_clear(&a->rrsig, NULL);
	knot_rdataset_clear(&a->dnskey, NULL);
}

// The signers at now are exactly the keys of want, each with its own record.
static void check_signers(const apex_t *a, uint32_t now, const test_key_t *const *want,
                          size_t count, const char *what)
{
	mx_signer_t out[MX_SIGNERS_MAX];
	const char *reason = "unset";
	size_t have = mx_signers_find(&a->rrsig, &a->dnskey, now, out, &reason);
	if (have != count) {
		fail_msg("%s: %zu signers, not %zu", what, have, count);
	}
	if (count == 0) {
		assert_string_equal(reason, "no-apex-signature");
		return;
	}
	assert_null(reason);
	for (size_t i = 0; i < count; i++) {
		const test_key_t *k = want[i];
		size_t found = 0;
		for (size_t j = 0; j < count; j++) {
			if (out[j].algorithm == k->algorithm && out[j].key_tag == k->tag) {
				assert_int_equal(out[j].dnskey->len, k->rd->len);
				assert_memory_equal(out[j].dnskey->data, k->rd->data, k->rd->len);
				found++;
			}
		}
		if (found != 1) {
			fail_msg("%s: key tag %u not a signer", what, k->tag);
		}
	}
}

static void assert_signers(const apex_t *a, uint32_t now, size_t count, ...)
{
	const test_key_t *want[MX_SIGNERS_MAX] = { NULL };
	assert_true(count <= MX_SIGNERS_MAX);
	va_list keys;
	va_start(keys, count);
	for (size_t i = 0; i < count; i++) {
		want[i] = va_arg(keys, const test_key_t *);
	}
	va_end(keys);
	check_signers(a, now, want, count, "signers");
}

/*** The choice from the apex SOA signatures. ***/

static void test_signer_from_soa_signature(void **state)
{
	apex_t a = { 0 };
	publish(&a, &zsk_a);
	sign(&a, KNOT_RRTYPE_NS, &zsk_a, NOW - 10, NOW + 100);
	sign(&a, KNOT_RRTYPE_SOA, &zsk_a, NOW - 10, NOW + 50);

	mx_signer_t out[MX_SIGNERS_MAX];
	const char *reason = "unset";
	assert_int_equal(mx_signers_find(&a.rrsig, &a.dnskey, NOW, out, &reason), 1);
	assert_null(reason);
	assert_int_equal(out[0].algorithm, ALG_ECDSAP256);
	assert_int_equal(out[0].key_tag, zsk_a.tag);
	assert_int_equal(out[0].inception, NOW - 10);
	assert_int_equal(out[0].expiration, NOW + 50);  // the SOA's, not the NS's
	assert_ptr_equal(out[0].dnskey, a.dnskey.rdata);
	apex_clear(&a);
}

static void test_signer_time_bounds(void **state)
{
	apex_t a = { 0 };
	publish(&a, &zsk_a);
	sign(&a, KNOT_RRTYPE_SOA, &zsk_a, NOW - 10, NOW + 50);
	assert_signers(&a, NOW - 10, 1, &zsk_a);
	assert_signers(&a, NOW - 11, 0);
	assert_signers(&a, NOW + 49, 1, &zsk_a);
	assert_signers(&a, NOW + 50, 0);
	knot_rdataset_clear(&a.rrsig, NULL);

	// Serial-number arithmetic across the 2^32 wrap.
	sign(&a, KNOT_RRTYPE_SOA, &zsk_a, UINT32_MAX - 5, 20);
	assert_signers(&a, UINT32_MAX, 1, &zsk_a);
	assert_signers(&a, 3, 1, &zsk_a);
	assert_signers(&a, 20, 0);
	apex_clear(&a);
}

// The signers when the only published key, with these flags and protocol,
// signs the SOA.
static size_t signers_of_key(uint16_t flags, uint8_t protocol)
{
	test_key_t k;
	key_make(&k, flags, ALG_ECDSAP256, 1);
	k.rd->data[2] = protocol;
	key_retag(&k);  // the tag covers flags and protocol
	apex_t a = { 0 };
	publish(&a, &k);
	sign(&a, KNOT_RRTYPE_SOA, &k, NOW - 10, NOW + 50);
	mx_signer_t out[MX_SIGNERS_MAX];
	const char *reason = NULL;
	size_t count = mx_signers_find(&a.rrsig, &a.dnskey, NOW, out, &reason);
	apex_clear(&a);
	free(k.rd);
	return count;
}

static void test_signer_key_must_be_published(void **state)
{
	apex_t a = { 0 };
	publish(&a, &zsk_a);
	// A retired key: signature still there, DNSKEY gone.
	sign(&a, KNOT_RRTYPE_SOA, &zsk_b, NOW - 10, NOW + 50);
	assert_signers(&a, NOW, 0);
	// Right tag, other algorithm.
	sign_tagged(&a, KNOT_RRTYPE_SOA, ALG_ED25519, zsk_a.tag, NOW - 10, NOW + 50);
	assert_signers(&a, NOW, 0);
	// No DNSKEY set at all.
	mx_signer_t out[MX_SIGNERS_MAX];
	const char *reason = NULL;
	knot_rdataset_t none = { 0 };
	assert_int_equal(mx_signers_find(&a.rrsig, &none, NOW, out, &reason), 0);
	assert_int_equal(mx_signers_find(NULL, &a.dnskey, NOW, out, &reason), 0);
	assert_int_equal(mx_signers_find(&a.rrsig, NULL, NOW, out, &reason), 0);
	assert_string_equal(reason, "no-apex-signature");
	apex_clear(&a);

	// Published keys that are no zone signing keys.
	assert_int_equal(signers_of_key(FLAGS_ZSK, 3), 1);
	assert_int_equal(signers_of_key(FLAGS_KSK, 3), 1);
	assert_int_equal(signers_of_key(FLAGS_KSK | FLAG_REVOKE, 3), 0);  // RFC 5011
	assert_int_equal(signers_of_key(0, 3), 0);  // not a zone key
	assert_int_equal(signers_of_key(FLAGS_ZSK, 2), 0);  // another protocol
}

static void test_signers_one_per_algorithm(void **state)
{
	apex_t a = { 0 };
	publish(&a, &zsk_a);
	publish(&a, &ed_zsk);
	publish(&a, &zsk_b);
	// Algorithm rollover: the SOA signed with both algorithms.
	sign(&a, KNOT_RRTYPE_SOA, &zsk_a, NOW - 10, NOW + 50);
	sign(&a, KNOT_RRTYPE_SOA, &ed_zsk, NOW - 10, NOW + 60);
	// Two keys of one algorithm: the signature that lasts longer wins.
	sign(&a, KNOT_RRTYPE_SOA, &zsk_b, NOW - 5, NOW + 70);

	mx_signer_t out[MX_SIGNERS_MAX];
	const char *reason = NULL;
	assert_int_equal(mx_signers_find(&a.rrsig, &a.dnskey, NOW, out, &reason), 2);
	for (int i = 0; i < 2; i++) {
		if (out[i].algorithm == ALG_ECDSAP256) {
			assert_int_equal(out[i].key_tag, zsk_b.tag);
			assert_int_equal(out[i].expiration, NOW + 70);
		} else {
			assert_int_equal(out[i].algorithm, ALG_ED25519);
			assert_int_equal(out[i].key_tag, ed_zsk.tag);
		}
	}
	// The same, signatures in the other order: the choice does not depend on it.
	apex_t b = { 0 };
	publish(&b, &zsk_b);
	publish(&b, &zsk_a);
	sign(&b, KNOT_RRTYPE_SOA, &zsk_b, NOW - 5, NOW + 70);
	sign(&b, KNOT_RRTYPE_SOA, &zsk_a, NOW - 10, NOW + 50);
	assert_signers(&b, NOW, 1, &zsk_b);
	apex_clear(&a);
	apex_clear(&b);
}

static void test_signers_at_most_four_algorithms(void **state)
{
	apex_t a = { 0 };
	const uint8_t algorithms[] = { ALG_RSASHA256, ALG_RSASHA512, ALG_ECDSAP256,
	                               ALG_ECDSAP384, ALG_ED25519 };
	test_key_t keys[5];
	for (size_t i = 0; i < 5; i++) {
		key_make(&keys[i], FLAGS_ZSK, algorithms[i], 40 + i);
		publish(&a, &keys[i]);
		sign(&a, KNOT_RRTYPE_SOA, &keys[i], NOW - 10, NOW + 50);
	}
	// Four of them, the first in the RRSIG set's order; the fifth does not sign.
	mx_signer_t out[MX_SIGNERS_MAX];
	const char *reason = NULL;
	assert_int_equal(mx_signers_find(&a.rrsig, &a.dnskey, NOW, out, &reason), MX_SIGNERS_MAX);
	apex_clear(&a);
	for (size_t i = 0; i < 5; i++) {
		free(keys[i].rd);
	}
}

/*** Rollovers, phase by phase. ***/

#define PHASE_KEYS 4

// One step of a rollover: the apex as knotd leaves it, and the signers.
typedef struct {
	const char *name;
	const test_key_t *published[PHASE_KEYS];  // the DNSKEY set
	const test_key_t *ksk_signs[PHASE_KEYS];  // DNSKEY, CDS, CDNSKEY
	const test_key_t *zsk_signs[PHASE_KEYS];  // SOA, NS, NSEC: the rest
	const test_key_t *signers[PHASE_KEYS];    // the choice
} phase_t;

static void apex_of(const phase_t *p, apex_t *a)
{
	for (size_t i = 0; i < PHASE_KEYS; i++) {
		if (p->published[i] != NULL) {
			publish(a, p->published[i]);
		}
		if (p->ksk_signs[i] != NULL) {
			sign_as_ksk(a, p->ksk_signs[i]);
		}
		if (p->zsk_signs[i] != NULL) {
			sign_as_zsk(a, p->zsk_signs[i]);
		}
	}
}

static void check_phases(const phase_t *phases, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const phase_t *p = &phases[i];
		apex_t a = { 0 };
		apex_of(p, &a);
		size_t signers = 0;
		while (signers < PHASE_KEYS && p->signers[signers] != NULL) {
			signers++;
		}
		check_signers(&a, NOW, p->signers, signers, p->name);
		apex_clear(&a);
	}
}

#define PHASES(phases) check_phases(phases, sizeof(phases) / sizeof(phases[0]))

// ZSK pre-publish (RFC 6781): the new ZSK is published first and signs once
// active; the old one stays published a while after it stopped.
static void test_zsk_prepublish_rollover(void **state)
{
	const phase_t phases[] = {
		{ "ZSK published, not active: does not sign",
		  { &ksk_a, &zsk_a, &zsk_b }, { &ksk_a }, { &zsk_a }, { &zsk_a } },
		{ "ZSK active: the zone re-signed, the old ZSK retired",
		  { &ksk_a, &zsk_a, &zsk_b }, { &ksk_a }, { &zsk_b }, { &zsk_b } },
		{ "old ZSK removed",
		  { &ksk_a, &zsk_b }, { &ksk_a }, { &zsk_b }, { &zsk_b } },
	};
	PHASES(phases);
}

// KSK rollover (double signature of the DNSKEY set, then the DS switch):
// the KSKs sign only the DNSKEY, CDS and CDNSKEY sets, the ZSK the rest.
static void test_ksk_rollover(void **state)
{
	const phase_t phases[] = {
		{ "KSK published: the DNSKEY set signed twice",
		  { &ksk_a, &ksk_b, &zsk_a }, { &ksk_a, &ksk_b }, { &zsk_a }, { &zsk_a } },
		{ "old KSK removed",
		  { &ksk_b, &zsk_a }, { &ksk_b }, { &zsk_a }, { &zsk_a } },
	};
	PHASES(phases);

	// Neither KSK ever signs mxguard's records, even with no ZSK signature
	// left (the ZSK's expired; the KSKs' last longer).
	apex_t a = { 0 };
	apex_of(&phases[0], &a);
	assert_signers(&a, NOW + 8 * DAY, 0);
	apex_clear(&a);
}

// CSK rollover: the new CSK signs the DNSKEY set from its publication (as a
// KSK, twice), the rest once active, when the old one stops signing it.
static void test_csk_rollover(void **state)
{
	const phase_t phases[] = {
		{ "CSK published: signs the DNSKEY set only",
		  { &csk_a, &csk_b }, { &csk_a, &csk_b }, { &csk_a }, { &csk_a } },
		{ "CSK active: the old one signs the DNSKEY set until the DS switch",
		  { &csk_a, &csk_b }, { &csk_a, &csk_b }, { &csk_b }, { &csk_b } },
		{ "old CSK removed",
		  { &csk_b }, { &csk_b }, { &csk_b }, { &csk_b } },
	};
	PHASES(phases);
}

// Algorithm rollover (RFC 6781): the new algorithm signs the zone before its
// keys are published (knotd's "pre-active"), then both algorithms sign
// everything, then the old one still signs after its keys are withdrawn
// ("post-active"). Only published keys sign what mxguard makes.
static void test_algorithm_rollover(void **state)
{
	const phase_t phases[] = {
		{ "pre-active: Ed25519 signs unpublished (knotd signs with both)",
		  { &ksk_a, &zsk_a }, { &ksk_a }, { &zsk_a, &ed_zsk }, { &zsk_a } },
		{ "both published: both algorithms sign everything",
		  { &ksk_a, &zsk_a, &ed_ksk, &ed_zsk }, { &ksk_a, &ed_ksk },
		  { &zsk_a, &ed_zsk }, { &zsk_a, &ed_zsk } },
		{ "post-active: P-256 withdrawn, still signing (knotd signs with both)",
		  { &ed_ksk, &ed_zsk }, { &ed_ksk }, { &zsk_a, &ed_zsk }, { &ed_zsk } },
		{ "P-256 removed",
		  { &ed_ksk, &ed_zsk }, { &ed_ksk }, { &ed_zsk }, { &ed_zsk } },
	};
	PHASES(phases);
}

// An algorithm rollover of CSKs: the same, one key per algorithm.
static void test_csk_algorithm_rollover(void **state)
{
	test_key_t ed_csk;
	key_make(&ed_csk, FLAGS_KSK, ALG_ED25519, 9);
	const phase_t phases[] = {
		{ "both CSKs published and signing",
		  { &csk_a, &ed_csk }, { &csk_a, &ed_csk }, { &csk_a, &ed_csk },
		  { &csk_a, &ed_csk } },
		{ "pre-active Ed25519 CSK",
		  { &csk_a }, { &csk_a }, { &csk_a, &ed_csk }, { &csk_a } },
	};
	PHASES(phases);
	free(ed_csk.rd);
}

// Signatures made at other times than now: a zone version signed ahead
// (inception in the future) or one not re-signed in time (expired).
static void test_signatures_in_future_and_past(void **state)
{
	apex_t a = { 0 };
	publish(&a, &zsk_a);
	publish(&a, &zsk_b);
	sign(&a, KNOT_RRTYPE_SOA, &zsk_a, NOW - DAY, NOW + DAY);
	sign(&a, KNOT_RRTYPE_SOA, &zsk_b, NOW + 2 * DAY, NOW + 9 * DAY);
	assert_signers(&a, NOW, 1, &zsk_a);
	assert_signers(&a, NOW + DAY + DAY / 2, 0);  // between the two
	assert_signers(&a, NOW + 2 * DAY, 1, &zsk_b);
	assert_signers(&a, NOW + 9 * DAY, 0);
	assert_signers(&a, NOW - DAY - 1, 0);
	apex_clear(&a);

	// The next key's signature valid before the current one's runs out:
	// from its inception on, it lasts longer and is the one.
	publish(&a, &zsk_a);
	publish(&a, &zsk_b);
	sign(&a, KNOT_RRTYPE_SOA, &zsk_a, NOW - DAY, NOW + 5 * DAY);
	sign(&a, KNOT_RRTYPE_SOA, &zsk_b, NOW + DAY, NOW + 9 * DAY);
	assert_signers(&a, NOW, 1, &zsk_a);
	assert_signers(&a, NOW + 2 * DAY, 1, &zsk_b);
	assert_signers(&a, NOW + 6 * DAY, 1, &zsk_b);
	apex_clear(&a);
}

/*** How long: the validity period against the TTL. ***/

static void test_choose_ttl(void **state)
{
	apex_t a = { 0 };
	publish(&a, &zsk_a);
	publish(&a, &ed_zsk);
	sign(&a, KNOT_RRTYPE_SOA, &zsk_a, NOW - 10, NOW + 3600);
	sign(&a, KNOT_RRTYPE_SOA, &ed_zsk, NOW - 10, NOW + 600);

	mx_signer_t out[MX_SIGNERS_MAX];
	const char *reason = "unset";
	assert_int_equal(mx_signers_choose(&a.rrsig, &a.dnskey, NOW, 599, out, &reason), 2);
	assert_null(reason);
	assert_int_equal(mx_signers_choose(&a.rrsig, &a.dnskey, NOW, 0, out, &reason), 2);
	// One algorithm's signatures run out within the TTL: none signs.
	assert_int_equal(mx_signers_choose(&a.rrsig, &a.dnskey, NOW, 600, out, &reason), 0);
	assert_string_equal(reason, "signatures-expiring");
	assert_int_equal(mx_signers_choose(&a.rrsig, &a.dnskey, NOW + 1, 599, out, &reason), 0);
	assert_string_equal(reason, "signatures-expiring");
	// A TTL past 2^31 - 1 seconds is longer than any validity period.
	assert_int_equal(mx_signers_choose(&a.rrsig, &a.dnskey, NOW, UINT32_MAX, out, &reason), 0);
	assert_string_equal(reason, "signatures-expiring");
	// No signer: the reason of mx_signers_find().
	assert_int_equal(mx_signers_choose(&a.rrsig, &a.dnskey, NOW + 600, 0, out, &reason), 1);
	assert_int_equal(mx_signers_choose(&a.rrsig, &a.dnskey, NOW + 3600, 0, out, &reason), 0);
	assert_string_equal(reason, "no-apex-signature");
	apex_clear(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signer_from_soa_signature),
		cmocka_unit_test(test_signer_time_bounds),
		cmocka_unit_test(test_signer_key_must_be_published),
		cmocka_unit_test(test_signers_one_per_algorithm),
		cmocka_unit_test(test_signers_at_most_four_algorithms),
		cmocka_unit_test(test_zsk_prepublish_rollover),
		cmocka_unit_test(test_ksk_rollover),
		cmocka_unit_test(test_csk_rollover),
		cmocka_unit_test(test_algorithm_rollover),
		cmocka_unit_test(test_csk_algorithm_rollover),
		cmocka_unit_test(test_signatures_in_future_and_past),
		cmocka_unit_test(test_choose_ttl),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
