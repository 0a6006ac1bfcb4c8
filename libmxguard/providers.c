/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <pthread.h>
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

#define PATTERN_COUNT (sizeof(mx_provider_patterns) / sizeof(mx_provider_patterns[0]))

const size_t mx_provider_pattern_count = PATTERN_COUNT;

/*!
 * What each pattern's top-level label is: every exchange of every MX answer
 * is looked up, and most share their top-level label with few patterns or
 * none, so that one comparison rules a pattern out. Built once, on first use
 * (pthread_once); read-only afterwards, so worker threads share it freely.
 */
static size_t pattern_end[PATTERN_COUNT];  // length without a trailing dot
// Patterns by a hash of the top-level label (length and last character), one
// bit each in table order; a '*' top-level label is in every bucket.
#define BUCKETS 64
_Static_assert(PATTERN_COUNT <= 64, "widen the bucket masks for more patterns");
static uint64_t bucket[BUCKETS];
static pthread_once_t pattern_index_once = PTHREAD_ONCE_INIT;

static unsigned bucket_of(size_t tld_len, uint8_t tld_last)
{
	return (unsigned)(tld_last + 31 * tld_len) % BUCKETS;
}

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
                            const char *pattern, size_t end)
{
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

static void pattern_index_init(void)
{
	for (size_t i = 0; i < PATTERN_COUNT; i++) {
		const char *pattern = mx_provider_patterns[i].pattern;
		size_t end = strlen(pattern);
		if (end > 0 && pattern[end - 1] == '.') {
			end--;
		}
		size_t start = end;
		while (start > 0 && pattern[start - 1] != '.') {
			start--;
		}
		pattern_end[i] = end;
		bool wild = (end - start == 1 && pattern[start] == '*');
		if (end == 0 || wild) {
			for (unsigned b = 0; b < BUCKETS; b++) {
				bucket[b] |= UINT64_C(1) << i;
			}
		} else {
			uint8_t last = ascii_lower((uint8_t)pattern[end - 1]);
			bucket[bucket_of(end - start, last)] |= UINT64_C(1) << i;
		}
	}
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

	pthread_once(&pattern_index_once, pattern_index_init);
	const uint8_t *tld = labels[count - 1];
	uint64_t candidates = bucket[bucket_of(tld[0], ascii_lower(tld[tld[0]]))];
	while (candidates != 0) {
		size_t i = (size_t)__builtin_ctzll(candidates);  // table order
		candidates &= candidates - 1;
		if (pattern_matches(labels, count, mx_provider_patterns[i].pattern,
		                    pattern_end[i])) {
			return mx_provider_patterns[i].provider;
		}
	}
	return NULL;
}
