/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dnssec_compat.h"
#include "zone_keys.h"
#include "test_helpers.h"

#define ALG_ECDSAP256 13
#define ALG_ED25519   15
#define NOW 1800000000u

typedef struct {
	char dir[64];
	char *id;
	dnssec_key_t *key;       // private and public
	knot_rdata_t *dnskey;    // its DNSKEY rdata (ZSK flags)
} test_key_t;

static test_key_t zsk, zsk2, other_dir_key;
static char empty_dir[64];
static knot_dname_t *apex;

static knot_rdata_t *rdata_new(const uint8_t *data, size_t len)
{
	knot_rdata_t *rd = malloc(knot_rdata_size(len));
	assert_non_null(rd);
	knot_rdata_init(rd, len, data);
	return rd;
}

static void make_key(test_key_t *k, const char *dir, uint8_t algorithm, uint16_t flags)
{
	snprintf(k->dir, sizeof(k->dir), "%s", dir);
	dnssec_keystore_t *store = NULL;
	assert_int_equal(dnssec_keystore_init_pkcs8(&store), MX_DNSSEC_EOK);
	assert_int_equal(dnssec_keystore_init(store, dir), MX_DNSSEC_EOK);
	assert_int_equal(dnssec_keystore_open(store, dir), MX_DNSSEC_EOK);
	unsigned bits = 256;  // P-256 and Ed25519 alike
	assert_int_equal(dnssec_keystore_generate(store, algorithm, bits, NULL, &k->id),
	                 MX_DNSSEC_EOK);
	assert_int_equal(dnssec_key_new(&k->key), MX_DNSSEC_EOK);
	assert_int_equal(dnssec_key_set_dname(k->key, apex), MX_DNSSEC_EOK);
	assert_int_equal(dnssec_key_set_algorithm(k->key, algorithm), MX_DNSSEC_EOK);
	assert_int_equal(dnssec_keystore_get_private(store, k->id, k->key), MX_DNSSEC_EOK);
	assert_int_equal(dnssec_key_set_flags(k->key, flags), MX_DNSSEC_EOK);
	dnssec_binary_t rdata = { 0 };
	assert_int_equal(dnssec_key_get_rdata(k->key, &rdata), MX_DNSSEC_EOK);
	k->dnskey = rdata_new(rdata.data, rdata.size);
	dnssec_keystore_deinit(store);
}

static void free_key(test_key_t *k)
{
	dnssec_key_free(k->key);
	free(k->dnskey);
	free(k->id);
}

static int group_setup(void **state)
{
	dnssec_crypto_init();
	apex = test_name("example.test.");
	char tmpl[] = "/tmp/mxguard-keys-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	char tmpl2[] = "/tmp/mxguard-keys-XXXXXX";
	assert_non_null(mkdtemp(tmpl2));
	char tmpl3[] = "/tmp/mxguard-keys-XXXXXX";
	assert_non_null(mkdtemp(tmpl3));
	snprintf(empty_dir, sizeof(empty_dir), "%s", tmpl3);
	make_key(&zsk, tmpl, ALG_ECDSAP256, 256);
	make_key(&zsk2, tmpl, ALG_ED25519, 256);
	make_key(&other_dir_key, tmpl2, ALG_ECDSAP256, 256);
	return 0;
}

static void remove_dir(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static int group_teardown(void **state)
{
	remove_dir(zsk.dir);
	remove_dir(other_dir_key.dir);
	remove_dir(empty_dir);
	free_key(&zsk);
	free_key(&zsk2);
	free_key(&other_dir_key);
	free(apex);
	dnssec_crypto_cleanup();
	return 0;
}

static uint16_t tag_of(const knot_rdata_t *dnskey)
{
	dnssec_binary_t bin = { .size = dnskey->len, .data = (uint8_t *)dnskey->data };
	uint16_t tag = 0;
	assert_int_equal(dnssec_keytag(&bin, &tag), MX_DNSSEC_EOK);
	return tag;
}

/*** Loading keys. ***/

static void test_key_load(void **state)
{
	const char *dirs[] = { empty_dir, "/nonexistent/mxguard", zsk.dir };
	dnssec_key_t *key = NULL;
	const char *reason = NULL;
	assert_int_equal(mx_key_load(dirs, 3, apex, zsk.dnskey, &key, &reason), KNOT_EOK);
	assert_non_null(key);
	assert_null(reason);
	assert_true(mx_key_matches(key, zsk.dnskey));
	assert_false(mx_key_matches(key, zsk2.dnskey));
	assert_int_equal(dnssec_key_get_keytag(key), tag_of(zsk.dnskey));
	dnssec_key_free(key);

	// Ed25519 too.
	key = NULL;
	assert_int_equal(mx_key_load(dirs, 3, apex, zsk2.dnskey, &key, &reason), KNOT_EOK);
	dnssec_key_free(key);
}

static void test_key_not_found(void **state)
{
	const char *dirs[] = { empty_dir, "/nonexistent/mxguard" };
	dnssec_key_t *key = NULL;
	const char *reason = NULL;
	assert_int_equal(mx_key_load(dirs, 2, apex, zsk.dnskey, &key, &reason), KNOT_ENOENT);
	assert_null(key);
	assert_string_equal(reason, "key-not-found");
	// A key store of other keys.
	const char *other[] = { other_dir_key.dir };
	assert_int_equal(mx_key_load(other, 1, apex, zsk.dnskey, &key, &reason), KNOT_ENOENT);
	assert_string_equal(reason, "key-not-found");
	assert_int_equal(mx_key_load(other, 0, apex, zsk.dnskey, &key, &reason), KNOT_ENOENT);
}

static void copy_file(const char *from, const char *to)
{
	char cmd[1100];
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	assert_int_equal(system(cmd), 0);
}

static void test_key_mismatch_and_unreadable(void **state)
{
	// The file named for zsk holds another key: never used.
	char from[256], to[256];
	snprintf(from, sizeof(from), "%s/%s.pem", other_dir_key.dir, other_dir_key.id);
	snprintf(to, sizeof(to), "%s/%s.pem", empty_dir, zsk.id);
	copy_file(from, to);
	const char *dirs[] = { empty_dir };
	dnssec_key_t *key = NULL;
	const char *reason = NULL;
	assert_int_equal(mx_key_load(dirs, 1, apex, zsk.dnskey, &key, &reason), KNOT_EINVAL);
	assert_null(key);
	assert_string_equal(reason, "key-mismatch");

	// Garbage in the file.
	FILE *f = fopen(to, "w");
	assert_non_null(f);
	fputs("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n", f);
	fclose(f);
	assert_int_not_equal(mx_key_load(dirs, 1, apex, zsk.dnskey, &key, &reason), KNOT_EOK);
	assert_string_equal(reason, "key-unreadable");
	unlink(to);

	// Not a DNSKEY at all.
	uint8_t junk[3] = { 1, 0, 3 };
	knot_rdata_t *rd = rdata_new(junk, sizeof(junk));
	assert_int_not_equal(mx_key_load(dirs, 1, apex, rd, &key, &reason), KNOT_EOK);
	free(rd);
}

/*** Signing. ***/

// The data RFC 4034 §3.1.8.1 signs, built here independently.
static size_t signed_data(uint8_t *buf, const uint8_t *rrsig, size_t header_len,
                          const char *owner_text, uint16_t type, uint32_t ttl,
                          const uint8_t *const *rdatas, const uint16_t *lens, size_t count)
{
	size_t pos = 0;
	memcpy(buf, rrsig, header_len);
	pos += header_len;
	knot_dname_t *owner = test_name(owner_text);
	for (size_t i = 0; i < count; i++) {
		size_t n = knot_dname_size(owner);
		memcpy(buf + pos, owner, n);
		pos += n;
		knot_wire_write_u16(buf + pos, type);
		knot_wire_write_u16(buf + pos + 2, KNOT_CLASS_IN);
		knot_wire_write_u32(buf + pos + 4, ttl);
		knot_wire_write_u16(buf + pos + 8, lens[i]);
		memcpy(buf + pos + 10, rdatas[i], lens[i]);
		pos += 10 + lens[i];
	}
	free(owner);
	return pos;
}

static void verify(const test_key_t *k, const knot_rdata_t *sig, const uint8_t *data,
                   size_t len)
{
	size_t header_len = 18 + knot_dname_size(knot_rrsig_signer_name(sig));
	dnssec_binary_t signature = {
		.size = sig->len - header_len,
		.data = (uint8_t *)sig->data + header_len,
	};
	dnssec_binary_t bin = { .size = len, .data = (uint8_t *)data };
	dnssec_sign_ctx_t *ctx = NULL;
	assert_int_equal(dnssec_sign_new(&ctx, k->key), MX_DNSSEC_EOK);
	assert_int_equal(dnssec_sign_add(ctx, &bin), MX_DNSSEC_EOK);
	assert_int_equal(dnssec_sign_verify(ctx, false, &signature), MX_DNSSEC_EOK);
	dnssec_sign_free(ctx);
}

static void test_sign_canonical_mx(void **state)
{
	// Upper-case owner and exchanges, records out of canonical order.
	knot_rrset_t rr;
	knot_rrset_init(&rr, test_name("Mail.Example.TEST."), KNOT_RRTYPE_MX, KNOT_CLASS_IN, 300);
	test_add_mx(&rr.rrs, 20, "MX2.Example.Test.");
	test_add_mx(&rr.rrs, 10, "Mx1.example.test.");

	knot_rdataset_t sigs = { 0 };
	knot_dname_t *signer = test_name("EXAMPLE.test.");
	assert_int_equal(mx_rrsig_sign(&rr, signer, zsk.key, NOW - 5400, NOW + 86400,
	                               &sigs, NULL), KNOT_EOK);
	assert_int_equal(sigs.count, 1);
	const knot_rdata_t *sig = sigs.rdata;
	assert_int_equal(knot_rrsig_type_covered(sig), KNOT_RRTYPE_MX);
	assert_int_equal(knot_rrsig_alg(sig), ALG_ECDSAP256);
	assert_int_equal(knot_rrsig_labels(sig), 3);
	assert_int_equal(knot_rrsig_original_ttl(sig), 300);
	assert_int_equal(knot_rrsig_sig_inception(sig), NOW - 5400);
	assert_int_equal(knot_rrsig_sig_expiration(sig), NOW + 86400);
	assert_int_equal(knot_rrsig_key_tag(sig), tag_of(zsk.dnskey));
	assert_true(knot_dname_is_equal(knot_rrsig_signer_name(sig), apex));  // lower case

	// Lower case, "10 mx1" before "20 mx2".
	uint8_t mx1[2 + 18], mx2[2 + 18];
	knot_wire_write_u16(mx1, 10);
	memcpy(mx1 + 2, "\x03mx1\x07""example\x04test", 18);
	knot_wire_write_u16(mx2, 20);
	memcpy(mx2 + 2, "\x03mx2\x07""example\x04test", 18);
	const uint8_t *rdatas[] = { mx1, mx2 };
	const uint16_t lens[] = { sizeof(mx1), sizeof(mx2) };
	uint8_t data[1024];
	size_t len = signed_data(data, sig->data, 18 + knot_dname_size(apex),
	                         "mail.example.test.", KNOT_RRTYPE_MX, 300, rdatas, lens, 2);
	verify(&zsk, sig, data, len);

	// A second algorithm adds a second record.
	assert_int_equal(mx_rrsig_sign(&rr, signer, zsk2.key, NOW - 5400, NOW + 86400,
	                               &sigs, NULL), KNOT_EOK);
	assert_int_equal(sigs.count, 2);

	knot_rdataset_clear(&sigs, NULL);
	knot_rrset_clear(&rr, NULL);
	free(signer);
}

static void test_sign_wildcard_and_null_mx(void **state)
{
	static const uint8_t null_mx[3] = { 0, 0, 0 };
	knot_rrset_t rr;
	knot_rrset_init(&rr, test_name("*.wild.example.test."), KNOT_RRTYPE_MX, KNOT_CLASS_IN, 60);
	knot_rdata_t *rd = rdata_new(null_mx, sizeof(null_mx));
	assert_int_equal(knot_rdataset_add(&rr.rrs, rd, NULL), KNOT_EOK);
	free(rd);

	knot_rdataset_t sigs = { 0 };
	assert_int_equal(mx_rrsig_sign(&rr, apex, zsk.key, NOW, NOW + 1, &sigs, NULL), KNOT_EOK);
	const knot_rdata_t *sig = sigs.rdata;
	assert_int_equal(knot_rrsig_labels(sig), 3);  // the "*" does not count

	const uint8_t *rdatas[] = { null_mx };
	const uint16_t lens[] = { sizeof(null_mx) };
	uint8_t data[512];
	size_t len = signed_data(data, sig->data, 18 + knot_dname_size(apex),
	                         "*.wild.example.test.", KNOT_RRTYPE_MX, 60, rdatas, lens, 1);
	verify(&zsk, sig, data, len);

	// Bad input.
	assert_int_equal(mx_rrsig_sign(&rr, apex, zsk.key, NOW, NOW, &sigs, NULL), KNOT_EINVAL);
	assert_int_equal(mx_rrsig_sign(&rr, apex, NULL, NOW, NOW + 1, &sigs, NULL), KNOT_EINVAL);
	knot_rrset_t empty;
	knot_rrset_init(&empty, rr.owner, KNOT_RRTYPE_MX, KNOT_CLASS_IN, 60);
	assert_int_equal(mx_rrsig_sign(&empty, apex, zsk.key, NOW, NOW + 1, &sigs, NULL),
	                 KNOT_EINVAL);
	assert_int_equal(sigs.count, 1);

	knot_rdataset_clear(&sigs, NULL);
	knot_rrset_clear(&rr, NULL);
}

// Whatever the signature depends on is in its key; letter case of the
// owner is not (the signature covers the owner in lower case).
static void test_signature_key(void **state)
{
	knot_rrset_t rr;
	knot_rrset_init(&rr, test_name("Mail.Example.TEST."), KNOT_RRTYPE_MX, KNOT_CLASS_IN, 300);
	test_add_mx(&rr.rrs, 10, "mx1.example.test.");
	mx_signer_t signers[2] = {
		{ ALG_ECDSAP256, tag_of(zsk.dnskey), NOW - 5400, NOW + 86400, zsk.dnskey },
		{ ALG_ECDSAP256, tag_of(zsk2.dnskey), NOW - 5400, NOW + 86400, zsk2.dnskey },
	};
	uint8_t base[1024], other[1024];
	size_t len = mx_signature_key(&rr, apex, signers, 1, base, sizeof(base));
	assert_true(len > 0);

	knot_rrset_t lower = rr;
	lower.owner = test_name("mail.example.test.");
	assert_int_equal(mx_signature_key(&lower, apex, signers, 1, other, sizeof(other)), len);
	assert_memory_equal(base, other, len);
	free(lower.owner);

	// Each of these makes another key.
	knot_rrset_t changed = rr;
	changed.ttl = 301;
	size_t n = mx_signature_key(&changed, apex, signers, 1, other, sizeof(other));
	assert_false(n == len && memcmp(base, other, n) == 0);
	changed = rr;
	changed.owner = test_name("*.example.test.");
	n = mx_signature_key(&changed, apex, signers, 1, other, sizeof(other));
	assert_false(n == len && memcmp(base, other, n) == 0);
	free(changed.owner);
	changed = rr;
	changed.rrs = (knot_rdataset_t){ 0 };
	test_add_mx(&changed.rrs, 20, "mx1.example.test.");
	n = mx_signature_key(&changed, apex, signers, 1, other, sizeof(other));
	assert_false(n == len && memcmp(base, other, n) == 0);
	knot_rdataset_clear(&changed.rrs, NULL);
	mx_signer_t later = signers[0];
	later.expiration++;
	n = mx_signature_key(&rr, apex, &later, 1, other, sizeof(other));
	assert_false(n == len && memcmp(base, other, n) == 0);
	later = signers[0];
	later.dnskey = zsk2.dnskey;  // same tag and times, another key
	n = mx_signature_key(&rr, apex, &later, 1, other, sizeof(other));
	assert_false(n == len && memcmp(base, other, n) == 0);
	n = mx_signature_key(&rr, apex, signers, 2, other, sizeof(other));
	assert_true(n > len);
	knot_dname_t *elsewhere = test_name("other.test.");
	n = mx_signature_key(&rr, elsewhere, signers, 1, other, sizeof(other));
	assert_false(n == len && memcmp(base, other, n) == 0);
	free(elsewhere);

	// Too long for the buffer: no key.
	assert_int_equal(mx_signature_key(&rr, apex, signers, 1, other, len - 1), 0);
	assert_int_equal(mx_signature_key(&rr, apex, signers, 1, other, len), len);
	knot_rdataset_clear(&rr.rrs, NULL);
	free(rr.owner);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_load),
		cmocka_unit_test(test_key_not_found),
		cmocka_unit_test(test_key_mismatch_and_unreadable),
		cmocka_unit_test(test_sign_canonical_mx),
		cmocka_unit_test(test_sign_wildcard_and_null_mx),
		cmocka_unit_test(test_signature_key),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
