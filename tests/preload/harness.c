#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"
#include "kernel/procfd.h"
#include "tlib.h"
#include "util/target.h"

bool th_load(struct th_table *t, pid_t pid)
{
	char path[4200], err[512];
	uint64_t st = 0;

	memset(t, 0, sizeof(*t));
	if (!proc_read_starttime(pid, &st)) {
		diag("no /proc entry for %d", (int)pid);
		return false;
	}
	if (sa_table_find(sa_table_dir(), (uint32_t)geteuid(), pid, st, path, sizeof(path)) < 0) {
		diag("no table for pid %d in %s", (int)pid, sa_table_dir());
		return false;
	}
	if (sa_reader_open(&t->r, path, geteuid(), err, sizeof(err)) < 0 ||
	    sa_reader_snapshot(&t->r, &t->s, err, sizeof(err)) < 0) {
		diag("%s", err);
		return false;
	}
	t->open = true;
	return true;
}

void th_unload(struct th_table *t)
{
	if (!t->open)
		return;
	sa_snapshot_finish(&t->s);
	sa_reader_close(&t->r);
	t->open = false;
}

const struct sa_slot *th_find(const struct th_table *t, int fd)
{
	for (size_t i = 0; i < t->s.nrecs; i++)
		if (t->s.recs[i].slot.fd == fd && t->s.recs[i].status == SA_REC_OK)
			return &t->s.recs[i].slot;
	return NULL;
}

int th_wait_child(pid_t pid, int ms)
{
	return tlib_wait_child(pid, ms);
}

uint64_t th_inode(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	return st.st_ino;
}

/* Records the shim may leave without an inode (docs/design.md, "The
 * inode"): those of socket(), socketpair() and accept(), and their dups and
 * inherited copies, which carry the original's. */
bool th_inode_optional(const struct sa_slot *s)
{
	return s->origin == SA_ORIGIN_SOCKET || s->origin == SA_ORIGIN_SOCKETPAIR ||
	       s->origin == SA_ORIGIN_ACCEPT || s->origin == SA_ORIGIN_DUP;
}

bool th_exact(pid_t pid)
{
	struct th_table t;
	struct procfd_list l = { 0 };
	const char *e = getenv("SOCKAUDIT_INODE_AT_OPEN");
	bool strict = e && *e && strcmp(e, "0") != 0;
	bool ok = true;

	if (!th_load(&t, pid))
		return false;
	if (procfd_scan(pid, &l) < 0) {
		th_unload(&t);
		diag("cannot scan /proc/%d/fd", (int)pid);
		return false;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct sa_slot *s = th_find(&t, l.v[i].fd);
		if (!s) {
			diag("pid %d: fd %d (socket %llu) has no record", (int)pid, l.v[i].fd,
			     (unsigned long long)l.v[i].inode);
			ok = false;
		} else if (s->inode == 0 && !strict && th_inode_optional(s)) {
			continue;   /* socket(), socketpair(), accept(): the CLI reads it */
		} else if (s->inode != l.v[i].inode) {
			diag("pid %d: fd %d is socket %llu, record says %llu", (int)pid, l.v[i].fd,
			     (unsigned long long)l.v[i].inode, (unsigned long long)s->inode);
			ok = false;
		}
	}
	for (size_t i = 0; i < t.s.nrecs; i++) {
		const struct sa_slot *s = &t.s.recs[i].slot;
		if (t.s.recs[i].status != SA_REC_OK) {
			diag("pid %d: fd %d slot unknown", (int)pid, s->fd);
			ok = false;
		} else if (!procfd_find(&l, s->fd)) {
			diag("pid %d: stale record for fd %d (%s)", (int)pid, s->fd,
			     sa_origin_name(s->origin));
			ok = false;
		}
	}
	procfd_finish(&l);
	th_unload(&t);
	return ok;
}

bool th_stack_has(struct th_table *t, uint32_t stack_id, const void *fn, unsigned long limit)
{
	uint64_t frames[SA_MAX_FRAMES];
	uint32_t n = sa_reader_stack(&t->r, stack_id, frames);

	for (uint32_t i = 0; i < n; i++)
		if (frames[i] > (uintptr_t)fn && frames[i] <= (uintptr_t)fn + limit)
			return true;
	return false;
}

bool th_poll(bool (*cond)(void *), void *arg, int ms)
{
	return tlib_poll(cond, arg, ms);
}

void th_tcp_pair(int *lfd, int *client, int *server)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	*lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (*lfd < 0 || bind(*lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(*lfd, 16) < 0 ||
	    getsockname(*lfd, (struct sockaddr *)&a, &len) < 0)
		bail("listener: %s", strerror(errno));
	*client = socket(AF_INET, SOCK_STREAM, 0);
	if (*client < 0 || connect(*client, (struct sockaddr *)&a, sizeof(a)) < 0)
		bail("connect: %s", strerror(errno));
	*server = accept(*lfd, NULL, NULL);
	if (*server < 0)
		bail("accept: %s", strerror(errno));
}

bool th_shim_loaded(void)
{
	void *p = dlsym(RTLD_DEFAULT, "close");
	Dl_info info;

	return p && dladdr(p, &info) && info.dli_fname && strstr(info.dli_fname, "libsockaudit");
}
