/* procns: a process in other pid, mount and user namespaces, seen from
 * ours. Which pid and euid it knows itself by (what names its table), where
 * its files are (/proc/<pid>/root), which container it runs in (its cgroup
 * path), and opening a file inside its root without ever leaving it: the
 * container's tree is untrusted, a link in it may point anywhere. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct procns {
	pid_t pid;              /* as we see it */
	pid_t ns_pid;           /* as it sees itself: the last NSpid field */
	uint32_t euid;          /* as we see it */
	uint32_t ns_euid;       /* in its own user namespace (uid_map) */
	bool other_pidns;       /* ns_pid != pid */
	bool other_userns;      /* ns_euid != euid */
	bool other_root;        /* another mount namespace or root directory */
};

/* Fill ns for a live pid. A namespace we may not look at (another user's
 * process) counts as ours. 0 or -errno (-ENOENT: gone). */
int procns_read(pid_t pid, struct procns *ns);

/* Pure parsers, tested from tables (tests/cli/test-procns.c). */
/* The NSpid line of /proc/<pid>/status: the first field is the pid in our
 * namespace (as the file was read), the last its own. 0 or -EINVAL. */
int procns_parse_nspid(const char *status, pid_t *outer, pid_t *inner);
/* /proc/<pid>/uid_map as read by us: "inner outer count" lines; the inner
 * id that outer maps to. 0 or -ENOENT (not mapped), -EINVAL (garbage). */
int procns_uid_map_inner(const char *map, uint32_t outer, uint32_t *inner);

struct procns_container {
	char runtime[16];       /* docker, containerd, cri-o, podman, kubepods, lxc, machine */
	char id[128];           /* the runtime's id (64 hex digits) or machine name */
};
/* The container of a /proc/<pid>/cgroup text (v1 or v2 lines): 0, or
 * -ENOENT when no line names one (a plain service or session). */
int procns_container_parse(const char *cgroup, struct procns_container *c);
/* The same from /proc/<pid>/cgroup; -errno when unreadable. */
int procns_container(pid_t pid, struct procns_container *c);

/* The table directory of a process in another root: SOCKAUDIT_DIR in its
 * environment when an absolute path, else /dev/shm. */
void procns_table_dir(pid_t pid, char *buf, size_t len);

/* Open path (absolute, as the process sees it) inside /proc/<pid>/root:
 * openat2 with RESOLVE_IN_ROOT and RESOLVE_NO_MAGICLINKS (a symbolic link
 * in the tree, absolute or "..", stays inside it); where the kernel has no
 * openat2, component by component with O_NOFOLLOW (no link followed at
 * all, ".." refused). flags are open(2)'s: O_NOFOLLOW refuses a link as
 * the last component. Returns an fd or -errno (-ELOOP: a link where none
 * may be). */
int procns_open_in_root(pid_t pid, const char *path, int flags);
/* ns for a process whose namespaces we cannot read: all ours. */
void procns_read_none(struct procns *ns, pid_t pid, uint32_t euid);

/* The pid we see for a process that knows itself as ns_pid and started at
 * starttime (a table's name in a directory shared with a pid namespace):
 * ns_pid itself when that is the process, else a walk of /proc; -1 when
 * none runs. */
pid_t procns_host_pid(pid_t ns_pid, uint64_t starttime);
