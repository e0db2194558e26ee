/* Per-site counts: 100 connections opened at one site (count_client), 99
 * closed again, one held.
 *
 *   sc-counts single    one thread
 *   sc-counts threads   8 threads share the 100 (one site for all)
 *   sc-counts fork      the parent opens 5 at the site and holds them, then
 *                       forks; the child does the 100 and says "ready"
 *                       with its pid: its counts are its own
 *   sc-counts grow      one connection more every 100 ms, all held, with
 *                       RLIMIT_NOFILE at 1024: a growing group ("ready"
 *                       after 2 s; it goes on growing, up to 300)
 */
#include "sc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <stdint.h>
#include <time.h>

#define NCONN    100
#define NTHREADS 8

static struct sockaddr_in addr;
static int lfd;
static atomic_int ticket;
static int kept = -1;
static bool keep_all;       /* fork mode's parent: hold every one */
static int held[5];

__attribute__((noinline))
static int count_client(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		sc_die("socket");
	if (connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0)
		sc_die("connect");
	__asm__ volatile("" ::: "memory");   /* keep this frame */
	return fd;
}

/* Take tickets until 100 are gone (or `arg` of them); keep ticket 0's
 * socket, close the rest. Every thread opens at the one line. */
static void *worker(void *arg)
{
	int limit = arg ? (int)(intptr_t)arg : NCONN;

	for (;;) {
		int t = atomic_fetch_add(&ticket, 1), fd;

		if (t >= limit) {
			atomic_fetch_sub(&ticket, 1);
			return NULL;
		}
		fd = count_client();
		if (keep_all)
			held[t] = fd;
		else if (t == 0)
			kept = fd;
		else
			close(fd);
	}
}

/* The server side: accept whatever comes and close it. */
static void *acceptor(void *arg)
{
	(void)arg;
	for (;;) {
		int s = accept(lfd, NULL, NULL);

		if (s < 0)
			return NULL;
		close(s);
	}
}

static void run_threads(int n)
{
	pthread_t th[NTHREADS];

	/* Ticket 0 first, alone: the site's stack exists before the others
	 * race for it (two threads storing one new stack may make two). */
	atomic_store(&ticket, 0);
	pthread_create(&th[0], NULL, worker, (void *)(intptr_t)1);
	pthread_join(th[0], NULL);
	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

/* One connection more every 100 ms, all held, up to 300. */
static void *grower(void *arg)
{
	struct timespec tick = { 0, 100 * 1000 * 1000 };

	(void)arg;
	for (int i = 0; i < 300; i++) {
		int fd = count_client();

		/* Not the first: a thread's first connect() may record a
		 * connect stack of other raw addresses, a group of its own. */
		if (i == 1)
			kept = fd;
		atomic_fetch_add(&ticket, 1);
		nanosleep(&tick, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "single";
	pthread_t acc;

	lfd = sc_listener(&addr);
	pthread_create(&acc, NULL, acceptor, NULL);
	if (strcmp(mode, "single") == 0) {
		run_threads(1);
	} else if (strcmp(mode, "threads") == 0) {
		run_threads(NTHREADS);
	} else if (strcmp(mode, "fork") == 0) {
		pthread_t th;
		pid_t pid;
		int st;

		/* 5 from the very site the child uses, all held. */
		keep_all = true;
		atomic_store(&ticket, 0);
		pthread_create(&th, NULL, worker, (void *)(intptr_t)5);
		pthread_join(th, NULL);
		keep_all = false;
		pid = fork();
		if (pid < 0)
			sc_die("fork");
		if (pid == 0) {
			/* The acceptor thread stayed in the parent: accept here. */
			pthread_create(&acc, NULL, acceptor, NULL);
			run_threads(1);
			sc_say("ready fd=%d pid=%d parent=%d parent_fd=%d", kept, (int)getpid(),
			       (int)getppid(), held[0]);
			sc_wait();
			_exit(0);
		}
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
			return 4;
		return 0;
	} else if (strcmp(mode, "grow") == 0) {
		struct rlimit rl = { 1024, 1024 };
		pthread_t g;

		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			sc_die("setrlimit");
		/* 2 s of growth before "ready", and on while the test looks. */
		pthread_create(&g, NULL, grower, NULL);
		while (atomic_load(&ticket) < 21)
			nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	} else {
		sc_die("mode %s", mode);
	}
	sc_say("ready fd=%d pid=%d", kept, (int)getpid());
	sc_wait();
	return 0;
}
