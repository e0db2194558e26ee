/* report-model: the lifetime of a struct report (notes, and tearing down
 * what report.c built), shared with `list` and the tests. */
#include "report.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

void report_note(struct report *r, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	r->notes = xrealloc(r->notes, (r->nnotes + 1) * sizeof(r->notes[0]));
	r->notes[r->nnotes++] = s;
}

void report_finish(struct report *r)
{
	if (!r)
		return;
	report_symbols_destroy(r->syms);
	r->syms = NULL;
	group_set_finish(&r->groups);
	report_join_finish(&r->join);
	for (size_t i = 0; i < r->nnotes; i++)
		free(r->notes[i]);
	free(r->notes);
	r->notes = NULL;
	r->nnotes = 0;
}

bool report_proc_exited(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	/* The state follows the command name, which may hold ") ". */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}
