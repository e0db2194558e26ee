/* trace/session: the recorder's main loop around one command (session.h).
 *
 * CMD is forked first and waits on a pipe; its pid goes into the kernel's
 * `tracked` map before it is let go, so nothing it does is missed. The
 * loop polls the ring buffer and reaps CMD; once CMD is reaped, whatever
 * the ring buffer still holds is applied, and the recorder ends: the
 * tables it wrote are removed with it (nothing would keep them current).
 * Attached to a running process (--pid), it runs until a signal asks it to
 * stop or the process is gone. */
#include "trace/session.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "table-reader.h"
#include "trace/procs.h"
#include "trace/recorder.h"
#include "util/target.h"
#include "util/util.h"

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t stop_signal;

static void forward(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

static void stop(int sig)
{
	stop_signal = sig;
}

static uint64_t nevents;

static void on_event(void *arg, const struct tr_event *ev)
{
	nevents++;
	tr_procs_event(arg, ev);
}

/* SOCKAUDIT_TRACE_STATS=FILE: what the recorder cost, as key=value lines
 * at its end (bench/run's recorder lines read them): events applied, events
 * lost in the kernel, its own CPU time (user + system, without CMD's) and
 * its peak resident memory. */
static void write_stats(struct tr_recorder *r)
{
	const char *path = getenv("SOCKAUDIT_TRACE_STATS");
	struct rusage ru;
	FILE *f;

	if (!path || !*path)
		return;
	f = fopen(path, "we");
	if (!f) {
		warnx_("trace: SOCKAUDIT_TRACE_STATS: cannot write %s: %s", path, strerror(errno));
		return;
	}
	getrusage(RUSAGE_SELF, &ru);
	fprintf(f, "events=%llu\nlost=%llu\ncpu_ns=%llu\nmaxrss_kb=%ld\n",
		(unsigned long long)nevents, (unsigned long long)tr_recorder_lost_total(r),
		(unsigned long long)ru.ru_utime.tv_sec * 1000000000ull +
			(unsigned long long)ru.ru_utime.tv_usec * 1000ull +
			(unsigned long long)ru.ru_stime.tv_sec * 1000000000ull +
			(unsigned long long)ru.ru_stime.tv_usec * 1000ull,
		ru.ru_maxrss);
	fclose(f);
}

static uint64_t lost_of(void *arg, pid_t pid, uint64_t start_ns)
{
	return tr_recorder_lost(arg, pid, start_ns);
}

static void forget_lost(void *arg, pid_t pid, uint64_t start_ns)
{
	tr_recorder_forget(arg, pid, start_ns);
}

static void gc_range_of(void *arg, pid_t pid, uint64_t image, uint64_t lo, uint64_t hi)
{
	tr_recorder_gc_range(arg, pid, image, lo, hi);
}

static void connect_lost(struct tr_recorder *r, struct tr_procs *p)
{
	struct tr_lost_ops ops = { .lost = lost_of, .forget = forget_lost,
				   .gc_range = gc_range_of, .arg = r };

	tr_procs_set_lost_ops(p, &ops);
}

/* After each batch of events: the tables' lost counts, and, when the
 * kernel lost any event since the last look, the processes whose exit may
 * have been among them. /proc is read first and the ring buffer drained
 * after: an exit event is sent before its process can be reaped, so one
 * seen gone here has its exit event applied by the drain, if it was sent. */
static void after_events(struct tr_recorder *r, struct tr_procs *p, uint64_t *seen_lost)
{
	uint64_t total = tr_recorder_lost_total(r);
	static pid_t pids[TR_MAX_PROCS];
	static uint64_t starts[TR_MAX_PROCS];
	int n;

	tr_procs_update_lost(p);
	if (total == *seen_lost)
		return;
	*seen_lost = total;
	n = tr_procs_gone(p, pids, starts, TR_MAX_PROCS);
	if (!n)
		return;
	while (tr_recorder_poll(r, 0) > 0)
		;
	for (int i = 0; i < n; i++)
		tr_procs_retire(p, pids[i], starts[i]);
	tr_procs_update_lost(p);
}

int tr_session_run(char **argv)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
	struct tr_recorder *r;
	struct tr_procs *p;
	struct sigaction sa = { .sa_handler = forward };
	int go[2], failed[2], st = 0, err = 0, rc;
	uint64_t seen_lost = 0;
	char msg[512];
	pid_t pid;
	ssize_t n;

	p = tr_procs_create(sa_table_dir());
	r = tr_recorder_create(on_event, p, msg, sizeof(msg));
	if (!r)
		die("trace: %s", msg);
	connect_lost(r, p);
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(failed, O_CLOEXEC) < 0)
		die("trace: pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("trace: fork: %s", strerror(errno));
	if (pid == 0) {
		char c;

		close(go[1]);
		close(failed[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		err = errno;
		if (write(failed[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(failed[1]);
	rc = tr_recorder_track(r, pid);
	if (rc < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		die("trace: cannot record process %d: %s", (int)pid, strerror(-rc));
	}
	child_pid = pid;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	if (write(go[1], "g", 1) != 1)
		die("trace: cannot start %s: %s", argv[0], strerror(errno));
	close(go[1]);
	n = read(failed[0], &err, sizeof(err));
	close(failed[0]);
	if (n == (ssize_t)sizeof(err)) {
		waitpid(pid, NULL, 0);
		tr_procs_destroy(p);
		tr_recorder_destroy(r);
		die("trace: cannot run %s: %s", argv[0], strerror(err));
	}
	for (;;) {
		pid_t w;

		rc = tr_recorder_poll(r, 100);
		if (rc < 0 && rc != -EINTR)
			die("trace: reading the recorder's events: %s", strerror(-rc));
		after_events(r, p, &seen_lost);
		w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			die("trace: waitpid: %s", strerror(errno));
	}
	child_pid = 0;
	/* CMD's last events were sent before it could be reaped. */
	while (tr_recorder_poll(r, 0) > 0)
		;
	write_stats(r);
	tr_procs_destroy(p);
	tr_recorder_destroy(r);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int tr_session_attach(pid_t pid)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = stop };
	uint64_t start, again, seen_lost = 0;
	struct tr_recorder *r;
	struct tr_procs *p;
	char msg[512];
	int rc;

	if (!proc_read_starttime(pid, &start))
		die("trace: no process %d", (int)pid);
	p = tr_procs_create(sa_table_dir());
	r = tr_recorder_create(on_event, p, msg, sizeof(msg));
	if (!r)
		die("trace: %s", msg);
	connect_lost(r, p);
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	/* Track first, then read what it holds: a socket opened in between
	 * is in both, and its event (applied after) wins. */
	rc = tr_recorder_track(r, pid);
	if (rc < 0)
		die("trace: cannot record process %d: %s", (int)pid, strerror(-rc));
	rc = tr_procs_adopt(p, pid);
	if (rc == -EBUSY) {
		tr_procs_destroy(p);
		tr_recorder_destroy(r);
		die("trace: process %d is recorded by another sockaudit trace already", (int)pid);
	}
	/* Gone, or a zombie: nothing more will happen in it. */
	if (rc < 0 || !proc_read_starttime(pid, &again) || again != start ||
	    target_proc_exited(pid)) {
		tr_procs_destroy(p);
		tr_recorder_destroy(r);
		die("trace: process %d exited while attaching", (int)pid);
	}
	while (!stop_signal) {
		rc = tr_recorder_poll(r, 100);
		if (rc < 0 && rc != -EINTR)
			die("trace: reading the recorder's events: %s", strerror(-rc));
		after_events(r, p, &seen_lost);
		if (!proc_read_starttime(pid, &again) || again != start || target_proc_exited(pid))
			break;
	}
	while (tr_recorder_poll(r, 0) > 0)
		;
	tr_procs_destroy(p);
	tr_recorder_destroy(r);
	return 0;
}

struct tr_background {
	struct tr_recorder *r;
	struct tr_procs *p;
	uint64_t seen_lost;
};

struct tr_background *tr_background_start(const char *dir, const char *run_id, char *err,
					  size_t len)
{
	struct tr_background *b = xcalloc(1, sizeof(*b));

	b->p = tr_procs_create(dir);
	tr_procs_set_run(b->p, run_id);
	b->r = tr_recorder_create(on_event, b->p, err, len);
	if (!b->r) {
		tr_procs_destroy(b->p);
		free(b);
		return NULL;
	}
	connect_lost(b->r, b->p);
	return b;
}

void tr_background_track(struct tr_background *b, pid_t pid)
{
	int rc = tr_recorder_track(b->r, pid);

	if (rc < 0)
		warnx_("run: the recorder cannot follow process %d: %s", (int)pid, strerror(-rc));
}

int tr_background_fd(struct tr_background *b)
{
	return tr_recorder_fd(b->r);
}

void tr_background_pump(struct tr_background *b)
{
	while (tr_recorder_poll(b->r, 0) > 0)
		;
	after_events(b->r, b->p, &b->seen_lost);
}

void tr_background_stop(struct tr_background *b)
{
	if (!b)
		return;
	tr_background_pump(b);
	tr_recorder_destroy(b->r);
	tr_procs_destroy(b->p);
	free(b);
}
