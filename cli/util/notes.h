/* notes: the lines a report or a run adds under its output ("pid 12 is
 * gone: ...", "cannot read the address space ..."), in the order said. */
#pragma once

#include <stddef.h>

struct notes {
	char **v;
	size_t n;
};

__attribute__((format(printf, 2, 3)))
void notes_add(struct notes *ns, const char *fmt, ...);
void notes_finish(struct notes *ns);   /* frees every line; ns may be used again */
