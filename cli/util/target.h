/* target: a pid as the CLI sees it: alive or not, its owner and start time,
 * its command line, and where its table is (if any). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/proc.h"   /* the proc_read_* its callers use with it */
#include "util/procns.h"

enum target_kind {
	TARGET_INSTRUMENTED = 0,   /* a table exists */
	TARGET_NO_TABLE,           /* alive, no table: see why */
};

struct target {
	pid_t pid;
	bool alive;
	uint32_t uid;              /* effective uid of the process (or of its table) */
	uint64_t starttime;
	char comm[64];
	char cmdline[512];
	struct procns ns;          /* its namespaces (alive only; else as ours) */
	struct procns_container container;  /* runtime "" when none */
	char table[4200];          /* path, "" when none; /proc/<pid>/root/... in another root */
	char table_in_root[4200];  /* in another root: the path as the process sees it */
	char why[200];             /* no table: the plain reason */
};

/* Resolve pid: returns 0, or exits with a clear message (exit 2) for "no
 * such process" (and no table left) or permission problems. `table` forces a
 * table file. */
void target_resolve(struct target *t, pid_t pid, const char *table);
/* Fill t->why for an alive pid without a table: Go, static, or plain. */
void target_explain(struct target *t);
/* The executable has Go's sections: a Go program (one that links libc
 * through cgo loads the shim, but Go itself makes raw system calls). */
bool target_is_go(pid_t pid);

struct sa_reader;
/* Open and validate the target's table; exits 2 with one line on failure. */
void target_open_table(const struct target *t, struct sa_reader *r);
/* The same, returning 0 or -errno with one line in err. */
int target_open_table_err(const struct target *t, struct sa_reader *r, char *err, size_t errlen);

/* A live process in another pid, mount or user namespace than ours, and
 * its table: false when it is in ours (the table directory lists it) or
 * has no table. t is filled either way. */
bool target_probe_ns(struct target *t, pid_t pid);
/* Look for t's table inside its root (t->ns filled); true when something
 * is at its name (the opener judges it). */
bool target_find_in_root(struct target *t);

/* A zombie (exited, not yet reaped) still has its /proc entry and start
 * time, but no fds and no network namespace: it is gone for a report. */
bool target_proc_exited(pid_t pid);

/* A live process and its table, without dying: false when it is gone or
 * has no table (t filled as far as it got). */
bool target_lookup(struct target *t, pid_t pid);
/* The same with the table looked for in dir (as the process sees it,
 * inside its root) only. */
bool target_lookup_in(struct target *t, pid_t pid, const char *dir);
/* Every live process with a table, in any namespace: the caller's own, or
 * (any_user: root) every user's. Sorted as /proc lists them (by pid).
 * Returns a malloc'ed array of *n targets (tables found, not yet opened). */
struct target *target_walk(size_t *n, bool any_user);
