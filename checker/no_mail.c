/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * No-mail names and their SPF and DMARC records (issue 24). A name that
 * takes no mail must also say that it sends none: "v=spf1 -all" at the name
 * and a DMARC record with p=reject at _dmarc.NAME, the rules internet.nl
 * applies to call a domain "no mail". The rules are the module's
 * (libmxguard/no_mail_records.c): which TXT record is SPF or DMARC, and
 * whether it lets mail through.
 */

#include <stdio.h>
#include <string.h>
#include <libknot/errcode.h>
#include <libknot/rdata.h>

#include "config_rules.h"
#include "no_mail.h"
#include "no_mail_records.h"

// A kept TXT record as knot_rdata_t, for the library's rules, and its text:
// its character-strings joined (RFC 7208 §3.3, RFC 7489 §6.3).
typedef struct {
	uint16_t rd_buf[(sizeof(uint16_t) + UINT16_MAX + 1) / 2];  // Aligned.
	knot_rdata_t *rd;
	char data[UINT16_MAX];
	size_t len;
} txt_t;

// One record at a time (the checker has one thread): 128 KB, off the stack.
static txt_t txt_scratch;

static void txt_load(txt_t *txt, const zone_mx_t *rr)
{
	txt->rd = (knot_rdata_t *)txt->rd_buf;
	knot_rdata_init(txt->rd, rr->rdlen, rr->rdata);
	txt->len = 0;
	for (size_t pos = 0; pos < rr->rdlen; ) {
		size_t len = rr->rdata[pos++];
		if (len > rr->rdlen - pos) {
			len = rr->rdlen - pos;
		}
		memcpy(txt->data + txt->len, rr->rdata + pos, len);
		txt->len += len;
		pos += len;
	}
}

// The text in quotes for a finding: at most about 100 characters, other
// than printable ASCII (and the backslash) as \DDD, as knotd writes TXT.
static void quote(char *out, size_t out_len, const txt_t *txt)
{
	size_t o = 0;
	out[o++] = '\'';
	for (size_t i = 0; i < txt->len; i++) {
		unsigned char c = (unsigned char)txt->data[i];
		if (o + 8 >= out_len || o > 100) {
			o += (size_t)snprintf(out + o, out_len - o, "...");
			break;
		}
		if (c < 0x20 || c > 0x7e || c == '\\') {
			o += (size_t)snprintf(out + o, out_len - o, "\\%03u", c);
		} else {
			out[o++] = (char)c;
		}
	}
	snprintf(out + o, out_len - o, "'");
}

// The kept TXT records of a node of one kind: how many, and the first in
// the file (the list has the last first), which is left in \a txt.
typedef struct {
	size_t count;
	const zone_mx_t *first;
} txt_pick_t;

static txt_pick_t pick(const zone_index_t *idx, const zone_node_t *node,
                       mx_txt_kind_t kind, txt_t *txt)
{
	txt_pick_t found = { 0 };
	for (uint32_t i = node ? node->txt_head : ZONE_NONE; i != ZONE_NONE; ) {
		const zone_mx_t *rr = zone_index_mx(idx, i);
		txt_load(txt, rr);
		if (mx_txt_kind(txt->rd) == kind) {
			found.first = rr;
			found.count++;
		}
		i = rr->next;
	}
	if (found.first != NULL) {
		txt_load(txt, found.first);
	}
	return found;
}

// A name below \a name: \a label (wire form) then the name.
static bool name_below(uint8_t *out, const char *label, size_t label_len,
                       const knot_dname_t *name)
{
	size_t size = knot_dname_size(name);
	if (label_len + size > KNOT_DNAME_MAXLEN) {
		return false;
	}
	memcpy(out, label, label_len);
	memcpy(out + label_len, name, size);
	return true;
}

#define LABEL_DMARC "\x06_dmarc"
#define LABEL_DOMAINKEY "\x0a_domainkey"
#define LABEL_ANY_DOMAINKEY "\x01*\x0a_domainkey"

// mx_rdataset_is_null_mx() on the index's records of a name.
static bool lone_null_mx(const zone_index_t *idx, const zone_node_t *node)
{
	if (!(node->flags & ZONE_NULL_MX)) {
		return false;
	}
	// knotd keeps one copy of records written twice.
	for (uint32_t i = node->mx_head; i != ZONE_NONE; ) {
		const zone_mx_t *mx = zone_index_mx(idx, i);
		if (mx->rdlen != 3 || memcmp(mx->rdata, "\0\0\0", 3) != 0) {
			return false;
		}
		i = mx->next;
	}
	return true;
}

no_mail_why_t no_mail_name(const no_mail_t *nm, const zone_node_t *node)
{
	const knot_dname_t *name = node->name;
	// _dmarc.N, _domainkey.N and their like are attributes of N (RFC 8552);
	// a wildcard's names get DMARC from the organisational domain's sp=.
	if (!(node->flags & ZONE_HAS_DATA) || (node->flags & ZONE_HAS_CNAME) ||
	    mx_dname_attribute(name) || knot_dname_is_wildcard(name) ||
	    !zone_index_authoritative(nm->idx, node)) {
		return NO_MAIL_NOT;
	}
	if (lone_null_mx(nm->idx, node) ||
	    (nm->served != NULL && mx_name_list_match(nm->served, name)) ||
	    (nm->implicit && !(node->flags & ZONE_HAS_MX))) {
		return NO_MAIL_SERVED;
	}
	if (nm->listed != NULL && mx_name_list_match(nm->listed, name)) {
		return NO_MAIL_LISTED;
	}
	return NO_MAIL_NOT;
}

static no_mail_finding_t *finding(no_mail_finding_t *out, const char *record,
                                  const zone_mx_t *rr, const zone_node_t *node)
{
	out->record = record;
	out->file = rr ? rr->file : node->file;
	out->line = rr ? rr->line : node->line;
	return out;
}

// What the zone answers at _dmarc.N: the node (own or a wildcard), or NULL;
// false when the name cannot be made or the answer is not the zone's.
static bool dmarc_node(const no_mail_t *nm, const zone_node_t *node,
                       const zone_node_t **found, uint8_t *name)
{
	bool elsewhere = false;
	if (!name_below(name, LABEL_DMARC, sizeof(LABEL_DMARC) - 1, node->name)) {
		return false;
	}
	*found = zone_index_answer(nm->idx, name, &elsewhere);
	return !elsewhere;
}

size_t no_mail_judge(const no_mail_t *nm, const zone_node_t *node, no_mail_why_t why,
                     no_mail_finding_t out[2])
{
	size_t count = 0;
	bool served = why == NO_MAIL_SERVED;
	char quoted[160];
	txt_t *txt = &txt_scratch;
	txt_pick_t spf = pick(nm->idx, node, MX_TXT_SPF, txt);
	if (spf.count > 1) {
		no_mail_finding_t *f = finding(&out[count++], "spf", spf.first, node);
		// RFC 7208 §4.5: a permerror, as if there were none.
		snprintf(f->detail, sizeof(f->detail), spf.count == 2 ? "two spf records" :
		         "%zu spf records", spf.count);
	} else if (spf.count == 1 && !mx_spf_denies_all(txt->rd)) {
		no_mail_finding_t *f = finding(&out[count++], "spf", spf.first, node);
		quote(quoted, sizeof(quoted), txt);
		snprintf(f->detail, sizeof(f->detail), "spf %s is not -all", quoted);
	} else if (spf.count == 0 && !(served && (nm->records & MX_RECORD_SPF))) {
		no_mail_finding_t *f = finding(&out[count++], "spf", NULL, node);
		snprintf(f->detail, sizeof(f->detail), "spf missing");
	}

	// A CNAME or a delegation at _dmarc.N hands DMARC to another zone.
	const zone_node_t *at = NULL;
	uint8_t name[KNOT_DNAME_MAXLEN];
	if (!dmarc_node(nm, node, &at, name)) {
		return count;
	}
	txt_pick_t dmarc = pick(nm->idx, at, MX_TXT_DMARC, txt);
	if (dmarc.count > 1) {
		no_mail_finding_t *f = finding(&out[count++], "dmarc", dmarc.first, node);
		// RFC 7489 §6.6.3: several records, no policy at all.
		snprintf(f->detail, sizeof(f->detail), dmarc.count == 2 ?
		         "two dmarc records" : "%zu dmarc records", dmarc.count);
	} else if (dmarc.count == 1 && !mx_dmarc_rejects(txt->rd)) {
		no_mail_finding_t *f = finding(&out[count++], "dmarc", dmarc.first, node);
		quote(quoted, sizeof(quoted), txt);
		snprintf(f->detail, sizeof(f->detail), "dmarc %s is not p=reject", quoted);
	} else if (dmarc.count == 0) {
		// The module serves its record only where the zone has no TXT.
		bool zone_txt = at != NULL && (at->flags & ZONE_HAS_TXT);
		if (!(served && (nm->records & MX_RECORD_DMARC) && !zone_txt)) {
			no_mail_finding_t *f = finding(&out[count++], "dmarc", NULL, node);
			snprintf(f->detail, sizeof(f->detail), "dmarc missing");
		}
	}
	return count;
}

static no_mail_rr_t *need(no_mail_rr_t *out, const char *record, bool warning,
                          const zone_mx_t *rr, const zone_node_t *node)
{
	out->record = record;
	out->warning = warning;
	out->file = rr ? rr->file : node->file;
	out->line = rr ? rr->line : node->line;
	return out;
}

// The DMARC record as a zone-file string: '"' and '\' escaped.
static void zone_string(char *out, size_t out_len, const char *text)
{
	size_t o = 0;
	for (const char *p = text; *p != '\0' && o + 3 < out_len; p++) {
		if (*p == '"' || *p == '\\') {
			out[o++] = '\\';
		}
		out[o++] = *p;
	}
	out[o] = '\0';
}

size_t no_mail_needs(const no_mail_t *nm, const zone_node_t *node, uint32_t ttl,
                     no_mail_rr_t out[4])
{
	size_t count = 0;
	char owner[KNOT_DNAME_TXT_MAXLEN + 1], other[KNOT_DNAME_TXT_MAXLEN + 1];
	if (knot_dname_to_str(owner, node->name, sizeof(owner)) == NULL) {
		return 0;
	}
	char quoted[160];
	txt_t *txt = &txt_scratch;
	if (!(node->flags & ZONE_HAS_MX)) {
		no_mail_rr_t *rr = need(&out[count++], "null-mx", false, NULL, node);
		snprintf(rr->text, sizeof(rr->text), "%s %u IN MX 0 .", owner, ttl);
	} else if (!lone_null_mx(nm->idx, node)) {
		// A null MX beside them would be a null-mx-conflict.
		no_mail_rr_t *rr = need(&out[count++], "null-mx", true,
		                        zone_index_mx(nm->idx, node->mx_head), node);
		snprintf(rr->text, sizeof(rr->text), "%s has MX records: replace them with "
		         "MX 0 .", owner);
	}

	// Never a second SPF record (RFC 7208 §4.5).
	txt_pick_t spf = pick(nm->idx, node, MX_TXT_SPF, txt);
	if (spf.count == 0) {
		no_mail_rr_t *rr = need(&out[count++], "spf", false, NULL, node);
		snprintf(rr->text, sizeof(rr->text), "%s %u IN TXT \"" MX_NO_MAIL_SPF "\"", owner,
		         ttl);
	} else if (spf.count > 1) {
		no_mail_rr_t *rr = need(&out[count++], "spf", true, spf.first, node);
		snprintf(rr->text, sizeof(rr->text), "%s has %zu SPF records: keep one, "
		         "\"" MX_NO_MAIL_SPF "\"", owner, spf.count);
	} else if (!mx_spf_denies_all(txt->rd)) {
		no_mail_rr_t *rr = need(&out[count++], "spf", true, spf.first, node);
		quote(quoted, sizeof(quoted), txt);
		snprintf(rr->text, sizeof(rr->text), "%s has the SPF record %s: make it "
		         "\"" MX_NO_MAIL_SPF "\"", owner, quoted);
	}

	const zone_node_t *at = NULL;
	uint8_t name[KNOT_DNAME_MAXLEN];
	bool named = name_below(name, LABEL_DMARC, sizeof(LABEL_DMARC) - 1, node->name) &&
	             knot_dname_to_str(other, name, sizeof(other)) != NULL;
	txt_pick_t dmarc = { 0 };
	if (named && !dmarc_node(nm, node, &at, name)) {
		no_mail_rr_t *rr = need(&out[count++], "dmarc", true, NULL, at ? at : node);
		snprintf(rr->text, sizeof(rr->text), "%s is a CNAME or below a delegation or "
		         "a DNAME: its DMARC record is another zone's, not checked", other);
	} else if (named && (dmarc = pick(nm->idx, at, MX_TXT_DMARC, txt)).count == 0) {
		char value[512];
		zone_string(value, sizeof(value), nm->dmarc);
		no_mail_rr_t *rr = need(&out[count++], "dmarc", false, NULL, node);
		snprintf(rr->text, sizeof(rr->text), "%s %u IN TXT \"%s\"", other, ttl, value);
	} else if (named && dmarc.count > 1) {
		no_mail_rr_t *rr = need(&out[count++], "dmarc", true, dmarc.first, node);
		snprintf(rr->text, sizeof(rr->text), "%s has %zu DMARC records: keep one, "
		         "with p=reject as its first tag", other, dmarc.count);
	} else if (named && !mx_dmarc_rejects(txt->rd)) {
		no_mail_rr_t *rr = need(&out[count++], "dmarc", true, dmarc.first, node);
		quote(quoted, sizeof(quoted), txt);
		snprintf(rr->text, sizeof(rr->text), "%s has the DMARC record %s: make "
		         "p=reject its first tag", other, quoted);
	}

	// An empty key revokes every selector (RFC 6376 §3.6.1); whatever the
	// zone has at _domainkey.N is its own.
	if (name_below(name, LABEL_DOMAINKEY, sizeof(LABEL_DOMAINKEY) - 1, node->name) &&
	    zone_index_find(nm->idx, name) == NULL &&
	    name_below(name, LABEL_ANY_DOMAINKEY, sizeof(LABEL_ANY_DOMAINKEY) - 1,
	               node->name) &&
	    knot_dname_to_str(other, name, sizeof(other)) != NULL) {
		no_mail_rr_t *rr = need(&out[count++], "dkim", false, NULL, node);
		snprintf(rr->text, sizeof(rr->text), "%s %u IN TXT \"" MX_NO_MAIL_DKIM "\"", other,
		         ttl);
	}
	return count;
}
