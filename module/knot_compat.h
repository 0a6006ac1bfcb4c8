/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief Differences between knotd module ABIs, kept in this one place.
 *
 * 400 = Knot 3.2, 500 = Knot 3.3, 600 = Knot 3.4 and 3.5. knotd loads only a
 * module built for its own ABI, so each build targets the headers it finds.
 */

#pragma once

#include <knot/module.h>

#if KNOTD_MOD_ABI_VERSION < 400 || KNOTD_MOD_ABI_VERSION > 600
#error "mxguard supports knotd module ABI 400 to 600 (Knot 3.2 to 3.5)"
#endif

/*
 * knotd keeps the glue of an RRset in its 'additional' field, a structure of
 * its own that no public header declares. Its layout is the same in Knot
 * 3.2.6, 3.4.6 and 3.5.x (src/knot/zone/node.h: glue_t, additional_t); a
 * reduced MX RRset needs a renumbered copy of it, or knotd serves one
 * exchange's addresses under another's name.
 */
typedef struct {
	const void *node;   // const zone_node_t *
	uint16_t ns_pos;    // position of the record the glue belongs to
	bool optional;
} mxg_glue_t;

typedef struct {
	mxg_glue_t *glues;
	uint16_t count;
} mxg_additional_t;

/*
 * The MX RRset's own glue list holds the nodes of its in-zone exchanges,
 * which knotd found when it loaded the zone: the module reads them in the
 * ANSWER stage, before knotd writes any glue. Knot 3.4 (ABI 600) added
 * knotd_qdata_zone_rrset(): a module can read any node of the zones the
 * server holds, and mod-mxguard judges the exchanges the glue list does not
 * settle (other zones, missing names, delegations) by exact lookups. Older
 * Knot has no such call; there the glue list is all it knows. Either way
 * the answer is judged and rewritten before the glue is written, so knotd
 * writes the glue of the kept exchanges itself, compressed as always.
 */
#define MXG_ZONE_LOOKUP (KNOTD_MOD_ABI_VERSION >= 600)

/*
 * To read a glue node: knotd's zone_node_t and rr_data (src/knot/zone/
 * node.h), up to the fields read, identical in Knot 3.2.6 to 3.5.x. A node
 * may be one half of a bi-node (two nodes side by side, one per zone
 * version); knotd picks the half of the version being served by the half of
 * the query's node (glue_node(), binode_node_as()), which the private part
 * of the query data holds (knotd_qdata_extra_t in src/knot/nameserver/
 * process_query.h: two pointers, two ucw lists of two nodes of two
 * pointers each, one pointer, then the node).
 */
typedef struct {
	uint32_t ttl;
	uint16_t type;
	knot_rdataset_t rrs;
	void *additional;
} mxg_rr_data_t;

typedef struct mxg_node {
	knot_dname_t *owner;
	struct mxg_node *parent;
	mxg_rr_data_t *rrs;
	struct mxg_node *prev;
	void *nsec3;
	knot_dname_t *nsec3_wildcard_name;
	uint32_t children;
	uint16_t rrset_count;
	uint16_t flags;
} mxg_node_t;

#define MXG_NODE_DELEG   (1 << 0)
#define MXG_NODE_NONAUTH (1 << 1)
#define MXG_NODE_BINODE (1 << 8)
#define MXG_NODE_SECOND (1 << 9)

typedef struct {
	void *zone;
	const void *contents;
	void *lists[2 * 2 * 2];  // wildcards, rrsigs
	uint8_t *opt_rr_pos;
	const mxg_node_t *node;
	const mxg_node_t *encloser;  // the closest encloser of a name not found
} mxg_qdata_extra_t;

/*! The half of a glue node that belongs to the zone version being served. */
static inline const mxg_node_t *mxg_glue_node(const mxg_glue_t *glue,
                                              const knotd_qdata_t *qdata)
{
	const mxg_node_t *node = glue->node;
	const mxg_qdata_extra_t *extra = (const mxg_qdata_extra_t *)qdata->extra;
	if (node == NULL || !(node->flags & MXG_NODE_BINODE)) {
		return node;
	}
	if (extra == NULL || extra->node == NULL) {
		return NULL;  // no version to go by
	}
	int as = (extra->node->flags & MXG_NODE_SECOND) ? 1 : 0;
	int is = (node->flags & MXG_NODE_SECOND) ? 1 : 0;
	return node + (as - is);
}

/*! The parent of a node, in the zone version \a qdata is served from. */
static inline const mxg_node_t *mxg_node_parent(const mxg_node_t *node,
                                                const knotd_qdata_t *qdata)
{
	mxg_glue_t up = { .node = node->parent };
	return mxg_glue_node(&up, qdata);
}

/*! The node the answer comes from (a wildcard's own, "*.…", for a name it
 *  stands for), or NULL. */
static inline const mxg_node_t *mxg_answer_node(const knotd_qdata_t *qdata)
{
	const mxg_qdata_extra_t *extra = (const mxg_qdata_extra_t *)qdata->extra;
	return extra != NULL ? extra->node : NULL;
}

/*! The closest encloser of the name knotd did not find (NXDOMAIN), or NULL. */
static inline const mxg_node_t *mxg_answer_encloser(const knotd_qdata_t *qdata)
{
	const mxg_qdata_extra_t *extra = (const mxg_qdata_extra_t *)qdata->extra;
	return extra != NULL ? extra->encloser : NULL;
}
