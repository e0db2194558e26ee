/* Report latency: `sockaudit report` on a process holding ~20k sockets
 * (10k loopback connections, both ends held, half of the client ends in
 * CLOSE_WAIT, opened from 5 distinct stacks), against `ss -tanp` measured in
 * the same invocation, interleaved, medians. Also `sockaudit list`.
 *
 *   bench-report-latency SOCKAUDIT SHIM [-n CONNECTIONS] [-r ROUNDS]
 *
 * Prints key=value lines for bench/run. The holder is this program itself,
 * re-executed with --hold under the shim. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "latency.h"

/* One holder of conns connections under the shim; its stdin is *keep
 * (close it to let it go). Returns its pid, -1 on failure; *sockets gets
 * what it holds. */
static pid_t start_holder(const char *self, const char *shim, int conns, int *keep, int *sockets)
{
	int in[2], out[2];
	char line[64];
	pid_t holder;
	FILE *f;

	if (pipe(in) < 0 || pipe(out) < 0)
		return -1;
	holder = fork();
	if (holder == 0) {
		char n[16];
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		snprintf(n, sizeof(n), "%d", conns);
		setenv("LD_PRELOAD", shim, 1);
		execl("/proc/self/exe", self, "--hold", n, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	f = fdopen(out[0], "r");
	if (holder < 0 || !f || !fgets(line, sizeof(line), f) ||
	    sscanf(line, "ready %d", sockets) != 1) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	*keep = in[1];
	return holder;
}

/* The holders go: stdin closed, reaped. */
static void stop_holders(const pid_t *pids, const int *keep, int n, bool kill_them)
{
	for (int i = 0; i < n; i++) {
		if (kill_them)
			kill(pids[i], SIGKILL);
		close(keep[i]);
	}
	for (int i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
}

int main(int argc, char **argv)
{
	int conns = 10000, rounds = 5, sockets = 0, procs = 1;
	uint64_t rep[64], ss[64], lst[64];
	char pidbuf[16];
	const char *cli, *shim;
	pid_t *holders;
	int *keep;

	if (argc == 3 && strcmp(argv[1], "--hold") == 0)
		return bench_hold(atoi(argv[2]), 5);
	if (!bench_latency_args(argc, argv, &procs, &conns, &rounds, 4096) || conns < procs)
		return 2;
	cli = argv[1];
	shim = argv[2];

	/* -p: the connections spread over that many holders, and `report -A`
	 * (every audited process at once) timed instead of `report <pid>`. */
	holders = calloc((size_t)procs, sizeof(holders[0]));
	keep = calloc((size_t)procs, sizeof(keep[0]));
	if (!holders || !keep)
		return 1;
	for (int i = 0; i < procs; i++) {
		int held = 0;

		holders[i] = start_holder(argv[0], shim, conns / procs, &keep[i], &held);
		if (holders[i] < 0) {
			fprintf(stderr, "bench-report-latency: holder %d did not start\n", i);
			stop_holders(holders, keep, i, true);
			return 1;
		}
		sockets += held;
	}
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)holders[0]);
	{
		/* --close-wait 0: every CLOSE_WAIT socket is flagged, so the
		 * report groups and symbolizes them, as it would for real. */
		char *rargv[] = { (char *)cli, "report", "--json", "--close-wait", "0", pidbuf, NULL };
		char *aargv[] = { (char *)cli, "report", "-A", "--json", "--close-wait", "0", NULL };
		char *sargv[] = { "ss", "-tanp", NULL };
		char *largv[] = { (char *)cli, "list", NULL };

		for (int r = 0; r < rounds; r++) {
			rep[r] = bench_timed(procs > 1 ? aargv : rargv, 1);
			ss[r] = bench_timed(sargv, 0);
			lst[r] = bench_timed(largv, 1);
			if (!rep[r] || !ss[r] || !lst[r]) {
				fprintf(stderr, "bench-report-latency: a timed command failed\n");
				stop_holders(holders, keep, procs, true);
				return 1;
			}
		}
	}
	stop_holders(holders, keep, procs, false);
	{
		double r = bench_median_ms(rep, rounds), s = bench_median_ms(ss, rounds);
		double l = bench_median_ms(lst, rounds);

		if (procs > 1)
			printf("bench=report-all\nprocesses=%d\nsockets=%d\nrounds=%d\n"
			       "report_all_ms=%.1f\nss_ms=%.1f\nlist_ms=%.1f\nratio=%.3f\n", procs,
			       sockets, rounds, r, s, l, r / s);
		else
			printf("bench=report-latency\nsockets=%d\nrounds=%d\nreport_ms=%.1f\n"
			       "ss_ms=%.1f\nlist_ms=%.1f\nratio=%.3f\n", sockets, rounds, r, s, l, r / s);
	}
	free(holders);
	free(keep);
	return 0;
}
