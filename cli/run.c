/* sockaudit run [options] -- CMD [ARGS]: run CMD and every process it
 * starts under the shim, watch their sockets while they run, and fail the
 * build on a leak. See run.h for the pieces, sockaudit(1) for the options
 * and docs/ci.md for CI use.
 *
 * Exit status: 128 + the signal when the run was cancelled (SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT); CMD's own when it failed (its code, or 128 +
 * signal), so a failing test suite is never hidden behind a leak verdict;
 * else --exit-code (1) when a group fails the gate; else 0. sockaudit's
 * own errors exit 2 with one line on stderr.
 */
#include "run/findings.h"
#include "run/model.h"
#include "run/poll.h"
#include "run/render.h"
#include "run/spawn.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "run/baseline.h"
#include "commands.h"
#include "render/render.h"
#include "run/sarif.h"
#include "run/suppress.h"
#include "util/util.h"
#ifdef SOCKAUDIT_HAVE_EBPF
#include "trace/session.h"
#else
struct tr_background;
#endif

static const char run_usage[] =
	"usage: sockaudit run [options] -- CMD [ARGS]\n"
	"  --close-wait D        fail on CLOSE_WAIT held for at least D (default 5s)\n"
	"  --idle D              fail on ESTABLISHED without data for at least D (default 60s)\n"
	"  --threshold D         both of the above (each given on its own wins)\n"
	"  --interval D          how often the tree is polled (default 250ms)\n"
	"  --fail-on LIST        findings that fail: close-wait,idle,at-exit,rescued\n"
	"                        (default close-wait,idle,rescued)\n"
	"  --exit-code N         exit status when a finding fails (default 1)\n"
	"  --json FILE           the report as JSON (schema sockaudit.run/1)\n"
	"  --sarif FILE          the report as SARIF 2.1.0\n"
	"  --suppressions FILE   suppression entries (repeatable; format in docs/ci.md)\n"
	"  --gen-suppressions    print a ready suppression entry under each finding\n"
	"  --baseline FILE       fail only on stacks not in this earlier --json report\n"
	"  --preload PATH        the shim to preload (default: found beside sockaudit)\n"
	"  --kill-after D        once cancelled, SIGKILL the tree after D (default 10s)\n"
	"  --no-recorder         do not record Go and static programs from the kernel\n"
	"  --color WHEN          auto, always or never (the report goes to stderr)\n"
	"durations: 250ms, 5s, 1.5s, 1m30s, 1h (a bare number is ms)\n"
	"exit status: 128 + signal when cancelled, CMD's when it failed, else 1 on a failing\n"
	"finding, else 0; 2 on errors\n";

static void parse_args(struct run_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "close-wait", required_argument, NULL, 'c' },
		{ "idle", required_argument, NULL, 'i' },
		{ "threshold", required_argument, NULL, 't' },
		{ "interval", required_argument, NULL, 'I' },
		{ "fail-on", required_argument, NULL, 'f' },
		{ "exit-code", required_argument, NULL, 'e' },
		{ "json", required_argument, NULL, 'j' },
		{ "sarif", required_argument, NULL, 's' },
		{ "suppressions", required_argument, NULL, 'S' },
		{ "gen-suppressions", no_argument, NULL, 'g' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "preload", required_argument, NULL, 'p' },
		{ "kill-after", required_argument, NULL, 'k' },
		{ "no-recorder", no_argument, NULL, 'R' },
		{ "color", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	report_opts_init(&o->rep);
	o->interval_ms = RUN_DEFAULT_INTERVAL_MS;
	o->kill_after_ms = RUN_DEFAULT_KILL_AFTER_MS;
	o->fail_on = RUN_FAIL_DEFAULT;
	opterr = 0;
	/* '+': options end at CMD, whose own options are not ours. */
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->rep.leak.close_wait_ms = report_opt_duration("run", "close-wait", optarg);
			o->rep.close_wait_set = true;
			break;
		case 'i':
			o->rep.leak.idle_ms = report_opt_duration("run", "idle", optarg);
			o->rep.idle_set = true;
			break;
		case 't':
			o->rep.threshold_ms = report_opt_duration("run", "threshold", optarg);
			o->rep.threshold_set = true;
			break;
		case 'I':
			o->interval_ms = report_opt_duration("run", "interval", optarg);
			if (!o->interval_ms)
				die("run: --interval must be at least 1ms");
			break;
		case 'f':
			if (run_kind_list_parse(optarg, &o->fail_on, false) < 0)
				die("run: bad value '%s' for --fail-on (a list of close-wait, idle, "
				    "at-exit, rescued)", optarg);
			break;
		case 'e':
			o->rep.exit_code = report_opt_exit_code("run", optarg);
			break;
		case 'j':
			o->json_path = optarg;
			break;
		case 's':
			o->sarif_path = optarg;
			break;
		case 'S':
			o->supp_paths = xrealloc(o->supp_paths,
						 (o->nsupp + 1) * sizeof(o->supp_paths[0]));
			o->supp_paths[o->nsupp++] = optarg;
			break;
		case 'g':
			o->gen_suppressions = true;
			break;
		case 'b':
			o->baseline_path = optarg;
			break;
		case 'p':
			o->preload = optarg;
			break;
		case 'k':
			o->kill_after_ms = report_opt_duration("run", "kill-after", optarg);
			break;
		case 'R':
			o->no_recorder = true;
			break;
		case 'C':
			o->rep.color = report_opt_color("run", optarg);
			break;
		case 'h':
			fputs(run_usage, stdout);
			exit(EXIT_CLEAN);
		default:
			report_opt_bad("run", c, optopt, argv, optind);
		}
	}
	report_opts_finish(&o->rep);
	if (optind >= argc)
		die("run: no command given (sockaudit run [options] -- CMD [ARGS])");
	o->cmd = argv + optind;
}

/* Everything that can be wrong with the options is found before CMD runs. */
static void load_inputs(const struct run_opts *o, struct supp_set *supp, struct baseline *base)
{
	char err[600];

	for (size_t i = 0; i < o->nsupp; i++)
		if (supp_load_file(supp, o->supp_paths[i], err, sizeof(err)) < 0)
			die("run: --suppressions %s", err);
	if (o->baseline_path && baseline_load(base, o->baseline_path, err, sizeof(err)) < 0)
		die("run: %s", err);
}

static void write_json_file(const char *what, const char *path, json_object *doc)
{
	int rc = json_object_to_file_ext(path, doc, JSON_C_TO_STRING_PRETTY |
					 JSON_C_TO_STRING_NOSLASHESCAPE);

	json_object_put(doc);
	if (rc < 0)
		die("run: cannot write the %s to %s: %s", what, path, json_util_get_last_err());
}

#ifdef SOCKAUDIT_HAVE_EBPF
/* The kernel-side recorder for the processes the shim cannot enter (Go,
 * static binaries), when this build has it and privileges allow. */
static struct tr_background *recorder;

static void recorder_track(void *arg, pid_t pid)
{
	tr_background_track(arg, pid);
}

static void recorder_ready(void *arg)
{
	tr_background_pump(arg);
}
#endif

static void recorder_start(struct run_state *rs)
{
#ifdef SOCKAUDIT_HAVE_EBPF
	char err[512];

	if (rs->opts.no_recorder)
		return;
	recorder = tr_background_start(rs->dir, rs->run_id, err, sizeof(err));
	if (recorder) {
		rs->on_child = recorder_track;
		rs->on_child_arg = recorder;
		rs->ready_fd = tr_background_fd(recorder);
		rs->on_ready = recorder_ready;
		return;
	}
	notes_add(&rs->notes, "Go and static programs in the tree are not recorded (their "
		  "sockets have no stacks): the kernel-side recorder is off: %s", err);
#else
	(void)rs;
#endif
}

static void recorder_pump(void)
{
#ifdef SOCKAUDIT_HAVE_EBPF
	if (recorder)
		tr_background_pump(recorder);
#endif
}

static void watch(struct run_state *rs)
{
	for (;;) {
		uint64_t next = now_monotonic_ms() + rs->opts.interval_ms, now;
		bool more = true;

		recorder_pump();
		run_poll(rs, false);
		while (more && (now = now_monotonic_ms()) < next)
			more = run_spawn_wait(rs, next - now);
		if (!more)
			break;
	}
	/* Tables of processes that came and went since the last poll, with
	 * every event the recorder still has applied first. */
	recorder_pump();
	run_poll(rs, true);
#ifdef SOCKAUDIT_HAVE_EBPF
	tr_background_stop(recorder);
	recorder = NULL;
	rs->on_ready = NULL;
#endif
}

int cmd_run(int argc, char **argv)
{
	struct run_state rs;
	struct supp_set supp = { 0 };
	struct baseline base = { 0 };

	memset(&rs, 0, sizeof(rs));
	rs.sigfd = -1;
	parse_args(&rs.opts, argc, argv);
	load_inputs(&rs.opts, &supp, &base);
	run_spawn_prepare(&rs);
	recorder_start(&rs);
	run_spawn_start(&rs);
	watch(&rs);

	run_findings_build(&rs, &supp, rs.opts.baseline_path ? &base : NULL);
	if (rs.cancel_signal) {
		/* Only SIGINT, SIGTERM, SIGHUP and SIGQUIT cancel: all named. */
		notes_add(&rs.notes, "the run was cancelled by SIG%s: its findings are of a tree "
			  "stopped early", sigabbrev_np(rs.cancel_signal));
		if (rs.tree_killed)
			notes_add(&rs.notes, "what was left of the tree was killed with SIGKILL");
		rs.exit_status = 128 + rs.cancel_signal;
	} else if (rs.cmd_status != 0)
		rs.exit_status = rs.cmd_status;
	else if (rs.nfailing)
		rs.exit_status = rs.opts.rep.exit_code;
	else
		rs.exit_status = EXIT_CLEAN;

	run_render_text(stderr, &rs, report_use_color_fd(rs.opts.rep.color, STDERR_FILENO));
	fflush(stderr);
	if (rs.opts.json_path)
		write_json_file("JSON report", rs.opts.json_path, run_render_json(&rs));
	if (rs.opts.sarif_path)
		write_json_file("SARIF report", rs.opts.sarif_path, sarif_build(&rs));

	run_findings_finish(&rs);
	HASH_CLEAR(hh, rs.by_name);
	for (size_t i = 0; i < rs.nprocs; i++)
		run_proc_destroy(rs.procs[i]);
	free(rs.procs);
	notes_finish(&rs.notes);
	free(rs.reaped);
	free(rs.opts.supp_paths);
	supp_set_finish(&supp);
	baseline_finish(&base);
	if (rs.sigfd >= 0)
		close(rs.sigfd);
	run_spawn_cleanup(&rs);
	return rs.exit_status;
}
