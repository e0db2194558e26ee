#include "util/procns.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "table.h"
#include "util/proc.h"
#include "util/util.h"

/* Read a small /proc file whole, NUL-terminated. Returns its length or
 * -errno. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;

	if (fd < 0)
		return -errno;
	while (n < len - 1) {
		ssize_t k = read(fd, buf + n, len - 1 - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	return (ssize_t)n;
}

int procns_parse_nspid(const char *status, pid_t *outer, pid_t *inner)
{
	const char *p = status;

	while (p && *p) {
		if (strncmp(p, "NSpid:", 6) == 0) {
			long first = -1, last = -1;
			char *end;

			p += 6;
			for (;;) {
				long v;

				while (*p == ' ' || *p == '\t')
					p++;
				if (*p == '\n' || *p == '\0')
					break;
				errno = 0;
				v = strtol(p, &end, 10);
				if (end == p || errno || v <= 0 || v > 0x3fffffff ||
				    (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\0'))
					return -EINVAL;
				if (first < 0)
					first = v;
				last = v;
				p = end;
			}
			if (first < 0)
				return -EINVAL;
			*outer = (pid_t)first;
			*inner = (pid_t)last;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -EINVAL;
}

int procns_uid_map_inner(const char *map, uint32_t outer, uint32_t *inner)
{
	const char *p = map;
	bool any = false;

	while (*p) {
		unsigned long long in, out, count;
		int off = 0;

		if (sscanf(p, " %llu %llu %llu%n", &in, &out, &count, &off) != 3 || off <= 0)
			return any || !*p ? -ENOENT : -EINVAL;
		any = true;
		if (in <= UINT32_MAX && out <= UINT32_MAX && count <= UINT32_MAX &&
		    outer >= out && outer - out < count && in + (outer - out) <= UINT32_MAX) {
			*inner = (uint32_t)(in + (outer - out));
			return 0;
		}
		p += off;
		while (*p == '\n' || *p == ' ')
			p++;
	}
	return -ENOENT;
}

static bool same_ns_file(const char *a, const char *b)
{
	struct stat x, y;

	/* Unreadable (another user's process): taken as ours, as before. */
	if (stat(a, &x) < 0 || stat(b, &y) < 0)
		return true;
	return x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* Groups: precedes NSpid: in status and may be long (a user in many
 * groups): 16 KiB holds some 2,500 of them. */
int procns_read(pid_t pid, struct procns *ns)
{
	char path[64], buf[16384];
	unsigned r, e;
	const char *u;
	ssize_t n;

	memset(ns, 0, sizeof(*ns));
	ns->pid = ns->ns_pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	u = strstr(buf, "\nUid:");
	if (!u || sscanf(u + 5, "%u %u", &r, &e) != 2)
		return -EINVAL;
	ns->euid = ns->ns_euid = e;
	/* No NSpid line (a kernel before 4.1): one pid namespace as far as
	 * we can tell. */
	if (procns_parse_nspid(buf, &(pid_t){ 0 }, &ns->ns_pid) < 0)
		ns->ns_pid = pid;
	ns->other_pidns = ns->ns_pid != pid;
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	if (read_small(path, buf, sizeof(buf)) > 0 &&
	    procns_uid_map_inner(buf, ns->euid, &ns->ns_euid) < 0)
		ns->ns_euid = ns->euid;
	ns->other_userns = ns->ns_euid != ns->euid;
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	ns->other_root = !same_ns_file("/proc/self/ns/mnt", path);
	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	ns->other_root = ns->other_root || !same_ns_file("/", path);
	return 0;
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

static void set_id(struct procns_container *c, const char *runtime, const char *id, size_t n)
{
	snprintf(c->runtime, sizeof(c->runtime), "%s", runtime);
	snprintf(c->id, sizeof(c->id), "%.*s", (int)(n < sizeof(c->id) ? n : sizeof(c->id) - 1),
		 id);
}

/* One path component: a runtime's scope (docker-<id>.scope and its kin),
 * or a bare 64-digit id whose runtime the parent names. */
static bool component_id(const char *comp, size_t n, const char *parent, size_t pn,
			 struct procns_container *c)
{
	static const struct {
		const char *prefix, *runtime;
	} scopes[] = {
		{ "docker-", "docker" },
		{ "cri-containerd-", "containerd" },
		{ "crio-", "cri-o" },
		{ "libpod-", "podman" },
	};
	size_t len = n;

	if (n > 6 && memcmp(comp + n - 6, ".scope", 6) == 0) {
		len = n - 6;
		for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
			size_t pl = strlen(scopes[i].prefix);

			if (len == pl + 64 && memcmp(comp, scopes[i].prefix, pl) == 0 &&
			    all_hex(comp + pl, 64)) {
				set_id(c, scopes[i].runtime, comp + pl, 64);
				return true;
			}
		}
		/* systemd-nspawn and machinectl: machine-<name>.scope. */
		if (len > 8 && memcmp(comp, "machine-", 8) == 0) {
			set_id(c, "machine", comp + 8, len - 8);
			return true;
		}
		return false;
	}
	if (n > 12 && memcmp(comp, "lxc.payload.", 12) == 0) {
		set_id(c, "lxc", comp + 12, n - 12);
		return true;
	}
	if (n == 64 && all_hex(comp, 64)) {
		const char *rt = "container";

		if (pn == 6 && memcmp(parent, "docker", 6) == 0)
			rt = "docker";
		else if (pn > 3 && memcmp(parent, "pod", 3) == 0)
			rt = "kubepods";
		else if (pn == 4 && memcmp(parent, "crio", 4) == 0)
			rt = "cri-o";
		set_id(c, rt, comp, 64);
		return true;
	}
	return false;
}

/* The innermost component of a cgroup path that names a container. */
static bool path_id(const char *path, size_t len, struct procns_container *c)
{
	const char *comp[64];
	size_t clen[64], n = 0;
	const char *p = path, *end = path + len;

	while (p < end && n < 64) {
		const char *q;

		while (p < end && *p == '/')
			p++;
		if (p >= end)
			break;
		q = memchr(p, '/', (size_t)(end - p));
		if (!q)
			q = end;
		comp[n] = p;
		clen[n++] = (size_t)(q - p);
		p = q;
	}
	for (size_t i = n; i-- > 0;)
		if (component_id(comp[i], clen[i], i ? comp[i - 1] : "", i ? clen[i - 1] : 0, c))
			return true;
	return false;
}

int procns_container_parse(const char *cgroup, struct procns_container *c)
{
	const char *line = cgroup;

	memset(c, 0, sizeof(*c));
	while (line && *line) {
		const char *nl = strchr(line, '\n'), *end = nl ? nl : line + strlen(line);
		const char *colon = memchr(line, ':', (size_t)(end - line));

		/* hierarchy-id:controllers:path */
		if (colon)
			colon = memchr(colon + 1, ':', (size_t)(end - colon - 1));
		if (colon && path_id(colon + 1, (size_t)(end - colon - 1), c))
			return 0;
		line = nl ? nl + 1 : NULL;
	}
	memset(c, 0, sizeof(*c));
	return -ENOENT;
}

int procns_container(pid_t pid, struct procns_container *c)
{
	char path[64], buf[8192];
	ssize_t n;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return procns_container_parse(buf, c);
}

void procns_table_dir(pid_t pid, char *buf, size_t len)
{
	static const char key[] = "SOCKAUDIT_DIR=";
	char path[64];
	char *env = NULL;
	size_t cap = 0, n = 0;
	_cleanup_close_ int fd = -1;

	snprintf(buf, len, "/dev/shm");
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	/* A bounded read: the environment is the process's to make huge. */
	for (;;) {
		ssize_t k;

		if (n + 4096 > cap) {
			if (cap >= (1u << 20))
				break;
			cap = cap ? cap * 2 : 16384;
			env = xrealloc(env, cap + 1);
		}
		k = read(fd, env + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	if (!env)
		return;
	env[n] = '\0';
	for (size_t i = 0; i < n; i += strlen(env + i) + 1)
		if (strncmp(env + i, key, sizeof(key) - 1) == 0 && env[i + sizeof(key) - 1] == '/')
			snprintf(buf, len, "%s", env + i + sizeof(key) - 1);
	free(env);
}

/* Without openat2: one component at a time, no link followed, no "..". */
static int open_walk(int root, const char *path, int flags)
{
	_cleanup_free_ char *copy = xstrdup(path);
	char *save = NULL, *comp, *next;
	int dir = dup(root), fd;

	if (dir < 0)
		return -errno;
	comp = strtok_r(copy, "/", &save);
	if (!comp) {
		close(dir);
		return -EINVAL;
	}
	for (;;) {
		next = strtok_r(NULL, "/", &save);
		if (strcmp(comp, "..") == 0) {
			close(dir);
			return -EPERM;
		}
		if (!next)
			break;
		if (strcmp(comp, ".") != 0) {
			fd = openat(dir, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			close(dir);
			if (fd < 0)
				return errno == ENOTDIR ? -ELOOP : -errno;
			dir = fd;
		}
		comp = next;
	}
	fd = openat(dir, comp, flags | O_NOFOLLOW | O_CLOEXEC);
	fd = fd < 0 ? -errno : fd;
	close(dir);
	return fd;
}

int procns_open_in_root(pid_t pid, const char *path, int flags)
{
	char rootp[64];
	_cleanup_close_ int root = -1;
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (path[0] != '/')
		return -EINVAL;
	snprintf(rootp, sizeof(rootp), "/proc/%d/root", (int)pid);
	root = open(rootp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	fd = syscall(SYS_openat2, root, path, &how, sizeof(how));
	if (fd >= 0)
		return (int)fd;
	if (errno == ENOSYS || errno == E2BIG)
		return open_walk(root, path, flags);
	/* openat2 gives EXDEV and EAGAIN for what it would not resolve. */
	return errno == EXDEV ? -ELOOP : -errno;
}

void procns_read_none(struct procns *ns, pid_t pid, uint32_t euid)
{
	memset(ns, 0, sizeof(*ns));
	ns->pid = ns->ns_pid = pid;
	ns->euid = ns->ns_euid = euid;
}

static bool start_is(pid_t pid, uint64_t starttime)
{
	uint64_t st;

	return proc_read_starttime(pid, &st) && st == starttime;
}

pid_t procns_host_pid(pid_t ns_pid, uint64_t starttime)
{
	DIR *d;
	struct dirent *e;
	pid_t found = -1;

	if (start_is(ns_pid, starttime))
		return ns_pid;
	d = opendir("/proc");
	if (!d)
		return -1;
	while (found < 0 && (e = readdir(d))) {
		char path[300], buf[16384];
		pid_t outer, inner;
		int pid;

		if (parse_pid(e->d_name, &pid) < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
		if (read_small(path, buf, sizeof(buf)) <= 0 ||
		    procns_parse_nspid(buf, &outer, &inner) < 0 || inner != ns_pid || outer == inner)
			continue;
		if (start_is(pid, starttime))
			found = pid;
	}
	closedir(d);
	return found;
}
