/* Descriptor edge cases the shim must survive unchanged (issue 13, "not yet
 * tried"). One mode per run (argv[1]); each prints "ready key=value ..."
 * and obeys commands until EOF on its command fd:
 *
 *   fd0          closes 0, 1 and 2, then opens a UDP socket (it gets fd 0),
 *                sends itself a datagram through it; talks on fds 10/11.
 *                "close" closes fd 0.
 *   dup2-high LIMIT FD
 *                raises RLIMIT_NOFILE to LIMIT (0: leaves it) and dup2()s
 *                a socket to FD.
 *   close-range  opens 5 sockets and closes them with a raw close_range
 *                system call, which no preload library sees.
 *   rlimit-lower dup2()s sockets to fds 150 and 300, lowers RLIMIT_NOFILE
 *                (soft and hard) to 64, opens one more and uses fd 300.
 *                "close300" closes fd 300.
 *
 * Runs under the shim (tests/hardening/test-fdedge.c). */
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "../raw-syscall.h"
#include "../report/sc.h"

static int cmd_fd = STDIN_FILENO, say_fd = STDOUT_FILENO;

__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	line[n++] = '\n';
	if (write(say_fd, line, (size_t)n) != n)
		exit(4);
}

/* fd0 moves the command fd off 0: read from wherever it is now. */
static bool command(char *buf, size_t len)
{
	return sc_command_fd(cmd_fd, buf, len);
}

/* A bound loopback UDP socket; the report must name this function. */
static int __attribute__((noinline)) udp_socket(struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof(*a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)a, &len) < 0)
		exit(5);
	return fd;
}

/* One datagram from a fresh socket to fd: does fd work as a socket? */
static bool works(int fd, const struct sockaddr_in *a)
{
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	char c = 'x', d = 0;
	bool ok;

	ok = u >= 0 && sendto(u, &c, 1, 0, (const struct sockaddr *)a, sizeof(*a)) == 1 &&
	     recv(fd, &d, 1, 0) == 1 && d == 'x';
	if (u >= 0)
		close(u);
	return ok;
}

static int mode_fd0(void)
{
	struct sockaddr_in a;
	char buf[64];
	int fd;

	if (dup2(STDIN_FILENO, 10) != 10 || dup2(STDOUT_FILENO, 11) != 11)
		exit(6);
	cmd_fd = 10;
	say_fd = 11;
	close(0);
	close(1);
	close(2);
	fd = udp_socket(&a);
	say("ready fd=%d works=%d", fd, works(fd, &a));
	while (command(buf, sizeof(buf)))
		if (strcmp(buf, "close") == 0)
			say("closed rc=%d", close(0));
	return 0;
}

static int mode_dup2_high(rlim_t limit, int high)
{
	struct rlimit rl = { limit, limit };
	struct sockaddr_in a;
	char buf[64];
	int fd, rc;

	if (limit && setrlimit(RLIMIT_NOFILE, &rl) < 0)
		sc_die("setrlimit %llu", (unsigned long long)limit);
	fd = udp_socket(&a);
	rc = dup2(fd, high);
	say("ready fd=%d src=%d works=%d", rc, fd, rc == high && works(high, &a));
	while (command(buf, sizeof(buf)))
		;
	return 0;
}

static int mode_close_range(void)
{
	int first = -1, last = -1, closed = 0;
	struct sockaddr_in a;
	char buf[64];
	long rc;

	for (int i = 0; i < 5; i++) {
		last = udp_socket(&a);
		if (first < 0)
			first = last;
	}
	if (last != first + 4)
		sc_die("sockets not contiguous (%d..%d)", first, last);
	rc = raw_syscall3(SYS_close_range, first, last, 0);
	for (int fd = first; fd <= last; fd++)
		closed += fcntl(fd, F_GETFD) < 0 && errno == EBADF;
	say("ready first=%d last=%d rc=%ld closed=%d", first, last, rc, closed);
	while (command(buf, sizeof(buf)))
		;
	return 0;
}

static int mode_rlimit_lower(void)
{
	struct rlimit rl = { 64, 64 };
	struct sockaddr_in a;
	char buf[64];
	struct sockaddr_in b;
	int fd = udp_socket(&a), rc;

	if (dup2(fd, 150) != 150 || dup2(fd, 300) != 300)
		sc_die("dup2");
	close(fd);
	rc = setrlimit(RLIMIT_NOFILE, &rl);
	fd = udp_socket(&b);
	say("ready rc=%d new=%d works=%d", rc, fd, works(300, &a) && works(fd, &b));
	while (command(buf, sizeof(buf)))
		if (strcmp(buf, "close300") == 0)
			say("closed rc=%d", close(300));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		sc_die("usage: sc-fdedge MODE [ARGS]");
	if (strcmp(argv[1], "fd0") == 0)
		return mode_fd0();
	if (strcmp(argv[1], "dup2-high") == 0 && argc == 4)
		return mode_dup2_high(strtoull(argv[2], NULL, 10), atoi(argv[3]));
	if (strcmp(argv[1], "close-range") == 0)
		return mode_close_range();
	if (strcmp(argv[1], "rlimit-lower") == 0)
		return mode_rlimit_lower();
	sc_die("unknown mode %s", argv[1]);
}
