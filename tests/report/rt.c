#include "rt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"

static const char *env_or_bail(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v)
		bail("%s is not set (run through meson test)", name);
	return v;
}

static char *join_path(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		bail("out of memory");
	return p;
}

char *rt_bin(const char *name)
{
	return join_path(env_or_bail("RT_BIN_DIR"), name);
}

char *rt_src(const char *name)
{
	return join_path(env_or_bail("RT_SRC_DIR"), name);
}

const char *rt_case_dir(const char *name)
{
	static char dir[4096];
	struct dirent *d;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/%s", env_or_bail("RT_TABLES"), name);
	if (mkdir(env_or_bail("RT_TABLES"), 0755) < 0 && errno != EEXIST)
		bail("mkdir %s: %s", env_or_bail("RT_TABLES"), strerror(errno));
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		bail("mkdir %s: %s", dir, strerror(errno));
	/* Leftovers of an earlier run would show up in `list`. */
	dp = opendir(dir);
	if (!dp)
		bail("opendir %s: %s", dir, strerror(errno));
	while ((d = readdir(dp)))
		if (d->d_name[0] != '.')
			unlinkat(dirfd(dp), d->d_name, 0);
	closedir(dp);
	setenv("SOCKAUDIT_DIR", dir, 1);
	/* The harness itself and sockaudit must never run under the shim. */
	unsetenv("LD_PRELOAD");
	return dir;
}

/* Read what is available into p->buf, waiting until `deadline`. */
static bool fill(struct rt_proc *p, uint64_t deadline)
{
	struct pollfd pfd = { .fd = p->out_fd, .events = POLLIN };
	uint64_t now = trun_now_ms();
	ssize_t n;

	if (p->nbuf == sizeof(p->buf) - 1)
		return false;
	if (now >= deadline)
		return false;
	if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
		return false;
	n = read(p->out_fd, p->buf + p->nbuf, sizeof(p->buf) - 1 - p->nbuf);
	if (n <= 0)
		return false;
	p->nbuf += (size_t)n;
	p->buf[p->nbuf] = '\0';
	return true;
}

/* Next complete line into line; false on timeout or EOF. */
static bool next_line(struct rt_proc *p, char *line, size_t len, int timeout_ms)
{
	uint64_t deadline = trun_now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		char *nl = memchr(p->buf, '\n', p->nbuf);

		if (nl) {
			size_t n = (size_t)(nl - p->buf);

			snprintf(line, len, "%.*s", (int)n, p->buf);
			memmove(p->buf, nl + 1, p->nbuf - n - 1);
			p->nbuf -= n + 1;
			p->buf[p->nbuf] = '\0';
			return true;
		}
		if (!fill(p, deadline))
			return false;
	}
}

static bool wait_line(struct rt_proc *p, const char *prefix, char *line, size_t len)
{
	uint64_t deadline = trun_now_ms() + RT_READY_MS;

	while (trun_now_ms() < deadline) {
		if (!next_line(p, line, len, (int)(deadline - trun_now_ms())))
			break;
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			return true;
		diag("scenario %d said: %s", (int)p->pid, line);
	}
	diag("scenario %d: no '%s' line within %d ms", (int)p->pid, prefix, RT_READY_MS);
	return false;
}

bool rt_spawn(struct rt_proc *p, bool preload, char *const argv[])
{
	int in[2], out[2];

	memset(p, 0, sizeof(*p));
	p->pid = -1;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		bail("pipe: %s", strerror(errno));
	p->pid = fork();
	if (p->pid < 0)
		bail("fork: %s", strerror(errno));
	if (p->pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		if (preload)
			setenv("LD_PRELOAD", env_or_bail("SOCKAUDIT_SHIM"), 1);
		else
			unsetenv("LD_PRELOAD");
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	p->in_fd = in[1];
	p->out_fd = out[0];
	if (!wait_line(p, "ready", p->ready, sizeof(p->ready))) {
		rt_kill(p);
		return false;
	}
	diag("%s (pid %d): %s", argv[0], (int)p->pid, p->ready);
	return true;
}

bool rt_command(struct rt_proc *p, const char *cmd, const char *expect)
{
	char line[1024];
	size_t len = strlen(cmd);

	if (write(p->in_fd, cmd, len) != (ssize_t)len || write(p->in_fd, "\n", 1) != 1) {
		diag("cannot send '%s' to %d: %s", cmd, (int)p->pid, strerror(errno));
		return false;
	}
	return !expect || wait_line(p, expect, line, sizeof(line));
}

const char *rt_ready_str(const struct rt_proc *p, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	const char *s = p->ready;

	buf[0] = '\0';
	while ((s = strstr(s, key))) {
		if ((s == p->ready || s[-1] == ' ') && s[klen] == '=') {
			s += klen + 1;
			snprintf(buf, len, "%.*s", (int)strcspn(s, " "), s);
			break;
		}
		s += klen;
	}
	return buf;
}

long rt_ready_int(const struct rt_proc *p, const char *key)
{
	char buf[64], *end;
	long v;

	if (!rt_ready_str(p, key, buf, sizeof(buf))[0])
		return -1;
	v = strtol(buf, &end, 10);
	return *end ? -1 : v;
}

/* Reap pid within ms; returns the wait status or -1. */
bool rt_stop(struct rt_proc *p)
{
	int st;

	if (p->pid <= 0)
		return false;
	close(p->in_fd);
	st = trun_reap(p->pid, 5000);
	if (st < 0) {
		diag("scenario %d did not exit on EOF: killing it", (int)p->pid);
		kill(p->pid, SIGKILL);
		trun_reap(p->pid, 5000);
	}
	close(p->out_fd);
	p->pid = -1;
	return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

void rt_kill(struct rt_proc *p)
{
	if (p->pid <= 0)
		return;
	kill(p->pid, SIGKILL);
	if (trun_reap(p->pid, 5000) < 0)
		diag("pid %d did not die on SIGKILL", (int)p->pid);
	close(p->in_fd);
	close(p->out_fd);
	p->pid = -1;
}

static const char *const *rt_runner;

void rt_set_runner(const char *const *argv)
{
	rt_runner = argv;
}

bool rt_sockaudit(struct trun *r, const char *const *args)
{
	const char *bin = env_or_bail("SOCKAUDIT");
	const char *argv[64];
	const char *const *pre;
	size_t n = 0;

	for (pre = rt_runner; pre && *pre && n < 32; pre++)
		argv[n++] = *pre;
	argv[n++] = bin;
	for (; args && *args && n < 63; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	return trun_capture(r, argv, RT_RUN_MS, NULL);
}

size_t rt_err_lines(const struct trun *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nerr; i++)
		if (r->err[i] == '\n')
			n++;
	if (r->nerr && r->err[r->nerr - 1] != '\n')
		n++;
	return n;
}

json_object *rt_report(pid_t pid, const char *const *extra, struct trun *r)
{
	const char *args[40];
	char pidbuf[24];
	size_t n = 0;
	json_object *root;

	args[n++] = "report";
	args[n++] = "--json";
	for (; extra && *extra && n < 37; extra++)
		args[n++] = *extra;
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	args[n++] = pidbuf;
	args[n] = NULL;
	if (!rt_sockaudit(r, args))
		return NULL;
	root = json_tokener_parse(r->out);
	if (!root) {
		diag("report for %d: exit %d, no JSON; stderr: %s", (int)pid, r->status, r->err);
		return NULL;
	}
	return root;
}

json_object *rt_sock_with_fd(json_object *socks, int fd)
{
	size_t n;

	if (!socks || !json_object_is_type(socks, json_type_array))
		return NULL;
	n = json_object_array_length(socks);
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(socks, i);
		json_object *fds = tj_get(s, "fds");
		size_t m = fds ? json_object_array_length(fds) : 0;

		for (size_t k = 0; k < m; k++)
			if (json_object_get_int(json_object_array_get_idx(fds, k)) == fd)
				return s;
	}
	return NULL;
}

json_object *rt_group_with_fd(json_object *root, int fd)
{
	json_object *groups = tj_get(root, "groups");
	size_t n = groups ? json_object_array_length(groups) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *g = json_object_array_get_idx(groups, i);

		if (rt_sock_with_fd(tj_get(g, "sockets"), fd))
			return g;
	}
	return NULL;
}

json_object *rt_grouped_sock(json_object *root, int fd)
{
	json_object *g = rt_group_with_fd(root, fd);

	return g ? rt_sock_with_fd(tj_get(g, "sockets"), fd) : NULL;
}

bool rt_frame_is(json_object *group, const char *func, const char *file, long line)
{
	const char *fn, *base;
	long l;

	if (!tj_first_frame(group, &fn, &base, &l)) {
		diag("group has no frames");
		return false;
	}
	if (fn && base && strcmp(fn, func) == 0 && strcmp(base, file) == 0 && l == line)
		return true;
	diag("first frame: %s at %s:%ld, expected %s at %s:%ld", fn ? fn : "??",
	     base ? base : "?", l, func, file, line);
	return false;
}

bool rt_last_frame_is(json_object *group, const char *func, int64_t min_below)
{
	json_object *frames = tj_get(group, "frames");
	size_t n = frames && json_object_is_type(frames, json_type_array)
			   ? json_object_array_length(frames) : 0;
	const char *fn = n ? tj_str(json_object_array_get_idx(frames, n - 1), "function") : NULL;
	int64_t below = tj_int(group, "frames_trimmed_below", -1);

	if (fn && strcmp(fn, func) == 0 && below >= min_below)
		return true;
	diag("last frame: %s, frames_trimmed_below %lld; expected %s and at least %lld",
	     fn ? fn : "??", (long long)below, func, (long long)min_below);
	return false;
}

bool rt_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	bool ok;

	if (fd < 0) {
		diag("create %s: %s", path, strerror(errno));
		return false;
	}
	ok = write(fd, data, len) == (ssize_t)len && fchmod(fd, mode) == 0;
	close(fd);
	return ok;
}

pid_t rt_free_pid(void)
{
	pid_t pid = fork();

	if (pid < 0)
		bail("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}
