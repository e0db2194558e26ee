/* procfd: exactly our socket fds are listed, with their inodes, in fd order;
 * a closed fd disappears; a missing process is -ENOENT, someone else's
 * process -EACCES/-EPERM. */
#include "kernel/procfd.h"
#include "../tap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Past the initial capacity of the result array, so it has to grow. */
#define NROUNDS 100

struct mismatch {
	int fd;
	const char *why;
};

/* Every fd below `limit`: a socket must be listed with its st_ino, anything
 * else (closed, pipe, file, eventfd, the scanner's own dir fd) must not. */
static bool matches_fstat(const struct procfd_list *l, int limit, size_t *nsock, struct mismatch *m)
{
	const struct procfd_entry *e;
	struct stat st;
	int fd;

	*nsock = 0;
	for (fd = 0; fd < limit; fd++) {
		e = procfd_find(l, fd);
		if (fstat(fd, &st) < 0) {
			if (e) {
				*m = (struct mismatch){ fd, "closed fd listed" };
				return false;
			}
			continue;
		}
		if (!S_ISSOCK(st.st_mode)) {
			if (e) {
				*m = (struct mismatch){ fd, "non-socket listed" };
				return false;
			}
			continue;
		}
		(*nsock)++;
		if (!e) {
			*m = (struct mismatch){ fd, "socket missing" };
			return false;
		}
		if (e->inode != (uint64_t)st.st_ino) {
			*m = (struct mismatch){ fd, "wrong inode" };
			return false;
		}
	}
	return true;
}

static bool strictly_sorted(const struct procfd_list *l)
{
	size_t i;

	for (i = 1; i < l->n; i++)
		if (l->v[i - 1].fd >= l->v[i].fd)
			return false;
	return true;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Open sockets interleaved with other kinds of fds so that sockets are not
 * one contiguous run. Returns the highest fd opened. */
static int open_mix(int *victim_mid, int *victim_last)
{
	int i, sv[2], p[2], fd, maxfd = -1;

	for (i = 0; i < NROUNDS; i++) {
		fd = socket(i % 2 ? AF_INET6 : AF_INET, (i % 3 ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
		if (fd < 0)
			fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			bail("socket: %s", strerror(errno));
		if (i == NROUNDS / 2)
			*victim_mid = fd;
		maxfd = fd > maxfd ? fd : maxfd;
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			bail("socketpair: %s", strerror(errno));
		maxfd = sv[1] > maxfd ? sv[1] : maxfd;
		*victim_last = sv[1];
		if (i % 10 == 0) {
			if (pipe2(p, O_CLOEXEC) < 0)
				bail("pipe2: %s", strerror(errno));
			fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				bail("open /dev/null: %s", strerror(errno));
			maxfd = fd > maxfd ? fd : maxfd;
			fd = eventfd(0, EFD_CLOEXEC);
			if (fd < 0)
				bail("eventfd: %s", strerror(errno));
			maxfd = fd > maxfd ? fd : maxfd;
		}
	}
	return maxfd;
}

static void test_permission(void)
{
	int p[2], ret = 0, status;
	pid_t child;

	if (geteuid() != 0) {
		/* pid 1 belongs to root here unless we are in a container
		 * of our own making; only then is the point meaningful. */
		struct stat st;

		if (stat("/proc/1", &st) < 0 || st.st_uid == geteuid()) {
			ok(true, "# SKIP pid 1 is ours: no foreign process to try");
			return;
		}
		{
			struct procfd_list l = { 0 };

			ret = procfd_scan(1, &l);
			ok(ret == -EACCES || ret == -EPERM, "someone else's process: -EACCES/-EPERM (got %d)", ret);
			procfd_finish(&l);
		}
		return;
	}

	/* As root: a child that becomes nobody may not look at our fds. */
	if (pipe2(p, O_CLOEXEC) < 0)
		bail("pipe2: %s", strerror(errno));
	child = fork();
	if (child < 0)
		bail("fork: %s", strerror(errno));
	if (child == 0) {
		struct procfd_list l = { 0 };

		close(p[0]);
		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			ret = 1;   /* impossible for root: reported as such */
		else
			ret = procfd_scan(getppid(), &l);
		if (write(p[1], &ret, sizeof(ret)) != sizeof(ret))
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &ret, sizeof(ret)) != sizeof(ret))
		ret = INT_MIN;
	close(p[0]);
	waitpid(child, &status, 0);
	ok(ret == -EACCES || ret == -EPERM,
	   "a root process scanned by nobody: -EACCES/-EPERM (got %d)", ret);
}

int main(void)
{
	struct procfd_list l = { 0 }, empty = { 0 };
	int victim_mid = -1, victim_last = -1, maxfd, ret;
	size_t nsock = 0, before;
	struct mismatch m = { -1, "" };
	double t0, t1;
	bool match;

	ok(procfd_find(&empty, 0) == NULL, "find in an empty list: NULL");

	maxfd = open_mix(&victim_mid, &victim_last);

	t0 = now_ms();
	ret = procfd_scan(getpid(), &l);
	t1 = now_ms();
	if (!ok(ret == 0, "scan our own pid (%d)", ret))
		bail("cannot scan /proc/self/fd");
	diag("%zu socket fds scanned in %.3f ms", l.n, t1 - t0);

	match = matches_fstat(&l, maxfd + 64, &nsock, &m);
	ok(match, "exactly the sockets, with their fstat inodes (fd %d: %s)", m.fd, m.why);
	ok(l.n == nsock, "count: %zu listed, %zu socket fds open", l.n, nsock);
	ok(l.n >= 3 * NROUNDS, "at least the %d sockets we opened (%zu)", 3 * NROUNDS, l.n);
	ok(strictly_sorted(&l), "sorted by fd");
	ok(l.n && procfd_find(&l, l.v[l.n - 1].fd) == &l.v[l.n - 1] && procfd_find(&l, l.v[0].fd) == &l.v[0],
	   "find returns the first and the last entry");
	ok(procfd_find(&l, -1) == NULL && procfd_find(&l, INT_MAX) == NULL, "find of an fd never opened: NULL");
	before = l.n;
	procfd_finish(&l);
	ok(l.v == NULL && l.n == 0, "finish empties the list");

	close(victim_mid);
	close(victim_last);
	ret = procfd_scan(0, &l);
	ok(ret == 0, "scan pid 0 means ourselves (%d)", ret);
	ok(procfd_find(&l, victim_mid) == NULL, "a closed socket in the middle disappears (fd %d)", victim_mid);
	ok(procfd_find(&l, victim_last) == NULL, "the closed last socket disappears (fd %d)", victim_last);
	ok(l.n == before - 2, "two fewer entries (%zu -> %zu)", before, l.n);
	match = matches_fstat(&l, maxfd + 64, &nsock, &m);
	ok(match && l.n == nsock, "still exactly the open sockets (fd %d: %s)", m.fd, m.why);
	procfd_finish(&l);

	ret = procfd_scan(INT_MAX, &l);
	ok(ret == -ENOENT, "no such process: -ENOENT (got %d)", ret);
	ok(l.v == NULL && l.n == 0, "nothing returned on error");

	test_permission();
	return tap_done();
}
