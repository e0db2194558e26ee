/* join: the table's records joined with /proc/<pid>/fd and the kernel's
 * view, one report_sock per socket the target holds.
 *
 *   two table snapshots ─┐
 *   /proc/<pid>/fd  ─────┼─► report_join_build()  (pure: no I/O)
 *   sock_diag ks_table ──┘      sockets by inode, stale records, labels,
 *                               leak verdicts, summary
 *
 * The join also owns the stack identities its sockets point to (interned:
 * thousands of sockets share a handful), filled by report_stacks_read().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/kstate.h"
#include "kernel/procfd.h"
#include "report/label.h"
#include "report/leak.h"
#include "report/stack.h"
#include "table-reader.h"

/* report_sock.inode of a dead process's record that has none (the shim
 * records it only when asked, docs/design.md): this bit | the fd. */
#define REPORT_INODE_NONE (1ull << 63)

/* One socket (one inode) the target holds, with every fd that refers to it. */
struct report_peer;

struct report_sock {
	uint64_t inode;
	int *fds;                  /* ascending */
	size_t nfds;
	bool held;                 /* seen in /proc/<pid>/fd (false: dead process, table only) */
	bool tracked;              /* an fd of it has a record for this very inode */
	bool slot_unknown;         /* an fd of it sat on a slot left mid-update */
	struct sa_slot rec;        /* the telling record when tracked (report_join_build picks it) */
	const struct ks_sock *ks;  /* NULL: the kernel view has no such inode */
	enum report_label label;   /* untracked sockets only */
	struct leak_verdict verdict;
	bool age_known;
	uint64_t age_ms;           /* CLOSE_WAIT: close-wait age; ESTABLISHED: idle; else since open */
	bool open_age_known;
	uint64_t open_age_ms;      /* since the record's open, tracked only */

	/* Stack identity, filled by report_stacks_read(): shared by every
	 * socket with the same one, owned by the join (report_stack_intern). */
	const struct group_stack *stack;
	/* The other end when it is on this host (report_peers_fill); NULL
	 * when not TCP, or not found in the namespace's view. */
	const struct report_peer *peer;
};

enum report_stale_why {
	REPORT_STALE_NOT_SOCKET = 0,   /* fd closed, or no longer a socket */
	REPORT_STALE_OTHER_INODE,      /* fd holds another socket now */
};

struct report_stale {
	struct sa_slot rec;
	enum report_stale_why why;
	uint64_t now_inode;            /* OTHER_INODE: the socket the fd holds now */
	char now[64];                  /* filled by the caller: "closed", "pipe:[12]", ... */
	bool open_age_known;
	uint64_t open_age_ms;
};

struct report_summary {
	size_t sockets;                /* unique sockets held */
	size_t fds;                    /* socket fds held */
	size_t tracked, untracked;
	size_t flagged;                /* leak rule: flagged */
	size_t suspect;                /* findings not flagged (close-wait-age-unknown) */
	size_t by_kind[LEAK_KIND_MAX];
	size_t untracked_by_label[REPORT_LABEL_MAX];
	size_t stale;
	size_t unknown_slots;
	size_t vanished;               /* opened and closed while we read: left out */
};

/* What report_join_build() reads. */
struct report_join_in {
	/* Two snapshots of the table, the first taken before the /proc scan
	 * and the second after it; both NULL for a process without a table.
	 * A record counts as stale only when it is in both unchanged (same
	 * seq), so a socket opened or closed while we read is not mistaken for
	 * one the shim missed. `second` may equal `first`. */
	const struct sa_snapshot *first, *second;
	/* NULL: the process is gone, the table's records are taken as what it
	 * held (unverified, never flagged). */
	const struct procfd_list *fds;
	const struct ks_table *ks;     /* NULL: no kernel view */
	const struct leak_opts *leak;
	uint64_t now_ns;               /* CLOCK_REALTIME, against the records' open_ns */
	/* Asked, after both snapshots, for each fd of a socket that would be
	 * untracked: does it still hold that inode? A socket none of whose
	 * fds does was opened and closed while we read (its record in neither
	 * snapshot): it is left out and counted in sum.vanished. NULL: every
	 * socket of the scan is kept (tests, a process that is gone). */
	bool (*still_holds)(int fd, uint64_t inode, void *arg);
	void *still_holds_arg;
};

struct report_join {
	struct report_sock *socks;     /* ordered by lowest fd */
	size_t nsocks;
	struct report_stale *stale;    /* ordered by fd */
	size_t nstale;
	int *unknown_fds;              /* slots left mid-update */
	size_t nunknown;
	struct report_summary sum;
	struct report_stack_node *stacks;   /* the interned stack identities */
};

void report_join_build(struct report_join *j, const struct report_join_in *in);
void report_join_finish(struct report_join *j);

/* The join's one copy of `st`; freed by report_join_finish(). */
const struct group_stack *report_stack_intern(struct report_join *j, const struct group_stack *st);
/* The same for "no stack", with the reason. */
__attribute__((format(printf, 2, 3)))
const struct group_stack *report_stack_none(struct report_join *j, const char *fmt, ...);
