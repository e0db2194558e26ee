/* The latency benchmarks' shared parts (latency.h). */
#include "latency.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

/* Distinct call sites, so the report has one group per site. */
#define OPENER(n) \
	__attribute__((noinline)) static int open_##n(const struct sockaddr_in *a) \
	{ \
		int fd = socket(AF_INET, SOCK_STREAM, 0); \
		if (fd >= 0 && connect(fd, (const struct sockaddr *)a, sizeof(*a)) < 0) { \
			close(fd); \
			return -1; \
		} \
		__asm__ volatile("" ::: "memory"); \
		return fd; \
	}
OPENER(0)
OPENER(1)
OPENER(2)
OPENER(3)
OPENER(4)
static int (*const openers[5])(const struct sockaddr_in *) = {
	open_0, open_1, open_2, open_3, open_4,
};

int bench_hold(int conns, int sites)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	struct rlimit rl;
	int lfd, held = 0;
	char buf[16];

	if (sites < 1 || sites > 5)
		return 2;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if ((rlim_t)conns * 2 + 16 > rl.rlim_cur)
		conns = (int)((rl.rlim_cur - 16) / 2);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 4096) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &l) < 0)
		return 1;
	for (int i = 0; i < conns; i++) {
		int c = openers[i % sites](&a), s;

		if (c < 0 || (s = accept(lfd, NULL, NULL)) < 0)
			break;
		/* Half of the server ends send FIN: their clients sit in
		 * CLOSE_WAIT while both fds stay held. */
		if (i & 1)
			shutdown(s, SHUT_WR);
		held += 2;
	}
	printf("ready %d\n", held + 1);
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	return 0;
}

uint64_t bench_timed(char *const argv[], int ok_max)
{
	uint64_t t0 = bench_now_ns();
	int st;
	pid_t p = fork();

	if (p == 0) {
		int dn = open("/dev/null", O_WRONLY);

		dup2(dn, 1);
		dup2(dn, 2);
		unsetenv("LD_PRELOAD");
		execvp(argv[0], argv);
		_exit(127);
	}
	if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) > ok_max)
		return 0;
	return bench_now_ns() - t0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

double bench_median_ms(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return (n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2) / 1e6;
}

bool bench_latency_args(int argc, char **argv, int *procs, int *conns, int *rounds,
			int max_procs)
{
	int opt;

	if (argc < 3) {
		fprintf(stderr, "usage: %s SOCKAUDIT SHIM [-p PROCESSES] [-n CONNECTIONS] "
			"[-r ROUNDS]\n", argv[0]);
		return false;
	}
	optind = 3;
	while ((opt = getopt(argc, argv, "p:n:r:")) != -1) {
		if (opt == 'p')
			*procs = atoi(optarg);
		else if (opt == 'n')
			*conns = atoi(optarg);
		else if (opt == 'r')
			*rounds = atoi(optarg);
		else
			return false;
	}
	return *procs >= 1 && *procs <= max_procs && *conns >= 1 && *rounds >= 1 &&
	       *rounds <= 64;
}
