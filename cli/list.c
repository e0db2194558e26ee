/* sockaudit list: the audited processes of this user (of every user for
 * root), from the table directory, with a quick leak-rule pass over each
 * live one; --gc removes the tables of processes that are gone.
 *
 * Files in the directory are anybody's: only names that parse as
 * sockaudit.<euid>.<pid>.<starttime> are considered (any uid for root),
 * nothing is ever opened through a symbolic link, and --gc removes only
 * regular files owned by the uid of their name with mode 0600 (what the
 * shim creates), judged with fstatat(NOFOLLOW) and
 * removed with unlinkat() relative to the directory, which never follows a
 * link either. --gc also removes the private directory of a `run` that was
 * killed, once nothing it names runs any more (list_gc_run_dir). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "render/render.h"
#include "report/model.h"
#include "util/target.h"
#include "run/dir.h"
#include "util/util.h"

static const char list_usage[] =
	"usage: sockaudit list [options]\n"
	"  --json              machine-readable output (schema sockaudit.list/1)\n"
	"  --gc                remove the tables of processes that are gone, and\n"
	"                      what a killed `sockaudit run` left\n"
	"  --close-wait D, --idle D, --threshold D   leak rule, as for report\n"
	"  --color WHEN        auto, always or never\n";

struct list_ctx {
	struct report_opts opts;
	bool gc;
	uid_t euid;
	struct ks_views views;
};

/* The same join `report` makes, counted instead of rendered. */
static void list_count(struct list_ctx *c, struct list_entry *e, struct sa_reader *r)
{
	struct sa_snapshot s1, s2;
	struct procfd_list fds = { 0 };
	struct report_join j;
	struct report_join_in in = { .leak = &c->opts.leak };
	char err[512];
	bool have_s1 = false;

	memset(&s1, 0, sizeof(s1));
	if (e->alive) {
		if (sa_reader_snapshot(r, &s1, err, sizeof(err)) < 0)
			goto bad;
		have_s1 = true;
		if (procfd_scan(e->pid, &fds) < 0) {
			/* Exited meanwhile, or not ours to read: the table still counts. */
			e->alive = false;
		}
	}
	if (sa_reader_snapshot(r, &s2, err, sizeof(err)) < 0)
		goto bad;
	in.first = have_s1 ? &s1 : NULL;
	in.second = &s2;
	in.fds = e->alive ? &fds : NULL;
	in.ks = e->alive ? ks_views_get(&c->views, e->pid) : NULL;
	in.now_ns = now_realtime_ns();
	in.still_holds = e->alive ? procfd_holds : NULL;
	in.still_holds_arg = &e->pid;
	report_join_build(&j, &in);
	e->tracked = j.sum.tracked;
	e->untracked = j.sum.untracked;
	e->flagged = j.sum.flagged;
	e->stale = j.sum.stale;
	if (!e->command[0])
		snprintf(e->command, sizeof(e->command), "%s", s2.hdr.cmdline);
	report_join_finish(&j);
	sa_snapshot_finish(&s2);
	goto out;
bad:
	e->readable = false;
	snprintf(e->error, sizeof(e->error), "%s", err);
out:
	sa_snapshot_finish(&s1);
	procfd_finish(&fds);
}

static void list_gc(struct list_result *res, int dfd, const char *name, uid_t owner,
		    struct list_entry *e)
{
	struct stat st;

	if (e->alive)
		return;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		snprintf(e->remove_error, sizeof(e->remove_error), "%s", strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(e->remove_error, sizeof(e->remove_error), "not a regular file: left alone");
		return;
	}
	if (st.st_uid != owner || (st.st_mode & 07777) != 0600) {
		snprintf(e->remove_error, sizeof(e->remove_error),
			 "owner %u mode %04o, not what the shim makes: left alone", (unsigned)st.st_uid,
			 (unsigned)(st.st_mode & 07777));
		return;
	}
	if (unlinkat(dfd, name, 0) < 0) {
		snprintf(e->remove_error, sizeof(e->remove_error), "%s", strerror(errno));
		return;
	}
	e->removed = true;
	res->removed++;
}

/* The process that started at starttime still runs (a pid reused by
 * another process, or a zombie, is gone). */
static bool proc_alive(int32_t pid, uint64_t starttime)
{
	uint64_t now_start;

	return proc_read_starttime(pid, &now_start) && now_start == starttime &&
	       !target_proc_exited(pid);
}

/* What a run directory holds, judged by name: its owner marker, tables,
 * or anything else (foreign). busy: the owner or a table's process runs. */
static void run_dir_scan(DIR *dp, bool *owner_seen, bool *busy, bool *foreign)
{
	struct dirent *d;
	uint64_t start;
	int32_t pid;
	uint32_t uid;

	*owner_seen = *busy = *foreign = false;
	while ((d = readdir(dp))) {
		bool owner;

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		owner = run_owner_parse(d->d_name, &pid, &start) == 0;
		if (!owner && sa_table_name_parse(d->d_name, &uid, &pid, &start) < 0) {
			*foreign = true;
			continue;
		}
		*owner_seen = *owner_seen || owner;
		*busy = *busy || proc_alive(pid, start);
	}
}

/* `--gc` on a run directory (run-dir.h): removed when its owner marker
 * says which run made it and that run, like every process with a table in
 * it, is gone (a run killed with SIGKILL leaves it behind). A directory
 * that is not exactly what a run makes (ours, 0700, only the marker and
 * tables, regular files of ours) is left alone; nothing is followed
 * through a symbolic link, and removal is relative to directory fds. */
static void list_gc_run_dir(struct list_ctx *c, struct list_result *res, int dfd,
			    const char *name)
{
	bool owner_seen, busy, foreign;
	struct list_run_dir *r;
	struct stat st, fst;
	struct dirent *d;
	const char *why = NULL;
	DIR *dp;
	int fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != c->euid || (st.st_mode & 07777) != 0700)
		return;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &fst) < 0 || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino ||
	    !(dp = fdopendir(fd))) {
		close(fd);
		return;
	}
	run_dir_scan(dp, &owner_seen, &busy, &foreign);
	if (!owner_seen || busy) {
		/* Running, or not a run we can judge: not ours to touch. */
		closedir(dp);
		return;
	}
	res->run_dirs = xrealloc(res->run_dirs, (res->nrun_dirs + 1) * sizeof(res->run_dirs[0]));
	r = &res->run_dirs[res->nrun_dirs++];
	memset(r, 0, sizeof(*r));
	snprintf(r->path, sizeof(r->path), "%s/%s", res->dir, name);
	if (foreign)
		why = "it holds files sockaudit does not make: left alone";
	rewinddir(dp);
	while (!why && (d = readdir(dp))) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(dp), d->d_name, &fst, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(fst.st_mode) || fst.st_uid != c->euid)
			why = "it holds something other than regular files of ours: left alone";
		else if (unlinkat(dirfd(dp), d->d_name, 0) < 0)
			why = strerror(errno);
	}
	closedir(dp);
	if (!why && unlinkat(dfd, name, AT_REMOVEDIR) < 0)
		why = strerror(errno);
	r->removed = !why;
	if (why)
		snprintf(r->remove_error, sizeof(r->remove_error), "%s", why);
}

static void list_entry_fill(struct list_ctx *c, struct list_result *res, int dfd,
			    const char *name, uid_t owner, int32_t pid, uint64_t starttime)
{
	struct list_entry *e;
	struct sa_reader r;
	char err[512];

	res->v = xrealloc(res->v, (res->n + 1) * sizeof(res->v[0]));
	e = &res->v[res->n++];
	memset(e, 0, sizeof(*e));
	e->pid = e->ns_pid = pid;
	e->starttime = starttime;
	snprintf(e->path, sizeof(e->path), "%s/%s", res->dir, name);
	/* Same pid, another start time: the pid was reused, ours is gone. */
	e->alive = proc_alive(pid, starttime);
	if (e->alive)
		proc_read_cmdline(pid, e->command, sizeof(e->command));
	if (sa_reader_open(&r, e->path, owner, err, sizeof(err)) < 0) {
		snprintf(e->error, sizeof(e->error), "%s", err);
	} else if (r.hdr.pid != pid || r.hdr.starttime != starttime) {
		snprintf(e->error, sizeof(e->error), "its header names pid %d (start %llu)",
			 r.hdr.pid, (unsigned long long)r.hdr.starttime);
		sa_reader_close(&r);
	} else {
		e->readable = true;
		list_count(c, e, &r);
		sa_reader_close(&r);
	}
	if (c->gc)
		list_gc(res, dfd, name, owner, e);
}

/* Tables of this user's processes in our directory named with a pid
 * namespace's pid: found by the walk, skipped by the directory scan (and
 * never removed as "gone": the pid in their name is not ours). */
struct ns_names {
	char (*v)[128];
	size_t n;
};

static bool ns_names_has(const struct ns_names *nn, const char *name)
{
	for (size_t i = 0; i < nn->n; i++)
		if (strcmp(nn->v[i], name) == 0)
			return true;
	return false;
}

/* Audited processes in other pid, mount or user namespaces (containers):
 * every one as root, the caller's own (a rootless container) otherwise.
 * Each table is found and opened as `report` does (target.c: through
 * /proc/<pid>/root, never leaving it). */
static void list_ns_walk(struct list_ctx *c, struct list_result *res, struct ns_names *nn)
{
	DIR *proc = opendir("/proc");
	struct dirent *d;

	if (!proc)
		return;
	while ((d = readdir(proc))) {
		struct target t;
		struct list_entry *e;
		struct sa_reader r;
		char err[600];
		int pid;

		if (parse_pid(d->d_name, &pid) < 0 || pid == getpid())
			continue;
		if (!target_probe_ns(&t, pid) || (c->euid != 0 && t.uid != c->euid))
			continue;
		if (!t.table_in_root[0]) {
			const char *base = strrchr(t.table, '/');

			nn->v = xrealloc(nn->v, (nn->n + 1) * sizeof(nn->v[0]));
			snprintf(nn->v[nn->n++], sizeof(nn->v[0]), "%.127s", base ? base + 1 : t.table);
		}
		res->v = xrealloc(res->v, (res->n + 1) * sizeof(res->v[0]));
		e = &res->v[res->n++];
		memset(e, 0, sizeof(*e));
		e->pid = pid;
		e->ns_pid = t.ns.ns_pid;
		e->other_ns = true;
		e->starttime = t.starttime;
		e->alive = !target_proc_exited(pid);
		if (t.container.runtime[0])
			snprintf(e->container, sizeof(e->container), "%s %s", t.container.runtime,
				 t.container.id);
		snprintf(e->path, sizeof(e->path), "%s", t.table);
		snprintf(e->command, sizeof(e->command), "%s", t.cmdline);
		if (target_open_table_err(&t, &r, err, sizeof(err)) < 0) {
			snprintf(e->error, sizeof(e->error), "%.*s", (int)sizeof(e->error) - 1, err);
			continue;
		}
		e->readable = true;
		list_count(c, e, &r);
		sa_reader_close(&r);
	}
	closedir(proc);
}

static int list_entry_cmp(const void *a, const void *b)
{
	const struct list_entry *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->starttime < y->starttime ? -1 : x->starttime > y->starttime;
}

static void parse_args(struct list_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "gc", no_argument, NULL, 'g' },
		{ "close-wait", required_argument, NULL, 'c' },
		{ "idle", required_argument, NULL, 'i' },
		{ "threshold", required_argument, NULL, 't' },
		{ "color", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int ch;

	report_opts_init(&c->opts);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":jgh", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			c->opts.json = true;
			break;
		case 'g':
			c->gc = true;
			break;
		case 'c':
			c->opts.leak.close_wait_ms = report_opt_duration("list", "close-wait", optarg);
			c->opts.close_wait_set = true;
			break;
		case 'i':
			c->opts.leak.idle_ms = report_opt_duration("list", "idle", optarg);
			c->opts.idle_set = true;
			break;
		case 't':
			c->opts.threshold_ms = report_opt_duration("list", "threshold", optarg);
			c->opts.threshold_set = true;
			break;
		case 'C':
			c->opts.color = report_opt_color("list", optarg);
			break;
		case 'h':
			fputs(list_usage, stdout);
			exit(EXIT_CLEAN);
		default:
			report_opt_bad("list", ch, optopt, argv, optind);
		}
	}
	report_opts_finish(&c->opts);
	if (optind != argc)
		die("list: unexpected argument '%s'", argv[optind]);
}

int cmd_list(int argc, char **argv)
{
	struct list_ctx c;
	struct list_result res;
	struct ns_names nn = { 0 };
	struct dirent *d;
	DIR *dir;

	memset(&c, 0, sizeof(c));
	memset(&res, 0, sizeof(res));
	parse_args(&c, argc, argv);
	c.euid = geteuid();
	res.dir = sa_table_dir();
	res.gc = c.gc;
	res.close_wait_ms = c.opts.leak.close_wait_ms;
	res.idle_ms = c.opts.leak.idle_ms;
	list_ns_walk(&c, &res, &nn);
	dir = opendir(res.dir);
	if (!dir)
		die("list: cannot read %s: %s", res.dir, strerror(errno));
	errno = 0;
	while ((d = readdir(dir))) {
		uint32_t uid;
		int32_t pid;
		uint64_t starttime;

		if (c.gc && run_dir_name_ok(d->d_name)) {
			list_gc_run_dir(&c, &res, dirfd(dir), d->d_name);
			errno = 0;
			continue;
		}
		/* Root audits every user's processes (as report does); the file
		 * must still belong to the uid its name gives. */
		if (sa_table_name_parse(d->d_name, &uid, &pid, &starttime) < 0 ||
		    (c.euid != 0 && uid != c.euid) || ns_names_has(&nn, d->d_name))
			continue;
		list_entry_fill(&c, &res, dirfd(dir), d->d_name, (uid_t)uid, pid, starttime);
		errno = 0;
	}
	if (errno)
		die("list: cannot read %s: %s", res.dir, strerror(errno));
	closedir(dir);
	if (res.n)
		qsort(res.v, res.n, sizeof(res.v[0]), list_entry_cmp);

	if (c.opts.json)
		render_json_print(stdout, render_list_json(&res));
	else
		render_list_text(stdout, &res, report_use_color(c.opts.color));
	if (fflush(stdout) != 0 || ferror(stdout))
		die("cannot write the list: %s", strerror(errno));
	ks_views_finish(&c.views);
	free(res.v);
	free(res.run_dirs);
	free(nn.v);
	return EXIT_CLEAN;
}
