/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief No-mail lists shared between module instances configured alike.
 *
 * knotd loads a module once per zone that uses it: a 100,000-name list for
 * 1,000 zones would be read and held 1,000 times. Instances whose items give
 * the same names and the same file (same device, inode, size and change
 * times) share one list, which nobody changes once it is loaded, counted by
 * reference. A file that is not a regular file (a FIFO, say) is not shared.
 */

#pragma once

#include <stddef.h>

#include "name_list.h"

/*!
 * \brief Gives the list of \a names (\a count of them) and the entries of
 *        \a file (NULL: none), shared if an instance holds it already.
 *
 * \param err      Filled with a message naming the item and value on error.
 *
 * \retval KNOT_EOK  \a out holds the list; give it back with
 *                   mx_list_registry_release().
 * \return The error of mx_conf_load_no_mail(), or KNOT_ENOMEM.
 */
int mx_list_registry_acquire(const char *const *names, size_t count, const char *file,
                             const mx_name_list_t **out, char *err, size_t err_len);

/*! \brief Gives a list back; the last holder frees it (NULL is fine). */
void mx_list_registry_release(const mx_name_list_t *list);

/*! \brief Number of distinct lists held now (for tests). */
size_t mx_list_registry_count(void);
