/* opts: the options `report`, `list` and `run` share (the leak rule's
 * thresholds, --exit-code, --color) and their parsing. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "report/leak.h"

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
