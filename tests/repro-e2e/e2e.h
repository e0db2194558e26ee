/* The end-to-end leak cases' layer on the shared harness (tests/lib/tlib.h):
 * sockaudit-rpc servers and clients under the shim, the real `sockaudit
 * report --json` polled until (or held while) a condition holds, and the
 * kernel's own view from /proc/net/tcp. Every wait polls with a deadline;
 * running out of time fails the test, it never hangs it.
 *
 * Environment (set by tests/repro-e2e/meson.build):
 *   SOCKAUDIT        the CLI under test
 *   SOCKAUDIT_SHIM   libsockaudit.so
 *   SOCKAUDIT_RPC    the bundled RPC program
 *   E2E_REPRO_SRC    repro/ in the source tree (to read the lines frames name)
 *   E2E_WORK         where each case makes its private SOCKAUDIT_DIR
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tlib.h"

#define E2E_WAIT_MS   8000    /* a line in a log, a kernel state, a report */

/* One TCP socket as /proc/net/tcp lists it. */
struct e2e_ktcp {
	unsigned lport, rport;
	int state;                /* TCP_ESTABLISHED, TCP_FIN_WAIT2, ... */
	unsigned long txq, rxq;
	unsigned long inode;      /* 0: no file holds it (orphaned, time-wait) */
};

/* Start argv (argv[0] a path) under the shim, stdin /dev/null, stdout and
 * stderr collected; name is for messages ("server", "client"). */
void e2e_spawn(struct tlib_host *p, const char *name, char *const argv[]);
/* What p wrote so far on stdout (err false) or stderr (caller frees). */
char *e2e_slurp(struct tlib_host *p, bool err);

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
