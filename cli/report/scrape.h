/* scrape: every audited process the caller may read, at one moment, reduced
 * to what a metrics page shows: sockets by state, flagged sockets by kind
 * and site, and the per-site open and close counts (`sockaudit serve`), or
 * every group of one process (`sockaudit watch`).
 *
 *   the host collector (report/collect.h): every process with a table in
 *     any namespace (target_walk), one sock_diag dump per network
 *     namespace, each report built as `report --all` builds it, symbols
 *     shared by build-id ─► reduced here, one process at a time
 *   table counts + stacks ─► sites: the first frame of the program's own
 *     code, "function file:line", resolved once per (process, stack) and
 *     kept in a cache across collections
 *
 * A process that cannot be read (another user's, gone while read) is left
 * out and counted; nothing here exits.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "report/leak.h"

#define SCRAPE_SITE_MAX 200
#define SCRAPE_OTHER    "other"

struct scrape_state {
	const char *name;            /* ks_state_name() or "UNKNOWN": static */
	size_t n;
};

struct scrape_flag {
	const char *kind;            /* leak_kind_name(): static */
	char site[SCRAPE_SITE_MAX];
	size_t n;
};

struct scrape_site {
	char site[SCRAPE_SITE_MAX];
	uint64_t opened, closed;
	uint64_t collected;          /* of closed, by a garbage collector */
};

/* A group as `report --all` makes it, for `watch`. */
struct scrape_group {
	char site[SCRAPE_SITE_MAX];    /* its first frame, or "(no stack: why)" */
	size_t held;                 /* sockets in the group */
	size_t flagged;
	bool counts_known;
	uint64_t opened, closed;     /* over its open stacks, as report */
	uint64_t collected;          /* of closed, by a garbage collector */
};

struct scrape_proc {
	pid_t pid;
	uint64_t starttime;
	char comm[64];
	struct scrape_state *states;
	size_t nstates;
	struct scrape_flag *flags;     /* by count, descending; "other" last */
	size_t nflags;
	struct scrape_site *sites;     /* by opened, descending; "other" last */
	size_t nsites;
	bool counts_known;           /* the table has counts (abi >= 2) */
	struct scrape_group *groups;   /* with scrape_opts.groups: every group, report's order */
	size_t ngroups;
};

struct scrape_opts {
	struct leak_opts leak;
	size_t top_sites;            /* sites (and flagged sites) per process before "other" */
	bool groups;                 /* fill scrape_proc.groups too */
};

struct scrape_report {
	struct scrape_proc *procs;     /* by pid */
	size_t nprocs;
	size_t unreadable;           /* tables of running processes we could not read */
	double duration_s;           /* the collection's wall time */
};

/* Site names across collections, keyed by (pid, start time, stack id). */
struct scrape_cache;
struct scrape_cache *scrape_cache_create(void);
void scrape_cache_destroy(struct scrape_cache *c);   /* accepts NULL */

/* Collect; cache may be NULL (every site resolved anew). Entries of
 * processes no longer seen are dropped from the cache. */
void scrape_collect(struct scrape_report *h, const struct scrape_opts *o, struct scrape_cache *cache);
void scrape_report_finish(struct scrape_report *h);
/* One process by pid. Returns 0, or -ESRCH (not running), -ENOENT (no
 * table: not started with the shim), -EACCES (not readable) with one line
 * in err. scrape_proc_finish() it either way. */
int scrape_collect_pid(struct scrape_proc *p, pid_t pid, const struct scrape_opts *o,
		     struct scrape_cache *cache, char *err, size_t errlen);
void scrape_proc_finish(struct scrape_proc *p);

/* Keep the top `top` of v[0..*n) (sorted by the caller, descending) and sum
 * the rest into one entry named SCRAPE_OTHER. Pure. */
void scrape_sites_cap(struct scrape_site *v, size_t *n, size_t top);
void scrape_flags_cap(struct scrape_flag *v, size_t *n, size_t top);
