/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libknot/dname.h>

#include "zone_file_name.h"

/*
 * A zone file name from a file pattern, as knotd makes it: %s the zone name
 * without its final dot, %c[N] or %c[N-M] characters of the name (with the
 * dot), %l[N] the Nth label from the right, %% a percent sign; '/' in a
 * name becomes '_'; other formatters are ignored (knotd warns); a relative
 * result is taken in the storage directory.
 */
char *zone_file_name(const char *pattern, const knot_dname_t *zone,
                            const char *storage)
{
	char txt[KNOT_DNAME_TXT_MAXLEN + 1];
	if (knot_dname_to_str(txt, zone, sizeof(txt)) == NULL) {
		return NULL;
	}
	for (char *p = txt; *p != '\0'; p++) {
		*p = (*p == '/') ? '_' : *p;
	}
	size_t txt_len = strlen(txt);

	char out[4096] = "";
	size_t len = 0;
	const char *p = pattern;
	while (*p != '\0' && len < sizeof(out) - 1) {
		if (*p != '%') {
			out[len++] = *p++;
			continue;
		}
		char buf[KNOT_DNAME_TXT_MAXLEN + 1] = "";
		unsigned i1, i2;
		char c;
		switch (p[1]) {
		case '%':
			strcpy(buf, "%");
			p += 2;
			break;
		case 's':
			// The root zone gives the empty string.
			snprintf(buf, sizeof(buf), "%.*s", (int)(txt_len - 1), txt);
			p += 2;
			break;
		case 'c':
			if (sscanf(p + 2, "[%u%c", &i1, &c) != 2 || (c != ']' && c != '-')) {
				return NULL;
			}
			i2 = i1;
			if (c == '-' && (sscanf(strchr(p + 2, '-') + 1, "%u%c", &i2, &c) != 2 ||
			                 c != ']')) {
				return NULL;
			}
			if (i1 >= 256 || i2 >= 256 || i2 < i1) {
				return NULL;
			}
			if (i1 < txt_len) {
				size_t n = (i2 >= txt_len) ? txt_len - i1 : i2 - i1 + 1;
				snprintf(buf, sizeof(buf), "%.*s", (int)n, txt + i1);
			}
			p = strchr(p + 2, ']') + 1;
			break;
		case 'l': {
			if (sscanf(p + 2, "[%u%c", &i1, &c) != 2 || c != ']' || i1 >= 256) {
				return NULL;
			}
			size_t labels = knot_dname_labels(zone, NULL);
			if (labels == 0 && i1 == 0) {
				buf[0] = '\0';
			} else if (i1 < labels) {
				const knot_dname_t *l = zone;
				for (size_t n = labels - i1 - 1; n > 0; n--) {
					l += 1 + l[0];
				}
				knot_dname_storage_t one;
				memcpy(one, l, 1 + l[0]);
				one[1 + l[0]] = '\0';
				char ltxt[KNOT_DNAME_TXT_MAXLEN + 1];
				if (knot_dname_to_str(ltxt, one, sizeof(ltxt)) == NULL) {
					return NULL;
				}
				for (char *q = ltxt; *q != '\0'; q++) {
					*q = (*q == '/') ? '_' : *q;
				}
				snprintf(buf, sizeof(buf), "%.*s", (int)(strlen(ltxt) - 1), ltxt);
			}
			p = strchr(p + 2, ']') + 1;
			break;
		}
		case '\0':
			p += 1;
			break;
		default:
			p += 2;
			break;
		}
		size_t n = strlen(buf);
		if (len + n >= sizeof(out)) {
			return NULL;
		}
		memcpy(out + len, buf, n);
		len += n;
	}
	out[len] = '\0';

	if (out[0] == '/') {
		return strdup(out);
	}
	// knotd takes a relative storage in its working directory.
	char *cwd = (storage[0] == '/') ? NULL : getcwd(NULL, 0);
	if (storage[0] != '/' && cwd == NULL) {
		return NULL;
	}
	size_t size = (cwd ? strlen(cwd) + 1 : 0) + strlen(storage) + 1 + len + 1;
	char *path = malloc(size);
	if (path != NULL) {
		snprintf(path, size, "%s%s%s/%s", cwd ? cwd : "", cwd ? "/" : "", storage, out);
	}
	free(cwd);
	return path;
}
