/* Scrape latency: `sockaudit serve` answering GET /metrics for many
 * audited processes (default 200, each holding 50 loopback connections,
 * both ends, half of the client ends in CLOSE_WAIT: ~20k sockets), against
 * `ss -tanp` measured in the same invocation, interleaved, medians. The
 * first scrape (which names every site) is reported on its own; the ratio
 * is that of the scrapes after it, what a Prometheus sees every interval
 * (each a collection of its own: --min-interval 0).
 *
 *   bench-serve-latency SOCKAUDIT SHIM [-p PROCESSES] [-n CONNECTIONS] [-r ROUNDS]
 *
 * Prints key=value lines for bench/run. The holders are this program
 * itself, re-executed with --hold under the shim; they end at EOF on their
 * shared stdin. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "latency.h"

#define MAX_PROCS 1000

/* GET /metrics; nanoseconds, 0 on failure. */
static uint64_t scrape(int port, size_t *bytes)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static const char req[] = "GET /metrics HTTP/1.0\r\nHost: bench\r\n\r\n";
	char buf[65536];
	uint64_t t0 = bench_now_ns();
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ssize_t n;

	*bytes = 0;
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (*bytes == 0 && strncmp(buf, "HTTP/1.1 200", 12) != 0 &&
		    strncmp(buf, "HTTP/1.0 200", 12) != 0) {
			close(fd);
			return 0;
		}
		*bytes += (size_t)n;
	}
	close(fd);
	return n < 0 ? 0 : bench_now_ns() - t0;
}

int main(int argc, char **argv)
{
	int procs = 200, conns = 50, rounds = 5, in[2], out[2], err[2], sockets = 0, port = 0;
	uint64_t sc[64], ss[64], cold;
	pid_t holders[MAX_PROCS], serve;
	char line[256];
	size_t bytes = 0;
	FILE *f, *ef;

	if (argc == 3 && strcmp(argv[1], "--hold") == 0)
		return bench_hold(atoi(argv[2]), 3);
	if (!bench_latency_args(argc, argv, &procs, &conns, &rounds, MAX_PROCS))
		return 2;
	signal(SIGPIPE, SIG_IGN);
	if (pipe(in) < 0 || pipe(out) < 0 || pipe(err) < 0)
		return 1;
	for (int i = 0; i < procs; i++) {
		holders[i] = fork();
		if (holders[i] == 0) {
			char n[16];

			dup2(in[0], 0);
			dup2(out[1], 1);
			close(in[1]);
			close(out[0]);
			snprintf(n, sizeof(n), "%d", conns);
			setenv("LD_PRELOAD", argv[2], 1);
			execl("/proc/self/exe", argv[0], "--hold", n, (char *)NULL);
			_exit(127);
		}
	}
	close(in[0]);
	close(out[1]);
	f = fdopen(out[0], "r");
	for (int i = 0; i < procs; i++) {
		int n;

		if (!f || !fgets(line, sizeof(line), f) || sscanf(line, "ready %d", &n) != 1) {
			fprintf(stderr, "bench-serve-latency: a holder did not start\n");
			goto fail;
		}
		sockets += n;
	}
	serve = fork();
	if (serve == 0) {
		dup2(err[1], 2);
		close(err[0]);
		unsetenv("LD_PRELOAD");
		/* --min-interval 0: every scrape timed is a collection, never
		 * the page of the one before. */
		execl(argv[1], argv[1], "serve", "--listen", "127.0.0.1:0", "--close-wait", "0",
		      "--min-interval", "0", (char *)NULL);
		_exit(127);
	}
	close(err[1]);
	ef = fdopen(err[0], "r");
	if (!ef || !fgets(line, sizeof(line), ef) ||
	    sscanf(line, "sockaudit serve: listening on http://127.0.0.1:%d/", &port) != 1) {
		fprintf(stderr, "bench-serve-latency: serve did not start\n");
		kill(serve, SIGKILL);
		goto fail;
	}
	{
		char *sargv[] = { "ss", "-tanp", NULL };

		cold = scrape(port, &bytes);
		for (int r = 0; r < rounds && cold; r++) {
			sc[r] = scrape(port, &bytes);
			ss[r] = bench_timed(sargv, 0);
			if (!sc[r] || !ss[r]) {
				cold = 0;
				break;
			}
		}
	}
	kill(serve, SIGTERM);
	waitpid(serve, NULL, 0);
	close(in[1]);
	for (int i = 0; i < procs; i++)
		waitpid(holders[i], NULL, 0);
	if (!cold) {
		fprintf(stderr, "bench-serve-latency: a scrape or ss failed\n");
		return 1;
	}
	{
		double s = bench_median_ms(sc, rounds), t = bench_median_ms(ss, rounds);

		printf("bench=serve-latency\nprocesses=%d\nsockets=%d\nrounds=%d\npage_bytes=%zu\n"
		       "first_scrape_ms=%.1f\nscrape_ms=%.1f\nss_ms=%.1f\nratio=%.3f\n", procs,
		       sockets, rounds, bytes, (double)cold / 1e6, s, t, s / t);
	}
	return 0;
fail:
	close(in[1]);
	for (int i = 0; i < procs; i++)
		kill(holders[i], SIGKILL);
	for (int i = 0; i < procs; i++)
		waitpid(holders[i], NULL, 0);
	return 1;
}
