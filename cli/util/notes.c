/* notes: see notes.h. */
#include "util/notes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/util.h"

void notes_add(struct notes *ns, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (rc < 0)
		die("out of memory");
	ns->v = xrealloc(ns->v, (ns->n + 1) * sizeof(ns->v[0]));
	ns->v[ns->n++] = s;
}

void notes_finish(struct notes *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	ns->v = NULL;
	ns->n = 0;
}
