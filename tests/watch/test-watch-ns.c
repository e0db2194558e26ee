/* sockaudit watch over a process in a container: started with the shim in
 * its own pid and mount namespaces with a private tmpfs on /dev/shm.
 * `watch PID` (the pid we see) and `watch -A`, run from the host, find its
 * table through its root and show its flagged group with its site.
 *
 * Needs root (unshare, mount); where CI is set a skip is a failure. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"
#include "tlib.h"

/* watch runs until killed: it is given this long, then its lines read. */
#define WATCH_RUN_MS 3000

static bool matches(const char *text, const char *pattern)
{
	regex_t re;
	bool m;

	if (regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE | REG_NOSUB) != 0)
		bail("bad pattern %s", pattern);
	m = regexec(&re, text, 0, NULL, 0) == 0;
	regfree(&re);
	return m;
}

static void watch_shows(const char *name, const char *const *args, const char *pattern,
			const char *what)
{
	struct trun r;
	int saved = tlib_cli_ms;

	tlib_cli_ms = WATCH_RUN_MS;
	ok(tlib_cli(&r, args) && r.timed_out && matches(r.out, pattern), "%s: %s", name, what);
	if (!r.timed_out || !matches(r.out, pattern))
		diag("exit %d, stdout: %s, stderr: %s", r.status, tlib_oneline(r.out),
		     tlib_oneline(r.err));
	tlib_cli_ms = saved;
	trun_free(&r);
}

static void case_contained(unsigned flags, const char *name)
{
	char pidarg[16], one[512], all[512];
	struct tlib_host p;
	pid_t host;
	long line;

	tlib_case_dir(tlib_env("WT_TABLES"), name);
	if (!ok(tlib_host_contained(&p, tlib_path("RT_BIN_DIR", "sc-closewait"), flags, &host),
		"%s: scenario ready inside its namespaces", name))
		return;
	line = tlib_ready_int(&p, "line");
	ok(tlib_host_command(&p, "close", "closed"), "%s: server side closed", name);
	snprintf(pidarg, sizeof(pidarg), "%d", (int)host);
	/* The group line once the CLOSE_WAIT has aged past --close-wait. */
	snprintf(one, sizeof(one), "^  held 1 flagged 1 opened/closed/by-gc .* leak_client "
		 "sc-closewait\\.c:%ld$", line);
	snprintf(all, sizeof(all), "^  pid %d \\(sc-closewait\\) held [0-9]+ flagged 1 \\[.*\\] "
		 "leak_client sc-closewait\\.c:%ld$", (int)host, line);
	{
		const char *args[] = { "watch", "--plain", "--interval", "200ms", "--close-wait",
				       "200ms", pidarg, NULL };

		watch_shows(name, args, one, "watch PID shows its flagged group and site");
	}
	{
		const char *args[] = { "watch", "-A", "--plain", "--interval", "200ms",
				       "--close-wait", "200ms", NULL };

		watch_shows(name, args, all, "watch -A has a row for it with its site");
	}
	ok(tlib_host_stop(&p, 0, TLIB_GRACE_MS) == 0, "%s: scenario and its namespaces exit on EOF",
	   name);
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	tlib_require_root("namespaces with a private /dev/shm need root (unshare, mount)");
	case_contained(0, "pidmnt");
	case_contained(TLIB_NS_USER, "userns");
	return tlib_finish(tap_done());
}
