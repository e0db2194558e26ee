/* rt: the report scenario tests' names for the shared harness
 * (tests/lib/tlib.h) and the report-document lookups (tests/lib/tjson.h).
 * Only test-report.c uses them; new code calls tlib_ and tj_ directly.
 *
 * Environment (set by tests/report/meson.build):
 *   SOCKAUDIT        the CLI under test
 *   SOCKAUDIT_SHIM   libsockaudit.so, put in LD_PRELOAD for instrumented targets
 *   RT_BIN_DIR       where the scenario programs were built
 *   RT_SRC_DIR       tests/report in the source tree (the Python scenario)
 *   RT_TABLES        where each case makes its own table directory
 */
#pragma once

#include "tlib.h"

#define RT_READY_MS TLIB_READY_MS
#define RT_RUN_MS   TLIB_CLI_MS
#define RT_POLL_MS  TLIB_POLL_MS
#define RT_JIFFY_MS TLIB_JIFFY_MS

#define rt_proc tlib_host

/* A fresh $RT_TABLES/<name>.XXXXXX, exported as SOCKAUDIT_DIR. */
static inline const char *rt_case_dir(const char *name)
{
	return tlib_case_dir(tlib_env("RT_TABLES"), name);
}

static inline char *rt_bin(const char *name)
{
	return tlib_path("RT_BIN_DIR", name);
}

static inline char *rt_src(const char *name)
{
	return tlib_path("RT_SRC_DIR", name);
}

#define rt_spawn tlib_host_ready

/* Close its stdin and reap it (SIGKILL after a grace period). True when it
 * exited with status 0. */
static inline bool rt_stop(struct tlib_host *p)
{
	return tlib_host_stop(p, 0, TLIB_GRACE_MS) == 0;
}

#define rt_command       tlib_host_command
#define rt_ready_int     tlib_ready_int
#define rt_ready_str     tlib_ready_str
#define rt_kill          tlib_host_kill
#define rt_set_runner    tlib_set_runner
#define rt_sockaudit     tlib_cli
#define rt_err_lines     tlib_err_lines
#define rt_report        tlib_report
#define rt_write_file    tlib_write_file
#define rt_free_pid      tlib_free_pid
#define rt_group_with_fd tj_group_with_fd
#define rt_sock_with_fd  tj_sock_with_fd
#define rt_grouped_sock  tj_grouped_sock
#define rt_frame_is      tj_frame_is
#define rt_last_frame_is tj_last_frame_is
