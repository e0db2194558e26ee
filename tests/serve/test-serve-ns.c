/* sockaudit serve over a process in a container: started with the shim in
 * its own pid and mount namespaces with a private tmpfs on /dev/shm, its
 * table where only that tmpfs has it. serve, run from the host, walks
 * processes as `report -A` does and publishes it under the pid we see,
 * with its flagged socket's site.
 *
 * Needs root (unshare, mount); where CI is set a skip is a failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"
#include "tlib.h"

/* Polled with a deadline: the CLOSE_WAIT must age past --close-wait. */
static char *page_with(const char *path, const char *want)
{
	const char *args[] = { "serve", "--textfile", path, "--once", "--close-wait", "200ms",
			       NULL };
	uint64_t deadline = trun_now_ms() + TLIB_POLL_MS;
	struct trun r;

	for (;;) {
		char *text;

		if (tlib_cli(&r, args) && r.status == 0) {
			text = tlib_slurp(path);
			if (strstr(text, want)) {
				trun_free(&r);
				return text;
			}
			free(text);
		}
		if (trun_now_ms() >= deadline) {
			diag("no page with %s within %d ms; exit %d, stderr: %s", want, TLIB_POLL_MS,
			     r.status, tlib_oneline(r.err));
			trun_free(&r);
			return NULL;
		}
		trun_free(&r);
		tlib_pause_ms(100);
	}
}

static void case_contained(unsigned flags, const char *name)
{
	const char *dir = tlib_case_dir(tlib_env("SV_TABLES"), name);
	char path[4200], want[512], sockets[256];
	struct tlib_host p;
	pid_t host;
	char *page;
	long line;

	if (!ok(tlib_host_contained(&p, tlib_path("RT_BIN_DIR", "sc-closewait"), flags, &host),
		"%s: scenario ready inside its namespaces", name))
		return;
	line = tlib_ready_int(&p, "line");
	ok(tlib_host_command(&p, "close", "closed"), "%s: server side closed", name);
	snprintf(path, sizeof(path), "%s/page.prom", dir);
	snprintf(want, sizeof(want), "sockaudit_flagged_sockets{pid=\"%d\",comm=\"sc-closewait\","
		 "kind=\"close-wait\",site=\"leak_client sc-closewait.c:%ld\"} 1", (int)host, line);
	snprintf(sockets, sizeof(sockets), "sockaudit_sockets{pid=\"%d\",comm=\"sc-closewait\","
		 "state=\"CLOSE_WAIT\"} 1", (int)host);
	page = page_with(path, want);
	ok(page != NULL, "%s: serve publishes the contained process's flagged socket under pid %d, "
	   "with its site leak_client sc-closewait.c:%ld", name, (int)host, line);
	ok(page && strstr(page, sockets), "%s: and its CLOSE_WAIT socket by state", name);
	free(page);
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
