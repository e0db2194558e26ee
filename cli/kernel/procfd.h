/* procfd: which socket inodes a process holds right now, from /proc/<pid>/fd. */
#pragma once

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
};

/* Only sockets are listed (pid <= 0: ourselves). Returns 0, or -errno
 * (ENOENT: no such process, EACCES/EPERM: not allowed); *out is empty then. */
int procfd_scan(pid_t pid, struct procfd_list *out);
/* Binary search by fd; NULL when the fd is not a socket or not open. */
const struct procfd_entry *procfd_find(const struct procfd_list *l, int fd);
void procfd_finish(struct procfd_list *l);
