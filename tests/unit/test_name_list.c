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

#include "name_list.h"
#include "test_helpers.h"

static bool match(const mx_name_list_t *list, const char *text)
{
	knot_dname_t *name = test_name(text);
	bool ret = mx_name_list_match(list, name);
	free(name);
	return ret;
}

static mx_name_list_t *list_of(const char *const *entries)
{
	mx_name_list_t *list = mx_name_list_new();
	assert_non_null(list);
	for (; *entries != NULL; entries++) {
		const char *err = NULL;
		assert_int_equal(mx_name_list_add(list, *entries, &err), KNOT_EOK);
	}
	return list;
}

static bool below(const mx_name_list_t *list, const char *text)
{
	knot_dname_t *name = test_name(text);
	bool ret = mx_name_list_below(list, name);
	free(name);
	return ret;
}

// Where "*.X" can stand for a listed name: one lies below X, or X is in (or
// is the top of) a listed subtree.
static void names_below(void **state)
{
	const char *entries[] = { "baz.wild.example.com", "*.api.example.com", NULL };
	mx_name_list_t *list = list_of(entries);
	assert_true(below(list, "wild.example.com."));
	assert_true(below(list, "example.com."));
	assert_true(below(list, "."));
	assert_true(below(list, "api.example.com."));
	assert_true(below(list, "v1.api.example.com."));
	assert_false(below(list, "baz.wild.example.com."));
	assert_false(below(list, "other.example.com."));
	assert_false(below(list, "ild.example.com."));
	assert_false(below(NULL, "example.com."));
	mx_name_list_free(list);
}

static void exact_names(void **state)
{
	const char *entries[] = { "mail.example.com", "other.example.com.", NULL };
	mx_name_list_t *list = list_of(entries);
	assert_int_equal(mx_name_list_count(list), 2);
	assert_true(match(list, "mail.example.com."));
	assert_true(match(list, "other.example.com."));
	assert_false(match(list, "example.com."));
	assert_false(match(list, "a.mail.example.com."));
	assert_false(match(list, "com."));
	assert_false(match(list, "."));
	mx_name_list_free(list);
}

static void subtree(void **state)
{
	const char *entries[] = { "*.example.com", NULL };
	mx_name_list_t *list = list_of(entries);
	assert_true(match(list, "a.example.com."));
	assert_true(match(list, "a.b.c.example.com."));
	assert_true(match(list, "*.example.com."));
	assert_false(match(list, "example.com."));
	assert_false(match(list, "com."));
	assert_false(match(list, "aexample.com."));
	assert_false(match(list, "example.com.org."));
	mx_name_list_free(list);
}

static void subtree_and_apex(void **state)
{
	const char *entries[] = { "*.example.com", "example.com", NULL };
	mx_name_list_t *list = list_of(entries);
	assert_int_equal(mx_name_list_count(list), 2);
	assert_true(match(list, "example.com."));
	assert_true(match(list, "x.example.com."));
	assert_false(match(list, "example.net."));
	mx_name_list_free(list);
}

static void case_insensitive(void **state)
{
	const char *entries[] = { "Mail.EXAMPLE.com", "*.Sub.Example.ORG", NULL };
	mx_name_list_t *list = list_of(entries);
	assert_true(match(list, "mail.example.com."));
	assert_true(match(list, "MAIL.example.COM."));
	assert_true(match(list, "X.SUB.EXAMPLE.org."));
	assert_false(match(list, "sub.example.org."));
	mx_name_list_free(list);
}

static void escaped_labels(void **state)
{
	const char *entries[] = { "a\\.b.example.com", "c\\046d.example.com",
	                          "\\*.example.net", "*.x\\.y.example.org", NULL };
	mx_name_list_t *list = list_of(entries);
	// One label "a.b", not two labels.
	assert_true(match(list, "a\\.b.example.com."));
	assert_false(match(list, "a.b.example.com."));
	assert_true(match(list, "c\\.d.example.com."));
	// An escaped star is a literal label, not a wildcard.
	assert_true(match(list, "*.example.net."));
	assert_false(match(list, "a.example.net."));
	assert_true(match(list, "q.x\\.y.example.org."));
	assert_false(match(list, "q.x.y.example.org."));
	mx_name_list_free(list);
}

static void root_entries(void **state)
{
	const char *root[] = { ".", NULL };
	mx_name_list_t *list = list_of(root);
	assert_true(match(list, "."));
	assert_false(match(list, "com."));
	mx_name_list_free(list);

	// "*." (and "*") is every name, the root included.
	const char *all[] = { "*.", NULL };
	list = list_of(all);
	assert_true(match(list, "."));
	assert_true(match(list, "com."));
	assert_true(match(list, "a.b.example.com."));
	mx_name_list_free(list);

	const char *star[] = { "*", NULL };
	list = list_of(star);
	assert_true(match(list, "example.com."));
	mx_name_list_free(list);
}

static void comments_and_spaces(void **state)
{
	const char *entries[] = { "  mail.example.com  # the old host", "\tx.example.com\t", NULL };
	mx_name_list_t *list = list_of(entries);
	assert_int_equal(mx_name_list_count(list), 2);
	assert_true(match(list, "mail.example.com."));
	assert_true(match(list, "x.example.com."));
	mx_name_list_free(list);
}

static void add_errors(void **state)
{
	static const struct {
		const char *text;
		const char *why;
	} cases[] = {
		{ "x..y", "empty label" },
		{ ".example.com", "empty label" },
		{ "example.com..", "empty label" },
		{ "a.*.b", "'*' is allowed only as the whole first label" },
		{ "*a.example.com", "'*' is allowed only as the whole first label" },
		{ "a*.example.com", "'*' is allowed only as the whole first label" },
		{ "*.*.example.com", "'*' is allowed only as the whole first label" },
		{ "a.example.com b.example.com", "more than one name" },
		{ "", "empty entry" },
		{ "   # only a comment", "empty entry" },
		{ "a\\", "bad escape" },
		{ "a\\25", "bad escape" },
		{ "a\\256", "bad escape" },
		{ "0123456789012345678901234567890123456789012345678901234567890123.com",
		  "label longer than 63 octets" },
	};
	mx_name_list_t *list = mx_name_list_new();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *err = NULL;
		assert_int_equal(mx_name_list_add(list, cases[i].text, &err), KNOT_EINVAL);
		assert_string_equal(err, cases[i].why);
	}
	assert_int_equal(mx_name_list_count(list), 0);

	// 63-octet labels: four of them make 257 octets with the root.
	char name[300] = "";
	for (int i = 0; i < 4; i++) {
		strcat(name, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
	}
	const char *err = NULL;
	assert_int_equal(mx_name_list_add(list, name, &err), KNOT_EINVAL);
	assert_string_equal(err, "name longer than 255 octets");
	// Three labels and one of 61 octets: exactly 255.
	name[3 * 64 + 61] = '\0';
	assert_int_equal(mx_name_list_add(list, name, &err), KNOT_EOK);
	// ... but no room left for a wildcard label above it.
	char wild[300] = "*.";
	strcat(wild, name);
	assert_int_equal(mx_name_list_add(list, wild, &err), KNOT_EINVAL);
	assert_string_equal(err, "name longer than 255 octets");
	mx_name_list_free(list);
}

static char *write_file(const char *text)
{
	char *path = strdup("/tmp/test_name_list.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void load_file(void **state)
{
	char *path = write_file(
		"# no mail for these\n"
		"\n"
		"old.example.com.\n"
		"   parked.example.com   # sold\n"
		"*.legacy.example.com\n"
		"OLD.example.com\n");
	mx_name_list_t *list = mx_name_list_new();
	char err[512] = "";
	assert_int_equal(mx_name_list_load(list, path, err, sizeof(err)), KNOT_EOK);
	assert_int_equal(mx_name_list_count(list), 3);
	assert_true(match(list, "old.example.com."));
	assert_true(match(list, "parked.example.com."));
	assert_true(match(list, "a.legacy.example.com."));
	assert_false(match(list, "legacy.example.com."));
	mx_name_list_free(list);
	unlink(path);
	free(path);
}

static void load_errors(void **state)
{
	static const struct {
		const char *text;
		const char *msg;  // After "PATH".
	} cases[] = {
		{ "ok.example.com\n\nx..y\n", ":3: invalid name 'x..y': empty label" },
		{ "# c\na.*.b # c\n", ":2: invalid name 'a.*.b': '*' is allowed only as the whole first label" },
		{ "a b\n", ":1: invalid name 'a b': more than one name" },
		{ "\n\n\n\nexample.com\\\n", ":5: invalid name 'example.com\\': bad escape" },
		{ "ok\n0123456789012345678901234567890123456789012345678901234567890123\n",
		  ":2: invalid name '0123456789012345678901234567890123456789012345678901234567890123': label longer than 63 octets" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = write_file(cases[i].text);
		mx_name_list_t *list = mx_name_list_new();
		char err[512] = "";
		assert_int_equal(mx_name_list_load(list, path, err, sizeof(err)), KNOT_EINVAL);
		char expected[512];
		snprintf(expected, sizeof(expected), "%s%s", path, cases[i].msg);
		assert_string_equal(err, expected);
		mx_name_list_free(list);
		unlink(path);
		free(path);
	}

	mx_name_list_t *list = mx_name_list_new();
	char err[512] = "";
	assert_int_equal(mx_name_list_load(list, "/nonexistent/list", err, sizeof(err)), KNOT_EFILE);
	assert_string_equal(err, "/nonexistent/list: No such file or directory");
	mx_name_list_free(list);
}

static void many_entries(void **state)
{
	// Enough to grow the tables several times; every entry still matches.
	mx_name_list_t *list = mx_name_list_new();
	char text[64];
	for (int i = 0; i < 20000; i++) {
		snprintf(text, sizeof(text), "%s%d.example.com", (i % 2) ? "*." : "", i);
		assert_int_equal(mx_name_list_add(list, text, NULL), KNOT_EOK);
	}
	assert_int_equal(mx_name_list_count(list), 20000);
	for (int i = 0; i < 20000; i++) {
		snprintf(text, sizeof(text), "%d.example.com.", i);
		assert_int_equal(match(list, text), i % 2 == 0);
		snprintf(text, sizeof(text), "x.%d.example.com.", i);
		assert_int_equal(match(list, text), i % 2 == 1);
	}
	assert_false(match(list, "20001.example.com."));
	mx_name_list_free(list);
}

static void empty_list(void **state)
{
	mx_name_list_t *list = mx_name_list_new();
	assert_false(match(list, "example.com."));
	assert_false(match(list, "."));
	assert_false(mx_name_list_match(NULL, NULL));
	assert_int_equal(mx_name_list_count(NULL), 0);
	mx_name_list_free(list);
	mx_name_list_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_names),
		cmocka_unit_test(names_below),
		cmocka_unit_test(subtree),
		cmocka_unit_test(subtree_and_apex),
		cmocka_unit_test(case_insensitive),
		cmocka_unit_test(escaped_labels),
		cmocka_unit_test(root_entries),
		cmocka_unit_test(comments_and_spaces),
		cmocka_unit_test(add_errors),
		cmocka_unit_test(load_file),
		cmocka_unit_test(load_errors),
		cmocka_unit_test(many_entries),
		cmocka_unit_test(empty_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
