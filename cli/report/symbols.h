/* symbols: resolve every group's stack into function, file:line, trimmed
 * of the shim's and libc's leading frames (see symbols.c for which address
 * space is used: the live process, or its module log post mortem). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "report/group.h"
#include "symbolize/symbolize.h"
#include "table-reader.h"
#include "util/notes.h"

/* Symbols shared by the processes of a host-wide collection (report -A,
 * serve, watch): one symbolizer per module file, keyed by its build-id as
 * the table's module log gives it, and placed at bias 0 so that every
 * process mapping that file resolves through it (file-relative addresses).
 * The file is opened from the process's own mappings
 * (/proc/<pid>/map_files) or its root (never leaving it), and used only
 * when its build-id is the logged one. Frames resolved through it point
 * into it: keep it until they are rendered. */
struct report_symcache;
struct report_symcache *report_symcache_create(void);
/* Forget the files no resolve used since the last sweep (a library
 * replaced, a program gone): bounded by what runs now. */
void report_symcache_sweep(struct report_symcache *c);
void report_symcache_destroy(struct report_symcache *c);   /* accepts NULL */
/* Files held (for tests and the scrape's own metrics). */
size_t report_symcache_files(const struct report_symcache *c);

/* Whose stacks are resolved. */
struct report_symbols_in {
	pid_t pid;
	bool alive;                /* read its address space while it runs */
	uint32_t generation;       /* its current image generation */
	struct sa_reader *reader;  /* the table (module log), NULL without one */
	struct notes *notes;       /* where to say what could not be resolved */
	/* NULL: a symbolizer of the process's own (sym_create_pid). Else
	 * its current image's frames go through the shared files where the
	 * module log names them. */
	struct report_symcache *shared;
};

/* Fill group.frames of every group of gs. The returned object owns the
 * strings the frames point to: destroy it after rendering. */
struct report_symbols;
struct report_symbols *report_symbols_resolve(struct group_set *gs,
					      const struct report_symbols_in *in);
void report_symbols_destroy(struct report_symbols *rs);   /* accepts NULL */
/* The expensive part ahead of time, in another thread while the report's
 * inputs are read (libdwfl opening and decompressing the debug information
 * of the modules): the live symbolizer of pid for image `generation`, with
 * the frames of the given stacks of the table resolved into its cache
 * (with shared: the files of the modules its log names, by build-id; an
 * address in none is left for the resolve, which uses the live one).
 * Calls no die() and touches nothing shared; NULL when it cannot help.
 * report_symbols_resolve_prepared() takes it over (and resolves exactly as
 * report_symbols_resolve() would); prep may be NULL. */
struct report_symbols *report_symbols_prepare(pid_t pid, uint32_t generation, struct sa_reader *r,
					     const uint32_t *stack_ids, size_t n,
					     struct report_symcache *shared);
struct report_symbols *report_symbols_resolve_prepared(struct group_set *gs,
						       const struct report_symbols_in *in,
						       struct report_symbols *prep);
/* For single addresses (the other end of a connection): rs resolves each
 * as resolve does, with the same symbolizers; *out is valid until the
 * next call or destroy. */
struct report_symbols *report_symbols_open(const struct report_symbols_in *in);
size_t report_symbols_addr(struct report_symbols *rs, struct notes *notes, uint32_t generation,
			   uint64_t addr, const struct sym_frame **out);
/* How many leading frames belong to the shim, libc or the Go packages that
 * make a Go program's system calls (0 when all do). */
size_t report_trim_count(const struct sym_frame *f, size_t n);
/* The function (a Go symbol, "net.(*netFD).connect") is in one of the Go
 * packages below a program's own code on the way to a socket system call:
 * runtime, runtime/internal/..., syscall, internal/..., net, os,
 * golang.org/x/sys/unix. Pure. */
bool report_go_syscall_frame(const char *function);
/* How many of the outermost frames are Go's goroutine start
 * (runtime.goexit, runtime.main, runtime.mstart), not shown as libc's
 * start is not. Pure. */
size_t report_go_below_count(const struct sym_frame *f, size_t n);
