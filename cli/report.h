/* report: the model `sockaudit report` builds and renders.
 *
 *   target + table ──► two snapshots ─┐
 *   /proc/<pid>/fd  ──► procfd ───────┼─► report_join_build()  (report-join.c, pure)
 *   sock_diag       ──► ks_table ─────┘        │ sockets by inode, stale records,
 *                                              │ labels, leak verdicts, summary
 *                          report_stacks_read()│ (report-stacks.c: frames per socket)
 *                                 group_build()│ (group.c, pure)
 *                  report_symbols_resolve()    │ (report-symbols.c: libdwfl, trimmed)
 *                   render_text / render_json ◄┘ (render-*.c)
 *
 * Everything a renderer prints lives here; renderers compute nothing but
 * strings.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "group.h"
#include "kstate.h"
#include "leak.h"
#include "procfd.h"
#include "table-reader.h"
#include "target.h"

/* How an untracked socket is labelled, from its peer (DESIGN §2: glibc's
 * own sockets never reach the shim). */
enum report_label {
	REPORT_LABEL_NONE = 0,     /* tracked: no label */
	REPORT_LABEL_DEVLOG,       /* syslog(3): unix peer /dev/log */
	REPORT_LABEL_NSCD,         /* nscd: /var/run/nscd/socket, /run/nscd/socket */
	REPORT_LABEL_DNS,          /* peer port 53 */
	REPORT_LABEL_NETLINK,      /* the kernel view has no such inode: netlink, packet, ... */
	REPORT_LABEL_UNKNOWN,
	REPORT_LABEL_MAX,
};

/* report_sock.inode of a dead process's record that has none (the shim
 * records it only when asked, docs/design.md): this bit | the fd. */
#define REPORT_INODE_NONE (1ull << 63)

/* One socket (one inode) the target holds, with every fd that refers to it. */
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

/* report-label.c */
enum report_label report_label_of(const struct ks_sock *ks);
/* "/dev/log", "nscd", "DNS", "netlink/other", "unknown" ("" for NONE) */
const char *report_label_name(enum report_label l);
/* The same, as a JSON key: "devlog", "nscd", "dns", "netlink", "unknown". */
const char *report_label_key(enum report_label l);

/* report-format.c: strings for one socket, shared by both renderers. */
void report_sock_local(const struct report_sock *s, char *buf, size_t len);
void report_sock_peer(const struct report_sock *s, char *buf, size_t len);
/* "ESTABLISHED", "LISTEN", "UNCONN", ..., "UNKNOWN" without a kernel view. */
const char *report_sock_state(const struct report_sock *s);
/* "tcp", "tcp6", "udp", "udp6", "unix/stream", "unix/dgram", "netlink", ... */
void report_sock_proto(const struct report_sock *s, char *buf, size_t len);
/* The leak reason sentence, "" when none. */
void report_sock_reason(const struct report_sock *s, const struct leak_opts *o, char *buf,
			size_t len);

/* report-stacks.c: fill each socket's stack identity from the table. */
void report_stacks_read(struct report_join *j, struct sa_reader *r, const struct sa_header *hdr,
			bool instrumented);
/* The join's one copy of `st` (thousands of sockets share a handful of
 * identities); freed by report_join_finish(). */
const struct group_stack *report_stack_intern(struct report_join *j, const struct group_stack *st);
/* The same for "no stack", with the reason. */
__attribute__((format(printf, 2, 3)))
const struct group_stack *report_stack_none(struct report_join *j, const char *fmt, ...);
void report_stacks_free(struct report_join *j);

/* report-symbols.c: resolve every group's stack (see there for which
 * address space is used) into group.frames, trimmed of the shim's and libc's
 * leading frames. The returned object owns the strings the frames point to:
 * destroy it after rendering. r: the table (module log), NULL without one. */
struct report;
struct report_symbols;
struct report_symbols *report_symbols_resolve(struct report *rep, struct sa_reader *r);
void report_symbols_destroy(struct report_symbols *rs);   /* accepts NULL */
/* The expensive part ahead of time, in another thread while the report's
 * inputs are read (libdwfl opening and decompressing the debug information
 * of the modules): the live symbolizer of pid for image `generation`, with
 * the frames of the given stacks of the table resolved into its cache.
 * Calls no die() and touches nothing shared; NULL when it cannot help.
 * report_symbols_resolve_prepared() takes it over (and resolves exactly as
 * report_symbols_resolve() would: see there); prep may be NULL. */
struct report_symbols *report_symbols_prepare(pid_t pid, uint32_t generation, struct sa_reader *r,
					     const uint32_t *stack_ids, size_t n);
struct report_symbols *report_symbols_resolve_prepared(struct report *rep, struct sa_reader *r,
						       struct report_symbols *prep);
/* How many leading frames belong to the shim or libc (0 when all do). */
size_t report_trim_count(const struct sym_frame *f, size_t n);

/* Options shared by `report` and `list` (report-opts.c). */
enum report_color {
	REPORT_COLOR_AUTO = 0,
	REPORT_COLOR_ALWAYS,
	REPORT_COLOR_NEVER,
};

struct report_opts {
	struct leak_opts leak;
	bool close_wait_set, idle_set;   /* given explicitly: beat --threshold */
	bool threshold_set;
	uint64_t threshold_ms;
	bool all;
	bool json;
	enum report_color color;
	int exit_code;                   /* exit status when something is flagged */
};

void report_opts_init(struct report_opts *o);
/* Parse a duration option or die (exit 2) with one line naming it. */
uint64_t report_opt_duration(const char *cmd, const char *opt, const char *arg);
enum report_color report_opt_color(const char *cmd, const char *arg);
int report_opt_exit_code(const char *cmd, const char *arg);
/* --threshold sets both unless one was given on its own. */
void report_opts_finish(struct report_opts *o);
/* getopt_long ran with opterr = 0 and returned '?' or ':': one line, exit 2. */
__attribute__((noreturn))
void report_opt_bad(const char *cmd, int c, int optopt_, char **argv, int optind_);
/* Should text go out in color? --color, NO_COLOR, isatty(stdout). */
bool report_use_color(enum report_color c);
/* The same for output going to fd (`run` reports on stderr). */
bool report_use_color_fd(enum report_color c, int fd);

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
	struct report_symbols *syms;
	char **notes;
	size_t nnotes;
};

__attribute__((format(printf, 2, 3)))
void report_note(struct report *r, const char *fmt, ...);
void report_finish(struct report *r);
/* A zombie (exited, not yet reaped) still has its /proc entry and start
 * time, but no fds and no network namespace: it is gone for a report. */
bool report_proc_exited(pid_t pid);
