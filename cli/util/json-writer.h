/* json-writer: a JSON document written as it is produced, in the layout
 * json-c prints with JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE
 * (two-space indent, "key":value), so every document of the tool looks
 * alike. A report of thousands of sockets built as a json-c tree spends
 * most of its time allocating objects and their hash tables; written
 * directly it costs the bytes.
 *
 * The caller keeps the structure right: a key before every value inside an
 * object, none inside an array, ends matching begins. Strings are copied
 * byte for byte, like json-c does, with `"`, `\` and control characters
 * escaped. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 32

struct jw {
	FILE *out;                 /* NULL: the document stays in buf, see jw_take() */
	char *buf;
	size_t len, cap;
	int depth;
	bool after_key;            /* the next value follows "key": on its line */
	bool nonempty[JW_MAX_DEPTH];   /* per open container: an element was written */
};

/* out: where jw_finish() and full buffers send the text; NULL to keep it. */
void jw_init(struct jw *w, FILE *out);
/* Writes what is buffered to out (if any) and frees the buffer; returns 0,
 * or -EIO when out has failed (its error indicator is set). */
int jw_finish(struct jw *w);
/* A memory writer's document, NUL-terminated; the caller frees it and the
 * writer is left empty. */
char *jw_take(struct jw *w);

void jw_object_begin(struct jw *w);
void jw_object_end(struct jw *w);
void jw_array_begin(struct jw *w);
void jw_array_end(struct jw *w);
/* k: a string the caller knows needs no escaping is written as it is. */
void jw_key(struct jw *w, const char *k);

void jw_string(struct jw *w, const char *s);   /* NULL writes null */
void jw_uint(struct jw *w, uint64_t v);
void jw_int(struct jw *w, int64_t v);
void jw_bool(struct jw *w, bool v);
/* A member: its key, then the value. */
void jw_kstr(struct jw *w, const char *k, const char *v);
void jw_kuint(struct jw *w, const char *k, uint64_t v);
void jw_kint(struct jw *w, const char *k, int64_t v);
void jw_kbool(struct jw *w, const char *k, bool v);
void jw_double(struct jw *w, double v);        /* %.6g; not finite writes null */
void jw_null(struct jw *w);
/* A value written elsewhere in the same layout (a whole document), put in
 * as it is, each of its lines indented to this depth. */
void jw_raw(struct jw *w, const char *json);
void jw_hex(struct jw *w, uint64_t v);          /* "0x1f": a string, exact past 2^53 */
