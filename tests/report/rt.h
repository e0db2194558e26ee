/* Harness for the report scenario tests: start a scenario program (under
 * the shim or not), talk to it over its stdin/stdout, run the real
 * `sockaudit` binary and parse its JSON. Every wait is a poll with a
 * deadline; running out of time is a test failure, never a hang.
 *
 * Environment (set by tests/report/meson.build):
 *   SOCKAUDIT        the CLI under test
 *   SOCKAUDIT_SHIM   libsockaudit.so, put in LD_PRELOAD for instrumented targets
 *   RT_BIN_DIR       where the scenario programs were built
 *   RT_SRC_DIR       tests/report in the source tree (the Python scenario)
 *   RT_TABLES        a directory for tables; each case uses its own subdirectory
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tjson.h"
#include "trun.h"

#define RT_READY_MS   10000   /* a scenario must say "ready" within this */
#define RT_RUN_MS     30000   /* one sockaudit run */
#define RT_POLL_MS    15000   /* a condition that needs time to become true */
/* tcp_info ages are whole jiffies: with HZ=100 one reads up to 10 ms more
 * than the wall clock says passed. */
#define RT_JIFFY_MS   10

struct rt_proc {
	pid_t pid;
	int in_fd;                /* its stdin: close for EOF */
	int out_fd;               /* its stdout */
	char ready[1024];         /* the "ready ..." line */
	char buf[4096];           /* unread stdout */
	size_t nbuf;
};

/* Make $RT_TABLES/<name>, empty it, and export it as SOCKAUDIT_DIR. */
const char *rt_case_dir(const char *name);
/* $RT_BIN_DIR/<name> (static buffer per call site is not needed: strdup'ed). */
char *rt_bin(const char *name);
char *rt_src(const char *name);

/* Start argv (argv[0] is a path); preload: under the shim. Waits for the
 * "ready" line. False (with a diagnostic) on any failure. */
bool rt_spawn(struct rt_proc *p, bool preload, char *const argv[]);
/* Send one command line; wait for a line starting with `expect` (may be NULL). */
bool rt_command(struct rt_proc *p, const char *cmd, const char *expect);
/* "key=value" from the ready line, as an integer (-1 when missing). */
long rt_ready_int(const struct rt_proc *p, const char *key);
/* The same as a string into buf ("" when missing). */
const char *rt_ready_str(const struct rt_proc *p, const char *key, char *buf, size_t len);
/* Close stdin and reap it (SIGKILL after a grace period). True when it
 * exited with status 0. */
bool rt_stop(struct rt_proc *p);
/* SIGKILL and reap: the shim's exit path never runs, the table stays. */
void rt_kill(struct rt_proc *p);

/* Prefix every later sockaudit run with this argv (e.g. setpriv to run as
 * another user); NULL to run it directly. */
void rt_set_runner(const char *const *argv);
/* Run $SOCKAUDIT with args (NULL-terminated). */
bool rt_sockaudit(struct trun *r, const char *const *args);
/* Lines on stderr (a final line without newline counts). */
size_t rt_err_lines(const struct trun *r);
/* `sockaudit report --json <extra...> <pid>`; returns the parsed document
 * (caller puts it) or NULL. extra is NULL-terminated, may be NULL. */
json_object *rt_report(pid_t pid, const char *const *extra, struct trun *r);

/* The group whose sockets include fd, or NULL. */
json_object *rt_group_with_fd(json_object *root, int fd);
/* The socket with that fd in a socket array, or NULL. */
json_object *rt_sock_with_fd(json_object *socks, int fd);
/* groups[].sockets[] entry for fd, anywhere; NULL when not in any group. */
json_object *rt_grouped_sock(json_object *root, int fd);
/* Check a group's first frame: function, file basename and line. */
bool rt_frame_is(json_object *group, const char *func, const char *file, long line);
/* The outermost frame shown is func, and at least min_below frames below
 * it (libc's start-up or thread entry, _start) were left out. */
bool rt_last_frame_is(json_object *group, const char *func, int64_t min_below);

/* Write len bytes to path with mode (O_CREAT|O_EXCL|O_NOFOLLOW). */
bool rt_write_file(const char *path, const void *data, size_t len, mode_t mode);
/* A pid that is not in use right now (a reaped child's). */
pid_t rt_free_pid(void);
