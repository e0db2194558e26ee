/* collect: every audited process the caller may read (root: the host's,
 * in every pid, mount and user namespace), read at one moment and built
 * one at a time: the one host-wide collector behind `report -A`, `serve`
 * and `watch`.
 *
 *   target_walk() (or target_lookup() for one pid) ─► the processes
 *   one sock_diag dump per network namespace (ks_views), each indexed once
 *     for the other ends of connections
 *   per process: table, snapshot, /proc/<pid>/fd, snapshot
 *     (report_build_read); its fds into the host's owner map
 *   per process: the rest (report_build_make), symbols through one cache
 *     of module files by build-id ─► the caller's callback, then freed
 *
 * Nothing here exits: a process that cannot be read is handed to the
 * error callback with `report`'s one line, and the others go on.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "report/build.h"
#include "report/opts.h"
#include "util/target.h"

/* Kept across collections (serve, watch): the module files. */
struct collector;
struct collector *collector_create(void);
void collector_destroy(struct collector *c);   /* accepts NULL */
/* Its module files, for naming stacks outside a report (scrape's sites). */
struct report_symcache *collector_symbols(struct collector *c);

struct collect_opts {
	struct report_opts report;   /* leak thresholds, all (every group) */
	pid_t only;                  /* > 0: that process alone (watch PID) */
	bool lean;                   /* metrics only: no other ends, no rescued stacks */
};

struct collect_stats {
	size_t processes;            /* found with a table */
	size_t read, failed;
	size_t netns;                /* network namespaces dumped */
};

/* b: a process's complete report, valid during the call only. */
typedef void collect_ok_fn(struct report_build *b, void *arg);
/* A process that could not be read: rc as report_build_read's. */
typedef void collect_bad_fn(const struct target *t, int rc, const char *err, void *arg);

/* Collect. With o->only, returns -ESRCH / -ENOENT / the read's error when
 * that process could not be read (bad is called too); else 0. */
int collect_run(struct collector *c, const struct collect_opts *o, collect_ok_fn *ok,
		collect_bad_fn *bad, void *arg, struct collect_stats *st);
