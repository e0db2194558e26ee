/* build: one process's report without printing it (see build.h). */
#include "report/build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/kprobe.h"
#include "report/growth.h"
#include "report/peer.h"
#include "report/stacks.h"
#include "util/util.h"

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

static void take_kernel(struct report *rep, const struct ks_table *ks, int rc)
{
	if (ks && ks->note[0])
		notes_add(&rep->notes, "%s", ks->note);
	if (rc < 0 || !ks) {
		if (!ks || !ks->note[0])
			notes_add(&rep->notes, "no kernel view of the sockets: %s",
				  strerror(rc < 0 ? -rc : ENOENT));
		return;
	}
	rep->have_ks = true;
	rep->ks_source = ks->source;
	rep->other_netns = ks->other_netns;
}

/* The kernel view the join uses: the shared one, or the process's own. */
static struct ks_table *view(struct report_build *b)
{
	return b->sh.ks ? b->sh.ks : &b->in.ks;
}

void report_build_read_or_die(struct report_build *b)
{
	struct report *rep = &b->rep;
	const struct target *t = &rep->tgt;
	char err[600];

	b->reader.fd = -1;
	rep->alive = t->alive && !target_proc_exited(t->pid);
	rep->instrumented = t->table[0] != '\0';
	if (!rep->alive && !rep->instrumented)
		die("pid %d has exited (not yet reaped) and left no table", (int)t->pid);
	if (rep->instrumented) {
		target_open_table(t, &b->reader);
		rep->hdr = b->reader.hdr;
	} else {
		target_explain(&rep->tgt);
	}
	b->read = true;
	if (!rep->alive) {
		if (sa_reader_snapshot(&b->reader, &b->s2, err, sizeof(err)) < 0)
			die("%s", err);
		rep->hdr = b->s2.hdr;
		notes_add(&rep->notes, "pid %d is gone: its sockets are listed as its table last "
			  "recorded them, unverified and never flagged", (int)t->pid);
		return;
	}
	report_inputs_read(&b->in, t->pid, rep->instrumented ? &b->reader : NULL, &b->s1, &b->s2,
			   &b->fds, b->sh.symcache);
	if (rep->instrumented)
		rep->hdr = b->s2.hdr;
	take_kernel(rep, &b->in.ks, b->in.ks_rc);
	/* Sockets the dumps do not list (a TCP socket reset by its peer sits
	 * in CLOSE, unhashed): read them through the process's own fds where
	 * we may. */
	if (rep->have_ks)
		ks_probe_missing(&b->in.ks, t->pid, &b->fds);
}

int report_build_read(struct report_build *b, char *err, size_t errlen)
{
	struct report *rep = &b->rep;
	const struct target *t = &rep->tgt;
	int rc;

	b->reader.fd = -1;
	rep->alive = t->alive && !target_proc_exited(t->pid);
	rep->instrumented = t->table[0] != '\0';
	if (!rep->alive) {
		snprintf(err, errlen, "pid %d exited while being read", (int)t->pid);
		return -ESRCH;
	}
	if (!rep->instrumented) {
		snprintf(err, errlen, "pid %d has no table (not started with libsockaudit.so?)",
			 (int)t->pid);
		return -ENOENT;
	}
	rc = target_open_table_err(t, &b->reader, err, errlen);
	if (rc < 0)
		return rc;
	b->read = true;
	/* Snapshot, scan, snapshot: see join.c for why two. */
	rc = sa_reader_snapshot(&b->reader, &b->s1, err, errlen);
	if (rc < 0)
		return rc;
	rc = procfd_scan(t->pid, &b->fds);
	if (rc == -ENOENT || (rc >= 0 && target_proc_exited(t->pid))) {
		snprintf(err, errlen, "pid %d exited while being read", (int)t->pid);
		return -ESRCH;
	}
	if (rc < 0) {
		snprintf(err, errlen, "pid %d: cannot read /proc/%d/fd: %s%s", (int)t->pid,
			 (int)t->pid, strerror(-rc),
			 rc == -EACCES || rc == -EPERM ? " (run as its user or as root)" : "");
		return rc;
	}
	rc = sa_reader_snapshot(&b->reader, &b->s2, err, errlen);
	if (rc < 0)
		return rc;
	rep->hdr = b->s2.hdr;
	if (b->sh.ks) {
		take_kernel(rep, b->sh.ks, 0);
	} else {
		b->in.ks_rc = ks_collect_held(&b->in.ks, t->pid);
		take_kernel(rep, &b->in.ks, b->in.ks_rc);
	}
	if (rep->have_ks)
		ks_probe_missing(view(b), t->pid, &b->fds);
	return 0;
}

/* The per-site counts as read for the report being made (one at a time). */
static struct sa_count counts[SA_NSTACKS];
static size_t ncounts;

/* Per-site counts and growth on each group (report/growth.h). */
static void fill_counts(struct report *rep, struct sa_reader *reader,
			const struct procfd_list *fds, bool lean)
{
	uint64_t soft = 0, open_fds = 0;
	size_t n = 0;

	if (rep->instrumented)
		n = sa_reader_counts_used(reader, counts, SA_NSTACKS);
	ncounts = n;
	/* The descriptors as the scan counted them: /proc/<pid>/fd is read
	 * once. */
	if (rep->alive && !lean && growth_nofile(rep->tgt.pid, &soft) == 0)
		open_fds = fds->nall;
	else
		soft = open_fds = 0;
	rep->nofile_soft = soft;
	rep->open_fds = open_fds;
	growth_fill_groups(&rep->groups, counts, n, open_fds, soft);
}

void report_build_make(struct report_build *b)
{
	struct report *rep = &b->rep;
	const struct target *t = &rep->tgt;
	struct report_join_in jin = { .leak = &rep->opts.leak };
	struct sa_reader *reader = rep->instrumented ? &b->reader : NULL;
	struct report_symbols *prep;
	char err[600];

	rep->symcache = b->sh.symcache;
	rep->owners = b->sh.owners;
	if (rep->alive && rep->instrumented) {
		rep->self_reader = &b->reader;
		rep->self_snap = &b->s2;
	}
	jin.first = rep->alive && rep->instrumented ? &b->s1 : NULL;
	jin.second = rep->instrumented ? &b->s2 : NULL;
	jin.fds = rep->alive ? &b->fds : NULL;
	jin.ks = rep->have_ks ? view(b) : NULL;
	jin.now_ns = now_realtime_ns();
	jin.still_holds = rep->alive ? procfd_holds : NULL;
	jin.still_holds_arg = &rep->tgt.pid;
	report_join_build(&rep->join, &jin);
	/* The shim writes a record just after the call returns: a thread
	 * preempted in between (many threads, few CPUs) has a socket the scan
	 * saw and neither snapshot has. Before calling anything untracked,
	 * look at the table once more, later than the scan by the whole join. */
	if (rep->alive && rep->instrumented && rep->join.sum.untracked) {
		struct sa_snapshot again;

		memset(&again, 0, sizeof(again));
		if (sa_reader_snapshot(&b->reader, &again, err, sizeof(err)) == 0) {
			sa_snapshot_finish(&b->s2);
			b->s2 = again;
			rep->hdr = b->s2.hdr;
			report_join_finish(&rep->join);
			report_join_build(&rep->join, &jin);
		}
	}
	/* With a table, yet untracked sockets: a Go program explains it. */
	if (rep->alive && rep->instrumented && rep->join.sum.untracked && target_is_go(t->pid))
		notes_add(&rep->notes, "a Go program: Go opens its sockets with raw system calls the "
			  "shim does not see, so they show as untracked; only sockets made "
			  "through libc (cgo code) have records");
	for (size_t i = 0; i < rep->join.nstale && !b->sh.lean; i++)
		stale_describe(t->pid, &rep->join.stale[i]);
	report_stacks_read(&rep->join, reader, &rep->hdr, rep->instrumented);
	/* A gone process has nothing to flag: show what it held instead. */
	group_build(&rep->groups, rep->join.socks, rep->join.nsocks, rep->opts.all || !rep->alive);
	fill_counts(rep, &b->reader, &b->fds, b->sh.lean);
	prep = rep->alive ? report_inputs_join(&b->in) : NULL;
	b->in.prep = NULL;   /* resolve takes it over */
	/* A scrape names the groups it exports itself, by stack id, through
	 * its cache of names (report/scrape.c): symbolizing every group of
	 * every process at each scrape was a fifth of its instructions. */
	if (b->sh.lean)
		report_symbols_destroy(prep);
	else
		rep->syms = report_symbols_resolve_prepared(&rep->groups,
			&(struct report_symbols_in){
				.pid = rep->tgt.pid,
				.alive = rep->alive,
				.generation = rep->hdr.generation,
				.reader = reader,
				.notes = &rep->notes,
				.shared = b->sh.symcache,
			}, prep);
	/* After the symbol worker is joined: the peers' stacks make
	 * symbolizers of their own. */
	if (rep->alive && rep->have_ks && !b->sh.lean)
		report_peers_fill(rep, view(b));
	if (rep->instrumented && !b->sh.lean)
		report_rescued_read(&rep->rescued, &b->reader, &(struct report_symbols_in){
				.pid = rep->tgt.pid,
				.alive = rep->alive,
				.generation = rep->hdr.generation,
				.reader = &b->reader,
				.notes = &rep->notes,
				.shared = b->sh.symcache,
			});
	if (!b->sh.lean)
		report_rescued_counts(&rep->rescued, counts, ncounts);
}

int report_build_status(const struct report_build *b)
{
	/* A socket the collector closed was leaked too. */
	return b->rep.join.sum.flagged || b->rep.rescued.total ? b->rep.opts.exit_code
							       : EXIT_CLEAN;
}

void report_build_finish(struct report_build *b)
{
	/* The ks_sock pointers in the join point into the view: it goes last. */
	report_finish(&b->rep);
	report_symbols_destroy(report_inputs_join(&b->in));
	b->in.prep = NULL;
	if (!b->sh.ks)
		ks_finish(&b->in.ks);
	procfd_finish(&b->fds);
	sa_snapshot_finish(&b->s1);
	sa_snapshot_finish(&b->s2);
	if (b->read)
		sa_reader_close(&b->reader);
	b->read = false;
}
