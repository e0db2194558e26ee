/* Language frames end to end: real programs (C++, Rust, Python, the
 * machine's node) leak one connection from each of two functions, on lines
 * marked LEAK-A and LEAK-B in their source; `sockaudit report` and
 * `sockaudit run` (JSON, text, SARIF) must show two groups, each naming its
 * function as the language spells it at the marked file:line. And closes
 * made outside close() (libuv's syscall(SYS_close), a raw instruction).
 *
 * usage: test-lang CASE PROGRAM [ARGS...]   (one case per test, see
 * meson.build). A program prints "ready [pid=N]" once its leaks are held
 * (pid: the process to audit, when it is a child) and exits on EOF on
 * stdin; given the extra argument "exit" it leaves at once, leaks held.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../tap.h"
#include "tlib.h"

#define MAX_ARGS 16

struct expect {
	const char *mark;       /* the line in the source ends with it */
	const char *function;   /* as the report must name it */
	const char *linkage;    /* prefix of the linkage name; NULL: none */
};

struct lang_case {
	const char *name;
	const char *src;        /* in LANG_SRC_DIR */
	struct expect e[2];
	const char *lang;       /* of the language frames: "python" unless said */
	bool report_only;       /* the program cannot leave with its leaks held */
};

static const struct lang_case cases[] = {
	{ "cpp", "leak.cpp", {
		{ "LEAK-A", "feed::Client::open(int)", "_ZN4feed6Client4open" },
		{ "LEAK-B", "int feed::reconnect<long>(sockaddr_in const&, long)",
		  "_ZN4feed9reconnectIlEEiRK11sockaddr_inT_" } } },
	{ "rust", "leak.rs", {
		{ "LEAK-A", "leak::feed::Client::open", "_ZN4leak4feed6Client4open17h" },
		{ "LEAK-B", "leak::feed::reconnect", "_ZN4leak4feed9reconnect17h" } } },
	{ "rust-v0", "leak.rs", {
		{ "LEAK-A", "<leak::feed::Client>::open", "_R" },
		{ "LEAK-B", "leak::feed::reconnect::<u32>", "_R" } } },
#define PY(name, mode, a, b) \
	{ name, "leak.py", { { "LEAK-A-" mode, a, NULL }, { "LEAK-B-" mode, b, NULL } } }
	PY("python-socket", "socket", "socket_a", "Client.open_b"),
	PY("python-http", "http", "http_a", "http_b"),
	PY("python-urllib", "urllib", "urllib_a", "urllib_b"),
	PY("python-requests", "requests", "requests_a", "requests_b"),
	PY("python-accept", "accept", "accept_a", "accept_b"),
	PY("python-threads", "socket", "socket_a", "Client.open_b"),
	PY("python-fork", "socket", "socket_a", "Client.open_b"),
	PY("python-embed", "socket", "socket_a", "Client.open_b"),
#undef PY
	{ "node-frames", "leak.js", {
		{ "LEAK-A-node", "Client.open", NULL },
		{ "LEAK-B-node", "reconnect", NULL } }, "node" },
	{ "node-http", "leak-http.js", {
		{ "LEAK-A-http", "fetchA", NULL },
		{ "LEAK-B-http", "fetchB", NULL } }, "node" },
	{ "node-worker", "leak-worker.js", {
		{ "LEAK-A-worker", "openA", NULL },
		{ "LEAK-B-worker", "openB", NULL } }, "node", true },
	/* The same two sites, from the main thread and from an
	 * ExecutorService's threads (three sockets each: one group each). */
	{ "java-main", "Leak.java", {
		{ "LEAK-A-java", "feed.Leak$Client.open", NULL },
		{ "LEAK-B-java", "feed.Leak.reconnect", NULL } }, "java" },
	{ "java-executor", "Leak.java", {
		{ "LEAK-A-java", "feed.Leak$Client.open", NULL },
		{ "LEAK-B-java", "feed.Leak.reconnect", NULL } }, "java" },
};

static char *src_path(const char *name)
{
	return tlib_path("LANG_SRC_DIR", name);
}

/* The line of src whose text ends with mark; bails when there is none. */
static long marked_line(const char *src, const char *mark)
{
	char *path = src_path(src), line[1024];
	FILE *f = fopen(path, "re");
	long n = 0;

	if (!f)
		bail("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line), mlen = strlen(mark);

		n++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == ' '))
			line[--len] = '\0';
		if (len >= mlen && strcmp(line + len - mlen, mark) == 0) {
			fclose(f);
			free(path);
			return n;
		}
	}
	bail("%s: no line marked %s", path, mark);
	return -1;
}

static const char *base_of(const char *p)
{
	const char *b = p ? strrchr(p, '/') : NULL;

	return b ? b + 1 : p;
}

/* How many frames of doc's groups are at base:line; the last one found. */
static size_t frames_at(json_object *doc, const char *base, long line, json_object **group,
			json_object **frame)
{
	json_object *groups = tj_get(doc, "groups");
	size_t n = 0;

	for (size_t i = 0; groups && i < json_object_array_length(groups); i++) {
		json_object *g = json_object_array_get_idx(groups, i);
		json_object *fr = tj_get(g, "frames");

		for (size_t k = 0; fr && k < json_object_array_length(fr); k++) {
			json_object *f = json_object_array_get_idx(fr, k);
			const char *file = tj_str(f, "file");

			if (file && strcmp(base_of(file), base) == 0 && tj_int(f, "line", -1) == line) {
				n++;
				*group = g;
				*frame = f;
			}
		}
	}
	return n;
}

static void check_frames(const char *what, json_object *doc, const struct lang_case *cs)
{
	struct lang_case copy = *cs;
	const struct lang_case *c = &copy;

	if (!copy.lang)
		copy.lang = "python";
	json_object *groups[2] = { NULL, NULL };

	for (int i = 0; i < 2; i++) {
		const struct expect *e = &c->e[i];
		long line = marked_line(c->src, e->mark);
		json_object *g = NULL, *f = NULL;
		const char *fn, *link;

		if (!ok(frames_at(doc, c->src, line, &g, &f) == 1, "%s: one frame at %s:%ld (%s)",
			what, c->src, line, e->mark)) {
			char path[4096];

			/* Whole, beside the case's other files (the line is cut). */
			snprintf(path, sizeof(path), "%s/failed-%d.json", tlib_dir(), i);
			json_object_to_file_ext(path, doc, JSON_C_TO_STRING_PRETTY);
			diag("%s (all of it: %s)",
			     tlib_oneline(json_object_to_json_string(tj_get(doc, "groups"))), path);
			continue;
		}
		groups[i] = g;
		fn = tj_str(f, "function");
		link = tj_str(f, "linkage");
		ok(fn && strcmp(fn, e->function) == 0, "%s: %s:%ld names %s (got %s)", what, c->src,
		   line, e->function, fn ? fn : "null");
		if (e->linkage)
			ok(link && strncmp(link, e->linkage, strlen(e->linkage)) == 0,
			   "%s: the linkage name of %s starts %s (got %s)", what, e->function,
			   e->linkage, link ? link : "null");
		else
			ok(!link && tj_str_is(f, "language", c->lang),
			   "%s: %s is a %s frame without a linkage name", what, e->function,
			   c->lang);
	}
	ok(groups[0] && groups[1] && groups[0] != groups[1], "%s: the two call sites are two groups",
	   what);
	/* Under Python frames the shim keeps only the few native frames next
	 * to the call (SHIM_LANG_NATIVE, 4): the interpreter's loop below them
	 * is not captured (docs/design.md, "Language frames: Python"). */
	if (strcmp(c->name, "python-socket") == 0)
		for (int i = 0; i < 2; i++) {
			json_object *fr = groups[i] ? tj_get(groups[i], "frames") : NULL;
			long native = 0;

			for (size_t k = 0; fr && k < json_object_array_length(fr); k++)
				native += !tj_str_is(json_object_array_get_idx(fr, k), "language",
						     "python");
			ok(groups[i] && native >= 1 && native <= 4,
			   "%s: %s shows 1 to 4 native frames under its Python ones (%ld)", what,
			   c->e[i].mark, native);
		}
}

/* argv of the case's program, with "exit" after it when leave. */
static void prog_argv(char **out, char **prog, int nprog, bool leave)
{
	int n = 0;

	for (int i = 0; i < nprog && n < MAX_ARGS - 2; i++)
		out[n++] = prog[i];
	if (leave)
		out[n++] = "exit";
	out[n] = NULL;
}

/* `sockaudit run --fail-on fail_on --json J [--sarif S] -- argv`. */
static json_object *run_json(struct trun *r, char **argv, const char *fail_on, char **sarif_text)
{
	const char *args[MAX_ARGS + 16];
	char json[4096], sarif[4096];
	json_object *doc;
	int n = 0;
	static int seq;

	snprintf(json, sizeof(json), "%s/run-%d.json", tlib_dir(), seq);
	snprintf(sarif, sizeof(sarif), "%s/run-%d.sarif", tlib_dir(), seq++);
	args[n++] = "run";
	args[n++] = "--preload";
	args[n++] = tlib_env("SOCKAUDIT_SHIM");
	args[n++] = "--fail-on";
	args[n++] = fail_on;
	args[n++] = "--json";
	args[n++] = json;
	args[n++] = "--sarif";
	args[n++] = sarif;
	args[n++] = "--color";
	args[n++] = "never";
	args[n++] = "--";
	for (int i = 0; argv[i] && n < MAX_ARGS + 15; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	tlib_cli(r, args);
	doc = json_object_from_file(json);
	if (!doc)
		diag("%s: no JSON; stderr: %s", json, tlib_oneline(r->err));
	if (sarif_text) {
		FILE *f = fopen(sarif, "re");
		size_t len = 0;

		*sarif_text = NULL;
		if (f) {
			FILE *m = open_memstream(sarif_text, &len);
			char buf[4096];
			size_t k;

			while (m && (k = fread(buf, 1, sizeof(buf), f)) > 0)
				fwrite(buf, 1, k, m);
			if (m)
				fclose(m);
			fclose(f);
		}
	}
	return doc;
}

/* The audited pid: "ready pid=N" names another process (a child). */
static pid_t audited(const struct tlib_host *h)
{
	long pid = tlib_ready_int(h, "pid");

	return pid > 0 ? (pid_t)pid : h->pid;
}

/* Socket errors the program handles, an audit hook of its own, threads, an
 * uncaught exception: the same output and exit status with and without the
 * shim, also in Python's development mode, where the shim adds no hook. */
static void same_behaviour(const char *python)
{
	char *script = src_path("behave.py");

	for (int dev = 0; dev < 2; dev++) {
		char *plain[] = { (char *)python, script, NULL };
		char *devmode[] = { (char *)python, "-X", "dev", script, NULL };
		char **argv = dev ? devmode : plain;
		struct tlib_host h[2];
		const char *tag = dev ? "-X dev" : "default";
		int code[2];

		for (int s = 0; s < 2; s++) {
			struct tlib_spawn how = { .shim = s == 1, .stdin_null = true,
						  .capture_err = true };

			if (!tlib_host_start(&h[s], &how, argv) || !tlib_host_wait_exit(&h[s], 30000))
				code[s] = -1;
			else
				code[s] = tlib_exit_code(h[s].status);
		}
		ok(code[0] == 1 && code[1] == code[0], "behave.py (%s): exit status %d with the shim, "
		   "%d without", tag, code[1], code[0]);
		if (!ok(strcmp(h[0].out, h[1].out) == 0 && strcmp(h[0].err, h[1].err) == 0,
			"behave.py (%s): the same output with and without the shim", tag))
			diag("without: %s %s\nwith: %s %s", tlib_oneline(h[0].out),
			     tlib_oneline(h[0].err), tlib_oneline(h[1].out), tlib_oneline(h[1].err));
		tlib_host_free(&h[0]);
		tlib_host_free(&h[1]);
	}
	free(script);
}

/* Handled socket errors, an ExecutorService, an uncaught exception: the
 * same output and exit status with and without the shim. Then a VM that
 * exits while daemon threads connect in a loop, six times (System.exit(3),
 * or main returning: 0): its exit status, no crash report. prog: java -cp CLASSES ... */
static void java_behaviour(char **prog)
{
	char *argv[] = { prog[0], prog[1], prog[2], "feed.Behave", NULL };
	char *churn[] = { prog[0], prog[1], prog[2], "feed.Leak", "churn", NULL, NULL };
	struct tlib_host h[2] = { 0 };
	int code[2], bad = 0;

	for (int s = 0; s < 2; s++) {
		struct tlib_spawn how = { .shim = s == 1, .stdin_null = true, .capture_err = true };

		if (!tlib_host_start(&h[s], &how, argv) || !tlib_host_wait_exit(&h[s], 60000))
			code[s] = -1;
		else
			code[s] = tlib_exit_code(h[s].status);
	}
	ok(code[0] == 1 && code[1] == code[0],
	   "Behave.java: exit status %d with the shim, %d without", code[1], code[0]);
	if (!ok(strcmp(h[0].out, h[1].out) == 0 && strcmp(h[0].err, h[1].err) == 0 &&
		strstr(h[0].out, "pool 8") && strstr(h[0].err, "IllegalStateException: the end"),
		"Behave.java: the same output and exception with and without the shim"))
		diag("without: %s %s\nwith: %s %s", tlib_oneline(h[0].out), tlib_oneline(h[0].err),
		     tlib_oneline(h[1].out), tlib_oneline(h[1].err));
	tlib_host_free(&h[0]);
	tlib_host_free(&h[1]);

	for (int i = 0; i < 6; i++) {
		struct tlib_spawn how = { .shim = true, .stdin_null = true, .capture_err = true };
		struct tlib_host c = { 0 };
		int st = -1, want = i % 2 ? 0 : 3;

		churn[5] = i % 2 ? "exit" : NULL;
		if (tlib_host_start(&c, &how, churn) && tlib_host_wait_exit(&c, 60000))
			st = tlib_exit_code(c.status);
		if (st != want || !c.out || strcmp(c.out, "exiting\n") != 0 || !c.err || c.err[0]) {
			diag("churn run %d: status %d, out %s, err %s", i, st, tlib_oneline(c.out),
			     tlib_oneline(c.err));
			bad++;
		}
		tlib_host_free(&c);
	}
	ok(bad == 0, "a VM exiting (System.exit, or main returning) while 4 threads connect in "
	   "a loop: its status, nothing on stderr, 6 runs out of 6 (%d bad)", bad);
}

static void case_frames(const struct lang_case *c, char **prog, int nprog)
{
	char *argv[MAX_ARGS], pid[16], *sarif = NULL;
	const char *all[] = { "--all", NULL };
	struct tlib_host h;
	struct trun r;
	json_object *doc;

	/* Node.js too: nothing but LD_PRELOAD (the shim has node load the
	 * frames' script). */
	unsetenv("NODE_OPTIONS");
	prog_argv(argv, prog, nprog, false);
	if (!ok(tlib_host_ready(&h, true, argv), "%s: the program is ready", c->name))
		return;
	doc = tlib_report(audited(&h), all, &r);
	ok(doc && r.status == 0, "report --json exits 0 (%d)", r.status);
	check_frames("report --json", doc, c);
	json_object_put(doc);
	trun_free(&r);

	snprintf(pid, sizeof(pid), "%d", (int)audited(&h));
	{
		const char *args[] = { "report", "--all", "--color", "never", pid, NULL };

		tlib_cli(&r, args);
	}
	for (int i = 0; i < 2; i++) {
		char want[256];
		bool found = false;

		snprintf(want, sizeof(want), "%s:%ld", c->src, marked_line(c->src, c->e[i].mark));
		for (const char *line = r.out; *line;) {
			size_t len = strcspn(line, "\n");
			char buf[2048];

			snprintf(buf, sizeof(buf), "%.*s", (int)len, line);
			found |= strstr(buf, c->e[i].function) && strstr(buf, want);
			line += len + (line[len] == '\n');
		}
		if (!ok(found, "report text: %s at %s", c->e[i].function, want))
			diag("%s", tlib_oneline(r.out));
	}
	trun_free(&r);
	ok(tlib_host_stop(&h, 0, TLIB_GRACE_MS) == 0, "%s: the program exits 0 under the shim",
	   c->name);
	tlib_host_free(&h);
	if (c->report_only)
		return;

	/* run: the same leaks, held at exit. */
	prog_argv(argv, prog, nprog, true);
	doc = run_json(&r, argv, "at-exit", &sarif);
	ok(r.status == 1, "run --fail-on at-exit fails (%d)", r.status);
	check_frames("run --json", doc, c);
	for (int i = 0; i < 2; i++)
		ok(sarif && strstr(sarif, c->e[i].function), "run --sarif names %s", c->e[i].function);
	/* A Java frame's file is its package's path and the class's source
	 * file, what code scanning resolves against a source root. */
	if (strcmp(c->lang ? c->lang : "", "java") == 0)
		ok(sarif && strstr(sarif, "\"feed/Leak.java\""),
		   "run --sarif: a physicalLocation at feed/Leak.java");
	free(sarif);
	json_object_put(doc);
	trun_free(&r);
	if (strcmp(c->name, "python-socket") == 0)
		same_behaviour(prog[0]);
	if (strcmp(c->name, "java-main") == 0)
		java_behaviour(prog);
}

/* Closes through libc's syscall() are closes; at exit, a socket closed
 * where nothing could see it is not "open at exit". */
static void case_rawclose(char **prog, int nprog)
{
	long line = marked_line("rawclose.c", "LEAK-E");
	const char *all[] = { "--all", NULL };
	char *argv[MAX_ARGS];
	json_object *doc, *g, *f;
	struct tlib_host h;
	struct trun r;

	prog_argv(argv, prog, nprog, false);
	if (!ok(tlib_host_ready(&h, true, argv), "rawclose: the program is ready"))
		return;
	doc = tlib_report(h.pid, all, &r);
	ok(doc && tj_int(doc, "summary.sockets", -1) == 1 &&
	   frames_at(doc, "rawclose.c", line, &g, &f) == 1,
	   "report: one socket held, the one opened at LEAK-E (%lld)",
	   (long long)tj_int(doc, "summary.sockets", -1));
	ok(tj_int(doc, "summary.stale", -1) == 1,
	   "report: only the raw instruction's close left a stale record; syscall(SYS_close) "
	   "and syscall(SYS_close_range) were seen (%lld stale)",
	   (long long)tj_int(doc, "summary.stale", -1));
	json_object_put(doc);
	trun_free(&r);
	ok(tlib_host_stop(&h, 0, TLIB_GRACE_MS) == 0,
	   "rawclose: exits 0 under the shim (syscall()'s value and errno unchanged)");
	tlib_host_free(&h);

	prog_argv(argv, prog, nprog, true);
	doc = run_json(&r, argv, "at-exit", NULL);
	ok(r.status == 1 && tj_len(doc, "groups") == 1 &&
	   frames_at(doc, "rawclose.c", line, &g, &f) == 1,
	   "run --fail-on at-exit: one group, the socket still open (%d, %zu groups)", r.status,
	   tj_len(doc, "groups"));
	json_object_put(doc);
	trun_free(&r);
}

/* Sockets CPython's collector closed, not the program: finding kind
 * rescued, each with the Python line that opened it; the program's own
 * close is none. */
static void case_rescued(char **prog, int nprog)
{
	long drop = marked_line("rescued.py", "LEAK-R-drop");
	long cycle = marked_line("rescued.py", "LEAK-R-cycle");
	long closed = marked_line("rescued.py", "LEAK-R-closed");
	char *argv[MAX_ARGS];
	json_object *doc, *list;
	struct tlib_host h;
	struct trun r;
	int seen_drop = 0, seen_cycle = 0, seen_closed = 0, other = 0;

	prog_argv(argv, prog, nprog, false);
	if (!ok(tlib_host_ready(&h, true, argv), "rescued.py: the program is ready"))
		return;
	doc = tlib_report(h.pid, NULL, &r);
	ok(doc && tj_int(doc, "rescued.total", -1) == 2,
	   "report --json: 2 sockets rescued by the collector (%lld)",
	   (long long)tj_int(doc, "rescued.total", -1));
	ok(r.status == 1, "report exits 1: a rescued socket is a leak (%d)", r.status);
	list = tj_get(doc, "rescued.sockets");
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		json_object *e = json_object_array_get_idx(list, i);
		json_object *f = json_object_array_get_idx(tj_get(e, "frames"), 0);
		const char *file = f ? tj_str(f, "file") : NULL;
		long line = f ? (long)tj_int(f, "line", -1) : -1;

		if (!tj_str_is(e, "kind", "rescued") || !file ||
		    strcmp(base_of(file), "rescued.py") != 0 || !tj_str_is(f, "language", "python") ||
		    tj_int(e, "collected_total", -1) != 1 || tj_int(e, "closed_total", -1) != 1)
			other++;
		else if (line == drop)
			seen_drop++;
		else if (line == cycle)
			seen_cycle++;
		else if (line == closed)
			seen_closed++;
		else
			other++;
	}
	if (!ok(seen_drop == 1 && seen_cycle == 1 && !seen_closed && !other,
		"each rescued socket's first frame is its Python line, its site counting 1 "
		"closed, 1 by the collector: rescued.py:%ld (freed) and :%ld (a cycle), not "
		":%ld (closed by the program)", drop, cycle, closed))
		diag("%s", tlib_oneline(json_object_to_json_string(list)));
	json_object_put(doc);
	trun_free(&r);
	{
		const char *args[] = { "report", "--color", "never", NULL, NULL };
		char pid[16];
		char want[64];

		snprintf(pid, sizeof(pid), "%d", (int)h.pid);
		args[3] = pid;
		tlib_cli(&r, args);
		snprintf(want, sizeof(want), "rescued.py:%ld", drop);
		ok(strstr(r.out, "FLAGGED rescued") && strstr(r.out, want) &&
		   !strstr(r.out, "Go's"),
		   "report text: FLAGGED rescued, with %s", want);
		trun_free(&r);
	}
	ok(tlib_host_stop(&h, 0, TLIB_GRACE_MS) == 0, "rescued.py exits 0 under the shim");
	tlib_host_free(&h);
}

/* Frames of a failed socket() are not left for the thread's next one. */
static void case_pending(char **prog, int nprog)
{
	long failed = marked_line("pending.py", "LEAK-P-failed");
	const char *all[] = { "--all", NULL };
	char *argv[MAX_ARGS];
	json_object *doc, *g = NULL, *f = NULL;
	struct tlib_host h;
	struct trun r;
	long fd;

	prog_argv(argv, prog, nprog, false);
	if (!ok(tlib_host_ready(&h, true, argv), "pending.py: the program is ready"))
		return;
	fd = tlib_ready_int(&h, "fd");
	doc = tlib_report(h.pid, all, &r);
	ok(doc && fd >= 0 && tj_int(doc, "summary.sockets", -1) >= 1,
	   "report --json: the raw socket (fd %ld) is held", fd);
	if (!ok(doc && frames_at(doc, "pending.py", failed, &g, &f) == 0,
		"no stack names pending.py:%ld, the socket() that failed", failed))
		diag("%s", tlib_oneline(json_object_to_json_string(tj_get(doc, "groups"))));
	json_object_put(doc);
	trun_free(&r);
	ok(tlib_host_stop(&h, 0, TLIB_GRACE_MS) == 0, "pending.py exits 0 under the shim");
	tlib_host_free(&h);
}

/* The method mD and line of the frame "java:feed/Sites.java:LINE:feed.Sites.mD"
 * in the array of language frames `lang`; -1 when there is not exactly one. */
static long sites_frame(json_object *lang, int *method)
{
	long line = -1;
	int n = 0;

	for (size_t i = 0; lang && i < json_object_array_length(lang); i++) {
		const char *f = json_object_get_string(json_object_array_get_idx(lang, i));
		int m, end = 0;
		long l;

		if (f && sscanf(f, "java:feed/Sites.java:%ld:feed.Sites.m%1d%n", &l, &m, &end) == 2 &&
		    f[end] == '\0') {
			line = l;
			*method = m;
			n++;
		}
	}
	return n == 1 ? line : -1;
}

static int by_open_ns(const void *a, const void *b)
{
	int64_t x = tj_int(*(json_object *const *)a, "open_ns", 0);
	int64_t y = tj_int(*(json_object *const *)b, "open_ns", 0);

	return (x > y) - (x < y);
}

enum { SITES = 400, ROUNDS = 2 };

/* One run of Sites.java under the shim and agct-count.so, the Java walk
 * `route` (SOCKAUDIT_JAVA_WALK; "" for the default; "poison": the default,
 * agct-count.so moving the frames it passes on to their methods' first
 * lines): its socket records in the order the program made them into mine
 * (their document in *doc), and the walks agct-count.so saw into *calls
 * and *walked (-1: none said). Every socket's open and connect stacks must
 * name its own method and marked line, but for "poison", where *wrong
 * says how many of those not made on their method's first line (where
 * the first index is too) show another line. How many sockets (0 when not
 * all were found). */
static size_t sites_run(char **prog, int nprog, const char *route, json_object **doc,
			json_object **mine, long *calls, long *walked, int *wrong)
{
	bool poison = strcmp(route, "poison") == 0;
	long want[SITES];
	char *argv[MAX_ARGS + 8], pid[16], mark[16], preload[1024], out[600], walk[64];
	const char *args[] = { "dump", "--json", pid, NULL };
	json_object *recs;
	struct tlib_host h;
	struct trun r;
	size_t n = 0;
	int bad = 0, a = 0;
	FILE *f;

	*doc = NULL;
	*calls = *walked = -1;
	for (int k = 0; k < SITES; k++) {
		snprintf(mark, sizeof(mark), "SITES-%d%d", k / 100, k % 100 / 10);
		want[k] = marked_line("Sites.java", mark);
	}
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s:%s", tlib_env("SOCKAUDIT_SHIM"),
		 tlib_env("LANG_AGCT_COUNT"));
	snprintf(out, sizeof(out), "LANG_AGCT_OUT=%s/agct-%s", tlib_dir(),
		 *route ? route : "default");
	snprintf(walk, sizeof(walk), "SOCKAUDIT_JAVA_WALK=%s", poison ? "" : route);
	argv[a++] = "/usr/bin/env";
	argv[a++] = preload;
	argv[a++] = out;
	argv[a++] = walk;
	argv[a++] = poison ? "LANG_AGCT_POISON=1" : "LANG_AGCT_POISON=0";
	prog_argv(argv + a, prog, nprog, false);
	if (!ok(tlib_host_ready(&h, false, argv), "Sites.java (walk %s): the program is ready",
		*route ? route : "default"))
		return 0;
	snprintf(pid, sizeof(pid), "%d", (int)h.pid);
	tlib_cli(&r, args);
	if (r.status == 0)
		*doc = json_tokener_parse(r.out);
	ok(*doc != NULL, "dump --json exits 0 with JSON (%d)", r.status);
	recs = tj_get(*doc, "records");
	for (size_t i = 0; recs && i < json_object_array_length(recs); i++) {
		json_object *e = json_object_array_get_idx(recs, i);
		int m;

		if (tj_str_is(e, "origin", "socket") && sites_frame(tj_get(e, "open_lang"), &m) > 0 &&
		    n < SITES * ROUNDS)
			mine[n++] = e;
	}
	if (!ok(n == SITES * ROUNDS, "%zu sockets opened in Sites.java's methods (%d)", n,
		SITES * ROUNDS))
		n = 0;
	qsort(mine, n, sizeof(*mine), by_open_ns);
	for (size_t j = 0; j < n; j++) {
		int k = (int)(j % SITES), mo = -1, mc = -1;
		long lo = sites_frame(tj_get(mine[j], "open_lang"), &mo);
		long lc = sites_frame(tj_get(mine[j], "connect_lang"), &mc);

		if (poison) {
			bad += k % 100 >= 10 && lo != want[k] && lc != want[k];
		} else if (lo != want[k] || lc != want[k] || mo != k / 100 || mc != k / 100) {
			if (bad++ < 3)
				diag("socket %zu: open m%d:%ld, connect m%d:%ld; want m%d:%ld", j, mo, lo,
				     mc, lc, k / 100, want[k]);
		}
	}
	*wrong = bad;
	if (!poison)
		ok(n && !bad, "each socket's open and connect stacks name its own method and "
		   "line, twice over 400 sites (%d wrong)", bad);
	trun_free(&r);
	ok(tlib_host_stop(&h, 0, TLIB_GRACE_MS) == 0, "Sites.java exits 0 under the shim");
	tlib_host_free(&h);
	if ((f = fopen(out + strlen("LANG_AGCT_OUT="), "r"))) {
		if (fscanf(f, "calls %ld walked %ld", calls, walked) != 2)
			*calls = *walked = -1;
		fclose(f);
	}
	return n;
}

/* The Java frames of a record's open and connect, as one string. */
static char *sites_frames(json_object *rec)
{
	const char *o = json_object_to_json_string(tj_get(rec, "open_lang"));
	const char *c = json_object_to_json_string(tj_get(rec, "connect_lang"));
	size_t len = strlen(o) + strlen(c) + 2;
	char *s = malloc(len);

	if (!s)
		bail("out of memory");
	snprintf(s, len, "%s %s", o, c);
	return s;
}

/* Sites.java: 800 sockets from 400 (method, bytecode index) keys, enough
 * for some of the Java frame cache's sets to overflow: every socket's open
 * and connect stacks name its own method and marked line, in the order the
 * program made them. Twice: walked by GetStackTrace alone
 * (SOCKAUDIT_JAVA_WALK=jvmti), and by the default, which must take
 * AsyncGetCallTrace for most records (the first walks of a stack, whose
 * methods have no jmethodID yet, are GetStackTrace's) and store, socket by
 * socket, the very same Java frames, JDK's included. */
static void case_java_sites(char **prog, int nprog)
{
	json_object *doc[3], *mine[3][SITES * ROUNDS];
	long calls[3], walked[3];
	size_t n[3];
	int differ = 0, wrong[3];

	n[0] = sites_run(prog, nprog, "jvmti", &doc[0], mine[0], &calls[0], &walked[0], &wrong[0]);
	ok(calls[0] == 0, "SOCKAUDIT_JAVA_WALK=jvmti: no AsyncGetCallTrace (%ld calls)", calls[0]);
	n[1] = sites_run(prog, nprog, "", &doc[1], mine[1], &calls[1], &walked[1], &wrong[1]);
	/* 1,600 records of the program's sockets, the JDK's and the VM's
	 * own besides; a walk per record at most. */
	ok(walked[1] >= SITES * ROUNDS && walked[1] <= calls[1],
	   "by default, AsyncGetCallTrace walked for most records (%ld walks with frames of %ld "
	   "calls, %d socket and connect records)", walked[1], calls[1], 2 * SITES * ROUNDS);
	for (size_t j = 0; n[0] == n[1] && j < n[0]; j++) {
		char *a = sites_frames(mine[0][j]), *b = sites_frames(mine[1][j]);

		if (strcmp(a, b) != 0 && differ++ < 2)
			diag("socket %zu: GetStackTrace %s\nAsyncGetCallTrace %s", j, a, b);
		free(a);
		free(b);
	}
	ok(n[0] && n[0] == n[1] && !differ,
	   "both walks store the same Java frames for each socket's open and connect (%d differ)",
	   differ);
	/* The frames stored are AsyncGetCallTrace's: moved by agct-count.so,
	 * they move in the records of the 720 sockets made on a line other
	 * than their method's first, but for the odd walk it refused or cut
	 * short (GetStackTrace's). */
	n[2] = sites_run(prog, nprog, "poison", &doc[2], mine[2], &calls[2], &walked[2], &wrong[2]);
	ok(n[2] && wrong[2] >= SITES * ROUNDS * 9 / 10 - 8,
	   "frames moved by agct-count.so: %d of the %d sockets off their method's first line "
	   "show them in both stacks", wrong[2], SITES * ROUNDS * 9 / 10);
	for (int i = 0; i < 3; i++)
		json_object_put(doc[i]);
}

/* The shim has node load sockaudit-node.js through NODE_OPTIONS, and the
 * script puts the program's own value back: env.js must see the same
 * NODE_OPTIONS, environment, modules and arguments, and give a child the
 * same, with and without the shim, NODE_OPTIONS unset or set. */
static void node_env(const char *node)
{
	char *script = src_path("env.js");
	char *argv[] = { (char *)node, script, "arg", NULL };

	for (int set = 0; set < 2; set++) {
		struct tlib_host h[2] = { 0 };
		int code[2];

		if (set)
			setenv("NODE_OPTIONS", "--max-old-space-size=64", 1);
		else
			unsetenv("NODE_OPTIONS");
		for (int s = 0; s < 2; s++) {
			struct tlib_spawn how = { .shim = s == 1, .stdin_null = true,
						  .capture_err = true };

			if (!tlib_host_start(&h[s], &how, argv) || !tlib_host_wait_exit(&h[s], 30000))
				code[s] = -1;
			else
				code[s] = tlib_exit_code(h[s].status);
		}
		if (!ok(code[0] == 0 && code[1] == 0 && h[0].out && h[1].out &&
			strcmp(h[0].out, h[1].out) == 0 && strstr(h[0].out, "child ") &&
			strcmp(h[0].err, h[1].err) == 0,
			"env.js (NODE_OPTIONS %s): the same environment, modules and child "
			"environment with and without the shim", set ? "set" : "unset"))
			diag("without: %s\nwith: %s", h[0].out ? tlib_oneline(h[0].out) : "",
			     h[1].out ? tlib_oneline(h[1].out) : "");
		tlib_host_free(&h[0]);
		tlib_host_free(&h[1]);
	}
	unsetenv("NODE_OPTIONS");
	free(script);
}

/* A Node.js program that destroyed its sockets passes the gate; the same
 * program keeping a connection fails it. */
static void case_node(char **prog, int nprog)
{
	char *argv[MAX_ARGS];
	json_object *doc;
	struct trun r;
	size_t socks = 0;

	prog_argv(argv, prog, nprog, false);
	doc = run_json(&r, argv, "close-wait,idle,at-exit", NULL);
	ok(r.status == 0 && strcmp(r.out, "clean\n") == 0 && doc && tj_len(doc, "groups") == 0,
	   "run --fail-on close-wait,idle,at-exit -- node clean.js: exit 0, nothing listed (%d, "
	   "%zu groups)", r.status, tj_len(doc, "groups"));
	json_object_put(doc);
	trun_free(&r);

	argv[nprog] = "keep";
	argv[nprog + 1] = NULL;
	doc = run_json(&r, argv, "close-wait,idle,at-exit", NULL);
	for (size_t i = 0; i < tj_len(doc, "groups"); i++)
		socks += tj_len(json_object_array_get_idx(tj_get(doc, "groups"), i), "sockets");
	ok(r.status == 1 && strcmp(r.out, "kept\n") == 0 && socks >= 1,
	   "the same program keeping its connection fails at exit (%d, %zu sockets)", r.status,
	   socks);
	json_object_put(doc);
	trun_free(&r);
	node_env(prog[0]);
}

int main(int argc, char **argv)
{
	/* The cases with a body of their own; the others are case_frames's. */
	static const struct {
		const char *name;
		void (*run)(char **prog, int nprog);
	} special[] = {
		{ "rawclose", case_rawclose },
		{ "node", case_node },
		{ "python-pending", case_pending },
		{ "java-sites", case_java_sites },
		{ "python-rescued", case_rescued },
	};
	const char *name;

	if (argc < 3)
		bail("usage: test-lang CASE PROGRAM [ARGS...]");
	name = argv[1];
	tlib_case_dir(tlib_env("LANG_WORK"), name);
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (strcmp(special[i].name, name) == 0) {
			special[i].run(argv + 2, argc - 2);
			return tlib_finish(tap_done());
		}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(cases[i].name, name) == 0) {
			case_frames(&cases[i], argv + 2, argc - 2);
			return tlib_finish(tap_done());
		}
	bail("unknown case %s", name);
	return 1;
}
