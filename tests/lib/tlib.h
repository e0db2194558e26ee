/* tlib: the harness of the end-to-end tests. A private table directory per
 * case; hosts (the programs the tests audit, under the shim or not) started
 * with pipes on their stdin and stdout, a "ready key=value ..." line, then
 * commands and their replies; the real `sockaudit` CLI run to completion
 * with its output and status; its JSON read by path (tjson.h).
 *
 * Every wait polls with a deadline; running out of time is a failure (a
 * diagnostic and false), never a hang. Nothing here prints a TAP point
 * (tap.h's counters belong to the test program): helpers return what they
 * saw and explain a mismatch with diag(); what cannot go on bail()s.
 *
 * Each suite keeps only what is its own on top of this: report's JSON
 * lookups stay in tjson, dump's table-file surgery in tests/dump/dt.c, the
 * RPC's wire helpers in tests/repro/harness.c, the shim's table checks in
 * tests/preload/harness.c, the kernel's TCP view in tests/repro-e2e/e2e.c.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tjson.h"
#include "trun.h"

#define TLIB_READY_MS 10000   /* a host must say "ready" (or reply) within this */
#define TLIB_CLI_MS   30000   /* one sockaudit run, unless tlib_cli_ms says otherwise */
#define TLIB_POLL_MS  15000   /* a condition that needs time to become true */
#define TLIB_GRACE_MS 5000    /* a host asked to stop, before it gets SIGKILL */
/* tcp_info ages are whole jiffies: with HZ=100 one reads up to 10 ms more
 * than the wall clock says passed. */
#define TLIB_JIFFY_MS 10

/* The environment variable, or bail() (the test was not run by meson). */
const char *tlib_env(const char *name);
/* "$env/name", malloc'ed: tlib_path("RT_BIN_DIR", "sc-idle"). */
char *tlib_path(const char *env, const char *name);
/* A pause that is not a wait for a condition (between two polls). */
void tlib_pause_ms(long ms);
/* A test that needs root: run as anyone else, it skips whole ("1..0 #
 * SKIP why", exit 0), or bails where a skip is a failure (CI,
 * SOCKAUDIT_STRICT=1). Call it before the first point. */
void tlib_require_root(const char *why);
/* This process, and all it starts from now on, in a network namespace of
 * its own with its loopback up: its connections meet no other test's, and
 * the kernel's tables are its own. A host that churned connections fills
 * its TIME_WAIT table, and the kernel then drops an orphaned FIN_WAIT_2 at
 * once, and every sock_diag dump lists the 131,072 TIME_WAITs. Needs root
 * (tlib_require_root). */
void tlib_own_netns(void);

/* --- The case directory --------------------------------------------------
 * A fresh directory <base>/<name>.XXXXXX (mode 0755), exported as
 * SOCKAUDIT_DIR for every host and CLI run. The harness and the CLI never
 * run under the shim (LD_PRELOAD and SOCKAUDIT_RUN_ID are unset), SIGPIPE
 * is ignored (a host that died fails a point, not the test), and every
 * host and CLI run still alive is killed when the test exits or is killed
 * (SIGTERM, SIGINT, SIGHUP). Returns the absolute path; the previous case
 * directory, if any, stays until tlib_finish(). */
const char *tlib_case_dir(const char *base, const char *name);
/* The current case directory, "" before the first. */
const char *tlib_dir(void);
/* Kill what is left; remove the case directories when tap_status is 0,
 * else keep them and say where. Returns tap_status:
 * `return tlib_finish(tap_done());` */
int tlib_finish(int tap_status);

/* --- Hosts ------------------------------------------------------------- */
struct tlib_spawn {
	bool shim;            /* LD_PRELOAD=$SOCKAUDIT_SHIM, else LD_PRELOAD unset */
	bool stdin_null;      /* stdin from /dev/null instead of a pipe */
	bool capture_err;     /* stderr collected in err, else inherited */
	const char *ready;    /* wait for a stdout line starting with this; NULL: none */
	int ready_ms;         /* how long; 0: TLIB_READY_MS */
	/* In the child just before exec (limits, ...): async-signal-safe only. */
	void (*setup)(void *arg);
	void *arg;
	const char *name;     /* for messages; default argv[0]'s basename */
};

struct tlib_host {
	char name[64];        /* for messages */
	pid_t pid;            /* kept after it is reaped */
	bool running;         /* started and not yet reaped */
	int status;           /* waitpid() status once reaped */
	uint64_t started_ms;  /* CLOCK_MONOTONIC, just before fork() */
	int in_fd;            /* its stdin; -1 once closed (or /dev/null) */
	int out_fd, err_fd;   /* -1 at EOF, or when not collected */
	char *out, *err;      /* all it wrote so far, NUL-terminated, never NULL */
	size_t nout, nerr;
	size_t out_pos;       /* stdout consumed by tlib_host_line() */
	char ready[1024];     /* the ready line, "" when none was asked for */
};

/* Start argv (argv[0] a path); with how->ready, wait how->ready_ms for that
 * line (lines before it are shown as diagnostics). False, with a
 * diagnostic and the host killed, when it never came. */
bool tlib_host_start(struct tlib_host *h, const struct tlib_spawn *how, char *const argv[]);
/* The common case: start argv under the shim or not and wait for its
 * "ready" line. */
bool tlib_host_ready(struct tlib_host *h, bool shim, char *const argv[]);
/* Collect what the host wrote, waiting up to ms for something to come (0:
 * only what is there; with both pipes at their end, a pause of ms). */
void tlib_host_pump(struct tlib_host *h, int ms);
/* The next unread stdout line that starts with prefix, within ms; lines
 * skipped on the way are consumed and shown as diagnostics. */
bool tlib_host_line(struct tlib_host *h, const char *prefix, char *line, size_t len, int ms);
/* Send one line on stdin; with expect, wait TLIB_READY_MS for a reply line
 * starting with it. */
bool tlib_host_command(struct tlib_host *h, const char *cmd, const char *expect);
/* Wait until needle is anywhere in its stdout (err false) or stderr. */
bool tlib_host_wait(struct tlib_host *h, bool err, const char *needle, int ms);
/* Wait for a complete line anywhere in stdout or stderr starting with
 * prefix (consumed or not); copied without its newline. */
bool tlib_host_find_line(struct tlib_host *h, bool err, const char *prefix, char *line,
			 size_t len, int ms);
/* Wait until stdout or stderr holds n complete lines. */
bool tlib_host_wait_lines(struct tlib_host *h, bool err, size_t n, int ms);
/* Still running? Reaps it (status kept) when not. */
bool tlib_host_alive(struct tlib_host *h);
/* Wait for it to exit on its own within ms (no signal, no kill), its
 * output collected; status holds its wait status. Reap hosts only through
 * tlib: it kills the ones it believes alive when the test ends. */
bool tlib_host_wait_exit(struct tlib_host *h, int ms);
/* Close its stdin: EOF, but the pipes stay. */
void tlib_host_eof(struct tlib_host *h);
/* Ask it to stop, by EOF on its stdin (sig 0) or by signal sig, and reap
 * it within grace_ms, its output collected; SIGKILL after that. Its pipes
 * are closed. Its exit code or 128 + the signal that ended it; -1 when it
 * had to be killed. */
int tlib_host_stop(struct tlib_host *h, int sig, int grace_ms);
/* SIGKILL and reap: the shim's exit path never runs, the table stays. */
void tlib_host_kill(struct tlib_host *h);
/* Kill it if it still runs, close its pipes, free its output. */
void tlib_host_free(struct tlib_host *h);
/* A wait status as an exit code, or 128 + the signal. */
int tlib_exit_code(int status);

/* --- Hosts in other namespaces -------------------------------------------
 * What a container gets: prog (a path) started under the shim inside its
 * own pid and mount namespaces with a private tmpfs on /dev/shm (its table
 * goes there, named with the pid it knows itself by, never to the case
 * directory); TLIB_NS_NET: its own network namespace too, loopback up;
 * TLIB_NS_USER: in a user namespace made by uid 65534 (root inside maps
 * to it: a rootless container). Waits for its "ready" line; *host gets its
 * pid as we see it. Needs root (unshare, mount). */
#define TLIB_NS_NET  1u
#define TLIB_NS_USER 2u
bool tlib_host_contained(struct tlib_host *h, const char *prog, unsigned flags, pid_t *host);

/* --- key=value lines ---------------------------------------------------
 * The value of " key=value" in line (space separated), into buf; "" when
 * missing. */
const char *tlib_kv_str(const char *line, const char *key, char *buf, size_t len);
/* The same as a decimal integer; -1 when missing or not a number. */
long tlib_kv_int(const char *line, const char *key);
static inline long tlib_ready_int(const struct tlib_host *h, const char *key)
{
	return tlib_kv_int(h->ready, key);
}
static inline const char *tlib_ready_str(const struct tlib_host *h, const char *key, char *buf,
					 size_t len)
{
	return tlib_kv_str(h->ready, key, buf, len);
}

/* --- The CLI -------------------------------------------------------------
 * Deadline of one sockaudit run ($SOCKAUDIT, or tlib_set_cli()). */
extern int tlib_cli_ms;
/* The CLI under test: a path ($SOCKAUDIT when never set). */
void tlib_set_cli(const char *path);
/* Prefix every later run with this argv (setpriv to run as another user);
 * NULL to run the CLI directly. */
void tlib_set_runner(const char *const *argv);
/* Run the CLI with args (NULL-terminated, without argv[0]): stdin
 * /dev/null, no LD_PRELOAD. True once it has been reaped (r->timed_out
 * when it was killed at the deadline). */
bool tlib_cli(struct trun *r, const char *const *args);
/* Run it and parse stdout: the JSON object (caller puts) or NULL with a
 * diagnostic. */
json_object *tlib_cli_json(struct trun *r, const char *const *args);
/* `sockaudit report --json <extra...> <pid>` (extra NULL-terminated, may
 * be NULL): the document or NULL. */
json_object *tlib_report(pid_t pid, const char *const *extra, struct trun *r);
/* Lines on stderr (a final line without newline counts). */
size_t tlib_err_lines(const struct trun *r);
/* The run failed as bad input must: exit status 2, nothing on stdout,
 * exactly one line on stderr, starting "sockaudit: " and containing
 * needle (unless NULL). Explains a mismatch with diag(). */
bool tlib_cli_error(const struct trun *r, const char *needle);
/* For diagnostics: at most 300 bytes of s on one line (newlines as "\n").
 * Two calls may share one printf. */
const char *tlib_oneline(const char *s);
/* For diagnostics: "a b c". */
const char *tlib_argstr(const char *const *args);

/* --- Waiting ----------------------------------------------------------- */
/* Poll cond every 5 ms for up to ms; false on timeout. */
bool tlib_poll(bool (*cond)(void *), void *arg, int ms);
/* Reap a child of ours within ms: its exit code or 128 + the signal; -1
 * when it did not exit in time (then it is killed and reaped) or is not
 * our child. */
int tlib_wait_child(pid_t pid, int ms);

/* --- Files and processes ------------------------------------------------ */
/* Write len bytes to a new path with mode (O_CREAT|O_EXCL|O_NOFOLLOW). */
bool tlib_write_file(const char *path, const void *data, size_t len, mode_t mode);
/* The line (1-based) of the first line of a source file holding needle, 0
 * when none or unreadable: expected lines come from markers in the source. */
long tlib_source_line(const char *path, const char *needle);
/* The whole of a file, NUL-terminated ("" when unreadable); caller frees. */
char *tlib_slurp(const char *path);
/* A pid that is not in use right now (a reaped child's). */
pid_t tlib_free_pid(void);
/* Field 22 of /proc/<pid>/stat, the start time that names its table. */
bool tlib_starttime(pid_t pid, uint64_t *starttime);
/* "<dir>/sockaudit.<euid>.<pid>.<starttime>", the table a host under the
 * shim writes in dir. */
void tlib_table_path(char *buf, size_t len, const char *dir, pid_t pid, uint64_t starttime);
