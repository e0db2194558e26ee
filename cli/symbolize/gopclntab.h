/* symbolize/gopclntab: function, file:line and inlined frames of a Go
 * binary from its `.gopclntab` (the table the Go runtime itself reads for
 * tracebacks), for binaries without DWARF or symbol table
 * (`-ldflags='-s -w'`, `strip`). Go 1.18 and later (magic 0xfffffff0, and
 * 0xfffffff1 for 1.20+); older tables are refused with a reason.
 *
 * The parser is pure: it reads a memory image given as segments (the file
 * bytes of an ELF's PT_LOAD segments at their link-time addresses) and
 * checks every offset against them, because the binary may come from an
 * untrusted container. gopcln_elf_open() builds that image from an Elf
 * (libelf) and finds the table by section name, or, in a file without
 * section headers, by scanning for its header. Addresses are link-time
 * addresses: a caller subtracts the load bias first.
 *
 * Strings handed out point into the image: valid while it is.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libelf.h>

/* The file bytes of one loadable segment. */
struct gopcln_seg {
	uint64_t vaddr;
	const uint8_t *data;
	uint64_t size;
};

struct gopcln {
	const struct gopcln_seg *segs;
	size_t nsegs;
	const uint8_t *tab;      /* the table, from its header */
	uint64_t tab_vaddr, tab_size;
	int version;             /* 118 (1.18, 1.19) or 120 (1.20 and later) */
	unsigned quantum;        /* pc quantum (minLC) */
	uint32_t nfunc;
	uint64_t text;           /* the address function entries are offsets from */
	/* Each sub-table, [start, end) within tab (they follow each other). */
	uint64_t names, cutab, filetab, pctab, pcln;
	uint64_t gofunc;         /* go:func.* (funcdata base), 0 when not found */
};

/* One frame: innermost inlined call first, the real function last. */
struct gopcln_frame {
	const char *function;    /* NULL when the name cannot be read */
	const char *file;        /* NULL when unknown */
	int line;                /* 0 when unknown */
	bool inlined;            /* inlined into the next frame */
};

/* Frames one pc may expand to; deeper inline nesting is cut here. */
#define GOPCLN_MAX_FRAMES 16

/* The table whose header is at tab_vaddr in the image. 0, or -EINVAL with
 * *why saying what is wrong (a table older than Go 1.18 says so). */
int gopcln_parse(const struct gopcln_seg *segs, size_t nsegs, uint64_t tab_vaddr,
		 struct gopcln *t, const char **why);
/* The first table in the image that parses, found by its header (8-byte
 * aligned) where no section names it; also fills t. 0 or -ENOENT. */
int gopcln_scan(const struct gopcln_seg *segs, size_t nsegs, struct gopcln *t);
/* Frames for pc (not a return address: the caller subtracts 1), at most
 * max; 0 when pc is in no function of the table. */
size_t gopcln_lookup(const struct gopcln *t, uint64_t pc, struct gopcln_frame *out, size_t max);
/* [*lo, *hi) of the function named `name`. False when there is none. */
bool gopcln_func_range(const struct gopcln *t, const char *name, uint64_t *lo, uint64_t *hi);

/* Decoders of the table's encodings, exposed for tests.
 * An unsigned LEB128 varint of at most 32 bits at p[*pos], p[0..len):
 * true and *pos moved past it, or false (truncated, or too long). */
bool gopcln_uvarint(const uint8_t *p, size_t len, size_t *pos, uint32_t *v);
/* The value a pc-value table p[0..len) gives target, for a function
 * starting at entry: 0 and *val, -ENOENT when the table ends before
 * target, -EINVAL when it is malformed. */
int gopcln_pcvalue(const uint8_t *p, size_t len, unsigned quantum, uint64_t entry, uint64_t target,
		   int32_t *val);

/* An Elf's table; the image points into elf_rawfile(), so the Elf must
 * outlive it, and t points at segs: the struct must not be copied. */
struct gopcln_elf {
	struct gopcln t;
	size_t nsegs;
	struct gopcln_seg segs[16];
};

/* 0; -ENOENT when the file has no Go table (with *why when it has one that
 * cannot be read); -EINVAL with *why for a broken one. */
int gopcln_elf_open(Elf *e, struct gopcln_elf *g, const char **why);
