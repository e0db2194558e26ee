/* 8 threads socket/connect/close in a loop while another process reads the
 * table in a loop: every record read must be self-consistent (a torn record
 * would pair one thread's id with another thread's peer), and when the
 * threads stop the table equals /proc/<pid>/fd exactly. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"

#define NTHREADS 8
#define ITERS 20000

static uint16_t port_of[NTHREADS];
static _Atomic uint32_t tid_of[NTHREADS];
static atomic_int ready;
static bool inode_at_open;   /* SOCKAUDIT_INODE_AT_OPEN: every record has its inode */
/* Connected records the reader (another process) has checked: the workers
 * go on past ITERS until it has seen READER_MIN, so a reader scheduled late
 * on a loaded machine still overlaps them (tap_deadline bounds it all). */
#define READER_MIN 200
static _Atomic long *reader_seen;

static void *worker(void *arg)
{
	int i = (int)(intptr_t)arg;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(port_of[i]) };

	atomic_store(&tid_of[i], (uint32_t)syscall(SYS_gettid));
	atomic_fetch_add(&ready, 1);
	while (atomic_load(&ready) < NTHREADS + 1)
		;
	for (int n = 0; n < ITERS || atomic_load(reader_seen) < READER_MIN; n++) {
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		connect(s, (struct sockaddr *)&a, sizeof(a));
		close(s);
	}
	return NULL;
}

/* The reader: returns the number of inconsistent records it saw. */
static int reader(pid_t target, int stop_fd, long *checked)
{
	int bad = 0;
	char c;

	*checked = 0;
	for (;;) {
		struct th_table t;
		if (th_load(&t, target)) {
			for (size_t i = 0; i < t.s.nrecs; i++) {
				const struct sa_slot *s = &t.s.recs[i].slot;
				struct sockaddr_in p;
				int owner = -1;

				if (t.s.recs[i].status != SA_REC_OK || !(s->flags & SA_SLOT_CONNECTED))
					continue;
				for (int k = 0; k < NTHREADS; k++)
					if (tid_of[k] == s->tid)
						owner = k;
				memcpy(&p, s->peer, sizeof(p));
				(*checked)++;
				atomic_fetch_add(reader_seen, 1);
				if (owner < 0 || ntohs(p.sin_port) != port_of[owner] ||
				    s->family != AF_INET || (inode_at_open && s->inode == 0) ||
				    s->connect_ns < s->open_ns)
					bad++;
			}
			th_unload(&t);
		}
		if (recv(stop_fd, &c, 1, MSG_DONTWAIT) == 1)
			break;
	}
	return bad;
}

int main(void)
{
	pthread_t th[NTHREADS];
	int udp[NTHREADS], sv[2], st;
	long checked = 0;
	pid_t pid;
	const char *e = getenv("SOCKAUDIT_INODE_AT_OPEN");

	inode_at_open = e && *e && strcmp(e, "0") != 0;
	reader_seen = mmap(NULL, sizeof(*reader_seen), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (reader_seen == MAP_FAILED)
		bail("mmap: %s", strerror(errno));

	for (int i = 0; i < NTHREADS; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t l = sizeof(a);
		udp[i] = socket(AF_INET, SOCK_DGRAM, 0);
		bind(udp[i], (struct sockaddr *)&a, sizeof(a));
		getsockname(udp[i], (struct sockaddr *)&a, &l);
		port_of[i] = ntohs(a.sin_port);
	}
	tap_deadline(100, "the threads, the reader and their joins");
	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
	while (atomic_load(&ready) < NTHREADS)
		;
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid = fork();
	if (pid == 0) {
		int bad = reader(getppid(), sv[1], &checked);
		write(sv[1], &checked, sizeof(checked));
		_exit(bad > 255 ? 255 : bad);
	}
	atomic_fetch_add(&ready, 1);   /* go */
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	write(sv[0], "s", 1);
	read(sv[0], &checked, sizeof(checked));
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "reader saw no torn record (%d bad)",
	   WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	ok(checked > 0, "reader checked %ld connected records while threads ran", checked);
	ok(th_exact(getpid()), "table exact once the threads stopped");
	for (int i = 0; i < NTHREADS; i++)
		close(udp[i]);
	close(sv[0]);
	close(sv[1]);
	ok(th_exact(getpid()), "table exact after closing everything");
	return tap_done();
}
