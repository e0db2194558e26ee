#include "util/target.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "table-reader.h"
#include "util/util.h"

/* As the table reader opens one: a FIFO planted at the name cannot hang. */
#define TABLE_OPEN_FLAGS (O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)

/* The container the process runs in, unless it is the one we run in
 * (then every process is in it, and naming it says nothing). */
static void target_container(struct target *t)
{
	static struct procns_container ours;
	static bool ours_read;

	if (!ours_read) {
		procns_container(getpid(), &ours);
		ours_read = true;
	}
	if (procns_container(t->pid, &t->container) == 0 &&
	    strcmp(t->container.id, ours.id) == 0 && strcmp(t->container.runtime, ours.runtime) == 0)
		memset(&t->container, 0, sizeof(t->container));
}

/* t's table in dir, a directory as the process sees it, inside its root. */
static bool find_in_root_dir(struct target *t, const char *dir)
{
	char name[128];
	int rc;

	if (sa_table_name(name, sizeof(name), t->ns.ns_euid, t->ns.ns_pid, t->starttime) < 0)
		goto none;
	snprintf(t->table_in_root, sizeof(t->table_in_root), "%.4000s/%s", dir, name);
	snprintf(t->table, sizeof(t->table), "/proc/%d/root%.4150s", (int)t->pid, t->table_in_root);
	rc = procns_open_in_root(t->pid, t->table_in_root, O_PATH | O_NOFOLLOW);
	if (rc >= 0)
		close(rc);
	/* Something planted at the name is for the opener to refuse. */
	if (rc != -ENOENT && rc != -ENOTDIR)
		return true;
none:
	t->table[0] = t->table_in_root[0] = '\0';
	return false;
}

bool target_find_in_root(struct target *t)
{
	char dir[4096], *slash;

	procns_table_dir(t->pid, dir, sizeof(dir));
	if (find_in_root_dir(t, dir))
		return true;
	/* A process of a `sockaudit run` that cannot reach the run's
	 * directory from its namespace makes its table in the directory
	 * above (preload/table-file.c, run_dir_fallback). */
	slash = strrchr(dir, '/');
	if (!slash || slash == dir ||
	    strncmp(slash + 1, SA_RUN_DIR_PREFIX, sizeof(SA_RUN_DIR_PREFIX) - 1) != 0)
		return false;
	*slash = '\0';
	return find_in_root_dir(t, dir);
}

bool target_probe_ns(struct target *t, pid_t pid)
{
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	if (!proc_read_starttime(pid, &t->starttime) || procns_read(pid, &t->ns) < 0)
		return false;
	t->alive = true;
	t->uid = t->ns.euid;
	if (!t->ns.other_pidns && !t->ns.other_root && !t->ns.other_userns)
		return false;
	proc_read_comm(pid, t->comm, sizeof(t->comm));
	proc_read_cmdline(pid, t->cmdline, sizeof(t->cmdline));
	target_container(t);
	if (t->ns.other_root)
		return target_find_in_root(t);
	return sa_table_find(sa_table_dir(), t->ns.ns_euid, t->ns.ns_pid, t->starttime, t->table,
			     sizeof(t->table)) == 0;
}

void target_resolve(struct target *t, pid_t pid, const char *table)
{
	char dir_proc[64];
	struct stat st;
	uint32_t uid;
	int rc;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	snprintf(dir_proc, sizeof(dir_proc), "/proc/%d", (int)pid);
	t->alive = stat(dir_proc, &st) == 0;
	if (t->alive) {
		if (!proc_read_starttime(pid, &t->starttime) || !proc_read_euid(pid, &t->uid))
			die("pid %d: cannot read /proc/%d: %s", (int)pid, (int)pid, strerror(errno));
		proc_read_comm(pid, t->comm, sizeof(t->comm));
		proc_read_cmdline(pid, t->cmdline, sizeof(t->cmdline));
		/* Another pid, user or mount namespace (a container): its
		 * table is named with the pid and euid it knows itself by, in
		 * its own /dev/shm. */
		if (procns_read(pid, &t->ns) < 0)
			procns_read_none(&t->ns, pid, t->uid);
		target_container(t);
	} else {
		t->uid = (uint32_t)geteuid();
		procns_read_none(&t->ns, pid, t->uid);
	}
	if (table) {
		snprintf(t->table, sizeof(t->table), "%s", table);
		return;
	}
	uid = t->ns.ns_euid;
	if (t->alive && t->ns.other_root) {
		target_find_in_root(t);
		return;
	}
	rc = sa_table_find(sa_table_dir(), uid, t->ns.ns_pid, t->alive ? t->starttime : 0,
			   t->table, sizeof(t->table));
	if (rc == 0)
		return;
	t->table[0] = '\0';
	if (!t->alive)
		die("pid %d: no such process, and no table of it in %s", (int)pid, sa_table_dir());
}

/* What /proc/<pid>/exe's ELF says: a dynamic loader (PT_INTERP) and Go's
 * sections. Returns 0, or -errno when the file cannot be read. */
static int exe_facts(pid_t pid, bool *interp, bool *go)
{
	char exe[64];
	struct proc_exe_facts f;
	int rc;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	rc = proc_exe_facts(exe, &f);
	*interp = f.interp;
	*go = f.go_note || f.go_buildinfo;
	return rc == -ENOEXEC ? 0 : rc;
}

/* A table of this very process (pid and start time) named for another uid:
 * it changed its user where the shim does not follow (a visit with seteuid,
 * a raw system call; docs/security.md). Only its name is looked at: it is
 * never read for this process. */
static bool table_of_other_uid(const struct target *t, uint32_t *other)
{
	DIR *dir;
	struct dirent *d;
	bool found = false;

	if (!t->alive)
		return false;
	dir = opendir(sa_table_dir());
	if (!dir)
		return false;
	while (!found && (d = readdir(dir))) {
		uint32_t uid;
		int32_t pid;
		uint64_t start;

		found = sa_table_name_parse(d->d_name, &uid, &pid, &start) == 0 &&
			pid == t->ns.ns_pid && start == t->starttime && uid != t->ns.ns_euid;
		if (found)
			*other = uid;
	}
	closedir(dir);
	return found;
}

/* An ELF's reason for having no table. Go binaries make raw syscalls; static
 * binaries never load a preload library. */
void target_explain(struct target *t)
{
	bool interp, go;
	uint32_t other;
	int rc = exe_facts(t->pid, &interp, &go);
	char where[160];

	snprintf(where, sizeof(where), "%s", sa_table_dir());
	if (!t->ns.other_root && table_of_other_uid(t, &other)) {
		snprintf(t->why, sizeof(t->why),
			 "its table is named for uid %u, not for its euid %u: it changed user "
			 "where the shim does not follow; not read", other, t->uid);
		return;
	}
	if (t->ns.other_root) {
		char dir[4096];

		procns_table_dir(t->pid, dir, sizeof(dir));
		snprintf(where, sizeof(where), "/proc/%d/root%.*s", (int)t->pid,
			 (int)(sizeof(where) - 32), dir);
	}
	snprintf(t->why, sizeof(t->why), "started without libsockaudit.so (no table in %.*s)",
		 140, where);
	if (rc < 0)
		snprintf(t->why, sizeof(t->why),
			 "no table in %.*s, and its executable is unreadable (%s)", 120, where,
			 strerror(-rc));
	else if (go)
		snprintf(t->why, sizeof(t->why),
			 "a Go program: Go makes raw system calls that no preload library sees");
	else if (!interp)
		snprintf(t->why, sizeof(t->why),
			 "statically linked: the dynamic loader never ran, so LD_PRELOAD had no effect");
}

bool target_is_go(pid_t pid)
{
	bool interp, go;

	return exe_facts(pid, &interp, &go) == 0 && go;
}

void target_open_table(const struct target *t, struct sa_reader *r)
{
	char err[600];

	if (target_open_table_err(t, r, err, sizeof(err)) < 0)
		die("%s", err);
}

int target_open_table_err(const struct target *t, struct sa_reader *r, char *err, size_t errlen)
{
	uid_t expect = t->alive ? (uid_t)t->uid : (uid_t)-1;
	int rc;

	if (t->table_in_root[0] || t->ns.other_userns) {
		int fd, oerr = 0;

		if (t->table_in_root[0]) {
			fd = procns_open_in_root(t->pid, t->table_in_root, TABLE_OPEN_FLAGS);
			oerr = fd < 0 ? -fd : 0;
		} else {
			fd = open(t->table, TABLE_OPEN_FLAGS | O_CLOEXEC);
			oerr = fd < 0 ? errno : 0;
		}
		if (oerr == ELOOP) {
			snprintf(err, errlen, "%s: is a symbolic link, or leads out of the process's "
				 "root: refusing it", t->table);
			return -EPERM;
		}
		if (oerr) {
			snprintf(err, errlen, "%s: %s", t->table, strerror(oerr));
			return -oerr;
		}
		rc = sa_reader_open_fd(r, fd, t->table, expect,
				       t->ns.other_userns ? (uid_t)t->ns.ns_euid : (uid_t)-1,
				       err, errlen);
	} else {
		rc = sa_reader_open(r, t->table, expect, err, errlen);
	}
	if (rc < 0)
		return rc;
	/* A dead pid has no start time to compare, but its table must still be
	 * its own: a file planted at its name (or given with --table) may not
	 * pass for it. In a pid namespace the header names the pid the
	 * process knows itself by. */
	if (r->hdr.pid != t->ns.ns_pid || (t->alive && r->hdr.starttime != t->starttime)) {
		snprintf(err, errlen, "%s: table belongs to pid %d (start %llu), not to pid %d "
			 "(start %llu)", t->table, r->hdr.pid, (unsigned long long)r->hdr.starttime,
			 (int)t->ns.ns_pid, (unsigned long long)t->starttime);
		sa_reader_close(r);
		return -EPERM;
	}
	return 0;
}

bool target_proc_exited(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	/* The state follows the command name, which may hold ") ". */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

bool target_lookup_in(struct target *t, pid_t pid, const char *dir)
{
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	if (!proc_read_starttime(pid, &t->starttime) || procns_read(pid, &t->ns) < 0 ||
	    target_proc_exited(pid))
		return false;
	t->alive = true;
	t->uid = t->ns.euid;
	proc_read_comm(pid, t->comm, sizeof(t->comm));
	proc_read_cmdline(pid, t->cmdline, sizeof(t->cmdline));
	if (t->ns.other_root)
		return dir ? find_in_root_dir(t, dir) : target_find_in_root(t);
	return sa_table_find(dir ? dir : sa_table_dir(), t->ns.ns_euid, t->ns.ns_pid,
			     t->starttime, t->table, sizeof(t->table)) == 0;
}

bool target_lookup(struct target *t, pid_t pid)
{
	return target_lookup_in(t, pid, NULL);
}

struct target *target_walk(size_t *n, bool any_user)
{
	struct target *v = NULL;
	uid_t euid = geteuid();
	DIR *proc = opendir("/proc");
	struct dirent *d;

	*n = 0;
	if (!proc)
		die("cannot read /proc: %s", strerror(errno));
	while ((d = readdir(proc))) {
		struct target t;
		int pid;
		bool found;

		if (parse_pid(d->d_name, &pid) < 0 || pid == getpid())
			continue;
		memset(&t, 0, sizeof(t));
		t.pid = pid;
		if (!proc_read_starttime(pid, &t.starttime) || procns_read(pid, &t.ns) < 0 ||
		    (!any_user && t.ns.euid != euid) || target_proc_exited(pid))
			continue;
		t.alive = true;
		t.uid = t.ns.euid;
		if (t.ns.other_root)
			found = target_find_in_root(&t);
		else
			found = sa_table_find(sa_table_dir(), t.ns.ns_euid, t.ns.ns_pid, t.starttime,
					      t.table, sizeof(t.table)) == 0;
		if (!found)
			continue;
		proc_read_comm(pid, t.comm, sizeof(t.comm));
		proc_read_cmdline(pid, t.cmdline, sizeof(t.cmdline));
		target_container(&t);
		v = xrealloc(v, (*n + 1) * sizeof(v[0]));
		v[(*n)++] = t;
	}
	closedir(proc);
	return v;
}
