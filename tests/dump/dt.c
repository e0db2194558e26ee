#include "dt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"

const char *dt_sockaudit;
char dt_dir[PATH_MAX];
static const char *host_exe, *shim_path;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int ms_left(uint64_t deadline)
{
	uint64_t now = now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

void dt_init(int argc, char **argv)
{
	char abs[PATH_MAX];
	const char *base;

	if (argc != 5)
		bail("usage: %s SOCKAUDIT DUMP-HOST LIBSOCKAUDIT BUILD-DIR",
		     argc ? argv[0] : "test-dump");
	dt_sockaudit = argv[1];
	host_exe = argv[2];
	shim_path = argv[3];
	base = argv[4];
	if (access(dt_sockaudit, X_OK) < 0 || access(host_exe, X_OK) < 0 ||
	    access(shim_path, R_OK) < 0)
		bail("sockaudit, dump-host or the shim is missing: %s", strerror(errno));
	snprintf(dt_dir, sizeof(dt_dir), "%s/dump-XXXXXX", base);
	if (!mkdtemp(dt_dir))
		bail("mkdtemp %s: %s", dt_dir, strerror(errno));
	/* Absolute: symlinks planted in it point into it. */
	if (!realpath(dt_dir, abs))
		bail("realpath %s: %s", dt_dir, strerror(errno));
	snprintf(dt_dir, sizeof(dt_dir), "%s", abs);
	/* Only dump-host runs under the shim, and only when asked to. */
	unsetenv("LD_PRELOAD");
	unsetenv("SOCKAUDIT_RUN_ID");
	setenv("SOCKAUDIT_DIR", dt_dir, 1);
	/* Error messages are matched in English. */
	setenv("LC_ALL", "C", 1);
	/* A host that died must fail a test point, not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	diag("directory %s", dt_dir);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) < 0)
		diag("cannot remove %s: %s", path, strerror(errno));
	return 0;
}

int dt_finish(int tap_status)
{
	if (tap_status == 0)
		nftw(dt_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		diag("kept %s for inspection", dt_dir);
	return tap_status;
}

/* dup2 that also works when the descriptor is already in place (and would
 * otherwise keep its close-on-exec flag). */
static void move_fd(int from, int to)
{
	if (from == to)
		fcntl(to, F_SETFD, 0);
	else if (dup2(from, to) < 0)
		_exit(126);
}

static bool read_line(int fd, char *buf, size_t len, uint64_t deadline)
{
	size_t n = 0;

	while (n + 1 < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int rc = poll(&p, 1, ms_left(deadline));
		ssize_t r;

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0) {
			buf[n] = '\0';
			diag("no full line within %d ms (got \"%s\")", DT_DEADLINE_MS, dt_oneline(buf));
			return false;
		}
		r = read(fd, buf + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			buf[n] = '\0';
			diag("end of output before a full line (got \"%s\")", buf);
			return false;
		}
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return true;
		}
		n++;
	}
	buf[n] = '\0';
	diag("line too long: \"%s\"", buf);
	return false;
}

bool dt_host_start(struct dt_host *h, bool shim)
{
	int in[2], out[2], pid;
	char line[512];

	memset(h, 0, sizeof(*h));
	h->pid = -1;
	h->in = h->out = -1;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		bail("pipe2: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		bail("fork: %s", strerror(errno));
	if (pid == 0) {
		struct rlimit rl;

		move_fd(in[0], STDIN_FILENO);
		move_fd(out[1], STDOUT_FILENO);
		/* nslots follows the hard limit: keep the table (and every
		 * copy of it) small whatever the machine's limit. */
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
			if (rl.rlim_max > DT_HOST_NOFILE)
				rl.rlim_max = DT_HOST_NOFILE;
			if (rl.rlim_cur > rl.rlim_max)
				rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		if (shim)
			setenv("LD_PRELOAD", shim_path, 1);
		execl(host_exe, host_exe, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	h->pid = pid;
	h->running = true;
	h->in = in[1];
	h->out = out[0];
	if (!read_line(h->out, line, sizeof(line), now_ms() + DT_DEADLINE_MS)) {
		diag("dump-host (%s the shim) never said ready", shim ? "under" : "without");
		dt_host_stop(h);
		return false;
	}
	if (sscanf(line, "ready pid=%*d listen=%d port=%d client=%d client_port=%d accept=%d "
			 "dup=%d pair=%d,%d",
		   &h->listen, &h->port, &h->client, &h->client_port, &h->accepted, &h->dup,
		   &h->pair[0], &h->pair[1]) != 8) {
		diag("dump-host: unexpected line \"%s\"", line);
		dt_host_stop(h);
		return false;
	}
	if (!dt_starttime(pid, &h->starttime)) {
		diag("dump-host %d: no start time", pid);
		dt_host_stop(h);
		return false;
	}
	if (shim) {
		dt_table_path(h->table, sizeof(h->table), pid, h->starttime);
		if (access(h->table, F_OK) < 0) {
			diag("dump-host %d under the shim has no table at %s", pid, h->table);
			dt_host_stop(h);
			return false;
		}
	}
	return true;
}

int dt_host_stop(struct dt_host *h)
{
	uint64_t deadline = now_ms() + DT_DEADLINE_MS;
	struct timespec nap = { 0, 5 * 1000 * 1000 };
	int st, rc = -1;

	if (h->in >= 0)
		close(h->in);
	if (h->out >= 0)
		close(h->out);
	h->in = h->out = -1;
	if (!h->running)
		return -1;
	for (;;) {
		pid_t w = waitpid(h->pid, &st, WNOHANG);

		if (w == h->pid) {
			rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			break;
		}
		if (w < 0 && errno != EINTR) {
			diag("waitpid %d: %s", h->pid, strerror(errno));
			break;
		}
		if (!ms_left(deadline)) {
			diag("dump-host %d did not exit within %d ms: killed", h->pid,
			     DT_DEADLINE_MS);
			kill(h->pid, SIGKILL);
			waitpid(h->pid, &st, 0);
			break;
		}
		nanosleep(&nap, NULL);
	}
	h->running = false;
	return rc;
}

struct buf {
	char *p;
	size_t n, cap;
};

static void buf_take(struct buf *b, int fd, bool *open)
{
	char chunk[4096];
	ssize_t r = read(fd, chunk, sizeof(chunk));

	if (r < 0 && errno == EINTR)
		return;
	if (r <= 0) {
		*open = false;
		return;
	}
	if (b->n + (size_t)r + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 8192;

		while (cap < b->n + (size_t)r + 1)
			cap *= 2;
		if (!(b->p = realloc(b->p, cap)))
			bail("out of memory");
		b->cap = cap;
	}
	memcpy(b->p + b->n, chunk, (size_t)r);
	b->n += (size_t)r;
	b->p[b->n] = '\0';
}

static char *buf_str(struct buf *b)
{
	if (!b->p && !(b->p = calloc(1, 1)))
		bail("out of memory");
	return b->p;
}

const char *dt_oneline(const char *s)
{
	static char bufs[2][640];
	static int which;
	char *b = bufs[which++ & 1];
	size_t n = 0;

	for (size_t i = 0; s[i] && i < 300 && n + 3 < sizeof(bufs[0]); i++) {
		if (s[i] == '\n' && s[i + 1] == '\0')
			break;
		if (s[i] == '\n') {
			b[n++] = '\\';
			b[n++] = 'n';
		} else {
			b[n++] = s[i];
		}
	}
	b[n] = '\0';
	return b;
}

const char *dt_argstr(const char *const *args)
{
	static char s[1024];
	size_t n = 0;

	s[0] = '\0';
	for (; *args && n < sizeof(s); args++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "%s%s", n ? " " : "", *args);
	return s;
}

bool dt_run(struct dt_run *r, const char *const *args)
{
	const char *const *given = args;
	const char *argv[16];
	struct buf out = { 0 }, err = { 0 };
	uint64_t deadline = now_ms() + DT_DEADLINE_MS;
	int o[2], e[2], st, nargs = 0;
	bool oopen = true, eopen = true;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	argv[nargs++] = dt_sockaudit;
	while (*args) {
		if (nargs + 1 >= (int)(sizeof(argv) / sizeof(argv[0])))
			bail("too many arguments");
		argv[nargs++] = *args++;
	}
	argv[nargs] = NULL;
	if (pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0)
		bail("pipe2: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		bail("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (null >= 0)
			move_fd(null, STDIN_FILENO);
		move_fd(o[1], STDOUT_FILENO);
		move_fd(e[1], STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(o[1]);
	close(e[1]);
	while (oopen || eopen) {
		struct pollfd p[2] = {
			{ .fd = oopen ? o[0] : -1, .events = POLLIN },
			{ .fd = eopen ? e[0] : -1, .events = POLLIN },
		};
		int rc = poll(p, 2, ms_left(deadline));

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0) {
			r->timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		if (p[0].revents)
			buf_take(&out, o[0], &oopen);
		if (p[1].revents)
			buf_take(&err, e[0], &eopen);
	}
	close(o[0]);
	close(e[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			bail("waitpid: %s", strerror(errno));
	if (!r->timed_out)
		r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = buf_str(&out);
	r->outlen = out.n;
	r->err = buf_str(&err);
	r->errlen = err.n;
	if (r->timed_out)
		diag("sockaudit %s: still running after %d ms: killed", dt_argstr(given),
		     DT_DEADLINE_MS);
	return !r->timed_out;
}

void dt_run_free(struct dt_run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

bool dt_is_error(const struct dt_run *r, const char *needle)
{
	const char *nl = memchr(r->err, '\n', r->errlen);
	bool good = true;

	if (r->timed_out) {
		diag("timed out");
		return false;
	}
	if (r->status != 2) {
		diag("exit status %d, expected 2", r->status);
		good = false;
	}
	if (r->outlen) {
		diag("stdout not empty: %s", dt_oneline(r->out));
		good = false;
	}
	if (strlen(r->err) != r->errlen || strncmp(r->err, "sockaudit: ", 11) != 0 || !nl ||
	    nl != r->err + r->errlen - 1) {
		diag("stderr is not exactly one \"sockaudit: \" line: \"%s\"", dt_oneline(r->err));
		good = false;
	} else if (needle && !strstr(r->err, needle)) {
		diag("stderr lacks \"%s\": %s", needle, dt_oneline(r->err));
		good = false;
	}
	return good;
}

bool dt_expect_error(const char *needle, const char *const *args)
{
	struct dt_run r;
	bool good;

	dt_run(&r, args);
	good = dt_is_error(&r, needle);
	if (!good)
		diag("command: sockaudit %s", dt_argstr(args));
	dt_run_free(&r);
	return good;
}

bool dt_starttime(pid_t pid, uint64_t *starttime)
{
	char path[64], buf[2048];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 && sa_stat_starttime(buf, (size_t)n, starttime) == 0;
}

void dt_table_path(char *buf, size_t len, pid_t pid, uint64_t starttime)
{
	snprintf(buf, len, "%s/sockaudit.%u.%d.%" PRIu64, dt_dir, (unsigned)geteuid(), (int)pid,
		 starttime);
}

static bool copy_range(int in, int out, off_t from, off_t to)
{
	char chunk[65536];

	while (from < to) {
		size_t want = (size_t)(to - from) < sizeof(chunk) ? (size_t)(to - from)
								  : sizeof(chunk);
		ssize_t r = pread(in, chunk, want, from);

		if (r <= 0 || pwrite(out, chunk, (size_t)r, from) != r)
			return false;
		from += r;
	}
	return true;
}

bool dt_copy(const char *src, const char *dst, mode_t mode)
{
	struct stat st;
	int in, out;
	bool good = false;
	off_t pos = 0;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		diag("open %s: %s", src, strerror(errno));
		return false;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		diag("create %s: %s", dst, strerror(errno));
		close(in);
		return false;
	}
	if (fstat(in, &st) < 0 || ftruncate(out, st.st_size) < 0)
		goto out;
	while (pos < st.st_size) {
		off_t d = lseek(in, pos, SEEK_DATA), e;

		if (d < 0 && errno == ENXIO)
			break;          /* only a hole is left */
		if (d < 0) {            /* no SEEK_DATA here: copy it all */
			if (!copy_range(in, out, pos, st.st_size))
				goto out;
			break;
		}
		e = lseek(in, d, SEEK_HOLE);
		if (e < 0 || e > st.st_size)
			e = st.st_size;
		if (!copy_range(in, out, d, e))
			goto out;
		pos = e;
	}
	good = fchmod(out, mode) == 0;
out:
	if (!good)
		diag("copy %s to %s: %s", src, dst, strerror(errno));
	close(in);
	close(out);
	return good;
}

bool dt_read_at(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool good = fd >= 0 && pread(fd, buf, len, (off_t)off) == (ssize_t)len;

	if (!good)
		diag("read %zu bytes at %" PRIu64 " of %s failed", len, off, path);
	if (fd >= 0)
		close(fd);
	return good;
}

bool dt_write_at(const char *path, uint64_t off, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool good = fd >= 0 && pwrite(fd, buf, len, (off_t)off) == (ssize_t)len;

	if (!good)
		diag("write %zu bytes at %" PRIu64 " of %s failed", len, off, path);
	if (fd >= 0)
		close(fd);
	return good;
}

bool dt_read_header(const char *path, struct sa_header *h)
{
	return dt_read_at(path, 0, h, sizeof(*h));
}

bool dt_write_header(const char *path, const struct sa_header *h)
{
	return dt_write_at(path, 0, h, sizeof(*h));
}

int dt_proc_sockets(pid_t pid, int *fds, uint64_t *inodes, int max)
{
	char dir[64], path[64 + 256], link[128];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((e = readdir(d)) && n < max) {
		unsigned long long ino;
		ssize_t l;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		l = readlink(path, link, sizeof(link) - 1);
		if (l <= 0)
			continue;
		link[l] = '\0';
		if (sscanf(link, "socket:[%llu]", &ino) != 1)
			continue;
		fds[n] = atoi(e->d_name);
		inodes[n] = ino;
		n++;
	}
	closedir(d);
	return n;
}

json_object *dt_json_parse(const char *text)
{
	enum json_tokener_error jerr;
	json_object *o = json_tokener_parse_verbose(text, &jerr);

	if (!o)
		diag("not JSON (%s): %s", json_tokener_error_desc(jerr), dt_oneline(text));
	else if (!json_object_is_type(o, json_type_object)) {
		diag("JSON is not an object: %s", dt_oneline(text));
		json_object_put(o);
		o = NULL;
	}
	return o;
}

json_object *dt_json_record(json_object *root, int fd)
{
	json_object *recs, *r;
	int64_t v;

	if (!json_object_object_get_ex(root, "records", &recs) ||
	    !json_object_is_type(recs, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(recs); i++) {
		r = json_object_array_get_idx(recs, i);
		if (dt_json_int(r, "fd", &v) && v == fd)
			return r;
	}
	return NULL;
}

const char *dt_json_str(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

bool dt_json_int(json_object *o, const char *key, int64_t *out)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}
