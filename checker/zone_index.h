/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief A whole zone in memory, as far as the MX rules look at it: names,
 *        their MX records and addresses, and what makes a name an alias or
 *        another server's data (CNAME, DNAME, delegation).
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libknot/dname.h>

#include "address.h"
#include "mx_check.h"

#define ZONE_NONE UINT32_MAX

/*! What a name holds. */
enum {
	ZONE_HAS_SOA   = 1 << 0,
	ZONE_HAS_NS    = 1 << 1,
	ZONE_HAS_CNAME = 1 << 2,
	ZONE_HAS_DNAME = 1 << 3,
	ZONE_HAS_MX    = 1 << 4,
	ZONE_HAS_ADDR  = 1 << 5,  /*!< A or AAAA. */
	ZONE_HAS_DATA  = 1 << 6,  /*!< Any record (not an empty non-terminal). */
	ZONE_NULL_MX   = 1 << 7,  /*!< One of its MX records is a null MX. */
	ZONE_HAS_OTHER = 1 << 8,  /*!< A type other than CNAME, RRSIG and NSEC. */
	ZONE_HAS_TXT   = 1 << 9,  /*!< TXT (only those whose text begins with "v="
	                               are kept: SPF, DMARC, DKIM). */
	ZONE_IN_ZONE   = 1 << 10, /*!< At or below the apex (after finishing). */
};

/*! An MX or TXT record and where it was written. */
typedef struct {
	uint32_t next;          /*!< Next record of the same name and type, or ZONE_NONE. */
	uint32_t line;
	uint16_t file;
	uint16_t rdlen;
	const uint8_t *rdata;
} zone_mx_t;

/*! An A or AAAA record and where it was written. */
typedef struct {
	uint32_t next;
	uint32_t line;
	uint16_t file;
	mx_addr_t addr;
} zone_addr_t;

/*! A name of the zone. */
typedef struct {
	const knot_dname_t *name;  /*!< As first written. */
	uint32_t parent;           /*!< Parent node (after finishing), or ZONE_NONE. */
	uint32_t mx_head, mx_tail;
	uint32_t addr_head, addr_tail;
	uint32_t txt_head;         /*!< TXT records kept (zone_index_mx()), the
	                                last written first. */
	uint32_t line;             /*!< Its first record. */
	uint16_t file;
	uint16_t flags;
} zone_node_t;

typedef struct zone_index zone_index_t;

/*! \brief Creates an empty index (NULL when out of memory). */
zone_index_t *zone_index_new(void);

/*! \brief Frees the index (NULL is fine). */
void zone_index_free(zone_index_t *idx);

/*!
 * \brief Registers a file name records may refer to.
 *
 * \return Its number, or -1 when out of memory or too many files.
 */
int zone_index_add_file(zone_index_t *idx, const char *path);

/*! \brief Number of registered files. */
size_t zone_index_file_count(const zone_index_t *idx);

/*! \brief Name of a registered file. */
const char *zone_index_file(const zone_index_t *idx, uint16_t file);

/*!
 * \brief Adds a record (only the rdata of MX, A, AAAA and of TXT whose text
 *        begins with "v=" is kept).
 *
 * \retval KNOT_EOK, KNOT_EMALF (bad rdata), KNOT_ENOMEM.
 */
int zone_index_add(zone_index_t *idx, const knot_dname_t *owner, uint16_t type,
                   const uint8_t *rdata, uint16_t rdlen, uint16_t file, uint32_t line);

/*!
 * \brief Fixes the apex and links every name of the zone to its parent,
 *        adding the empty non-terminals. Records outside the apex stay in
 *        the index without ZONE_IN_ZONE. Call once, after the last add.
 */
int zone_index_finish(zone_index_t *idx, const knot_dname_t *apex);

/*! \brief The apex (after finishing). */
const knot_dname_t *zone_index_apex(const zone_index_t *idx);

/*! \brief Number of nodes, in the order their names first appeared. */
size_t zone_index_count(const zone_index_t *idx);

/*! \brief A node by its number. */
const zone_node_t *zone_index_node(const zone_index_t *idx, uint32_t i);

/*! \brief An MX or TXT record by its number. */
const zone_mx_t *zone_index_mx(const zone_index_t *idx, uint32_t i);

/*! \brief An address record by its number. */
const zone_addr_t *zone_index_addr(const zone_index_t *idx, uint32_t i);

/*! \brief The minimum (last field) of the first SOA record, 0 without one. */
uint32_t zone_index_soa_minimum(const zone_index_t *idx);

/*! \brief Tells whether a name is at or below the apex (any case; after finishing). */
bool zone_index_in_zone(const zone_index_t *idx, const knot_dname_t *name);

/*! \brief The node of a name (any case), or NULL. */
const zone_node_t *zone_index_find(const zone_index_t *idx, const knot_dname_t *name);

/*!
 * \brief Tells whether the zone's server answers for the node with its data:
 *        in the zone, not at or below a delegation, not below a DNAME.
 */
bool zone_index_authoritative(const zone_index_t *idx, const zone_node_t *node);

/*!
 * \brief The exact lookup of an exchange (an mx_lookup_f; \a ctx is the index).
 *
 * FOUND with every A/AAAA address of the name (of the wildcard that covers
 * it; none for an empty non-terminal or a name that does not exist), CNAME
 * for an alias, UNKNOWN outside the zone, at or below a delegation and
 * strictly below a DNAME (a DNAME at the name itself does not count). The
 * addresses stay valid until the next lookup; not for concurrent use.
 */
void zone_index_lookup(const knot_dname_t *exchange, mx_target_t *target, void *ctx);

/*!
 * \brief Tells whether the zone has a node for a name, or a wildcard that
 *        covers it, wherever it lies (below a delegation or a DNAME too):
 *        what knotd finds for the name when it lists an answer's glue.
 *
 * Empty non-terminals are nodes. False outside the zone.
 */
bool zone_index_has_name(const zone_index_t *idx, const knot_dname_t *name);

/*!
 * \brief The node whose records answer a query for a name: its own, or the
 *        wildcard that covers it; NULL when there is none (NXDOMAIN).
 *
 * \param elsewhere  Set when the answer is not the zone's data of the name:
 *                   outside the zone, at or below a delegation, strictly
 *                   below a DNAME, or a CNAME (own or wildcard; the node is
 *                   returned).
 */
const zone_node_t *zone_index_answer(const zone_index_t *idx, const knot_dname_t *name,
                                     bool *elsewhere);
