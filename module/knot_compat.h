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
