/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdlib.h>
#include <string.h>
#include <libknot/descriptor.h>
#include <libknot/errcode.h>
#include <libknot/rrtype/rdname.h>
#include <libknot/wire.h>

#include "name_list.h"
#include "zone_index.h"

#define ARENA_BLOCK (1 << 20)
#define MAX_FILES UINT16_MAX

// A block of the arena: names and rdata never move once stored.
typedef struct arena_block {
	struct arena_block *prev;
	size_t used;
	size_t size;
	uint8_t data[];
} arena_block_t;

typedef struct {
	uint32_t hash;
	uint32_t node;  // Node number plus one; 0 = empty.
} slot_t;

struct zone_index {
	zone_node_t *nodes;
	size_t node_count, node_cap;
	zone_mx_t *mxs;          // MX and TXT records kept.
	size_t mx_count, mx_cap;
	zone_addr_t *addrs;
	size_t addr_count, addr_cap;
	slot_t *slots;
	size_t slot_cap;
	arena_block_t *arena;
	char **files;
	size_t file_count;
	const knot_dname_t *apex;
	uint32_t apex_node;
	mx_addr_t *scratch;      // The addresses of the last lookup.
	size_t scratch_cap;
	uint32_t soa_minimum;    // Of the first SOA record.
	bool have_soa;
};

static void *arena_alloc(zone_index_t *idx, size_t len)
{
	arena_block_t *block = idx->arena;
	if (block == NULL || block->size - block->used < len) {
		size_t size = len > ARENA_BLOCK ? len : ARENA_BLOCK;
		block = malloc(sizeof(*block) + size);
		if (block == NULL) {
			return NULL;
		}
		block->prev = idx->arena;
		block->used = 0;
		block->size = size;
		idx->arena = block;
	}
	void *ptr = block->data + block->used;
	block->used += len;
	return ptr;
}

// Makes room for one more item in a growing array.
static bool reserve(void **items, size_t *cap, size_t count, size_t item_size)
{
	if (count < *cap) {
		return true;
	}
	size_t new_cap = *cap == 0 ? 1024 : *cap * 2;
	if (new_cap >= ZONE_NONE) {
		return false;
	}
	void *grown = realloc(*items, new_cap * item_size);
	if (grown == NULL) {
		return false;
	}
	*items = grown;
	*cap = new_cap;
	return true;
}

zone_index_t *zone_index_new(void)
{
	return calloc(1, sizeof(zone_index_t));
}

void zone_index_free(zone_index_t *idx)
{
	if (idx == NULL) {
		return;
	}
	while (idx->arena != NULL) {
		arena_block_t *prev = idx->arena->prev;
		free(idx->arena);
		idx->arena = prev;
	}
	for (size_t i = 0; i < idx->file_count; i++) {
		free(idx->files[i]);
	}
	free(idx->files);
	free(idx->nodes);
	free(idx->mxs);
	free(idx->addrs);
	free(idx->slots);
	free(idx->scratch);
	free(idx);
}

int zone_index_add_file(zone_index_t *idx, const char *path)
{
	if (idx->file_count >= MAX_FILES) {
		return -1;
	}
	char **files = realloc(idx->files, (idx->file_count + 1) * sizeof(*files));
	if (files == NULL) {
		return -1;
	}
	idx->files = files;
	files[idx->file_count] = strdup(path);
	if (files[idx->file_count] == NULL) {
		return -1;
	}
	return (int)idx->file_count++;
}

size_t zone_index_file_count(const zone_index_t *idx)
{
	return idx->file_count;
}

const char *zone_index_file(const zone_index_t *idx, uint16_t file)
{
	return file < idx->file_count ? idx->files[file] : "?";
}

// The slot of a name: its own, or the empty one it would take.
static slot_t *find_slot(const zone_index_t *idx, const knot_dname_t *name,
                         uint32_t hash)
{
	size_t mask = idx->slot_cap - 1;
	for (size_t i = hash & mask; ; i = (i + 1) & mask) {
		slot_t *slot = &idx->slots[i];
		if (slot->node == 0 ||
		    (slot->hash == hash &&
		     knot_dname_is_case_equal(idx->nodes[slot->node - 1].name, name))) {
			return slot;
		}
	}
}

static bool grow_slots(zone_index_t *idx)
{
	size_t cap = idx->slot_cap == 0 ? 4096 : idx->slot_cap * 2;
	slot_t *slots = calloc(cap, sizeof(*slots));
	if (slots == NULL) {
		return false;
	}
	for (size_t i = 0; i < idx->slot_cap; i++) {
		if (idx->slots[i].node == 0) {
			continue;
		}
		size_t j = idx->slots[i].hash & (cap - 1);
		while (slots[j].node != 0) {
			j = (j + 1) & (cap - 1);
		}
		slots[j] = idx->slots[i];
	}
	free(idx->slots);
	idx->slots = slots;
	idx->slot_cap = cap;
	return true;
}

static uint32_t find_node(const zone_index_t *idx, const knot_dname_t *name)
{
	if (idx->slot_cap == 0) {
		return ZONE_NONE;
	}
	slot_t *slot = find_slot(idx, name, mx_dname_hash(name));
	return slot->node == 0 ? ZONE_NONE : slot->node - 1;
}

// The node of a name, added (with no records) when it is not there yet.
static uint32_t get_node(zone_index_t *idx, const knot_dname_t *name,
                         uint16_t file, uint32_t line)
{
	if ((idx->node_count + 1) * 2 > idx->slot_cap && !grow_slots(idx)) {
		return ZONE_NONE;
	}
	uint32_t hash = mx_dname_hash(name);
	slot_t *slot = find_slot(idx, name, hash);
	if (slot->node != 0) {
		return slot->node - 1;
	}

	if (!reserve((void **)&idx->nodes, &idx->node_cap, idx->node_count,
	             sizeof(zone_node_t))) {
		return ZONE_NONE;
	}
	size_t size = knot_dname_size(name);
	knot_dname_t *copy = arena_alloc(idx, size);
	if (copy == NULL) {
		return ZONE_NONE;
	}
	memcpy(copy, name, size);

	uint32_t n = (uint32_t)idx->node_count++;
	idx->nodes[n] = (zone_node_t) {
		.name = copy,
		.parent = ZONE_NONE,
		.mx_head = ZONE_NONE, .mx_tail = ZONE_NONE,
		.addr_head = ZONE_NONE, .addr_tail = ZONE_NONE,
		.txt_head = ZONE_NONE,
		.line = line,
		.file = file,
	};
	slot->hash = hash;
	slot->node = n + 1;
	return n;
}

// Keeps a record's rdata in a name's list of MX or TXT records: at its end,
// or at its start without \a tail.
static int keep_rdata(zone_index_t *idx, uint32_t *head, uint32_t *tail,
                      const uint8_t *rdata, uint16_t rdlen, uint16_t file, uint32_t line)
{
	if (!reserve((void **)&idx->mxs, &idx->mx_cap, idx->mx_count, sizeof(zone_mx_t))) {
		return KNOT_ENOMEM;
	}
	uint8_t *copy = arena_alloc(idx, rdlen);
	if (copy == NULL && rdlen > 0) {
		return KNOT_ENOMEM;
	}
	memcpy(copy, rdata, rdlen);

	uint32_t i = (uint32_t)idx->mx_count++;
	idx->mxs[i] = (zone_mx_t) {
		.next = ZONE_NONE, .line = line, .file = file, .rdlen = rdlen, .rdata = copy,
	};
	if (tail == NULL) {
		idx->mxs[i].next = *head;
		*head = i;
	} else if (*tail == ZONE_NONE) {
		*head = *tail = i;
	} else {
		idx->mxs[*tail].next = i;
		*tail = i;
	}
	return KNOT_EOK;
}

static int add_mx(zone_index_t *idx, zone_node_t *node, const uint8_t *rdata,
                  uint16_t rdlen, uint16_t file, uint32_t line)
{
	// Preference, then one whole uncompressed name.
	if (rdlen < 3 || knot_dname_wire_check(rdata + 2, rdata + rdlen, NULL) !=
	                 rdlen - 2) {
		return KNOT_EMALF;
	}
	int ret = keep_rdata(idx, &node->mx_head, &node->mx_tail, rdata, rdlen, file, line);
	if (ret != KNOT_EOK) {
		return ret;
	}
	node->flags |= ZONE_HAS_MX;
	if (rdata[2] == '\0') {
		node->flags |= ZONE_NULL_MX;
	}
	return KNOT_EOK;
}

// Keeps the TXT records whose text (the strings joined) begins with "v=":
// SPF, DMARC and DKIM records; a zone's other TXT records are not kept.
static int add_txt(zone_index_t *idx, zone_node_t *node, const uint8_t *rdata,
                   uint16_t rdlen, uint16_t file, uint32_t line)
{
	node->flags |= ZONE_HAS_TXT;
	char head[2];
	size_t got = 0;
	for (size_t pos = 0; pos < rdlen && got < sizeof(head); ) {
		size_t len = rdata[pos++];
		for (size_t k = 0; k < len && pos + k < rdlen && got < sizeof(head); k++) {
			head[got++] = (char)rdata[pos + k];
		}
		pos += len;
	}
	if (got < sizeof(head) || (head[0] != 'v' && head[0] != 'V') || head[1] != '=') {
		return KNOT_EOK;
	}
	// No tail: a node stays 40 octets.
	return keep_rdata(idx, &node->txt_head, NULL, rdata, rdlen, file, line);
}

static int add_addr(zone_index_t *idx, zone_node_t *node, const uint8_t *rdata,
                    uint16_t rdlen, uint16_t file, uint32_t line)
{
	mx_addr_t addr;
	if (!mx_addr_from_rdata(&addr, rdata, rdlen)) {
		return KNOT_EMALF;
	}
	if (!reserve((void **)&idx->addrs, &idx->addr_cap, idx->addr_count,
	             sizeof(zone_addr_t))) {
		return KNOT_ENOMEM;
	}
	uint32_t i = (uint32_t)idx->addr_count++;
	idx->addrs[i] = (zone_addr_t) {
		.next = ZONE_NONE, .line = line, .file = file, .addr = addr,
	};
	if (node->addr_tail == ZONE_NONE) {
		node->addr_head = i;
	} else {
		idx->addrs[node->addr_tail].next = i;
	}
	node->addr_tail = i;
	node->flags |= ZONE_HAS_ADDR;
	return KNOT_EOK;
}

int zone_index_add(zone_index_t *idx, const knot_dname_t *owner, uint16_t type,
                   const uint8_t *rdata, uint16_t rdlen, uint16_t file, uint32_t line)
{
	if (idx == NULL || owner == NULL || idx->apex != NULL) {
		return KNOT_EINVAL;
	}
	uint32_t n = get_node(idx, owner, file, line);
	if (n == ZONE_NONE) {
		return KNOT_ENOMEM;
	}
	zone_node_t *node = &idx->nodes[n];
	if (!(node->flags & ZONE_HAS_DATA)) {
		// First record of a name seen so far only as a parent.
		node->line = line;
		node->file = file;
	}
	node->flags |= ZONE_HAS_DATA;
	// What may not stand beside a CNAME (RFC 1034 3.6.2, DNSSEC aside).
	if (type != KNOT_RRTYPE_CNAME && type != KNOT_RRTYPE_RRSIG &&
	    type != KNOT_RRTYPE_NSEC) {
		node->flags |= ZONE_HAS_OTHER;
	}

	switch (type) {
	case KNOT_RRTYPE_SOA:
		node->flags |= ZONE_HAS_SOA;
		// The minimum is the last field; the first SOA is the zone's.
		if (!idx->have_soa && rdlen >= 4) {
			idx->soa_minimum = knot_wire_read_u32(rdata + rdlen - 4);
			idx->have_soa = true;
		}
		return KNOT_EOK;
	case KNOT_RRTYPE_NS:
		node->flags |= ZONE_HAS_NS;
		return KNOT_EOK;
	case KNOT_RRTYPE_CNAME:
		node->flags |= ZONE_HAS_CNAME;
		return KNOT_EOK;
	case KNOT_RRTYPE_DNAME:
		node->flags |= ZONE_HAS_DNAME;
		return KNOT_EOK;
	case KNOT_RRTYPE_MX:
		return add_mx(idx, node, rdata, rdlen, file, line);
	case KNOT_RRTYPE_A:
	case KNOT_RRTYPE_AAAA:
		return add_addr(idx, node, rdata, rdlen, file, line);
	case KNOT_RRTYPE_TXT:
		return add_txt(idx, node, rdata, rdlen, file, line);
	default:
		return KNOT_EOK;
	}
}

// Labels of \a name below \a apex (0 for the apex itself), or -1 outside it.
static int depth_below(const knot_dname_t *name, const knot_dname_t *apex)
{
	size_t name_labels = knot_dname_labels(name, NULL);
	size_t apex_labels = knot_dname_labels(apex, NULL);
	if (name_labels < apex_labels) {
		return -1;
	}
	for (size_t i = apex_labels; i < name_labels; i++) {
		name += name[0] + 1;
	}
	if (!knot_dname_is_case_equal(name, apex)) {
		return -1;
	}
	return (int)(name_labels - apex_labels);
}

int zone_index_finish(zone_index_t *idx, const knot_dname_t *apex)
{
	if (idx == NULL || apex == NULL || idx->apex != NULL) {
		return KNOT_EINVAL;
	}
	uint32_t a = get_node(idx, apex, 0, 0);
	if (a == ZONE_NONE) {
		return KNOT_ENOMEM;
	}
	idx->apex_node = a;
	idx->apex = idx->nodes[a].name;

	// Nodes added here (empty non-terminals) are linked in their turn.
	for (size_t i = 0; i < idx->node_count; i++) {
		const knot_dname_t *name = idx->nodes[i].name;
		int depth = depth_below(name, idx->apex);
		if (depth < 0) {
			continue;
		}
		idx->nodes[i].flags |= ZONE_IN_ZONE;
		if (depth == 0) {
			continue;
		}
		const knot_dname_t *parent_name = name + name[0] + 1;
		uint32_t parent = get_node(idx, parent_name, 0, 0);
		if (parent == ZONE_NONE) {
			return KNOT_ENOMEM;
		}
		idx->nodes[i].parent = parent;
	}
	return KNOT_EOK;
}

const knot_dname_t *zone_index_apex(const zone_index_t *idx)
{
	return idx->apex;
}

size_t zone_index_count(const zone_index_t *idx)
{
	return idx->node_count;
}

const zone_node_t *zone_index_node(const zone_index_t *idx, uint32_t i)
{
	return i < idx->node_count ? &idx->nodes[i] : NULL;
}

const zone_mx_t *zone_index_mx(const zone_index_t *idx, uint32_t i)
{
	return i < idx->mx_count ? &idx->mxs[i] : NULL;
}

const zone_addr_t *zone_index_addr(const zone_index_t *idx, uint32_t i)
{
	return i < idx->addr_count ? &idx->addrs[i] : NULL;
}

uint32_t zone_index_soa_minimum(const zone_index_t *idx)
{
	return idx->soa_minimum;
}

bool zone_index_in_zone(const zone_index_t *idx, const knot_dname_t *name)
{
	return idx->apex != NULL && depth_below(name, idx->apex) >= 0;
}

const zone_node_t *zone_index_find(const zone_index_t *idx, const knot_dname_t *name)
{
	uint32_t n = find_node(idx, name);
	return n == ZONE_NONE ? NULL : &idx->nodes[n];
}

// Tells whether a name at or below \a from lies at or below a delegation or
// strictly below a DNAME: another server's data (or a name the DNAME
// redirects), out of the zone for the rules. \a self is the name's own node
// when it exists (a DNAME there redirects only names below it).
static bool below_cut(const zone_index_t *idx, uint32_t from, uint32_t self)
{
	for (uint32_t n = from; n != ZONE_NONE; n = idx->nodes[n].parent) {
		const zone_node_t *node = &idx->nodes[n];
		if (n != idx->apex_node && (node->flags & ZONE_HAS_NS)) {
			return true;
		}
		if (n != self && (node->flags & ZONE_HAS_DNAME)) {
			return true;
		}
	}
	return false;
}

bool zone_index_authoritative(const zone_index_t *idx, const zone_node_t *node)
{
	if (idx->apex == NULL || !(node->flags & ZONE_IN_ZONE)) {
		return false;
	}
	uint32_t self = (uint32_t)(node - idx->nodes);
	return !below_cut(idx, self, self);
}

static void found(zone_index_t *idx, const zone_node_t *node, mx_target_t *target)
{
	if (node->flags & ZONE_HAS_CNAME) {
		target->state = MX_TARGET_CNAME;
		return;
	}
	target->state = MX_TARGET_FOUND;
	size_t count = 0;
	for (uint32_t i = node->addr_head; i != ZONE_NONE; i = idx->addrs[i].next) {
		if (count == idx->scratch_cap) {
			size_t cap = idx->scratch_cap == 0 ? 16 : idx->scratch_cap * 2;
			mx_addr_t *grown = realloc(idx->scratch, cap * sizeof(*grown));
			if (grown == NULL) {
				break;  // Judge by the addresses that fit.
			}
			idx->scratch = grown;
			idx->scratch_cap = cap;
		}
		idx->scratch[count++] = idx->addrs[i].addr;
	}
	target->addrs = idx->scratch;
	target->addr_count = count;
}

// The node of a name in the zone, or else its closest encloser (the apex at
// worst): \a self is ZONE_NONE when the name has no node, \a encloser_name
// the encloser's name. False for a name outside the zone.
static bool find_encloser(const zone_index_t *idx, const knot_dname_t *name,
                          uint32_t *self, uint32_t *encloser,
                          const knot_dname_t **encloser_name)
{
	if (idx->apex == NULL || depth_below(name, idx->apex) < 0) {
		return false;
	}
	*self = find_node(idx, name);
	*encloser = *self;
	while (*encloser == ZONE_NONE && name[0] != 0) {
		name += name[0] + 1;
		*encloser = find_node(idx, name);
	}
	*encloser_name = name;
	return *encloser != ZONE_NONE && (idx->nodes[*encloser].flags & ZONE_IN_ZONE);
}

// The wildcard child of a node, or ZONE_NONE.
static uint32_t find_wildcard(const zone_index_t *idx, const knot_dname_t *name)
{
	uint8_t wildcard[KNOT_DNAME_MAXLEN + 2] = { 1, '*' };
	size_t size = knot_dname_size(name);
	if (size + 2 > KNOT_DNAME_MAXLEN) {
		return ZONE_NONE;
	}
	memcpy(wildcard + 2, name, size);
	return find_node(idx, wildcard);
}

void zone_index_lookup(const knot_dname_t *exchange, mx_target_t *target, void *ctx)
{
	zone_index_t *idx = ctx;
	target->state = MX_TARGET_UNKNOWN;
	target->addrs = NULL;
	target->addr_count = 0;
	uint32_t self, encloser;
	const knot_dname_t *encloser_name;
	if (idx == NULL || !find_encloser(idx, exchange, &self, &encloser, &encloser_name)) {
		return;
	}
	if (below_cut(idx, encloser, self)) {
		return;
	}
	if (self != ZONE_NONE) {
		found(idx, &idx->nodes[self], target);
		return;
	}

	// No such name: the wildcard child of the closest encloser, if any.
	uint32_t wild = find_wildcard(idx, encloser_name);
	if (wild != ZONE_NONE) {
		found(idx, &idx->nodes[wild], target);
		return;
	}
	// NXDOMAIN: an authoritative name with no address.
	target->state = MX_TARGET_FOUND;
}

bool zone_index_has_name(const zone_index_t *idx, const knot_dname_t *name)
{
	uint32_t self, encloser;
	const knot_dname_t *encloser_name;
	if (idx == NULL || !find_encloser(idx, name, &self, &encloser, &encloser_name)) {
		return false;
	}
	// Cuts do not matter here: knotd keeps the nodes below them as well.
	return self != ZONE_NONE || find_wildcard(idx, encloser_name) != ZONE_NONE;
}

const zone_node_t *zone_index_answer(const zone_index_t *idx, const knot_dname_t *name,
                                     bool *elsewhere)
{
	*elsewhere = true;
	uint32_t self, encloser;
	const knot_dname_t *encloser_name;
	if (idx == NULL || !find_encloser(idx, name, &self, &encloser, &encloser_name) ||
	    below_cut(idx, encloser, self)) {
		return NULL;
	}
	uint32_t n = (self != ZONE_NONE) ? self : find_wildcard(idx, encloser_name);
	if (n == ZONE_NONE) {
		*elsewhere = false;
		return NULL;
	}
	const zone_node_t *node = &idx->nodes[n];
	*elsewhere = (node->flags & ZONE_HAS_CNAME) != 0;
	return node;
}
