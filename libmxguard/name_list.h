/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief Lists of names and subtrees (no-mail lists), loaded once, matched
 *        by many threads.
 *
 * One entry a line; blank lines and '#' comments (whole-line or after the
 * entry) are allowed, surrounding whitespace is ignored:
 *
 *   name.example.com     that name (the trailing dot is optional)
 *   *.example.com        every name strictly below example.com
 *   .                    the root
 *   *.                   every name, the root included
 *
 * '*' is a wildcard only as the whole first label; '\*' is a literal label.
 * Names are matched case-insensitively. Matching costs one hash lookup per
 * label of the name, whatever the size of the list; after loading, the list
 * is read-only and any number of threads may match concurrently.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libknot/dname.h>

/*! A list of names and subtrees. */
typedef struct mx_name_list mx_name_list_t;

/*! \brief Case-insensitive hash of a wire-format name. */
uint32_t mx_dname_hash(const knot_dname_t *name);

/*! \brief Creates an empty list (NULL when out of memory). */
mx_name_list_t *mx_name_list_new(void);

/*! \brief Frees the list (NULL is fine). */
void mx_name_list_free(mx_name_list_t *list);

/*!
 * \brief Adds one entry in the list syntax (a trailing comment is allowed).
 *
 * \param list  The list.
 * \param text  The entry.
 * \param err   Set to the reason on KNOT_EINVAL ("empty label", ...); may be NULL.
 *
 * \retval KNOT_EOK      Added (or already there).
 * \retval KNOT_EINVAL   Malformed entry.
 * \retval KNOT_ENOMEM   Out of memory.
 */
int mx_name_list_add(mx_name_list_t *list, const char *text, const char **err);

/*!
 * \brief Adds every entry of a file.
 *
 * Stops at the first malformed line. \a err receives the whole message,
 * e.g. "PATH:3: invalid name 'x..y': empty label" or
 * "PATH: No such file or directory".
 *
 * \retval KNOT_EOK      All entries added.
 * \retval KNOT_EINVAL   A malformed line.
 * \retval KNOT_EFILE    The file cannot be read.
 * \retval KNOT_ENOMEM   Out of memory.
 */
int mx_name_list_load(mx_name_list_t *list, const char *path, char *err,
                      size_t err_len);

/*! \brief Tells whether the list names \a name or a subtree holding it. */
bool mx_name_list_match(const mx_name_list_t *list, const knot_dname_t *name);

/*!
 * \brief Calls \a cb for each name listed as it is (not the subtrees), in
 *        lower case, in no particular order.
 */
void mx_name_list_foreach_name(const mx_name_list_t *list,
                               void (*cb)(const knot_dname_t *name, void *ctx), void *ctx);

/*!
 * \brief Tells whether a listed subtree meets \a zone: its top is in the
 *        zone, or the zone lies within it. Such members are not listed one
 *        by one, so nothing outside the zone can name them all.
 */
bool mx_name_list_subtree_meets(const mx_name_list_t *list, const knot_dname_t *zone);

/*!
 * \brief Tells whether a listed name lies strictly below \a name (lower
 *        case), a listed subtree holds names below it, or \a name is in a
 *        listed subtree: whether "*.NAME" can stand for a listed name.
 */
bool mx_name_list_below(const mx_name_list_t *list, const knot_dname_t *name);

/*! \brief Number of distinct entries (names and subtrees). */
size_t mx_name_list_count(const mx_name_list_t *list);
