/* A C program for `sockaudit trace` tests, run without the shim: it opens
 * one socket by every path the recorder follows, says "ready k=v ...",
 * then obeys commands on stdin until EOF.
 *
 *   tr-host hold [CODE]     the sockets below; exit CODE (0) at EOF
 *   tr-host fork            a connected client, then fork: the child says
 *                           ready (child=PID c=FD) and both wait for EOF
 *   tr-host burst N         N sockets opened and closed at once, then one
 *                           held (ready held=FD)
 *   tr-host exec-go PROG    (run with the shim) a socket at fd 60; once the
 *                           shim made its table, exec PROG (a static Go
 *                           program the shim cannot enter)
 *   tr-host exec-shim SHIM  a socket; once the recorder made this process's
 *                           table, exec "hold" with LD_PRELOAD=SHIM
 *   tr-host reuse           a child reuses the pid of one that exited:
 *     "child"    fork child A, a socket at fd 70 (answers "child pid=A")
 *     "reuse N"  open and close N sockets (to fill the recorder's ring
 *                buffer), let A exit and reap it, then fork until a child
 *                gets A's pid, by writing A - 1 to /proc/sys/kernel/ns_last_pid
 *                (answers "reused pid=B tries=T", or "noreuse")
 *     "open"     B opens a socket at fd 71 (answers "opened 71")
 *
 * Commands: "close FD" (answers "closed FD"), "close-range LO HI FLAGS"
 * (close_range(2); answers "closed-range RC").
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>

#include "../report/sc.h"

__attribute__((noinline))
static int tr_client(const struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)a, sizeof(*a)) < 0)
		sc_die("client");
	return fd;
}

static void serve(int code)
{
	char cmd[64];
	unsigned lo, hi, flags;
	int fd;

	while (sc_command(cmd, sizeof(cmd))) {
		if (sscanf(cmd, "close-range %u %u %u", &lo, &hi, &flags) == 3) {
			sc_say("closed-range %d", close_range(lo, hi, (int)flags));
		} else if (sscanf(cmd, "close %d", &fd) == 1) {
			close(fd);
			sc_say("closed %d", fd);
		}
	}
	exit(code);
}

static void hold(int code)
{
	struct sockaddr_in a;
	int l = sc_listener(&a), c, d, e, s, sp[2], u, x;

	c = tr_client(&a);
	d = dup(c);
	e = fcntl(c, F_DUPFD_CLOEXEC, 40);
	s = accept(l, NULL, NULL);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0)
		sc_die("socketpair");
	u = socket(AF_INET, SOCK_DGRAM, 0);
	/* Opened and closed: never recorded as held. */
	x = socket(AF_INET, SOCK_DGRAM, 0);
	close(x);
	/* A dup2 onto 50, then a file over it: 50 holds no socket. */
	if (dup2(c, 50) != 50 || dup2(open("/dev/null", O_RDONLY), 50) != 50)
		sc_die("dup2");
	if (d < 0 || e < 0 || s < 0 || u < 0)
		sc_die("open");
	sc_say("ready pid=%d port=%d l=%d c=%d d=%d e=%d s=%d sp0=%d sp1=%d u=%d", (int)getpid(),
	       ntohs(a.sin_port), l, c, d, e, s, sp[0], sp[1], u);
	serve(code);
}

static void forked(void)
{
	struct sockaddr_in a;
	int l = sc_listener(&a), c = tr_client(&a), st;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		sc_die("fork");
	if (pid == 0) {
		sc_say("ready child=%d c=%d l=%d", (int)getpid(), c, l);
		serve(0);
	}
	waitpid(pid, &st, 0);
	exit(WIFEXITED(st) ? WEXITSTATUS(st) : 3);
}

/* Wait (at most 10 s) until a table of this process is in $SOCKAUDIT_DIR. */
static void wait_table(void)
{
	const char *dir = getenv("SOCKAUDIT_DIR");
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "sockaudit.%u.%d.", (unsigned)geteuid(), (int)getpid());
	for (int i = 0; i < 1000; i++) {
		DIR *d = opendir(dir ? dir : "/dev/shm");
		struct dirent *e;
		bool found = false;

		while (d && (e = readdir(d)))
			found |= strncmp(e->d_name, prefix, strlen(prefix)) == 0;
		if (d)
			closedir(d);
		if (found)
			return;
		nanosleep(&pause, NULL);
	}
	sc_die("no table made for this process");
}

/* Wait for a byte (or EOF) on fd; the byte, or 0 at EOF. */
static char await(int fd)
{
	char c = 0;

	return read(fd, &c, 1) == 1 ? c : 0;
}

/* Fork until the child gets pid `want` (freed just before), at most 2000
 * tries: ns_last_pid says which pid the next fork gets, unless another
 * process of the machine forks in between. The child that got it waits on
 * ctl: 'o' opens a socket at fd 71, EOF ends it. */
static pid_t fork_as(pid_t want, int ctl[2], int *tries)
{
	char last[32];

	snprintf(last, sizeof(last), "%d", (int)want - 1);
	for (*tries = 1; *tries <= 2000; (*tries)++) {
		int f = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
		pid_t pid;

		if (f < 0 || write(f, last, strlen(last)) < 0)
			sc_die("ns_last_pid");
		close(f);
		pid = fork();
		if (pid < 0)
			sc_die("fork");
		if (pid == 0) {
			if (getpid() != want)
				_exit(0);
			close(ctl[1]);
			while (await(ctl[0]) == 'o') {
				int fd = socket(AF_INET, SOCK_STREAM, 0);

				if (fd < 0 || dup2(fd, 71) != 71)
					sc_die("socket");
				close(fd);
				sc_say("opened 71");
			}
			_exit(0);
		}
		if (pid == want)
			return pid;
		waitpid(pid, NULL, 0);
	}
	return -1;
}

static void reuse(void)
{
	int actl[2] = { -1, -1 }, bctl[2] = { -1, -1 }, tries = 0;
	pid_t a = -1, b = -1;
	char cmd[64];
	long n;

	sc_say("ready pid=%d", (int)getpid());
	while (sc_command(cmd, sizeof(cmd))) {
		if (strcmp(cmd, "child") == 0) {
			if (pipe2(actl, O_CLOEXEC) < 0)
				sc_die("pipe");
			a = fork();
			if (a < 0)
				sc_die("fork");
			if (a == 0) {
				int fd = socket(AF_INET, SOCK_STREAM, 0);

				close(actl[1]);
				if (fd < 0 || dup2(fd, 70) != 70)
					sc_die("socket");
				close(fd);
				await(actl[0]);
				_exit(0);
			}
			close(actl[0]);
			sc_say("child pid=%d", (int)a);
		} else if (sscanf(cmd, "reuse %ld", &n) == 1) {
			for (long i = 0; i < n; i++) {
				int fd = socket(AF_INET, SOCK_DGRAM, 0);

				if (fd < 0)
					sc_die("socket");
				close(fd);
			}
			close(actl[1]);
			waitpid(a, NULL, 0);
			if (pipe2(bctl, O_CLOEXEC) < 0)
				sc_die("pipe");
			b = fork_as(a, bctl, &tries);
			if (b < 0)
				sc_say("noreuse");
			else
				sc_say("reused pid=%d tries=%d", (int)b, tries);
			close(bctl[0]);
		} else if (strcmp(cmd, "open") == 0 && b > 0) {
			if (write(bctl[1], "o", 1) != 1)
				sc_die("write");
		}
	}
	if (b > 0) {
		close(bctl[1]);
		waitpid(b, NULL, 0);
	}
	exit(0);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "hold") == 0)
		hold(argc >= 3 ? atoi(argv[2]) : 0);
	if (argc >= 2 && strcmp(argv[1], "fork") == 0)
		forked();
	if (argc >= 2 && strcmp(argv[1], "reuse") == 0)
		reuse();
	if (argc >= 3 && strcmp(argv[1], "burst") == 0) {
		long n = atol(argv[2]);
		int held;

		for (long i = 0; i < n; i++) {
			int fd = socket(AF_INET, SOCK_DGRAM, 0);

			if (fd < 0)
				sc_die("socket");
			close(fd);
		}
		held = socket(AF_INET, SOCK_DGRAM, 0);
		sc_say("ready pid=%d held=%d", (int)getpid(), held);
		serve(0);
	}
	if (argc >= 3 && strcmp(argv[1], "exec-go") == 0) {
		char *args[] = { argv[2], NULL };
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || dup2(fd, 60) != 60)
			sc_die("socket");
		close(fd);
		wait_table();
		execv(argv[2], args);
		sc_die("exec");
	}
	if (argc >= 3 && strcmp(argv[1], "exec-shim") == 0) {
		char *args[] = { argv[0], (char *)"hold", NULL };

		if (socket(AF_INET, SOCK_STREAM, 0) < 0)
			sc_die("socket");
		wait_table();
		setenv("LD_PRELOAD", argv[2], 1);
		execv("/proc/self/exe", args);
		sc_die("exec");
	}
	fprintf(stderr, "usage: tr-host hold [CODE] | fork | burst N | exec-go PROG | "
		"exec-shim SHIM | reuse\n");
	return 2;
}
