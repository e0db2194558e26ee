/* One frame of a resolved address (symbolize.h): a type of its own, so
 * that the symbolizer's two halves (symbolize-private.h) can share it without the
 * public API's header. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct sym_frame {
	uint64_t addr;         /* the raw address asked for */
	const char *function;  /* NULL when unknown; C++ and Rust names demangled */
	const char *linkage;   /* the mangled linkage name `function` was made from, else NULL */
	const char *file;      /* NULL when no debug info */
	int line;              /* 0 when unknown */
	const char *module;    /* path of the module, NULL when no module maps it */
	uint64_t module_offset;/* addr - module load bias (for "module+0x1234") */
	bool inlined;          /* this frame was inlined into the next one */
	/* A language runtime's frame (report/lframe.h): "python"; NULL for
	 * native code. Such a frame has no module; `addr` is its table entry. */
	const char *language;
	int column;            /* 0 when unknown */
};
