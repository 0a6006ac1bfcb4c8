/*  mxguard: an MX policy module for the Knot DNS server.
 *  SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdarg.h>
#include <stdio.h>

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
	// Same escaping as knotd's own log messages.
	char text[KNOT_DNAME_TXT_MAXLEN + 1];
	if (knot_dname_to_str(text, name, sizeof(text)) == NULL) {
		t->overflow = true;
		return;
	}
	append(t, "%s %s", key, text);
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
	append(&t, ", action %s", action);
	if (suppressed > 0) {
		append(&t, ", suppressed %u", suppressed);
	}

	if (t.overflow) {
		buf[0] = '\0';
		return -1;
	}
	return (int)t.pos;
}
