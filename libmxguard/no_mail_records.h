/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief The records that say "no mail goes out" beside a null MX: SPF
 *        ("v=spf1 -all" at the name), DMARC (at _dmarc.NAME) and an empty
 *        DKIM key (at SELECTOR._domainkey.NAME), as GOV.UK, CISA BOD 18-01,
 *        internet.nl and checkdmarc ask of a domain that sends no mail.
 *
 * Which name a query is about, the records' data, and whether a zone's own
 * SPF or DMARC record lets mail through. Nothing here talks to knotd.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libknot/dname.h>
#include <libknot/rdata.h>

/*! The SPF record of a no-mail name. */
#define MX_NO_MAIL_SPF "v=spf1 -all"
/*! The empty DKIM key (RFC 6376 §3.6.1: a revoked key). */
#define MX_NO_MAIL_DKIM "v=DKIM1; p="

/*! What a query name is to a no-mail name N. */
typedef enum {
	MX_NO_MAIL_NONE = 0,   /*!< None of these. */
	MX_NO_MAIL_NAME,       /*!< N itself. */
	MX_NO_MAIL_DMARC,      /*!< _dmarc.N */
	MX_NO_MAIL_DKIM_TOP,   /*!< _domainkey.N */
	MX_NO_MAIL_DKIM_KEY,   /*!< SELECTOR._domainkey.N (one label). */
} mx_no_mail_role_t;

/*!
 * \brief What \a qname (lower case, uncompressed) is about, and the name N
 *        it is about (a suffix of \a qname).
 */
mx_no_mail_role_t mx_no_mail_role(const knot_dname_t *qname, const knot_dname_t **name);

/*! \brief Tells whether the first label of \a name starts with '_' (RFC
 *         8552 attribute leaves are never no-mail names themselves). */
bool mx_dname_underscored(const knot_dname_t *name);

/*! \brief Tells whether \a name is at or below an attribute leaf: a label of
 *         it starts with '_' (_dmarc.N, SELECTOR._domainkey.N, x._tcp.N).
 *         Such a name is never a no-mail name (RFC 8552: the name belongs
 *         to the attribute). */
bool mx_dname_attribute(const knot_dname_t *name);

/*!
 * \brief TXT rdata of one character-string.
 *
 * \return Its size, or 0 when \a text is longer than 255 or \a max is short.
 */
size_t mx_txt_rdata(const char *text, uint8_t *out, size_t max);

/*! What a TXT record is: an SPF record, a DMARC record, neither. */
typedef enum {
	MX_TXT_OTHER = 0,
	MX_TXT_SPF,
	MX_TXT_DMARC,
} mx_txt_kind_t;

/*! \brief The kind of TXT rdata (its character-strings joined). */
mx_txt_kind_t mx_txt_kind(const knot_rdata_t *rd);

/*!
 * \brief Tells whether an SPF record lets no mail through: "v=spf1", an
 *        optional exp= modifier, then "-all" alone (internet.nl's rule).
 */
bool mx_spf_denies_all(const knot_rdata_t *rd);

/*! \brief Tells whether a DMARC record rejects: "v=DMARC1;" then p=reject
 *         as the first tag (internet.nl's rule). */
bool mx_dmarc_rejects(const knot_rdata_t *rd);
