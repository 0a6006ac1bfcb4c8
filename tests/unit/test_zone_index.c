/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <unistd.h>
#include <libknot/errcode.h>

#include "test_helpers.h"
#include "zone_index.h"
#include "zone_load.h"

static const char ZONE[] =
	"$ORIGIN example.test.\n"
	"$TTL 3600\n"
	"@            SOA   ns hostmaster 1 3600 900 604800 300\n"
	"@            NS    ns\n"
	"@            MX    10 mail\n"
	"ns           A     192.0.2.53\n"
	"mail         A     192.0.2.25\n"
	"mail         AAAA  2001:db8::25\n"
	"mail         A     192.0.2.26\n"
	"alias        CNAME mail\n"
	"old          DNAME new.example.net.\n"
	"old          A     192.0.2.80\n"
	"*.wild       A     192.0.2.99\n"
	"*.wildalias  CNAME mail\n"
	"*.wildempty  TXT   \"no address\"\n"
	"a.b.c.ent    A     192.0.2.7\n"
	"noaddr       TXT   \"text only\"\n"
	"sub          NS    ns.sub\n"
	"ns.sub       A     192.0.2.54\n"
	"nsglueless   NS    ns.example.net.\n"
	"Upper        A     192.0.2.8\n";

typedef struct {
	zone_index_t *idx;
	char path[64];
} fixture_t;

static zone_index_t *load_text(const char *text, const char *origin, int expect,
                               char *path)
{
	strcpy(path, "/tmp/test_zone_index.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);

	zone_index_t *idx = zone_index_new();
	assert_non_null(idx);
	knot_dname_t *apex = origin ? test_name(origin) : NULL;
	FILE *errors = fopen("/dev/null", "w");
	size_t records = 0;
	assert_int_equal(zone_load(idx, path, apex, errors, &records), expect);
	fclose(errors);
	free(apex);
	return idx;
}

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	f->idx = load_text(ZONE, NULL, KNOT_EOK, f->path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	zone_index_free(f->idx);
	unlink(f->path);
	free(f);
	return 0;
}

static mx_target_t lookup(zone_index_t *idx, const char *text)
{
	knot_dname_t *name = test_name(text);
	mx_target_t target;
	memset(&target, 0xff, sizeof(target));
	zone_index_lookup(name, &target, idx);
	free(name);
	return target;
}

static void assert_found(zone_index_t *idx, const char *name, size_t count,
                         const char *first)
{
	mx_target_t t = lookup(idx, name);
	assert_int_equal(t.state, MX_TARGET_FOUND);
	assert_int_equal(t.addr_count, count);
	if (first != NULL) {
		mx_addr_t addr = test_addr(first);
		assert_memory_equal(&t.addrs[0], &addr, sizeof(addr));
	}
}

static void apex_from_soa(void **state)
{
	fixture_t *f = *state;
	knot_dname_t *apex = test_name("example.test.");
	assert_true(knot_dname_is_equal(zone_index_apex(f->idx), apex));
	free(apex);
}

static void plain_names(void **state)
{
	fixture_t *f = *state;
	assert_found(f->idx, "mail.example.test.", 3, "192.0.2.25");
	mx_target_t t = lookup(f->idx, "mail.example.test.");
	mx_addr_t v6 = test_addr("2001:db8::25");
	assert_memory_equal(&t.addrs[1], &v6, sizeof(v6));
	assert_found(f->idx, "ns.example.test.", 1, "192.0.2.53");
	// The apex holds no address.
	assert_found(f->idx, "example.test.", 0, NULL);
	assert_found(f->idx, "noaddr.example.test.", 0, NULL);
}

static void case_insensitive(void **state)
{
	fixture_t *f = *state;
	assert_found(f->idx, "MAIL.Example.TEST.", 3, "192.0.2.25");
	assert_found(f->idx, "upper.example.test.", 1, "192.0.2.8");
}

static void absent_and_ent(void **state)
{
	fixture_t *f = *state;
	// No such name, no wildcard: authoritative, no address.
	assert_found(f->idx, "nothere.example.test.", 0, NULL);
	// Empty non-terminals exist, with no address.
	assert_found(f->idx, "ent.example.test.", 0, NULL);
	assert_found(f->idx, "b.c.ent.example.test.", 0, NULL);
	assert_found(f->idx, "a.b.c.ent.example.test.", 1, "192.0.2.7");
	// Wildcards do not cover names below an existing name (an ENT included).
	assert_found(f->idx, "x.c.ent.example.test.", 0, NULL);
	knot_dname_t *name = test_name("c.ent.example.test.");
	const zone_node_t *ent = zone_index_find(f->idx, name);
	free(name);
	assert_non_null(ent);
	assert_false(ent->flags & ZONE_HAS_DATA);
}

static void aliases(void **state)
{
	fixture_t *f = *state;
	assert_int_equal(lookup(f->idx, "alias.example.test.").state, MX_TARGET_CNAME);
	// Below a DNAME: out of the zone, as below a delegation; the DNAME
	// owner itself is judged by its own data.
	assert_int_equal(lookup(f->idx, "mx.old.example.test.").state, MX_TARGET_UNKNOWN);
	assert_int_equal(lookup(f->idx, "a.b.old.example.test.").state, MX_TARGET_UNKNOWN);
	assert_found(f->idx, "old.example.test.", 1, "192.0.2.80");
}

static void wildcards(void **state)
{
	fixture_t *f = *state;
	assert_found(f->idx, "mx.wild.example.test.", 1, "192.0.2.99");
	assert_found(f->idx, "*.wild.example.test.", 1, "192.0.2.99");
	// Its closest encloser is wild.example.test.: the wildcard covers it too.
	assert_found(f->idx, "a.b.wild.example.test.", 1, "192.0.2.99");
	assert_found(f->idx, "wild.example.test.", 0, NULL);
	assert_int_equal(lookup(f->idx, "mx.wildalias.example.test.").state, MX_TARGET_CNAME);
	assert_found(f->idx, "mx.wildempty.example.test.", 0, NULL);
}

static void delegations(void **state)
{
	fixture_t *f = *state;
	// At or below a delegation: another server's data, glue or not.
	assert_int_equal(lookup(f->idx, "sub.example.test.").state, MX_TARGET_UNKNOWN);
	assert_int_equal(lookup(f->idx, "ns.sub.example.test.").state, MX_TARGET_UNKNOWN);
	assert_int_equal(lookup(f->idx, "mx.sub.example.test.").state, MX_TARGET_UNKNOWN);
	assert_int_equal(lookup(f->idx, "mx.nsglueless.example.test.").state, MX_TARGET_UNKNOWN);
	// The apex NS is no delegation.
	assert_found(f->idx, "mail.example.test.", 3, NULL);
}

static void outside(void **state)
{
	fixture_t *f = *state;
	assert_int_equal(lookup(f->idx, "mail.example.net.").state, MX_TARGET_UNKNOWN);
	assert_int_equal(lookup(f->idx, "test.").state, MX_TARGET_UNKNOWN);
	assert_int_equal(lookup(f->idx, ".").state, MX_TARGET_UNKNOWN);
	assert_int_equal(lookup(f->idx, "xexample.test.").state, MX_TARGET_UNKNOWN);
}

static void authoritative(void **state)
{
	fixture_t *f = *state;
	struct { const char *name; bool auth; } cases[] = {
		{ "example.test.", true },
		{ "mail.example.test.", true },
		{ "old.example.test.", true },
		{ "sub.example.test.", false },
		{ "ns.sub.example.test.", false },
		{ "c.ent.example.test.", true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		knot_dname_t *name = test_name(cases[i].name);
		const zone_node_t *node = zone_index_find(f->idx, name);
		assert_non_null(node);
		assert_int_equal(zone_index_authoritative(f->idx, node), cases[i].auth);
		free(name);
	}
}

static bool has_name(zone_index_t *idx, const char *text)
{
	knot_dname_t *name = test_name(text);
	bool has = zone_index_has_name(idx, name);
	free(name);
	return has;
}

static bool in_zone(zone_index_t *idx, const char *text)
{
	knot_dname_t *name = test_name(text);
	bool in = zone_index_in_zone(idx, name);
	free(name);
	return in;
}

static void names_at_hand(void **state)
{
	fixture_t *f = *state;
	// A node, wherever it lies: below a delegation, an empty non-terminal,
	// a CNAME, a DNAME owner; or a wildcard that covers the name.
	const char *has[] = {
		"example.test.", "MAIL.example.test.", "alias.example.test.",
		"old.example.test.", "ns.sub.example.test.", "sub.example.test.",
		"c.ent.example.test.", "mx.wild.example.test.", "a.b.wild.example.test.",
		"mx.wildempty.example.test.", "noaddr.example.test.",
	};
	for (size_t i = 0; i < sizeof(has) / sizeof(has[0]); i++) {
		assert_true(has_name(f->idx, has[i]));
	}
	// No node and no wildcard: missing, below a cut, below a DNAME.
	const char *has_not[] = {
		"nothere.example.test.", "mx.sub.example.test.",
		"mx.nsglueless.example.test.", "mx.old.example.test.",
		"a.b.old.example.test.", "x.c.ent.example.test.",
		"mail.example.net.", "xexample.test.", "test.",
	};
	for (size_t i = 0; i < sizeof(has_not) / sizeof(has_not[0]); i++) {
		assert_false(has_name(f->idx, has_not[i]));
	}
	assert_true(in_zone(f->idx, "example.test."));
	assert_true(in_zone(f->idx, "Mx.Sub.EXAMPLE.test."));
	assert_false(in_zone(f->idx, "xexample.test."));
	assert_false(in_zone(f->idx, "test."));
}

static void mx_records_with_lines(void **state)
{
	fixture_t *f = *state;
	knot_dname_t *apex = test_name("example.test.");
	const zone_node_t *node = zone_index_find(f->idx, apex);
	free(apex);
	assert_true(node->flags & ZONE_HAS_MX);
	const zone_mx_t *mx = zone_index_mx(f->idx, node->mx_head);
	assert_int_equal(mx->line, 5);
	assert_int_equal(mx->next, ZONE_NONE);
	assert_string_equal(zone_index_file(f->idx, mx->file), f->path);
	assert_int_equal(node->line, 3);
}

// Loads text from a file of a chosen name in a fresh directory.
static zone_index_t *load_named(const char *text, const char *name, const char *origin,
                                int expect)
{
	char dir[] = "/tmp/test_zone_index.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);

	zone_index_t *idx = zone_index_new();
	assert_non_null(idx);
	knot_dname_t *apex = origin ? test_name(origin) : NULL;
	FILE *errors = fopen("/dev/null", "w");
	size_t records = 0;
	assert_int_equal(zone_load(idx, path, apex, errors, &records), expect);
	fclose(errors);
	free(apex);
	unlink(path);
	rmdir(dir);
	return idx;
}

static void assert_apex(zone_index_t *idx, const char *name)
{
	knot_dname_t *apex = test_name(name);
	assert_true(knot_dname_is_equal(zone_index_apex(idx), apex));
	free(apex);
	zone_index_free(idx);
}

#define SOA_NS "@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.53\n"

static void origin_option(void **state)
{
	// Relative names: the origin comes from -o.
	zone_index_t *idx = load_named(SOA_NS "@ MX 10 mail\nmail A 192.0.2.1\n",
	                               "db.anything", "example.org.", KNOT_EOK);
	assert_found(idx, "mail.example.org.", 1, "192.0.2.1");
	zone_index_free(idx);

	// Neither -o nor $ORIGIN: the file name, as kzonecheck takes it.
	assert_apex(load_named(SOA_NS, "example.com.zone", NULL, KNOT_EOK), "example.com.");
	assert_apex(load_named(SOA_NS, "Example.NET", NULL, KNOT_EOK), "example.net.");
	assert_apex(load_named(SOA_NS, "db.example", NULL, KNOT_EOK), "db.example.");

	// $ORIGIN before the first record names the apex, the root included.
	assert_apex(load_named("$ORIGIN example.org.\n" SOA_NS, "x.zone", NULL, KNOT_EOK),
	            "example.org.");
	assert_apex(load_named("$ORIGIN .\n" SOA_NS, "root.zone", NULL, KNOT_EOK), ".");
}

static void refused_zones(void **state)
{
	// No SOA, an SOA elsewhere, a CNAME beside other data.
	zone_index_free(load_named("@ NS ns\nns A 192.0.2.53\n", "a.test.zone", NULL,
	                           KNOT_ESEMCHECK));
	zone_index_free(load_named("www SOA ns hm 1 2 3 4 5\n@ NS ns\n", "a.test.zone",
	                           NULL, KNOT_ESEMCHECK));
	zone_index_free(load_named(SOA_NS "www CNAME ns\nwww TXT x\n", "a.test.zone",
	                           NULL, KNOT_ESEMCHECK));
	// What knotd loads with a warning only.
	zone_index_free(load_named("@ SOA ns hm 1 2 3 4 5\n", "a.test.zone", NULL, KNOT_EOK));
	zone_index_free(load_named(SOA_NS "www CNAME ns\nwww RRSIG A 8 3 300 "
	                           "20300101000000 20200101000000 1 a.test. AAAA\n",
	                           "a.test.zone", NULL, KNOT_EOK));
	zone_index_free(load_named(SOA_NS "x.other. A 192.0.2.1\n", "a.test.zone", NULL,
	                           KNOT_EOK));
}

static void parse_error(void **state)
{
	char path[64];
	zone_index_t *idx = load_text("$ORIGIN example.org.\n@ SOA ns hm 1 2 3 4 5\n"
	                              "mail A 300.1.1.1\n", NULL, KNOT_EPARSEFAIL, path);
	zone_index_free(idx);
	unlink(path);

	idx = zone_index_new();
	FILE *errors = fopen("/dev/null", "w");
	size_t records;
	assert_int_equal(zone_load(idx, "/nonexistent.zone", NULL, errors, &records),
	                 KNOT_EFILE);
	fclose(errors);
	zone_index_free(idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(apex_from_soa, setup, teardown),
		cmocka_unit_test_setup_teardown(plain_names, setup, teardown),
		cmocka_unit_test_setup_teardown(case_insensitive, setup, teardown),
		cmocka_unit_test_setup_teardown(absent_and_ent, setup, teardown),
		cmocka_unit_test_setup_teardown(aliases, setup, teardown),
		cmocka_unit_test_setup_teardown(wildcards, setup, teardown),
		cmocka_unit_test_setup_teardown(delegations, setup, teardown),
		cmocka_unit_test_setup_teardown(outside, setup, teardown),
		cmocka_unit_test_setup_teardown(authoritative, setup, teardown),
		cmocka_unit_test_setup_teardown(names_at_hand, setup, teardown),
		cmocka_unit_test_setup_teardown(mx_records_with_lines, setup, teardown),
		cmocka_unit_test(origin_option),
		cmocka_unit_test(refused_zones),
		cmocka_unit_test(parse_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
