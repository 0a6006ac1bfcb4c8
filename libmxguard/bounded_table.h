/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*!
 * \file
 * \brief A lock-free table of byte strings to byte strings, of bounded size.
 *
 * The signature table (module/signing.c), a thin user of the library's
 * concurrent table (concurrent_table.h): readers never wait, and a writer
 * never blocks or fails its caller: without memory, with the key stored
 * already, or when the table is full while another writer makes room, a put
 * does nothing; when the table is full, some entry goes to make room.
 * Entries never change once stored. Callers must be registered RCU reader
 * threads, inside a read-side critical section (knotd's workers in its
 * hooks are).
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mx_bounded_table mx_bounded_table_t;

/*! \brief A table of at most \a max_entries entries (0: none, NULL). */
mx_bounded_table_t *mx_bounded_table_new(size_t max_entries);

/*! \brief Frees the table and its entries; no reader may use them any more. */
void mx_bounded_table_free(mx_bounded_table_t *table);

/*!
 * \brief The value stored under a key, 8-byte aligned, valid until the
 *        read-side critical section ends; NULL if none (or no table).
 */
const void *mx_bounded_table_get(mx_bounded_table_t *table, const uint8_t *key,
                                 size_t key_len, size_t *value_len);

/*! \brief Stores a copy of a value under a key (if it can: see above). */
void mx_bounded_table_put(mx_bounded_table_t *table, const uint8_t *key, size_t key_len,
                          const void *value, size_t value_len);

/*! \brief Entries stored now. */
size_t mx_bounded_table_size(mx_bounded_table_t *table);
