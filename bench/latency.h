/* What the latency benchmarks (report-latency.c, serve-latency.c) share:
 * the holder they re-execute under the shim, running a command to time it,
 * and the median. Clock: bench_now_ns() (bench.h). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The holder: conns loopback connections, both ends held, opened from
 * `sites` distinct call sites (1..5: a report's groups), half of the client
 * ends in CLOSE_WAIT. The soft fd limit is raised to the hard one and conns
 * capped to fit. Prints "ready N" (N: sockets held, the listener included)
 * and holds them until EOF on stdin. Returns the exit status. */
int bench_hold(int conns, int sites);
/* Run argv with stdout and stderr to /dev/null and without LD_PRELOAD;
 * nanoseconds, or 0 on failure or an exit status above ok_max. */
uint64_t bench_timed(char *const argv[], int ok_max);
/* The median of v[0..n) in milliseconds (v is sorted). */
double bench_median_ms(uint64_t *v, int n);

/* Both benchmarks' command line: PROG SOCKAUDIT SHIM [-p PROCESSES]
 * [-n CONNECTIONS] [-r ROUNDS], into the defaults the caller set. False
 * (usage printed for too few arguments) on anything else, a count below
 * 1, more than 64 rounds or more than max_procs processes. */
bool bench_latency_args(int argc, char **argv, int *procs, int *conns, int *rounds,
			int max_procs);
