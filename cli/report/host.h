/* host: `sockaudit report -A`, one report over every audited process the
 * caller may read. Each process is reported as `report <pid>` would (its
 * sockaudit.report/1 document, and its text when text was asked for); the
 * host adds what no single report has: how many processes and network
 * namespaces were read, the totals, and the processes that could not be.
 * report.c builds it, render/host.c prints it (sockaudit.host/1). */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "report/opts.h"

struct report_host_proc {
	pid_t pid;
	char comm[64];
	int status;              /* as `report` exits: 0 clean, 1 flagged, 2 error */
	json_object *doc;        /* its sockaudit.report/1 document; NULL on error */
	char *text;              /* its text report (text output only), or NULL */
	char error[600];         /* status 2: the one line `report` printed */
};

/* Both ends of one flagged connection on this host: a flagged socket of a
 * process read, and its other end (another process's socket, or an
 * orphan the kernel keeps). */
struct report_host_pair {
	pid_t pid;               /* the flagged socket's */
	char comm[64];
	int fd;
	char state[16], local[80], peer[80];
	const char *kind;        /* its finding: "close-wait", "idle" */
	json_object *other;      /* its peer_process object (borrowed from the document) */
};

struct report_host {
	struct report_opts opts;
	struct report_host_proc *v;
	size_t n;
	size_t netns;            /* network namespaces dumped (one sock_diag dump each) */
	/* Totals over the processes read. */
	size_t read, failed, flagged_procs;
	uint64_t tracked, untracked, flagged, stale;
	struct report_host_pair *pairs;
	size_t npairs;
};

/* The pairs, from the documents read (report_host_count first): each
 * flagged socket whose other end is on this host, once per connection. */
void report_host_pair(struct report_host *h);

/* Add a process's document's numbers to the totals. */
void report_host_count(struct report_host *h, const struct report_host_proc *p);
void report_host_finish(struct report_host *h);
