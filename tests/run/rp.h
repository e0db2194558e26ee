/* Helpers for the programs `sockaudit run` audits in these tests. Each
 * program writes one "key=value ..." line to the file named by argv[1]
 * (its pid, and where its leak is: function, file, line) so the test can
 * check the run's report against it. The calls whose stacks are checked are
 * made in the programs' own functions, never in here. */
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/inotify.h>
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

#define RP_POLLS_AFTER_HOLD 2
#define RP_POLL_DEADLINE_MS 10000

/* Keep a leak for at least ms, then until `sockaudit run` has started two
 * more polls, so that a poll saw it at least ms old however late the
 * machine ran the poller. Each poll of a run opens the run's table
 * directory, the tree's $SOCKAUDIT_DIR (cli/run-poll.c, discover()), which
 * inotify reports as IN_OPEN on the directory itself (the shim and the
 * reader open files in it, reported with their names: not counted).
 * Outside a run (no $SOCKAUDIT_DIR), or when no poll comes within
 * RP_POLL_DEADLINE_MS, it stops waiting and says so on stderr: the test
 * then fails on what the run did not see. */
__attribute__((unused))
static void rp_hold_seen(long ms)
{
	const char *dir = getenv("SOCKAUDIT_DIR");
	union {
		struct inotify_event ev;
		char buf[4096];
	} u;
	struct timespec t0, t;
	int fd, polls = 0;
	long left;

	rp_hold(ms);
	if (!dir)
		return;
	fd = inotify_init1(IN_CLOEXEC);
	if (fd < 0 || inotify_add_watch(fd, dir, IN_OPEN) < 0) {
		fprintf(stderr, "rp_hold_seen: inotify on %s: %s\n", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (polls < RP_POLLS_AFTER_HOLD) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = RP_POLL_DEADLINE_MS - ((t.tv_sec - t0.tv_sec) * 1000 +
					      (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			fprintf(stderr, "rp_hold_seen: %d of %d polls of %s within %d ms\n",
				polls, RP_POLLS_AFTER_HOLD, dir, RP_POLL_DEADLINE_MS);
			break;
		}
		n = read(fd, u.buf, sizeof(u.buf));
		for (char *p = u.buf; n > 0 && p < u.buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if ((ev->mask & IN_OPEN) && (ev->mask & IN_ISDIR) && ev->len == 0)
				polls++;
			p += sizeof(*ev) + ev->len;
		}
	}
	close(fd);
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
