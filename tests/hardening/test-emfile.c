/* EMFILE storms: threads open sockets until the fd limit, close a random
 * half, and go again. Every failed socket() must leave no record, and the
 * table must be exact at the end. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"

#define NTHREADS 4
#define ROUNDS 200

static _Atomic long emfiles;

static void *storm(void *arg)
{
	int fds[512], n = 0;
	unsigned seed = (unsigned)(uintptr_t)arg;

	for (int r = 0; r < ROUNDS; r++) {
		while (n < 512) {
			int s = socket(AF_INET, SOCK_DGRAM, 0);
			if (s < 0) {
				if (errno == EMFILE)
					emfiles++;
				break;
			}
			fds[n++] = s;
		}
		for (int i = 0; i < n;) {
			if (rand_r(&seed) & 1) {
				close(fds[i]);
				fds[i] = fds[--n];
			} else {
				i++;
			}
		}
	}
	while (n)
		close(fds[--n]);
	return NULL;
}

int main(void)
{
	struct rlimit rl, old;
	pthread_t th[NTHREADS];

	tap_deadline(50, "the threads at the fd limit and their joins");
	getrlimit(RLIMIT_NOFILE, &old);
	rl.rlim_cur = 256;
	rl.rlim_max = old.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, storm, (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	ok(emfiles > 0, "the threads hit EMFILE %ld times", (long)emfiles);
	setrlimit(RLIMIT_NOFILE, &old);
	ok(th_exact(getpid()), "table exact after the storms");
	return tap_done();
}
