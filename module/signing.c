/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * DNSSEC: signing rewritten and synthesised MX RRsets with the keys knotd
 * signs the zone with at this moment.
 *
 * knotd's module signing API snapshots the keys and the time when the module
 * loads, so it signs with retired keys after a rollover and with signatures
 * that run out. Instead, every signing looks at the zone being answered from:
 * the apex SOA signatures name the active keys (one per algorithm) and their
 * validity period, the apex DNSKEY set their public keys; the choice is in
 * libmxguard/signers.c, unit-tested through Knot's rollovers. The private
 * keys come from knotd's PKCS #8 key stores (the KASP database's key files)
 * and are kept per instance, keyed by algorithm, key tag and DNSKEY rdata,
 * in an RCU-protected set: workers read it without a lock; a worker that
 * meets a key not in the set loads it (once, under a mutex that only
 * loaders take) and publishes a new set; the old one is freed after a grace
 * period.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "adapter.h"
#include "dnssec_compat.h"
#include "signers.h"
#include "zone_keys.h"
#include "reasons.h"

#define C_DNSSEC_SIGNING "\x0e""dnssec-signing"
#define C_DNSSEC_POLICY  "\x0d""dnssec-policy"
#define C_POLICY         "\x06""policy"
#define C_KEYSTORE       "\x08""keystore"
#define C_BACKEND        "\x07""backend"
#define C_CONFIG         "\x06""config"
#define C_DATABASE       "\x08""database"
#define C_STORAGE        "\x07""storage"
#define C_KASP_DB        "\x07""kasp-db"

// knotd's keystore backends (knot/conf/schema.h, the same in 3.2 to 3.5).
#define KEYSTORE_BACKEND_PEM 1

/*! Seconds before a key that could not be loaded is tried again. */
#define KEY_RETRY_INTERVAL 5

/*! Keys kept per instance: the current signers and a few recent ones. */
#define KEYSET_MAX 8

typedef struct {
	uint8_t algorithm;
	uint16_t key_tag;
	knot_rdata_t *dnskey;  // copy of the DNSKEY rdata
	dnssec_key_t *key;     // NULL: not loadable (see reason, retry)
	const char *reason;
	uint32_t retry;        // when to try loading again
	bool moved;            // writer only: carried over into a newer set
} mxg_key_t;

struct mxg_keyset {
	struct rcu_head rcu;
	size_t count;
	mxg_key_t keys[];
};

static void keyset_free(mxg_keyset_t *set)
{
	if (set == NULL) {
		return;
	}
	for (size_t i = 0; i < set->count; i++) {
		if (!set->keys[i].moved) {
			dnssec_key_free(set->keys[i].key);
			free(set->keys[i].dnskey);
		}
	}
	free(set);
}

static void keyset_free_rcu(struct rcu_head *head)
{
	keyset_free(caa_container_of(head, mxg_keyset_t, rcu));
}

static bool key_is(const mxg_key_t *k, const mx_signer_t *s)
{
	return k->algorithm == s->algorithm && k->key_tag == s->key_tag &&
	       k->dnskey->len == s->dnskey->len &&
	       memcmp(k->dnskey->data, s->dnskey->data, k->dnskey->len) == 0;
}

static mxg_key_t *keyset_find(const mxg_keyset_t *set, const mx_signer_t *s)
{
	for (size_t i = 0; set != NULL && i < set->count; i++) {
		if (key_is(&set->keys[i], s)) {
			return (mxg_key_t *)&set->keys[i];
		}
	}
	return NULL;
}

static bool key_current(const mxg_key_t *k, uint32_t now)
{
	return k != NULL && (k->key != NULL || mx_time_diff(now, k->retry) < 0);
}

// A new entry for a signer: its private key, or why there is none.
static int key_load(knotd_mod_t *mod, mxguard_ctx_t *ctx, const mx_signer_t *s,
                    uint32_t now, const mxg_key_t *before, mxg_key_t *out)
{
	memset(out, 0, sizeof(*out));
	out->algorithm = s->algorithm;
	out->key_tag = s->key_tag;
	out->dnskey = malloc(knot_rdata_size(s->dnskey->len));
	if (out->dnskey == NULL) {
		return KNOT_ENOMEM;
	}
	memcpy(out->dnskey, s->dnskey, knot_rdata_size(s->dnskey->len));

	const char *reason = NULL;
	int ret = mx_key_load((const char *const *)ctx->keystore_dirs, ctx->keystore_count,
	                      knotd_mod_zone(mod), s->dnskey, &out->key, &reason);
	if (ret == KNOT_EOK) {
		knotd_mod_log(mod, LOG_INFO, "DNSSEC, signing with key tag %u, algorithm %u",
		              s->key_tag, s->algorithm);
		return KNOT_EOK;
	}
	if (ret == KNOT_ENOMEM) {
		free(out->dnskey);
		out->dnskey = NULL;
		return ret;
	}
	out->reason = reason;
	out->retry = now + KEY_RETRY_INTERVAL;
	// Once per key and reason, not at every retry.
	if (before == NULL || before->reason != reason) {
		knotd_mod_log(mod, LOG_NOTICE, "DNSSEC, key tag %u, algorithm %u not usable (%s), "
		              "signed answers are not rewritten", s->key_tag, s->algorithm, reason);
	}
	return KNOT_EOK;
}

// Publishes a set with the signers' keys (loaded now where needed) first,
// then as many others of the old set as fit.
static int keyset_update(knotd_mod_t *mod, mxguard_ctx_t *ctx, const mx_signer_t *signers,
                         size_t count, uint32_t now)
{
	pthread_mutex_lock(&ctx->keys_lock);
	mxg_keyset_t *old = rcu_dereference(ctx->keyset);

	bool complete = true;
	for (size_t i = 0; i < count && complete; i++) {
		complete = key_current(keyset_find(old, &signers[i]), now);
	}
	if (complete) {
		// Another worker loaded them meanwhile.
		pthread_mutex_unlock(&ctx->keys_lock);
		return KNOT_EOK;
	}

	mxg_keyset_t *set = calloc(1, sizeof(*set) + KEYSET_MAX * sizeof(set->keys[0]));
	if (set == NULL) {
		pthread_mutex_unlock(&ctx->keys_lock);
		return KNOT_ENOMEM;
	}
	bool *taken = (old != NULL) ? calloc(old->count, sizeof(*taken)) : NULL;
	if (old != NULL && taken == NULL) {
		free(set);
		pthread_mutex_unlock(&ctx->keys_lock);
		return KNOT_ENOMEM;
	}

	int ret = KNOT_EOK;
	bool copied[KEYSET_MAX] = { false };
	for (size_t i = 0; i < count && ret == KNOT_EOK; i++) {
		if (keyset_find(set, &signers[i]) != NULL) {
			continue;
		}
		mxg_key_t *have = keyset_find(old, &signers[i]);
		if (key_current(have, now)) {
			copied[set->count] = true;
			set->keys[set->count++] = *have;
			taken[have - old->keys] = true;
			continue;
		}
		ret = key_load(mod, ctx, &signers[i], now, have, &set->keys[set->count]);
		if (ret == KNOT_EOK) {
			set->count++;
		}
	}
	if (ret != KNOT_EOK) {
		// The old set still owns what was copied from it.
		for (size_t i = 0; i < set->count; i++) {
			set->keys[i].moved = copied[i];
		}
		keyset_free(set);
		free(taken);
		pthread_mutex_unlock(&ctx->keys_lock);
		return ret;
	}
	// Recent keys stay: answers from an older zone version may still need them.
	for (size_t i = 0; old != NULL && i < old->count && set->count < KEYSET_MAX; i++) {
		if (!taken[i] && old->keys[i].key != NULL) {
			set->keys[set->count++] = old->keys[i];
			taken[i] = true;
		}
	}
	for (size_t i = 0; old != NULL && i < old->count; i++) {
		old->keys[i].moved = taken[i];
	}
	free(taken);

	rcu_assign_pointer(ctx->keyset, set);
	if (old != NULL) {
		call_rcu(&old->rcu, keyset_free_rcu);
	}
	pthread_mutex_unlock(&ctx->keys_lock);
	return KNOT_EOK;
}

// The keys of the signers; false with *reason if one is not usable.
static bool find_keys(knotd_mod_t *mod, mxguard_ctx_t *ctx, const mx_signer_t *signers,
                      size_t count, uint32_t now, const mxg_key_t **keys,
                      const char **reason)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		mxg_keyset_t *set = rcu_dereference(ctx->keyset);
		bool complete = true;
		for (size_t i = 0; i < count && complete; i++) {
			keys[i] = keyset_find(set, &signers[i]);
			complete = key_current(keys[i], now);
		}
		if (complete) {
			for (size_t i = 0; i < count; i++) {
				if (keys[i]->key == NULL) {
					*reason = keys[i]->reason;
					return false;
				}
			}
			return true;
		}
		if (attempt == 0 && keyset_update(mod, ctx, signers, count, now) != KNOT_EOK) {
			break;
		}
	}
	*reason = mx_reason_name(MX_REASON_OUT_OF_MEMORY);
	return false;
}

/*
 * Signatures made are kept (bounded like the verdicts) under all they
 * depend on: the RRset, the keys and the validity times of the zone's own
 * signatures. The same record set signed again – a rewritten MX RRset, a
 * denial record – costs a copy instead of a signature (112 µs with P-256).
 */
#define SIGNATURE_KEY_MAX 2048

typedef struct {
	uint16_t count;
	uint32_t size;
	uint8_t rdata[];
} kept_rrsigs_t;

static bool reuse_signatures(mxguard_ctx_t *ctx, const uint8_t *key, size_t key_len,
                             knot_rdataset_t *rrsigs, knot_mm_t *mm)
{
	size_t len = 0;
	const kept_rrsigs_t *kept = mx_bounded_table_get(ctx->signatures, key, key_len, &len);
	if (kept == NULL || len < sizeof(*kept) || len - sizeof(*kept) < kept->size) {
		return false;
	}
	knot_rdata_t *rdata = mm->alloc(mm->ctx, kept->size);
	if (rdata == NULL) {
		return false;
	}
	memcpy(rdata, kept->rdata, kept->size);
	rrsigs->count = kept->count;
	rrsigs->size = kept->size;
	rrsigs->rdata = rdata;
	return true;
}

static void keep_signatures(mxguard_ctx_t *ctx, const uint8_t *key, size_t key_len,
                            const knot_rdataset_t *rrsigs)
{
	size_t len = sizeof(kept_rrsigs_t) + rrsigs->size;
	kept_rrsigs_t *kept = malloc(len);
	if (kept == NULL) {
		return;
	}
	kept->count = rrsigs->count;
	kept->size = rrsigs->size;
	memcpy(kept->rdata, rrsigs->rdata, rrsigs->size);
	mx_bounded_table_put(ctx->signatures, key, key_len, kept, len);
	free(kept);
}

bool mxg_sign(knotd_mod_t *mod, knotd_qdata_t *qdata, const knot_rrset_t *rr,
              knot_rrset_t *rrsig, const char **reason)
{
	mxguard_ctx_t *ctx = knotd_mod_ctx(mod);
	if (!ctx->can_sign) {
		*reason = (ctx->sign_off_reason != NULL) ? ctx->sign_off_reason :
		          mx_reason_name(MX_REASON_NO_SIGNING_KEYS);
		return false;
	}

	// The zone being answered from: who signs it now, and until when.
	knot_rrset_t apex_rrsig = knotd_qdata_zone_apex_rrset(qdata, KNOT_RRTYPE_RRSIG);
	knot_rrset_t dnskey = knotd_qdata_zone_apex_rrset(qdata, KNOT_RRTYPE_DNSKEY);
	uint32_t now = (uint32_t)time(NULL);
	mx_signer_t signers[MX_SIGNERS_MAX];
	size_t count = mx_signers_choose(&apex_rrsig.rrs, &dnskey.rrs, now, rr->ttl, signers,
	                                 reason);
	if (count == 0) {
		return false;
	}

	// knotd's read-side section holds already; the nesting makes it explicit.
	rcu_read_lock();
	knot_rrset_init(rrsig, rr->owner, KNOT_RRTYPE_RRSIG, KNOT_CLASS_IN, rr->ttl);
	const knot_dname_t *apex = knotd_qdata_zone_name(qdata);
	uint8_t key[SIGNATURE_KEY_MAX];
	size_t key_len = (ctx->signatures == NULL) ? 0 :
	                 mx_signature_key(rr, apex, signers, count, key, sizeof(key));
	if (key_len > 0 && reuse_signatures(ctx, key, key_len, &rrsig->rrs, qdata->mm)) {
		rcu_read_unlock();
		return true;
	}
	const mxg_key_t *keys[MX_SIGNERS_MAX];
	bool ok = find_keys(mod, ctx, signers, count, now, keys, reason);
	for (size_t i = 0; ok && i < count; i++) {
		int ret = mx_rrsig_sign(rr, apex, keys[i]->key, signers[i].inception,
		                        signers[i].expiration, &rrsig->rrs, qdata->mm);
		if (ret != KNOT_EOK) {
			*reason = mx_reason_name(ret == KNOT_ENOMEM ? MX_REASON_OUT_OF_MEMORY :
			                         MX_REASON_SIGNING_FAILED);
			ok = false;
		}
	}
	if (ok && key_len > 0) {
		keep_signatures(ctx, key, key_len, &rrsig->rrs);
	}
	rcu_read_unlock();
	if (!ok) {
		knot_rrset_init_empty(rrsig);
	}
	return ok;
}

/*** Load and unload. ***/

static char *path_join(const char *base, const char *path)
{
	if (path == NULL || base == NULL) {
		return NULL;
	}
	if (path[0] == '/') {
		return strdup(path);
	}
	size_t len = strlen(base) + 1 + strlen(path) + 1;
	char *out = malloc(len);
	if (out != NULL) {
		snprintf(out, len, "%s/%s", base, path);
	}
	return out;
}

// The KASP database directory, as knotd makes it from database/storage.
static char *kasp_dir(knotd_mod_t *mod)
{
	const char *storage = knotd_conf(mod, C_DATABASE, C_STORAGE, NULL).single.string;
	const char *kasp = knotd_conf(mod, C_DATABASE, C_KASP_DB, NULL).single.string;
	char *abs_storage = NULL;
	if (storage != NULL && storage[0] != '/') {
		char *cwd = getcwd(NULL, 0);
		abs_storage = path_join(cwd, storage);
		free(cwd);
	} else {
		abs_storage = (storage != NULL) ? strdup(storage) : NULL;
	}
	char *dir = path_join(abs_storage, kasp);
	free(abs_storage);
	return dir;
}

static int add_keystore(mxguard_ctx_t *ctx, const char *kasp, const char *config)
{
	char *dir = path_join(kasp, config);
	char **dirs = realloc(ctx->keystore_dirs, (ctx->keystore_count + 1) * sizeof(*dirs));
	if (dir == NULL || dirs == NULL) {
		free(dir);
		if (dirs != NULL) {
			ctx->keystore_dirs = dirs;
		}
		return KNOT_ENOMEM;
	}
	dirs[ctx->keystore_count++] = dir;
	ctx->keystore_dirs = dirs;
	return KNOT_EOK;
}

// The PKCS #8 key stores of the zone's policy, as knotd finds them
// (zone_init_keystore): the policy's keystores (several from Knot 3.5),
// or the default one, "keys" in the KASP database directory.
static int load_keystores(knotd_mod_t *mod, mxguard_ctx_t *ctx, size_t *pkcs11)
{
	char *kasp = kasp_dir(mod);
	if (kasp == NULL) {
		return KNOT_ENOMEM;
	}
	int ret = KNOT_EOK;
	knotd_conf_t policy = knotd_conf_zone(mod, C_DNSSEC_POLICY, knotd_mod_zone(mod));
	knotd_conf_t stores;
	memset(&stores, 0, sizeof(stores));
	if (policy.count > 0) {
		stores = knotd_conf(mod, C_POLICY, C_KEYSTORE, &policy);
	}
	if (stores.count == 0) {
		ret = add_keystore(ctx, kasp, "keys");
	}
	for (size_t i = 0; i < stores.count && ret == KNOT_EOK; i++) {
		knotd_conf_t id = { .count = 1 };
		id.single = (stores.multi != NULL) ? stores.multi[i] : stores.single;
		unsigned backend = knotd_conf(mod, C_KEYSTORE, C_BACKEND, &id).single.option;
		const char *config = knotd_conf(mod, C_KEYSTORE, C_CONFIG, &id).single.string;
		if (backend != KEYSTORE_BACKEND_PEM) {
			(*pkcs11)++;
			continue;
		}
		ret = add_keystore(ctx, kasp, config != NULL ? config : "keys");
	}
	knotd_conf_free(&stores);
	free(kasp);
	return ret;
}

void mxg_signing_load(knotd_mod_t *mod, mxguard_ctx_t *ctx, size_t cache_size)
{
	ctx->can_sign = false;
	ctx->sign_off_reason = mx_reason_name(MX_REASON_NO_SIGNING_KEYS);
	const knot_dname_t *zone = knotd_mod_zone(mod);
	if (zone == NULL || !knotd_conf_zone(mod, C_DNSSEC_SIGNING, zone).single.boolean) {
		// Signed elsewhere, or not at all: nothing to sign with.
		return;
	}

	size_t pkcs11 = 0;
	int ret = load_keystores(mod, ctx, &pkcs11);
	if (ret != KNOT_EOK) {
		knotd_mod_log(mod, LOG_ERR, "DNSSEC, key stores not read (%s), signed answers "
		              "will not be rewritten", knot_strerror(ret));
		return;
	}
	if (ctx->keystore_count == 0) {
		ctx->sign_off_reason = mx_reason_name(MX_REASON_KEYSTORE_UNSUPPORTED);
		knotd_mod_log(mod, LOG_NOTICE, "DNSSEC, only PKCS #11 key stores, which the "
		              "module cannot use: signed answers will not be rewritten");
		return;
	}
	if (pkcs11 > 0) {
		knotd_mod_log(mod, LOG_NOTICE, "DNSSEC, keys in PKCS #11 key stores cannot "
		              "be used: answers they sign will not be rewritten");
	}
	ctx->can_sign = true;
	ctx->signatures = mx_bounded_table_new(cache_size);
}

void mxg_signing_free(mxguard_ctx_t *ctx)
{
	// No reader is left (knotd waits for a grace period before the unload):
	// the current set goes now; older ones wait for their callbacks, which
	// must run before the module's code is unmapped.
	keyset_free(ctx->keyset);
	ctx->keyset = NULL;
	mx_bounded_table_free(ctx->signatures);
	ctx->signatures = NULL;
	rcu_barrier();
	for (size_t i = 0; i < ctx->keystore_count; i++) {
		free(ctx->keystore_dirs[i]);
	}
	free(ctx->keystore_dirs);
	ctx->keystore_dirs = NULL;
	ctx->keystore_count = 0;
}
