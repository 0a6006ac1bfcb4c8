/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Small builders shared by the unit tests: names, MX records and addresses
 * from their text forms. The caller owns the returned memory.
 */

#pragma once

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libknot/libknot.h>

#include "address.h"

static inline knot_dname_t *test_name(const char *text)
{
	knot_dname_t *name = knot_dname_from_str_alloc(text);
	assert_non_null(name);
	return name;
}

// Adds "MX pref exchange"; knot keeps an RRset's records in canonical order.
static inline void test_add_mx(knot_rdataset_t *rrs, uint16_t pref, const char *exchange)
{
	knot_dname_storage_t name;
	assert_non_null(knot_dname_from_str(name, exchange, sizeof(name)));
	size_t name_len = knot_dname_size(name);

	uint8_t data[2 + KNOT_DNAME_MAXLEN];
	knot_wire_write_u16(data, pref);
	memcpy(data + 2, name, name_len);

	uint8_t buf[knot_rdata_size(2 + KNOT_DNAME_MAXLEN)];
	knot_rdata_t *rd = (knot_rdata_t *)buf;
	knot_rdata_init(rd, 2 + name_len, data);
	assert_int_equal(knot_rdataset_add(rrs, rd, NULL), KNOT_EOK);
}

static inline mx_addr_t test_addr(const char *text)
{
	mx_addr_t addr = { 0 };
	if (inet_pton(AF_INET, text, addr.bytes) == 1) {
		addr.family = AF_INET;
	} else {
		assert_int_equal(inet_pton(AF_INET6, text, addr.bytes), 1);
		addr.family = AF_INET6;
	}
	return addr;
}

// Scratch memory that lives until the test ends, like knotd's per-query pool.
#define TEST_ARENA_MAX 1024
typedef struct {
	void *ptrs[TEST_ARENA_MAX];
	size_t count;
} test_arena_t;

static inline void *test_arena_alloc(void *ctx, size_t len)
{
	test_arena_t *a = ctx;
	assert_true(a->count < TEST_ARENA_MAX);
	return a->ptrs[a->count++] = malloc(len);
}

static inline void test_arena_free(test_arena_t *a)
{
	for (size_t i = 0; i < a->count; i++) {
		free(a->ptrs[i]);
	}
	a->count = 0;
}
