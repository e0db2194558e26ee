/* group: sockets that share a stack identity, as `report` shows them.
 *
 * The identity is the connect stack when there is one, else the open stack,
 * compared as raw return addresses (valid within one process and one image
 * generation, which is part of the key). Sockets without a stack group by
 * the reason they have none ("inherited-start", "process not instrumented").
 * Pure: no I/O, so tests/report/test-leak.c exercises it directly.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/stack.h"
#include "symbolize/symbolize.h"

struct report_sock;


#define GROUP_MAX_PEERS  3
#define GROUP_MAX_STATES 24   /* more than the TCP, UDP and UNIX state names together */

struct group_state {
	const char *name;                /* ks_state_name(), or "UNKNOWN" */
	size_t count;
	bool oldest_known;
	uint64_t oldest_age_ms;
};

struct group_peer {
	char peer[128];
	size_t count;
};

struct group {
	size_t id;                       /* 1-based, in sorted order */
	const struct group_stack *stack; /* shared by every member */
	struct report_sock **socks;      /* ordered by lowest fd */
	size_t n;
	size_t flagged, suspect;
	unsigned kinds;                  /* bit (1u << enum leak_kind) per finding kind */
	struct group_state states[GROUP_MAX_STATES];
	size_t nstates;
	bool oldest_known;
	uint64_t oldest_age_ms;
	struct group_peer peers[GROUP_MAX_PEERS];  /* most frequent first */
	size_t npeers;
	size_t distinct_peers;

	/* Filled by growth_fill_groups() (report/growth.h): the per-site
	 * counts summed over the group's distinct open stacks, and how fast
	 * the group's held sockets grow. */
	bool counts_known;
	uint64_t opened_total, closed_total;
	uint64_t collected_total;        /* of closed_total, closed by a garbage collector */
	bool growing;
	double growth_per_hour;
	bool exhaust_known;
	uint64_t exhaust_s;

	/* Filled by report_symbols_resolve(): the frames with the shim's and
	 * libc's leading frames dropped (trimmed of them). Strings belong to
	 * the symbolizer, which outlives the renderers. */
	struct sym_frame *frames;
	size_t nframes;
	size_t trimmed;
	bool trimmed_go;                 /* those were Go's (runtime, syscall, net), not libc's */
	size_t trimmed_below;            /* outermost frames below the program's code */
};

struct group_set {
	struct group *v;
	size_t n;
};

/* Group the findings among socks (every socket when `all`): flagged groups
 * first, then by count (descending), then by oldest age (descending). */
void group_build(struct group_set *gs, struct report_sock *socks, size_t n, bool all);
void group_set_finish(struct group_set *gs);
/* "(no stack: inherited-start)" or "" for a group with a stack. */
void group_title_nostack(const struct group *g, char *buf, size_t len);
