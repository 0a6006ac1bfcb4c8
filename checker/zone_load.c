/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <errno.h>
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
	FILE *errors;
	const char *last_name;   // The scanner's file name last seen, and its number.
	int last_file;
	size_t records;
	size_t failures;
	int ret;
	knot_dname_storage_t soa;      // Owner of the first SOA record.
	bool have_soa;
	knot_dname_storage_t first_origin;  // $ORIGIN at the first record.
	bool have_origin;
} load_t;

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
	if (load->records == 0 && s->zone_origin_length > 1) {
		memcpy(load->first_origin, s->zone_origin, s->zone_origin_length);
		load->have_origin = true;
	}
	load->records++;
	if (s->r_type == KNOT_RRTYPE_SOA && !load->have_soa) {
		memcpy(load->soa, s->r_owner, s->r_owner_length);
		load->have_soa = true;
	}

	uint32_t line = s->line_counter > UINT32_MAX ? UINT32_MAX : (uint32_t)s->line_counter;
	int ret = zone_index_add(load->idx, s->r_owner, s->r_type, s->r_data,
	                         (uint16_t)s->r_data_length, (uint16_t)file, line);
	if (ret == KNOT_EMALF) {
		fprintf(load->errors, "%s:%u: error: malformed record data\n", s->file.name, line);
		load->failures++;
	} else if (ret != KNOT_EOK) {
		load->ret = ret;
		s->state = ZS_STATE_STOP;
	}
}

static void on_error(zs_scanner_t *s)
{
	load_t *load = s->process.data;
	fprintf(load->errors, "%s:%llu: error: %s\n", s->file.name,
	        (unsigned long long)s->line_counter, zs_strerror(s->error.code));
	load->failures++;
}

int zone_load(zone_index_t *idx, const char *path, const knot_dname_t *origin,
              FILE *errors, size_t *records)
{
	*records = 0;

	// The scanner's own message for an unreadable file says less than errno.
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int err = (fd < 0) ? errno : (S_ISDIR(st.st_mode) ? EISDIR : EINVAL);
		fprintf(errors, "%s: error: %s\n", path,
		        err == EINVAL ? "not a regular file" : strerror(err));
		if (fd >= 0) {
			close(fd);
		}
		return KNOT_EFILE;
	}
	close(fd);

	char origin_txt[KNOT_DNAME_TXT_MAXLEN + 1] = ".";
	if (origin != NULL && knot_dname_to_str(origin_txt, origin, sizeof(origin_txt)) == NULL) {
		return KNOT_EINVAL;
	}

	zs_scanner_t *s = malloc(sizeof(*s));
	if (s == NULL) {
		return KNOT_ENOMEM;
	}
	load_t load = { .idx = idx, .errors = errors, .ret = KNOT_EOK };
	if (zs_init(s, origin_txt, KNOT_CLASS_IN, 3600) != 0) {
		free(s);
		return KNOT_ENOMEM;
	}
	if (zs_set_input_file(s, path) != 0) {
		fprintf(errors, "%s: error: %s\n", path, zs_strerror(s->error.code));
		zs_deinit(s);
		free(s);
		return KNOT_EFILE;
	}
	zs_set_processing(s, on_record, on_error, &load);
	(void)zs_parse_all(s);
	zs_deinit(s);
	free(s);

	*records = load.records;
	if (load.ret != KNOT_EOK) {
		return load.ret;
	}
	if (load.failures > 0) {
		return KNOT_EPARSEFAIL;
	}

	const knot_dname_t *apex = origin;
	if (apex == NULL) {
		apex = load.have_soa ? load.soa : load.have_origin ? load.first_origin : NULL;
	}
	if (apex == NULL) {
		fprintf(errors, "%s: error: no SOA record and no $ORIGIN: give the origin with -o\n",
		        path);
		return KNOT_ENOENT;
	}
	return zone_index_finish(idx, apex);
}
