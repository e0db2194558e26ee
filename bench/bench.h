/* A tiny harness for the throughput benchmarks: N worker threads (thread i
 * pinned to CPU i mod the CPU count) repeat one operation for a fixed
 * wall-clock time and the program prints
 * "key=value" lines for bench/run to parse. Nothing here knows about the
 * shim: bench/run runs the same binary with and without LD_PRELOAD. */
#pragma once

#include <stdint.h>

struct bench_spec {
	const char *name;
	/* Per-thread state; NULL means failure (errno explains). */
	void *(*setup)(int id);
	/* One operation; 0 on success, -1 on failure (errno explains). */
	int (*op)(void *ctx);
	void (*teardown)(void *ctx);
};

struct bench_opts {
	int threads;
	double seconds;   /* timed phase per run */
	long warmup;      /* untimed operations per thread before the clock starts */
};

uint64_t bench_now_ns(void);
/* Pin the calling thread to the i-th allowed CPU (modulo their number).
 * Worker thread i is pinned this way before it starts. */
void bench_pin(int i);
/* Parse "-j THREADS -t SECONDS -w WARMUP"; exits on bad usage. */
void bench_parse(int argc, char **argv, struct bench_opts *o);
/* Run the benchmark and print name, threads, ops, seconds, ops_per_sec.
 * Returns the process exit status. */
int bench_main(const struct bench_spec *spec, const struct bench_opts *o);
/* Print shim_loaded=0|1 (libsockaudit.so mapped) and shim_table=0|1 (a
 * table file exists for this pid). */
void bench_print_shim_status(void);
