/* sockaudit report <pid>: which sockets a process holds, which of them look
 * leaked, and the code that opened them. See report.h for the pipeline and
 * sockaudit(1) for the options and exit codes. */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "render/render.h"
#include "report/build.h"
#include "report/collect.h"
#include "report/host.h"
#include "util/util.h"

static const char report_usage[] =
	"usage: sockaudit report [options] <pid>\n"
	"       sockaudit report [options] -A\n"
	"  -A, --all-processes every audited process the caller may read, in any\n"
	"                      namespace (schema sockaudit.host/1 with --json)\n"
	"  --json              machine-readable output (schema sockaudit.report/1)\n"
	"  --all               list sockets that are not flagged too\n"
	"  --close-wait D      flag CLOSE_WAIT held for at least D (default 5s)\n"
	"  --idle D            flag ESTABLISHED without data for at least D (default 60s)\n"
	"  --threshold D       both of the above (each given on its own wins)\n"
	"  --exit-code N       exit status when something is flagged (default 1)\n"
	"  --color WHEN        auto, always or never (auto honours NO_COLOR)\n"
	"durations: 250ms, 5s, 1.5s, 1m30s, 1h (a bare number is ms)\n";

static void parse_args(struct report_opts *o, int argc, char **argv, int *pid, bool *every)
{
	static const struct option opts[] = {
		{ "all-processes", no_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "close-wait", required_argument, NULL, 'c' },
		{ "idle", required_argument, NULL, 'i' },
		{ "threshold", required_argument, NULL, 't' },
		{ "exit-code", required_argument, NULL, 'e' },
		{ "color", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	report_opts_init(o);
	opterr = 0;
	*every = false;
	while ((c = getopt_long(argc, argv, ":jahA", opts, NULL)) != -1) {
		switch (c) {
		case 'A':
			*every = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'a':
			o->all = true;
			break;
		case 'c':
			o->leak.close_wait_ms = report_opt_duration("report", "close-wait", optarg);
			o->close_wait_set = true;
			break;
		case 'i':
			o->leak.idle_ms = report_opt_duration("report", "idle", optarg);
			o->idle_set = true;
			break;
		case 't':
			o->threshold_ms = report_opt_duration("report", "threshold", optarg);
			o->threshold_set = true;
			break;
		case 'e':
			o->exit_code = report_opt_exit_code("report", optarg);
			break;
		case 'C':
			o->color = report_opt_color("report", optarg);
			break;
		case 'h':
			fputs(report_usage, stdout);
			exit(EXIT_CLEAN);
		default:
			report_opt_bad("report", c, optopt, argv, optind);
		}
	}
	report_opts_finish(o);
	if (*every) {
		if (optind != argc)
			die("report: -A reports every audited process: no pid expected, got '%s'",
			    argv[optind]);
		return;
	}
	if (optind + 1 != argc)
		die("report: expected one pid, got %s",
		    optind < argc ? "more than one argument" : "nothing");
	if (parse_pid(argv[optind], pid) < 0)
		die("report: '%s' is not a pid", argv[optind]);
}

/* One process's report, rendered to stdout. */
static int report_run(struct report_build *b)
{
	int status;

	report_build_read_or_die(b);
	report_build_make(b);
	if (b->rep.opts.json)
		render_json(stdout, &b->rep);
	else
		render_text(stdout, &b->rep, report_use_color(b->rep.opts.color));
	if (fflush(stdout) != 0 || ferror(stdout))
		die("cannot write the report: %s", strerror(errno));
	status = report_build_status(b);
	report_build_finish(b);
	return status;
}

/* A rendering into memory (malloc'ed, NUL-terminated). */
static char *render_to_string(const struct report *rep, bool json, bool color)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		die("report: out of memory");
	if (json)
		render_json(f, rep);
	else
		render_text(f, rep, color);
	if (fclose(f) != 0)
		die("report: out of memory");
	return buf;
}

static void host_ok(struct report_build *b, void *arg)
{
	struct report_host *h = arg;
	struct report_host_proc *p = report_host_add(h, b->rep.tgt.pid, b->rep.tgt.comm);

	p->status = report_build_status(b);
	p->json = render_to_string(&b->rep, true, false);
	if (!h->opts.json)
		p->text = render_to_string(&b->rep, false, report_use_color(h->opts.color));
	report_host_take(h, p, &b->rep);
}

static void host_bad(const struct target *t, int rc, const char *err, void *arg)
{
	struct report_host *h = arg;
	struct report_host_proc *p = report_host_add(h, t->pid, t->comm);

	(void)rc;
	p->status = EXIT_ERROR;
	snprintf(p->error, sizeof(p->error), "%s", err);
	report_host_fail(h);
}

/* report -A: every audited process the caller may read (root: the host),
 * one sock_diag dump per network namespace, in this process
 * (report/collect.h). */
static int report_all(const struct report_opts *o)
{
	struct report_host h;
	struct collector *c = collector_create();
	struct collect_opts co = { .report = *o };
	struct collect_stats st;
	int status;

	memset(&h, 0, sizeof(h));
	h.opts = *o;
	co.report.exit_code = EXIT_FLAGGED;
	collect_run(c, &co, host_ok, host_bad, &h, &st);
	h.netns = st.netns;
	report_host_sort(&h);
	if (o->json)
		render_host_json(stdout, &h);
	else
		render_host_text(stdout, &h, report_use_color(o->color));
	if (fflush(stdout) != 0 || ferror(stdout))
		die("cannot write the report: %s", strerror(errno));
	status = h.flagged ? o->exit_code : EXIT_CLEAN;
	report_host_finish(&h);
	collector_destroy(c);
	return status;
}

int cmd_report(int argc, char **argv)
{
	struct report_build b;
	bool every;
	int pid, status;

	memset(&b, 0, sizeof(b));
	parse_args(&b.rep.opts, argc, argv, &pid, &every);
	if (every)
		return report_all(&b.rep.opts);
	target_resolve(&b.rep.tgt, pid, NULL);
	/* Live frames from the files the process mapped, by build-id. */
	b.sh.symcache = report_symcache_create();
	status = report_run(&b);
	report_symcache_destroy(b.sh.symcache);
	return status;
}
