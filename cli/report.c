/* sockaudit report <pid>: which sockets a process holds, which of them look
 * leaked, and the code that opened them. See report.h for the pipeline and
 * sockaudit(1) for the options and exit codes. */
#include "kernel/kprobe.h"
#include "report/growth.h"
#include "report/model.h"
#include "report/stacks.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "render/render.h"
#include "report/host.h"
#include "report/inputs.h"
#include "report/peer.h"
#include "util/util.h"

static const char report_usage[] =
	"usage: sockaudit report [options] <pid>\n"
	"       sockaudit report [options] -A\n"
	"  -A, --all-processes every audited process the caller may read, in any\n"
	"                      namespace (schema sockaudit.host/1 with --json)\n"
	"  --json              machine-readable output (schema sockaudit.report/1)\n"
	"  --all               list sockets that are not flagged too\n"
	"  --close-wait D      flag CLOSE_WAIT held for at least D (default 5s)\n"
	"  --idle D            flag ESTABLISHED without data for at least D (default 60s)\n"
	"  --threshold D       both of the above (each given on its own wins)\n"
	"  --exit-code N       exit status when something is flagged (default 1)\n"
	"  --color WHEN        auto, always or never (auto honours NO_COLOR)\n"
	"durations: 250ms, 5s, 1.5s, 1m30s, 1h (a bare number is ms)\n";

static void parse_args(struct report_opts *o, int argc, char **argv, int *pid, bool *every)
{
	static const struct option opts[] = {
		{ "all-processes", no_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "close-wait", required_argument, NULL, 'c' },
		{ "idle", required_argument, NULL, 'i' },
		{ "threshold", required_argument, NULL, 't' },
		{ "exit-code", required_argument, NULL, 'e' },
		{ "color", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	report_opts_init(o);
	opterr = 0;
	*every = false;
	while ((c = getopt_long(argc, argv, ":jahA", opts, NULL)) != -1) {
		switch (c) {
		case 'A':
			*every = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'a':
			o->all = true;
			break;
		case 'c':
			o->leak.close_wait_ms = report_opt_duration("report", "close-wait", optarg);
			o->close_wait_set = true;
			break;
		case 'i':
			o->leak.idle_ms = report_opt_duration("report", "idle", optarg);
			o->idle_set = true;
			break;
		case 't':
			o->threshold_ms = report_opt_duration("report", "threshold", optarg);
			o->threshold_set = true;
			break;
		case 'e':
			o->exit_code = report_opt_exit_code("report", optarg);
			break;
		case 'C':
			o->color = report_opt_color("report", optarg);
			break;
		case 'h':
			fputs(report_usage, stdout);
			exit(EXIT_CLEAN);
		default:
			report_opt_bad("report", c, optopt, argv, optind);
		}
	}
	report_opts_finish(o);
	if (*every) {
		if (optind != argc)
			die("report: -A reports every audited process: no pid expected, got '%s'",
			    argv[optind]);
		return;
	}
	if (optind + 1 != argc)
		die("report: expected one pid, got %s",
		    optind < argc ? "more than one argument" : "nothing");
	if (parse_pid(argv[optind], pid) < 0)
		die("report: '%s' is not a pid", argv[optind]);
}

static void snapshot_or_die(struct sa_reader *r, struct sa_snapshot *s)
{
	char err[512];

	if (sa_reader_snapshot(r, s, err, sizeof(err)) < 0)
		die("%s", err);
}

/* What a stale record's fd holds now, for the person reading the report. */
static void stale_describe(pid_t pid, struct report_stale *s)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, s->rec.fd);
	n = readlink(path, s->now, sizeof(s->now) - 1);
	if (n < 0) {
		snprintf(s->now, sizeof(s->now), "%s", errno == ENOENT ? "closed" : "unreadable");
		return;
	}
	s->now[n] = '\0';
}

static void take_kernel(struct report *rep, struct ks_table *ks, int rc)
{
	if (ks->note[0])
		notes_add(&rep->notes, "%s", ks->note);
	if (rc < 0) {
		if (!ks->note[0])
			notes_add(&rep->notes, "no kernel view of the sockets: %s", strerror(-rc));
		return;
	}
	rep->have_ks = true;
	rep->ks_source = ks->source;
	rep->other_netns = ks->other_netns;
}

/* The per-site counts as read for the report being made. */
static struct sa_count counts[SA_NSTACKS];
static size_t ncounts;

/* Per-site counts and growth on each group (report/growth.h). */
static void fill_counts(struct report *rep, struct sa_reader *reader)
{
	uint64_t soft = 0, open_fds = 0;
	size_t n = 0;

	if (rep->instrumented)
		n = sa_reader_counts(reader, counts, SA_NSTACKS);
	ncounts = n;
	if (rep->alive && growth_fd_usage(rep->tgt.pid, &soft, &open_fds) < 0)
		soft = open_fds = 0;
	rep->nofile_soft = soft;
	rep->open_fds = open_fds;
	growth_fill_groups(&rep->groups, counts, n, open_fds, soft);
}

/* One process's report, rendered to stdout (and, json_copy given, its
 * JSON document there too). ks: its network namespace's view, taken
 * already (report -A), or NULL to dump it here. */
static int report_run(struct report *rep, const struct ks_table *ks, FILE *json_copy)
{
	struct sa_snapshot s1, s2;
	struct sa_reader reader = { .fd = -1 };
	struct procfd_list fds = { 0 };
	struct report_inputs in;
	struct report_join_in jin = { .leak = &rep->opts.leak };
	const struct target *t = &rep->tgt;
	int status;

	memset(&s1, 0, sizeof(s1));
	memset(&s2, 0, sizeof(s2));
	memset(&in, 0, sizeof(in));
	rep->alive = t->alive && !target_proc_exited(t->pid);
	rep->instrumented = t->table[0] != '\0';
	if (!rep->alive && !rep->instrumented)
		die("pid %d has exited (not yet reaped) and left no table", (int)t->pid);
	if (rep->instrumented) {
		target_open_table(t, &reader);
		rep->hdr = reader.hdr;
	} else {
		target_explain(&rep->tgt);
	}

	if (rep->alive) {
		report_inputs_read_shared(&in, t->pid, rep->instrumented ? &reader : NULL, &s1, &s2,
					  &fds, ks);
		if (rep->instrumented)
			rep->hdr = s2.hdr;
		take_kernel(rep, &in.ks, in.ks_rc);

		/* Sockets the dumps do not list (a TCP socket reset by its peer
		 * sits in CLOSE, unhashed): read them through the process's own
		 * fds where we may. */
		if (rep->have_ks)
			ks_probe_missing(&in.ks, t->pid, &fds);
	} else {
		snapshot_or_die(&reader, &s2);
		rep->hdr = s2.hdr;
		notes_add(&rep->notes, "pid %d is gone: its sockets are listed as its table last recorded "
			    "them, unverified and never flagged", (int)t->pid);
	}

	jin.first = rep->alive && rep->instrumented ? &s1 : NULL;
	jin.second = rep->instrumented ? &s2 : NULL;
	jin.fds = rep->alive ? &fds : NULL;
	jin.ks = rep->have_ks ? &in.ks : NULL;
	jin.now_ns = now_realtime_ns();
	jin.still_holds = rep->alive ? procfd_holds : NULL;
	jin.still_holds_arg = &rep->tgt.pid;
	report_join_build(&rep->join, &jin);
	/* The shim writes a record just after the call returns: a thread
	 * preempted in between (many threads, few CPUs) has a socket the scan
	 * saw and neither snapshot has. Before calling anything untracked,
	 * look at the table once more, later than the scan by the whole join. */
	if (rep->alive && rep->instrumented && rep->join.sum.untracked) {
		sa_snapshot_finish(&s2);
		snapshot_or_die(&reader, &s2);
		rep->hdr = s2.hdr;
		report_join_finish(&rep->join);
		report_join_build(&rep->join, &jin);
	}
	/* With a table, yet untracked sockets: a Go program explains it. */
	if (rep->alive && rep->instrumented && rep->join.sum.untracked && target_is_go(t->pid))
		notes_add(&rep->notes, "a Go program: Go opens its sockets with raw system calls the "
			    "shim does not see, so they show as untracked; only sockets made "
			    "through libc (cgo code) have records");
	for (size_t i = 0; i < rep->join.nstale; i++)
		stale_describe(t->pid, &rep->join.stale[i]);
	report_stacks_read(&rep->join, rep->instrumented ? &reader : NULL, &rep->hdr,
			   rep->instrumented);
	/* A gone process has nothing to flag: show what it held instead. */
	group_build(&rep->groups, rep->join.socks, rep->join.nsocks, rep->opts.all || !rep->alive);
	fill_counts(rep, &reader);
	rep->syms = report_symbols_resolve_prepared(&rep->groups, &(struct report_symbols_in){
			.pid = rep->tgt.pid,
			.alive = rep->alive,
			.generation = rep->hdr.generation,
			.reader = rep->instrumented ? &reader : NULL,
			.notes = &rep->notes,
		}, rep->alive ? report_inputs_join(&in) : NULL);
	/* After the symbol worker is joined: the peers' stacks make
	 * symbolizers of their own. */
	if (rep->alive && rep->have_ks)
		report_peers_fill(rep, &in.ks);
	if (rep->instrumented)
		report_rescued_read(&rep->rescued, &reader, &(struct report_symbols_in){
				.pid = rep->tgt.pid,
				.alive = rep->alive,
				.generation = rep->hdr.generation,
				.reader = &reader,
				.notes = &rep->notes,
			});
	report_rescued_counts(&rep->rescued, counts, ncounts);

	if (rep->opts.json)
		render_json(stdout, rep);
	else
		render_text(stdout, rep, report_use_color(rep->opts.color));
	if (json_copy)
		render_json(json_copy, rep);
	if (fflush(stdout) != 0 || ferror(stdout) || (json_copy && fflush(json_copy) != 0))
		die("cannot write the report: %s", strerror(errno));
	/* A socket the collector closed was leaked too. */
	status = rep->join.sum.flagged || rep->rescued.total ? rep->opts.exit_code : EXIT_CLEAN;

	/* The ks_sock pointers in the join point into ks: free it last. */
	report_finish(rep);
	if (!in.ks_shared)
		ks_finish(&in.ks);
	procfd_finish(&fds);
	sa_snapshot_finish(&s1);
	sa_snapshot_finish(&s2);
	if (rep->instrumented)
		sa_reader_close(&reader);
	return status;
}

/* A memfd's whole content, NUL-terminated (malloc'ed). */
static char *memfd_text(int fd)
{
	off_t len = lseek(fd, 0, SEEK_END);
	char *buf;
	ssize_t n;

	if (len < 0)
		len = 0;
	buf = xmalloc((size_t)len + 1);
	n = pread(fd, buf, (size_t)len, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* A child that reads no more in this long has met something it should
 * not wait on: killed, and its process listed as not read. */
#define HOST_CHILD_MS 60000

/* One process of report -A, in a child of its own: `report`'s own path,
 * dying with its one line on whatever this process's table or /proc
 * entries hold (a hostile table, an exit mid-read) without taking the
 * others along. The child inherits the namespace's kernel view. */
struct host_child {
	size_t idx;              /* into h->v */
	pid_t pid;
	int jfd, ofd, efd;
	uint64_t deadline;
};

static void host_start(struct report_host *h, size_t idx, const struct target *t,
		       const struct ks_table *ks, struct host_child *c)
{
	struct report_host_proc *p = &h->v[idx];

	memset(p, 0, sizeof(*p));
	p->pid = t->pid;
	snprintf(p->comm, sizeof(p->comm), "%s", t->comm);
	c->idx = idx;
	c->jfd = memfd_create("sockaudit-json", MFD_CLOEXEC);
	c->ofd = memfd_create("sockaudit-text", MFD_CLOEXEC);
	c->efd = memfd_create("sockaudit-err", MFD_CLOEXEC);
	if (c->jfd < 0 || c->ofd < 0 || c->efd < 0)
		die("report: memfd_create: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	c->pid = fork();
	if (c->pid < 0)
		die("report: fork: %s", strerror(errno));
	if (c->pid == 0) {
		struct report rep;
		FILE *json;

		if (dup2(c->ofd, STDOUT_FILENO) < 0 || dup2(c->efd, STDERR_FILENO) < 0)
			_exit(EXIT_ERROR);
		json = fdopen(c->jfd, "w");
		if (!json)
			_exit(EXIT_ERROR);
		memset(&rep, 0, sizeof(rep));
		rep.opts = h->opts;
		rep.opts.exit_code = EXIT_FLAGGED;
		rep.tgt = *t;
		/* Text to stdout only when text was asked for: the JSON copy
		 * is what the host's totals come from either way. */
		if (rep.opts.json) {
			rep.opts.json = false;
			if (!freopen("/dev/null", "w", stdout))
				_exit(EXIT_ERROR);
		}
		exit(report_run(&rep, ks, json));
	}
	c->deadline = now_monotonic_ms() + HOST_CHILD_MS;
}

/* Collect a child that ended with status (-1: killed for taking too long). */
static void host_collect(struct report_host *h, struct host_child *c, int status)
{
	struct report_host_proc *p = &h->v[c->idx];

	if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) <= EXIT_FLAGGED) {
		char *doc = memfd_text(c->jfd);

		p->status = WEXITSTATUS(status);
		p->doc = json_tokener_parse(doc);
		free(doc);
		if (!h->opts.json)
			p->text = memfd_text(c->ofd);
	}
	if (!p->doc) {
		char *err = memfd_text(c->efd);
		size_t len = strlen(err);

		while (len && err[len - 1] == '\n')
			err[--len] = '\0';
		p->status = EXIT_ERROR;
		if (status < 0)
			snprintf(p->error, sizeof(p->error), "no report within %d s: stopped",
				 HOST_CHILD_MS / 1000);
		else if (WIFSIGNALED(status))
			snprintf(p->error, sizeof(p->error), "the report died of signal %d",
				 WTERMSIG(status));
		else
			snprintf(p->error, sizeof(p->error), "%s",
				 strncmp(err, "sockaudit: ", 11) == 0 ? err + 11 : err);
		free(err);
	}
	close(c->jfd);
	close(c->ofd);
	close(c->efd);
	c->pid = 0;
}

/* Wait until one of the running children ends (or overstays); returns its
 * slot. */
static size_t host_wait_one(struct report_host *h, struct host_child *run, size_t nrun)
{
	for (;;) {
		int status;
		pid_t r = waitpid(-1, &status, WNOHANG);

		for (size_t i = 0; r > 0 && i < nrun; i++)
			if (run[i].pid == r) {
				host_collect(h, &run[i], status);
				return i;
			}
		if (r < 0 && errno != EINTR && errno != ECHILD)
			die("report: waitpid: %s", strerror(errno));
		for (size_t i = 0; i < nrun; i++)
			if (run[i].pid > 0 && now_monotonic_ms() >= run[i].deadline) {
				kill(run[i].pid, SIGKILL);
				waitpid(run[i].pid, &status, 0);
				host_collect(h, &run[i], -1);
				return i;
			}
		if (r == 0)
			usleep(500);
	}
}

/* report -A: every audited process the caller may read (root: the host),
 * one sock_diag dump per network namespace. */
static int report_all(const struct report_opts *o)
{
	struct report_host h;
	struct ks_views views = { 0 };
	struct target *t;
	size_t n;
	int status;

	memset(&h, 0, sizeof(h));
	h.opts = *o;
	t = target_walk(&n, geteuid() == 0);
	/* Every view first: a namespace is dumped once, whichever of its
	 * processes comes first, and each child inherits what it needs. */
	for (size_t i = 0; i < n; i++)
		report_peers_prepare(ks_views_get(&views, t[i].pid));
	h.netns = views.n;
	/* As many children at once as there are CPUs (at most 8): most of a
	 * report is reading /proc and symbols, one process's at a time. */
	{
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		size_t width = cpus < 1 ? 1 : cpus > 8 ? 8 : (size_t)cpus, nrun = 0, next = 0;
		struct host_child run[8];

		memset(run, 0, sizeof(run));
		h.v = xcalloc(n ? n : 1, sizeof(h.v[0]));
		h.n = n;
		while (next < n || nrun) {
			size_t slot;

			if (next < n && nrun < width) {
				for (slot = 0; run[slot].pid > 0; slot++)
					;
				host_start(&h, next, &t[next], ks_views_get(&views, t[next].pid),
					   &run[slot]);
				next++;
				nrun++;
				continue;
			}
			host_wait_one(&h, run, width);
			nrun--;
		}
		for (size_t i = 0; i < n; i++)
			report_host_count(&h, &h.v[i]);
	}
	report_host_pair(&h);
	if (o->json)
		render_json_print(stdout, render_host_json(&h));
	else
		render_host_text(stdout, &h, report_use_color(o->color));
	if (fflush(stdout) != 0 || ferror(stdout))
		die("cannot write the report: %s", strerror(errno));
	status = h.flagged ? o->exit_code : EXIT_CLEAN;
	report_host_finish(&h);
	ks_views_finish(&views);
	free(t);
	return status;
}

int cmd_report(int argc, char **argv)
{
	struct report rep;
	bool every;
	int pid;

	memset(&rep, 0, sizeof(rep));
	parse_args(&rep.opts, argc, argv, &pid, &every);
	if (every)
		return report_all(&rep.opts);
	target_resolve(&rep.tgt, pid, NULL);
	return report_run(&rep, NULL, NULL);
}
