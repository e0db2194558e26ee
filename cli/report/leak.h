/* leak: the rule that decides whether one socket looks leaked. Pure: it sees
 * only the kernel's view of the socket and whether the target still holds
 * it, so it is unit-tested from a table of cases (tests/report/test-leak.c).
 *
 * Flagged: the target holds the fd and the socket is
 *   - TCP CLOSE_WAIT for at least close_wait_ms: the peer closed and this
 *     side never did (the classic leak), or
 *   - TCP ESTABLISHED with no data either way for at least idle_ms.
 * LISTEN, UDP, UNIX and every other state are never flagged.
 *
 * Ages come from tcp_info (ms, 32-bit jiffies: they wrap after ~49.7 days).
 * tcp_info has no time-in-state; the CLOSE_WAIT age is last_ack_recv, a lower
 * bound (docs/design.md, "CLOSE_WAIT age"), so a flag is never the product of
 * an overestimate. Without tcp_info (the /proc/<pid>/net fallback) a
 * CLOSE_WAIT socket is listed as LEAK_CLOSE_WAIT_AGE_UNKNOWN but not flagged.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/kstate.h"

#define LEAK_DEFAULT_CLOSE_WAIT_MS 5000u
#define LEAK_DEFAULT_IDLE_MS       60000u

struct leak_opts {
	uint64_t close_wait_ms;
	uint64_t idle_ms;
};

enum leak_kind {
	LEAK_NONE = 0,
	LEAK_CLOSE_WAIT,              /* flagged */
	LEAK_IDLE,                    /* flagged */
	LEAK_CLOSE_WAIT_AGE_UNKNOWN,  /* listed as a finding, not flagged */
	LEAK_KIND_MAX,
};

struct leak_verdict {
	enum leak_kind kind;
	bool flagged;
	bool is_tcp;
	bool idle_known;              /* ESTABLISHED or CLOSE_WAIT with tcp_info */
	bool close_wait_known;        /* CLOSE_WAIT with tcp_info */
	uint64_t idle_ms;             /* min(last_data_recv, last_data_sent) */
	uint64_t close_wait_ms;       /* lower bound of the time since the peer's FIN */
	uint64_t close_wait_max_ms;   /* upper bound: last_data_recv */
};

void leak_opts_default(struct leak_opts *o);
/* The thresholds themselves: has a socket been in the state of `kind`
 * (LEAK_CLOSE_WAIT or LEAK_IDLE) long enough to be flagged? The one place
 * the comparison is made, for `report` (leak_classify) and for `run`,
 * which adds the time it watched a socket in CLOSE_WAIT itself. */
bool leak_past(const struct leak_opts *o, enum leak_kind kind, uint64_t age_ms);
/* fd_open: the target holds the socket now. ks: the kernel's view of it,
 * NULL when the kernel view has no such inode. Fills *v completely. */
void leak_classify(const struct leak_opts *o, bool fd_open, const struct ks_sock *ks,
		   struct leak_verdict *v);
/* "close-wait", "idle", "close-wait-age-unknown", "none": stable, in JSON. */
const char *leak_kind_name(enum leak_kind k);
/* One phrase for people: "CLOSE_WAIT for at least 3.2s (threshold 200ms)".
 * Empty for LEAK_NONE. */
void leak_reason(const struct leak_opts *o, const struct leak_verdict *v, char *buf, size_t len);
