/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief Knot's DNSSEC library, through this one header.
 *
 * Knot 3.2 to 3.5 ship it as libdnssec: headers <libdnssec/…>, its own
 * library (-ldnssec, pkg-config libdnssec) and its own error codes
 * (DNSSEC_E*, libdnssec/error.h). Knot's development branch (3.6 to be)
 * merged it into libknot: the same functions and types under
 * <libknot/dnssec/…>, no libdnssec library, and KNOT_E* error codes
 * (libdnssec/error.h is gone). Every file of mxguard reaches it through
 * this header, which picks the layout it finds; mxguard's code compares
 * results with MX_DNSSEC_E*. The build's side: configure.ac (the library
 * check) and fuzz/run (pkg-config), which take either layout too.
 *
 * Knotd-free, like the rest of libmxguard (module/knot_compat.h is the
 * adapter's).
 */

#pragma once

#if defined(__has_include)
#if __has_include(<libknot/dnssec/key.h>)
#define MX_DNSSEC_IN_LIBKNOT 1
#endif
#endif

#ifdef MX_DNSSEC_IN_LIBKNOT

// Knot 3.6 and later: libdnssec is part of libknot.
#include <libknot/dnssec/binary.h>
#include <libknot/dnssec/crypto.h>
#include <libknot/dnssec/key.h>
#include <libknot/dnssec/keystore.h>
#include <libknot/dnssec/keytag.h>
#include <libknot/dnssec/nsec.h>
#include <libknot/dnssec/sign.h>
#include <libknot/errcode.h>

#define MX_DNSSEC_EOK    KNOT_EOK
#define MX_DNSSEC_ENOENT KNOT_ENOENT

#else

// Knot 3.2 to 3.5: libdnssec on its own.
#include <libdnssec/binary.h>
#include <libdnssec/crypto.h>
#include <libdnssec/error.h>
#include <libdnssec/key.h>
#include <libdnssec/keystore.h>
#include <libdnssec/keytag.h>
#include <libdnssec/nsec.h>
#include <libdnssec/sign.h>

#define MX_DNSSEC_EOK    DNSSEC_EOK
#define MX_DNSSEC_ENOENT DNSSEC_ENOENT

#endif
