/* sockaudit watch <pid>: a live view of the process's groups; watch -A:
 * of every audited process the caller may read. See sockaudit(1). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "report/opts.h"
#include "table-reader.h"
#include "util/util.h"
#include "watch/watch.h"

static const char watch_usage[] =
	"usage: sockaudit watch [options] <pid>\n"
	"       sockaudit watch [options] -A\n"
	"  -A, --all-processes every audited process the caller may read, in any\n"
	"                      namespace: one row each\n"
	"  --interval D        refresh every D (default 1s, at least 100ms)\n"
	"  --plain             plain lines even on a terminal\n"
	"  --close-wait D      flag CLOSE_WAIT held for at least D (default 5s)\n"
	"  --idle D            flag ESTABLISHED without data for at least D (default 60s)\n"
	"q or Ctrl-C quits. Not a terminal, or NO_COLOR set: plain lines.\n"
	"durations: 250ms, 5s, 1.5s, 1m30s, 1h (a bare number is ms)\n";

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void parse_args(int argc, char **argv, struct scrape_opts *o, uint64_t *interval,
		       bool *plain, int *pid, bool *every)
{
	static const struct option opts[] = {
		{ "all-processes", no_argument, NULL, 'A' },
		{ "interval", required_argument, NULL, 'n' },
		{ "plain", no_argument, NULL, 'p' },
		{ "close-wait", required_argument, NULL, 'c' },
		{ "idle", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	leak_opts_default(&o->leak);
	o->top_sites = 10;
	o->groups = true;
	*interval = 1000;
	opterr = 0;
	*every = false;
	while ((c = getopt_long(argc, argv, ":hA", opts, NULL)) != -1) {
		switch (c) {
		case 'A':
			*every = true;
			break;
		case 'n':
			*interval = report_opt_duration("watch", "interval", optarg);
			if (*interval < 100)
				die("watch: --interval must be at least 100ms");
			break;
		case 'p':
			*plain = true;
			break;
		case 'c':
			o->leak.close_wait_ms = report_opt_duration("watch", "close-wait", optarg);
			break;
		case 'i':
			o->leak.idle_ms = report_opt_duration("watch", "idle", optarg);
			break;
		case 'h':
			fputs(watch_usage, stdout);
			exit(EXIT_CLEAN);
		default:
			report_opt_bad("watch", c, optopt, argv, optind);
		}
	}
	if (*every) {
		if (optind != argc)
			die("watch: -A watches every audited process: no pid expected, got '%s'",
			    argv[optind]);
		return;
	}
	if (optind + 1 != argc)
		die("watch: expected one pid, got %s",
		    optind < argc ? "more than one argument" : "nothing");
	if (parse_pid(argv[optind], pid) < 0)
		die("watch: '%s' is not a pid", argv[optind]);
}

static void now_text(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
}

/* Sleep ms, or less when a stop signal comes. */
static void nap(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (!stop && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* watch -A: the host, until q or a signal; processes come and go. */
static int watch_all(const struct scrape_opts *o, uint64_t interval, bool plain)
{
	struct scrape_cache *cache = scrape_cache_create();
	struct watch_history h = { 0 };
	struct scrape_report r;
	const char *nc = getenv("NO_COLOR");
	char when[16];
	bool screen;

	screen = !plain && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO) && !(nc && *nc) &&
		 watch_screen_start();
	atexit(watch_screen_stop);
	while (!stop) {
		scrape_collect(&r, o, cache);
		watch_history_add_host(&h, &r);
		if (screen) {
			watch_screen_draw_host(&r, &h, interval);
			scrape_report_finish(&r);
			if (watch_screen_wait(interval) == WATCH_KEY_QUIT)
				break;
		} else {
			now_text(when, sizeof(when));
			watch_print_plain_host(stdout, &r, &h, when);
			scrape_report_finish(&r);
			nap(interval);
		}
	}
	watch_screen_stop();
	watch_history_finish(&h);
	scrape_cache_destroy(cache);
	return EXIT_CLEAN;
}

int cmd_watch(int argc, char **argv)
{
	struct scrape_opts o;
	struct scrape_cache *cache;
	struct watch_history h = { 0 };
	struct scrape_proc p;
	struct sigaction sa = { .sa_handler = on_stop };
	const char *nc = getenv("NO_COLOR");
	uint64_t interval;
	bool plain = false, screen, every;
	char err[512], when[16];
	int pid, rc;

	parse_args(argc, argv, &o, &interval, &plain, &pid, &every);
	/* No SA_RESTART: a signal ends the wait for a key or the nap. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (every)
		return watch_all(&o, interval, plain);
	cache = scrape_cache_create();
	rc = scrape_collect_pid(&p, pid, &o, cache, err, sizeof(err));
	if (rc < 0) {
		scrape_proc_finish(&p);
		scrape_cache_destroy(cache);
		die("watch: %s", err);
	}
	screen = !plain && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO) && !(nc && *nc) &&
		 watch_screen_start();
	atexit(watch_screen_stop);
	while (!stop) {
		watch_history_add(&h, &p);
		if (screen) {
			watch_screen_draw(&p, &h, interval, NULL);
			if (watch_screen_wait(interval) == WATCH_KEY_QUIT)
				break;
		} else {
			now_text(when, sizeof(when));
			watch_print_plain(stdout, &p, &h, when);
			nap(interval);
		}
		if (stop)
			break;
		scrape_proc_finish(&p);
		rc = scrape_collect_pid(&p, pid, &o, cache, err, sizeof(err));
		if (rc < 0)
			break;
	}
	watch_screen_stop();
	if (rc == -ESRCH)
		fprintf(stderr, "sockaudit watch: pid %d exited\n", pid);
	else if (rc < 0)
		fprintf(stderr, "sockaudit watch: %s\n", err);
	scrape_proc_finish(&p);
	watch_history_finish(&h);
	scrape_cache_destroy(cache);
	/* The process ending ends the watch: that is no error. */
	return rc < 0 && rc != -ESRCH ? EXIT_ERROR : EXIT_CLEAN;
}
