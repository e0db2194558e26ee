/* Per-site counts (docs/design.md, "Per-site counts"): every counted open
 * and close lands on the open stack's entry, exactly, under threads (each
 * thread in its own shard), across fork (threads in the child too) and
 * exec; a dup is no open, and a record replaced unseen is a close. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"

#define NCONN    100
#define NTHREADS 8
#define PER_THREAD 2000

static struct sockaddr_in listen_addr;
static int listen_fd = -1;

static void listener(void)
{
	socklen_t len = sizeof(listen_addr);

	listen_addr.sin_family = AF_INET;
	listen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&listen_addr, len) < 0 ||
	    listen(listen_fd, 256) < 0 ||
	    getsockname(listen_fd, (struct sockaddr *)&listen_addr, &len) < 0)
		bail("listener: %m");
}

/* The one site the connections are opened at. */
__attribute__((noinline)) static int connect_site(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&listen_addr, sizeof(listen_addr)) < 0)
		bail("connect: %m");
	__asm__ volatile("" ::: "memory");   /* no tail call: keep this frame */
	return fd;
}

__attribute__((noinline)) static int plain_site(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	__asm__ volatile("" ::: "memory");
	return fd;
}

/* The open stack of fd's record, 0 when none. A site is the whole stack:
 * the same function called from two lines is two sites. */
static uint32_t stack_of(pid_t pid, int fd)
{
	struct th_table t;
	const struct sa_slot *s;
	uint32_t id = 0;

	if (!th_load(&t, pid))
		return 0;
	s = th_find(&t, fd);
	if (s)
		id = s->open_stack;
	th_unload(&t);
	return id;
}

static bool counts_by_id(pid_t pid, uint32_t id, struct sa_count *out)
{
	static struct sa_count c[SA_NSTACKS];
	struct th_table t;
	bool ok = false;

	if (!id || !th_load(&t, pid))
		return false;
	if (sa_reader_counts(&t.r, c, SA_NSTACKS) >= id) {
		*out = c[id - 1];
		ok = true;
	}
	th_unload(&t);
	return ok;
}

/* Stack id's cell in each shard, as the file holds them. */
static bool shard_cells(pid_t pid, uint32_t id, struct sa_count cells[SA_COUNT_SHARDS])
{
	struct th_table t;
	bool ok = true;

	if (!id || !th_load(&t, pid))
		return false;
	for (uint32_t s = 0; s < SA_COUNT_SHARDS && ok; s++)
		ok = pread(t.r.fd, &cells[s], sizeof(cells[s]),
			   (off_t)(t.r.hdr.counts_off + sa_count_cell_off(id, s))) ==
		     (ssize_t)sizeof(cells[s]);
	th_unload(&t);
	return ok;
}

/* opened, closed of the stack that fd's record was opened at. */
static bool counts_of(pid_t pid, int fd, struct sa_count *out)
{
	uint32_t id = stack_of(pid, fd);

	if (!id)
		diag("fd %d: no record with an open stack", fd);
	return counts_by_id(pid, id, out);
}

/* 100 connections from connect_site, 99 closed: the remaining one names the site. */
static int open_100_close_99(void)
{
	int fds[NCONN];

	for (int i = 0; i < NCONN; i++) {
		int a;

		fds[i] = connect_site();
		a = accept(listen_fd, NULL, NULL);
		if (a < 0)
			bail("accept: %m");
		close(a);
	}
	for (int i = 1; i < NCONN; i++)
		close(fds[i]);
	return fds[0];
}

static void case_one_thread(void)
{
	struct sa_count c = { 0 };
	int keep = open_100_close_99();

	bool have = counts_of(getpid(), keep, &c);

	ok(have && c.opened == NCONN && c.closed == NCONN - 1,
	   "100 connections from one site, 99 closed: opened %llu, closed %llu",
	   (unsigned long long)c.opened, (unsigned long long)c.closed);
	close(keep);
	ok(!counts_of(getpid(), keep, &c), "the last close clears the record");
}

struct worker {
	int n;      /* sockets to open, all but the last closed again */
	int keep;
};

static void *thread_main(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < w->n; i++) {
		int fd = plain_site();   /* one site for every thread */

		if (fd < 0)
			return (void *)1;
		if (i < w->n - 1)
			close(fd);
		else
			w->keep = fd;
	}
	return NULL;
}

static void case_threads(void)
{
	pthread_t th[NTHREADS];
	struct worker w[NTHREADS], warm = { .n = 1, .keep = -1 };
	struct sa_count before = { 0 }, c = { 0 };
	bool ok_threads = true;
	uint32_t id;

	/* The site's stack exists before the threads start, so that its id
	 * is known (racing to store a new one: case_new_site_race). */
	pthread_create(&th[0], NULL, thread_main, &warm);
	pthread_join(th[0], NULL);
	id = stack_of(getpid(), warm.keep);
	if (!counts_by_id(getpid(), id, &before))
		bail("no counts for the threads' site");
	close(warm.keep);
	before.closed++;
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .n = PER_THREAD, .keep = -1 };
		pthread_create(&th[i], NULL, thread_main, &w[i]);
	}
	for (int i = 0; i < NTHREADS; i++) {
		void *rv;

		pthread_join(th[i], &rv);
		ok_threads &= rv == NULL && w[i].keep >= 0 && stack_of(getpid(), w[i].keep) == id;
	}
	ok(ok_threads, "threads: every socket opened, all at the one site");
	ok_threads = counts_by_id(getpid(), id, &c);
	ok(ok_threads &&
	   c.opened - before.opened == NTHREADS * PER_THREAD &&
	   c.closed - before.closed == NTHREADS * (PER_THREAD - 1),
	   "%d threads x %d opens, all but one each closed: +%llu opened, +%llu closed", NTHREADS,
	   PER_THREAD, (unsigned long long)(c.opened - before.opened),
	   (unsigned long long)(c.closed - before.closed));
	/* Threads take shards in turn: the first SA_COUNT_SHARDS - 1 to count
	 * (this one, the warm-up thread, the first workers) own one each, the
	 * later workers share the last, with locked adds. So every worker's
	 * opens are in an owned shard of its own or in the shared one, which
	 * holds several workers' (they ran at the same time), exactly. */
	{
		struct sa_count cells[SA_COUNT_SHARDS];
		unsigned one = 0;
		uint64_t last = 0;

		ok_threads = shard_cells(getpid(), id, cells);
		for (uint32_t s = 0; ok_threads && s < SA_COUNT_SHARDS - 1; s++)
			one += cells[s].opened == PER_THREAD;
		if (ok_threads)
			last = cells[SA_COUNT_SHARDS - 1].opened;
		ok(ok_threads && one >= 1 && last >= 2 * PER_THREAD && last % PER_THREAD == 0 &&
		   one + last / PER_THREAD == NTHREADS,
		   "threads: %u owned shards hold one worker's %d opens each, the shared one "
		   "%llu (%llu workers'): all %d workers", one, PER_THREAD, (unsigned long long)last,
		   (unsigned long long)(last / PER_THREAD), NTHREADS);
	}
	for (int i = 0; i < NTHREADS; i++)
		close(w[i].keep);
}

/* In a forked child, 8 threads at one site: the child's counts are exact. */
static void case_fork_threads(void)
{
	pid_t pid = fork();
	int rc;

	if (pid == 0) {
		pthread_t th[NTHREADS];
		struct worker w[NTHREADS], warm = { .n = 1, .keep = -1 };
		struct sa_count c = { 0 };
		uint32_t id;

		pthread_create(&th[0], NULL, thread_main, &warm);
		pthread_join(th[0], NULL);
		id = stack_of(getpid(), warm.keep);
		close(warm.keep);
		for (int i = 0; i < NTHREADS; i++) {
			w[i] = (struct worker){ .n = PER_THREAD / 4, .keep = -1 };
			pthread_create(&th[i], NULL, thread_main, &w[i]);
		}
		for (int i = 0; i < NTHREADS; i++)
			pthread_join(th[i], NULL);
		if (!counts_by_id(getpid(), id, &c))
			_exit(3);
		/* The warm-up's open and close, then the threads'. */
		if (c.opened != 1 + NTHREADS * (PER_THREAD / 4) ||
		    c.closed != 1 + NTHREADS * (PER_THREAD / 4 - 1)) {
			diag("fork+threads child: opened %llu, closed %llu",
			     (unsigned long long)c.opened, (unsigned long long)c.closed);
			_exit(1);
		}
		_exit(0);
	}
	rc = th_wait_child(pid, 30000);
	ok(rc == 0, "fork, then %d threads x %d opens in the child: its counts are exact "
	   "(status %d)", NTHREADS, PER_THREAD / 4, rc);
}

/* The exec'd image (argv: --after-exec ID KEEP_FD): the table it adopted
 * has the 10 opens, 6 closes and the 2 CLOEXEC descriptors the exec
 * closed; a close here counts on. Says by its exit status. */
static int after_exec(char **argv)
{
	uint32_t id = (uint32_t)strtoul(argv[2], NULL, 10);
	int keep = atoi(argv[3]);
	struct sa_count c = { 0 };

	if (!counts_by_id(getpid(), id, &c))
		return 3;
	if (c.opened != 10 || c.closed != 8) {
		diag("after exec: opened %llu, closed %llu (want 10, 8)",
		     (unsigned long long)c.opened, (unsigned long long)c.closed);
		return 1;
	}
	close(keep);
	if (!counts_by_id(getpid(), id, &c) || c.opened != 10 || c.closed != 9) {
		diag("after exec and a close: opened %llu, closed %llu (want 10, 9)",
		     (unsigned long long)c.opened, (unsigned long long)c.closed);
		return 2;
	}
	return 0;
}

/* A child opens 10 at one site, closes 6, marks 2 of the other 4
 * close-on-exec and execs this test: the new image goes on counting. */
static void case_exec(void)
{
	pid_t pid = fork();
	int rc;

	if (pid == 0) {
		int fds[10];
		char idtxt[16], fdtxt[16];
		uint32_t id;

		for (int i = 0; i < 10; i++)
			fds[i] = plain_site();
		id = stack_of(getpid(), fds[0]);
		for (int i = 4; i < 10; i++)
			close(fds[i]);
		fcntl(fds[0], F_SETFD, FD_CLOEXEC);
		fcntl(fds[1], F_SETFD, FD_CLOEXEC);
		snprintf(idtxt, sizeof(idtxt), "%u", id);
		snprintf(fdtxt, sizeof(fdtxt), "%d", fds[2]);
		execl("/proc/self/exe", "test-counts", "--after-exec", idtxt, fdtxt, (char *)NULL);
		_exit(4);
	}
	rc = th_wait_child(pid, 30000);
	ok(rc == 0, "exec: the new image adopts the counts (10 opened, 6 closed, 2 closed by "
	   "the exec), and its close counts on (status %d)", rc);
}

static void case_fork(void)
{
	int held[3], sync[2], rc;
	struct sa_count before, after, c;
	pid_t pid;

	for (int i = 0; i < 3; i++)
		held[i] = connect_site();
	for (int i = 0; i < 3; i++) {
		int a = accept(listen_fd, NULL, NULL);
		close(a);
	}
	if (!counts_of(getpid(), held[0], &before) || pipe(sync) < 0)
		bail("fork: no counts before the fork");
	pid = fork();
	if (pid == 0) {
		int keep;

		close(sync[0]);
		/* Inherited descriptors were counted in the parent: closing
		 * them here counts nothing, and our own counts start at 0. */
		close(held[1]);
		close(held[2]);
		keep = open_100_close_99();
		rc = counts_of(getpid(), keep, &c) && c.opened == NCONN && c.closed == NCONN - 1
			     ? 0 : 1;
		if (rc)
			diag("child: opened %llu, closed %llu", (unsigned long long)c.opened,
			     (unsigned long long)c.closed);
		/* The inherited record's site: nothing opened or closed here. */
		if (!counts_of(getpid(), held[0], &c) || c.opened != 0 || c.closed != 0) {
			diag("child: inherited site opened %llu, closed %llu",
			     (unsigned long long)c.opened, (unsigned long long)c.closed);
			rc |= 2;
		}
		_exit(rc);
	}
	close(sync[1]);
	rc = th_wait_child(pid, 30000);
	ok(rc == 0, "fork: the child counts its own 100 opens and 99 closes, none of the "
	   "parent's (status %d)", rc);
	ok(counts_of(getpid(), held[0], &after) && after.opened == before.opened &&
	   after.closed == before.closed,
	   "fork: the child's closes and opens leave the parent's counts as they were");
	for (int i = 0; i < 3; i++)
		close(held[i]);
	close(sync[0]);
}

static void case_dup(void)
{
	struct sa_count before, c;
	int fd = plain_site(), d, other, x = -1, extra[64], n = 0;
	uint32_t id = stack_of(getpid(), fd);
	bool have;

	if (!counts_by_id(getpid(), id, &before))
		bail("dup: no counts");
	d = dup(fd);
	have = counts_by_id(getpid(), id, &c);
	ok(have && stack_of(getpid(), d) == id && c.opened == before.opened &&
	   c.closed == before.closed, "dup: the copy has the opener's stack, no open counted");
	close(d);
	have = counts_by_id(getpid(), id, &c);
	ok(have && c.closed == before.closed, "dup: closing the copy counts no close");
	/* dup2 onto a counted record closes it. */
	other = socket(AF_UNIX, SOCK_STREAM, 0);
	dup2(other, fd);
	close(other);
	have = counts_by_id(getpid(), id, &c);
	ok(have && c.opened == before.opened && c.closed == before.closed + 1,
	   "dup2 over a counted socket counts its close (opened +%llu, closed +%llu)",
	   (unsigned long long)(c.opened - before.opened),
	   (unsigned long long)(c.closed - before.closed));
	close(fd);

	/* Closed by a raw system call the shim does not see, and the number
	 * reused from the same site: the replaced record counts as closed. */
	for (int i = 0; i < 66; i++) {
		int got = plain_site();   /* one site */

		if (i == 0) {
			x = got;
			id = stack_of(getpid(), x);
			if (!counts_by_id(getpid(), id, &before))
				bail("raw close: no counts");
			syscall(SYS_close, x);
			continue;
		}
		if (got == x)
			break;
		extra[n++] = got;
	}
	have = counts_by_id(getpid(), id, &c) && stack_of(getpid(), x) == id;
	ok(have && c.opened == before.opened + 1 + (uint64_t)n && c.closed == before.closed + 1,
	   "a record replaced after an unseen close counts it (opened +%llu, closed +%llu)",
	   (unsigned long long)(c.opened - before.opened),
	   (unsigned long long)(c.closed - before.closed));
	for (int i = 0; i < n; i++)
		close(extra[i]);
	close(x);
}

/* A new site: `depth` frames of this function over the socket() call, so
 * that each depth is a stack no thread opened at before. */
__attribute__((noinline)) static int fresh_site(int depth)
{
	int fd = depth > 1 ? fresh_site(depth - 1) : socket(AF_INET, SOCK_DGRAM, 0);

	__asm__ volatile("" ::: "memory");   /* no tail call: keep this frame */
	return fd;
}

#define RACE_THREADS 8
#define RACE_ROUNDS 20

struct racer {
	pthread_barrier_t *go;
	int depth;
	int fd;
};

static void *racer_main(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->go);
	r->fd = fresh_site(r->depth);
	return NULL;
}

/* Threads that open at one new site at once store its stack once: a
 * second entry for the same frames would split the site's counts between
 * two ids (the later opens find the first). 20 new sites, 8 threads each
 * released by a barrier. */
static void case_new_site_race(void)
{
	unsigned one_id = 0, exact = 0;

	for (int round = 1; round <= RACE_ROUNDS; round++) {
		pthread_barrier_t go;
		pthread_t th[RACE_THREADS];
		struct racer r[RACE_THREADS];
		struct sa_count c = { 0 };
		uint32_t id = 0;
		bool same = true;

		pthread_barrier_init(&go, NULL, RACE_THREADS);
		for (int i = 0; i < RACE_THREADS; i++) {
			r[i] = (struct racer){ .go = &go, .depth = round, .fd = -1 };
			pthread_create(&th[i], NULL, racer_main, &r[i]);
		}
		for (int i = 0; i < RACE_THREADS; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&go);
		for (int i = 0; i < RACE_THREADS; i++) {
			uint32_t s = r[i].fd >= 0 ? stack_of(getpid(), r[i].fd) : 0;

			if (i == 0)
				id = s;
			same &= s && s == id;
		}
		one_id += same;
		exact += same && counts_by_id(getpid(), id, &c) && c.opened == RACE_THREADS;
		for (int i = 0; i < RACE_THREADS; i++)
			if (r[i].fd >= 0)
				close(r[i].fd);
	}
	ok(one_id == RACE_ROUNDS, "new site raced by %d threads: one stack id in %u of %d rounds",
	   RACE_THREADS, one_id, RACE_ROUNDS);
	ok(exact == RACE_ROUNDS, "new site raced: its count says %d opened in %u of %d rounds",
	   RACE_THREADS, exact, RACE_ROUNDS);
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--after-exec") == 0)
		return after_exec(argv);
	tap_plan(15);
	listener();
	case_one_thread();
	case_threads();
	case_fork();
	case_fork_threads();
	case_exec();
	case_dup();
	case_new_site_race();
	close(listen_fd);
	return tap_done();
}
