/* Harness for the end-to-end leak cases: processes, logs, sockaudit runs,
 * JSON and /proc/net/tcp. See e2e.h. */
#include "e2e.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
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

#define E2E_MAX_PROCS 8

static char case_dir[2048];
static char tables_dir[2048 + 16];
/* Read by the signal handler: plain pids, 0 for a free entry. */
static volatile pid_t live[E2E_MAX_PROCS];

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

const char *e2e_env(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v)
		bail("%s is not set (run through meson test)", name);
	return v;
}

static void track(pid_t pid)
{
	for (int i = 0; i < E2E_MAX_PROCS; i++)
		if (!live[i]) {
			live[i] = pid;
			return;
		}
	kill(pid, SIGKILL);
	bail("more than %d processes", E2E_MAX_PROCS);
}

static void untrack(pid_t pid)
{
	for (int i = 0; i < E2E_MAX_PROCS; i++)
		if (live[i] == pid)
			live[i] = 0;
}

static void kill_all(void)
{
	for (int i = 0; i < E2E_MAX_PROCS; i++)
		if (live[i] > 0) {
			kill(live[i], SIGKILL);
			waitpid(live[i], NULL, 0);
			live[i] = 0;
		}
}

static void on_signal(int sig)
{
	/* Async-signal-safe: kill() and _exit() only; the children also have
	 * PR_SET_PDEATHSIG, and the kernel reaps them once we are gone. */
	for (int i = 0; i < E2E_MAX_PROCS; i++)
		if (live[i] > 0)
			kill(live[i], SIGKILL);
	_exit(128 + sig);
}

static void rm_tree(const char *path)
{
	struct dirent *d;
	DIR *dp = opendir(path);

	if (dp) {
		while ((d = readdir(dp))) {
			char sub[8192];

			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, d->d_name);
			if (d->d_type == DT_DIR)
				rm_tree(sub);
			else
				unlink(sub);
		}
		closedir(dp);
	}
	rmdir(path);
}

const char *e2e_setup(const char *name)
{
	const char *work = e2e_env("E2E_WORK");
	struct sigaction sa = { .sa_handler = on_signal };

	/* The harness and sockaudit itself never run under the shim. */
	unsetenv("LD_PRELOAD");
	if (mkdir(work, 0755) < 0 && errno != EEXIST)
		bail("mkdir %s: %s", work, strerror(errno));
	snprintf(case_dir, sizeof(case_dir), "%s/%s.XXXXXX", work, name);
	if (!mkdtemp(case_dir))
		bail("mkdtemp %s: %s", case_dir, strerror(errno));
	snprintf(tables_dir, sizeof(tables_dir), "%s/tables", case_dir);
	if (mkdir(tables_dir, 0700) < 0)
		bail("mkdir %s: %s", tables_dir, strerror(errno));
	setenv("SOCKAUDIT_DIR", tables_dir, 1);
	atexit(kill_all);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	diag("case directory %s (SOCKAUDIT_DIR=%s)", case_dir, tables_dir);
	return case_dir;
}

void e2e_cleanup_dir(void)
{
	kill_all();
	if (case_dir[0])
		rm_tree(case_dir);
}

void e2e_spawn(struct e2e_proc *p, const char *name, char *const argv[])
{
	const char *shim = e2e_env("SOCKAUDIT_SHIM");
	pid_t parent = getpid();

	memset(p, 0, sizeof(*p));
	p->name = name;
	snprintf(p->out, sizeof(p->out), "%s/%s.out", case_dir, name);
	snprintf(p->err, sizeof(p->err), "%s/%s.err", case_dir, name);
	p->started_ms = trun_now_ms();
	p->pid = fork();
	if (p->pid < 0)
		bail("fork: %s", strerror(errno));
	if (p->pid == 0) {
		int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
		int out = open(p->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int err = open(p->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		/* Die with the test, whatever kills it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if (in < 0 || out < 0 || err < 0)
			_exit(127);
		dup2(in, STDIN_FILENO);
		dup2(out, STDOUT_FILENO);
		dup2(err, STDERR_FILENO);
		setenv("LD_PRELOAD", shim, 1);
		execv(argv[0], argv);
		dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	track(p->pid);
	diag("%s: pid %d", name, (int)p->pid);
}

/* Reap p if it has exited; true when it is gone. */
static bool gone(struct e2e_proc *p)
{
	if (p->pid <= 0)
		return true;
	if (waitpid(p->pid, &p->status, WNOHANG) != p->pid)
		return false;
	untrack(p->pid);
	p->pid = -1;
	return true;
}

int e2e_stop(struct e2e_proc *p, int sig)
{
	uint64_t deadline;

	if (p->pid <= 0)
		return p->status;
	kill(p->pid, sig);
	deadline = trun_now_ms() + 5000;
	while (!gone(p)) {
		if (trun_now_ms() >= deadline) {
			diag("%s (pid %d) still runs 5 s after signal %d: SIGKILL", p->name,
			     (int)p->pid, sig);
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &p->status, 0);
			untrack(p->pid);
			p->pid = -1;
			return -1;
		}
		pause_ms(10);
	}
	return p->status;
}

static char *slurp_path(const char *path)
{
	char *buf = NULL;
	size_t n = 0, cap = 0;
	ssize_t k;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		for (;;) {
			if (cap - n < 4096) {
				cap = cap ? cap * 2 : 8192;
				buf = realloc(buf, cap);
				if (!buf)
					bail("out of memory");
			}
			k = read(fd, buf + n, cap - n - 1);
			if (k <= 0)
				break;
			n += (size_t)k;
		}
		close(fd);
	}
	if (!buf)
		buf = malloc(1);
	if (!buf)
		bail("out of memory");
	buf[n] = '\0';
	return buf;
}

char *e2e_slurp(struct e2e_proc *p, bool err)
{
	return slurp_path(err ? p->err : p->out);
}

/* Complete line starting with prefix, copied into line. */
static bool find_line(const char *text, const char *prefix, char *line, size_t len)
{
	const char *s = text;

	while (*s) {
		const char *nl = strchr(s, '\n');

		if (!nl)
			return false;
		if (!strncmp(s, prefix, strlen(prefix))) {
			snprintf(line, len, "%.*s", (int)(nl - s), s);
			return true;
		}
		s = nl + 1;
	}
	return false;
}

bool e2e_wait_line(struct e2e_proc *p, bool err, const char *prefix, char *line, size_t len)
{
	uint64_t deadline = trun_now_ms() + E2E_WAIT_MS;

	for (;;) {
		bool dead = gone(p);
		char *text = e2e_slurp(p, err);
		bool found = find_line(text, prefix, line, len);

		if (found || dead || trun_now_ms() >= deadline) {
			if (!found)
				diag("%s: no %s line starting '%s' %s; it printed: [%s]", p->name,
				     err ? "stderr" : "stdout", prefix,
				     dead ? "before it exited" : "in time", text);
			free(text);
			return found;
		}
		free(text);
		pause_ms(20);
	}
}

bool e2e_wait_lines(struct e2e_proc *p, bool err, size_t n)
{
	uint64_t deadline = trun_now_ms() + E2E_WAIT_MS;

	for (;;) {
		bool dead = gone(p);
		char *text = e2e_slurp(p, err);
		size_t lines = 0;

		for (const char *s = text; (s = strchr(s, '\n')); s++)
			lines++;
		if (lines >= n || dead || trun_now_ms() >= deadline) {
			if (lines < n)
				diag("%s: %zu of %zu lines on %s %s: [%s]", p->name, lines, n,
				     err ? "stderr" : "stdout",
				     dead ? "before it exited" : "in time", text);
			free(text);
			return lines >= n;
		}
		free(text);
		pause_ms(20);
	}
}

static void track_run(pid_t pid, bool running)
{
	if (running)
		track(pid);
	else
		untrack(pid);
}

bool e2e_sockaudit(struct trun *r, const char *const *args)
{
	const char *argv[32];
	size_t n = 0;

	argv[n++] = e2e_env("SOCKAUDIT");
	for (; args && *args && n < 31; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	return trun_capture(r, argv, E2E_RUN_MS, track_run) && !r->signaled;
}

json_object *e2e_report(pid_t pid, bool all, struct trun *r)
{
	char spid[16];
	const char *args[] = { "report", "--json", "--close-wait", "200ms", "--idle", "300ms",
			       all ? "--all" : spid, spid, NULL };
	json_object *root;

	snprintf(spid, sizeof(spid), "%d", (int)pid);
	if (!all)
		args[7] = NULL;
	if (!e2e_sockaudit(r, args))
		return NULL;
	root = json_tokener_parse(r->out);
	if (!root || !tj_str_is(root, "schema", "sockaudit.report/1")) {
		diag("report %d: exit %d, not a sockaudit.report/1 document; stderr: %s", (int)pid,
		     r->status, r->err);
		json_object_put(root);
		return NULL;
	}
	return root;
}

json_object *e2e_poll_report(pid_t pid, e2e_pred pred, void *arg, struct trun *r)
{
	uint64_t deadline = trun_now_ms() + E2E_WAIT_MS;

	for (;;) {
		json_object *root = e2e_report(pid, false, r);

		if (root && pred(root, r, arg))
			return root;
		if (trun_now_ms() >= deadline) {
			diag("report of %d: condition not reached within %d ms; last exit %d, "
			     "stdout: %s", (int)pid, E2E_WAIT_MS, r->status, r->out);
			json_object_put(root);
			trun_free(r);
			return NULL;
		}
		json_object_put(root);
		trun_free(r);
		pause_ms(50);
	}
}

json_object *e2e_hold_report(pid_t pid, uint64_t until_ms, e2e_pred pred, void *arg,
			     struct trun *r)
{
	for (;;) {
		uint64_t started = trun_now_ms();
		json_object *root = e2e_report(pid, false, r);

		if (!root || !pred(root, r, arg)) {
			diag("report of %d, %lld ms before the end of the window: exit %d, "
			     "stdout: %s", (int)pid, (long long)until_ms - (long long)started,
			     r->status, r->out);
			json_object_put(root);
			trun_free(r);
			return NULL;
		}
		if (started >= until_ms)
			return root;
		json_object_put(root);
		trun_free(r);
		pause_ms(50);
	}
}

bool e2e_ktcp_find(unsigned lport, unsigned rport, struct e2e_ktcp *k)
{
	char *text = slurp_path("/proc/net/tcp");
	uint32_t loop = htonl(INADDR_LOOPBACK);
	bool found = false;
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned la, lp, ra, rp, st;
		unsigned long tx, rx, inode;

		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*u: %8X:%4X %8X:%4X %2X %lX:%lX %*X:%*X %*X %*u %*u %lu",
			   &la, &lp, &ra, &rp, &st, &tx, &rx, &inode) != 8)
			continue;
		if (la != loop || ra != loop || lp != lport || rp != rport)
			continue;
		/* A leftover of an earlier connection on the same ports has no
		 * file; the socket a process holds wins. */
		if (found && k->inode && !inode)
			continue;
		*k = (struct e2e_ktcp){ lp, rp, (int)st, tx, rx, inode };
		found = true;
	}
	free(text);
	return found;
}

bool e2e_ktcp_wait(unsigned lport, unsigned rport, e2e_kpred kpred, void *arg,
		   struct e2e_ktcp *k, bool *found)
{
	uint64_t deadline = trun_now_ms() + E2E_WAIT_MS;

	for (;;) {
		memset(k, 0, sizeof(*k));
		*found = e2e_ktcp_find(lport, rport, k);
		if (kpred(k, *found, arg))
			return true;
		if (trun_now_ms() >= deadline) {
			if (*found)
				diag("kernel: :%u -> :%u %s rxq %lu inode %lu after %d ms", lport,
				     rport, e2e_tcp_state_name(k->state), k->rxq, k->inode,
				     E2E_WAIT_MS);
			else
				diag("kernel: no socket :%u -> :%u after %d ms", lport, rport,
				     E2E_WAIT_MS);
			return false;
		}
		pause_ms(20);
	}
}

bool e2e_ktcp_pair_wait(unsigned lport, unsigned rport, e2e_kpred2 kpred2, struct e2e_ktcp *a,
			bool *found_a, struct e2e_ktcp *b, bool *found_b)
{
	uint64_t deadline = trun_now_ms() + E2E_WAIT_MS;

	for (;;) {
		memset(a, 0, sizeof(*a));
		memset(b, 0, sizeof(*b));
		*found_a = e2e_ktcp_find(lport, rport, a);
		*found_b = e2e_ktcp_find(rport, lport, b);
		if (kpred2(a, *found_a, b, *found_b))
			return true;
		if (trun_now_ms() >= deadline) {
			diag("kernel after %d ms: :%u -> :%u %s (inode %lu), :%u -> :%u %s (inode %lu)",
			     E2E_WAIT_MS, lport, rport,
			     *found_a ? e2e_tcp_state_name(a->state) : "gone", a->inode, rport,
			     lport, *found_b ? e2e_tcp_state_name(b->state) : "gone", b->inode);
			return false;
		}
		pause_ms(20);
	}
}

const char *e2e_tcp_state_name(int state)
{
	static const char *const names[] = {
		[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_SYN_SENT] = "SYN_SENT",
		[TCP_SYN_RECV] = "SYN_RECV",       [TCP_FIN_WAIT1] = "FIN_WAIT1",
		[TCP_FIN_WAIT2] = "FIN_WAIT2",     [TCP_TIME_WAIT] = "TIME_WAIT",
		[TCP_CLOSE] = "CLOSE",             [TCP_CLOSE_WAIT] = "CLOSE_WAIT",
		[TCP_LAST_ACK] = "LAST_ACK",       [TCP_LISTEN] = "LISTEN",
		[TCP_CLOSING] = "CLOSING",
	};

	if (state > 0 && (size_t)state < sizeof(names) / sizeof(names[0]) && names[state])
		return names[state];
	return "?";
}

/* Line n (1-based) of a file, or false. */
static bool source_line(const char *path, long n, char *out, size_t len)
{
	char *text = slurp_path(path), *s = text;
	bool ok_ = false;

	for (long i = 1; *s; i++) {
		char *nl = strchr(s, '\n');

		if (i == n) {
			snprintf(out, len, "%.*s", nl ? (int)(nl - s) : (int)strlen(s), s);
			ok_ = true;
			break;
		}
		if (!nl)
			break;
		s = nl + 1;
	}
	free(text);
	return ok_;
}

bool e2e_frame_is(json_object *group, const char *func, const char *file, const char *call)
{
	const char *fn, *base;
	char src[4096], text[512] = "";
	long line;

	if (!tj_first_frame(group, &fn, &base, &line)) {
		diag("group has no frames");
		return false;
	}
	snprintf(src, sizeof(src), "%s/%s", e2e_env("E2E_REPRO_SRC"), file);
	if (fn && base && !strcmp(fn, func) && !strcmp(base, file) &&
	    source_line(src, line, text, sizeof(text)) && strstr(text, call))
		return true;
	diag("first frame: %s at %s:%ld [%s], expected %s in %s on a line calling %s",
	     fn ? fn : "??", base ? base : "?", line, text, func, file, call);
	return false;
}

const char *e2e_only_key(json_object *o)
{
	const char *only = NULL;
	int n = 0;

	if (!o || !json_object_is_type(o, json_type_object))
		return NULL;
	json_object_object_foreach(o, key, val) {
		(void)val;
		only = key;
		n++;
	}
	return n == 1 ? only : NULL;
}
