/* tlib: see tlib.h. */
#include "tlib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "table.h"

/* Children alive at a time: hosts and CLI runs. */
#define TLIB_MAX_LIVE 32
/* Case directories one test makes. */
#define TLIB_MAX_DIRS 32

/* Read by the signal handler: plain pids, 0 for a free entry. */
static volatile pid_t live[TLIB_MAX_LIVE];
static char *dirs[TLIB_MAX_DIRS];
static size_t ndirs;
static const char *cli_path;
static const char *const *runner;
int tlib_cli_ms = TLIB_CLI_MS;

const char *tlib_env(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v)
		bail("%s is not set (run through meson test)", name);
	return v;
}

char *tlib_path(const char *env, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", tlib_env(env), name) < 0)
		bail("out of memory");
	return p;
}

void tlib_pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* --- Children to kill when the test ends -------------------------------- */

static void track(pid_t pid)
{
	for (int i = 0; i < TLIB_MAX_LIVE; i++)
		if (!live[i]) {
			live[i] = pid;
			return;
		}
	kill(pid, SIGKILL);
	bail("more than %d children alive", TLIB_MAX_LIVE);
}

static void untrack(pid_t pid)
{
	for (int i = 0; i < TLIB_MAX_LIVE; i++)
		if (live[i] == pid)
			live[i] = 0;
}

static void track_run(pid_t pid, bool running)
{
	if (running)
		track(pid);
	else
		untrack(pid);
}

/* Kill pid if it is a child of ours still running: a pid a test reaped
 * itself may since belong to another process. Async-signal-safe. */
static bool kill_child(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, WNOHANG) != 0)
		return false;       /* reaped now, or not our child */
	kill(pid, SIGKILL);
	return true;
}

static void kill_all(void)
{
	for (int i = 0; i < TLIB_MAX_LIVE; i++)
		if (live[i] > 0) {
			if (kill_child(live[i]))
				trun_reap(live[i], 5000);
			live[i] = 0;
		}
}

static void on_signal(int sig)
{
	/* The hosts also have PR_SET_PDEATHSIG, and init reaps them once we
	 * are gone. */
	for (int i = 0; i < TLIB_MAX_LIVE; i++)
		if (live[i] > 0)
			kill_child(live[i]);
	_exit(128 + sig);
}

/* --- The case directory ------------------------------------------------- */

const char *tlib_case_dir(const char *base, const char *name)
{
	static bool once;
	char tmpl[PATH_MAX], abs[PATH_MAX];

	if (!once) {
		struct sigaction sa = { .sa_handler = on_signal };

		once = true;
		atexit(kill_all);
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	if (ndirs == TLIB_MAX_DIRS)
		bail("more than %d case directories", TLIB_MAX_DIRS);
	if (mkdir(base, 0755) < 0 && errno != EEXIST)
		bail("mkdir %s: %s", base, strerror(errno));
	snprintf(tmpl, sizeof(tmpl), "%s/%s.XXXXXX", base, name);
	if (!mkdtemp(tmpl))
		bail("mkdtemp %s: %s", tmpl, strerror(errno));
	/* Absolute: symlinks planted in it point into it. */
	if (!realpath(tmpl, abs))
		bail("realpath %s: %s", tmpl, strerror(errno));
	/* mkdtemp() makes it 0700: a host that drops privileges must reach it. */
	if (chmod(abs, 0755) < 0)
		bail("chmod %s: %s", abs, strerror(errno));
	dirs[ndirs] = strdup(abs);
	if (!dirs[ndirs])
		bail("out of memory");
	setenv("SOCKAUDIT_DIR", dirs[ndirs], 1);
	unsetenv("LD_PRELOAD");
	unsetenv("SOCKAUDIT_RUN_ID");
	diag("case directory %s", dirs[ndirs]);
	return dirs[ndirs++];
}

const char *tlib_dir(void)
{
	return ndirs ? dirs[ndirs - 1] : "";
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

void tlib_require_root(const char *why)
{
	if (geteuid() == 0)
		return;
	if ((getenv("CI") && *getenv("CI")) || tap_strict())
		bail("root is needed, and no skip is allowed under CI or SOCKAUDIT_STRICT=1");
	printf("1..0 # SKIP %s\n", why);
	fflush(stdout);
	exit(0);
}

int tlib_finish(int tap_status)
{
	kill_all();
	for (size_t i = 0; i < ndirs; i++) {
		if (tap_status == 0)
			nftw(dirs[i], rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		else
			diag("kept %s for inspection", dirs[i]);
		free(dirs[i]);
	}
	ndirs = 0;
	return tap_status;
}

/* --- Hosts -------------------------------------------------------------- */

/* dup2 that also works when the descriptor is already in place (and would
 * otherwise keep its close-on-exec flag). */
static void move_fd(int from, int to)
{
	if (from == to)
		fcntl(to, F_SETFD, 0);
	else if (dup2(from, to) < 0)
		_exit(126);
}

static void append(char **buf, size_t *n, const char *data, size_t len)
{
	char *b = realloc(*buf, *n + len + 1);

	if (!b)
		bail("out of memory");
	memcpy(b + *n, data, len);
	*n += len;
	b[*n] = '\0';
	*buf = b;
}

bool tlib_host_start(struct tlib_host *h, const struct tlib_spawn *how, char *const argv[])
{
	static const struct tlib_spawn plain;
	int in[2] = { -1, -1 }, out[2], err[2] = { -1, -1 };
	const char *shim = NULL, *name;
	pid_t parent = getpid();

	if (!how)
		how = &plain;
	if (how->shim)
		shim = tlib_env("SOCKAUDIT_SHIM");
	memset(h, 0, sizeof(*h));
	name = how->name ? how->name : strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->pid = -1;
	h->in_fd = h->out_fd = h->err_fd = -1;
	append(&h->out, &h->nout, "", 0);
	append(&h->err, &h->nerr, "", 0);
	if ((!how->stdin_null && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
	    (how->capture_err && pipe2(err, O_CLOEXEC) < 0))
		bail("pipe: %s", strerror(errno));
	h->started_ms = trun_now_ms();
	h->pid = fork();
	if (h->pid < 0)
		bail("fork: %s", strerror(errno));
	if (h->pid == 0) {
		/* Die with the test, whatever kills it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if (how->stdin_null) {
			int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

			if (null < 0)
				_exit(126);
			move_fd(null, STDIN_FILENO);
		} else {
			move_fd(in[0], STDIN_FILENO);
		}
		move_fd(out[1], STDOUT_FILENO);
		if (how->capture_err)
			move_fd(err[1], STDERR_FILENO);
		if (shim)
			setenv("LD_PRELOAD", shim, 1);
		else
			unsetenv("LD_PRELOAD");
		if (how->setup)
			how->setup(how->arg);
		execv(argv[0], argv);
		dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	track(h->pid);
	h->running = true;
	if (!how->stdin_null) {
		close(in[0]);
		h->in_fd = in[1];
	}
	close(out[1]);
	h->out_fd = out[0];
	if (how->capture_err) {
		close(err[1]);
		h->err_fd = err[0];
	}
	if (how->ready) {
		int ms = how->ready_ms ? how->ready_ms : TLIB_READY_MS;

		if (!tlib_host_line(h, how->ready, h->ready, sizeof(h->ready), ms)) {
			diag("%s (pid %d, %s the shim) never said '%s'", h->name, (int)h->pid,
			     how->shim ? "under" : "without", how->ready);
			tlib_host_kill(h);
			return false;
		}
		diag("%s (pid %d): %s", h->name, (int)h->pid, h->ready);
	} else {
		diag("%s: pid %d", h->name, (int)h->pid);
	}
	return true;
}

bool tlib_host_ready(struct tlib_host *h, bool shim, char *const argv[])
{
	const struct tlib_spawn how = { .shim = shim, .ready = "ready" };

	return tlib_host_start(h, &how, argv);
}

/* Read once from fd into buf; at EOF (or error) close it and set it to -1. */
static void take(int *fd, char **buf, size_t *n)
{
	char chunk[8192];
	ssize_t k = read(*fd, chunk, sizeof(chunk));

	if (k < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (k <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	append(buf, n, chunk, (size_t)k);
}

void tlib_host_pump(struct tlib_host *h, int ms)
{
	uint64_t deadline = trun_now_ms() + (uint64_t)(ms > 0 ? ms : 0);

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = h->out_fd, .events = POLLIN },
			{ .fd = h->err_fd, .events = POLLIN },
		};
		uint64_t now = trun_now_ms();
		int rc;

		if (h->out_fd < 0 && h->err_fd < 0) {
			/* Nothing more can come: still, ms is how long the caller
			 * meant to wait between two looks at something else. */
			if (now < deadline)
				tlib_pause_ms((long)(deadline - now));
			return;
		}
		rc = poll(pfd, 2, now < deadline ? (int)(deadline - now) : 0);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return;
		if (pfd[0].revents)
			take(&h->out_fd, &h->out, &h->nout);
		if (pfd[1].revents)
			take(&h->err_fd, &h->err, &h->nerr);
		/* Something came: drain what else is there, without waiting. */
		deadline = 0;
	}
}

/* Pump until cond holds, the stream ends or ms pass. */
static bool host_until(struct tlib_host *h, bool err, bool (*cond)(struct tlib_host *, void *),
		       void *arg, int ms)
{
	uint64_t deadline = trun_now_ms() + (uint64_t)ms;

	for (;;) {
		uint64_t now = trun_now_ms();

		tlib_host_pump(h, 0);
		if (cond(h, arg))
			return true;
		if ((err ? h->err_fd : h->out_fd) < 0 || now >= deadline)
			return false;
		tlib_host_pump(h, (int)(deadline - now) < 50 ? (int)(deadline - now) : 50);
	}
}

struct line_want {
	const char *prefix;
	char *line;
	size_t len;
};

static bool next_line_is(struct tlib_host *h, void *arg)
{
	struct line_want *w = arg;
	char *nl;

	while ((nl = memchr(h->out + h->out_pos, '\n', h->nout - h->out_pos))) {
		const char *s = h->out + h->out_pos;
		int n = (int)(nl - s);

		h->out_pos += (size_t)n + 1;
		if (strncmp(s, w->prefix, strlen(w->prefix)) == 0) {
			snprintf(w->line, w->len, "%.*s", n, s);
			return true;
		}
		diag("%s %d said: %.*s", h->name, (int)h->pid, n, s);
	}
	return false;
}

bool tlib_host_line(struct tlib_host *h, const char *prefix, char *line, size_t len, int ms)
{
	struct line_want w = { prefix, line, len };

	line[0] = '\0';
	if (host_until(h, false, next_line_is, &w, ms))
		return true;
	diag("%s %d: no '%s' line %s %d ms", h->name, (int)h->pid, prefix,
	     h->out_fd < 0 ? "before its output ended, within" : "within", ms);
	return false;
}

bool tlib_host_command(struct tlib_host *h, const char *cmd, const char *expect)
{
	char line[1024];
	size_t len = strlen(cmd);

	if (h->in_fd < 0 || write(h->in_fd, cmd, len) != (ssize_t)len ||
	    write(h->in_fd, "\n", 1) != 1) {
		diag("cannot send '%s' to %s %d: %s", cmd, h->name, (int)h->pid,
		     h->in_fd < 0 ? "stdin closed" : strerror(errno));
		return false;
	}
	return !expect || tlib_host_line(h, expect, line, sizeof(line), TLIB_READY_MS);
}

struct needle {
	bool err;
	const char *text;
};

static bool has_needle(struct tlib_host *h, void *arg)
{
	const struct needle *n = arg;

	return strstr(n->err ? h->err : h->out, n->text) != NULL;
}

bool tlib_host_wait(struct tlib_host *h, bool err, const char *needle, int ms)
{
	struct needle n = { err, needle };

	return host_until(h, err, has_needle, &n, ms);
}

struct any_line {
	bool err;
	struct line_want w;
};

static bool has_line(struct tlib_host *h, void *arg)
{
	struct any_line *a = arg;
	const char *s = a->err ? h->err : h->out;
	size_t plen = strlen(a->w.prefix);

	for (const char *nl; (nl = strchr(s, '\n')); s = nl + 1)
		if (strncmp(s, a->w.prefix, plen) == 0) {
			snprintf(a->w.line, a->w.len, "%.*s", (int)(nl - s), s);
			return true;
		}
	return false;
}

bool tlib_host_find_line(struct tlib_host *h, bool err, const char *prefix, char *line,
			 size_t len, int ms)
{
	struct any_line a = { err, { prefix, line, len } };

	line[0] = '\0';
	if (host_until(h, err, has_line, &a, ms))
		return true;
	diag("%s: no %s line starting '%s' %s; it printed: [%s]", h->name,
	     err ? "stderr" : "stdout", prefix,
	     (err ? h->err_fd : h->out_fd) < 0 ? "before its output ended" : "in time",
	     err ? h->err : h->out);
	return false;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; (s = strchr(s, '\n')); s++)
		n++;
	return n;
}

static bool has_lines(struct tlib_host *h, void *arg)
{
	const size_t *w = arg;

	return count_lines(w[0] ? h->err : h->out) >= w[1];
}

bool tlib_host_wait_lines(struct tlib_host *h, bool err, size_t n, int ms)
{
	size_t w[2] = { err, n };

	if (host_until(h, err, has_lines, w, ms))
		return true;
	diag("%s: %zu of %zu lines on %s %s: [%s]", h->name, count_lines(err ? h->err : h->out),
	     n, err ? "stderr" : "stdout",
	     (err ? h->err_fd : h->out_fd) < 0 ? "before its output ended" : "in time",
	     err ? h->err : h->out);
	return false;
}

static bool reaped(struct tlib_host *h)
{
	if (!h->running)
		return true;
	if (waitpid(h->pid, &h->status, WNOHANG) != h->pid)
		return false;
	untrack(h->pid);
	h->running = false;
	return true;
}

bool tlib_host_alive(struct tlib_host *h)
{
	return !reaped(h);
}

/* Reap it before the deadline, collecting its output meanwhile. */
static bool reap_by(struct tlib_host *h, uint64_t deadline)
{
	while (!reaped(h)) {
		if (trun_now_ms() >= deadline)
			return false;
		tlib_host_pump(h, 5);
	}
	return true;
}

bool tlib_host_wait_exit(struct tlib_host *h, int ms)
{
	if (!reap_by(h, trun_now_ms() + (uint64_t)ms))
		return false;
	/* What it wrote before it exited (a child of its may keep the pipes
	 * open: no wait for their end). */
	tlib_host_pump(h, 0);
	return true;
}

void tlib_host_eof(struct tlib_host *h)
{
	if (h->in_fd >= 0)
		close(h->in_fd);
	h->in_fd = -1;
}

int tlib_exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int tlib_host_stop(struct tlib_host *h, int sig, int grace_ms)
{
	if (sig == 0)
		tlib_host_eof(h);
	if (!h->running)
		return h->pid > 0 ? tlib_exit_code(h->status) : -1;
	if (sig)
		kill(h->pid, sig);
	if (!tlib_host_wait_exit(h, grace_ms)) {
		diag("%s %d did not exit within %d ms of %s: killing it", h->name, (int)h->pid,
		     grace_ms, sig ? strsignal(sig) : "EOF on its stdin");
		tlib_host_kill(h);
		return -1;
	}
	tlib_host_kill(h);   /* gone: closes the pipes */
	return tlib_exit_code(h->status);
}

void tlib_host_kill(struct tlib_host *h)
{
	if (h->running) {
		int st;

		kill(h->pid, SIGKILL);
		st = trun_reap(h->pid, TLIB_GRACE_MS);
		if (st < 0)
			diag("%s %d did not die on SIGKILL", h->name, (int)h->pid);
		else
			h->status = st;
		untrack(h->pid);
		h->running = false;
	}
	if (h->in_fd >= 0)
		close(h->in_fd);
	if (h->out_fd >= 0)
		close(h->out_fd);
	if (h->err_fd >= 0)
		close(h->err_fd);
	h->in_fd = h->out_fd = h->err_fd = -1;
}

void tlib_host_free(struct tlib_host *h)
{
	tlib_host_kill(h);
	free(h->out);
	free(h->err);
	h->out = h->err = NULL;
	h->nout = h->nerr = h->out_pos = 0;
}

/* --- key=value ----------------------------------------------------------- */

const char *tlib_kv_str(const char *line, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	const char *s = line;

	buf[0] = '\0';
	while ((s = strstr(s, key))) {
		if ((s == line || s[-1] == ' ') && s[klen] == '=') {
			s += klen + 1;
			snprintf(buf, len, "%.*s", (int)strcspn(s, " "), s);
			break;
		}
		s += klen;
	}
	return buf;
}

long tlib_kv_int(const char *line, const char *key)
{
	char buf[64], *end;
	long v;

	if (!tlib_kv_str(line, key, buf, sizeof(buf))[0])
		return -1;
	v = strtol(buf, &end, 10);
	return *end ? -1 : v;
}

/* --- The CLI -------------------------------------------------------------- */

void tlib_set_cli(const char *path)
{
	cli_path = path;
}

void tlib_set_runner(const char *const *argv)
{
	runner = argv;
}

bool tlib_cli(struct trun *r, const char *const *args)
{
	const char *argv[64];
	const char *const *pre;
	size_t n = 0;

	for (pre = runner; pre && *pre && n < 32; pre++)
		argv[n++] = *pre;
	argv[n++] = cli_path ? cli_path : tlib_env("SOCKAUDIT");
	for (; args && *args; args++) {
		if (n == sizeof(argv) / sizeof(argv[0]) - 1)
			bail("too many arguments");
		argv[n++] = *args;
	}
	argv[n] = NULL;
	return trun_capture(r, argv, tlib_cli_ms, track_run);
}

json_object *tlib_cli_json(struct trun *r, const char *const *args)
{
	enum json_tokener_error jerr;
	json_object *o;

	if (!tlib_cli(r, args))
		return NULL;
	o = json_tokener_parse_verbose(r->out, &jerr);
	if (!o) {
		diag("sockaudit %s: exit %d, not JSON (%s): %s; stderr: %s", tlib_argstr(args),
		     r->status, json_tokener_error_desc(jerr), tlib_oneline(r->out),
		     tlib_oneline(r->err));
	} else if (!json_object_is_type(o, json_type_object)) {
		diag("sockaudit %s: JSON is not an object: %s", tlib_argstr(args),
		     tlib_oneline(r->out));
		json_object_put(o);
		o = NULL;
	}
	return o;
}

json_object *tlib_report(pid_t pid, const char *const *extra, struct trun *r)
{
	const char *args[40];
	char pidbuf[24];
	size_t n = 0;

	args[n++] = "report";
	args[n++] = "--json";
	for (; extra && *extra; extra++) {
		if (n == 37)
			bail("too many arguments");
		args[n++] = *extra;
	}
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	args[n++] = pidbuf;
	args[n] = NULL;
	return tlib_cli_json(r, args);
}

size_t tlib_err_lines(const struct trun *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nerr; i++)
		if (r->err[i] == '\n')
			n++;
	if (r->nerr && r->err[r->nerr - 1] != '\n')
		n++;
	return n;
}

bool tlib_cli_error(const struct trun *r, const char *needle)
{
	const char *nl = memchr(r->err, '\n', r->nerr);
	bool good = true;

	if (r->timed_out) {
		diag("timed out");
		return false;
	}
	if (r->status != 2) {
		diag("exit status %d, expected 2", r->status);
		good = false;
	}
	if (r->nout) {
		diag("stdout not empty: %s", tlib_oneline(r->out));
		good = false;
	}
	if (strlen(r->err) != r->nerr || strncmp(r->err, "sockaudit: ", 11) != 0 || !nl ||
	    nl != r->err + r->nerr - 1) {
		diag("stderr is not exactly one \"sockaudit: \" line: \"%s\"", tlib_oneline(r->err));
		good = false;
	} else if (needle && !strstr(r->err, needle)) {
		diag("stderr lacks \"%s\": %s", needle, tlib_oneline(r->err));
		good = false;
	}
	return good;
}

const char *tlib_oneline(const char *s)
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

const char *tlib_argstr(const char *const *args)
{
	static char s[1024];
	size_t n = 0;

	s[0] = '\0';
	for (; *args && n < sizeof(s); args++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "%s%s", n ? " " : "", *args);
	return s;
}

/* --- Waiting -------------------------------------------------------------- */

bool tlib_poll(bool (*cond)(void *), void *arg, int ms)
{
	uint64_t deadline = trun_now_ms() + (uint64_t)ms;

	while (trun_now_ms() < deadline) {
		if (cond(arg))
			return true;
		tlib_pause_ms(5);
	}
	return cond(arg);
}

int tlib_wait_child(pid_t pid, int ms)
{
	int st = trun_reap(pid, ms);

	if (st >= 0)
		return tlib_exit_code(st);
	if (kill_child(pid))
		waitpid(pid, NULL, 0);
	return -1;
}

/* --- Files and processes -------------------------------------------------- */

bool tlib_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	bool good;

	if (fd < 0) {
		diag("create %s: %s", path, strerror(errno));
		return false;
	}
	good = write(fd, data, len) == (ssize_t)len && fchmod(fd, mode) == 0;
	close(fd);
	return good;
}

long tlib_source_line(const char *path, const char *needle)
{
	FILE *f = fopen(path, "re");
	char buf[1024];
	long n = 0, found = 0;

	while (f && !found && fgets(buf, sizeof(buf), f)) {
		n++;
		if (strstr(buf, needle))
			found = n;
	}
	if (f)
		fclose(f);
	return found;
}

char *tlib_slurp(const char *path)
{
	char *buf = NULL, chunk[8192];
	size_t n = 0;
	ssize_t k;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	append(&buf, &n, "", 0);
	if (fd < 0)
		return buf;
	while ((k = read(fd, chunk, sizeof(chunk))) > 0)
		append(&buf, &n, chunk, (size_t)k);
	close(fd);
	return buf;
}

pid_t tlib_free_pid(void)
{
	pid_t pid = fork();

	if (pid < 0)
		bail("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

bool tlib_starttime(pid_t pid, uint64_t *starttime)
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

void tlib_table_path(char *buf, size_t len, const char *dir, pid_t pid, uint64_t starttime)
{
	snprintf(buf, len, "%s/sockaudit.%u.%d.%" PRIu64, dir, (unsigned)geteuid(), (int)pid,
		 starttime);
}

/* --- Hosts in other namespaces ------------------------------------------ */

/* The parent of pid, from /proc/<pid>/stat; -1 when gone. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[1024], *p;
	FILE *f;
	int ppid = -1;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/* The descendant of root named comm (the scenario inside the namespaces),
 * polled for with a deadline: -1 when none appeared. */
static pid_t find_descendant(pid_t root, const char *comm)
{
	uint64_t deadline = trun_now_ms() + TLIB_READY_MS;
	struct timespec pause = { 0, 20 * 1000 * 1000 };

	while (trun_now_ms() < deadline) {
		DIR *d = opendir("/proc");
		struct dirent *e;
		pid_t found = -1;

		while (d && found < 0 && (e = readdir(d))) {
			char path[300], name[64] = "";
			FILE *f;
			pid_t pid = atoi(e->d_name), up;

			if (pid <= 0)
				continue;
			snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
			f = fopen(path, "re");
			if (!f)
				continue;
			if (fgets(name, sizeof(name), f))
				name[strcspn(name, "\n")] = '\0';
			fclose(f);
			if (strcmp(name, comm) != 0)
				continue;
			for (up = parent_of(pid); up > 1 && up != root; up = parent_of(up))
				;
			if (up == root)
				found = pid;
		}
		if (d)
			closedir(d);
		if (found > 0)
			return found;
		nanosleep(&pause, NULL);
	}
	return -1;
}

/* A program on PATH as a path (the harness execs argv[0] as given). */
static char *which(const char *prog)
{
	const char *path = getenv("PATH");
	static char found[8][4200];
	static int next;
	char *copy, *save = NULL;

	copy = strdup(path && *path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *slot = found[next % 8];

		snprintf(slot, sizeof(found[0]), "%s/%s", d, prog);
		if (access(slot, X_OK) == 0) {
			next++;
			free(copy);
			return slot;
		}
	}
	free(copy);
	bail("%s is not on PATH", prog);
}

void tlib_own_netns(void)
{
	char *argv[] = { which("ip"), "link", "set", "lo", "up", NULL };
	int status = -1;
	pid_t pid;

	tlib_require_root("a network namespace of its own needs root");
	if (unshare(CLONE_NEWNET) != 0)
		bail("unshare(CLONE_NEWNET): %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		bail("ip link set lo up failed (status %d)", status);
}

bool tlib_host_contained(struct tlib_host *p, const char *prog, unsigned flags, pid_t *host)
{
	char script[4096], comm[16];
	const char *base = strrchr(prog, '/');
	bool userns = flags & TLIB_NS_USER, net = flags & TLIB_NS_NET;
	char *argv[24];
	int n = 0;

	/* The scenario must not see the harness's SOCKAUDIT_DIR: its table
	 * goes to its own /dev/shm, a tmpfs nobody else sees. */
	snprintf(script, sizeof(script),
		 "mount -t tmpfs -o size=8m,mode=1777 sockaudit-test /dev/shm && %s"
		 "env -u SOCKAUDIT_DIR LD_PRELOAD='%s' \"$0\"; exit $?",
		 net ? "ip link set lo up && " : "", tlib_env("SOCKAUDIT_SHIM"));
	if (userns) {
		argv[n++] = which("setpriv");
		argv[n++] = "--reuid=65534";
		argv[n++] = "--regid=65534";
		argv[n++] = "--clear-groups";
		argv[n++] = "unshare";   /* found on PATH by setpriv */
		argv[n++] = "--user";
		argv[n++] = "--map-root-user";
	} else {
		argv[n++] = which("unshare");
	}
	argv[n++] = "--pid";
	argv[n++] = "--mount";
	argv[n++] = "--fork";
	argv[n++] = "--mount-proc";
	argv[n++] = "--kill-child";
	if (net)
		argv[n++] = "--net";
	argv[n++] = "sh";
	argv[n++] = "-c";
	argv[n++] = script;
	argv[n++] = (char *)prog;
	argv[n] = NULL;
	if (!tlib_host_ready(p, false, argv))
		return false;
	/* The kernel's comm: the first 15 bytes of the name. */
	snprintf(comm, sizeof(comm), "%s", base ? base + 1 : prog);
	*host = find_descendant(p->pid, comm);
	return *host > 0;
}
