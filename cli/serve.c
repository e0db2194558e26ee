/* sockaudit serve: the metrics of every audited process the caller may
 * read, over HTTP for Prometheus or into a textfile for node_exporter. See
 * sockaudit(1) and docs/monitoring.md. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "report/opts.h"
#include "serve/serve.h"
#include "table-reader.h"
#include "util/util.h"

static const char serve_usage[] =
	"usage: sockaudit serve [options]\n"
	"  --listen ADDR:PORT  serve /metrics over HTTP (default " SERVE_DEFAULT_LISTEN ";\n"
	"                      numeric address, [::1]:PORT for IPv6, port 0: any free one)\n"
	"  --textfile PATH     write the page to PATH instead, atomically, every --interval\n"
	"  --interval D        how often --textfile writes (default 15s)\n"
	"  --once              with --textfile: write once and exit\n"
	"  --min-interval D    a scrape within D of the last collection gets that page\n"
	"                      (default 1s; 0: every scrape collects)\n"
	"  --top N             sites per process before the rest add up as site=\"other\"\n"
	"                      (default 10, 1..1000)\n"
	"  --close-wait D      flag CLOSE_WAIT held for at least D (default 5s)\n"
	"  --idle D            flag ESTABLISHED without data for at least D (default 60s)\n"
	"durations: 250ms, 5s, 1.5s, 1m30s, 1h (a bare number is ms)\n";

struct serve_args {
	const char *listen;
	const char *textfile;
	uint64_t interval_ms;
	bool once;
	uint64_t min_interval_ms;
	bool min_interval_set;
	struct scrape_opts host;
};

static void parse_args(struct serve_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "textfile", required_argument, NULL, 'f' },
		{ "interval", required_argument, NULL, 'n' },
		{ "once", no_argument, NULL, 'o' },
		{ "min-interval", required_argument, NULL, 'm' },
		{ "top", required_argument, NULL, 'T' },
		{ "close-wait", required_argument, NULL, 'c' },
		{ "idle", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool interval_set = false;
	char *end;
	long top;
	int c;

	memset(a, 0, sizeof(*a));
	leak_opts_default(&a->host.leak);
	a->host.top_sites = 10;
	a->interval_ms = 15000;
	a->min_interval_ms = SERVE_DEFAULT_MIN_INTERVAL_MS;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			a->listen = optarg;
			break;
		case 'f':
			a->textfile = optarg;
			break;
		case 'n':
			a->interval_ms = report_opt_duration("serve", "interval", optarg);
			interval_set = true;
			break;
		case 'o':
			a->once = true;
			break;
		case 'm':
			a->min_interval_ms = report_opt_duration("serve", "min-interval", optarg);
			a->min_interval_set = true;
			break;
		case 'T':
			errno = 0;
			top = strtol(optarg, &end, 10);
			if (!*optarg || *end || errno || top < 1 || top > 1000)
				die("serve: --top '%s': expected a number from 1 to 1000", optarg);
			a->host.top_sites = (size_t)top;
			break;
		case 'c':
			a->host.leak.close_wait_ms = report_opt_duration("serve", "close-wait", optarg);
			break;
		case 'i':
			a->host.leak.idle_ms = report_opt_duration("serve", "idle", optarg);
			break;
		case 'h':
			fputs(serve_usage, stdout);
			exit(EXIT_CLEAN);
		default:
			report_opt_bad("serve", c, optopt, argv, optind);
		}
	}
	if (optind != argc)
		die("serve: unexpected argument '%s'", argv[optind]);
	if (a->listen && a->textfile)
		die("serve: --listen and --textfile exclude each other: run one of each");
	if ((a->once || interval_set) && !a->textfile)
		die("serve: --%s goes with --textfile", a->once ? "once" : "interval");
	if (a->min_interval_set && a->textfile)
		die("serve: --min-interval goes with --listen (--textfile writes every --interval)");
	if (a->textfile && !a->textfile[0])
		die("serve: --textfile needs a path");
	if (interval_set && a->interval_ms < 1000)
		die("serve: --interval must be at least 1s");
}

/* SIGINT and SIGTERM end the command; blocked here, before any thread
 * starts, and taken with sigwait/sigtimedwait. */
static sigset_t stop_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	return set;
}

static int run_textfile(const struct serve_args *a, const sigset_t *stop)
{
	struct scrape_cache *cache = scrape_cache_create();
	char err[512];
	int status = EXIT_CLEAN;

	for (;;) {
		struct timespec wait = { (time_t)(a->interval_ms / 1000),
					 (long)(a->interval_ms % 1000) * 1000000L };

		if (serve_write_textfile(a->textfile, &a->host, cache, err, sizeof(err)) < 0) {
			/* Once: an error is the answer. Periodic: say it, try again. */
			fprintf(stderr, "sockaudit serve: %s\n", err);
			if (a->once) {
				status = EXIT_ERROR;
				break;
			}
		}
		if (a->once || sigtimedwait(stop, NULL, &wait) >= 0)
			break;
	}
	scrape_cache_destroy(cache);
	return status;
}

int cmd_serve(int argc, char **argv)
{
	struct serve_args a;
	struct serve_opts so = { 0 };
	struct serve *s;
	sigset_t stop;
	char err[512], where[96];
	int sig;

	parse_args(&a, argc, argv);
	stop = stop_signals();
	if (a.textfile)
		return run_textfile(&a, &stop);
	if (serve_parse_listen(a.listen ? a.listen : SERVE_DEFAULT_LISTEN, &so.addr, &so.addrlen,
			       err, sizeof(err)) < 0)
		die("serve: --listen %s", err);
	so.host = a.host;
	so.min_interval_ms = a.min_interval_ms;
	s = serve_start(&so, err, sizeof(err));
	if (!s)
		die("serve: %s", err);
	serve_format_addr(&so.addr, serve_port(s), where, sizeof(where));
	fprintf(stderr, "sockaudit serve: listening on http://%s/metrics%s\n", where,
		serve_addr_is_loopback(&so.addr) ? ""
		: " (not loopback: anyone who can reach it sees the process list)");
	while (sigwait(&stop, &sig) != 0)
		;
	serve_stop(s);
	return EXIT_CLEAN;
}
