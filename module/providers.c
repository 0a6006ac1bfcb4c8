/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdbool.h>
#include <string.h>

#include "providers.h"

// Patterns are plain lowercase ASCII in presentation form without escapes;
// the first matching row wins.
const mx_provider_pattern_t mx_provider_patterns[] = {
	{ "google",       "google.com" },
	{ "google",       "googlemail.com" },
	{ "microsoft365", "mail.protection.outlook.com" },
	{ "microsoft365", "mx.microsoft" },
	{ "outlook",      "olc.protection.outlook.com" },
	{ "proofpoint",   "pphosted.com" },
	{ "proofpoint",   "ppe-hosted.com" },
	{ "mimecast",     "mimecast.com" },
	{ "mimecast",     "mimecast-offshore.com" },
	{ "zoho",         "zoho.com" },
	{ "zoho",         "zoho.eu" },
	{ "zoho",         "zoho.in" },
	{ "zoho",         "zoho.com.au" },
	{ "zoho",         "zoho.jp" },
	{ "zoho",         "zohomail.com" },
	{ "fastmail",     "messagingengine.com" },
	{ "fastmail",     "fastmail.com" },
	{ "yahoo",        "yahoodns.net" },
	{ "icloud",       "mail.icloud.com" },
	// Only the inbound endpoints: EC2 host names live under amazonaws.com too.
	{ "amazon-ses",   "inbound-smtp.*.amazonaws.com" },
	{ "proton",       "protonmail.ch" },
	{ "barracuda",    "barracudanetworks.com" },
	{ "mailgun",      "mailgun.org" },
	{ "cisco",        "iphmx.com" },
	{ "messagelabs",  "messagelabs.com" },
	{ "rackspace",    "emailsrvr.com" },
	{ "godaddy",      "secureserver.net" },
	{ "yandex",       "mx.yandex.net" },
	{ "yandex",       "mx.yandex.ru" },
	{ "mailru",       "mail.ru" },
	{ "cloudflare",   "mx.cloudflare.net" },
	{ "improvmx",     "improvmx.com" },
	{ "tutanota",     "mail.tutanota.de" },
	{ "mailbox-org",  "mailbox.org" },
};

const size_t mx_provider_pattern_count =
	sizeof(mx_provider_patterns) / sizeof(mx_provider_patterns[0]);

// A wire name of 255 octets has at most 127 labels besides the root.
#define MAX_LABELS 128

static uint8_t ascii_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c - 'A' + 'a') : c;
}

/*! \brief Compares a wire label with one pattern label (text, no dots). */
static bool label_matches(const uint8_t *label, const char *pat, size_t pat_len)
{
	if (pat_len == 1 && pat[0] == '*') {
		return true;
	}
	if (label[0] != pat_len) {
		return false;
	}
	for (size_t i = 0; i < pat_len; i++) {
		if (ascii_lower(label[1 + i]) != ascii_lower((uint8_t)pat[i])) {
			return false;
		}
	}
	return true;
}

/*!
 * \brief Matches the pattern against the rightmost labels of a name.
 *
 * \param labels  Pointers to the name's labels, leftmost first.
 * \param count   Number of labels (the root not counted).
 */
static bool pattern_matches(const uint8_t *const *labels, size_t count,
                            const char *pattern)
{
	size_t end = strlen(pattern);
	if (end > 0 && pattern[end - 1] == '.') {
		end--;
	}
	size_t remaining = count;
	while (end > 0) {
		size_t start = end;
		while (start > 0 && pattern[start - 1] != '.') {
			start--;
		}
		if (remaining == 0) {
			return false;
		}
		remaining--;
		if (!label_matches(labels[remaining], pattern + start, end - start)) {
			return false;
		}
		end = (start > 0) ? start - 1 : 0;
	}
	return true;
}

const char *mx_provider_of(const knot_dname_t *exchange)
{
	if (exchange == NULL) {
		return NULL;
	}

	// Label positions let patterns compare from the right, label by label,
	// so a '.' octet inside a label never passes for a label boundary.
	const uint8_t *labels[MAX_LABELS];
	size_t count = 0;
	for (const uint8_t *label = exchange; *label != 0; label += 1 + *label) {
		if (count == MAX_LABELS) {
			return NULL;
		}
		labels[count++] = label;
	}
	if (count == 0) {
		return NULL;
	}

	for (size_t i = 0; i < mx_provider_pattern_count; i++) {
		if (pattern_matches(labels, count, mx_provider_patterns[i].pattern)) {
			return mx_provider_patterns[i].provider;
		}
	}
	return NULL;
}
