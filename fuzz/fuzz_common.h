/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Shared by the libFuzzer harnesses: a byte reader over the input, a
 * per-run arena standing in for knotd's per-query memory pool, and a check
 * that aborts (so libFuzzer records a crash) when an invariant fails.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libknot/libknot.h>

#define FUZZ_ASSERT(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* Input bytes, read front to back; reads past the end give zeroes. */
typedef struct {
	const uint8_t *data;
	size_t left;
} fuzz_reader_t;

static inline uint8_t fuzz_u8(fuzz_reader_t *r)
{
	if (r->left == 0) {
		return 0;
	}
	r->left--;
	return *r->data++;
}

static inline uint16_t fuzz_u16(fuzz_reader_t *r)
{
	uint16_t hi = fuzz_u8(r);
	return (uint16_t)(hi << 8 | fuzz_u8(r));
}

static inline bool fuzz_bytes(fuzz_reader_t *r, uint8_t *out, size_t len)
{
	if (r->left < len) {
		return false;
	}
	memcpy(out, r->data, len);
	r->data += len;
	r->left -= len;
	return true;
}

/* An uncompressed wire name; false when the input holds none. */
static inline bool fuzz_dname(fuzz_reader_t *r, knot_dname_storage_t out)
{
	int len = knot_dname_wire_check(r->data, r->data + r->left, NULL);
	if (len <= 0) {
		return false;
	}
	memcpy(out, r->data, len);
	r->data += len;
	r->left -= len;
	return true;
}

/* Memory freed all at once at the end of a run, like knotd's query pool. */
typedef struct fuzz_block {
	struct fuzz_block *next;
	max_align_t data[];
} fuzz_block_t;

static inline void *fuzz_arena_alloc(void *ctx, size_t len)
{
	fuzz_block_t **head = ctx;
	fuzz_block_t *b = malloc(sizeof(*b) + len);
	if (b == NULL) {
		return NULL;
	}
	b->next = *head;
	*head = b;
	return b->data;
}

static inline void fuzz_arena_free(fuzz_block_t **head)
{
	while (*head != NULL) {
		fuzz_block_t *next = (*head)->next;
		free(*head);
		*head = next;
	}
}

/* knot_mm_t over the arena: free is a no-op, as in knotd's mempool. */
static inline knot_mm_t fuzz_arena_mm(fuzz_block_t **head)
{
	return (knot_mm_t) { .ctx = head, .alloc = fuzz_arena_alloc, .free = NULL };
}
