/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * What the checks write besides findings: the errors of a file that is not
 * checked (on standard error and, in JSON, on standard output), and JSON
 * strings.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libknot/errcode.h>

#include "check_zone.h"

void json_string(const char *text)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			printf("\\%c", *p);
		} else if (*p < 0x20 || *p == 0x7f) {
			// Other octets pass as they are: names are ASCII, paths UTF-8.
			printf("\\u%04x", *p);
		} else {
			putchar(*p);
		}
	}
	putchar('"');
}

void json_key(const char *key, const char *value, bool first)
{
	printf("%s\"%s\": ", first ? "{" : ", ", key);
	json_string(value);
}

void report_error(const check_options_t *opt, const char *file, uint64_t line,
                  const char *zone, const char *reason, const char *text)
{
	if (line > 0) {
		fprintf(stderr, "%s:%llu: error: %s\n", file, (unsigned long long)line, text);
	} else {
		fprintf(stderr, "%s: error: %s\n", file, text);
	}
	if (!opt->json) {
		return;
	}
	json_key("file", file, true);
	if (line > 0) {
		printf(", \"line\": %llu", (unsigned long long)line);
	}
	if (zone != NULL) {
		json_key("zone", zone, false);
	}
	json_key("error", text, false);
	json_key("reason", reason, false);
	printf("}\n");
}

void load_msg(void *ctx, zone_msg_level_t level, const char *file, uint64_t line,
              const char *text)
{
	load_msgs_t *msgs = ctx;
	const char *what = (level == ZONE_MSG_ERROR) ? "error" : "warning";
	if (line > 0) {
		fprintf(stderr, "%s:%llu: %s: %s\n", file, (unsigned long long)line, what, text);
	} else {
		fprintf(stderr, "%s: %s: %s\n", file, what, text);
	}
	if (!msgs->opt->json || level != ZONE_MSG_ERROR) {
		return;
	}
	void *grown = realloc(msgs->errors, (msgs->count + 1) * sizeof(*msgs->errors));
	if (grown == NULL) {
		msgs->failed = true;
		return;
	}
	msgs->errors = grown;
	msgs->errors[msgs->count].file = strdup(file);
	msgs->errors[msgs->count].line = line;
	msgs->errors[msgs->count].text = strdup(text);
	msgs->count++;
}

void load_msgs_finish(load_msgs_t *msgs, const char *path, const char *zone, int ret)
{
	if (ret == KNOT_ENOMEM || msgs->failed) {
		report_error(msgs->opt, path, 0, zone, "unreadable", "out of memory");
	}
	const char *reason = (ret == KNOT_EFILE) ? "unreadable" : "invalid";
	for (size_t i = 0; i < msgs->count; i++) {
		const char *file = msgs->errors[i].file;
		const char *text = msgs->errors[i].text;
		if (file == NULL || text == NULL) {
			continue;
		}
		json_key("file", file, true);
		if (msgs->errors[i].line > 0) {
			printf(", \"line\": %llu", (unsigned long long)msgs->errors[i].line);
		}
		if (zone != NULL) {
			json_key("zone", zone, false);
		}
		json_key("error", text, false);
		json_key("reason", reason, false);
		printf("}\n");
	}
	for (size_t i = 0; i < msgs->count; i++) {
		free(msgs->errors[i].file);
		free(msgs->errors[i].text);
	}
	free(msgs->errors);
}
