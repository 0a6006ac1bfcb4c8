/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief RCU grace periods made visible to ThreadSanitizer.
 *
 * liburcu is not instrumented, so TSan cannot see that an RCU callback runs
 * after the read-side sections before it: READ_SIDE_END() where a reader is
 * done with what it found (or a writer unpublished something), and
 * AFTER_GRACE_PERIOD() in the callback that frees it, model that for it.
 * Both are nothing outside TSan builds.
 */

#pragma once

#if defined(__SANITIZE_THREAD__)
#define MX_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MX_TSAN 1
#endif
#endif

#ifdef MX_TSAN
#include <sanitizer/tsan_interface.h>
// One for the whole program (weak: defined in every file, linked once), so
// that a caller's READ_SIDE_END() after it has read what a table gave it
// orders its reads before the table's frees too (tests/tsan).
__attribute__((weak)) char mx_tsan_grace_period;
#define READ_SIDE_END() __tsan_release(&mx_tsan_grace_period)
#define AFTER_GRACE_PERIOD() __tsan_acquire(&mx_tsan_grace_period)
#else
#define READ_SIDE_END()
#define AFTER_GRACE_PERIOD()
#endif
