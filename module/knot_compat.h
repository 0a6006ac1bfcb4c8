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
 * Knot 3.4 (ABI 600) added knotd_qdata_zone_rrset(): a module can read any
 * node of the zones the server holds. mod-mxguard then judges exchanges by
 * exact lookups and rewrites in the ANSWER stage, before knotd adds glue;
 * on older Knot it infers from the glue and rewrites in the ADDITIONAL stage.
 */
#define MXG_ZONE_LOOKUP (KNOTD_MOD_ABI_VERSION >= 600)
