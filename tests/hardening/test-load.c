/* Load: 8 threads doing socket/close (each also keeps a rotating set of
 * open sockets) while the main thread forks children that exec /bin/true,
 * and another process runs `sockaudit report` on us in a loop. No crash, no
 * hang, every report run ends 0 or 1, and once the threads stop the table
 * matches /proc/<pid>/fd exactly: no record lost or misattributed. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"

#define NTHREADS 8
#define KEEP 16

static long ops_per_thread = 1000000;
static atomic_long done_ops;

static void *worker(void *arg)
{
	int keep[KEEP];
	unsigned seed = (unsigned)(uintptr_t)arg;

	for (int i = 0; i < KEEP; i++)
		keep[i] = socket(AF_INET, i & 1 ? SOCK_DGRAM : SOCK_STREAM, 0);
	for (long n = 0; n < ops_per_thread; n++) {
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		if ((n & 63) == 0) {
			/* rotate a long-lived one: its number gets reused */
			int k = (int)(rand_r(&seed) % KEEP);
			close(keep[k]);
			keep[k] = s;
		} else {
			close(s);
		}
	}
	atomic_fetch_add(&done_ops, ops_per_thread);
	return NULL;
}

/* Runs the real CLI on `target` until told to stop; returns the count of
 * bad runs (signal, hang, or an exit status other than 0 and 1). */
static int reporter(pid_t target, const char *cli, int stop_fd, int *runs)
{
	char pidbuf[16], c;
	int bad = 0;

	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)target);
	*runs = 0;
	while (recv(stop_fd, &c, 1, MSG_DONTWAIT) != 1 && kill(target, 0) == 0) {
		pid_t p = fork();
		int st = 0, waited = 0;
		if (p == 0) {
			int devnull = open("/dev/null", 1);
			dup2(devnull, 1);
			dup2(devnull, 2);
			unsetenv("LD_PRELOAD");
			execl(cli, cli, "report", "--json", pidbuf, (char *)NULL);
			_exit(127);
		}
		while (waitpid(p, &st, WNOHANG) == 0 && waited < 20000) {
			usleep(2000);
			waited += 2;
		}
		if (waited >= 20000) {
			kill(p, SIGKILL);
			waitpid(p, &st, 0);
			bad++;
		} else if (!WIFEXITED(st) || WEXITSTATUS(st) > 1) {
			bad++;
		}
		(*runs)++;
	}
	return bad;
}

int main(void)
{
	pthread_t th[NTHREADS];
	const char *cli = getenv("SOCKAUDIT"), *ops = getenv("SOCKAUDIT_LOAD_OPS");
	int sv[2], st, forks = 0, fork_fail = 0, runs = 0;
	pid_t rep;
	struct timespec t0, t1;

	if (!cli)
		bail("SOCKAUDIT (path of the CLI) must be set");
	if (ops)
		ops_per_thread = atol(ops);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	rep = fork();
	if (rep == 0) {
		int bad = reporter(getppid(), cli, sv[1], &runs);
		write(sv[1], &runs, sizeof(runs));
		_exit(bad > 255 ? 255 : bad);
	}
	tap_deadline(540, "the load (threads, forks, the concurrent reports)");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)(intptr_t)(i + 1));
	/* Fork storm beside the threads: children exec /bin/true. */
	while (atomic_load(&done_ops) < NTHREADS * ops_per_thread) {
		pid_t p = fork();
		if (p == 0) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		int waited = 0;
		while (waitpid(p, &st, WNOHANG) == 0 && waited < 10000) {
			usleep(1000);
			waited++;
		}
		if (waited >= 10000) {
			kill(p, SIGKILL);
			waitpid(p, &st, 0);
			fork_fail++;
		} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fork_fail++;
		}
		forks++;
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ok(th_exact(getpid()), "table exact after %ld socket/close operations",
	   (long)NTHREADS * ops_per_thread);
	write(sv[0], "s", 1);
	read(sv[0], &runs, sizeof(runs));
	waitpid(rep, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "every concurrent report ended 0 or 1 (%d bad)",
	   WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	ok(runs > 0, "report ran %d times during the load", runs);
	ok(forks > 0 && fork_fail == 0, "%d fork+exec children finished (%d failed or hung)", forks,
	   fork_fail);
	diag("%.1f s for %ld ops", (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	     (long)NTHREADS * ops_per_thread);
	return tap_done();
}
