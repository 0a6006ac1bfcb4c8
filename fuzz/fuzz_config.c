/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Harness (4): the configuration values that mxguard parses itself (Knot's
 * yparser reads the rest): address ranges (allow-address as
 * mxguard-check reads it, mx_addr_range_parse) and single null-mx items.
 *
 * A range that parses has one family and min <= max; its bounds, written
 * out and parsed again, give the same range; every address in it is
 * matched and one just outside is not.
 */

#include <sys/socket.h>

#include "fuzz_common.h"
#include "address.h"
#include "name_list.h"

static void check_range(const mx_addr_range_t *range)
{
	size_t len = mx_addr_len(range->family);
	FUZZ_ASSERT(len == 4 || len == 16);
	FUZZ_ASSERT(memcmp(range->min, range->max, len) <= 0);

	mx_addr_t min = { .family = range->family }, max = { .family = range->family };
	memcpy(min.bytes, range->min, len);
	memcpy(max.bytes, range->max, len);
	FUZZ_ASSERT(mx_addr_range_match(range, &min));
	FUZZ_ASSERT(mx_addr_range_match(range, &max));

	char a[MX_ADDR_STRLEN], b[MX_ADDR_STRLEN], text[2 * MX_ADDR_STRLEN + 2];
	snprintf(text, sizeof(text), "%s-%s", mx_addr_to_str(&min, a, sizeof(a)),
	         mx_addr_to_str(&max, b, sizeof(b)));
	mx_addr_range_t again;
	FUZZ_ASSERT(mx_addr_range_parse(&again, text));
	FUZZ_ASSERT(again.family == range->family);
	FUZZ_ASSERT(memcmp(again.min, range->min, len) == 0);
	FUZZ_ASSERT(memcmp(again.max, range->max, len) == 0);

	// One below the minimum is outside (unless the minimum is all zeroes).
	mx_addr_t below = min;
	size_t i = len;
	while (i > 0 && below.bytes[i - 1] == 0) {
		below.bytes[--i] = 0xff;
	}
	if (i > 0) {
		below.bytes[i - 1]--;
		FUZZ_ASSERT(!mx_addr_range_match(range, &below));
	}
	mx_addr_t other = { .family = range->family == AF_INET ? AF_INET6 : AF_INET };
	memcpy(other.bytes, range->min, 16);
	FUZZ_ASSERT(!mx_addr_range_match(range, &other));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	FUZZ_ASSERT(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';

	mx_addr_range_t range;
	memset(&range, 0xa5, sizeof(range));
	if (mx_addr_range_parse(&range, text)) {
		check_range(&range);
	}

	// A null-mx item, as knotd's configuration hands it over.
	mx_name_list_t *list = mx_name_list_new();
	FUZZ_ASSERT(list != NULL);
	const char *why = NULL;
	int ret = mx_name_list_add(list, text, &why);
	FUZZ_ASSERT(ret == KNOT_EOK || (ret == KNOT_EINVAL && why != NULL));
	FUZZ_ASSERT(mx_name_list_count(list) == (ret == KNOT_EOK));
	mx_name_list_free(list);

	free(text);
	return 0;
}
