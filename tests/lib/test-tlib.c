/* The harness itself: key=value parsing from a table of cases, and hosts
 * (small sh scripts) that answer, stay silent, ignore EOF or die, so that
 * each wait is seen to end in time with the right answer, and a wait for
 * what never comes is seen to fail rather than hang. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../tap.h"
#include "tlib.h"

/* Short, so that the cases that must fail do so quickly; far above what a
 * shell needs to answer on a loaded machine. */
#define SHORT_MS 400

static void kv_cases(void)
{
	static const struct {
		const char *line, *key, *str;
		long num;
	} cases[] = {
		{ "ready pid=12 fd=3", "pid", "12", 12 },
		{ "ready pid=12 fd=3", "fd", "3", 3 },
		{ "ready pid=12 fd=3", "port", "", -1 },          /* missing */
		{ "ready xfd=4 fd=5", "fd", "5", 5 },             /* a key ending in the key */
		{ "ready fdx=4", "fd", "", -1 },                  /* a key starting with it */
		{ "ready temp=0:0", "temp", "0:0", -1 },          /* not a number */
		{ "ready n=-7", "n", "-7", -7 },
		{ "ready empty=", "empty", "", -1 },
		{ "pid=9 ready", "pid", "9", 9 },                 /* at the start */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[64];
		const char *s = tlib_kv_str(cases[i].line, cases[i].key, buf, sizeof(buf));
		long n = tlib_kv_int(cases[i].line, cases[i].key);

		ok(strcmp(s, cases[i].str) == 0 && n == cases[i].num,
		   "kv \"%s\" %s: \"%s\" %ld (want \"%s\" %ld)", cases[i].line, cases[i].key, s, n,
		   cases[i].str, cases[i].num);
	}
}

static bool sh(struct tlib_host *h, const struct tlib_spawn *how, const char *script)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };

	return tlib_host_start(h, how, argv);
}

static void host_cases(void)
{
	const struct tlib_spawn ready = { .ready = "ready", .name = "echo-host" };
	const struct tlib_spawn impatient = { .ready = "ready", .ready_ms = SHORT_MS };
	const struct tlib_spawn both = { .stdin_null = true, .capture_err = true };
	struct tlib_host h;
	char line[256];
	uint64_t t0, ms;
	bool started;
	int rc;

	/* The protocol: chatter before the ready line, then commands. */
	ok(sh(&h, &ready, "echo starting; echo ready pid=$$ port=80; "
			  "while read c; do echo \"done $c\"; done"),
	   "a host that says ready is started");
	ok(tlib_ready_int(&h, "pid") == h.pid && tlib_ready_int(&h, "port") == 80,
	   "its ready line is parsed (pid %ld, port %ld)", tlib_ready_int(&h, "pid"),
	   tlib_ready_int(&h, "port"));
	ok(tlib_host_command(&h, "one", "done one") && tlib_host_command(&h, "two", "done two"),
	   "commands get their replies, in order");
	t0 = trun_now_ms();
	started = tlib_host_line(&h, "done", line, sizeof(line), SHORT_MS);
	ms = trun_now_ms() - t0;
	ok(!started && ms >= SHORT_MS,
	   "a reply that never comes fails at the deadline, not before (%llu ms)",
	   (unsigned long long)ms);
	rc = tlib_host_stop(&h, 0, TLIB_GRACE_MS);
	ok(rc == 0 && !h.running && h.in_fd < 0 && h.out_fd < 0,
	   "EOF on its stdin stops it: exit %d, reaped, pipes closed", rc);
	ok(tlib_host_stop(&h, 0, TLIB_GRACE_MS) == 0, "stopping it again says the same");
	tlib_host_free(&h);

	/* A host that never says ready. */
	t0 = trun_now_ms();
	started = sh(&h, &impatient, "echo hello; exec sleep 60");
	ms = trun_now_ms() - t0;
	ok(!started && !h.running && ms >= SHORT_MS,
	   "a host that never says ready fails its start at the deadline, killed (%llu ms)",
	   (unsigned long long)ms);
	tlib_host_free(&h);

	/* One that ends without a ready line fails at once, not at the deadline. */
	t0 = trun_now_ms();
	started = sh(&h, &ready, "echo bye");
	ms = trun_now_ms() - t0;
	ok(!started && ms < TLIB_READY_MS,
	   "a host that exits before ready fails its start when its output ends (%llu ms)",
	   (unsigned long long)ms);
	tlib_host_free(&h);

	/* Ignoring EOF and SIGTERM: SIGKILL after the grace period. */
	ok(sh(&h, &ready, "trap '' TERM; echo ready; exec 0</dev/null; "
			  "while :; do sleep 1; done"),
	   "a host that ignores EOF and SIGTERM is started");
	t0 = trun_now_ms();
	rc = tlib_host_stop(&h, SIGTERM, SHORT_MS);
	ms = trun_now_ms() - t0;
	ok(rc == -1 && !h.running && WIFSIGNALED(h.status) && WTERMSIG(h.status) == SIGKILL &&
	   ms >= SHORT_MS, "stop gives up after its grace, kills and reaps it (%d, %llu ms)", rc,
	   (unsigned long long)ms);
	tlib_host_free(&h);

	/* stdout and stderr collected; waits anywhere in either; exit code. */
	ok(sh(&h, &both, "echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 3"),
	   "a host with both outputs collected is started");
	ok(tlib_host_find_line(&h, true, "err2", line, sizeof(line), TLIB_READY_MS) &&
	   strcmp(line, "err2") == 0, "a line on stderr is found");
	ok(tlib_host_wait(&h, false, "out2", TLIB_READY_MS) &&
	   tlib_host_wait_lines(&h, false, 2, TLIB_READY_MS), "text and lines on stdout");
	ok(!tlib_host_wait_lines(&h, false, 3, TLIB_READY_MS),
	   "a third line that cannot come: fails once stdout has ended");
	started = tlib_host_wait_exit(&h, TLIB_READY_MS);
	ok(started && tlib_exit_code(h.status) == 3 && !tlib_host_alive(&h),
	   "its exit is seen, with its code (%d)", tlib_exit_code(h.status));
	ok(strcmp(h.out, "out1\nout2\n") == 0 && strcmp(h.err, "err1\nerr2\n") == 0,
	   "everything it wrote was kept, each stream apart");
	tlib_host_free(&h);

	/* The shim asked for: LD_PRELOAD is what the host sees. */
	setenv("SOCKAUDIT_SHIM", "/nonexistent/libsockaudit.so", 1);
	{
		const struct tlib_spawn shim = { .shim = true, .ready = "ready" };

		ok(sh(&h, &shim, "echo \"ready preload=$LD_PRELOAD\"") &&
		   strcmp(h.ready, "ready preload=/nonexistent/libsockaudit.so") == 0,
		   "under the shim, LD_PRELOAD names it (%s)", h.ready);
		tlib_host_free(&h);
	}
	setenv("LD_PRELOAD", "", 1);
	ok(sh(&h, &ready, "echo \"ready preload=${LD_PRELOAD-unset}\"") &&
	   strcmp(h.ready, "ready preload=unset") == 0,
	   "without the shim, LD_PRELOAD is unset (%s)", h.ready);
	unsetenv("LD_PRELOAD");
	tlib_host_free(&h);
}

static void cli_cases(void)
{
	struct trun r;
	const char *say[] = { "-c", "echo 'sockaudit: bad pid' >&2; exit 2", NULL };
	const char *two[] = { "-c", "echo 'sockaudit: one' >&2; echo two >&2; exit 2", NULL };
	const char *out[] = { "-c", "echo '{}'; echo 'sockaudit: x' >&2; exit 2", NULL };
	const char *json[] = { "-c", "echo '{\"a\": {\"b\": 4}}'", NULL };
	const char *slow[] = { "-c", "exec sleep 60", NULL };
	json_object *o;

	/* Any program stands in for the CLI: the checks are on its output. */
	tlib_set_cli("/bin/sh");
	ok(tlib_cli(&r, say) && tlib_cli_error(&r, "bad pid") && tlib_err_lines(&r) == 1,
	   "one \"sockaudit: \" line and exit 2 is an error");
	ok(!tlib_cli_error(&r, "something else"), "... but not the one expected");
	trun_free(&r);
	ok(tlib_cli(&r, two) && !tlib_cli_error(&r, NULL) && tlib_err_lines(&r) == 2,
	   "two lines on stderr are not one clear message");
	trun_free(&r);
	ok(tlib_cli(&r, out) && !tlib_cli_error(&r, NULL), "nor is an error with stdout");
	trun_free(&r);
	o = tlib_cli_json(&r, json);
	ok(o && tj_int(o, "a.b", -1) == 4 && r.status == 0, "JSON from stdout, read by path");
	json_object_put(o);
	trun_free(&r);
	o = tlib_cli_json(&r, say);
	ok(!o, "no JSON on stdout: NULL");
	trun_free(&r);
	tlib_cli_ms = SHORT_MS;
	ok(tlib_cli(&r, slow) && r.timed_out && r.signaled, "a run past its deadline is killed");
	trun_free(&r);
	tlib_cli_ms = TLIB_CLI_MS;
}

static bool flag;

static bool is_set(void *arg)
{
	(void)arg;
	return flag;
}

int main(void)
{
	char *base;
	const char *dir;

	kv_cases();
	if (asprintf(&base, "%s/tlib-work", tlib_env("TLIB_WORK_BASE")) < 0)
		bail("out of memory");
	dir = tlib_case_dir(base, "self");
	ok(dir[0] == '/' && strcmp(getenv("SOCKAUDIT_DIR"), dir) == 0 && !getenv("LD_PRELOAD"),
	   "the case directory is absolute and exported as SOCKAUDIT_DIR (%s)", dir);
	host_cases();
	cli_cases();
	ok(!tlib_poll(is_set, NULL, 50), "a condition that never holds: poll fails");
	flag = true;
	ok(tlib_poll(is_set, NULL, 50), "one that holds: poll succeeds");
	free(base);
	return tlib_finish(tap_done());
}
