/* End-to-end: scenario programs with known leaks, audited by the real
 * `sockaudit report` / `sockaudit list` binaries, whose JSON is checked.
 * One case per test (argv[1]); see tests/report/meson.build. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "rt.h"
#include "table-reader.h"
#include "util/target.h"

typedef bool (*report_pred)(json_object *root, void *arg);

/* Run the report until pred holds; the last run's document (caller puts)
 * or NULL when RT_POLL_MS ran out. Polling, with a deadline. */
static json_object *poll_report(pid_t pid, const char *const *extra, report_pred pred,
				void *arg, struct trun *r)
{
	uint64_t deadline = trun_now_ms() + RT_POLL_MS;
	struct timespec pause = { 0, 50 * 1000 * 1000 };

	for (;;) {
		json_object *root = rt_report(pid, extra, r);

		if (root && pred(root, arg))
			return root;
		if (trun_now_ms() >= deadline) {
			diag("condition not reached within %d ms; last exit %d, stderr: %s",
			     RT_POLL_MS, r->status, r->err);
			json_object_put(root);
			return NULL;
		}
		json_object_put(root);
		trun_free(r);
		nanosleep(&pause, NULL);
	}
}

static bool pred_sock_flagged(json_object *root, void *arg)
{
	json_object *s = rt_grouped_sock(root, *(int *)arg);

	return s && tj_bool(s, "flagged");
}

/* Both fds of int[2] flagged: the two ends of one quiet connection cross
 * the idle threshold a jiffy or so apart. */
static bool pred_both_flagged(json_object *root, void *arg)
{
	const int *fds = arg;

	return pred_sock_flagged(root, (void *)&fds[0]) && pred_sock_flagged(root, (void *)&fds[1]);
}

static bool pred_flagged_n(json_object *root, void *arg)
{
	return tj_int(root, "summary.flagged", -1) == *(int64_t *)arg;
}

static bool jstr_has(json_object *o, const char *path, const char *needle)
{
	const char *v = tj_str(o, path);

	return v && strstr(v, needle);
}

/* One of the report's notes contains text. */
static bool notes_mention(json_object *root, const char *text)
{
	json_object *notes = tj_get(root, "notes");

	for (size_t i = 0; i < tj_len(root, "notes"); i++) {
		const char *n = json_object_get_string(json_object_array_get_idx(notes, i));

		if (n && strstr(n, text))
			return true;
	}
	return false;
}

static bool kinds_are(json_object *g, const char *only)
{
	json_object *k = tj_get(g, "kinds");

	return k && json_object_array_length(k) == 1 &&
	       strcmp(json_object_get_string(json_object_array_get_idx(k, 0)), only) == 0;
}

/* Exactly one line on stderr, nothing on stdout, exit 2. */
static bool fails_cleanly(const char *const *args, const char *needle)
{
	struct trun r;
	bool good;

	if (!rt_sockaudit(&r, args))
		return false;
	good = r.status == 2 && rt_err_lines(&r) == 1 && r.nout == 0 &&
	       (!needle || strstr(r.err, needle));
	if (!good)
		diag("exit %d, %zu stderr lines, %zu stdout bytes; stderr: %s", r.status,
		     rt_err_lines(&r), r.nout, r.err);
	trun_free(&r);
	return good;
}

static void case_closewait(void)
{
	char *argv[] = { rt_bin("sc-closewait"), NULL };
	const char *cw[] = { "--close-wait", "200ms", NULL };
	struct rt_proc p;
	struct trun r;
	json_object *root, *g, *s;
	uint64_t before;
	int fd;
	long line;

	rt_case_dir("closewait");
	if (!ok(rt_spawn(&p, true, argv), "closewait: scenario ready"))
		return;
	fd = (int)rt_ready_int(&p, "fd");
	line = rt_ready_int(&p, "line");

	root = rt_report(p.pid, cw, &r);
	ok(root && r.status == 0 && tj_int(root, "summary.flagged", -1) == 0 &&
	   tj_bool(root, "process.instrumented") && tj_int(root, "summary.tracked", -1) == 3,
	   "before the server closes: 3 tracked, nothing flagged, exit 0");
	json_object_put(root);
	trun_free(&r);

	before = trun_now_ms();
	ok(rt_command(&p, "close", "closed"), "server side closed, client saw EOF");
	root = rt_report(p.pid, cw, &r);
	s = root ? rt_sock_with_fd(tj_get(rt_group_with_fd(root, fd), "sockets"), fd) : NULL;
	ok(root && (!s || !tj_bool(s, "flagged") ||
		    r.ended_ms - before + RT_JIFFY_MS >= 200),
	   "just after the close: not flagged before 200ms (report done %llu ms after the close)",
	   (unsigned long long)(r.ended_ms - before));
	json_object_put(root);
	trun_free(&r);

	root = poll_report(p.pid, cw, pred_sock_flagged, &fd, &r);
	ok(root != NULL, "CLOSE_WAIT flagged once 200ms passed");
	if (root) {
		g = rt_group_with_fd(root, fd);
		s = rt_grouped_sock(root, fd);
		ok(r.ended_ms - before + RT_JIFFY_MS >= 200,
		   "flagged no earlier than 200ms after the close");
		ok(r.status == 1, "exit 1 when something is flagged");
		ok(tj_int(root, "summary.flagged", -1) == 1 && tj_int(g, "count", -1) == 1 &&
		   kinds_are(g, "close-wait") && tj_int(g, "states.CLOSE_WAIT.count", -1) == 1,
		   "one group: one socket, kind close-wait, state CLOSE_WAIT");
		ok(s && tj_str_is(s, "state", "CLOSE_WAIT") &&
		   tj_int(s, "close_wait_ms", -1) >= 200 &&
		   tj_int(s, "close_wait_ms", -1) <=
			   (int64_t)(r.ended_ms - before) + RT_JIFFY_MS &&
		   tj_str(s, "reason") != NULL && tj_bool(s, "tracked"),
		   "socket: CLOSE_WAIT, age >= 200ms and no more than the time since the close");
		ok(rt_frame_is(g, "leak_client", "sc-closewait.c", line),
		   "first frame outside libc and the shim: leak_client at sc-closewait.c:%ld", line);
		ok(rt_last_frame_is(g, "main", 2),
		   "last frame main: libc's start-up and _start below it left out");
		ok(tj_str_is(g, "stack", "connect"), "grouped by the connect stack");
		ok(tj_str_is(root, "schema", "sockaudit.report/1"), "schema sockaudit.report/1");
	}
	json_object_put(root);
	trun_free(&r);

	{
		char pid[16];
		const char *args[] = { "report", "--close-wait", "200ms", "--exit-code", "7", pid,
				       NULL };
		/* Options after the pid work too. */
		const char *text[] = { "report", pid, "--close-wait", "200ms", "--color=never", NULL };
		const char *color[] = { "report", "--close-wait", "200ms", "--color", "always", pid,
					NULL };

		snprintf(pid, sizeof(pid), "%d", (int)p.pid);
		ok(rt_sockaudit(&r, args) && r.status == 7, "--exit-code 7: exit 7 when flagged");
		trun_free(&r);
		ok(rt_sockaudit(&r, text) && r.status == 1 && strstr(r.out, "FLAGGED") &&
		   strstr(r.out, "leak_client") && strstr(r.out, "sc-closewait.c") &&
		   !strchr(r.out, '\033') && r.nerr == 0,
		   "text report names the function and file, no color with --color=never");
		trun_free(&r);
		ok(rt_sockaudit(&r, color) && r.status == 1 && strstr(r.out, "\033["),
		   "--color always colors even into a pipe");
		trun_free(&r);
	}
	ok(rt_stop(&p), "scenario exits cleanly on EOF");
}

static void case_idle(void)
{
	char *argv[] = { rt_bin("sc-idle"), NULL };
	const char *idle[] = { "--idle", "300ms", NULL };
	struct rt_proc p;
	struct trun r;
	json_object *root, *g, *s;
	uint64_t before;
	int fd, sfd;

	rt_case_dir("idle");
	if (!ok(rt_spawn(&p, true, argv), "idle: scenario ready"))
		return;
	fd = (int)rt_ready_int(&p, "fd");
	sfd = (int)rt_ready_int(&p, "server_fd");

	before = trun_now_ms();
	ok(rt_command(&p, "ping", "pinged"), "one byte each way");
	root = rt_report(p.pid, idle, &r);
	s = root ? rt_grouped_sock(root, fd) : NULL;
	ok(root && (!s || r.ended_ms - before + RT_JIFFY_MS >= 300),
	   "just after traffic: not flagged before 300ms (report done %llu ms after)",
	   (unsigned long long)(r.ended_ms - before));
	json_object_put(root);
	trun_free(&r);

	{
		int both[2] = { fd, sfd };
		root = poll_report(p.pid, idle, pred_both_flagged, both, &r);
	}
	ok(root != NULL, "quiet ESTABLISHED connection flagged once idle for 300ms");
	if (root) {
		g = rt_group_with_fd(root, fd);
		s = rt_grouped_sock(root, fd);
		ok(r.status == 1 && kinds_are(g, "idle") && tj_int(g, "count", -1) == 1 &&
		   tj_str_is(s, "state", "ESTABLISHED") && tj_int(s, "idle_ms", -1) >= 300 &&
		   tj_get(s, "close_wait_ms") == NULL,
		   "client: kind idle, ESTABLISHED, idle >= 300ms, no close-wait age");
		ok(rt_frame_is(g, "quiet_client", "sc-idle.c", rt_ready_int(&p, "line")),
		   "client group names quiet_client and its connect line");
		g = rt_group_with_fd(root, sfd);
		s = rt_grouped_sock(root, sfd);
		ok(g && s && tj_bool(s, "flagged") && tj_str_is(g, "stack", "open") &&
		   tj_str_is(s, "origin", "accept"),
		   "server end: flagged too, grouped by its accept (open) stack");
		ok(rt_frame_is(g, "quiet_server", "sc-idle.c", rt_ready_int(&p, "server_line")),
		   "server group names quiet_server and its accept line");
		ok(rt_last_frame_is(g, "server_thread", 1),
		   "accepted in a thread: its stack ends at the thread function, libc's entry left out");
	}
	json_object_put(root);
	trun_free(&r);
	ok(rt_stop(&p), "scenario exits cleanly on EOF");
}

static void case_closed(void)
{
	char *argv[] = { rt_bin("sc-closed"), NULL };
	const char *zero[] = { "--threshold", "0ms", "--all", NULL };
	struct rt_proc p;
	struct trun r;
	json_object *root;

	rt_case_dir("closed");
	if (!ok(rt_spawn(&p, true, argv), "closed: scenario ready"))
		return;
	root = rt_report(p.pid, zero, &r);
	ok(root && r.status == 0 && tj_int(root, "summary.sockets", -1) == 0 &&
	   tj_int(root, "summary.flagged", -1) == 0 && tj_int(root, "summary.stale", -1) == 0 &&
	   tj_len(root, "groups") == 0,
	   "properly closed connection: no socket held, nothing flagged or stale, exit 0");
	json_object_put(root);
	trun_free(&r);
	ok(rt_stop(&p), "scenario exits cleanly on EOF");
}

static void case_listen(void)
{
	char *argv[] = { rt_bin("sc-listen"), NULL };
	const char *zero[] = { "--threshold", "0ms", "--all", NULL };
	struct rt_proc p;
	struct trun r;
	json_object *root, *g, *s;
	int fd;

	rt_case_dir("listen");
	if (!ok(rt_spawn(&p, true, argv), "listen: scenario ready"))
		return;
	fd = (int)rt_ready_int(&p, "fd");
	root = rt_report(p.pid, zero, &r);
	g = root ? rt_group_with_fd(root, fd) : NULL;
	s = root ? rt_grouped_sock(root, fd) : NULL;
	ok(root && r.status == 0 && tj_int(root, "summary.flagged", -1) == 0,
	   "listener with every threshold at 0: nothing flagged, exit 0");
	ok(s && tj_str_is(s, "state", "LISTEN") && !tj_bool(s, "flagged") &&
	   tj_bool(s, "tracked") && tj_get(s, "kind") == NULL,
	   "--all lists it: LISTEN, tracked, not flagged");
	ok(g && tj_int(g, "flagged", -1) == 0 && tj_len(g, "kinds") == 0 &&
	   rt_frame_is(g, "open_listener", "sc-listen.c", rt_ready_int(&p, "line")),
	   "its group: not flagged, open stack names open_listener");
	json_object_put(root);
	trun_free(&r);
	ok(rt_stop(&p), "scenario exits cleanly on EOF");
}

static void case_dup(void)
{
	char *argv[] = { rt_bin("sc-dup"), NULL };
	const char *zero[] = { "--idle", "0ms", NULL };
	struct rt_proc p;
	struct trun r;
	json_object *root, *g, *s, *fds;
	int fd, dupfd;

	rt_case_dir("dup");
	if (!ok(rt_spawn(&p, true, argv), "dup: scenario ready"))
		return;
	fd = (int)rt_ready_int(&p, "fd");
	dupfd = (int)rt_ready_int(&p, "dup");
	root = poll_report(p.pid, zero, pred_sock_flagged, &fd, &r);
	ok(root != NULL, "dup'd client flagged with --idle 0ms");
	if (root) {
		g = rt_group_with_fd(root, fd);
		s = rt_grouped_sock(root, fd);
		fds = tj_get(s, "fds");
		ok(g && tj_int(g, "count", -1) == 1 && tj_len(g, "sockets") == 1,
		   "one socket in its group, not two");
		ok(s && tj_int(s, "fd", -1) == fd && fds && json_object_array_length(fds) == 2 &&
		   json_object_get_int(json_object_array_get_idx(fds, 0)) == fd &&
		   json_object_get_int(json_object_array_get_idx(fds, 1)) == dupfd,
		   "the socket lists both fds (%d, %d)", fd, dupfd);
		ok(tj_int(root, "summary.fds", -1) == tj_int(root, "summary.sockets", -2) + 1,
		   "summary: one more fd than sockets");
		ok(rt_frame_is(g, "dup_client", "sc-dup.c", rt_ready_int(&p, "line")),
		   "named by the original's connect stack");
	}
	json_object_put(root);
	trun_free(&r);
	ok(rt_stop(&p), "scenario exits cleanly on EOF");
}

static void case_rawclose(void)
{
	char *argv[] = { rt_bin("sc-rawclose"), NULL };
	struct rt_proc p;
	struct trun r;
	json_object *root, *st = NULL, *a;
	int fd;

	rt_case_dir("rawclose");
	if (!ok(rt_spawn(&p, true, argv), "rawclose: scenario ready"))
		return;
	fd = (int)rt_ready_int(&p, "fd");
	root = rt_report(p.pid, NULL, &r);
	a = root ? tj_get(root, "stale") : NULL;
	for (size_t i = 0; a && i < json_object_array_length(a); i++)
		if (tj_int(json_object_array_get_idx(a, i), "fd", -1) == fd)
			st = json_object_array_get_idx(a, i);
	ok(root && r.status == 0 && tj_int(root, "summary.stale", -1) == 1,
	   "one stale record, exit 0");
	ok(st && tj_str_is(st, "why", "not-a-socket") &&
	   tj_str_is(st, "now", "closed") && tj_str_is(st, "origin", "socket"),
	   "stale record for fd %d: origin socket, fd now closed", fd);
	ok(root && tj_int(root, "summary.sockets", -1) == 0, "and no socket held");
	json_object_put(root);
	trun_free(&r);
	ok(rt_stop(&p), "scenario exits cleanly on EOF");
}

/* fds reused behind the shim's back by sockets of another peer or family:
 * both records stale although the shim recorded no inode for them. */
static void case_rawreuse(void)
{
	char *argv[] = { rt_bin("sc-rawreuse"), NULL };
	struct rt_proc p;
	struct trun r;
	json_object *root, *a = NULL, *b = NULL, *st;
	int fd, ofd;

	rt_case_dir("rawreuse");
	if (!ok(rt_spawn(&p, true, argv), "rawreuse: scenario ready"))
		return;
	fd = (int)rt_ready_int(&p, "fd");
	ofd = (int)rt_ready_int(&p, "other_fd");
	root = rt_report(p.pid, NULL, &r);
	st = root ? tj_get(root, "stale") : NULL;
	for (size_t i = 0; st && i < json_object_array_length(st); i++) {
		json_object *e = json_object_array_get_idx(st, i);

		if (tj_int(e, "fd", -1) == fd)
			a = e;
		if (tj_int(e, "fd", -1) == ofd)
			b = e;
	}
	ok(root && r.status == 0 && tj_int(root, "summary.stale", -1) == 2 &&
	   tj_int(root, "summary.tracked", -1) == 0 && tj_int(root, "summary.untracked", -1) == 2,
	   "two stale records, both sockets untracked, exit 0");
	ok(a && tj_str_is(a, "why", "other-socket") && tj_str_is(a, "origin", "socket"),
	   "fd %d: UDP socket now connected elsewhere: stale, other socket", fd);
	ok(b && tj_str_is(b, "why", "other-socket"),
	   "fd %d: unix socket where the record says inet: stale, other socket", ofd);
	json_object_put(root);
	trun_free(&r);
	ok(rt_stop(&p), "scenario exits cleanly on EOF");
}

static void case_rawsocket(void)
{
	char *argv[] = { rt_bin("sc-rawsocket"), NULL };
	struct rt_proc p;
	struct trun r;
	json_object *root, *u, *n;
	int fd, nfd;

	rt_case_dir("rawsocket");
	if (!ok(rt_spawn(&p, true, argv), "rawsocket: scenario ready"))
		return;
	fd = (int)rt_ready_int(&p, "fd");
	nfd = (int)rt_ready_int(&p, "netlink_fd");
	root = rt_report(p.pid, NULL, &r);
	u = root ? rt_sock_with_fd(tj_get(root, "untracked"), fd) : NULL;
	n = root ? rt_sock_with_fd(tj_get(root, "untracked"), nfd) : NULL;
	ok(root && r.status == 0 && tj_int(root, "summary.untracked", -1) == 2 &&
	   tj_int(root, "summary.tracked", -1) == 0, "two untracked sockets, none tracked, exit 0");
	ok(u && !tj_bool(u, "tracked") && tj_str_is(u, "label", "dns") &&
	   tj_str_is(u, "peer", "127.0.0.1:53") && tj_get(u, "origin") == NULL,
	   "raw UDP socket to port 53: untracked, labelled DNS");
	ok(n && tj_str_is(n, "label", "netlink"),
	   "raw netlink socket: untracked, labelled netlink/other");
	ok(tj_int(root, "summary.untracked_by_label.dns", -1) == 1 &&
	   tj_int(root, "summary.untracked_by_label.netlink", -1) == 1, "summary counts by label");
	ok(!notes_mention(root, "Go program"), "not a Go program: no such note");
	json_object_put(root);
	trun_free(&r);
	ok(rt_stop(&p), "scenario exits cleanly on EOF");
}

/* The same raw sockets from an executable with Go's sections: the shim is
 * loaded (as in a Go program built with cgo) and the report says why every
 * socket is untracked. */
static void case_gocgo(void)
{
	char *argv[] = { rt_bin("sc-rawsocket-go"), NULL };
	struct rt_proc p;
	struct trun r;
	json_object *root;

	rt_case_dir("gocgo");
	if (access(argv[0], X_OK) != 0) {
		tap_skip_env("no objcopy (binutils): the Go-marked scenario was not built");
		return;
	}
	if (!ok(rt_spawn(&p, true, argv), "gocgo: scenario ready"))
		return;
	root = rt_report(p.pid, NULL, &r);
	ok(root && r.status == 0 && tj_bool(root, "process.instrumented") &&
	   tj_int(root, "summary.untracked", -1) == 2,
	   "a table, and both raw sockets untracked");
	ok(notes_mention(root, "a Go program: Go opens its sockets with raw system calls"),
	   "the report says it is a Go program whose own sockets the shim cannot see");
	json_object_put(root);
	trun_free(&r);
	ok(rt_stop(&p), "scenario exits cleanly on EOF");
}

static void case_python(void)
{
	char *argv[] = { "/usr/bin/python3", rt_src("leak-closewait.py"), "4", NULL };
	const char *cw[] = { "--close-wait", "200ms", NULL };
	int64_t n = 4;
	struct rt_proc p;
	struct trun r;
	json_object *root, *g;
	size_t flagged_groups = 0;

	rt_case_dir("python");
	if (access(argv[0], X_OK) != 0) {
		tap_skip_env("/usr/bin/python3 is not installed");
		return;
	}
	if (!ok(rt_spawn(&p, true, argv), "python: scenario ready"))
		return;
	root = poll_report(p.pid, cw, pred_flagged_n, &n, &r);
	ok(root != NULL, "python leaker: %lld connections flagged", (long long)n);
	if (root) {
		json_object *groups = tj_get(root, "groups");

		for (size_t i = 0; i < json_object_array_length(groups); i++)
			if (tj_int(json_object_array_get_idx(groups, i), "flagged", 0) > 0)
				flagged_groups++;
		g = json_object_array_get_idx(groups, 0);
		ok(flagged_groups == 1 && tj_int(g, "count", -1) == n &&
		   tj_int(g, "flagged", -1) == n && kinds_are(g, "close-wait") &&
		   tj_int(g, "states.CLOSE_WAIT.count", -1) == n,
		   "one group, count %lld, all CLOSE_WAIT (%zu flagged groups)", (long long)n,
		   flagged_groups);
		ok(tj_len(g, "frames") > 0 && tj_str_is(g, "stack", "connect"),
		   "grouped by the interpreter's connect stack");
		ok(r.status == 1, "exit 1");
	}
	json_object_put(root);
	trun_free(&r);
	ok(rt_stop(&p), "python scenario exits cleanly on EOF");
}

static void case_static(void)
{
	char *argv[] = { rt_bin("sc-closewait-static"), NULL };
	const char *cw[] = { "--close-wait", "200ms", NULL };
	struct rt_proc p;
	struct trun r;
	json_object *root, *g, *s;
	const char *dir = rt_case_dir("static");
	char table[4200];
	uint64_t st;
	int fd;

	if (access(argv[0], X_OK) != 0) {
		tap_skip_env("the toolchain cannot link -static (no libc.a: libc6-dev)");
		return;
	}
	if (!ok(rt_spawn(&p, true, argv), "static: scenario ready (LD_PRELOAD set, no effect)"))
		return;
	fd = (int)rt_ready_int(&p, "fd");
	ok(proc_read_starttime(p.pid, &st) &&
	   sa_table_find(dir, (uint32_t)geteuid(), p.pid, 0, table, sizeof(table)) < 0,
	   "no table was written");
	root = rt_report(p.pid, cw, &r);
	ok(root && r.status == 0 && !tj_bool(root, "process.instrumented") &&
	   jstr_has(root, "process.why_not_instrumented", "statically linked"),
	   "kernel-only report, reason: statically linked");
	ok(root && tj_int(root, "summary.tracked", -1) == 0 &&
	   tj_int(root, "summary.untracked", -1) == 3, "listener and both ends: all untracked");
	json_object_put(root);
	trun_free(&r);

	ok(rt_command(&p, "close", "closed"), "server side closed");
	root = poll_report(p.pid, cw, pred_sock_flagged, &fd, &r);
	ok(root != NULL, "the leak rule still applies: CLOSE_WAIT flagged");
	if (root) {
		g = rt_group_with_fd(root, fd);
		s = rt_grouped_sock(root, fd);
		ok(r.status == 1 && g && tj_str_is(g, "no_stack", "process not instrumented") &&
		   tj_len(g, "frames") == 0 && kinds_are(g, "close-wait") && s &&
		   !tj_bool(s, "tracked"),
		   "grouped under (no stack: process not instrumented), exit 1");
		ok(tj_str_is(g, "title", "(no stack: process not instrumented)"),
		   "group title says why there is no stack");
	}
	json_object_put(root);
	trun_free(&r);
	{
		char pid[16];
		const char *text[] = { "report", "--close-wait", "200ms", pid, NULL };

		snprintf(pid, sizeof(pid), "%d", (int)p.pid);
		ok(rt_sockaudit(&r, text) && r.status == 1 && strstr(r.out, "statically linked") &&
		   strstr(r.out, "(no stack: process not instrumented)"),
		   "text report says why in one sentence");
		trun_free(&r);
	}
	ok(rt_stop(&p), "scenario exits cleanly on EOF");
}

static void case_exec(void)
{
	char *argv[] = { rt_bin("sc-exec"), NULL };
	const char *zero[] = { "--close-wait", "0ms", NULL };
	struct rt_proc p;
	struct trun r;
	json_object *root, *g;
	int fd;

	rt_case_dir("exec");
	if (!ok(rt_spawn(&p, true, argv), "exec: scenario ready after its execve()"))
		return;
	fd = (int)rt_ready_int(&p, "fd");
	root = poll_report(p.pid, zero, pred_sock_flagged, &fd, &r);
	ok(root != NULL, "socket kept across exec flagged in CLOSE_WAIT");
	if (root) {
		g = rt_group_with_fd(root, fd);
		ok(tj_int(root, "process.generation", -1) == 2 && tj_int(g, "generation", -1) == 1,
		   "table at image generation 2, the record's stack from generation 1");
		ok(rt_frame_is(g, "exec_client", "sc-exec.c", rt_ready_int(&p, "line")),
		   "stack of the earlier image resolved from the module log");
		ok(tj_str_is(rt_grouped_sock(root, fd), "origin", "inherited-exec"),
		   "origin inherited-exec");
	}
	json_object_put(root);
	trun_free(&r);
	ok(rt_stop(&p), "scenario exits cleanly on EOF");
}

/* Another user's process in a network namespace sockaudit may not enter:
 * the kernel view falls back to /proc/<pid>/net, which has no tcp_info. A
 * CLOSE_WAIT socket is then a finding of unknown age: listed, not flagged.
 * Needs root (to become another user), setpriv, and unshare -rn allowed. */
static void case_procnet(void)
{
	static const char *const as_nobody[] = { "/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
						  "--clear-groups", NULL };
	const char *cw[] = { "--close-wait", "0ms", NULL };
	char *bin = rt_bin("sc-closewait"), script[4200];
	char *argv[] = { "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			 "/usr/bin/unshare", "-rn", "/bin/sh", "-c", script, NULL };
	struct rt_proc p;
	struct trun r;
	json_object *root, *g, *s;
	int fd;

	rt_case_dir("procnet");
	if (geteuid() != 0 || access(argv[0], X_OK) != 0 || access(argv[4], X_OK) != 0) {
		tap_skip_env("procnet needs root, setpriv and unshare (uid %u)", (unsigned)geteuid());
		return;
	}
	/* The new namespace's loopback starts down. */
	snprintf(script, sizeof(script), "ip link set lo up && exec %s", bin);
	if (!rt_spawn(&p, false, argv)) {
		ok(true, "# SKIP unprivileged user and network namespaces are not available here");
		return;
	}
	fd = (int)rt_ready_int(&p, "fd");
	ok(rt_command(&p, "close", "closed"), "server side closed");
	rt_set_runner(as_nobody);
	root = rt_report(p.pid, cw, &r);
	g = root ? rt_group_with_fd(root, fd) : NULL;
	s = root ? rt_grouped_sock(root, fd) : NULL;
	ok(root && tj_str_is(root, "kernel.source", "procnet") && tj_bool(root, "kernel.other_netns") &&
	   tj_len(root, "notes") >= 1, "kernel view from /proc/<pid>/net, with a note");
	ok(s && tj_str_is(s, "state", "CLOSE_WAIT") && !tj_bool(s, "flagged") &&
	   tj_str_is(s, "kind", "close-wait-age-unknown") && tj_get(s, "close_wait_ms") == NULL,
	   "CLOSE_WAIT of unknown age: a finding, not flagged, no age");
	ok(g && kinds_are(g, "close-wait-age-unknown") && tj_int(g, "suspect", -1) == 1 &&
	   tj_int(root, "summary.suspect", -1) == 1 && tj_int(root, "summary.flagged", -1) == 0 &&
	   r.status == 0, "grouped as close-wait-age-unknown, exit 0 even with --close-wait 0ms");
	json_object_put(root);
	trun_free(&r);
	rt_set_runner(NULL);
	ok(rt_stop(&p), "scenario exits cleanly on EOF");
}

static json_object *list_json(const char *const *extra, struct trun *r)
{
	const char *args[16] = { "list", "--json" };
	size_t n = 2;
	json_object *root;

	for (; extra && *extra && n < 15; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	if (!rt_sockaudit(r, args))
		return NULL;
	root = json_tokener_parse(r->out);
	if (!root)
		diag("list: exit %d, no JSON; stderr: %s", r->status, r->err);
	return root;
}

static json_object *list_entry(json_object *root, pid_t pid)
{
	json_object *a = tj_get(root, "processes");

	for (size_t i = 0; a && i < json_object_array_length(a); i++)
		if (tj_int(json_object_array_get_idx(a, i), "pid", -1) == pid)
			return json_object_array_get_idx(a, i);
	return NULL;
}

static void case_dead(void)
{
	char *argv[] = { rt_bin("sc-closewait"), NULL };
	const char *dir = rt_case_dir("dead");
	struct rt_proc p;
	struct trun r;
	json_object *root, *g;
	char table[4200], pid[16];
	const char *gc[] = { "--gc", NULL };
	pid_t dead;
	long line;
	int fd;

	if (!ok(rt_spawn(&p, true, argv), "dead: scenario ready"))
		return;
	fd = (int)rt_ready_int(&p, "fd");
	line = rt_ready_int(&p, "line");
	ok(rt_command(&p, "close", "closed"), "server side closed");
	dead = p.pid;
	rt_kill(&p);
	ok(sa_table_find(dir, (uint32_t)geteuid(), dead, 0, table, sizeof(table)) == 0,
	   "SIGKILL left the table behind");
	root = rt_report(dead, NULL, &r);
	g = root ? rt_group_with_fd(root, fd) : NULL;
	ok(root && r.status == 0 && !tj_bool(root, "process.alive") &&
	   tj_bool(root, "process.instrumented") && tj_int(root, "summary.flagged", -1) == 0,
	   "report of a gone process: from its table, nothing flagged, exit 0");
	ok(g && !tj_bool(rt_grouped_sock(root, fd), "held") &&
	   rt_frame_is(g, "leak_client", "sc-closewait.c", line),
	   "its sockets are listed with stacks resolved from the module log");
	ok(tj_len(root, "notes") >= 1, "a note says the process is gone");
	json_object_put(root);
	trun_free(&r);

	root = list_json(NULL, &r);
	ok(root && r.status == 0 && list_entry(root, dead) &&
	   !tj_bool(list_entry(root, dead), "alive") && tj_bool(list_entry(root, dead), "readable"),
	   "list shows it, gone");
	json_object_put(root);
	trun_free(&r);
	root = list_json(gc, &r);
	ok(root && r.status == 0 && tj_bool(list_entry(root, dead), "removed") &&
	   tj_int(root, "removed", -1) == 1, "list --gc removes its table");
	json_object_put(root);
	trun_free(&r);
	ok(access(table, F_OK) != 0 && errno == ENOENT, "the file is gone");
	snprintf(pid, sizeof(pid), "%d", (int)dead);
	{
		const char *args[] = { "report", pid, NULL };

		ok(fails_cleanly(args, "no such process"), "report after gc: no such process, exit 2");
	}
}


/* Sockets opened and closed while `report` reads (between its snapshots,
 * or before the kernel's dump) are no finding: every socket a report lists
 * while 64 threads churn through libc is tracked, and no TCP or UDP
 * socket is taken for netlink. */
#define CHURN_REPORTS 40

static void case_churn(void)
{
	char *argv[] = { rt_bin("sc-churn"), NULL };
	const char *all[] = { "--all", NULL };
	size_t reports = 0, phantom = 0, mislabelled = 0;
	struct rt_proc p;
	struct trun r;

	rt_case_dir("churn");
	if (!ok(rt_spawn(&p, true, argv), "churn: scenario ready"))
		return;
	for (int i = 0; i < CHURN_REPORTS; i++) {
		json_object *root = rt_report(p.pid, all, &r);

		if (root && r.status == 0) {
			reports++;
			if (tj_int(root, "summary.untracked", -1) != 0) {
				phantom++;
				diag("report %d: %ld untracked of %ld sockets", i,
				     tj_int(root, "summary.untracked", -1),
				     tj_int(root, "summary.sockets", -1));
			}
			if (tj_int(root, "summary.untracked_by_label.netlink", -1) != 0)
				mislabelled++;
		} else {
			diag("report %d: status %d: %s", i, r.status, r.err);
		}
		json_object_put(root);
		trun_free(&r);
	}
	ok(reports == CHURN_REPORTS, "churn: %d reports while the process churns (%zu read)", CHURN_REPORTS, reports);
	ok(phantom == 0, "churn: no report lists a socket opened and closed while it read "
	   "(%zu of %zu did)", phantom, reports);
	ok(mislabelled == 0, "churn: no socket labelled netlink (%zu reports did)", mislabelled);
	ok(rt_stop(&p), "churn: scenario exits cleanly on EOF");
}

/* A table file that passes every check, for (uid, pid, starttime). */
static void *valid_table(uint32_t uid, pid_t pid, uint64_t starttime, size_t *len)
{
	struct sa_header h;
	uint64_t size;
	void *buf;

	memset(&h, 0, sizeof(h));
	size = sa_layout(&h, 64);
	h.depth = SA_MAX_FRAMES;
	h.uid = uid;
	h.pid = pid;
	h.starttime = starttime;
	h.generation = 1;
	h.ppid = 1;
	h.exit_status = -1;
	buf = calloc(1, size);
	if (!buf)
		bail("out of memory");
	memcpy(buf, &h, sizeof(h));
	*len = size;
	return buf;
}

static bool report_of(pid_t pid, int want_status, const char *needle)
{
	char spid[16];
	const char *args[] = { "report", spid, NULL };

	snprintf(spid, sizeof(spid), "%d", (int)pid);
	if (want_status == 2)
		return fails_cleanly(args, needle);
	{
		struct trun r;
		bool good = rt_sockaudit(&r, args) && r.status == want_status;

		if (!good)
			diag("exit %d; stderr: %s", r.status, r.err);
		trun_free(&r);
		return good;
	}
}

static void case_badinput(void)
{
	char *argv[] = { rt_bin("sc-listen"), NULL };
	const char *dir = rt_case_dir("badinput");
	uint32_t uid = (uint32_t)geteuid();
	char name[128], path[4200], other[4200], spid[16];
	struct rt_proc p;
	uint64_t st = 0;
	size_t len;
	void *table;
	char garbage[8192];

	{
		const char *a[] = { "report", "1073741823", NULL };

		ok(fails_cleanly(a, "no such process"), "no such pid: one line, exit 2");
	}
	if (!ok(rt_spawn(&p, false, argv), "badinput: uninstrumented target ready"))
		return;
	snprintf(spid, sizeof(spid), "%d", (int)p.pid);
	proc_read_starttime(p.pid, &st);
	sa_table_name(name, sizeof(name), uid, p.pid, st);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(other, sizeof(other), "%s/elsewhere", dir);
	table = valid_table(uid, p.pid, st, &len);

	ok(report_of(p.pid, 0, NULL), "no table: a kernel-only report, exit 0");
	ok(rt_write_file(path, table, len, 0600) && report_of(p.pid, 0, NULL),
	   "control: a sound table under its name is accepted");
	unlink(path);
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)(i * 131 + 7);
	ok(rt_write_file(path, garbage, sizeof(garbage), 0600) &&
	   report_of(p.pid, 2, "not a sockaudit table"), "garbage table: one line, exit 2");
	unlink(path);
	ok(rt_write_file(path, table, 100, 0600) && report_of(p.pid, 2, "truncated"),
	   "table shorter than its header: one line, exit 2");
	unlink(path);
	ok(rt_write_file(path, table, 8192, 0600) && report_of(p.pid, 2, "size"),
	   "table cut short of its header's size: one line, exit 2");
	unlink(path);
	ok(rt_write_file(path, table, len, 0644) && report_of(p.pid, 2, "0644"),
	   "0644 table: one line, exit 2");
	unlink(path);
	if (geteuid() == 0) {
		ok(rt_write_file(path, table, len, 0600) && chown(path, 65534, 65534) == 0 &&
		   report_of(p.pid, 2, "owned by uid 65534"), "foreign-owned table: one line, exit 2");
		unlink(path);
	} else {
		tap_skip_env("foreign-owned table: needs root to chown");
	}
	ok(rt_write_file(other, table, len, 0600) && symlink(other, path) == 0 &&
	   report_of(p.pid, 2, "symbolic link"), "symlink at the table's name: refused, exit 2");
	unlink(path);
	ok(symlink("/nonexistent/sockaudit-table", path) == 0 &&
	   report_of(p.pid, 2, "symbolic link"),
	   "dangling symlink at the table's name: refused, exit 2 (not \"no table\")");
	unlink(path);
	ok(mkfifo(path, 0600) == 0 && report_of(p.pid, 2, "not a regular file"),
	   "FIFO at the table's name: refused without hanging, exit 2");
	unlink(path);
	free(table);
	table = valid_table(uid, p.pid + 1, st, &len);
	ok(rt_write_file(path, table, len, 0600) && report_of(p.pid, 2, "belongs to pid"),
	   "table whose header names another pid: one line, exit 2");
	unlink(path);
	free(table);

	{
		static const char *const bad[][8] = {
			{ "report", "--close-wait", "5x", "1", NULL },
			{ "report", "--idle", "", "1", NULL },
			{ "report", "--threshold", "-1", "1", NULL },
			{ "report", "--idle", "1.5", "1", NULL },
			{ "report", "--close-wait", "99999999999999999999h", "1", NULL },
			{ "list", "--idle", "soon", NULL },
		};
		static const char *const flags[][8] = {
			{ "report", "--bogus", "1", NULL },
			{ "report", "-x", "1", NULL },
			{ "report", "--json=yes", "1", NULL },
			{ "report", "1", "--idle", NULL },
			{ "report", "--exit-code", "256", "1", NULL },
			{ "report", "--exit-code", "abc", "1", NULL },
			{ "report", "--color=sometimes", "1", NULL },
			{ "report", NULL },
			{ "report", "1", "2", NULL },
			{ "report", "abc", NULL },
			{ "report", "0", NULL },
			{ "report", "-5", NULL },
			{ "list", "--bogus", NULL },
			{ "list", "extra", NULL },
			{ "frobnicate", NULL },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			ok(fails_cleanly((const char *const *)bad[i], "bad duration"),
			   "bad duration: %s %s '%s': one line, exit 2", bad[i][0], bad[i][1],
			   bad[i][2]);
		for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
			ok(fails_cleanly((const char *const *)flags[i], NULL),
			   "bad usage: %s %s %s: one line, exit 2", flags[i][0],
			   flags[i][1] ? flags[i][1] : "",
			   flags[i][1] && flags[i][2] ? flags[i][2] : "");
	}
	ok(rt_stop(&p), "target exits cleanly on EOF");
}

static void case_list(void)
{
	char *cw_argv[] = { rt_bin("sc-closewait"), NULL }, *l_argv[] = { rt_bin("sc-listen"), NULL };
	char *i_argv[] = { rt_bin("sc-idle"), NULL };
	const char *dir = rt_case_dir("list");
	const char *cw[] = { "--close-wait", "200ms", NULL }, *gc[] = { "--gc", NULL };
	struct rt_proc a, b, c;
	struct trun r;
	json_object *root = NULL, *e;
	uint32_t uid = (uint32_t)geteuid();
	char name[128], victim[4200], link_path[4200], lax[4200], foreign[4200], otheruid[4200];
	char table_c[4200], table_a[4200], table_b[4200];
	pid_t dead_c, p1 = rt_free_pid(), p2 = rt_free_pid(), p3 = rt_free_pid();
	pid_t p4 = rt_free_pid();
	uint64_t deadline;

	if (!ok(rt_spawn(&a, true, cw_argv) && rt_spawn(&b, true, l_argv) && rt_spawn(&c, true, i_argv),
		"list: three instrumented scenarios ready"))
		return;
	ok(rt_command(&a, "close", "closed"), "A: server side closed (CLOSE_WAIT)");
	sa_table_find(dir, uid, a.pid, 0, table_a, sizeof(table_a));
	sa_table_find(dir, uid, b.pid, 0, table_b, sizeof(table_b));
	sa_table_find(dir, uid, c.pid, 0, table_c, sizeof(table_c));
	dead_c = c.pid;
	rt_kill(&c);

	/* Files that look like tables of gone processes but are not ours to remove. */
	snprintf(victim, sizeof(victim), "%s/../list-victim", dir);
	unlink(victim);
	ok(rt_write_file(victim, "precious", 8, 0600), "a file outside the table directory");
	sa_table_name(name, sizeof(name), uid, p1, 1);
	snprintf(link_path, sizeof(link_path), "%s/%s", dir, name);
	ok(symlink(victim, link_path) == 0, "a symlink named like a gone process's table");
	sa_table_name(name, sizeof(name), uid, p2, 1);
	snprintf(lax, sizeof(lax), "%s/%s", dir, name);
	ok(rt_write_file(lax, "x", 1, 0644), "a 0644 file named like a gone process's table");
	sa_table_name(name, sizeof(name), uid, p3, 1);
	snprintf(foreign, sizeof(foreign), "%s/%s", dir, name);
	ok(rt_write_file(foreign, "x", 1, 0600), "a file for the foreign-owner case");
	if (geteuid() == 0 && chown(foreign, 65534, 65534) != 0)
		diag("chown: %s", strerror(errno));
	sa_table_name(name, sizeof(name), uid + 1, p4, 1);
	snprintf(otheruid, sizeof(otheruid), "%s/%s", dir, name);
	ok(rt_write_file(otheruid, "x", 1, 0600), "a table name of another uid, owned by us");

	deadline = trun_now_ms() + RT_POLL_MS;
	for (;;) {
		struct timespec pause = { 0, 50 * 1000 * 1000 };

		root = list_json(cw, &r);
		e = root ? list_entry(root, a.pid) : NULL;
		if ((e && tj_int(e, "flagged", -1) == 1) || trun_now_ms() >= deadline)
			break;
		json_object_put(root);
		trun_free(&r);
		nanosleep(&pause, NULL);
	}
	ok(root && r.status == 0 && tj_str_is(root, "schema", "sockaudit.list/1"),
	   "list --json: schema sockaudit.list/1, exit 0");
	e = list_entry(root, a.pid);
	ok(e && tj_bool(e, "alive") && tj_int(e, "tracked", -1) == 2 &&
	   tj_int(e, "flagged", -1) == 1 && jstr_has(e, "command", "sc-closewait"),
	   "A: alive, 2 tracked, 1 flagged, its command");
	e = list_entry(root, b.pid);
	ok(e && tj_bool(e, "alive") && tj_int(e, "tracked", -1) == 1 &&
	   tj_int(e, "flagged", -1) == 0,
	   "B: alive, 1 tracked (listener), nothing flagged");
	e = list_entry(root, dead_c);
	ok(e && !tj_bool(e, "alive") && tj_bool(e, "readable") && tj_int(e, "tracked", -1) == 3,
	   "C (killed): gone, its 3 records still counted");
	e = list_entry(root, p1);
	ok(e && !tj_bool(e, "readable") && jstr_has(e, "error", "symbolic link"),
	   "symlink entry: unreadable, never followed");
	e = list_entry(root, p2);
	ok(e && !tj_bool(e, "readable") && jstr_has(e, "error", "0644"),
	   "0644 entry: unreadable");
	{
		/* As root, list also shows audited processes of other
		 * namespaces (other tests' containers may run meanwhile):
		 * count this directory's entries only. */
		size_t here = 0;

		for (size_t i = 0; i < tj_len(root, "processes"); i++)
			here += !tj_bool(json_object_array_get_idx(tj_get(root, "processes"), i),
					 "other_namespace");
		/* Root lists every user's tables, but a file must belong to
		 * the uid its name gives; others see only their own. */
		e = list_entry(root, p4);
		if (geteuid() == 0)
			ok(here == 7 && e && !tj_bool(e, "readable") && jstr_has(e, "error", "owned by uid"),
			   "root: another uid's name is listed, unreadable: not owned by that uid "
			   "(%zu entries; %s)", here, e ? tj_str(e, "error") ?: "" : "none");
		else
			ok(here == 6 && !e, "another uid's table is not listed (%zu entries)", here);
	}
	json_object_put(root);
	trun_free(&r);
	{
		const char *text[] = { "list", NULL };

		ok(rt_sockaudit(&r, text) && r.status == 0 && strstr(r.out, "sc-closewait") &&
		   strstr(r.out, "--gc"), "text list: commands, and a hint to --gc");
		trun_free(&r);
	}

	root = list_json(gc, &r);
	ok(root && r.status == 0 && tj_bool(list_entry(root, dead_c), "removed"),
	   "--gc removes the table of the killed process");
	ok(access(table_c, F_OK) != 0 && access(table_a, F_OK) == 0 && access(table_b, F_OK) == 0,
	   "--gc leaves the live processes' tables");
	ok(!tj_bool(list_entry(root, p1), "removed") && access(victim, F_OK) == 0 &&
	   faccessat(AT_FDCWD, link_path, F_OK, AT_SYMLINK_NOFOLLOW) == 0,
	   "--gc leaves the symlink and what it points to");
	ok(!tj_bool(list_entry(root, p2), "removed") && access(lax, F_OK) == 0,
	   "--gc leaves a 0644 file");
	if (geteuid() == 0)
		ok(!tj_bool(list_entry(root, p3), "removed") && access(foreign, F_OK) == 0,
		   "--gc leaves a foreign-owned file");
	else
		ok(tj_bool(list_entry(root, p3), "removed"),
		   "--gc removes our own 0600 file of a gone pid (not root: no foreign owner)");
	ok(access(otheruid, F_OK) == 0, "--gc leaves another uid's name alone");
	ok(tj_int(root, "removed", -1) == (geteuid() == 0 ? 1 : 2), "removed count");
	json_object_put(root);
	trun_free(&r);
	unlink(victim);
	ok(rt_stop(&a) && rt_stop(&b), "scenarios exit cleanly on EOF");
}

/* Per-site counts on the group of the one held connection (report/growth.h). */
static void counts_case(const char *mode)
{
	char *argv[] = { tlib_path("RT_BIN_DIR", "sc-counts"), (char *)mode, NULL };
	const char *all[] = { "--all", NULL };
	char pidtxt[16];
	struct tlib_host p;
	struct trun r;
	json_object *root, *g;
	pid_t target;
	int fd;

	tlib_case_dir(tlib_env("RT_TABLES"), strcmp(mode, "single") == 0 ? "counts" : mode);
	if (!ok(tlib_host_ready(&p, true, argv), "counts %s: scenario ready", mode))
		return;
	fd = (int)tlib_ready_int(&p, "fd");
	target = (pid_t)tlib_ready_int(&p, "pid");
	root = tlib_report(target, all, &r);
	g = root ? tj_group_with_fd(root, fd) : NULL;
	ok(g && tj_int(g, "opened_total", -1) == 100 && tj_int(g, "closed_total", -1) == 99 &&
	   tj_int(g, "held", -1) == 1 && tj_int(g, "collected_total", -1) == 0,
	   "counts %s: the site's group says opened 100, closed 99, held 1, none collected "
	   "(got %lld, %lld)",
	   mode, (long long)tj_int(g, "opened_total", -1), (long long)tj_int(g, "closed_total", -1));
	{
		const char *fn = NULL, *base = NULL;
		long line = 0;

		ok(g && tj_first_frame(g, &fn, &base, &line) && fn &&
		   strcmp(fn, "count_client") == 0,
		   "counts %s: the group is the site's, count_client", mode);
	}
	ok(g && tj_get(g, "growth") && !tj_bool(g, "growth.growing"),
	   "counts %s: one held socket is no growth", mode);
	json_object_put(root);
	trun_free(&r);

	snprintf(pidtxt, sizeof(pidtxt), "%d", (int)target);
	{
		const char *args[] = { "report", "--all", "--color", "never", pidtxt, NULL };

		ok(tlib_cli(&r, args) &&
		   strstr(r.out, "opened 100, closed 99, held 1: 1 in 100 never closed"),
		   "counts %s: text says \"opened 100, closed 99, held 1: 1 in 100 never closed\"",
		   mode);
		if (!strstr(r.out, "opened 100"))
			diag("%s", r.out);
		trun_free(&r);
	}
	if (strcmp(mode, "fork") == 0) {
		/* The parent holds 5 from the same site; its counts are its own. */
		root = tlib_report((pid_t)tlib_ready_int(&p, "parent"), all, &r);
		g = root ? tj_group_with_fd(root, (int)tlib_ready_int(&p, "parent_fd")) : NULL;
		ok(g && tj_int(g, "opened_total", -1) == 5 && tj_int(g, "closed_total", -1) == 0,
		   "counts fork: the parent's site says opened 5, closed 0 (got %lld, %lld)",
		   (long long)tj_int(g, "opened_total", -1),
		   (long long)tj_int(g, "closed_total", -1));
		json_object_put(root);
		trun_free(&r);
	}
	ok(tlib_host_stop(&p, 0, TLIB_GRACE_MS) == 0, "counts %s: scenario exits cleanly on EOF", mode);
}

static void case_counts(void) { counts_case("single"); }
static void case_counts_threads(void) { counts_case("threads"); }
static void case_counts_fork(void) { counts_case("fork"); }

/* A site whose held sockets keep growing: a rate, and the time left
 * until RLIMIT_NOFILE (1024 in the scenario) at that rate. */
static void case_counts_grow(void)
{
	char *argv[] = { tlib_path("RT_BIN_DIR", "sc-counts"), "grow", NULL };
	const char *all[] = { "--all", NULL };
	struct tlib_host p;
	struct trun r;
	json_object *root, *g;
	int fd;

	tlib_case_dir(tlib_env("RT_TABLES"), "counts-grow");
	if (!ok(tlib_host_ready(&p, true, argv), "grow: scenario ready"))
		return;
	fd = (int)tlib_ready_int(&p, "fd");
	root = tlib_report(p.pid, all, &r);
	g = root ? tj_group_with_fd(root, fd) : NULL;
	ok(g && tj_bool(g, "growth.growing"), "grow: the group is growing");
	/* 10 an hour... per second: 36,000 an hour, give or take a slow run. */
	ok(g && tj_get(g, "growth.per_hour") &&
	   json_object_get_double(tj_get(g, "growth.per_hour")) > 10000 &&
	   json_object_get_double(tj_get(g, "growth.per_hour")) < 60000,
	   "grow: about 36,000 an hour (%s)",
	   g && tj_get(g, "growth.per_hour") ? json_object_get_string(tj_get(g, "growth.per_hour"))
					     : "none");
	ok(root && tj_int(root, "process.nofile_limit", -1) == 1024,
	   "grow: the process's limit read from /proc/<pid>/limits");
	ok(g && tj_int(g, "growth.exhausts_in_s", -1) >= 40 &&
	   tj_int(g, "growth.exhausts_in_s", -1) <= 400,
	   "grow: out of descriptors in about 100 s at that rate (%lld)",
	   (long long)tj_int(g, "growth.exhausts_in_s", -1));
	json_object_put(root);
	trun_free(&r);
	{
		char pidtxt[16];
		const char *args[] = { "report", "--all", "--color", "never", pidtxt, NULL };

		snprintf(pidtxt, sizeof(pidtxt), "%d", (int)p.pid);
		ok(tlib_cli(&r, args) && strstr(r.out, "growing by ") &&
		   strstr(r.out, "at this rate it runs out of descriptors in about "),
		   "grow: the text says how fast and when it runs out");
		trun_free(&r);
	}
	ok(tlib_host_stop(&p, 0, TLIB_GRACE_MS) == 0, "grow: scenario exits cleanly on EOF");
}

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "closewait", case_closewait },
	{ "idle", case_idle },
	{ "closed", case_closed },
	{ "listen", case_listen },
	{ "dup", case_dup },
	{ "rawclose", case_rawclose },
	{ "rawreuse", case_rawreuse },
	{ "rawsocket", case_rawsocket },
	{ "gocgo", case_gocgo },
	{ "python", case_python },
	{ "static", case_static },
	{ "exec", case_exec },
	{ "procnet", case_procnet },
	{ "dead", case_dead },
	{ "badinput", case_badinput },
	{ "list", case_list },
	{ "churn", case_churn },
	{ "counts", case_counts },
	{ "counts-threads", case_counts_threads },
	{ "counts-fork", case_counts_fork },
	{ "counts-grow", case_counts_grow },
};

int main(int argc, char **argv)
{
	/* A scenario that dies early must not kill us on the next write. */
	signal(SIGPIPE, SIG_IGN);
	if (argc != 2)
		bail("usage: test-report <case>");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(argv[1], cases[i].name) == 0) {
			cases[i].fn();
			return tlib_finish(tap_done());
		}
	bail("no case '%s'", argv[1]);
}
