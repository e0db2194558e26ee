/* close() from a signal handler works and clears the record, even when the
 * signal lands while the thread is inside a wrapper. */
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"

static volatile sig_atomic_t target_fd = -1, handled;
static volatile int close_rc = -2;

static void on_alarm(int sig)
{
	(void)sig;
	if (target_fd >= 0) {
		close_rc = close(target_fd);
		target_fd = -1;
		handled++;
	}
}

int main(void)
{
	struct sigaction sa = { 0 };
	struct itimerval it = { { 0, 200 }, { 0, 200 } };
	int rounds = 0;

	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);

	target_fd = socket(AF_INET, SOCK_DGRAM, 0);
	raise(SIGALRM);
	ok(close_rc == 0, "close() in a signal handler returns 0");
	ok(th_exact(getpid()), "the record is gone");

	/* Storm: the handler closes sockets while the main thread is opening
	 * and closing others through the wrappers. */
	setitimer(ITIMER_REAL, &it, NULL);
	while (handled < 200 && rounds < 2000000) {
		if (target_fd < 0) {
			int s = socket(AF_INET, SOCK_DGRAM, 0);
			target_fd = s;
		}
		int t = socket(AF_INET, SOCK_DGRAM, 0);
		close(t);
		rounds++;
	}
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	if (target_fd >= 0) {
		close(target_fd);
		target_fd = -1;
	}
	ok(handled >= 200, "handler closed %d sockets", (int)handled);
	ok(th_exact(getpid()), "table exact after the storm");
	return tap_done();
}
