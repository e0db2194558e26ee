/* When no table is possible (unwritable directory, a file planted at the
 * table's name, a full tmpfs) the host's stdout, stderr (but for one warning
 * line) and exit status are exactly those of a run without the shim, and
 * nothing is written through a planted file. Runs without LD_PRELOAD itself:
 * it starts the host with the shim explicitly. The full-tmpfs cases also run
 * repeatedly (bounded in runs and time), once with a host of 1024 distinct
 * stacks, because a page the shim touches unbacked fails only in some runs. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"
#include "trun.h"
#include "table-reader.h"
#include "util/target.h"

static const char *shim, *host, *spray;

enum plant { PLANT_NONE, PLANT_SYMLINK, PLANT_FIFO, PLANT_LOOSE, PLANT_FOREIGN };

/* Plant `what` at the name the host (this child's pid after exec) will use. */
static void plant(const char *dir, enum plant what, const char *victim)
{
	char path[4200], name[96];
	uint64_t st;
	int fd;

	if (what == PLANT_NONE)
		return;
	proc_read_starttime(getpid(), &st);
	sa_table_name(name, sizeof(name), (uint32_t)geteuid(), getpid(), st);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	switch (what) {
	case PLANT_SYMLINK:
		symlink(victim, path);
		break;
	case PLANT_FIFO:
		mkfifo(path, 0600);
		break;
	case PLANT_LOOSE:
	case PLANT_FOREIGN:
		fd = open(path, O_CREAT | O_WRONLY, 0644);
		write(fd, "planted", 7);
		fchmod(fd, what == PLANT_LOOSE ? 0644 : 0600);
		if (what == PLANT_FOREIGN)
			fchown(fd, 65534, 65534);
		close(fd);
		break;
	default:
		break;
	}
}

struct env {
	bool preload;
	const char *dir;
	enum plant what;
	const char *victim;
};

static void set_env(void *arg)
{
	const struct env *e = arg;

	if (e->preload) {
		setenv("LD_PRELOAD", shim, 1);
		setenv("SOCKAUDIT_DIR", e->dir, 1);
	}
	plant(e->dir, e->what, e->victim);
	alarm(10);   /* a hang (e.g. on a FIFO) kills the host: the test fails */
}

static bool run_host(struct trun *r, bool preload, const char *dir, enum plant what,
		     const char *victim)
{
	const char *prog = getenv("NOTABLE_PROGRAM");
	const char *argv[] = { prog ? prog : host, prog ? getenv("NOTABLE_ARG") : NULL, NULL };
	struct env e = { preload, dir, what, victim };

	trun_capture_setup(r, argv, 20000, set_env, &e, NULL);
	return true;
}

/* stderr minus exactly one "sockaudit: ..." line */
static bool one_warning(const char *err, const char *expect_err, const char *needle)
{
	const char *w = strstr(err, "sockaudit: ");
	char rest[4096];
	size_t pre;

	if (!w)
		return false;
	pre = (size_t)(w - err);
	const char *eol = strchr(w, '\n');
	if (!eol || strstr(eol, "sockaudit: ") || (needle && !strstr(w, needle)))
		return false;
	snprintf(rest, sizeof(rest), "%.*s%s", (int)pre, err, eol + 1);
	return strcmp(rest, expect_err) == 0;
}

static void check_case(const struct trun *base, const char *label, const char *dir,
		       enum plant what, const char *victim, const char *needle)
{
	struct trun r;

	run_host(&r, true, dir, what, victim);
	ok(strcmp(r.out, base->out) == 0, "%s: stdout unchanged", label);
	ok(r.status == base->status, "%s: exit status %d unchanged", label, r.status);
	ok(one_warning(r.err, base->err, needle), "%s: stderr unchanged but for one warning", label);
	if (strstr(r.err, "sockaudit: "))
		diag("%s", strstr(r.err, "sockaudit: "));
}

static void show_run(const char *what, const struct trun *r)
{
	diag("%s: exit status %d%s", what, r->status,
	     r->status == 128 + SIGBUS ? " (SIGBUS)" :
	     r->status > 128 ? " (killed by a signal: 128 + signal)" : "");
	diag("%s: stdout: %s", what, r->out[0] ? r->out : "(empty)");
	diag("%s: stderr: %s", what, r->err[0] ? r->err : "(empty)");
}

static bool mount_tmpfs(const char *tdir, const char *size)
{
	char opts[64];

	snprintf(opts, sizeof(opts), "size=%s,mode=0700", size);
	if (mount("tmpfs", tdir, "tmpfs", 0, opts) == 0)
		return true;
	diag("mount tmpfs %s on %s: %s", size, tdir, strerror(errno));
	return false;
}

/* The counters of the one table in tdir, which a run left (SOCKAUDIT_RUN_ID). */
static bool table_counters(const char *tdir, struct sa_counters *c)
{
	DIR *d = opendir(tdir);
	struct dirent *de;
	bool found = false;

	while (d && (de = readdir(d))) {
		struct sa_reader rd;
		struct sa_snapshot s;
		char path[4400], err[256];

		if (strncmp(de->d_name, "sockaudit.", 10) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tdir, de->d_name);
		if (sa_reader_open(&rd, path, geteuid(), err, sizeof(err)) == 0) {
			if (sa_reader_snapshot(&rd, &s, err, sizeof(err)) == 0) {
				*c = s.hdr.counters;
				found = true;
				sa_snapshot_finish(&s);
			}
			sa_reader_close(&rd);
		}
		unlink(path);
	}
	if (d)
		closedir(d);
	return found;
}

/* A 12 KiB tmpfs: room for the header page and a page or two of the
 * module log, not for every stack and slot page. The host must not die
 * of SIGBUS; the loss is counted in the table. */
static void full_tmpfs(const struct trun *base, const char *tdir)
{
	struct sa_counters c = { 0 };
	struct trun r;
	bool same, counted;

	if (!mount_tmpfs(tdir, "12k"))
		bail("cannot mount a tmpfs as root");
	setenv("SOCKAUDIT_RUN_ID", "tmpfs-test", 1);   /* keep the table */
	run_host(&r, true, tdir, PLANT_NONE, NULL);
	unsetenv("SOCKAUDIT_RUN_ID");
	counted = table_counters(tdir, &c) && c.overflow_fd > 0 && c.reserve_failed > 0;
	umount(tdir);
	same = strcmp(r.out, base->out) == 0 && strcmp(r.err, base->err) == 0 &&
	       r.status == base->status;
	ok(same, "full tmpfs: output and status unchanged, no SIGBUS");
	if (!same) {
		show_run("without the shim", base);
		show_run("with the shim, full tmpfs", &r);
	}
	ok(counted, "full tmpfs: overflow and reserve failures counted in the table");
	if (!counted)
		diag("counters: overflow_fd %llu, reserve_failed %llu",
		     (unsigned long long)c.overflow_fd, (unsigned long long)c.reserve_failed);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run `program` (NULL: the sample host) under the shim on a fresh tmpfs of
 * `size`, up to `runs` times and `seconds` long; every run must match
 * `expect` (stdout, stderr, status). A window where the shim touches a page
 * tmpfs has not backed shows as a SIGBUS in some runs (the stack set's
 * pages are picked by hashes of ASLR'd return addresses). */
static void stress(const char *label, const struct trun *expect, const char *tdir,
		   const char *size, const char *program, int runs, double seconds)
{
	double t0 = now_s();
	int done = 0, bad = 0;
	struct trun r, first = { .status = 0 };

	if (program)
		setenv("NOTABLE_PROGRAM", program, 1);
	for (; done < runs && now_s() - t0 < seconds; done++) {
		if (!mount_tmpfs(tdir, size))
			bail("cannot mount a tmpfs as root");
		run_host(&r, true, tdir, PLANT_NONE, NULL);
		umount(tdir);
		if ((strcmp(r.out, expect->out) || strcmp(r.err, expect->err) ||
		     r.status != expect->status) && !bad++)
			first = r;   /* kept for the report below */
		else
			trun_free(&r);
	}
	unsetenv("NOTABLE_PROGRAM");
	ok(done > 0 && bad == 0, "%s: %d of %d runs differ from a run without the shim "
	   "(bounded: %d runs or %.0f s)", label, bad, done, runs, seconds);
	if (bad) {
		show_run("expected", expect);
		show_run("first differing run", &first);
		trun_free(&first);
	}
}

static void stress_mode(const char *tdir, const char *mode)
{
	char label[128];
	struct trun b;

	setenv("NOTABLE_PROGRAM", spray, 1);
	setenv("NOTABLE_ARG", mode, 1);
	run_host(&b, false, tdir, PLANT_NONE, NULL);
	if (b.status != 0)
		show_run("stack-spray without the shim", &b);
	snprintf(label, sizeof(label), "full tmpfs, 1024 distinct stacks, then %s", mode);
	/* 2600 KiB: the first image's table fits (about 2.2 MiB: 1.1 of
	 * stacks, 1 of count blocks), the second's (exec'd image with new
	 * addresses, or forked child) runs out part-way. */
	stress(label, &b, tdir, "2600k", spray, 15, 15);
	unsetenv("NOTABLE_ARG");
}

static void full_tmpfs_stress(const struct trun *base, const char *tdir)
{
	struct trun spray_base;

	stress("full tmpfs, repeated", base, tdir, "12k", NULL, 300, 15);
	/* 1024 distinct stacks on a 64 KiB tmpfs: some stack pages get backed,
	 * their neighbours cannot be, and many stacks hash next to the edge. */
	setenv("NOTABLE_PROGRAM", spray, 1);
	run_host(&spray_base, false, tdir, PLANT_NONE, NULL);
	unsetenv("NOTABLE_PROGRAM");
	if (spray_base.status != 0)
		show_run("stack-spray without the shim", &spray_base);
	stress("full tmpfs, 1024 distinct stacks", &spray_base, tdir, "64k", spray, 40, 15);
	/* The same, then an exec (the new image adopts the table: pages the
	 * earlier image backed are found by SEEK_DATA) or a fork (the child
	 * reads the parent's table where the parent had backed it). */
	stress_mode(tdir, "exec");
	stress_mode(tdir, "fork");
}

int main(void)
{
	struct trun base;
	char dir[] = "/tmp/sockaudit-notable-XXXXXX", victim[4200];
	struct stat st;

	shim = getenv("SOCKAUDIT_SHIM");
	host = getenv("SOCKAUDIT_SAMPLE_HOST");
	spray = getenv("SOCKAUDIT_STACK_SPRAY");
	if (!shim || !host || !spray)
		bail("SOCKAUDIT_SHIM, SOCKAUDIT_SAMPLE_HOST and SOCKAUDIT_STACK_SPRAY must be set");
	/* Each host has its own alarm(10) and each stress loop its own time
	 * cap; this bounds the rest (the full tmpfs children, their mounts and
	 * waits). Children do not inherit it. */
	tap_deadline(220, "the hosts, the full-tmpfs children and the stress loops");
	if (!mkdtemp(dir))
		bail("mkdtemp: %s", strerror(errno));
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	{
		int fd = open(victim, O_CREAT | O_WRONLY, 0600);
		write(fd, "victim", 6);
		close(fd);
	}

	run_host(&base, false, dir, PLANT_NONE, NULL);
	ok(base.status == 3 && strstr(base.out, "hello out"), "baseline run without the shim");

	/* Sanity: the same host with a usable directory is recorded silently. */
	{
		struct trun r;
		run_host(&r, true, dir, PLANT_NONE, NULL);
		ok(strcmp(r.out, base.out) == 0 && strcmp(r.err, base.err) == 0 &&
		   r.status == base.status, "recorded run: output and status identical, no warning");
	}
	check_case(&base, "unwritable directory", "/proc/sockaudit-no-such-dir", PLANT_NONE, NULL,
		   "cannot create the socket table");
	check_case(&base, "symlink planted", dir, PLANT_SYMLINK, victim, "refusing");
	ok(stat(victim, &st) == 0 && st.st_size == 6, "symlink target was not written through");
	check_case(&base, "FIFO planted", dir, PLANT_FIFO, NULL, "refusing");
	check_case(&base, "0644 file planted", dir, PLANT_LOOSE, NULL, "refusing");
	if (geteuid() == 0)
		check_case(&base, "foreign-owned file planted", dir, PLANT_FOREIGN, NULL, "refusing");
	else
		tap_skip_env("foreign-owned file needs root to chown");

	/* A full tmpfs (private mount namespace: root; CI runs as root). */
	if (geteuid() == 0) {
		char tdir[] = "/tmp/sockaudit-tmpfs-XXXXXX";

		if (!mkdtemp(tdir) || unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    !mount_tmpfs(tdir, "12k") || umount(tdir) < 0) {
			for (int i = 0; i < 6; i++)
				ok(1, "# SKIP cannot mount a private tmpfs here: %s", strerror(errno));
		} else {
			full_tmpfs(&base, tdir);
			full_tmpfs_stress(&base, tdir);
		}
		rmdir(tdir);
	} else {
		tap_skip_env("full tmpfs needs root to mount");
	}
	{
		char cmd[4300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		system(cmd);
	}
	return tap_done();
}
