/* procfd: which socket inodes a process holds right now, from /proc/<pid>/fd.
 *
 * One getdents64() per 32 KiB of directory and one readlinkat() per fd,
 * relative to the directory fd so no path is rebuilt; the result grows in a
 * single array. /proc lists fds in ascending order, so the sort is usually
 * just a check.
 */
#include "kernel/procfd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROCFD_DENTS_BUF (32 * 1024)
#define PROCFD_INITIAL 64

/* Directory entries are fd numbers; "." and ".." are not. */
static int procfd_parse_fd(const char *name, int *fd)
{
	long v = 0;

	if (!*name)
		return -EINVAL;
	for (; *name; name++) {
		if (*name < '0' || *name > '9')
			return -EINVAL;
		v = v * 10 + (*name - '0');
		if (v > INT_MAX)
			return -EINVAL;
	}
	*fd = (int)v;
	return 0;
}

/* "socket:[12345]", not NUL-terminated (readlink's result). */
static int procfd_parse_socket(const char *link, size_t len, uint64_t *inode)
{
	static const char prefix[] = "socket:[";
	const size_t plen = sizeof(prefix) - 1;
	uint64_t v = 0;
	size_t i;

	if (len < plen + 2 || memcmp(link, prefix, plen) || link[len - 1] != ']')
		return -EINVAL;
	for (i = plen; i < len - 1; i++) {
		if (link[i] < '0' || link[i] > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(link[i] - '0');
	}
	*inode = v;
	return 0;
}

static int procfd_cmp(const void *a, const void *b)
{
	const struct procfd_entry *x = a, *y = b;

	return (x->fd > y->fd) - (x->fd < y->fd);
}

int procfd_scan(pid_t pid, struct procfd_list *out)
{
	struct procfd_entry *v = NULL, *nv;
	size_t n = 0, cap = 0, nall = 0;
	char path[32], link[64];
	char *dents = NULL;
	bool sorted = true;
	int dfd, ret = 0;

	out->v = NULL;
	out->n = 0;
	out->nall = 0;
	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/fd");
	/* ENOENT: no such process; EACCES: someone else's (ptrace rules). */
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;

	dents = malloc(PROCFD_DENTS_BUF);
	if (!dents) {
		ret = -ENOMEM;
		goto out_close;
	}

	for (;;) {
		ssize_t nr = getdents64(dfd, dents, PROCFD_DENTS_BUF);
		ssize_t off;

		if (nr < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out_free;
		}
		if (nr == 0)
			break;
		for (off = 0; off < nr; off += ((struct dirent64 *)(dents + off))->d_reclen) {
			const struct dirent64 *d = (const void *)(dents + off);
			uint64_t inode;
			ssize_t ll;
			int fd;

			if (procfd_parse_fd(d->d_name, &fd) < 0)
				continue;
			nall++;
			ll = readlinkat(dfd, d->d_name, link, sizeof(link));
			if (ll < 0) {
				/* Closed between the listing and now: not held. */
				if (errno == ENOENT)
					continue;
				ret = -errno;
				goto out_free;
			}
			/* A truncated link is a long path, never a socket. */
			if (procfd_parse_socket(link, (size_t)ll, &inode) < 0)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : PROCFD_INITIAL;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv) {
					ret = -ENOMEM;
					goto out_free;
				}
				v = nv;
			}
			if (n && v[n - 1].fd > fd)
				sorted = false;
			v[n].fd = fd;
			v[n].inode = inode;
			n++;
		}
	}

	if (!sorted)
		qsort(v, n, sizeof(*v), procfd_cmp);
	out->v = v;
	out->n = n;
	out->nall = nall;
	v = NULL;
out_free:
	free(v);
	free(dents);
out_close:
	close(dfd);
	return ret;
}

const struct procfd_entry *procfd_find(const struct procfd_list *l, int fd)
{
	size_t lo = 0, hi = l->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (l->v[mid].fd == fd)
			return &l->v[mid];
		if (l->v[mid].fd < fd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void procfd_finish(struct procfd_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int procfd_inode(pid_t pid, int fd, uint64_t *inode)
{
	char path[64], link[64];
	ssize_t n;

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	else
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link));
	if (n < 0)
		return -errno;
	if (procfd_parse_socket(link, (size_t)n, inode) < 0)
		return -ENOTSOCK;
	return 0;
}

bool procfd_holds(int fd, uint64_t inode, void *pid)
{
	uint64_t now;

	return procfd_inode(*(const pid_t *)pid, fd, &now) == 0 && now == inode;
}
