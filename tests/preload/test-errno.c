/* Behaviour preserved: each wrapper's return value and errno on its error
 * paths are the same with and without the shim. The program runs the cases
 * itself (under the shim) and in a re-exec of itself without LD_PRELOAD,
 * then compares the two transcripts line by line. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"
#include "table.h"

#define CASE(buf, expr) \
	do { \
		errno = 0; \
		long rc_ = (long)(expr); \
		int e_ = errno; \
		n += snprintf(buf + n, len - n, "%-44s rc=%ld errno=%s\n", #expr, \
			      rc_, \
			      rc_ < 0 ? strerrorname_np(e_) : "-"); \
	} while (0)

static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	bind(s, (struct sockaddr *)&a, sizeof(a));
	getsockname(s, (struct sockaddr *)&a, &l);
	close(s);   /* bound, never listened: connect is refused */
	return ntohs(a.sin_port);
}

static void run_cases(char *buf, size_t len)
{
	size_t n = 0;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct msghdr mh = { 0 };
	struct rlimit rl, old;
	int held[64], nheld = 0;
	int s = socket(AF_INET, SOCK_STREAM, 0), udp = socket(AF_INET, SOCK_DGRAM, 0);
	int opened = 0;

	(void)len;
	a.sin_port = htons((uint16_t)closed_port());
	CASE(buf, close(-1));
	CASE(buf, close(9999));
	{
		/* statx() through syscall() with paths the kernel cannot read,
		 * one of them the start of Node's hand-over prefix running into
		 * an inaccessible page: EFAULT, not a fault in the shim. */
		static const char prefix[] = "/.sockaudit-frames/1/";
		char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				 -1, 0);
		char *edge = two + 4096 - 10;
		struct statx sx;

		if (two == MAP_FAILED || mprotect(two + 4096, 4096, PROT_NONE) != 0)
			bail("mmap: %s", strerror(errno));
		memcpy(edge, prefix, 10);
		CASE(buf, syscall(SYS_statx, AT_FDCWD, (char *)1, 0, STATX_BASIC_STATS, &sx));
		CASE(buf, syscall(SYS_statx, AT_FDCWD, edge, 0, STATX_BASIC_STATS, &sx));
		CASE(buf, syscall(SYS_statx, AT_FDCWD, two + 4096, 0, STATX_BASIC_STATS, &sx));
		CASE(buf, syscall(SYS_statx, AT_FDCWD, prefix, 0, STATX_BASIC_STATS, &sx));
		munmap(two, 8192);
	}
	CASE(buf, dup(-1));
	CASE(buf, dup2(-1, 5));
	CASE(buf, dup2(9999, 5));
	CASE(buf, dup3(s, s, 0));
	CASE(buf, dup3(s, 500, 12345));
	CASE(buf, fcntl(-1, F_DUPFD, 0));
	CASE(buf, fcntl(s, F_DUPFD, -1));
	CASE(buf, fcntl(s, 12345));
	CASE(buf, socket(12345, SOCK_STREAM, 0));
	CASE(buf, socket(AF_INET, 12345, 0));
	CASE(buf, socket(AF_INET, SOCK_STREAM, 12345));
	CASE(buf, socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){ 0 }));
	CASE(buf, connect(s, (struct sockaddr *)&a, sizeof(a)));
	CASE(buf, connect(-1, (struct sockaddr *)&a, sizeof(a)));
	CASE(buf, connect(udp, (struct sockaddr *)&a, 3));
	CASE(buf, accept(udp, NULL, NULL));
	CASE(buf, accept(-1, NULL, NULL));
	CASE(buf, accept4(s, NULL, NULL, 12345));
	CASE(buf, close_range(5, 3, 0));
	CASE(buf, close_range(600, 700, 12345));
	CASE(buf, recvmsg(-1, &mh, 0));
	CASE(buf, recvmsg(udp, &mh, MSG_DONTWAIT));
	CASE(buf, recvmmsg(udp, NULL, 0, MSG_DONTWAIT, NULL));
	CASE(buf, fclose(fdopen(dup(udp), "r")));
	/* EMFILE: open sockets until the limit. */
	getrlimit(RLIMIT_NOFILE, &old);
	rl.rlim_cur = 24;
	rl.rlim_max = old.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	for (;;) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0) {
			n += snprintf(buf + n, len - n, "socket() at the fd limit rc=%d errno=%s\n",
				      fd, strerrorname_np(errno));
			break;
		}
		if (nheld < 64)
			held[nheld++] = fd;
		opened++;
	}
	CASE(buf, dup(s));
	CASE(buf, accept(s, NULL, NULL));
	setrlimit(RLIMIT_NOFILE, &old);
	for (int i = 0; i < nheld; i++)
		close(held[i]);
	n += snprintf(buf + n, len - n, "sockets opened before EMFILE: %d\n", opened);
	close(s);
	close(udp);
}

/* The forked child made its own table before it exec'ed without the shim,
 * and nothing removes a table its process no longer knows of until the
 * process is gone and `sockaudit list --gc` runs: remove it here. */
static void remove_tables_of(pid_t pid)
{
	const char *dir = getenv("SOCKAUDIT_DIR");
	DIR *d = opendir(dir && *dir ? dir : "/dev/shm");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		uint32_t uid;
		int32_t tpid;
		uint64_t start;

		if (sa_table_name_parse(e->d_name, &uid, &tpid, &start) == 0 && tpid == pid &&
		    uid == geteuid())
			unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d)
		closedir(d);
}

int main(int argc, char **argv)
{
	static char with[8192], without[8192];
	int p[2], st;
	pid_t pid;
	size_t got = 0;
	ssize_t r;

	if (argc == 2 && strcmp(argv[1], "--cases") == 0) {
		run_cases(with, sizeof(with));
		fputs(with, stdout);
		return 0;
	}
	run_cases(with, sizeof(with));
	tap_deadline(60, "the uninstrumented run");
	if (pipe(p) != 0)
		bail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);   /* same fds as the instrumented run, for EMFILE */
		unsetenv("LD_PRELOAD");
		execl("/proc/self/exe", argv[0], "--cases", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while ((r = read(p[0], without + got, sizeof(without) - 1 - got)) > 0)
		got += (size_t)r;
	waitpid(pid, &st, 0);
	tap_deadline(0, NULL);
	remove_tables_of(pid);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "uninstrumented run finished");
	ok(getenv("LD_PRELOAD") && strstr(getenv("LD_PRELOAD"), "libsockaudit"),
	   "LD_PRELOAD names the shim");
	/* ld.so ignores a preload it cannot load: then both transcripts are
	 * the uninstrumented ones and every comparison below passes. */
	ok(th_shim_loaded(), "this run is under the shim (close resolves into libsockaudit.so)");
	{
		char *a = with, *b = without;
		while (*a || *b) {
			size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
			ok(la == lb && memcmp(a, b, la) == 0, "%.*s", (int)la, a);
			if (la != lb || memcmp(a, b, la) != 0)
				diag("without shim: %.*s", (int)lb, b);
			a += la + (a[la] ? 1 : 0);
			b += lb + (b[lb] ? 1 : 0);
		}
	}
	return tap_done();
}
