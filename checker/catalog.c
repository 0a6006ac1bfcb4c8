/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * A catalog zone's members, as knotd's catalog/interpret.c reads them: the
 * zone must say version "2"; a node one label below zones.CATALOG is a
 * member with its one PTR record; group.MEMBER-NODE holds its one group TXT
 * string. knotd refuses a catalog where a member node has several PTR
 * records or a group several TXT records.
 */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <libknot/descriptor.h>
#include <libknot/errcode.h>
#include <libknot/packet/wire.h>
#include <libzscanner/scanner.h>

#include "catalog.h"

// A record of interest, kept until the whole file is read.
typedef struct {
	knot_dname_t *owner;     // The member node (for a group: its parent).
	knot_dname_t *target;    // PTR: the member zone; NULL for a group.
	char *group;             // TXT at group.NODE.
	char *file;
	uint64_t line;
	size_t pos;              // Its place in the file.
	bool many;               // A second string (TXT) seen.
} cat_rr_t;

typedef struct {
	const knot_dname_t *apex;
	knot_dname_storage_t zones;  // zones.CATALOG
	zone_msg_f msg;
	void *msg_ctx;
	cat_rr_t *rrs;
	size_t count;
	bool version;
	bool soa;
	size_t failures;
	int ret;
} cat_load_t;

__attribute__((format(printf, 5, 6)))
static void say(cat_load_t *load, const char *file, uint64_t line, zone_msg_level_t level,
                const char *fmt, ...)
{
	char text[1024];
	va_list args;
	va_start(args, fmt);
	vsnprintf(text, sizeof(text), fmt, args);
	va_end(args);
	load->msg(load->msg_ctx, level, file, line, text);
}

static const char *name_txt(const knot_dname_t *name, char *buf, size_t len)
{
	if (knot_dname_to_str(buf, name, len) == NULL) {
		snprintf(buf, len, "?");
	}
	return buf;
}

static bool keep(cat_load_t *load, const zs_scanner_t *s, const knot_dname_t *owner,
                 const knot_dname_t *target, const char *group, size_t group_len)
{
	cat_rr_t *grown = realloc(load->rrs, (load->count + 1) * sizeof(*grown));
	if (grown == NULL) {
		return false;
	}
	load->rrs = grown;
	cat_rr_t *rr = &grown[load->count++];
	*rr = (cat_rr_t) {
		.owner = knot_dname_copy(owner, NULL),
		.target = target ? knot_dname_copy(target, NULL) : NULL,
		.group = group ? strndup(group, group_len) : NULL,
		.file = strdup(s->file.name),
		.line = s->line_counter,
		.pos = load->count - 1,
	};
	if (rr->owner != NULL) {
		knot_dname_to_lower(rr->owner);
	}
	if (rr->target != NULL) {
		knot_dname_to_lower(rr->target);
	}
	return rr->owner != NULL && (target == NULL || rr->target != NULL) &&
	       (group == NULL || rr->group != NULL) && rr->file != NULL;
}

static void on_record(zs_scanner_t *s)
{
	cat_load_t *load = s->process.data;
	knot_dname_storage_t owner;
	memcpy(owner, s->r_owner, s->r_owner_length);
	knot_dname_to_lower(owner);
	if (s->r_type == KNOT_RRTYPE_SOA && knot_dname_is_equal(owner, load->apex)) {
		load->soa = true;
		return;
	}
	size_t labels = knot_dname_labels(owner, NULL);
	size_t zone_labels = knot_dname_labels(load->zones, NULL);
	// version.CATALOG TXT "2": one string, "2".
	if (s->r_type == KNOT_RRTYPE_TXT && owner[0] == 7 &&
	    memcmp(owner + 1, "version", 7) == 0 &&
	    knot_dname_is_equal(owner + 8, load->apex)) {
		load->version |= s->r_data_length == 2 && s->r_data[0] == 1 &&
		                 s->r_data[1] == '2';
		return;
	}
	if (labels <= zone_labels || knot_dname_in_bailiwick(owner, load->zones) <= 0) {
		return;
	}
	bool ok = true;
	if (s->r_type == KNOT_RRTYPE_PTR && labels == zone_labels + 1) {
		ok = keep(load, s, owner, s->r_data, NULL, 0);
	} else if (s->r_type == KNOT_RRTYPE_TXT && labels == zone_labels + 2 &&
	           owner[0] == 5 && memcmp(owner + 1, "group", 5) == 0) {
		size_t len = s->r_data_length > 0 ? s->r_data[0] : 0;
		ok = keep(load, s, knot_wire_next_label(owner, NULL), NULL,
		          (const char *)s->r_data + 1, len);
		load->rrs[load->count - 1].many = s->r_data_length != len + 1;
	}
	if (!ok) {
		load->ret = KNOT_ENOMEM;
		s->state = ZS_STATE_STOP;
	}
}

static void on_error(zs_scanner_t *s)
{
	cat_load_t *load = s->process.data;
	say(load, s->file.name, s->line_counter, ZONE_MSG_ERROR, "%s",
	    zs_strerror(s->error.code));
	load->failures++;
}

// Records by owner, the member PTR before the group TXT, then file order.
static int rr_cmp(const void *a, const void *b)
{
	const cat_rr_t *x = a, *y = b;
	int cmp = knot_dname_cmp(x->owner, y->owner);
	if (cmp == 0) {
		cmp = (x->target == NULL) - (y->target == NULL);
	}
	return (cmp != 0) ? cmp : (x->pos > y->pos) - (x->pos < y->pos);
}

// A member found, with the place of its PTR record.
typedef struct {
	catalog_member_t m;
	size_t pos;
} found_t;

static int by_name(const void *a, const void *b)
{
	const found_t *x = a, *y = b;
	int cmp = knot_dname_cmp(x->m.name, y->m.name);
	return (cmp != 0) ? cmp : (x->pos > y->pos) - (x->pos < y->pos);
}

static int by_pos(const void *a, const void *b)
{
	const found_t *x = a, *y = b;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

static int member_cmp(const void *a, const void *b)
{
	const catalog_member_t *const *x = a, *const *y = b;
	return knot_dname_cmp((*x)->name, (*y)->name);
}

// knotd's verdict on a member node: one PTR record, at most one group TXT
// record of one string.
static int check_node(cat_load_t *load, const cat_rr_t *first, size_t count)
{
	char name[KNOT_DNAME_TXT_MAXLEN + 1];
	for (size_t i = 1; i < count; i++) {
		const cat_rr_t *rr = &first[i], *prev = &first[i - 1];
		if ((rr->target == NULL) != (prev->target == NULL)) {
			continue;
		}
		bool differs = (rr->target != NULL) ?
		               !knot_dname_is_equal(rr->target, prev->target) :
		               strcmp(rr->group, prev->group) != 0;
		if (differs) {
			say(load, rr->file, rr->line, ZONE_MSG_ERROR, "%s has more than one %s "
			    "record: knotd refuses the catalog", name_txt(rr->owner, name,
			    sizeof(name)), rr->target ? "member PTR" : "group TXT");
			return KNOT_EZONEINVAL;
		}
	}
	for (size_t i = 0; i < count; i++) {
		if (first[i].target == NULL && first[i].many) {
			say(load, first[i].file, first[i].line, ZONE_MSG_ERROR, "the group TXT "
			    "record of %s has more than one string",
			    name_txt(first[i].owner, name, sizeof(name)));
			return KNOT_EZONEINVAL;
		}
	}
	return KNOT_EOK;
}

// The members of the records kept, each once (knotd keeps the first), in
// the order of the file.
static int members(catalog_t *cat, cat_load_t *load)
{
	qsort(load->rrs, load->count, sizeof(*load->rrs), rr_cmp);
	found_t *found = calloc(load->count + 1, sizeof(*found));
	if (found == NULL) {
		return KNOT_ENOMEM;
	}
	size_t count = 0;
	int ret = KNOT_EOK;
	for (size_t i = 0, n = 0; i < load->count && ret == KNOT_EOK; i += n) {
		const cat_rr_t *node = &load->rrs[i];
		for (n = 1; i + n < load->count &&
		     knot_dname_is_equal(load->rrs[i + n].owner, node->owner); n++);
		ret = check_node(load, node, n);
		if (ret != KNOT_EOK || node->target == NULL) {
			continue;  // A group without a member: knotd ignores it.
		}
		const cat_rr_t *group = (node[n - 1].target == NULL) ? &node[n - 1] : NULL;
		found_t *f = &found[count++];
		f->pos = node->pos;
		f->m.name = knot_dname_copy(node->target, NULL);
		f->m.group = group ? strdup(group->group) : NULL;
		if (f->m.name == NULL || (group != NULL && f->m.group == NULL)) {
			ret = KNOT_ENOMEM;
		}
	}
	size_t kept = 0;
	if (ret == KNOT_EOK) {
		qsort(found, count, sizeof(*found), by_name);
		for (size_t i = 0; i < count; i++) {
			if (kept > 0 && knot_dname_is_equal(found[kept - 1].m.name, found[i].m.name)) {
				free(found[i].m.name);
				free(found[i].m.group);
				continue;
			}
			found[kept++] = found[i];
		}
		count = kept;
		qsort(found, count, sizeof(*found), by_pos);
		cat->members = calloc(count + 1, sizeof(*cat->members));
		cat->by_name = calloc(count + 1, sizeof(*cat->by_name));
		ret = (cat->members && cat->by_name) ? KNOT_EOK : KNOT_ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		if (ret == KNOT_EOK) {
			cat->members[cat->count++] = found[i].m;
		} else {
			free(found[i].m.name);
			free(found[i].m.group);
		}
	}
	free(found);
	for (size_t i = 0; i < cat->count; i++) {
		cat->by_name[i] = &cat->members[i];
	}
	if (ret == KNOT_EOK) {
		qsort(cat->by_name, cat->count, sizeof(*cat->by_name), member_cmp);
	}
	return ret;
}

bool catalog_has(const catalog_t *cat, const knot_dname_t *name)
{
	const catalog_member_t key = { .name = (knot_dname_t *)name }, *kp = &key;
	return cat->count > 0 && bsearch(&kp, cat->by_name, cat->count,
	                                 sizeof(*cat->by_name), member_cmp) != NULL;
}

int catalog_load(catalog_t *cat, const char *path, const knot_dname_t *apex,
                 zone_msg_f msg, void *msg_ctx)
{
	memset(cat, 0, sizeof(*cat));
	if (zone_file_usable(path, msg, msg_ctx) != KNOT_EOK) {
		return KNOT_EFILE;
	}
	char apex_txt[KNOT_DNAME_TXT_MAXLEN + 1];
	if (knot_dname_to_str(apex_txt, apex, sizeof(apex_txt)) == NULL) {
		return KNOT_EINVAL;
	}
	cat_load_t load = { .apex = apex, .msg = msg, .msg_ctx = msg_ctx, .ret = KNOT_EOK };
	if (knot_dname_size(apex) + 6 > sizeof(load.zones)) {
		return KNOT_EINVAL;
	}
	memcpy(load.zones, "\x05""zones", 6);
	memcpy(load.zones + 6, apex, knot_dname_size(apex));

	zs_scanner_t *s = malloc(sizeof(*s));
	if (s == NULL || zs_init(s, apex_txt, KNOT_CLASS_IN, 3600) != 0) {
		free(s);
		return KNOT_ENOMEM;
	}
	int ret = KNOT_EOK;
	if (zs_set_input_file(s, path) != 0) {
		say(&load, path, 0, ZONE_MSG_ERROR, "%s", zs_strerror(s->error.code));
		ret = KNOT_EFILE;
	} else {
		zs_set_processing(s, on_record, on_error, &load);
		(void)zs_parse_all(s);
		ret = load.ret;
	}
	zs_deinit(s);
	free(s);

	if (ret == KNOT_EOK && load.failures > 0) {
		ret = KNOT_EPARSEFAIL;
	}
	if (ret == KNOT_EOK && !load.soa) {
		say(&load, path, 0, ZONE_MSG_ERROR, "no SOA record at the origin %s", apex_txt);
		ret = KNOT_EPARSEFAIL;
	}
	if (ret == KNOT_EOK && !load.version) {
		say(&load, path, 0, ZONE_MSG_ERROR, "no TXT record \"2\" at version.%s: knotd "
		    "refuses it as a catalog", apex_txt);
		ret = KNOT_EZONEINVAL;
	}
	if (ret == KNOT_EOK) {
		ret = members(cat, &load);
	}
	for (size_t i = 0; i < load.count; i++) {
		free(load.rrs[i].owner);
		free(load.rrs[i].target);
		free(load.rrs[i].group);
		free(load.rrs[i].file);
	}
	free(load.rrs);
	if (ret != KNOT_EOK) {
		catalog_clear(cat);
	}
	return ret;
}

void catalog_clear(catalog_t *cat)
{
	for (size_t i = 0; i < cat->count; i++) {
		free(cat->members[i].name);
		free(cat->members[i].group);
	}
	free(cat->members);
	free(cat->by_name);
	memset(cat, 0, sizeof(*cat));
}
