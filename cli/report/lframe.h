/* lframe: a language frame of the table (a Python function at a line) as
 * text safe to print: the table's bytes are hostile input. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "table-reader.h"

/* Room for a cleaned file or function: "..." in front of a truncated one. */
#define LFRAME_TEXT_MAX (SA_LFRAME_FILE_MAX + 4)

struct report_lframe {
	const char *language;     /* "python" */
	char file[LFRAME_TEXT_MAX];
	char function[LFRAME_TEXT_MAX];
	int line;                 /* 0: unknown */
	int column;               /* 0: unknown */
};

/* in[0..len) as printable UTF-8 into out (NUL-terminated, at most outlen
 * bytes with the NUL): control characters, DEL, NUL and bytes that are not
 * part of a well-formed UTF-8 sequence become '?', one for one; a sequence
 * that would not fit is dropped whole. */
void report_lframe_clean(const char *in, size_t len, char *out, size_t outlen);
/* The frame a stack entry names, cleaned; false when the table has no
 * such frame (see sa_reader_lframe). */
bool report_lframe_read(struct sa_reader *r, uint64_t entry, struct report_lframe *out);
