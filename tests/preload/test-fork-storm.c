/* A thread opens sockets in a loop while the main thread forks 50 times:
 * every child must finish (libunwind can deadlock in such a child if used
 * there; the shim switches to backtrace() after fork). */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"

static atomic_bool stop;

static void *churn(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		close(s);
	}
	return NULL;
}

int main(void)
{
	pthread_t th;
	int hung = 0, failed = 0;

	tap_deadline(100, "the fork storm and its churn thread");
	pthread_create(&th, NULL, churn, NULL);
	for (int i = 0; i < 50; i++) {
		pid_t pid = fork();
		int rc;

		if (pid == 0) {
			/* A capture in the child: this is where a hang would be. */
			int s = socket(AF_INET, SOCK_STREAM, 0);
			close(s);
			_exit(0);
		}
		rc = th_wait_child(pid, 10000);
		if (rc < 0)
			hung++;
		else if (rc != 0)
			failed++;
	}
	atomic_store(&stop, true);
	pthread_join(th, NULL);
	ok(hung == 0, "no child hung (%d of 50 killed after 10 s)", hung);
	ok(failed == 0, "every child exited 0 (%d did not)", failed);
	ok(th_exact(getpid()), "parent's table exact afterwards");
	return tap_done();
}
