/* peer: the other end of each TCP socket of a report when it is on this
 * host, in the same network namespace: which process holds it (pid,
 * command, fd), its state, and, when that process is audited, the code
 * that opened it; or that no process holds it (an orphan the kernel keeps
 * after close: FIN_WAIT_2, LAST_ACK, CLOSING) and which process listens on
 * its port. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "kernel/kstate.h"

struct report_peer {
	bool held;                 /* a process we may look at holds it */
	pid_t pid;                 /* held: the lowest pid holding it */
	int fd;
	char comm[64];
	char state[16];            /* "FIN_WAIT_2" */
	char local[80];            /* its own address (our peer) */
	bool orphan;               /* no inode: closed by its process, kept by the kernel */
	bool other_netns;          /* found in another network namespace's view (report -A) */
	pid_t listener_pid;        /* the process listening on its port; 0 when none seen */
	char listener_comm[64];
	bool have_frame;           /* held by an audited process: its record's code */
	char stack[8];             /* "connect" or "open" */
	char function[128];
	char file[256];
	int line;
};

struct report;
/* Index a view once for every report made from it later in a host
 * collection (report/collect.c), until report_peers_forget(). A socket whose other end
 * is not in its own view is then looked for in the others' (a connection
 * between two network namespaces, over a veth or a bridge without address
 * translation), unless its peer is a loopback address. */
void report_peers_prepare(const struct ks_table *ks);
/* Drop every prepared index (before the views they index are freed). */
void report_peers_forget(void);
/* Fill rep->peers and each socket's peer from ks (the view the report
 * joined with). */
void report_peers_fill(struct report *rep, const struct ks_table *ks);
