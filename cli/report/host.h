/* host: `sockaudit report -A`, one report over every audited process the
 * caller may read. Each process is reported as `report <pid>` would (its
 * sockaudit.report/1 document, and its text when text was asked for), built
 * in this process by the host collector (report/collect.h); the host adds
 * what no single report has: how many processes and network namespaces
 * were read, the totals, the processes that could not be, and both ends of
 * each flagged connection on this host once. report.c fills it,
 * render/host.c prints it (sockaudit.host/1). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "report/model.h"
#include "report/opts.h"
#include "report/peer.h"

struct report_host_proc {
	pid_t pid;
	char comm[64];
	int status;              /* as `report` exits: 0 clean, 1 flagged, 2 error */
	char *json;              /* its sockaudit.report/1 document; NULL: not read */
	char *text;              /* its text report (text output only), or NULL */
	char error[600];         /* not read: the one line `report` prints */
	uint64_t tracked, untracked, stale, flagged;
};

/* Both ends of one flagged connection on this host: a flagged socket of a
 * process read, and its other end (another process's socket, or an
 * orphan the kernel keeps). */
struct report_host_pair {
	pid_t pid;               /* the flagged socket's */
	char comm[64];
	int fd;
	char state[16], local[80], peer[80];
	const char *kind;        /* its finding: "close-wait", "idle" (static) */
	struct report_peer other;   /* its other end, as its report names it */
};

struct report_host_seen;

struct report_host {
	struct report_opts opts;
	struct report_host_proc *v;
	size_t n, cap;
	size_t netns;            /* network namespaces dumped (one sock_diag dump each) */
	/* Totals over the processes read. */
	size_t read, failed, flagged_procs;
	uint64_t tracked, untracked, flagged, stale;
	struct report_host_pair *pairs;
	size_t npairs, pairs_cap;
	struct report_host_seen *seen;   /* pairs by their two ends */
};

/* A new entry for pid, zeroed but for pid and comm. */
struct report_host_proc *report_host_add(struct report_host *h, pid_t pid, const char *comm);
/* Its numbers into the host's totals, and its flagged sockets with an end
 * on this host into pairs, each connection once. */
void report_host_take(struct report_host *h, struct report_host_proc *p, const struct report *rep);
void report_host_fail(struct report_host *h);
/* The entries by pid, as /proc lists them. */
void report_host_sort(struct report_host *h);
void report_host_finish(struct report_host *h);
