/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief No-mail names of a zone: their SPF and DMARC records judged
 *        (no-mail-policy), and the records a zone would need to say "no
 *        mail" by itself (--no-mail-records).
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "name_list.h"
#include "zone_index.h"

/*! Why a name takes no mail. */
typedef enum {
	NO_MAIL_NOT = 0,
	NO_MAIL_SERVED,  /*!< The module knows it: a lone null MX in the zone, or
	                      the instance's null-mx list or null-mx-implicit. */
	NO_MAIL_LISTED,  /*!< --no-mail only: the module does not know it. */
} no_mail_why_t;

/*! What makes a name of a zone a no-mail name, and what the module serves. */
typedef struct {
	const zone_index_t *idx;
	const mx_name_list_t *served;  /*!< The instance's null-mx list, or NULL. */
	bool implicit;                 /*!< The instance's null-mx-implicit. */
	const mx_name_list_t *listed;  /*!< --no-mail names, or NULL. */
	unsigned records;              /*!< no-mail-records (MX_RECORD_*). */
	const char *dmarc;             /*!< The DMARC record to propose. */
} no_mail_t;

/*!
 * \brief Tells whether a name of the zone takes no mail: its MX RRset is one
 *        MX 0 ., or a list names it, or null-mx-implicit covers it. Never a
 *        name whose first label begins with '_' (RFC 8552 attribute leaves)
 *        or is '*', a CNAME, an empty non-terminal, or a name the server
 *        does not answer for with the zone's data.
 */
no_mail_why_t no_mail_name(const no_mail_t *nm, const zone_node_t *node);

/*! A no-mail-policy finding: a record missing or letting mail through. */
typedef struct {
	const char *record;   /*!< "spf" or "dmarc". */
	char detail[192];     /*!< "spf missing", "dmarc '...' is not p=reject", ... */
	uint16_t file;        /*!< Where: the record at fault, else the name's */
	uint32_t line;        /*!< first record. */
} no_mail_finding_t;

/*!
 * \brief Judges the SPF record of a no-mail name and the DMARC record at
 *        _dmarc.NAME. A missing record is a finding unless the module
 *        serves it (\a why NO_MAIL_SERVED, the record in no-mail-records,
 *        and for DMARC no TXT at _dmarc.NAME); a record that is not -all
 *        (SPF) or p=reject (DMARC), or two of them, always is.
 *
 * \return The number of findings written to \a out (0 to 2).
 */
size_t no_mail_judge(const no_mail_t *nm, const zone_node_t *node, no_mail_why_t why,
                     no_mail_finding_t out[2]);

/*! A record a no-mail name needs, or why it cannot be added. */
typedef struct {
	const char *record;   /*!< "null-mx", "spf", "dmarc" or "dkim". */
	char text[2 * KNOT_DNAME_TXT_MAXLEN + 1024];  /*!< The zone-file line; or,
	                                                  for a warning, why none. */
	bool warning;         /*!< The zone has a record that must be changed
	                           instead (\a text says which). */
	uint16_t file;        /*!< A warning's record. */
	uint32_t line;
} no_mail_rr_t;

/*!
 * \brief The zone-file lines a no-mail name lacks: "N. TTL IN MX 0 .",
 *        "N. TTL IN TXT \"v=spf1 -all\"", "_dmarc.N. TTL IN TXT \"DMARC\"",
 *        "*._domainkey.N. TTL IN TXT \"v=DKIM1; p=\"", each unless the zone
 *        has it; warnings where the zone's own record is in the way (MX
 *        records to replace, an SPF or DMARC record to change, a CNAME or a
 *        delegation at _dmarc.N).
 *
 * \return The number of entries written to \a out (0 to 4).
 */
size_t no_mail_needs(const no_mail_t *nm, const zone_node_t *node, uint32_t ttl,
                     no_mail_rr_t out[4]);
