/* model: what `sockaudit run -- CMD` knows about its process tree.
 *
 *   run.c (the command)  options, the main loop, the exit status
 *   run/spawn.c     private table directory, the shim's path, CMD under the
 *                   shim, subreaper, reaping, signal forwarding
 *   run/poll.c      every --interval: the tables of the run joined with the
 *                   kernel (report_join_build), each (pid, inode) tracked
 *                   across polls; a process that ends leaves its at-exit set
 *   run/findings.c  at the end: one struct report per process (post-mortem
 *                   symbolization from its module log, group_build), merged
 *                   into run groups by stack identity; suppressions,
 *                   baseline and --fail-on decide which groups fail
 *   run/ident.c     stack identity: survives rebuilds (no addresses, no lines)
 *   run/render.c    the text report (stderr) and sockaudit.run/1 JSON
 *   run/suppress.c  suppression files; baseline.c old reports; sarif.c SARIF
 *
 * The report pipeline (join, leak rule, grouping, symbols, socket strings)
 * is reused as it is: run only decides what happened across time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uthash.h>

#include "report/model.h"
#include "run/kind.h"
#include "util/notes.h"

#define RUN_SCHEMA "sockaudit.run/1"

#define RUN_FAIL_DEFAULT   (RUN_KIND_BIT(RUN_KIND_CLOSE_WAIT) | RUN_KIND_BIT(RUN_KIND_IDLE) | \
			    RUN_KIND_BIT(RUN_KIND_RESCUED))
#define RUN_DEFAULT_INTERVAL_MS 250u
#define RUN_DEFAULT_KILL_AFTER_MS 10000u

struct run_opts {
	struct report_opts rep;    /* leak rule, --exit-code, --color */
	uint64_t interval_ms;
	unsigned fail_on;          /* RUN_KIND_BIT()s */
	const char *preload;       /* --preload, NULL: look beside the CLI */
	uint64_t kill_after_ms;    /* --kill-after: cancelled tree SIGKILLed after this */
	bool no_recorder;          /* --no-recorder: no kernel-side recorder for Go/static */
	const char *json_path;
	const char *sarif_path;
	const char *baseline_path;
	const char **supp_paths;
	size_t nsupp;
	bool gen_suppressions;
	char **cmd;                /* argv of CMD, NULL-terminated */
};

/* One socket of one process, followed across polls. */
struct run_sock {
	uint64_t inode;
	int *fds;                  /* as last seen (or as the table left them) */
	size_t nfds;
	bool tracked;
	struct sa_slot rec;        /* the telling record, when tracked */
	enum report_label label;   /* untracked only */
	bool have_ks;
	struct ks_sock ks;         /* last kernel view (hh unused) */
	bool held;                 /* held at the last poll that saw the process */
	uint64_t cw_first_ms;      /* CLOCK_MONOTONIC of the first poll seeing CLOSE_WAIT, 0 never */
	uint64_t cw_ms;            /* longest time in CLOSE_WAIT observed */
	uint64_t idle_ms;          /* longest ESTABLISHED idle observed */
	bool cw_seen, idle_seen;
	bool flag_cw, flag_idle;   /* met the leak rule while held */
	bool at_exit;              /* still open when the process exited */
	bool rescued;              /* closed by Go's garbage collector (the recorder saw it) */
	uint64_t rescued_close_ns; /* CLOCK_REALTIME of that close */
	bool exit_state_known;
	bool exit_state_shim;      /* from the shim's exit path, else from the last poll */
	int exit_state;
	UT_hash_handle hh;
};

/* One process of the tree: one table in the run's directory. */
struct run_proc {
	int32_t pid;               /* as we see it */
	int32_t ns_pid;            /* in the table's name: as it sees itself */
	uint64_t starttime;
	char name[128];            /* table file name; "ns.<pid>.<starttime>" when in_ns */
	char path[4300];           /* the table as shown: in the run's directory, or found
				    * by the process (/proc/<pid>/root/...) */
	/* A process of the tree whose table is not in the run's directory:
	 * it could not reach it from its own namespaces (poll.c). Its table
	 * is opened by the process (target_open_table_err) and kept open
	 * after it ends: the file may be in a mount namespace gone by then. */
	bool in_ns;
	struct target *tgt;        /* in_ns: the process as looked up */
	bool table_dev_ino;        /* in_ns in our root: dev/ino of the file read */
	uint64_t table_dev, table_ino;
	bool have_hdr;
	struct sa_header hdr;      /* as of the last snapshot */
	bool reader_open;
	struct sa_reader reader;   /* open while the process runs */
	bool finished;             /* gone: the at-exit set is taken */
	bool ran_exit_path;        /* SA_HDR_EXITED: exit states are the shim's */
	bool status_known;         /* reaped by us (a child or an orphan) */
	int status;                /* exit code, or 128 + signal */
	char table_error[256];     /* the table could not be read: why */
	struct run_sock *socks;    /* uthash by inode */
	size_t polls;              /* polls that saw it running */
	uint64_t rescued_seen;     /* counters.rescued as last read: entries taken */
	uint64_t rescued_missed;   /* closes by the collector gone from the ring unread */
	UT_hash_handle hh;         /* by name, in run_state.by_name */

	/* findings.c */
	struct report rep;         /* its findings, grouped and symbolized */
	enum run_kind *kind_of;    /* per rep.join.socks[i] */
	struct run_sock **src_of;  /* per rep.join.socks[i] */
	bool have_rep;
};

struct supp_entry;

struct run_member {
	struct run_proc *p;
	struct group *g;
};

/* Groups of every process with one kind and one stack identity. */
struct run_group {
	size_t id;
	enum run_kind kind;
	char *stack_id;            /* ident.c */
	char hash[17];             /* hex of the identity's 64-bit FNV-1a */
	struct run_member *m;
	size_t nm;
	size_t count;              /* sockets in all members */
	const struct supp_entry *supp;   /* matched suppression, NULL none */
	bool baselined;            /* the identity is in --baseline */
	bool failing;
};

struct run_state {
	struct run_opts opts;
	char run_id[SA_RUN_ID_MAX];
	char dir[4096];            /* private table directory */
	char shim[4096];           /* the preloaded library */
	pid_t cmd_pid;
	bool cmd_done;
	int cmd_status;            /* exit code, or 128 + signal */
	int cmd_signal;            /* 0 unless killed by a signal */
	int exit_status;           /* what sockaudit run exits with */
	uint64_t started_ms, ended_ms;   /* CLOCK_MONOTONIC */
	uint64_t started_ns;             /* CLOCK_REALTIME */
	struct run_proc **procs;   /* in discovery order */
	size_t nprocs;
	struct run_proc *by_name;  /* uthash */
	size_t npolls;
	struct run_reaped {
		pid_t pid;
		int status;            /* exit code, or 128 + signal */
	} *reaped;                 /* every descendant we reaped */
	size_t nreaped;
	int sigfd;                 /* signalfd: SIGCHLD and the signals forwarded to CMD */
	/* Called in sockaudit with CMD's pid after the fork and before CMD
	 * may exec (it waits on a pipe meanwhile): the recorder tracks it
	 * from its first instruction. NULL: CMD execs at once. */
	void (*on_child)(void *arg, pid_t pid);
	void *on_child_arg;
	/* Another fd to serve while waiting (the recorder's ring buffer):
	 * on_ready(on_child_arg) when it is readable, and before reaping. */
	int ready_fd;
	void (*on_ready)(void *arg);
	int cancel_signal;         /* the first SIGINT/SIGTERM/SIGHUP/SIGQUIT we got, 0 none */
	uint64_t cancel_ms;        /* CLOCK_MONOTONIC when it came */
	bool tree_killed;          /* the tree was sent SIGKILL (second signal, --kill-after) */

	struct run_group *groups;
	size_t ngroups;
	size_t nfailing, nsuppressed, nbaselined;
	size_t by_kind[RUN_KIND_MAX];    /* sockets */
	struct notes notes;
};
