/* Processes in other namespaces, audited from ours: a scenario started
 * with the shim in its own pid and mount namespaces with a private tmpfs on
 * /dev/shm (what a container gets), also in its own network namespace, and
 * in a user namespace made by an unprivileged user (a rootless container).
 * The real `sockaudit` runs outside: report, dump and list must find the
 * table in the container's /dev/shm under the pid and uid the process
 * knows itself by, read its stacks, and refuse what is planted at the
 * table's name inside the container.
 *
 * Needs root (unshare, mount); where CI is set a skip is a failure. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "tjson.h"
#include "tlib.h"
#include "trun.h"
#include "table-reader.h"
#include "util/procns.h"

static pid_t ns_pid_of(pid_t pid)
{
	struct procns ns;

	return procns_read(pid, &ns) == 0 ? ns.ns_pid : -1;
}

/* sc-closewait under the shim inside fresh namespaces (tlib). */
static bool spawn_contained(struct tlib_host *p, bool userns, bool net, pid_t *host)
{
	return tlib_host_contained(p, tlib_path("RT_BIN_DIR", "sc-closewait"),
				   (userns ? TLIB_NS_USER : 0) | (net ? TLIB_NS_NET : 0), host);
}

static bool pred_flagged(json_object *root, void *arg)
{
	json_object *s = tj_grouped_sock(root, *(int *)arg);

	return s && tj_bool(s, "flagged");
}

static json_object *poll_flagged(pid_t pid, int fd, struct trun *r)
{
	const char *cw[] = { "--close-wait", "200ms", NULL };
	uint64_t deadline = trun_now_ms() + TLIB_POLL_MS;
	struct timespec pause = { 0, 50 * 1000 * 1000 };

	for (;;) {
		json_object *root = tlib_report(pid, cw, r);

		if (root && pred_flagged(root, &fd))
			return root;
		if (trun_now_ms() >= deadline) {
			diag("not flagged within %d ms; exit %d, stderr: %s", TLIB_POLL_MS, r->status,
			     r->err);
			json_object_put(root);
			return NULL;
		}
		json_object_put(root);
		trun_free(r);
		nanosleep(&pause, NULL);
	}
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* The report, dump and list of a contained CLOSE_WAIT leak. */
static void check_contained(const char *name, bool userns, bool net)
{
	const char *dir = tlib_case_dir(tlib_env("RT_TABLES"), name);
	struct tlib_host p;
	struct trun r;
	json_object *root, *g, *procs;
	pid_t host, nspid;
	char pidarg[16], prefix[64];
	int fd;
	long line;

	if (!ok(spawn_contained(&p, userns, net, &host), "%s: scenario ready inside its namespaces",
		name))
		return;
	fd = (int)tlib_ready_int(&p, "fd");
	line = tlib_ready_int(&p, "line");
	nspid = ns_pid_of(host);
	ok(nspid > 0 && nspid != host, "%s: pid %d is %d in its own pid namespace", name, (int)host,
	   (int)nspid);
	ok(tlib_host_command(&p, "close", "closed"), "%s: server side closed", name);

	root = poll_flagged(host, fd, &r);
	ok(root != NULL, "%s: report from outside flags the CLOSE_WAIT", name);
	if (root) {
		g = tj_group_with_fd(root, fd);
		snprintf(prefix, sizeof(prefix), "/proc/%d/root/dev/shm/sockaudit.", (int)host);
		ok(r.status == 1 && tj_bool(root, "process.instrumented") &&
		   tj_int(root, "process.ns_pid", -1) == nspid &&
		   tj_str_is(root, "process.root", "other") && tj_str(root, "process.table") &&
		   strncmp(tj_str(root, "process.table"), prefix, strlen(prefix)) == 0,
		   "%s: the table in the container's /dev/shm, named with pid %d; exit 1", name,
		   (int)nspid);
		ok(tj_frame_is(g, "leak_client", "sc-closewait.c", line),
		   "%s: the stack names leak_client at sc-closewait.c:%ld", name, line);
		ok(tj_str_is(root, "kernel.source", "sock_diag"),
		   "%s: kernel view from the process's network namespace by sock_diag", name);
		if (userns)
			ok(tj_int(root, "process.uid", -1) == 65534 &&
			   tj_int(root, "process.ns_uid", -1) == 0,
			   "%s: uid 65534 here, 0 in its user namespace", name);
	}
	json_object_put(root);
	trun_free(&r);
	ok(entries(dir) == 0, "%s: nothing in our own table directory", name);

	snprintf(pidarg, sizeof(pidarg), "%d", (int)host);
	{
		const char *dump[] = { "dump", pidarg, NULL };
		char want[64];

		snprintf(want, sizeof(want), "pid %d ", (int)nspid);
		ok(tlib_cli(&r, dump) && r.status == 0 && strstr(r.out, want) &&
		   strstr(r.out, "/root/dev/shm/sockaudit."),
		   "%s: dump reads the same table (exit %d)", name, r.status);
		trun_free(&r);
	}
	{
		const char *list[] = { "list", "--json", NULL };
		json_object *e = NULL;

		ok(tlib_cli(&r, list) && r.status == 0, "%s: list runs", name);
		root = json_tokener_parse(r.out ? r.out : "");
		procs = root ? tj_get(root, "processes") : NULL;
		for (size_t i = 0; procs && i < json_object_array_length(procs); i++) {
			json_object *x = json_object_array_get_idx(procs, i);

			if (tj_int(x, "pid", -1) == host)
				e = x;
		}
		ok(e && tj_int(e, "ns_pid", -1) == nspid && tj_bool(e, "other_namespace") &&
		   tj_bool(e, "readable") && tj_bool(e, "alive") && tj_int(e, "tracked", -1) == 2,
		   "%s: list shows it with pid %d and %d, readable, 2 tracked", name, (int)host,
		   (int)nspid);
		json_object_put(root);
		trun_free(&r);
	}
	ok((tlib_host_stop(&p, 0, TLIB_GRACE_MS) == 0), "%s: scenario and its namespaces exit on EOF", name);
}

static void case_pidmnt(void)
{
	check_contained("pidmnt", false, false);
}

static void case_net(void)
{
	check_contained("net", false, true);
}

static void case_userns(void)
{
	check_contained("userns", true, false);
}

/* What a container can put at its table's name, seen through its root:
 * each refused with one line and exit 2, never followed, never a hang. */
static void case_planted(void)
{
	struct tlib_host p;
	struct trun r;
	pid_t host, nspid;
	char shm[64], table[4300], kept[4300], pidarg[16];
	const char *report[] = { "report", pidarg, NULL };
	DIR *d;
	struct dirent *e;
	uint64_t t0;

	tlib_case_dir(tlib_env("RT_TABLES"), "planted");
	if (!ok(spawn_contained(&p, false, false, &host), "planted: scenario ready"))
		return;
	nspid = ns_pid_of(host);
	snprintf(pidarg, sizeof(pidarg), "%d", (int)host);
	snprintf(shm, sizeof(shm), "/proc/%d/root/dev/shm", (int)host);
	table[0] = '\0';
	d = opendir(shm);
	while (d && (e = readdir(d)))
		if (strncmp(e->d_name, "sockaudit.", 10) == 0)
			snprintf(table, sizeof(table), "%s/%s", shm, e->d_name);
	if (d)
		closedir(d);
	if (!ok(table[0] && nspid > 0, "planted: the table is in the container's /dev/shm")) {
		tlib_host_stop(&p, 0, TLIB_GRACE_MS);
		return;
	}
	snprintf(kept, sizeof(kept), "%s/kept", shm);
	ok(rename(table, kept) == 0, "planted: table moved aside");

	/* A symbolic link at the name, to the real table and to a host file. */
	ok(symlink("/dev/shm/kept", table) == 0, "planted: a link at the table's name");
	ok(tlib_cli(&r, report) && r.status == 2 && tlib_err_lines(&r) == 1 &&
	   strstr(r.err, "symbolic link"), "planted: a link is refused, one line, exit 2: %s", r.err);
	trun_free(&r);
	unlink(table);
	ok(symlink("/etc/passwd", table) == 0, "planted: a link to a host file");
	ok(tlib_cli(&r, report) && r.status == 2 && tlib_err_lines(&r) == 1 &&
	   strstr(r.err, "symbolic link") && !strstr(r.out, "root:"),
	   "planted: never followed out of the container: %s", r.err);
	trun_free(&r);
	unlink(table);

	/* A FIFO: no hang. */
	ok(mkfifo(table, 0600) == 0, "planted: a FIFO at the name");
	t0 = trun_now_ms();
	ok(tlib_cli(&r, report) && r.status == 2 && tlib_err_lines(&r) == 1 &&
	   strstr(r.err, "not a regular file") && trun_now_ms() - t0 < TLIB_CLI_MS,
	   "planted: a FIFO is refused without waiting: %s", r.err);
	trun_free(&r);
	unlink(table);

	/* A directory, and a file with another mode. */
	ok(mkdir(table, 0700) == 0, "planted: a directory at the name");
	ok(tlib_cli(&r, report) && r.status == 2 && tlib_err_lines(&r) == 1,
	   "planted: a directory is refused: %s", r.err);
	trun_free(&r);
	rmdir(table);
	ok(tlib_write_file(table, "garbage", 7, 0644), "planted: a 0644 file at the name");
	ok(tlib_cli(&r, report) && r.status == 2 && tlib_err_lines(&r) == 1 &&
	   strstr(r.err, "mode"), "planted: a 0644 file is refused: %s", r.err);
	trun_free(&r);
	unlink(table);

	ok(rename(kept, table) == 0, "planted: the real table back");
	ok(tlib_cli(&r, report) && r.status == 0 && strstr(r.out, "sc-closewait"),
	   "planted: the real table is read again (exit %d)", r.status);
	trun_free(&r);
	ok((tlib_host_stop(&p, 0, TLIB_GRACE_MS) == 0), "planted: scenario exits on EOF");
}

/* The host's document's process with that pid, or NULL. */
static json_object *host_proc(json_object *root, pid_t pid)
{
	json_object *a = root ? tj_get(root, "processes") : NULL;

	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);

		if (tj_int(x, "process.pid", -1) == pid)
			return x;
	}
	return NULL;
}

static bool host_unreadable(json_object *root, pid_t pid, const char *needle)
{
	json_object *a = root ? tj_get(root, "unreadable") : NULL;

	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);

		if (tj_int(x, "pid", -1) == pid && tj_str(x, "error") &&
		    strstr(tj_str(x, "error"), needle))
			return true;
	}
	return false;
}

/* report -A: a process in a container, one on the host, and one whose
 * table was replaced by a file of another mode, in one run: the first two
 * reported (the container's CLOSE_WAIT flagged, exit 1), the third listed
 * as unreadable with the reader's reason, the host's totals. */
static void case_all(void)
{
	const char *dir = tlib_case_dir(tlib_env("RT_TABLES"), "all");
	char *idle_argv[] = { tlib_path("RT_BIN_DIR", "sc-listen"), NULL };
	char *bad_argv[] = { tlib_path("RT_BIN_DIR", "sc-listen"), NULL };
	const char *args[] = { "report", "-A", "--json", "--close-wait", "200ms", NULL };
	const char *text[] = { "report", "--all-processes", "--close-wait", "200ms", NULL };
	struct tlib_host in, out, bad;
	struct trun r;
	json_object *root = NULL, *x;
	uint64_t deadline;
	pid_t host, nspid;
	char table[4096], copy[4200];
	void *data;
	size_t len;
	int fd;

	if (!ok(spawn_contained(&in, false, false, &host), "all: contained scenario ready"))
		return;
	fd = (int)tlib_ready_int(&in, "fd");
	nspid = ns_pid_of(host);
	/* -1 would match a report without ns_pid below. */
	ok(nspid > 0, "all: the contained process's own pid is known (%d)", (int)nspid);
	if (!ok(tlib_host_ready(&out, true, idle_argv) && tlib_host_ready(&bad, true, bad_argv),
		"all: two scenarios on the host"))
		return;
	/* bad's table becomes a 0644 copy of itself. */
	snprintf(table, sizeof(table), "%s", dir);
	if (sa_table_find(dir, (uint32_t)geteuid(), bad.pid, 0, table, sizeof(table)) == 0) {
		FILE *f = fopen(table, "rb");

		data = malloc(1 << 20);
		len = f ? fread(data, 1, 1 << 20, f) : 0;
		if (f)
			fclose(f);
		snprintf(copy, sizeof(copy), "%.4000s.copy", table);
		ok(len >= 4096 && tlib_write_file(copy, data, len, 0644) && rename(copy, table) == 0,
		   "all: one table replaced by a 0644 file");
		free(data);
	} else {
		ok(false, "all: the host scenario's table not found");
	}
	ok(tlib_host_command(&in, "close", "closed"), "all: the contained server side closed");

	/* Polled with a deadline: the CLOSE_WAIT must age past 200ms. */
	deadline = trun_now_ms() + TLIB_POLL_MS;
	while (tlib_cli(&r, args)) {
		json_object *s;

		root = json_tokener_parse(r.out ? r.out : "");
		x = host_proc(root, host);
		s = x ? tj_grouped_sock(x, fd) : NULL;
		if (s && tj_bool(s, "flagged"))
			break;
		json_object_put(root);
		root = NULL;
		if (trun_now_ms() >= deadline) {
			diag("not flagged in time; exit %d, stderr: %s", r.status, r.err);
			break;
		}
		trun_free(&r);
		usleep(50 * 1000);
	}
	ok(root != NULL, "all: the contained CLOSE_WAIT is flagged in the host's report");
	if (root) {
		x = host_proc(root, host);
		ok(r.status == 1 && tj_str_is(root, "schema", "sockaudit.host/1") &&
		   tj_int(root, "summary.flagged", -1) >= 1 &&
		   tj_int(root, "summary.processes", -1) >= 2 &&
		   tj_int(root, "summary.network_namespaces", -1) >= 1,
		   "all: schema sockaudit.host/1, totals, exit 1 (exit %d)", r.status);
		ok(x && tj_int(x, "process.ns_pid", -1) == nspid &&
		   tj_str_is(x, "schema", "sockaudit.report/1"),
		   "all: the contained process under both its pids, as a report document");
		x = host_proc(root, out.pid);
		ok(x && tj_bool(x, "process.instrumented") && tj_int(x, "summary.tracked", -1) >= 1,
		   "all: the host process reported alongside");
		ok(!host_proc(root, bad.pid) && host_unreadable(root, bad.pid, "mode 0644"),
		   "all: the process with the replaced table is listed unreadable, with the reason");
	}
	json_object_put(root);
	trun_free(&r);
	ok(tlib_cli(&r, text) && r.status == 1 && strstr(r.out, "host: ") &&
	   strstr(r.out, "could not be") && strstr(r.out, "leak_client") && r.nerr == 0,
	   "all: text: each report, the unreadable one, the host's summary");
	trun_free(&r);
	{
		const char *bad_args[] = { "report", "-A", "1", NULL };

		ok(tlib_cli(&r, bad_args) && r.status == 2 && tlib_err_lines(&r) == 1,
		   "all: -A with a pid is refused, one line, exit 2");
		trun_free(&r);
	}
	tlib_host_stop(&bad, 0, TLIB_GRACE_MS);
	ok((tlib_host_stop(&out, 0, TLIB_GRACE_MS) == 0), "all: host scenario exits");
	ok((tlib_host_stop(&in, 0, TLIB_GRACE_MS) == 0), "all: contained scenario exits");
}

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "all", case_all },
	{ "pidmnt", case_pidmnt },
	{ "net", case_net },
	{ "userns", case_userns },
	{ "planted", case_planted },
};

int main(int argc, char **argv)
{
	if (argc != 2)
		bail("usage: test-ns CASE");
	tlib_require_root("namespaces with a private /dev/shm need root (unshare, mount)");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(cases[i].name, argv[1]) == 0) {
			cases[i].fn();
			return tlib_finish(tap_done());
		}
	bail("unknown case %s", argv[1]);
}
