/* trun: see trun.h. Both outputs are drained together with poll(), so a
 * program that fills one pipe while we read the other cannot stall. */
#include "trun.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"

/* After both pipes closed, how long the child may take to be reaped. */
#define TRUN_REAP_MS 5000

uint64_t trun_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void append(char **buf, size_t *n, const char *data, size_t len)
{
	*buf = realloc(*buf, *n + len + 1);
	if (!*buf)
		bail("out of memory");
	memcpy(*buf + *n, data, len);
	*n += len;
	(*buf)[*n] = '\0';
}

int trun_reap(pid_t pid, int ms)
{
	uint64_t deadline = trun_now_ms() + (uint64_t)ms;
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int st;

	do {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return st;
		if (r < 0 && errno != EINTR)
			return -1;
		nanosleep(&ts, NULL);
	} while (trun_now_ms() < deadline);
	return -1;
}

bool trun_capture(struct trun *r, const char *const argv[], int timeout_ms,
		  void (*track)(pid_t pid, bool running))
{
	return trun_capture_setup(r, argv, timeout_ms, NULL, NULL, track);
}

bool trun_capture_setup(struct trun *r, const char *const argv[], int timeout_ms,
			void (*setup)(void *arg), void *arg,
			void (*track)(pid_t pid, bool running))
{
	int out[2], err[2], st;
	struct pollfd pfd[2];
	pid_t pid;

	memset(r, 0, sizeof(*r));
	append(&r->out, &r->nout, "", 0);
	append(&r->err, &r->nerr, "", 0);
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		bail("pipe: %s", strerror(errno));
	r->started_ms = trun_now_ms();
	pid = fork();
	if (pid < 0)
		bail("fork: %s", strerror(errno));
	r->pid = pid;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

		dup2(devnull, STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		unsetenv("LD_PRELOAD");
		if (setup)
			setup(arg);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (track)
		track(pid, true);
	close(out[1]);
	close(err[1]);
	pfd[0] = (struct pollfd){ .fd = out[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = err[0], .events = POLLIN };
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		char buf[8192];

		if (trun_now_ms() - r->started_ms > (uint64_t)timeout_ms) {
			diag("%s did not finish within %d ms: killing it", argv[0], timeout_ms);
			kill(pid, SIGKILL);
			r->timed_out = true;
			break;
		}
		if (poll(pfd, 2, 200) < 0 && errno != EINTR)
			bail("poll: %s", strerror(errno));
		for (int i = 0; i < 2; i++) {
			ssize_t k;

			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			k = read(pfd[i].fd, buf, sizeof(buf));
			if (k <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
			} else if (i == 0) {
				append(&r->out, &r->nout, buf, (size_t)k);
			} else {
				append(&r->err, &r->nerr, buf, (size_t)k);
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	st = trun_reap(pid, TRUN_REAP_MS);
	r->ended_ms = trun_now_ms();
	if (st < 0) {
		r->status = -1;
		return false;
	}
	if (track)
		track(pid, false);
	r->signaled = WIFSIGNALED(st);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return true;
}

void trun_free(struct trun *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	r->nout = r->nerr = 0;
}
