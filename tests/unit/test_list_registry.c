/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <libknot/errcode.h>

#include "list_registry.h"
#include "test_helpers.h"

static char path[] = "/tmp/mxguard-registry-XXXXXX";

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file("parked.example\n*.cdn.example\n");
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	return 0;
}

static bool has(const mx_name_list_t *list, const char *name)
{
	knot_dname_t *d = test_name(name);
	bool found = mx_name_list_match(list, d);
	free(d);
	return found;
}

static void test_alike_instances_share(void **state)
{
	const char *names[] = { "inline.example" };
	char err[256];
	const mx_name_list_t *a = NULL, *b = NULL, *c = NULL;
	assert_int_equal(mx_list_registry_acquire(names, 1, path, &a, err, sizeof(err)), KNOT_EOK);
	assert_int_equal(mx_list_registry_acquire(names, 1, path, &b, err, sizeof(err)), KNOT_EOK);
	assert_ptr_equal(a, b);
	assert_int_equal(mx_list_registry_count(), 1);
	assert_true(has(a, "inline.example."));
	assert_true(has(a, "parked.example."));
	assert_true(has(a, "x.cdn.example."));

	// Other items: another list.
	assert_int_equal(mx_list_registry_acquire(names, 0, path, &c, err, sizeof(err)), KNOT_EOK);
	assert_ptr_not_equal(a, c);
	assert_false(has(c, "inline.example."));
	assert_int_equal(mx_list_registry_count(), 2);

	mx_list_registry_release(a);
	assert_int_equal(mx_list_registry_count(), 2);  // b holds it still
	assert_true(has(b, "parked.example."));
	mx_list_registry_release(b);
	mx_list_registry_release(c);
	assert_int_equal(mx_list_registry_count(), 0);
}

static void test_changed_file_is_read_again(void **state)
{
	char err[256];
	const mx_name_list_t *before = NULL, *after = NULL;
	assert_int_equal(mx_list_registry_acquire(NULL, 0, path, &before, err, sizeof(err)),
	                 KNOT_EOK);
	// Same size, other content: the change time tells them apart.
	usleep(20000);
	write_file("parkex.example\n*.cdn.example\n");
	assert_int_equal(mx_list_registry_acquire(NULL, 0, path, &after, err, sizeof(err)),
	                 KNOT_EOK);
	assert_ptr_not_equal(before, after);
	assert_true(has(before, "parked.example."));
	assert_false(has(after, "parked.example."));
	assert_true(has(after, "parkex.example."));
	mx_list_registry_release(before);
	mx_list_registry_release(after);
	assert_int_equal(mx_list_registry_count(), 0);
	write_file("parked.example\n*.cdn.example\n");
}

static void test_errors_name_the_item(void **state)
{
	char err[256] = "";
	const mx_name_list_t *list = NULL;
	const char *bad[] = { "x..y" };
	assert_int_equal(mx_list_registry_acquire(bad, 1, NULL, &list, err, sizeof(err)),
	                 KNOT_EINVAL);
	assert_non_null(strstr(err, "invalid null-mx 'x..y'"));
	assert_int_equal(mx_list_registry_acquire(NULL, 0, "/nonexistent/list", &list, err,
	                                          sizeof(err)), KNOT_EFILE);
	assert_non_null(strstr(err, "null-mx-file"));
	assert_int_equal(mx_list_registry_count(), 0);
}

static void test_not_regular_file_is_private(void **state)
{
	char err[256];
	const mx_name_list_t *a = NULL, *b = NULL;
	const char *names[] = { "a.example" };
	// /dev/null: a list of the items alone, not shared, freed by release.
	assert_int_equal(mx_list_registry_acquire(names, 1, "/dev/null", &a, err, sizeof(err)),
	                 KNOT_EOK);
	assert_int_equal(mx_list_registry_acquire(names, 1, "/dev/null", &b, err, sizeof(err)),
	                 KNOT_EOK);
	assert_ptr_not_equal(a, b);
	assert_int_equal(mx_list_registry_count(), 0);
	assert_true(has(a, "a.example."));
	mx_list_registry_release(a);
	mx_list_registry_release(b);
	mx_list_registry_release(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alike_instances_share),
		cmocka_unit_test(test_changed_file_is_read_again),
		cmocka_unit_test(test_errors_name_the_item),
		cmocka_unit_test(test_not_regular_file_is_private),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
