/* procfd: which socket inodes a process holds right now, from /proc/<pid>/fd. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct procfd_entry {
	int fd;
	uint64_t inode;   /* socket inode ("socket:[N]") */
};

struct procfd_list {
	struct procfd_entry *v;   /* sorted by fd */
	size_t n;
	size_t nall;              /* descriptors of any kind listed (open fds) */
};

/* Only sockets are listed (pid <= 0: ourselves). Returns 0, or -errno
 * (ENOENT: no such process, EACCES/EPERM: not allowed); *out is empty then. */
int procfd_scan(pid_t pid, struct procfd_list *out);
/* Binary search by fd; NULL when the fd is not a socket or not open. */
const struct procfd_entry *procfd_find(const struct procfd_list *l, int fd);
void procfd_finish(struct procfd_list *l);
/* What fd holds now: 0 and its socket inode, -ENOTSOCK when it is not a
 * socket, or -errno (-ENOENT: closed). pid <= 0: ourselves. */
int procfd_inode(pid_t pid, int fd, uint64_t *inode);
/* Does fd of *(pid_t *)pid still hold the socket inode? The shape of
 * report_join_in.still_holds. */
bool procfd_holds(int fd, uint64_t inode, void *pid);
