/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Harness (3): the null MX list parser on arbitrary text.
 *
 * The input is a list file (null-mx-file): it is loaded from a file as
 * knotd loads it, and each of its lines is also added as a null-mx item.
 * A load that fails must say where (PATH:LINE or PATH:), a successful one
 * must hold at most one entry per line, and the list must then match each
 * name that the input also holds in wire form (after the first NUL octet)
 * without fault. Every name that parsed matches itself.
 */

#include <unistd.h>

#include "fuzz_common.h"
#include "name_list.h"

static char path[64];

static void make_path(void)
{
	if (path[0] != '\0') {
		return;
	}
	const char *dir = getenv("TMPDIR");
	snprintf(path, sizeof(path), "%s/mxguard-fuzz-list.%ld",
	         dir != NULL && strlen(dir) < 32 ? dir : "/tmp", (long)getpid());
}

static void load_file(const uint8_t *data, size_t size, size_t lines)
{
	FILE *f = fopen(path, "w");
	FUZZ_ASSERT(f != NULL);
	FUZZ_ASSERT(fwrite(data, 1, size, f) == size);
	FUZZ_ASSERT(fclose(f) == 0);

	mx_name_list_t *list = mx_name_list_new();
	FUZZ_ASSERT(list != NULL);
	char err[512] = "";
	int ret = mx_name_list_load(list, path, err, sizeof(err));
	if (ret == KNOT_EOK) {
		FUZZ_ASSERT(mx_name_list_count(list) <= lines);
	} else {
		FUZZ_ASSERT(ret == KNOT_EINVAL);
		FUZZ_ASSERT(strncmp(err, path, strlen(path)) == 0);
		FUZZ_ASSERT(err[strlen(path)] == ':');
	}
	mx_name_list_free(list);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	make_path();
	const uint8_t *nul = memchr(data, '\0', size);
	size_t text_len = nul != NULL ? (size_t)(nul - data) : size;

	size_t lines = 1;
	for (size_t i = 0; i < size; i++) {
		lines += data[i] == '\n';
	}
	load_file(data, size, lines);

	// Each line of the text as one null-mx item.
	mx_name_list_t *list = mx_name_list_new();
	FUZZ_ASSERT(list != NULL);
	char *text = malloc(text_len + 1);
	FUZZ_ASSERT(text != NULL);
	memcpy(text, data, text_len);
	text[text_len] = '\0';
	size_t added = 0;
	for (char *line = text, *next; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL) {
			*next++ = '\0';
		}
		const char *why = NULL;
		int ret = mx_name_list_add(list, line, &why);
		FUZZ_ASSERT(ret == KNOT_EOK || ret == KNOT_EINVAL);
		FUZZ_ASSERT(ret == KNOT_EOK || why != NULL);
		added += ret == KNOT_EOK;

		// A plain name that was added matches itself, as knot reads it.
		knot_dname_storage_t wire;
		if (ret == KNOT_EOK && line[0] != '*' && strchr(line, '#') == NULL &&
		    strchr(line, '\\') == NULL && strchr(line, ' ') == NULL &&
		    strchr(line, '\t') == NULL && strchr(line, '\r') == NULL &&
		    strchr(line, '\v') == NULL && strchr(line, '\f') == NULL &&
		    knot_dname_from_str(wire, line, sizeof(wire)) != NULL) {
			FUZZ_ASSERT(mx_name_list_match(list, wire));
		}
	}
	FUZZ_ASSERT(mx_name_list_count(list) <= added);
	free(text);

	// The names after the text, in wire form, against the list.
	fuzz_reader_t r = { data + text_len, size - text_len };
	(void)fuzz_u8(&r);
	knot_dname_storage_t name;
	while (fuzz_dname(&r, name)) {
		(void)mx_name_list_match(list, name);
		(void)mx_dname_hash(name);
	}
	mx_name_list_free(list);
	return 0;
}
