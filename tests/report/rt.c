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

uint64_t rt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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
	uint64_t now = rt_now_ms();
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
	uint64_t deadline = rt_now_ms() + (uint64_t)timeout_ms;

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
	uint64_t deadline = rt_now_ms() + RT_READY_MS;

	while (rt_now_ms() < deadline) {
		if (!next_line(p, line, len, (int)(deadline - rt_now_ms())))
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
static int reap(pid_t pid, int ms)
{
	uint64_t deadline = rt_now_ms() + (uint64_t)ms;
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int st;

	do {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return st;
		if (r < 0)
			return -1;
		nanosleep(&ts, NULL);
	} while (rt_now_ms() < deadline);
	return -1;
}

bool rt_stop(struct rt_proc *p)
{
	int st;

	if (p->pid <= 0)
		return false;
	close(p->in_fd);
	st = reap(p->pid, 5000);
	if (st < 0) {
		diag("scenario %d did not exit on EOF: killing it", (int)p->pid);
		kill(p->pid, SIGKILL);
		reap(p->pid, 5000);
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
	if (reap(p->pid, 5000) < 0)
		diag("pid %d did not die on SIGKILL", (int)p->pid);
	close(p->in_fd);
	close(p->out_fd);
	p->pid = -1;
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

static const char *const *rt_runner;

void rt_set_runner(const char *const *argv)
{
	rt_runner = argv;
}

bool rt_sockaudit(struct rt_run *r, const char *const *args)
{
	const char *bin = env_or_bail("SOCKAUDIT");
	const char *argv[64];
	const char *const *pre;
	int out[2], err[2], st = -1;
	struct pollfd pfd[2];
	size_t n = 0;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	append(&r->out, &r->nout, "", 0);
	append(&r->err, &r->nerr, "", 0);
	for (pre = rt_runner; pre && *pre && n < 32; pre++)
		argv[n++] = *pre;
	argv[n++] = bin;
	for (; args && *args && n < 63; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		bail("pipe: %s", strerror(errno));
	r->started_ms = rt_now_ms();
	pid = fork();
	if (pid < 0)
		bail("fork: %s", strerror(errno));
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		dup2(devnull, STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		unsetenv("LD_PRELOAD");
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	pfd[0] = (struct pollfd){ .fd = out[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = err[0], .events = POLLIN };
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		uint64_t now = rt_now_ms();
		char buf[8192];

		if (now - r->started_ms > RT_RUN_MS) {
			diag("sockaudit did not finish within %d ms: killing it", RT_RUN_MS);
			kill(pid, SIGKILL);
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
				continue;
			}
			if (i == 0)
				append(&r->out, &r->nout, buf, (size_t)k);
			else
				append(&r->err, &r->nerr, buf, (size_t)k);
		}
	}
	for (int i = 0; i < 2; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	st = reap(pid, 5000);
	r->ended_ms = rt_now_ms();
	if (st < 0) {
		r->status = -1;
		return false;
	}
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return true;
}

void rt_run_free(struct rt_run *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

size_t rt_err_lines(const struct rt_run *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nerr; i++)
		if (r->err[i] == '\n')
			n++;
	if (r->nerr && r->err[r->nerr - 1] != '\n')
		n++;
	return n;
}

json_object *rt_report(pid_t pid, const char *const *extra, struct rt_run *r)
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

json_object *rt_j(json_object *o, const char *path)
{
	char key[128];

	while (o && *path) {
		size_t n = strcspn(path, ".");

		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, key, &o))
			return NULL;
		path += n;
		if (*path == '.')
			path++;
	}
	return o;
}

int64_t rt_jint(json_object *o, const char *path, int64_t dflt)
{
	json_object *v = rt_j(o, path);

	return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : dflt;
}

bool rt_jbool(json_object *o, const char *path)
{
	json_object *v = rt_j(o, path);

	return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

const char *rt_jstr(json_object *o, const char *path)
{
	json_object *v = rt_j(o, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

json_object *rt_sock_with_fd(json_object *socks, int fd)
{
	size_t n;

	if (!socks || !json_object_is_type(socks, json_type_array))
		return NULL;
	n = json_object_array_length(socks);
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(socks, i);
		json_object *fds = rt_j(s, "fds");
		size_t m = fds ? json_object_array_length(fds) : 0;

		for (size_t k = 0; k < m; k++)
			if (json_object_get_int(json_object_array_get_idx(fds, k)) == fd)
				return s;
	}
	return NULL;
}

json_object *rt_group_with_fd(json_object *root, int fd)
{
	json_object *groups = rt_j(root, "groups");
	size_t n = groups ? json_object_array_length(groups) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *g = json_object_array_get_idx(groups, i);

		if (rt_sock_with_fd(rt_j(g, "sockets"), fd))
			return g;
	}
	return NULL;
}

json_object *rt_grouped_sock(json_object *root, int fd)
{
	json_object *g = rt_group_with_fd(root, fd);

	return g ? rt_sock_with_fd(rt_j(g, "sockets"), fd) : NULL;
}

bool rt_frame_is(json_object *group, const char *func, const char *file, long line)
{
	json_object *frames = rt_j(group, "frames"), *f;
	const char *fn, *path, *base;
	long l;

	if (!frames || !json_object_is_type(frames, json_type_array) ||
	    json_object_array_length(frames) == 0) {
		diag("group has no frames");
		return false;
	}
	f = json_object_array_get_idx(frames, 0);
	fn = rt_jstr(f, "function");
	path = rt_jstr(f, "file");
	l = (long)rt_jint(f, "line", -1);
	base = path ? strrchr(path, '/') : NULL;
	base = base ? base + 1 : path;
	if (fn && base && strcmp(fn, func) == 0 && strcmp(base, file) == 0 && l == line)
		return true;
	diag("first frame: %s at %s:%ld (module %s), expected %s at %s:%ld", fn ? fn : "??",
	     path ? path : "?", l, rt_jstr(f, "module") ? rt_jstr(f, "module") : "?", func, file,
	     line);
	return false;
}

bool rt_last_frame_is(json_object *group, const char *func, int64_t min_below)
{
	json_object *frames = rt_j(group, "frames");
	size_t n = frames && json_object_is_type(frames, json_type_array)
			   ? json_object_array_length(frames) : 0;
	const char *fn = n ? rt_jstr(json_object_array_get_idx(frames, n - 1), "function") : NULL;
	int64_t below = rt_jint(group, "frames_trimmed_below", -1);

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
