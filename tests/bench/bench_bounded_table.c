/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Instructions per call of the signature table (bounded_table.c), for
 * callgrind (not a timed test, not built by make): a table as the module
 * makes it (bounded by verdict-cache-size, default 1,024), keys and values
 * of the sizes module/signing.c stores (a key of about 180 bytes: signer,
 * owner, RRset and a P-256 DNSKEY; a value of about 110 bytes: one RRSIG),
 * then GETS lookups of 1,000 keys stored (hits) in one read-side section,
 * and PUTS new keys into the full table (each one evicts). Build and run:
 *
 *   cc -O2 -g -Ilibmxguard tests/bench/bench_bounded_table.c \
 *      libmxguard/bounded_table.c libmxguard/concurrent_table.c \
 *      $(pkg-config --cflags --libs libknot liburcu) -o /tmp/bench_bounded_table
 *   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \
 *      --toggle-collect=run_gets --toggle-collect=run_puts /tmp/bench_bounded_table
 *   callgrind_annotate --inclusive=yes /tmp/cg.out | grep -E 'run_(gets|puts)'
 *
 * Instructions per call: each function's inclusive count / its calls
 * (their own loops are a few of them).
 */

#include <stdio.h>
#include <string.h>
#include <urcu.h>

#include "bounded_table.h"

#define KEYS 1000
#define GETS 1000000
#define PUTS 20000
#define KEY_LEN 180
#define VALUE_LEN 110

static uint8_t keys[KEYS][KEY_LEN];

// Key n: a fixed prefix (signer, zone) and the rest varied.
static void make_key(uint8_t *key, uint32_t n)
{
	memset(key, 0x5a, KEY_LEN);
	memcpy(key + 16, &n, sizeof(n));
	memcpy(key + KEY_LEN - sizeof(n), &n, sizeof(n));
}

// Not static: callgrind collects them by name.
__attribute__((noinline))
size_t run_gets(mx_bounded_table_t *table);
size_t run_gets(mx_bounded_table_t *table)
{
	size_t found = 0;
	rcu_read_lock();
	for (unsigned i = 0; i < GETS; i++) {
		size_t len = 0;
		found += mx_bounded_table_get(table, keys[i % KEYS], KEY_LEN, &len) != NULL;
	}
	rcu_read_unlock();
	return found;
}

__attribute__((noinline))
void run_puts(mx_bounded_table_t *table, const uint8_t *value);
void run_puts(mx_bounded_table_t *table, const uint8_t *value)
{
	uint8_t key[KEY_LEN];
	rcu_read_lock();
	for (uint32_t i = 0; i < PUTS; i++) {
		make_key(key, KEYS + i);
		mx_bounded_table_put(table, key, KEY_LEN, value, VALUE_LEN);
	}
	rcu_read_unlock();
}

int main(void)
{
	rcu_register_thread();
	mx_bounded_table_t *table = mx_bounded_table_new(1024);
	if (table == NULL) {
		return 1;
	}
	uint8_t value[VALUE_LEN];
	memset(value, 0x17, sizeof(value));
	rcu_read_lock();
	for (uint32_t i = 0; i < KEYS; i++) {
		make_key(keys[i], i);
		mx_bounded_table_put(table, keys[i], KEY_LEN, value, VALUE_LEN);
	}
	rcu_read_unlock();
	size_t found = run_gets(table);
	run_puts(table, value);
	printf("%u keys, %u gets, %zu found, %u puts, %zu stored\n", KEYS, GETS, found,
	       PUTS, mx_bounded_table_size(table));
	mx_bounded_table_free(table);
	rcu_unregister_thread();
	return found != GETS;
}
