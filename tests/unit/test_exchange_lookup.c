/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "exchange_lookup.h"
#include "test_helpers.h"

// Two small zones, held as (zone, owner, type, rdata) records.
typedef struct {
	const char *zone, *owner;
	uint16_t type;
	const char *data;  // address text, or a name for CNAME/DNAME/NS
} rec_t;

static const rec_t records[] = {
	{ "example.test.", "example.test.", KNOT_RRTYPE_SOA, NULL },
	{ "example.test.", "mx1.example.test.", KNOT_RRTYPE_A, "93.184.215.14" },
	{ "example.test.", "mx1.example.test.", KNOT_RRTYPE_AAAA, "2606:2800:21f:cb07::1" },
	{ "example.test.", "alias.example.test.", KNOT_RRTYPE_CNAME, "mx1.example.test." },
	{ "example.test.", "noaddr.example.test.", KNOT_RRTYPE_TXT, NULL },
	{ "example.test.", "b.ent.example.test.", KNOT_RRTYPE_A, "93.184.215.22" },
	{ "example.test.", "*.wild.example.test.", KNOT_RRTYPE_A, "127.0.0.1" },
	{ "example.test.", "*.wcname.example.test.", KNOT_RRTYPE_CNAME, "mx1.example.test." },
	{ "example.test.", "deleg.example.test.", KNOT_RRTYPE_NS, "ns.deleg.example.test." },
	{ "example.test.", "ns.deleg.example.test.", KNOT_RRTYPE_A, "192.0.2.53" },
	{ "example.test.", "dn.example.test.", KNOT_RRTYPE_DNAME, "other.test." },
	{ "other.test.", "other.test.", KNOT_RRTYPE_SOA, NULL },
	{ "other.test.", "lo.other.test.", KNOT_RRTYPE_A, "127.0.0.1" },
	{ NULL }
};

typedef struct {
	knot_rrset_t rr;
	uint8_t rdata[64];
	unsigned calls;
	// Every answer's data stays valid until the lookup is over, as knotd's
	// zone views do; freed by expect().
	knot_rdataset_t kept[64];
	unsigned kept_count;
} store_t;

static bool name_eq(const char *text, const knot_dname_t *name)
{
	knot_dname_t *n = test_name(text);
	bool eq = knot_dname_is_equal(n, name);
	free(n);
	return eq;
}

// Exact lookups with knotd_qdata_zone_rrset()'s results, case-sensitive.
static int get(void *ctx, const knot_dname_t *zone, const knot_dname_t *name,
               uint16_t type, knot_rrset_t *out)
{
	store_t *s = ctx;
	s->calls++;
	bool zone_found = false, node_found = false;
	const rec_t *hit = NULL;
	for (const rec_t *r = records; r->zone != NULL; r++) {
		if (!name_eq(r->zone, zone)) {
			continue;
		}
		zone_found = true;
		knot_dname_t *owner = test_name(r->owner);
		// A node exists for each owner and each of its ancestors in the zone.
		if (knot_dname_in_bailiwick(owner, name) >= 0) {
			node_found = true;
		}
		if (knot_dname_is_equal(owner, name) && r->type == type) {
			hit = r;
		}
		free(owner);
	}
	if (!zone_found) {
		return KNOT_ENOZONE;
	}
	if (!node_found) {
		return KNOT_ENONODE;
	}
	knot_rrset_init_empty(out);
	if (hit == NULL) {
		return KNOT_EOK;
	}
	knot_rrset_init(&s->rr, (knot_dname_t *)name, type, KNOT_CLASS_IN, 3600);
	size_t len = 0;
	if (type == KNOT_RRTYPE_A || type == KNOT_RRTYPE_AAAA) {
		mx_addr_t a = test_addr(hit->data);
		len = mx_addr_len(a.family);
		memcpy(s->rdata, a.bytes, len);
	} else if (hit->data != NULL) {
		knot_dname_t *n = test_name(hit->data);
		len = knot_dname_size(n);
		memcpy(s->rdata, n, len);
		free(n);
	} else {
		len = 1;
		s->rdata[0] = 0;
	}
	uint8_t buf[knot_rdata_size(64)];
	knot_rdata_init((knot_rdata_t *)buf, len, s->rdata);
	assert_int_equal(knot_rdataset_add(&s->rr.rrs, (knot_rdata_t *)buf, NULL), KNOT_EOK);
	assert_true(s->kept_count < 64);
	s->kept[s->kept_count++] = s->rr.rrs;
	*out = s->rr;
	return KNOT_EOK;
}

static void *plain_alloc(void *ctx, size_t len)
{
	// The test frees these through the arena below.
	void **arena = ctx;
	void *p = malloc(len);
	for (int i = 0; i < 64; i++) {
		if (arena[i] == NULL) {
			arena[i] = p;
			break;
		}
	}
	return p;
}

// One lookup, with the memo of the answer's lookups before it (or NULL): its
// state and, unless NULL, its addresses as text; the calls made to get().
static unsigned look_up(const char *exchange, mx_lookup_memo_t *memo,
                        mx_target_state_t state, const char *addrs)
{
	store_t s = { 0 };
	void *arena[64] = { 0 };
	knot_mm_t mm = { .ctx = arena, .alloc = plain_alloc };
	knot_dname_t *name = test_name(exchange);
	mx_target_t target;
	mx_exchange_lookup(name, &target, get, &s, &mm, memo);

	assert_int_equal(target.state, state);
	char text[256] = "";
	for (size_t i = 0; state == MX_TARGET_FOUND && i < target.addr_count; i++) {
		char a[MX_ADDR_STRLEN];
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%s",
		         i > 0 ? " " : "", mx_addr_to_str(&target.addrs[i], a, sizeof(a)));
	}
	if (addrs != NULL) {
		assert_string_equal(text, addrs);
	}

	free(name);
	for (unsigned i = 0; i < s.kept_count; i++) {
		knot_rdataset_clear(&s.kept[i], NULL);
	}
	for (int i = 0; i < 64; i++) {
		free(arena[i]);
	}
	return s.calls;
}

static void expect(const char *exchange, mx_target_state_t state, const char *addrs)
{
	look_up(exchange, NULL, state, addrs);
}

static void test_addresses(void **state)
{
	expect("mx1.example.test.", MX_TARGET_FOUND, "93.184.215.14 2606:2800:21f:cb07::1");
	// Knot's lookups are case-sensitive; the exchange is lowered first.
	expect("MX1.Example.TEST.", MX_TARGET_FOUND, "93.184.215.14 2606:2800:21f:cb07::1");
	expect("lo.other.test.", MX_TARGET_FOUND, "127.0.0.1");
}

static void test_no_address(void **state)
{
	expect("noaddr.example.test.", MX_TARGET_FOUND, "");
	expect("nothere.example.test.", MX_TARGET_FOUND, "");
	expect("ent.example.test.", MX_TARGET_FOUND, "");
	expect("example.test.", MX_TARGET_FOUND, "");
	expect("a.b.c.example.test.", MX_TARGET_FOUND, "");
}

static void test_aliases(void **state)
{
	expect("alias.example.test.", MX_TARGET_CNAME, "");
	expect("x.wcname.example.test.", MX_TARGET_CNAME, "");
}

static void test_wildcards(void **state)
{
	expect("foo.wild.example.test.", MX_TARGET_FOUND, "127.0.0.1");
	// The wildcard at the closest encloser covers deeper names too.
	expect("a.b.wild.example.test.", MX_TARGET_FOUND, "127.0.0.1");
}

static void test_not_the_zones_data(void **state)
{
	expect("deleg.example.test.", MX_TARGET_UNKNOWN, "");
	expect("ns.deleg.example.test.", MX_TARGET_UNKNOWN, "");
	expect("x.y.deleg.example.test.", MX_TARGET_UNKNOWN, "");
	// Below a DNAME the name is the target's, judged there (issue 21).
	expect("x.dn.example.test.", MX_TARGET_UNKNOWN, "");
	expect("a.b.dn.example.test.", MX_TARGET_UNKNOWN, "");
	expect("mx.elsewhere.example.", MX_TARGET_UNKNOWN, "");
	expect(".", MX_TARGET_UNKNOWN, "");
}

// A name no zone holds: the next exchange's search stops where it meets it.
static void test_memo_no_zone(void **state)
{
	mx_lookup_memo_t memo = { .size = 0 };
	// aspmx.l.google.com., l.google.com., google.com., com., the root.
	assert_int_equal(look_up("aspmx.l.google.com.", &memo, MX_TARGET_UNKNOWN, NULL), 5);
	assert_int_equal(memo.size, knot_dname_size((const uint8_t *)
	                 "\x05""aspmx""\x01""l""\x06""google""\x03""com"));
	// Only its own name is new; it is the one learnt now.
	assert_int_equal(look_up("ALT1.aspmx.l.google.com.", &memo, MX_TARGET_UNKNOWN, NULL), 1);
	assert_int_equal(memo.size, knot_dname_size((const uint8_t *)
	                 "\x04""alt1""\x05""aspmx""\x01""l""\x06""google""\x03""com"));
	// An ancestor of the name learnt: nothing to ask.
	assert_int_equal(look_up("google.com.", &memo, MX_TARGET_UNKNOWN, NULL), 0);
	assert_int_equal(look_up("aspmx.l.google.com.", &memo, MX_TARGET_UNKNOWN, NULL), 0);
	// google.org. and org. are asked, the root is known.
	assert_int_equal(look_up("google.org.", &memo, MX_TARGET_UNKNOWN, NULL), 2);
	// A name a zone holds is asked and found as without the memo.
	unsigned alone = look_up("mx1.example.test.", NULL, MX_TARGET_FOUND, NULL);
	assert_int_equal(look_up("mx1.example.test.", &memo, MX_TARGET_FOUND, NULL), alone);
	// The memo holds google.org. now: x.com. and com. are asked.
	assert_int_equal(look_up("x.com.", &memo, MX_TARGET_UNKNOWN, NULL), 2);
}

// Bytes that end the memo's name but are not one of its ancestors (inside a
// label) are asked about.
static void test_memo_whole_labels(void **state)
{
	mx_lookup_memo_t memo = { .size = 0 };
	// "\002\001t" "\004test": one label of two bytes, \001 and t.
	const uint8_t odd[] = "\x02\x01t\x04test";
	memcpy(memo.no_zone, odd, sizeof(odd));
	memo.size = sizeof(odd);
	// "\001t\004test" are its last bytes, but t.test. is not its ancestor.
	assert_int_equal(look_up("t.test.", &memo, MX_TARGET_UNKNOWN, NULL), 1);
	assert_int_equal(look_up("test.", &memo, MX_TARGET_UNKNOWN, NULL), 0);
}

// Not a name to look up (a compression pointer, more than 255 bytes):
// nothing is asked, nothing is judged.
static void test_bad_names_not_asked(void **state)
{
	store_t s = { 0 };
	knot_mm_t mm = { .ctx = NULL, .alloc = plain_alloc };
	mx_target_t target;
	const uint8_t pointer[] = { 3, 'm', 'x', '1', 0xc0, 12 };
	mx_exchange_lookup(pointer, &target, get, &s, &mm, NULL);
	assert_int_equal(target.state, MX_TARGET_UNKNOWN);
	uint8_t long_name[300];
	for (size_t i = 0; i + 64 < sizeof(long_name); i += 64) {
		long_name[i] = 63;
		memset(long_name + i + 1, 'a', 63);
	}
	long_name[256] = 0;
	mx_exchange_lookup(long_name, &target, get, &s, &mm, NULL);
	assert_int_equal(target.state, MX_TARGET_UNKNOWN);
	mx_exchange_lookup(NULL, &target, get, &s, &mm, NULL);
	assert_int_equal(target.state, MX_TARGET_UNKNOWN);
	assert_int_equal(s.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_no_address),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_not_the_zones_data),
		cmocka_unit_test(test_memo_no_zone),
		cmocka_unit_test(test_memo_whole_labels),
		cmocka_unit_test(test_bad_names_not_asked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
