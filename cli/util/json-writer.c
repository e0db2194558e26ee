/* json-writer: see json-writer.h. Text collects in one buffer that goes to
 * the FILE whenever it passes JW_FLUSH_AT, so a document of any size costs
 * one stdio write per 64 KiB. */
#include "util/json-writer.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/util.h"

#define JW_FLUSH_AT (64 * 1024)

void jw_init(struct jw *w, FILE *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

static void jw_flush(struct jw *w)
{
	if (w->out && w->len) {
		fwrite(w->buf, 1, w->len, w->out);
		w->len = 0;
	}
}

static char *jw_room(struct jw *w, size_t n)
{
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;

		while (cap < w->len + n)
			cap *= 2;
		w->buf = xrealloc(w->buf, cap);
		w->cap = cap;
	}
	return w->buf + w->len;
}

static void jw_put(struct jw *w, const char *s, size_t n)
{
	memcpy(jw_room(w, n), s, n);
	w->len += n;
}

static void jw_putc(struct jw *w, char c)
{
	*jw_room(w, 1) = c;
	w->len++;
}

static void jw_newline(struct jw *w, int depth)
{
	char *p = jw_room(w, 1 + 2 * (size_t)depth);

	p[0] = '\n';
	memset(p + 1, ' ', 2 * (size_t)depth);
	w->len += 1 + 2 * (size_t)depth;
}

/* Where the next value (or key) goes: after "key": as it is, in a
 * container on a line of its own after a comma. */
static void jw_slot(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0) {
		if (w->nonempty[w->depth - 1])
			jw_putc(w, ',');
		w->nonempty[w->depth - 1] = true;
		jw_newline(w, w->depth);
	}
	if (w->out && w->len >= JW_FLUSH_AT)
		jw_flush(w);
}

static void jw_quoted(struct jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	jw_putc(w, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

		jw_put(w, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default: n = 6; break;
		}
		jw_put(w, esc, n);
	}
	jw_put(w, run, (size_t)(s - run));
	jw_putc(w, '"');
}

static void jw_open(struct jw *w, char c)
{
	jw_slot(w);
	if (w->depth >= JW_MAX_DEPTH)
		die("internal error: JSON nested deeper than %d", JW_MAX_DEPTH);
	jw_putc(w, c);
	w->nonempty[w->depth++] = false;
}

static void jw_close(struct jw *w, char c)
{
	if (w->depth <= 0 || w->after_key)
		die("internal error: JSON container closed where none is open");
	w->depth--;
	jw_newline(w, w->depth);
	jw_putc(w, c);
}

void jw_raw(struct jw *w, const char *json)
{
	size_t n = strlen(json);

	while (n && (json[n - 1] == '\n' || json[n - 1] == ' '))
		n--;
	jw_slot(w);
	/* Each line of it moved right to where the value sits. */
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(json + i, '\n', n - i);
		size_t k = nl ? (size_t)(nl - json) - i : n - i;

		jw_put(w, json + i, k);
		i += k;
		if (nl) {
			jw_newline(w, w->depth);
			i++;
		}
		if (w->out && w->len >= JW_FLUSH_AT)
			jw_flush(w);
	}
}

void jw_object_begin(struct jw *w)
{
	jw_open(w, '{');
}

void jw_object_end(struct jw *w)
{
	jw_close(w, '}');
}

void jw_array_begin(struct jw *w)
{
	jw_open(w, '[');
}

void jw_array_end(struct jw *w)
{
	jw_close(w, ']');
}

void jw_key(struct jw *w, const char *k)
{
	jw_slot(w);
	jw_quoted(w, k);
	jw_putc(w, ':');
	w->after_key = true;
}

void jw_string(struct jw *w, const char *s)
{
	if (!s) {
		jw_null(w);
		return;
	}
	jw_slot(w);
	jw_quoted(w, s);
}

/* The digits of v, right-aligned in buf[24]; returns the first. */
static char *jw_digits(uint64_t v, char buf[24])
{
	char *p = buf + 24;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}

void jw_uint(struct jw *w, uint64_t v)
{
	char buf[24], *p = jw_digits(v, buf);

	jw_slot(w);
	jw_put(w, p, (size_t)(buf + 24 - p));
}

void jw_double(struct jw *w, double v)
{
	char buf[40];
	int n;

	if (!isfinite(v)) {
		jw_null(w);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%.6g", v);
	jw_slot(w);
	jw_put(w, buf, (size_t)n);
}

void jw_int(struct jw *w, int64_t v)
{
	char buf[24], *p;

	if (v >= 0) {
		jw_uint(w, (uint64_t)v);
		return;
	}
	/* -(v + 1) + 1 avoids overflowing on INT64_MIN. */
	p = jw_digits((uint64_t)(-(v + 1)) + 1, buf);
	*--p = '-';
	jw_slot(w);
	jw_put(w, p, (size_t)(buf + 24 - p));
}

void jw_bool(struct jw *w, bool v)
{
	jw_slot(w);
	if (v)
		jw_put(w, "true", 4);
	else
		jw_put(w, "false", 5);
}

void jw_null(struct jw *w)
{
	jw_slot(w);
	jw_put(w, "null", 4);
}

void jw_hex(struct jw *w, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	jw_string(w, buf);
}

int jw_finish(struct jw *w)
{
	int ret = 0;

	jw_flush(w);
	if (w->out && ferror(w->out))
		ret = -EIO;
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
	return ret;
}

char *jw_take(struct jw *w)
{
	char *s;

	jw_putc(w, '\0');
	s = w->buf;
	w->buf = NULL;
	w->len = w->cap = 0;
	return s;
}

void jw_kstr(struct jw *w, const char *k, const char *v)
{
	jw_key(w, k);
	jw_string(w, v);
}

void jw_kuint(struct jw *w, const char *k, uint64_t v)
{
	jw_key(w, k);
	jw_uint(w, v);
}

void jw_kint(struct jw *w, const char *k, int64_t v)
{
	jw_key(w, k);
	jw_int(w, v);
}

void jw_kbool(struct jw *w, const char *k, bool v)
{
	jw_key(w, k);
	jw_bool(w, v);
}
