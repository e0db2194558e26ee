/* Helpers for the programs `sockaudit run` audits in these tests. Each
 * program writes one "key=value ..." line to the file named by argv[1]
 * (its pid, and where its leak is: function, file, line) so the test can
 * check the run's report against it. The calls whose stacks are checked are
 * made in the programs' own functions, never in here. */
#pragma once

#include <fcntl.h>
#include <stdarg.h>
#include <time.h>

#include "../report/sc.h"

__attribute__((format(printf, 2, 3), unused))
static void rp_info(const char *path, const char *fmt, ...)
{
	char tmp[4200];
	va_list ap;
	FILE *f;

	/* Written aside and renamed: the test never sees half a line. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		sc_die("open %s", tmp);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		sc_die("write %s", path);
}

/* Keep a leak for ms: the length of the leak is what the run must see. */
__attribute__((unused))
static void rp_hold(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The server side of a connection to the listener, closed at once: the
 * client sees EOF and, keeping its socket, sits in CLOSE_WAIT. */
__attribute__((unused))
static void rp_peer_closes(int l, int c)
{
	char b;
	int s = accept(l, NULL, NULL);

	if (s < 0)
		sc_die("accept");
	close(s);
	close(l);
	if (read(c, &b, 1) != 0)
		sc_die("expected EOF");
}
