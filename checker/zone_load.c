/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libknot/descriptor.h>
#include <libknot/errcode.h>
#include <libzscanner/scanner.h>

#include "zone_load.h"

typedef struct {
	zone_index_t *idx;
	zone_msg_f msg;
	void *msg_ctx;
	const char *last_name;   // The scanner's file name last seen, and its number.
	int last_file;
	size_t records;
	size_t failures;
	int ret;
	knot_dname_storage_t soa;      // Owner of the first SOA record.
	bool have_soa;
	int soa_file;                  // Where the first SOA record was written.
	uint32_t soa_line;
	size_t soa_count;
	knot_dname_storage_t first_origin;  // $ORIGIN at the first record.
	bool have_origin;
} load_t;

__attribute__((format(printf, 6, 7)))
static void say(zone_msg_f msg, void *ctx, zone_msg_level_t level, const char *file,
                uint64_t line, const char *fmt, ...)
{
	char text[1024];
	va_list args;
	va_start(args, fmt);
	vsnprintf(text, sizeof(text), fmt, args);
	va_end(args);
	msg(ctx, level, file, line, text);
}

// The number of the scanner's current file ($INCLUDE switches scanners).
static int file_number(load_t *load, const zs_scanner_t *s)
{
	if (load->last_name != NULL && strcmp(load->last_name, s->file.name) == 0) {
		return load->last_file;
	}
	int file = -1;
	size_t count = zone_index_file_count(load->idx);
	for (uint16_t i = 0; i < count; i++) {
		if (strcmp(zone_index_file(load->idx, i), s->file.name) == 0) {
			file = i;
			break;
		}
	}
	if (file < 0) {
		file = zone_index_add_file(load->idx, s->file.name);
	}
	if (file >= 0) {
		load->last_name = zone_index_file(load->idx, (uint16_t)file);
		load->last_file = file;
	}
	return file;
}

static void on_record(zs_scanner_t *s)
{
	load_t *load = s->process.data;
	if (load->ret != KNOT_EOK) {
		return;
	}
	int file = file_number(load, s);
	if (file < 0) {
		load->ret = KNOT_ENOMEM;
		s->state = ZS_STATE_STOP;
		return;
	}
	if (load->records == 0) {
		memcpy(load->first_origin, s->zone_origin, s->zone_origin_length);
		load->have_origin = true;
	}
	load->records++;
	uint32_t line = s->line_counter > UINT32_MAX ? UINT32_MAX : (uint32_t)s->line_counter;
	if (s->r_type == KNOT_RRTYPE_SOA) {
		load->soa_count++;
		if (!load->have_soa) {
			memcpy(load->soa, s->r_owner, s->r_owner_length);
			load->have_soa = true;
			load->soa_file = file;
			load->soa_line = line;
		}
	}

	int ret = zone_index_add(load->idx, s->r_owner, s->r_type, s->r_data,
	                         (uint16_t)s->r_data_length, (uint16_t)file, line);
	if (ret == KNOT_EMALF) {
		say(load->msg, load->msg_ctx, ZONE_MSG_ERROR, s->file.name, line,
		    "malformed record data");
		load->failures++;
	} else if (ret != KNOT_EOK) {
		load->ret = ret;
		s->state = ZS_STATE_STOP;
	}
}

static void on_error(zs_scanner_t *s)
{
	load_t *load = s->process.data;
	bool file_error = s->error.code == ZS_UNOPENED_INCLUDE ||
	                  s->error.code == ZS_UNPROCESSED_INCLUDE ||
	                  s->error.code == ZS_FILE_OPEN || s->error.code == ZS_FILE_ACCESS ||
	                  s->error.code == ZS_FILE_INVALID;
	if (file_error && s->include_filename[0] != '\0') {
		// Name the file the $INCLUDE directive asks for.
		say(load->msg, load->msg_ctx, ZONE_MSG_ERROR, s->file.name, s->line_counter,
		    "$INCLUDE %s: %s", s->include_filename, zs_strerror(s->error.code));
	} else {
		say(load->msg, load->msg_ctx, ZONE_MSG_ERROR, s->file.name, s->line_counter,
		    "%s", zs_strerror(s->error.code));
	}
	load->failures++;
}

// The origin kzonecheck takes from a file name: its last part without ".zone".
static knot_dname_t *origin_from_path(const char *path)
{
	const char *base = strrchr(path, '/');
	base = (base != NULL) ? base + 1 : path;
	size_t len = strlen(base);
	const char *ext = ".zone";
	if (len > strlen(ext) && strcmp(base + len - strlen(ext), ext) == 0) {
		len -= strlen(ext);
	}
	char name[KNOT_DNAME_TXT_MAXLEN + 2];
	if (len == 0 || len >= sizeof(name) - 1) {
		return NULL;
	}
	memcpy(name, base, len);
	name[len] = '\0';
	knot_dname_t *origin = knot_dname_from_str_alloc(name);
	if (origin != NULL) {
		knot_dname_to_lower(origin);
	}
	return origin;
}

// A zone file holds text: a NUL byte says it is something else.
static bool looks_binary(int fd, off_t *where)
{
	uint8_t buf[65536];
	ssize_t got = pread(fd, buf, sizeof(buf), 0);
	for (ssize_t i = 0; i < got; i++) {
		if (buf[i] == '\0') {
			*where = i;
			return true;
		}
	}
	return false;
}

// What knotd refuses to load, and what it warns about.
static int check_apex(zone_index_t *idx, const load_t *load, const char *path)
{
	zone_msg_f msg = load->msg;
	void *ctx = load->msg_ctx;
	char apex[KNOT_DNAME_TXT_MAXLEN + 1], name[KNOT_DNAME_TXT_MAXLEN + 1];
	if (knot_dname_to_str(apex, zone_index_apex(idx), sizeof(apex)) == NULL) {
		return KNOT_EINVAL;
	}
	int ret = KNOT_EOK;
	const zone_node_t *top = zone_index_find(idx, zone_index_apex(idx));
	if (top == NULL || !(top->flags & ZONE_HAS_SOA)) {
		if (load->have_soa && knot_dname_to_str(name, load->soa, sizeof(name)) != NULL) {
			say(msg, ctx, ZONE_MSG_ERROR, zone_index_file(idx, (uint16_t)load->soa_file),
			    load->soa_line, "the SOA record of %s is not at the origin %s",
			    name, apex);
		} else {
			say(msg, ctx, ZONE_MSG_ERROR, path, 0, "no SOA record at the origin %s",
			    apex);
		}
		ret = KNOT_ESEMCHECK;
	} else if (load->soa_count > 1) {
		say(msg, ctx, ZONE_MSG_WARNING, path, 0, "%zu SOA records, knotd keeps one "
		    "SOA at the origin %s", load->soa_count, apex);
	}
	if (top != NULL && (top->flags & ZONE_HAS_SOA) && !(top->flags & ZONE_HAS_NS)) {
		say(msg, ctx, ZONE_MSG_WARNING, path, 0, "no NS record at the origin %s", apex);
	}
	size_t count = zone_index_count(idx);
	for (uint32_t n = 0; n < count; n++) {
		const zone_node_t *node = zone_index_node(idx, n);
		if ((node->flags & ZONE_HAS_CNAME) && (node->flags & ZONE_HAS_OTHER) &&
		    knot_dname_to_str(name, node->name, sizeof(name)) != NULL) {
			say(msg, ctx, ZONE_MSG_ERROR, zone_index_file(idx, node->file), node->line,
			    "%s has a CNAME beside other data", name);
			ret = KNOT_ESEMCHECK;
		}
	}
	return ret;
}

int zone_file_usable(const char *path, zone_msg_f msg, void *msg_ctx)
{
	// Not a FIFO or a device (open would wait for a writer), not a directory.
	struct stat st;
	if (stat(path, &st) != 0) {
		say(msg, msg_ctx, ZONE_MSG_ERROR, path, 0, "%s", strerror(errno));
		return KNOT_EFILE;
	}
	if (!S_ISREG(st.st_mode)) {
		say(msg, msg_ctx, ZONE_MSG_ERROR, path, 0, "%s", S_ISDIR(st.st_mode) ?
		    strerror(EISDIR) : "not a regular file");
		return KNOT_EFILE;
	}
	// The scanner's own message for an unreadable file says less than errno.
	int fd = open(path, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		say(msg, msg_ctx, ZONE_MSG_ERROR, path, 0, "%s", strerror(errno));
		return KNOT_EFILE;
	}
	off_t where = 0;
	bool binary = looks_binary(fd, &where);
	close(fd);
	if (binary) {
		say(msg, msg_ctx, ZONE_MSG_ERROR, path, 0, "not a zone file (binary data, a "
		    "NUL byte at offset %lld)", (long long)where);
		return KNOT_EFILE;
	}
	return KNOT_EOK;
}

int zone_load_msg(zone_index_t *idx, const char *path, const knot_dname_t *origin,
                  zone_msg_f msg, void *msg_ctx, size_t *records)
{
	*records = 0;
	if (zone_file_usable(path, msg, msg_ctx) != KNOT_EOK) {
		return KNOT_EFILE;
	}

	// Without -o, the origin is the file name's, as kzonecheck takes it.
	knot_dname_t *file_origin = NULL;
	if (origin == NULL && (file_origin = origin_from_path(path)) == NULL) {
		say(msg, msg_ctx, ZONE_MSG_ERROR, path, 0, "no origin in the file name: "
		    "give it with -o");
		return KNOT_ENOENT;
	}
	const knot_dname_t *start = (origin != NULL) ? origin : file_origin;
	char origin_txt[KNOT_DNAME_TXT_MAXLEN + 1];
	if (knot_dname_to_str(origin_txt, start, sizeof(origin_txt)) == NULL) {
		free(file_origin);
		return KNOT_EINVAL;
	}

	zs_scanner_t *s = malloc(sizeof(*s));
	if (s == NULL) {
		free(file_origin);
		return KNOT_ENOMEM;
	}
	load_t load = { .idx = idx, .msg = msg, .msg_ctx = msg_ctx, .ret = KNOT_EOK };
	if (zs_init(s, origin_txt, KNOT_CLASS_IN, 3600) != 0) {
		free(s);
		free(file_origin);
		return KNOT_ENOMEM;
	}
	if (zs_set_input_file(s, path) != 0) {
		say(msg, msg_ctx, ZONE_MSG_ERROR, path, 0, "%s", zs_strerror(s->error.code));
		zs_deinit(s);
		free(s);
		free(file_origin);
		return KNOT_EFILE;
	}
	zs_set_processing(s, on_record, on_error, &load);
	(void)zs_parse_all(s);
	zs_deinit(s);
	free(s);

	*records = load.records;
	int ret = load.ret;
	if (ret == KNOT_EOK && load.failures > 0) {
		ret = KNOT_EPARSEFAIL;
	}
	if (ret == KNOT_EOK) {
		// An $ORIGIN before the first record names the zone; else the file.
		const knot_dname_t *apex = origin;
		if (apex == NULL) {
			apex = (load.have_origin && !knot_dname_is_equal(load.first_origin,
			        file_origin)) ? load.first_origin : file_origin;
		}
		ret = zone_index_finish(idx, apex);
	}
	free(file_origin);
	if (ret == KNOT_EOK) {
		ret = check_apex(idx, &load, path);
	}
	return ret;
}

// Messages as lines of a stream.
static void print_msg(void *ctx, zone_msg_level_t level, const char *file, uint64_t line,
                      const char *text)
{
	const char *what = (level == ZONE_MSG_ERROR) ? "error" : "warning";
	if (line > 0) {
		fprintf(ctx, "%s:%llu: %s: %s\n", file, (unsigned long long)line, what, text);
	} else {
		fprintf(ctx, "%s: %s: %s\n", file, what, text);
	}
}

int zone_load(zone_index_t *idx, const char *path, const knot_dname_t *origin,
              FILE *errors, size_t *records)
{
	return zone_load_msg(idx, path, origin, print_msg, errors, records);
}
