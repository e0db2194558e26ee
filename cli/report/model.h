/* model: the report `sockaudit report` builds and renders.
 *
 *   target + table ──► two snapshots ─┐
 *   /proc/<pid>/fd  ──► procfd ───────┼─► report_join_build()  (join.c, pure)
 *   sock_diag       ──► ks_table ─────┘        │ sockets by inode, stale records,
 *                                              │ labels, leak verdicts, summary
 *                          report_stacks_read()│ (stacks.c: frames per socket)
 *                                 group_build()│ (group.c, pure)
 *                  report_symbols_resolve()    │ (symbols.c: libdwfl, trimmed)
 *                   render_text / render_json ◄┘ (render/)
 *
 * Everything a renderer prints lives here; renderers compute nothing but
 * strings.
 */
#pragma once

#include <stdbool.h>

#include "kernel/kstate.h"
#include "report/group.h"
#include "report/join.h"
#include "report/opts.h"
#include "report/rescued.h"
#include "report/symbols.h"
#include "table.h"
#include "table-reader.h"
#include "util/notes.h"
#include "util/target.h"

struct report_peer;   /* report/peer.h */
struct ks_owner_map;  /* kernel/peer.h */

/* The whole report (report.c builds it, render-*.c print it). */
struct report {
	struct report_opts opts;
	struct target tgt;
	bool instrumented;               /* a table was read */
	bool alive;
	struct sa_header hdr;            /* the table's header as of the last snapshot */
	bool have_ks;
	enum ks_source ks_source;
	bool other_netns;
	struct report_join join;
	struct group_set groups;
	uint64_t nofile_soft;            /* RLIMIT_NOFILE soft (UINT64_MAX: unlimited), 0: unknown */
	uint64_t open_fds;               /* descriptors the process holds, 0: unknown */
	struct report_symbols *syms;
	struct report_rescued_set rescued;  /* closes by a garbage collector */
	struct notes notes;
	struct report_peer *peers;       /* the sockets' other ends on this host */
	size_t npeers;
	/* A host collection's (report/collect.h), borrowed; NULL for one
	 * report: symbols shared by build-id, and who holds which socket
	 * inode over the host. */
	struct report_symcache *symcache;
	struct ks_owner_map *owners;
	/* Its own table as read (report/build.c), for the other end of a
	 * connection to itself; NULL: read again. */
	struct sa_reader *self_reader;
	const struct sa_snapshot *self_snap;
};

void report_finish(struct report *r);
