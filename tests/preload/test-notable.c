/* When no table is possible (unwritable directory, a file planted at the
 * table's name, a full tmpfs) the host's stdout, stderr (but for one warning
 * line) and exit status are exactly those of a run without the shim, and
 * nothing is written through a planted file. Runs without LD_PRELOAD itself:
 * it starts the host with the shim explicitly. */
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
#include <unistd.h>

#include "../tap.h"
#include "table-reader.h"
#include "target.h"

struct run {
	char out[4096], err[4096];
	int status;
};

static const char *shim, *host;

static void slurp(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	while (n + 1 < len && (r = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
}

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

static bool run_host(struct run *r, bool preload, const char *dir, enum plant what,
		     const char *victim)
{
	int o[2], e[2], st;
	pid_t pid;

	pipe(o);
	pipe(e);
	pid = fork();
	if (pid == 0) {
		dup2(o[1], 1);
		dup2(e[1], 2);
		close(o[0]);
		close(e[0]);
		if (preload) {
			setenv("LD_PRELOAD", shim, 1);
			setenv("SOCKAUDIT_DIR", dir, 1);
		} else {
			unsetenv("LD_PRELOAD");
		}
		plant(dir, what, victim);
		alarm(10);   /* a hang (e.g. on a FIFO) kills the host: the test fails */
		execl(host, host, (char *)NULL);
		_exit(127);
	}
	close(o[1]);
	close(e[1]);
	slurp(o[0], r->out, sizeof(r->out));
	slurp(e[0], r->err, sizeof(r->err));
	close(o[0]);
	close(e[0]);
	waitpid(pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
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

static void check_case(const struct run *base, const char *label, const char *dir,
		       enum plant what, const char *victim, const char *needle)
{
	struct run r;

	run_host(&r, true, dir, what, victim);
	ok(strcmp(r.out, base->out) == 0, "%s: stdout unchanged", label);
	ok(r.status == base->status, "%s: exit status %d unchanged", label, r.status);
	ok(one_warning(r.err, base->err, needle), "%s: stderr unchanged but for one warning", label);
	if (strstr(r.err, "sockaudit: "))
		diag("%s", strstr(r.err, "sockaudit: "));
}

int main(void)
{
	struct run base;
	char dir[] = "/tmp/sockaudit-notable-XXXXXX", victim[4200];
	struct stat st;

	shim = getenv("SOCKAUDIT_SHIM");
	host = getenv("SOCKAUDIT_SAMPLE_HOST");
	if (!shim || !host)
		bail("SOCKAUDIT_SHIM and SOCKAUDIT_SAMPLE_HOST must be set");
	/* Each host has its own alarm(10); this bounds the rest (the full
	 * tmpfs child, its mount and its wait). Children do not inherit it. */
	tap_deadline(50, "the hosts and the full-tmpfs child");
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
		struct run r;
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

	/* A full tmpfs: room for the header page and a page or two of the
	 * module log, not for every stack and slot page. The host
	 * must not die of SIGBUS; the loss is counted in the table. */
	if (geteuid() == 0) {
		int p[2];
		pid_t pid;
		int status;
		pipe(p);
		pid = fork();
		if (pid == 0) {
			char tdir[] = "/tmp/sockaudit-tmpfs-XXXXXX";
			struct run r;
			int rc = 0;
			if (!mkdtemp(tdir) || unshare(CLONE_NEWNS) < 0 ||
			    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
			    mount("tmpfs", tdir, "tmpfs", 0, "size=12k,mode=0700") < 0)
				_exit(77);
			setenv("SOCKAUDIT_RUN_ID", "tmpfs-test", 1);   /* keep the table */
			run_host(&r, true, tdir, PLANT_NONE, NULL);
			unsetenv("SOCKAUDIT_RUN_ID");
			if (strcmp(r.out, base.out) || strcmp(r.err, base.err) || r.status != base.status)
				rc |= 1;
			{
				/* the one table in tdir: its counters */
				char cmd[4400];
				snprintf(cmd, sizeof(cmd), "%s", tdir);
				DIR *d = opendir(tdir);
				struct dirent *de;
				bool counted = false;
				while (d && (de = readdir(d))) {
					struct sa_reader rd;
					struct sa_snapshot s;
					char path[4400], err[256];
					if (de->d_name[0] == '.')
						continue;
					snprintf(path, sizeof(path), "%s/%s", tdir, de->d_name);
					if (sa_reader_open(&rd, path, geteuid(), err, sizeof(err)) == 0 &&
					    sa_reader_snapshot(&rd, &s, err, sizeof(err)) == 0) {
						counted = s.hdr.counters.overflow_fd > 0 &&
							  s.hdr.counters.reserve_failed > 0;
						sa_snapshot_finish(&s);
						sa_reader_close(&rd);
					}
				}
				if (d)
					closedir(d);
				if (!counted)
					rc |= 2;
			}
			umount(tdir);
			rmdir(tdir);
			_exit(rc);
		}
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
			ok(1, "# SKIP cannot mount a private tmpfs here");
		} else {
			ok(WIFEXITED(status) && !(WEXITSTATUS(status) & 1),
			   "full tmpfs: output and status unchanged, no SIGBUS");
			ok(WIFEXITED(status) && !(WEXITSTATUS(status) & 2),
			   "full tmpfs: overflow and reserve failures counted in the table");
		}
		close(p[0]);
		close(p[1]);
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
