/* build: one process's report, built without printing it and, for a host
 * collection, without dying: `report <pid>` and the host collector
 * (report/collect.h) take the same path.
 *
 *   report_build_read(): the table opened, snapshot, /proc/<pid>/fd,
 *     snapshot (report.c's order; join.c says why two)
 *   report_build_make(): the join with the namespace's kernel view, stale
 *     records, stacks, groups, counts, symbols, both ends, rescued
 *
 * Between the two a host collection reads every other process, so that
 * the fds of every audited process are known before any peer is named.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "kernel/kstate.h"
#include "kernel/procfd.h"
#include "report/inputs.h"
#include "report/model.h"
#include "table-reader.h"

/* Shared by the processes of a host collection; all NULL for one report. */
struct report_build_shared {
	/* The namespace's kernel view: extended with what the process's own
	 * fds show (ks_probe_missing), never freed here. NULL: dumped for
	 * this process alone. */
	struct ks_table *ks;
	struct report_symcache *symcache;
	struct ks_owner_map *owners;
	/* Metrics only: no other ends, no rescued stacks, no descriptor
	 * limit, stale records not looked at again. */
	bool lean;
};

/* A report and what it points into until rendered. Set rep.opts and
 * rep.tgt (target_resolve / target_lookup / target_walk), then read. */
struct report_build {
	struct report rep;
	struct report_build_shared sh;
	struct sa_reader reader;
	struct sa_snapshot s1, s2;
	struct procfd_list fds;
	struct report_inputs in;
	bool read;
	bool skip;                   /* not read: left out of the collection */
};

/* Dies with `report`'s one line on a failure: report <pid>. */
void report_build_read_or_die(struct report_build *b);
/* The same, returning 0 or -errno with that line in err (-ESRCH: the
 * process exited; -ENOENT: no table; others: not readable). */
int report_build_read(struct report_build *b, char *err, size_t errlen);
/* The rest: the report is then complete in b->rep. */
void report_build_make(struct report_build *b);
/* Exit status as `report` gives it: exit_code when something is flagged
 * (or a collector closed a leaked socket), else 0. */
int report_build_status(const struct report_build *b);
void report_build_finish(struct report_build *b);
