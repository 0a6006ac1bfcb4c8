/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * What the ThreadSanitizer stresses share: a check that ends the run, and
 * their command line "[THREADS [ROUNDS [HITS]]]".
 */

#pragma once

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		exit(1); \
	} \
} while (0)

typedef struct {
	unsigned threads;
	unsigned rounds;
	unsigned hits;
} stress_args_t;

// The arguments given, the defaults for the others.
static inline stress_args_t stress_args(int argc, char **argv, stress_args_t defaults)
{
	stress_args_t a = {
		argc > 1 ? (unsigned)atoi(argv[1]) : defaults.threads,
		argc > 2 ? (unsigned)atoi(argv[2]) : defaults.rounds,
		argc > 3 ? (unsigned)atoi(argv[3]) : defaults.hits,
	};
	CHECK(a.threads > 0 && a.threads <= 1024 && a.rounds > 0 && a.hits > 0);
	return a;
}
