/* Thread harness shared by the throughput benchmarks: warm up, start the
 * clock when every thread is ready, stop them after a fixed time, report. */
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64

struct worker {
	const struct bench_spec *spec;
	const struct bench_opts *opts;
	int id;
	void *ctx;
	uint64_t ops;
	int err;          /* errno of the first failure, 0 if none */
	pthread_t thread;
};

static pthread_barrier_t start_line;
static atomic_int stop;

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-j THREADS] [-t SECONDS] [-w WARMUP_OPS]\n", prog);
	exit(2);
}

void bench_parse(int argc, char **argv, struct bench_opts *o)
{
	int c;

	o->threads = 1;
	o->seconds = 1.0;
	o->warmup = 200;
	while ((c = getopt(argc, argv, "j:t:w:")) != -1) {
		switch (c) {
		case 'j': o->threads = atoi(optarg); break;
		case 't': o->seconds = atof(optarg); break;
		case 'w': o->warmup = atol(optarg); break;
		default: usage(argv[0]);
		}
	}
	if (optind != argc || o->threads < 1 || o->threads > MAX_THREADS ||
	    o->seconds <= 0 || o->warmup < 0)
		usage(argv[0]);
}

/* Pin the calling thread to the i-th CPU this process may use (modulo
 * their number): threads then stay where they are, which makes runs far
 * more repeatable on a small machine than letting the scheduler move them. */
void bench_pin(int i)
{
	cpu_set_t allowed, one;
	int n = 0;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0 || CPU_COUNT(&allowed) == 0)
		return;
	i %= CPU_COUNT(&allowed);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &allowed) || n++ != i)
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
		return;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int (*op)(void *) = w->spec->op;
	bool failed = false;

	bench_pin(w->id);
	for (long i = 0; i < w->opts->warmup && !failed; i++)
		failed = op(w->ctx) != 0;
	if (failed) {
		w->err = errno ? errno : EIO;
		atomic_store(&stop, 1);
	}
	pthread_barrier_wait(&start_line);
	while (!failed && !atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (op(w->ctx) != 0) {
			w->err = errno ? errno : EIO;
			atomic_store(&stop, 1);
			break;
		}
		w->ops++;
	}
	return NULL;
}

int bench_main(const struct bench_spec *spec, const struct bench_opts *o)
{
	struct worker w[MAX_THREADS];
	struct timespec nap;
	uint64_t t0, t1, c0, c1, ops = 0;
	int rc = 0;

	memset(w, 0, sizeof(w));
	pthread_barrier_init(&start_line, NULL, (unsigned)o->threads + 1);
	for (int i = 0; i < o->threads; i++) {
		w[i].spec = spec;
		w[i].opts = o;
		w[i].id = i;
		w[i].ctx = spec->setup ? spec->setup(i) : NULL;
		if (spec->setup && !w[i].ctx) {
			fprintf(stderr, "%s: setup of thread %d: %s\n", spec->name, i, strerror(errno));
			exit(1);
		}
	}
	for (int i = 0; i < o->threads; i++) {
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0) {
			fprintf(stderr, "%s: pthread_create failed\n", spec->name);
			exit(1);
		}
	}
	pthread_barrier_wait(&start_line);
	t0 = bench_now_ns();
	c0 = cpu_now_ns();
	nap.tv_sec = (time_t)o->seconds;
	nap.tv_nsec = (long)((o->seconds - (double)nap.tv_sec) * 1e9);
	while (nanosleep(&nap, &nap) != 0 && errno == EINTR)
		;
	atomic_store(&stop, 1);
	for (int i = 0; i < o->threads; i++)
		pthread_join(w[i].thread, NULL);
	t1 = bench_now_ns();
	c1 = cpu_now_ns();
	for (int i = 0; i < o->threads; i++) {
		ops += w[i].ops;
		if (w[i].err) {
			fprintf(stderr, "%s: thread %d: %s\n", spec->name, i, strerror(w[i].err));
			rc = 1;
		}
		if (spec->teardown)
			spec->teardown(w[i].ctx);
	}
	if (rc == 0 && ops == 0) {
		fprintf(stderr, "%s: no operation completed\n", spec->name);
		rc = 1;
	}
	printf("bench=%s\nthreads=%d\nops=%llu\nseconds=%.6f\nops_per_sec=%.1f\n", spec->name,
	       o->threads, (unsigned long long)ops, (double)(t1 - t0) / 1e9,
	       (double)ops * 1e9 / (double)(t1 - t0));
	/* CPU time of the whole process (all threads, user + system) per op:
	 * less sensitive than wall-clock time to other load on the machine. */
	printf("cpu_ns_per_op=%.1f\n", ops ? (double)(c1 - c0) / (double)ops : 0.0);
	bench_print_shim_status();
	return rc;
}

/* So that bench/run can tell a measured shim from one that silently did not
 * load (bad LD_PRELOAD path) or runs unrecorded (no table). */
void bench_print_shim_status(void)
{
	char line[512], prefix[64];
	const char *dir = getenv("SOCKAUDIT_DIR");
	bool loaded = false, table = false;
	struct dirent *e;
	FILE *f = fopen("/proc/self/maps", "r");
	DIR *d;

	while (f && !loaded && fgets(line, sizeof(line), f))
		loaded = strstr(line, "/libsockaudit.so") != NULL;
	if (f)
		fclose(f);
	snprintf(prefix, sizeof(prefix), "sockaudit.%u.%d.", (unsigned)geteuid(), (int)getpid());
	d = opendir(dir && *dir ? dir : "/dev/shm");
	while (d && !table && (e = readdir(d)))
		table = strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	if (d)
		closedir(d);
	printf("shim_loaded=%d\nshim_table=%d\n", loaded, table);
}
