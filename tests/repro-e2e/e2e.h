/* Harness for the end-to-end leak cases (tests/repro-e2e): sockaudit-rpc
 * servers and clients under the shim, the real `sockaudit report --json`,
 * and the kernel's own view from /proc/net/tcp. Every wait polls with a
 * deadline; running out of time fails the test, it never hangs it.
 *
 * Environment (set by tests/repro-e2e/meson.build):
 *   SOCKAUDIT        the CLI under test
 *   SOCKAUDIT_SHIM   libsockaudit.so
 *   SOCKAUDIT_RPC    the bundled RPC program
 *   E2E_REPRO_SRC    repro/ in the source tree (to read the lines frames name)
 *   E2E_WORK         a directory for each run's private SOCKAUDIT_DIR and logs
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tjson.h"
#include "trun.h"

#define E2E_WAIT_MS   8000    /* a line in a log, a kernel state, a report */
#define E2E_RUN_MS    30000   /* one sockaudit run */
/* tcp_info ages are whole jiffies: with HZ=100 one reads up to 10 ms more
 * than the wall clock says passed. */
#define E2E_JIFFY_MS  10

/* A program started under the shim, stdout and stderr in files. */
struct e2e_proc {
	const char *name;         /* "server", "client": for messages */
	pid_t pid;                /* -1 once reaped */
	int status;               /* waitpid() status once reaped */
	uint64_t started_ms;
	char out[4096], err[4096];   /* paths of its stdout, stderr */
};

/* One TCP socket as /proc/net/tcp lists it. */
struct e2e_ktcp {
	unsigned lport, rport;
	int state;                /* TCP_ESTABLISHED, TCP_FIN_WAIT2, ... */
	unsigned long txq, rxq;
	unsigned long inode;      /* 0: no file holds it (orphaned, time-wait) */
};

const char *e2e_env(const char *name);

/* A fresh private directory for this case (logs, and tables/ exported as
 * SOCKAUDIT_DIR); kills and reaps everything on exit, and on SIGTERM/SIGINT. */
const char *e2e_setup(const char *name);
/* Remove the case directory (called when every point passed). */
void e2e_cleanup_dir(void);

/* Start argv (argv[0] a path) under the shim; logs go to <dir>/<name>.out/.err. */
void e2e_spawn(struct e2e_proc *p, const char *name, char *const argv[]);
/* Signal it and reap it within 5 s (SIGKILL after that). Returns the
 * wait status, or -1. */
int e2e_stop(struct e2e_proc *p, int sig);

/* Wait for a line of p's stdout (err false) or stderr that starts with
 * prefix; copies it (without newline) into line. Fails early when p exits. */
bool e2e_wait_line(struct e2e_proc *p, bool err, const char *prefix, char *line, size_t len);
/* The whole of p's stdout or stderr (caller frees). */
char *e2e_slurp(struct e2e_proc *p, bool err);
/* Lines of p's stdout or stderr, wait until there are n. */
bool e2e_wait_lines(struct e2e_proc *p, bool err, size_t n);

/* Run $SOCKAUDIT args (NULL-terminated) to completion. */
bool e2e_sockaudit(struct trun *r, const char *const *args);
/* `sockaudit report --json --close-wait 200ms --idle 300ms [--all] <pid>`:
 * the parsed document (caller puts) or NULL. */
json_object *e2e_report(pid_t pid, bool all, struct trun *r);

typedef bool (*e2e_pred)(json_object *root, const struct trun *r, void *arg);
/* Report until pred holds; that document (r kept) or NULL at the deadline. */
json_object *e2e_poll_report(pid_t pid, e2e_pred pred, void *arg, struct trun *r);
/* Report repeatedly until the clock reaches until_ms, with at least one
 * report at or after it: every one must satisfy pred. The last document,
 * or NULL (with a diagnostic) at the first that does not. */
json_object *e2e_hold_report(pid_t pid, uint64_t until_ms, e2e_pred pred, void *arg,
			     struct trun *r);

/* The TCP socket lport -> rport (IPv4 loopback) in /proc/net/tcp. */
bool e2e_ktcp_find(unsigned lport, unsigned rport, struct e2e_ktcp *k);
typedef bool (*e2e_kpred)(const struct e2e_ktcp *k, bool found, void *arg);
/* Poll /proc/net/tcp for lport -> rport until kpred holds. */
bool e2e_ktcp_wait(unsigned lport, unsigned rport, e2e_kpred kpred, void *arg,
		   struct e2e_ktcp *k, bool *found);
/* Both directions of one connection: poll until kpred2(a, found_a, b,
 * found_b) holds; a is lport -> rport, b the reverse. */
typedef bool (*e2e_kpred2)(const struct e2e_ktcp *a, bool found_a, const struct e2e_ktcp *b,
			   bool found_b);
bool e2e_ktcp_pair_wait(unsigned lport, unsigned rport, e2e_kpred2 kpred2, struct e2e_ktcp *a,
			bool *found_a, struct e2e_ktcp *b, bool *found_b);
const char *e2e_tcp_state_name(int state);

/* First frame of a group: function, file basename, and the source line it
 * names contains call (e.g. "connect("), read from $E2E_REPRO_SRC/file. */
bool e2e_frame_is(json_object *group, const char *func, const char *file, const char *call);
/* Only key of an object ("states" of a group), or NULL. */
const char *e2e_only_key(json_object *o);
