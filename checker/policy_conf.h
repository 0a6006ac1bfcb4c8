/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief The policy of one mod-mxguard section of a knot.conf, read with
 *        libknot's configuration parser, so that the checker and the server
 *        judge alike.
 */

#pragma once

#include <stddef.h>

#include "policy.h"

/*! A policy read from a configuration file. */
typedef struct {
	mx_policy_t policy;       /*!< Its allow points into \a allow. */
	mx_addr_range_t *allow;
	size_t allow_count;
} policy_conf_t;

/*!
 * \brief Reads the actions and allow-address of the mod-mxguard section
 *        with the given id; kinds it does not name keep the default (log),
 *        other items are ignored.
 *
 * \param conf     Output (cleared with policy_conf_clear()).
 * \param path     The knot.conf.
 * \param id       The section's id.
 * \param err      The message on failure, e.g.
 *                 "knot.conf:8: mod-mxguard[a]: invalid value 'stirp' of
 *                 item 'ip-literal' (expected off, log, strip or null-mx)".
 *
 * \retval KNOT_EOK         Read.
 * \retval KNOT_EFILE       Unreadable file.
 * \retval KNOT_EPARSEFAIL  Not a valid configuration file.
 * \retval KNOT_EINVAL      A bad value of an item the checker uses.
 * \retval KNOT_ENOENT      No section with this id.
 * \retval KNOT_ENOMEM      Out of memory.
 */
int policy_conf_load(policy_conf_t *conf, const char *path, const char *id,
                     char *err, size_t err_len);

/*! \brief Frees what policy_conf_load() allocated. */
void policy_conf_clear(policy_conf_t *conf);
