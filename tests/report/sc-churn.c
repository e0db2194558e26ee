/* 64 threads that open, connect and close sockets through libc as fast as
 * they can, for a `report` that reads the process meanwhile: every socket
 * the report lists must be one the process held at one instant, tracked.
 * TCP is reset on close, so no TIME_WAIT piles up. Stops at stdin EOF; dies
 * of SIGALRM after a minute whatever happens. */
#include <pthread.h>
#include <stdatomic.h>

#include "sc.h"

#define CHURN_THREADS 64

static struct sockaddr_in addr;
static atomic_bool stop;
static atomic_int warm;   /* threads past their first round */

static void *acceptor(void *arg)
{
	int l = *(int *)arg;

	while (!atomic_load(&stop)) {
		int s = accept(l, NULL, NULL);

		if (s >= 0)
			close(s);
	}
	return NULL;
}

static void *churn(void *arg)
{
	static const struct linger reset = { .l_onoff = 1, .l_linger = 0 };

	for (bool first = true; !atomic_load(&stop); first = false) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		int u = socket(AF_INET, SOCK_DGRAM, 0);

		if (c >= 0) {
			if (connect(c, (const struct sockaddr *)&addr, sizeof(addr)) == 0)
				setsockopt(c, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
			close(c);
		}
		if (u >= 0)
			close(u);
		if (first)
			atomic_fetch_add(&warm, 1);
	}
	return NULL;
}

int main(void)
{
	pthread_t acc, t[CHURN_THREADS];
	int l;

	alarm(60);
	l = sc_listener(&addr);
	if (pthread_create(&acc, NULL, acceptor, &l) != 0)
		sc_die("pthread_create");
	for (int i = 0; i < CHURN_THREADS; i++)
		if (pthread_create(&t[i], NULL, churn, NULL) != 0)
			sc_die("pthread_create");
	/* A thread's first stack capture is slow (the unwinder's caches):
	 * its first socket waits for its record far longer than later ones,
	 * and that start-up is not the race under test. */
	for (int i = 0; i < 10000 && atomic_load(&warm) < CHURN_THREADS; i++)
		usleep(1000);
	if (atomic_load(&warm) < CHURN_THREADS)
		sc_die("threads not running after 10 s");
	sc_say("ready listener=%d threads=%d", l, CHURN_THREADS);
	sc_wait();
	atomic_store(&stop, true);
	for (int i = 0; i < CHURN_THREADS; i++)
		pthread_join(t[i], NULL);
	/* The acceptor may sit in accept(): one more connection wakes it. */
	{
		int c = socket(AF_INET, SOCK_STREAM, 0);

		if (c >= 0 && connect(c, (const struct sockaddr *)&addr, sizeof(addr)) == 0)
			close(c);
	}
	pthread_join(acc, NULL);
	return 0;
}
