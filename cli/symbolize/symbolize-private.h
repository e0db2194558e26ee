// SPDX-License-Identifier: MIT
/* The symbolizer's insides, shared by its two halves: symbolize.c (the
 * session: which module an address is in, live or post-mortem, and the
 * cache) and frames.c (one address in one module: DWARF scopes and inline
 * chains, the line table, Go's pc-line table, the symbol table). */
#pragma once

#include "symbolize/frame.h"

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A failed allocation inside uthash leaves the element out of the table
 * (hh.tbl == NULL) instead of exiting the process: a cache miss is harmless. */
#define HASH_NONFATAL_OOM 1
/* The default (Jenkins) hash falls through switch cases with comment-only
 * annotations, which clang's -Wimplicit-fallthrough rejects. FNV-1a is as
 * good for 8-byte addresses and short paths. */
#define HASH_FUNCTION HASH_FNV
#include <uthash.h>

/* Interned string: every name and path handed out lives here, once. */
struct sym_str {
	UT_hash_handle hh;
	char s[];
};

/* One resolved address. Owned through the `owned` list, indexed by the hash:
 * an entry that could not be indexed (out of memory) is still owned, so the
 * pointers handed out stay valid until destroy. */
struct sym_entry {
	uint64_t addr;
	size_t n;
	struct sym_entry *next_owned;
	UT_hash_handle hh;
	struct sym_frame frames[];
};

/* A module from the post-mortem log, sorted by start. */
struct sym_pm_module {
	const char *path;        /* interned */
	uint64_t start, end, bias;
	Dwfl_Module *mod;        /* non-NULL only when the build-id matched */
};

/* A run of one file's mappings in /proc/<pid>/maps, contiguous. */
struct sym_map {
	uint64_t start, end;
	const char *path;        /* interned, as the maps line names it */
	uint64_t ino;            /* the inode the maps line names */
};

struct sym_cuidx;
struct sym_goidx;

struct symbolizer {
	Dwfl *dwfl;
	struct sym_entry *cache;
	struct sym_entry *owned;
	struct sym_str *strs;
	struct sym_cuidx *cuidx;   /* frames.c's, per module */
	struct sym_goidx *goidx;
	struct sym_pm_module *pm;  /* post-mortem only */
	size_t npm;
	bool post_mortem;
	pid_t pid;                 /* live only */
	struct sym_map *maps;      /* live only: the file mappings, by start */
	size_t nmaps;
	/* Returned when even the entry for an address cannot be allocated. */
	struct sym_frame oom_frame;
};

/* Frames being collected for one address; the inline buffer covers any
 * realistic inline depth without touching malloc. */
#define SYM_VEC_INLINE 8

struct sym_vec {
	struct sym_frame *v;
	size_t n, cap;
	struct sym_frame buf[SYM_VEC_INLINE];
};

/* Interned copy of str, valid until sym_destroy(); NULL for NULL or when
 * out of memory (symbolize.c). */
const char *sym_intern(struct symbolizer *s, const char *str);

/* frames.c */
void sym_vec_init(struct sym_vec *v);
void sym_vec_release(struct sym_vec *v);
struct sym_frame *sym_vec_push(struct sym_vec *v);
/* All frames for pc (addr as recorded, pc as the module sees it) in a
 * module libdwfl can read, innermost first, into v. */
void sym_module_frames(struct symbolizer *s, Dwfl_Module *mod, uint64_t addr, uint64_t pc,
		       const char *path, struct sym_vec *v);
/* The per-module indexes frames.c built (CU ranges, Go tables). */
void sym_module_caches_free(struct symbolizer *s);
