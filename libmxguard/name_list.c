/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libknot/errcode.h>

#include "hash.h"
#include "name_list.h"

// Open addressing with linear probing; the table is at most this full.
#define LOAD_NUM 7
#define LOAD_DEN 10
#define INITIAL_CAP 64

// A slot: the name's hash and its offset in the arena plus one (0 = empty).
typedef struct {
	uint32_t hash;
	uint32_t off;
} slot_t;

typedef struct {
	slot_t *slots;
	size_t cap;    // A power of two, or 0.
	size_t count;
} name_set_t;

struct mx_name_list {
	name_set_t exact;  // Names listed as they are.
	name_set_t wild;   // Parents of "*.parent" entries.
	name_set_t above;  // Names with an entry strictly below them.
	uint8_t *arena;    // Lowercase wire names, one after the other.
	size_t arena_len;
	size_t arena_cap;
};

static uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

uint32_t mx_dname_hash(const knot_dname_t *name)
{
	return (uint32_t)mx_hash_end(mx_hash_dname_lower(mx_hash_begin(0), name));
}

mx_name_list_t *mx_name_list_new(void)
{
	return calloc(1, sizeof(mx_name_list_t));
}

void mx_name_list_free(mx_name_list_t *list)
{
	if (list == NULL) {
		return;
	}
	free(list->exact.slots);
	free(list->wild.slots);
	free(list->above.slots);
	free(list->arena);
	free(list);
}

bool mx_name_list_subtree_meets(const mx_name_list_t *list, const knot_dname_t *zone)
{
	for (size_t i = 0; list != NULL && i < list->wild.cap; i++) {
		uint32_t off = list->wild.slots[i].off;
		if (off == 0) {
			continue;
		}
		const uint8_t *top = list->arena + off - 1;
		if (knot_dname_in_bailiwick(top, zone) >= 0 ||
		    knot_dname_in_bailiwick(zone, top) > 0) {
			return true;
		}
	}
	return false;
}

size_t mx_name_list_count(const mx_name_list_t *list)
{
	return list == NULL ? 0 : list->exact.count + list->wild.count;
}

void mx_name_list_foreach_name(const mx_name_list_t *list,
                               void (*cb)(const knot_dname_t *name, void *ctx), void *ctx)
{
	for (size_t i = 0; list != NULL && i < list->exact.cap; i++) {
		uint32_t off = list->exact.slots[i].off;
		if (off != 0) {
			cb(list->arena + off - 1, ctx);
		}
	}
}

// Finds the slot of a lowercase name: its own, or the empty one it would take.
static slot_t *set_slot(const name_set_t *set, const uint8_t *arena,
                        const knot_dname_t *name, size_t size, uint32_t hash)
{
	size_t mask = set->cap - 1;
	for (size_t i = hash & mask; ; i = (i + 1) & mask) {
		slot_t *slot = &set->slots[i];
		if (slot->off == 0) {
			return slot;
		}
		if (slot->hash == hash && memcmp(arena + slot->off - 1, name, size) == 0) {
			return slot;
		}
	}
}

static bool set_contains(const name_set_t *set, const uint8_t *arena,
                         const knot_dname_t *name)
{
	if (set->count == 0) {
		return false;
	}
	size_t size = knot_dname_size(name);
	return set_slot(set, arena, name, size, mx_dname_hash(name))->off != 0;
}

static int set_grow(name_set_t *set)
{
	size_t cap = set->cap == 0 ? INITIAL_CAP : set->cap * 2;
	slot_t *slots = calloc(cap, sizeof(*slots));
	if (slots == NULL) {
		return KNOT_ENOMEM;
	}
	for (size_t i = 0; i < set->cap; i++) {
		slot_t *old = &set->slots[i];
		if (old->off == 0) {
			continue;
		}
		size_t j = old->hash & (cap - 1);
		while (slots[j].off != 0) {
			j = (j + 1) & (cap - 1);
		}
		slots[j] = *old;
	}
	free(set->slots);
	set->slots = slots;
	set->cap = cap;
	return KNOT_EOK;
}

static int set_insert(mx_name_list_t *list, name_set_t *set, const knot_dname_t *name)
{
	if ((set->count + 1) * LOAD_DEN > set->cap * LOAD_NUM) {
		int ret = set_grow(set);
		if (ret != KNOT_EOK) {
			return ret;
		}
	}
	size_t size = knot_dname_size(name);
	uint32_t hash = mx_dname_hash(name);
	slot_t *slot = set_slot(set, list->arena, name, size, hash);
	if (slot->off != 0) {
		return KNOT_EOK;
	}

	if (list->arena_len + size > list->arena_cap) {
		size_t cap = list->arena_cap == 0 ? 4096 : list->arena_cap * 2;
		if (cap > UINT32_MAX) {
			return KNOT_ENOMEM;
		}
		uint8_t *arena = realloc(list->arena, cap);
		if (arena == NULL) {
			return KNOT_ENOMEM;
		}
		list->arena = arena;
		list->arena_cap = cap;
	}
	memcpy(list->arena + list->arena_len, name, size);
	slot->hash = hash;
	slot->off = (uint32_t)list->arena_len + 1;
	list->arena_len += size;
	set->count++;
	return KNOT_EOK;
}

// Parses a name in presentation form, relative names taken as absolute,
// into a lowercase wire name; '*' labels are refused (the caller strips a
// leading wildcard first).
static int parse_name(const char *text, size_t len, uint8_t *wire, const char **err)
{
	if (len == 1 && text[0] == '.') {
		wire[0] = 0;
		return KNOT_EOK;
	}

	size_t pos = 0;        // Where the current label's length octet is.
	size_t label_len = 0;
	wire[0] = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)text[i];
		if (c == '.') {
			if (label_len == 0) {
				*err = "empty label";
				return KNOT_EINVAL;
			}
			wire[pos] = (uint8_t)label_len;
			pos += label_len + 1;
			label_len = 0;
			continue;
		}
		if (c == '*') {
			*err = "'*' is allowed only as the whole first label";
			return KNOT_EINVAL;
		}
		if (c == '\\') {
			if (i + 1 >= len) {
				*err = "bad escape";
				return KNOT_EINVAL;
			}
			if (isdigit((unsigned char)text[i + 1])) {
				if (i + 3 >= len || !isdigit((unsigned char)text[i + 2]) ||
				    !isdigit((unsigned char)text[i + 3])) {
					*err = "bad escape";
					return KNOT_EINVAL;
				}
				unsigned val = (text[i + 1] - '0') * 100 + (text[i + 2] - '0') * 10 +
				               (text[i + 3] - '0');
				if (val > 255) {
					*err = "bad escape";
					return KNOT_EINVAL;
				}
				c = (uint8_t)val;
				i += 3;
			} else {
				c = (uint8_t)text[++i];
			}
		}
		if (label_len == KNOT_DNAME_MAXLABELLEN) {
			*err = "label longer than 63 octets";
			return KNOT_EINVAL;
		}
		if (pos + 1 + label_len + 1 >= KNOT_DNAME_MAXLEN) {
			*err = "name longer than 255 octets";
			return KNOT_EINVAL;
		}
		wire[pos + 1 + label_len] = lower(c);
		label_len++;
	}
	if (label_len > 0) {
		wire[pos] = (uint8_t)label_len;
		pos += label_len + 1;
	}
	wire[pos] = 0;
	return KNOT_EOK;
}

// The entry without comment and surrounding whitespace: [*start, *end).
static void entry_bounds(const char *text, const char **start, const char **end)
{
	const char *p = text;
	while (*p != '\0' && isspace((unsigned char)*p)) {
		p++;
	}
	const char *e = p;
	while (*e != '\0' && *e != '#') {
		if (*e == '\\' && e[1] != '\0') {
			e++;
		}
		e++;
	}
	while (e > p && isspace((unsigned char)e[-1])) {
		e--;
	}
	*start = p;
	*end = e;
}

static int add_entry(mx_name_list_t *list, const char *text, size_t len,
                     const char **err)
{
	if (len == 0) {
		*err = "empty entry";
		return KNOT_EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (isspace((unsigned char)text[i])) {
			*err = "more than one name";
			return KNOT_EINVAL;
		}
		if (text[i] == '\\') {
			i++;
		}
	}

	// "*" and "*." are the wildcard of the root; "*.NAME" of NAME.
	bool wildcard = false;
	if (text[0] == '*' && (len == 1 || text[1] == '.')) {
		wildcard = true;
		text += (len == 1) ? 1 : 2;
		len -= (len == 1) ? 1 : 2;
		if (len == 0) {
			text = ".";
			len = 1;
		}
	}

	uint8_t wire[KNOT_DNAME_MAXLEN];
	int ret = parse_name(text, len, wire, err);
	if (ret != KNOT_EOK) {
		return ret;
	}
	// The wildcard label itself must fit too.
	if (wildcard && knot_dname_size(wire) + 2 > KNOT_DNAME_MAXLEN) {
		*err = "name longer than 255 octets";
		return KNOT_EINVAL;
	}
	ret = set_insert(list, wildcard ? &list->wild : &list->exact, wire);
	// What lies above the entry: a subtree's top and its ancestors, a
	// name's ancestors.
	const uint8_t *up = wire;
	if (!wildcard) {
		up = (wire[0] == 0) ? NULL : wire + wire[0] + 1;
	}
	while (ret == KNOT_EOK && up != NULL) {
		ret = set_insert(list, &list->above, up);
		up = (up[0] == 0) ? NULL : up + up[0] + 1;
	}
	if (ret == KNOT_ENOMEM) {
		*err = "out of memory";
	}
	return ret;
}

int mx_name_list_add(mx_name_list_t *list, const char *text, const char **err)
{
	const char *dummy;
	if (err == NULL) {
		err = &dummy;
	}
	if (list == NULL || text == NULL) {
		*err = "no entry";
		return KNOT_EINVAL;
	}
	const char *start, *end;
	entry_bounds(text, &start, &end);
	return add_entry(list, start, end - start, err);
}

int mx_name_list_load(mx_name_list_t *list, const char *path, char *err,
                      size_t err_len)
{
	if (list == NULL || path == NULL) {
		return KNOT_EINVAL;
	}
	FILE *file = fopen(path, "r");
	if (file == NULL) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return KNOT_EFILE;
	}

	int ret = KNOT_EOK;
	char *line = NULL;
	size_t cap = 0;
	unsigned long line_no = 0;
	ssize_t got;
	while ((got = getline(&line, &cap, file)) >= 0) {
		line_no++;
		if (memchr(line, '\0', got) != NULL) {
			snprintf(err, err_len, "%s:%lu: invalid name: NUL character",
			         path, line_no);
			ret = KNOT_EINVAL;
			break;
		}
		const char *start, *end;
		entry_bounds(line, &start, &end);
		if (start == end) {
			continue;  // Blank or comment.
		}
		const char *why = NULL;
		ret = add_entry(list, start, end - start, &why);
		if (ret != KNOT_EOK) {
			snprintf(err, err_len, "%s:%lu: invalid name '%.*s': %s", path,
			         line_no, (int)(end - start), start, why);
			break;
		}
	}
	if (ret == KNOT_EOK && ferror(file)) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		ret = KNOT_EFILE;
	}
	free(line);
	fclose(file);
	return ret;
}

bool mx_name_list_match(const mx_name_list_t *list, const knot_dname_t *name)
{
	if (list == NULL || name == NULL ||
	    list->exact.count + list->wild.count == 0) {
		return false;
	}
	uint8_t lowered[KNOT_DNAME_MAXLEN];
	size_t size = knot_dname_size(name);
	if (size == 0 || size > sizeof(lowered)) {
		return false;
	}
	for (size_t i = 0; i < size; i++) {
		lowered[i] = lower(name[i]);
	}

	if (set_contains(&list->exact, list->arena, lowered)) {
		return true;
	}
	if (list->wild.count == 0) {
		return false;
	}
	// "*." covers the root too: every name.
	if (lowered[0] == 0) {
		return set_contains(&list->wild, list->arena, lowered);
	}
	// Any strict ancestor with a wildcard entry, up to the root.
	const uint8_t *parent = lowered;
	do {
		parent += parent[0] + 1;
		if (set_contains(&list->wild, list->arena, parent)) {
			return true;
		}
	} while (parent[0] != 0);
	return false;
}

bool mx_name_list_below(const mx_name_list_t *list, const knot_dname_t *name)
{
	if (list == NULL) {
		return false;
	}
	if (set_contains(&list->above, list->arena, name)) {
		return true;
	}
	for (const uint8_t *a = name; ; a += a[0] + 1) {
		if (set_contains(&list->wild, list->arena, a)) {
			return true;
		}
		if (a[0] == 0) {
			return false;
		}
	}
}
