/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hash.h"
#include "log_line.h"
#include "policy.h"

typedef struct {
	char *buf;
	size_t len;
	size_t pos;
	bool overflow;
} text_t;

__attribute__((format(printf, 2, 3)))
static void append(text_t *t, const char *fmt, ...)
{
	if (t->overflow) {
		return;
	}
	va_list args;
	va_start(args, fmt);
	int ret = vsnprintf(t->buf + t->pos, t->len - t->pos, fmt, args);
	va_end(args);
	if (ret < 0 || (size_t)ret >= t->len - t->pos) {
		t->overflow = true;
		return;
	}
	t->pos += ret;
}

static void append_name(text_t *t, const char *key, const knot_dname_t *name)
{
	// Canonical lower case, so one name is one spelling whatever the query
	// said (resolvers randomise case); knotd's own escaping.
	knot_dname_storage_t lower;
	char text[KNOT_DNAME_TXT_MAXLEN + 1];
	if (knot_dname_to_wire(lower, name, sizeof(lower)) <= 0) {
		t->overflow = true;
		return;
	}
	knot_dname_to_lower(lower);
	if (knot_dname_to_str(text, lower, sizeof(text)) == NULL) {
		t->overflow = true;
		return;
	}
	append(t, "%s %s", key, text);
}

static int finish(text_t *t, uint32_t suppressed)
{
	if (suppressed > 0) {
		append(t, ", suppressed %u", suppressed);
	}
	if (t->overflow) {
		t->buf[0] = '\0';
		return -1;
	}
	return (int)t->pos;
}

uint64_t mx_log_key(uint64_t seed, const knot_dname_t *zone, const knot_dname_t *owner,
                    const knot_dname_t *exchange, mx_log_class_t cls, mx_kind_t kind)
{
	uint64_t h = mx_hash_begin(seed);
	h = mx_hash_dname_lower(h, zone ? zone : (const uint8_t *)"");
	h = mx_hash_dname_lower(h, owner);
	h = mx_hash_dname_lower(h, exchange ? exchange : (const uint8_t *)"");
	h = mx_hash_word(h, (uint64_t)cls << 8 | ((cls == MX_LOG_VIOLATION) ? kind : 0));
	return mx_hash_end(h);
}

int mx_log_line(char *buf, size_t len, const knot_dname_t *owner,
                const mx_violation_t *violation, const char *action,
                uint32_t suppressed)
{
	if (buf == NULL || len == 0) {
		return -1;
	}
	text_t t = { .buf = buf, .len = len };

	append(&t, "violation %s, ", mx_kind_name(violation->kind));
	append_name(&t, "owner", owner);
	append(&t, ", ");
	append_name(&t, "exchange", violation->exchange);
	append(&t, ", preference %u", violation->preference);
	if (violation->has_addr) {
		char addr[MX_ADDR_STRLEN];
		append(&t, ", address %s", mx_addr_to_str(&violation->addr, addr, sizeof(addr)));
	}
	if (violation->provider != NULL) {
		append(&t, ", provider %s", violation->provider);
	}
	if (violation->record != NULL) {
		append(&t, ", record %s", violation->record);
	}
	append(&t, ", action %s", action);
	if (violation->inferred) {
		append(&t, ", verdict inferred");
	}
	return finish(&t, suppressed);
}

int mx_log_line_not_enforced(char *buf, size_t len, const knot_dname_t *owner,
                             const char *action, const char *reason,
                             uint32_t suppressed)
{
	if (buf == NULL || len == 0) {
		return -1;
	}
	text_t t = { .buf = buf, .len = len };
	append(&t, "not enforced, ");
	append_name(&t, "owner", owner);
	append(&t, ", action %s, reason %s", action, reason);
	return finish(&t, suppressed);
}

int mx_log_line_synthesized(char *buf, size_t len, const char *what,
                            const knot_dname_t *owner, const char *reason,
                            uint32_t suppressed)
{
	if (buf == NULL || len == 0) {
		return -1;
	}
	text_t t = { .buf = buf, .len = len };
	append(&t, "synthesized %s, ", what);
	append_name(&t, "owner", owner);
	append(&t, ", reason %s", reason);
	return finish(&t, suppressed);
}
