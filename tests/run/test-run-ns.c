/* `sockaudit run` over processes of its tree in their own namespaces.
 *
 *   pidns     `unshare --pid --fork`, sharing our /dev/shm: the program names
 *             its table with the pid it sees (1); the run watches it under
 *             the pid it has here and fails on its CLOSE_WAIT at its stack.
 *   mntns     pid and mount namespaces with a private tmpfs on /dev/shm (a
 *             container): the run's directory is out of its reach, its table
 *             goes to its own /dev/shm; the run finds it through
 *             /proc/<pid>/root and fails on the leak at cw_connect's line.
 *   userns    a rootless user namespace (65534 on the host, root inside) and
 *             a pid namespace: the run's 0700 directory is closed to it, its
 *             table goes to our /dev/shm named for uid 0; found, failed on,
 *             and removed with the run.
 *   clean     the mntns container holding a healthy connection for a while
 *             and closing it: seen by several polls, the run passes.
 *   planted   a symbolic link planted in the container's /dev/shm at the
 *             program's table name: refused (never followed), said in a
 *             note, nothing read; the leak still fails the run, without a
 *             stack (the kernel's view through its earlier image's table).
 *   otherrun  a program in the container whose table names another run (a
 *             nested `sockaudit run`): not taken, said in a note.
 *
 * The runs use /dev/shm as their table directory (as by default): the
 * case directory would be reachable from the namespaces and prove nothing.
 * Needs root (unshare, mount); where CI is set a skip is a failure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"
#include "tjson.h"
#include "tlib.h"
#include "trun.h"

static const char *bin;

static char *path2(const char *a, const char *b)
{
	char *p;

	if (asprintf(&p, "%s/%s", a, b) < 0)
		bail("asprintf");
	return p;
}

static json_object *aget(json_object *o, const char *path, size_t i)
{
	return i < tj_len(o, path) ? json_object_array_get_idx(tj_get(o, path), i) : NULL;
}

/* key=<number> from the one line a run-* program wrote to its info file. */
static long info_int(const char *path, const char *key)
{
	char line[512], pat[32];
	FILE *f = fopen(path, "r");
	long v = -1;
	const char *s;

	if (!f)
		return -1;
	snprintf(pat, sizeof(pat), " %s=", key);
	if (fgets(line, sizeof(line), f)) {
		if (strncmp(line, pat + 1, strlen(pat + 1)) == 0)
			v = strtol(line + strlen(pat + 1), NULL, 10);
		else if ((s = strstr(line, pat)))
			v = strtol(s + strlen(pat), NULL, 10);
	}
	fclose(f);
	return v;
}

static const char *which(const char *name)
{
	static const char *const dirs[] = { "/usr/bin", "/bin", "/usr/sbin", "/sbin" };
	static char p[4][64];
	static int k;
	char *out = p[k++ % 4];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(out, 64, "%s/%s", dirs[i], name);
		if (access(out, X_OK) == 0)
			return out;
	}
	bail("%s not found", name);
}

struct outcome {
	struct trun r;
	json_object *root;
	json_object *cw;          /* the close-wait group, if any */
};

static void run_it(struct outcome *o, const char *json, const char *const *cmd)
{
	const char *args[32] = { "run", "--close-wait", "200ms", "--json", json, "--" };
	size_t n = 6;

	for (size_t i = 0; cmd[i] && n < 31; i++)
		args[n++] = cmd[i];
	args[n] = NULL;
	memset(o, 0, sizeof(*o));
	ok(tlib_cli(&o->r, args), "the run finished");
	o->root = json_object_from_file(json);
	for (size_t i = 0; o->root && i < tj_len(o->root, "groups"); i++) {
		json_object *x = aget(o->root, "groups", i);

		if (tj_str_is(x, "kind", "close-wait"))
			o->cw = x;
	}
}

static void outcome_free(struct outcome *o)
{
	json_object_put(o->root);
	trun_free(&o->r);
}

/* The process of the run whose cmdline starts with prog, or NULL. */
static json_object *process_of(json_object *root, const char *prog)
{
	for (size_t i = 0; root && i < tj_len(root, "processes"); i++) {
		json_object *p = aget(root, "processes", i);
		const char *c = tj_str(p, "cmdline");

		if (c && strncmp(c, prog, strlen(prog)) == 0)
			return p;
	}
	return NULL;
}

static bool note_has(json_object *root, const char *a, const char *b)
{
	for (size_t i = 0; root && i < tj_len(root, "notes"); i++) {
		const char *s = json_object_get_string(aget(root, "notes", i));

		if (s && strstr(s, a) && (!b || strstr(s, b)))
			return true;
	}
	return false;
}

/* The leak failed the run at cw_connect, at the line the program said. */
static void check_leak(struct outcome *o, const char *info, const char *what)
{
	json_object *f = aget(o->cw, "frames", 0);
	long line = info_int(info, "line");
	const char *file = tj_str(f, "file");

	ok(o->r.status == 1, "%s: its CLOSE_WAIT fails the run: exit %d (stderr: %s)", what,
	   o->r.status, o->r.err);
	ok(o->cw && tj_bool(o->cw, "failing") && tj_str_is(f, "function", "cw_connect"),
	   "%s: a failing close-wait group at cw_connect", what);
	ok(file && strstr(file, "run-cw.c") && line > 0 && tj_int(f, "line", -1) == line,
	   "%s: at run-cw.c:%ld (the group says %s:%ld)", what, line, file ? file : "?",
	   (long)tj_int(f, "line", -1));
	ok(o->cw && tj_int(aget(o->cw, "processes", 0), "pid", -1) > 1,
	   "%s: named by the pid we see (%ld), not the one in its namespace", what,
	   (long)tj_int(aget(o->cw, "processes", 0), "pid", -1));
	if (!o->cw && o->root)
		diag("%s", json_object_to_json_string(o->root));
}

/* A case's files: the run's JSON report, the info file the program writes
 * (in info_dir), and the program. */
struct files {
	char *json, *info, *prog;
};

static void files_init(struct files *f, const char *dir, const char *info_dir,
		       const char *info, const char *prog)
{
	f->json = path2(dir, "run.json");
	f->info = path2(info_dir, info);
	f->prog = path2(bin, prog);
}

static void files_free(struct files *f)
{
	free(f->json);
	free(f->info);
	free(f->prog);
}

/* `run` over the program in a container: pid and mount namespaces, /proc
 * of its own, a private tmpfs on /dev/shm, then `before` (a shell fragment,
 * may be "") and exec of the program with its info file and hold time. */
static void run_container(struct outcome *o, const struct files *f, const char *before,
			  const char *hold_ms)
{
	char *script;

	if (asprintf(&script, "mount -t tmpfs -o size=16m,mode=1777 sockaudit-ns /dev/shm && "
			      "%sexec \"$@\"", before) < 0)
		bail("asprintf");
	{
		const char *cmd[] = { which("unshare"), "--pid", "--mount", "--fork",
				      "--mount-proc", "--kill-child", "sh", "-c", script, "sh",
				      f->prog, f->info, hold_ms, NULL };

		run_it(o, f->json, cmd);
	}
	free(script);
}

/* The program ran, as pid 1 of its own pid namespace. */
static void check_pid1(const struct files *f, const char *what)
{
	long pid = info_int(f->info, "pid");

	ok(pid == 1, "%s: the program ran as pid %ld in its own pid namespace", what, pid);
}

static void case_pidns(const char *dir)
{
	struct files f;
	struct outcome o;

	files_init(&f, dir, dir, "cw.info", "run-cw");
	{
		const char *cmd[] = { which("unshare"), "--pid", "--fork", "--kill-child", f.prog,
				      f.info, "2000", NULL };

		run_it(&o, f.json, cmd);
	}
	check_pid1(&f, "pidns");
	check_leak(&o, f.info, "pidns");
	outcome_free(&o);
	files_free(&f);
}

static void case_mntns(const char *dir)
{
	struct files f;
	struct outcome o;
	const char *table;

	files_init(&f, dir, dir, "cw.info", "run-cw");
	run_container(&o, &f, "", "2000");
	check_pid1(&f, "mntns");
	check_leak(&o, f.info, "mntns");
	table = tj_str(process_of(o.root, f.prog), "table");
	ok(table && strstr(table, "/root/dev/shm/sockaudit.0.1."),
	   "mntns: its table was read in its own /dev/shm (%s)", table ? table : "none");
	outcome_free(&o);
	files_free(&f);
}

static size_t shm_tables_of(uid_t owner)
{
	char cmd[128], buf[64];
	FILE *f;
	size_t n = 0;

	snprintf(cmd, sizeof(cmd), "find /dev/shm -maxdepth 1 -name 'sockaudit.*' -uid %u | wc -l",
		 (unsigned)owner);
	f = popen(cmd, "r");
	if (f && fgets(buf, sizeof(buf), f))
		n = strtoul(buf, NULL, 10);
	if (f)
		pclose(f);
	return n;
}

static void case_userns(const char *dir)
{
	char *out = path2(dir, "out");
	struct files f;
	struct outcome o;
	const char *table;
	size_t before = shm_tables_of(65534);

	/* The program, as 65534, writes its info here. */
	if (mkdir(out, 0777) < 0 || chmod(out, 0777) < 0)
		bail("mkdir %s: %s", out, strerror(errno));
	files_init(&f, dir, out, "cw.info", "run-cw");
	{
		const char *cmd[] = { which("setpriv"), "--reuid=65534", "--regid=65534",
				      "--clear-groups", "unshare", "--user", "--map-root-user",
				      "--pid", "--fork", "--kill-child", f.prog, f.info, "2000", NULL };

		run_it(&o, f.json, cmd);
	}
	check_leak(&o, f.info, "userns");
	table = tj_str(process_of(o.root, f.prog), "table");
	ok(table && strstr(table, "/dev/shm/sockaudit.0.1."),
	   "userns: its table, in our /dev/shm, is named for root and pid 1 as it sees them (%s)",
	   table ? table : "none");
	ok(shm_tables_of(65534) <= before, "userns: the run removed the tables its tree left in "
	   "/dev/shm (65534's: %zu before, %zu after)", before, shm_tables_of(65534));
	outcome_free(&o);
	files_free(&f);
	free(out);
}

static void case_clean(const char *dir)
{
	struct files f;
	struct outcome o;
	json_object *p;

	files_init(&f, dir, dir, "clean.info", "run-clean");
	run_container(&o, &f, "", "1500");
	p = process_of(o.root, f.prog);
	ok(o.r.status == 0, "clean: the run passes: exit %d (stderr: %s)", o.r.status, o.r.err);
	ok(p && tj_int(p, "polls", 0) >= 2 && tj_str(p, "table") &&
	   strstr(tj_str(p, "table"), "/root/dev/shm/"),
	   "clean: the program in the container was seen by %ld polls, its table in its /dev/shm",
	   p ? (long)tj_int(p, "polls", 0) : -1L);
	ok(tj_len(o.root, "groups") == 0, "clean: no group (%zu)", tj_len(o.root, "groups"));
	outcome_free(&o);
	files_free(&f);
}

static void case_planted(const char *dir)
{
	struct files f;
	struct outcome o;

	files_init(&f, dir, dir, "cw.info", "run-cw");
	/* The link is made at the name the program's table will have: pid 1 and
	 * the start time of the shell that execs into it. */
	run_container(&o, &f, "st=$(cut -d' ' -f22 /proc/$$/stat) && "
			      "ln -s /etc/passwd /dev/shm/sockaudit.0.$$.$st && ", "2000");
	check_pid1(&f, "planted");
	ok(note_has(o.root, "symbolic link", "refusing"),
	   "planted: the link at its table's name is refused, in a note");
	/* Its earlier image's table (the shell's, in the run's directory)
	 * is still polled: the kernel shows the CLOSE_WAIT, no stack does. */
	ok(o.r.status == 1 && o.cw && !tj_str_is(aget(o.cw, "frames", 0), "function", "cw_connect"),
	   "planted: the leak is not hidden, and nothing was read from the link: exit %d, "
	   "close-wait group %s", o.r.status, o.cw ? json_object_to_json_string(o.cw) : "none");
	if (!note_has(o.root, "symbolic link", "refusing") && o.root)
		diag("%s", json_object_to_json_string(o.root));
	outcome_free(&o);
	files_free(&f);
}

static void case_otherrun(const char *dir)
{
	struct files f;
	struct outcome o;

	files_init(&f, dir, dir, "cw.info", "run-cw");
	run_container(&o, &f, "export SOCKAUDIT_RUN_ID=00000000000000aa && ", "2000");
	check_pid1(&f, "otherrun");
	ok(note_has(o.root, "another run", "00000000000000aa"),
	   "otherrun: its table, naming another run, is not taken (a note says so)");
	ok(o.r.status == 0 && !o.cw, "otherrun: its leak is the other run's: exit %d",
	   o.r.status);
	if (!note_has(o.root, "another run", NULL) && o.root)
		diag("%s", json_object_to_json_string(o.root));
	outcome_free(&o);
	files_free(&f);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(const char *dir);
	} cases[] = {
		{ "pidns", case_pidns }, { "mntns", case_mntns }, { "userns", case_userns },
		{ "clean", case_clean }, { "planted", case_planted }, { "otherrun", case_otherrun },
	};
	const char *dir;
	bool any = false;

	if (geteuid() != 0) {
		if ((getenv("CI") && *getenv("CI")) || tap_strict())
			bail("root is needed, and no skip is allowed under CI or SOCKAUDIT_STRICT=1");
		printf("1..0 # SKIP namespaces need root (unshare, mount)\n");
		return 0;
	}
	bin = getenv("RUN_BIN_DIR");
	if (!bin)
		bail("RUN_BIN_DIR is not set");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
			continue;
		any = true;
		dir = tlib_case_dir(tlib_env("RUN_WORK"), cases[i].name);
		/* The run's own table directory: /dev/shm, as by default. */
		if (setenv("SOCKAUDIT_DIR", "/dev/shm", 1) < 0)
			bail("setenv");
		cases[i].fn(dir);
	}
	if (!any)
		bail("no case named %s", argv[1]);
	return tlib_finish(tap_done());
}
