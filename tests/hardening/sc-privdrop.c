/* A server that binds as root and drops privileges, as nginx, sshd and
 * postfix do: a listener opened as root, setgroups/setgid/setuid(65534),
 * then sockets opened after the drop (enough that new table pages must be
 * backed), and a forked worker that connects, accepts and holds sockets.
 * Before that, a visit to another euid (seteuid and back) and a setuid that
 * fails must leave the table as it was: "temp=" and "bad=" say the uid in
 * its name and its owner then, "einval=1" that the failing call kept its
 * errno.
 * Prints "ready pid=.. worker=.. fd=.. high=.. wfd=.. uid=..", then waits
 * for EOF on stdin, stops the worker and exits normally.
 *
 * "sc-privdrop exec PROGRAM ARGS..." drops the same way and executes
 * PROGRAM: the new image must adopt the table given to the new user.
 * "sc-privdrop visit" visits euid 1000 (seteuid, root kept as saved uid)
 * until EOF, then comes back and exits. "sc-privdrop raw" drops by raw
 * setresuid system call, which no wrapper sees, and waits for EOF.
 * "sc-privdrop planted-file" and "planted-dir" first put what another user
 * could at the name the table will take (a file, a directory, owned by
 * 65534), then drop, open a socket and wait for EOF.
 *
 * Runs under the shim, started by root (tests/hardening/test-privdrop.c). */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../report/sc.h"

#define NOBODY    65534
#define AFTER     100   /* sockets opened after the drop: fds up to ~105 */
#define HIGH_FD   700   /* a slot page of its own */

/* The worker's own sockets: the report must name this function. */
static int __attribute__((noinline)) worker_sockets(const struct sockaddr_in *a, int l, int *s)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);

	if (c < 0 || connect(c, (const struct sockaddr *)a, sizeof(*a)) < 0)
		sc_die("worker connect");
	*s = accept(l, NULL, NULL);
	if (*s < 0)
		sc_die("worker accept");
	return c;
}

static void worker(const struct sockaddr_in *a, int l, int ready_fd, int stop_fd)
{
	int s, c = worker_sockets(a, l, &s);
	char buf[16];

	if (dprintf(ready_fd, "%d\n", c) < 0)
		sc_die("worker ready");
	close(ready_fd);
	while (read(stop_fd, buf, sizeof(buf)) > 0)
		;
	/* A normal exit: the shim's exit path removes the worker's table. */
	exit(0);
}

/* Opened after the drop: the report must name these functions too (no
 * tail calls, or the caller's frame would stand in for them). */
static int __attribute__((noinline)) after_drop_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		sc_die("socket after the drop");
	return fd;
}

static void __attribute__((noinline)) dup_high(int fd)
{
	if (dup2(fd, HIGH_FD) != HIGH_FD)
		sc_die("dup2");
}

/* "<uid in the name>:<owner>" of our table, "none" without one. */
static void table_ids(char *out, size_t len)
{
	const char *dir = getenv("SOCKAUDIT_DIR");
	char mid[32];
	struct dirent *d;
	struct stat st;
	DIR *dp = dir ? opendir(dir) : NULL;

	snprintf(out, len, "none");
	snprintf(mid, sizeof(mid), ".%d.", (int)getpid());
	while (dp && (d = readdir(dp))) {
		unsigned u;

		if (sscanf(d->d_name, "sockaudit.%u.", &u) == 1 && strstr(d->d_name + 10, mid) &&
		    fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			snprintf(out, len, "%u:%u", u, (unsigned)st.st_uid);
	}
	if (dp)
		closedir(dp);
}

static void drop(void)
{
	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		sc_die("drop privileges");
	if (getuid() != NOBODY || geteuid() != NOBODY)
		sc_die("still privileged");
}

/* Put a file or directory of uid 65534 at sockaudit.65534.<pid>.<start>. */
static void plant(bool dir)
{
	char stat[1024], path[4200], *p;
	unsigned long long start = 0;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n = f ? fread(stat, 1, sizeof(stat) - 1, f) : 0;

	if (f)
		fclose(f);
	stat[n] = '\0';
	p = strrchr(stat, ')');
	for (int field = 2; p && *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (!p || sscanf(p, "%llu", &start) != 1)
		sc_die("starttime");
	snprintf(path, sizeof(path), "%s/sockaudit.%d.%d.%llu", getenv("SOCKAUDIT_DIR"), NOBODY,
		 (int)getpid(), start);
	if (dir ? mkdir(path, 0700) < 0 : !(f = fopen(path, "wxe")))
		sc_die("plant %s", path);
	if (!dir) {
		fputs("not a table\n", f);
		fclose(f);
	}
	if (chown(path, NOBODY, NOBODY) < 0)
		sc_die("chown %s", path);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a;
	int l = sc_listener(&a), ready[2], stop[2], fd = -1, wfd = 0, st;
	char buf[32], temp[32], bad[32];
	int einval;
	ssize_t n;
	pid_t w;

	if (argc >= 3 && strcmp(argv[1], "exec") == 0) {
		drop();
		execv(argv[2], argv + 2);
		sc_die("exec %s", argv[2]);
	}
	if (argc == 2 && strcmp(argv[1], "visit") == 0) {
		if (seteuid(1000) < 0)
			sc_die("seteuid 1000");
		sc_say("ready pid=%d", (int)getpid());
		sc_wait();
		if (seteuid(0) < 0)
			sc_die("seteuid 0");
		return 0;
	}
	if (argc == 2 && strncmp(argv[1], "planted-", 8) == 0) {
		plant(strcmp(argv[1], "planted-dir") == 0);
		drop();
		fd = after_drop_socket();
		sc_say("ready pid=%d fd=%d", (int)getpid(), fd);
		sc_wait();
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "raw") == 0) {
		if (syscall(SYS_setresuid, NOBODY, NOBODY, NOBODY) != 0)
			sc_die("setresuid");
		/* A worker forked after the unseen drop: its own table must
		 * still be named for its euid. */
		if (pipe(ready) < 0 || pipe(stop) < 0)
			sc_die("pipe");
		w = fork();
		if (w < 0)
			sc_die("fork");
		if (w == 0) {
			close(stop[1]);
			if (dprintf(ready[1], "%d\n", after_drop_socket()) < 0)
				sc_die("worker ready");
			while (read(stop[0], buf, sizeof(buf)) > 0)
				;
			exit(0);
		}
		close(ready[1]);
		close(stop[0]);
		n = read(ready[0], buf, sizeof(buf) - 1);
		if (n <= 0)
			sc_die("worker did not start");
		buf[n] = '\0';
		sc_say("ready pid=%d worker=%d wfd=%d", (int)getpid(), (int)w, atoi(buf));
		sc_wait();
		close(stop[1]);
		if (waitpid(w, &st, 0) != w || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			sc_die("worker did not exit 0");
		return 0;
	}
	if (seteuid(1000) < 0)
		sc_die("seteuid 1000");
	table_ids(temp, sizeof(temp));
	if (seteuid(0) < 0)
		sc_die("seteuid 0");
	errno = 0;
	einval = setuid((uid_t)-1) == -1 && errno == EINVAL;
	table_ids(bad, sizeof(bad));
	drop();
	for (int i = 0; i < AFTER; i++)
		fd = after_drop_socket();
	dup_high(fd);
	if (pipe(ready) < 0 || pipe(stop) < 0)
		sc_die("pipe");
	w = fork();
	if (w < 0)
		sc_die("fork");
	if (w == 0) {
		close(ready[0]);
		close(stop[1]);
		worker(&a, l, ready[1], stop[0]);
	}
	close(ready[1]);
	close(stop[0]);
	n = read(ready[0], buf, sizeof(buf) - 1);
	if (n <= 0)
		sc_die("worker did not start");
	buf[n] = '\0';
	wfd = atoi(buf);
	sc_say("ready pid=%d worker=%d fd=%d high=%d wfd=%d uid=%d temp=%s bad=%s einval=%d",
	       (int)getpid(), (int)w, fd, HIGH_FD, wfd, (int)geteuid(), temp, bad, einval);
	sc_wait();
	close(stop[1]);
	if (waitpid(w, &st, 0) != w || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		sc_die("worker did not exit 0");
	return 0;
}
