/* opts: options `report` and `list` share, each failure one line on
 * stderr and exit 2 (sockaudit(1)). getopt_long's own messages are turned
 * off (opterr = 0) so that a bad flag is still exactly one line. */
#include "report/opts.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

void report_opts_init(struct report_opts *o)
{
	memset(o, 0, sizeof(*o));
	leak_opts_default(&o->leak);
	o->color = REPORT_COLOR_AUTO;
	o->exit_code = EXIT_FLAGGED;
}

uint64_t report_opt_duration(const char *cmd, const char *opt, const char *arg)
{
	uint64_t ms;

	if (parse_duration_ms(arg, &ms) < 0)
		die("%s: bad duration '%s' for --%s (use e.g. 250ms, 5s, 2m, 1h)", cmd, arg, opt);
	return ms;
}

enum report_color report_opt_color(const char *cmd, const char *arg)
{
	if (strcmp(arg, "auto") == 0)
		return REPORT_COLOR_AUTO;
	if (strcmp(arg, "always") == 0)
		return REPORT_COLOR_ALWAYS;
	if (strcmp(arg, "never") == 0)
		return REPORT_COLOR_NEVER;
	die("%s: bad value '%s' for --color (auto, always or never)", cmd, arg);
}

int report_opt_exit_code(const char *cmd, const char *arg)
{
	char *end;
	long v;

	if (!arg[0] || arg[0] < '0' || arg[0] > '9')
		die("%s: bad value '%s' for --exit-code (0..255)", cmd, arg);
	v = strtol(arg, &end, 10);
	if (*end || v < 0 || v > 255)
		die("%s: bad value '%s' for --exit-code (0..255)", cmd, arg);
	return (int)v;
}

void report_opts_finish(struct report_opts *o)
{
	if (!o->threshold_set)
		return;
	if (!o->close_wait_set)
		o->leak.close_wait_ms = o->threshold_ms;
	if (!o->idle_set)
		o->leak.idle_ms = o->threshold_ms;
}

void report_opt_bad(const char *cmd, int c, int optopt_, char **argv, int optind_)
{
	const char *arg = optind_ > 0 ? argv[optind_ - 1] : "?";

	if (c == ':')
		die("%s: option '%s' needs a value (see sockaudit %s --help)", cmd, arg, cmd);
	/* A known long option given a value it does not take: "--json=yes". */
	if (optopt_ && arg[0] == '-' && arg[1] == '-' && strchr(arg, '='))
		die("%s: option '%.*s' takes no value (see sockaudit %s --help)", cmd,
		    (int)(strchr(arg, '=') - arg), arg, cmd);
	if (optopt_ && !(arg[0] == '-' && arg[1] == '-'))
		die("%s: unknown option '-%c' (see sockaudit %s --help)", cmd, optopt_, cmd);
	die("%s: unknown option '%s' (see sockaudit %s --help)", cmd, arg, cmd);
}

bool report_use_color(enum report_color c)
{
	return report_use_color_fd(c, STDOUT_FILENO);
}

bool report_use_color_fd(enum report_color c, int fd)
{
	const char *no = getenv("NO_COLOR");

	if (c == REPORT_COLOR_ALWAYS)
		return true;
	if (c == REPORT_COLOR_NEVER)
		return false;
	/* no-color.org: present and not empty disables color. */
	if (no && no[0])
		return false;
	return isatty(fd) == 1;
}
