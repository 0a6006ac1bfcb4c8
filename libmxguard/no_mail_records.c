/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>
#include <strings.h>

#include "no_mail_records.h"

static bool label_is(const uint8_t *label, const char *text)
{
	size_t len = strlen(text);
	return label[0] == len && memcmp(label + 1, text, len) == 0;
}

bool mx_dname_underscored(const knot_dname_t *name)
{
	return name != NULL && name[0] > 0 && name[1] == '_';
}

bool mx_dname_attribute(const knot_dname_t *name)
{
	for (; name != NULL && *name != 0; name += 1 + *name) {
		if (name[1] == '_') {
			return true;
		}
	}
	return false;
}

mx_no_mail_role_t mx_no_mail_role(const knot_dname_t *qname, const knot_dname_t **name)
{
	*name = qname;
	if (qname == NULL || qname[0] == 0) {
		return MX_NO_MAIL_NONE;
	}
	const uint8_t *second = qname + qname[0] + 1;
	if (label_is(qname, "_dmarc") && second[0] != 0) {
		*name = second;
		return MX_NO_MAIL_DMARC;
	}
	if (label_is(qname, "_domainkey") && second[0] != 0) {
		*name = second;
		return MX_NO_MAIL_DKIM_TOP;
	}
	if (second[0] != 0 && label_is(second, "_domainkey")) {
		const uint8_t *third = second + second[0] + 1;
		if (third[0] != 0) {
			*name = third;
			return MX_NO_MAIL_DKIM_KEY;
		}
	}
	return mx_dname_attribute(qname) ? MX_NO_MAIL_NONE : MX_NO_MAIL_NAME;
}

size_t mx_txt_rdata(const char *text, uint8_t *out, size_t max)
{
	size_t len = strlen(text);
	if (len > 255 || len + 1 > max) {
		return 0;
	}
	out[0] = (uint8_t)len;
	memcpy(out + 1, text, len);
	return len + 1;
}

// The character-strings of TXT rdata joined (truncated to the buffer).
static size_t txt_text(const knot_rdata_t *rd, char *out, size_t max)
{
	size_t n = 0;
	for (size_t pos = 0; pos < rd->len; ) {
		size_t len = rd->data[pos];
		if (pos + 1 + len > rd->len) {
			break;
		}
		for (size_t i = 0; i < len && n + 1 < max; i++) {
			out[n++] = (char)rd->data[pos + 1 + i];
		}
		pos += 1 + len;
	}
	out[n] = '\0';
	return n;
}

mx_txt_kind_t mx_txt_kind(const knot_rdata_t *rd)
{
	char text[16];
	size_t n = txt_text(rd, text, sizeof(text));
	// "v=spf1" alone or before a space (RFC 7208 §4.5).
	if (n >= 6 && strncasecmp(text, "v=spf1", 6) == 0 && (n == 6 || text[6] == ' ')) {
		return MX_TXT_SPF;
	}
	if (n >= 8 && strncasecmp(text, "v=DMARC1", 8) == 0 &&
	    (n == 8 || text[8] == ';' || text[8] == ' ')) {
		return MX_TXT_DMARC;
	}
	return MX_TXT_OTHER;
}

bool mx_spf_denies_all(const knot_rdata_t *rd)
{
	char text[512];
	txt_text(rd, text, sizeof(text));
	const char *p = text + 6;
	if (strncasecmp(text, "v=spf1 ", 7) != 0) {
		return false;
	}
	while (*p == ' ') {
		p++;
	}
	if (strncasecmp(p, "exp=", 4) == 0) {
		// The modifier and its domain spec: one word, not empty.
		const char *end = strchr(p, ' ');
		if (end == NULL || end == p + 4) {
			return false;
		}
		p = end;
		while (*p == ' ') {
			p++;
		}
	}
	if (strncasecmp(p, "-all", 4) != 0) {
		return false;
	}
	p += 4;
	if (*p == ';') {
		p++;
	}
	while (*p == ' ' || *p == '\t') {
		p++;
	}
	return *p == '\0';
}

bool mx_dmarc_rejects(const knot_rdata_t *rd)
{
	char text[512];
	txt_text(rd, text, sizeof(text));
	if (strncasecmp(text, "v=DMARC1;", 9) != 0) {
		return false;
	}
	const char *p = text + 9;
	while (*p == ' ') {
		p++;
	}
	return strncasecmp(p, "p=reject", 8) == 0 &&
	       (p[8] == '\0' || p[8] == ';' || p[8] == ' ');
}
