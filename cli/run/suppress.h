/* suppress: suppression files for `sockaudit run` (format in docs/ci.md).
 *
 *   # why this one is fine
 *   {
 *      name: pooled-client-kept-on-purpose
 *      kind: close-wait,idle          (or *, the default)
 *      command: *worker*              (optional: glob on a process's command line)
 *      top: fun=pool_connect file=pool.c
 *      frame: fun=main module=myprog
 *   }
 *
 * An entry matches a group when the kind is listed, the command glob (if
 * any) matches one of the group's processes, `top` matches the top user
 * frame and every `frame` matches some frame of the stack. A frame pattern
 * holds fun=, file= and module= globs (fnmatch); all given must match the
 * same frame. file= and module= globs without a '/' are matched against the
 * basename. Pure: no I/O beyond reading the file, unit-tested from cases.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "symbolize/symbolize.h"

struct supp_frame {
	char *fun, *file, *module;   /* NULL: any */
};

struct supp_entry {
	char *name;
	unsigned kinds;              /* bit per enum run_kind */
	char *command;               /* NULL: any */
	bool has_top;
	struct supp_frame top;
	struct supp_frame *frames;
	size_t nframes;
	char where[300];             /* "file:line" of the opening brace */
};

struct supp_set {
	struct supp_entry *v;
	size_t n;
};

/* Append the entries of one file (or of text, for tests). Returns 0, or -1
 * with one line "FILE:LINE: reason" in err. */
int supp_load_file(struct supp_set *s, const char *path, char *err, size_t errlen);
int supp_load_text(struct supp_set *s, const char *name, const char *text, char *err,
		   size_t errlen);
void supp_set_finish(struct supp_set *s);

/* The first entry matching (kind, commands, frames), or NULL. */
const struct supp_entry *supp_match(const struct supp_set *s, unsigned kind,
				    const char *const *commands, size_t ncommands,
				    const struct sym_frame *frames, size_t nframes);
bool supp_frame_match(const struct supp_frame *p, const struct sym_frame *f);

/* A ready entry for one group (--gen-suppressions). */
void supp_print(FILE *out, const char *name, const char *kind, const struct sym_frame *frames,
		size_t nframes);
