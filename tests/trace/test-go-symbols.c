/* Go stacks from the binary's own pc-line table: the leaky program
 * (tests/go) built with DWARF, without (-ldflags='-s -w'), stripped, without
 * cgo and with it, each under the real `sockaudit trace`, read back with the
 * real `sockaudit report --json`.
 *
 *   test-go-symbols symbols VARIANT   open sites and the inlined frame
 *   test-go-symbols rescued VARIANT   the finalizer's closes found as rescued
 *
 * VARIANT names $TR_GO_LEAKY_<VARIANT> (tests/trace/meson.build). Expected
 * lines are read from the source (the "open site" comments of
 * $TR_GO_LEAKY_SRC), never from the binary. Needs root, as test-trace. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"
#include "tlib.h"

static char *sockaudit;
static const char *src;

static bool frame_at(json_object *fr, const char *func, long line, bool inlined)
{
	const char *file = tj_str(fr, "file");
	const char *slash = file ? strrchr(file, '/') : NULL;

	return tj_str_is(fr, "function", func) && file &&
	       strcmp(slash ? slash + 1 : file, "main.go") == 0 && tj_int(fr, "line", -1) == line &&
	       tj_bool(fr, "inlined") == inlined;
}

/* The frame index of func in group g, or -1. */
static long frame_index(json_object *g, const char *func)
{
	size_t nf = tj_len(g, "frames");

	for (size_t f = 0; f < nf; f++)
		if (tj_str_is(json_object_array_get_idx(tj_get(g, "frames"), f), "function", func))
			return (long)f;
	return -1;
}

static json_object *group_with(json_object *root, const char *func, long *idx)
{
	size_t ng = tj_len(root, "groups");

	for (size_t i = 0; i < ng; i++) {
		json_object *g = json_object_array_get_idx(tj_get(root, "groups"), i);

		if ((*idx = frame_index(g, func)) >= 0)
			return g;
	}
	return NULL;
}

static bool has_both(json_object *root)
{
	long i;

	return group_with(root, "main.dialHold", &i) && group_with(root, "main.dialInlined", &i);
}

static bool three_rescued(json_object *root)
{
	return tj_int(root, "rescued.total", 0) >= 3;
}

/* report --json of pid until cond holds: the document (caller puts) or
 * NULL at the deadline, with r's last run kept for diagnostics. */
static json_object *poll_report(pid_t pid, const char *const *extra, bool (*cond)(json_object *),
				struct trun *r)
{
	uint64_t deadline = trun_now_ms() + TLIB_POLL_MS;

	for (;;) {
		json_object *root = tlib_report(pid, extra, r);

		if (root && cond(root))
			return root;
		json_object_put(root);
		if (trun_now_ms() >= deadline) {
			diag("condition never held in %d ms; exit %d: %s", TLIB_POLL_MS, r->status,
			     r->err);
			return NULL;
		}
		trun_free(r);
		tlib_pause_ms(50);
	}
}

static bool start(struct tlib_host *h, const char *variant, const char *mode)
{
	char env[64], *bin;

	snprintf(env, sizeof(env), "TR_GO_LEAKY_%s", variant);
	for (char *p = env; *p; p++)
		*p = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
	bin = getenv(env);
	if (!ok(bin && *bin, "the %s build was made ($%s; install golang-go and binutils)",
		variant, env))
		return false;
	{
		char *argv[] = { sockaudit, (char *)"trace", (char *)"--", bin, (char *)mode, NULL };

		return ok(tlib_host_ready(h, false, argv), "leaky-%s %s runs under trace", variant,
			  mode);
	}
}

static void case_symbols(const char *variant)
{
	const char *extra[] = { "--all", NULL };
	long hold = tlib_source_line(src, "// open site: dialHold");
	long via = tlib_source_line(src, "// open site: dialVia");
	long inl = tlib_source_line(src, "// open site: dialInlined");
	json_object *root, *g, *fr;
	struct tlib_host h;
	struct trun r;
	long i;

	tlib_case_dir(tlib_env("RT_TABLES"), "go-symbols");
	if (!ok(hold > 0 && via > 0 && inl > 0, "open sites in %s: %ld, %ld, %ld", src, hold, via,
		inl) || !start(&h, variant, "symbols"))
		return;
	root = poll_report((pid_t)tlib_ready_int(&h, "pid"), extra, has_both, &r);
	if (!ok(root != NULL, "report names main.dialHold and main.dialInlined")) {
		trun_free(&r);
		tlib_host_kill(&h);
		return;
	}
	g = group_with(root, "main.dialHold", &i);
	fr = json_object_array_get_idx(tj_get(g, "frames"), (size_t)i);
	ok(frame_at(fr, "main.dialHold", hold, false) && tj_str_is(g, "title", "main.dialHold") &&
	   tj_int(g, "count", -1) == 1,
	   "main.dialHold main.go:%ld, the first frame shown (title %s)", hold, tj_str(g, "title"));
	g = group_with(root, "main.dialInlined", &i);
	fr = i > 0 ? json_object_array_get_idx(tj_get(g, "frames"), (size_t)i - 1) : NULL;
	ok(fr && frame_at(fr, "main.dialVia", via, true),
	   "main.dialVia main.go:%ld is shown inlined, just above", via);
	fr = json_object_array_get_idx(tj_get(g, "frames"), (size_t)i);
	ok(frame_at(fr, "main.dialInlined", inl, false) && tj_int(g, "count", -1) == 1,
	   "into main.dialInlined main.go:%ld", inl);
	json_object_put(root);
	trun_free(&r);
	ok(tlib_host_stop(&h, 0, TLIB_CLI_MS) == 0, "trace exits 0");
	tlib_host_free(&h);
}

/* Dropped connections closed by Go's finalizer goroutine: found as
 * rescued because runtime.runfinq is found in the binary. */
static void case_rescued(const char *variant)
{
	long drop = tlib_source_line(src, "// open site: dialAndDrop");
	json_object *root, *e, *fr;
	struct tlib_host h;
	struct trun r;
	bool all = true;
	size_t n;

	tlib_case_dir(tlib_env("RT_TABLES"), "go-rescued");
	if (!ok(drop > 0, "open site in %s: %ld", src, drop) || !start(&h, variant, "gc"))
		return;
	root = poll_report((pid_t)tlib_ready_int(&h, "pid"), NULL, three_rescued, &r);
	if (!ok(root != NULL, "report counts 3 sockets rescued by the garbage collector")) {
		trun_free(&r);
		tlib_host_kill(&h);
		return;
	}
	ok(r.status == 1, "report exits 1 (exit %d)", r.status);
	n = tj_len(root, "rescued.sockets");
	for (size_t i = 0; i < n; i++) {
		e = json_object_array_get_idx(tj_get(root, "rescued.sockets"), i);
		fr = json_object_array_get_idx(tj_get(e, "frames"), 0);
		if (!tj_str_is(e, "kind", "rescued") || !fr || !frame_at(fr, "main.dialAndDrop", drop,
									  false))
			all = false;
	}
	ok(n == 3 && all, "each rescued socket names main.dialAndDrop main.go:%ld (%zu listed)",
	   drop, n);
	json_object_put(root);
	trun_free(&r);
	ok(tlib_host_stop(&h, 0, TLIB_CLI_MS) == 0, "trace exits 0");
	tlib_host_free(&h);
}

int main(int argc, char **argv)
{
	const char *ci = getenv("CI");

	if (argc != 3) {
		fprintf(stderr, "usage: test-go-symbols symbols|rescued VARIANT\n");
		return 2;
	}
	sockaudit = (char *)tlib_env("SOCKAUDIT");
	src = tlib_env("TR_GO_LEAKY_SRC");
	if (geteuid() != 0) {
		if (ci && strcmp(ci, "true") == 0)
			ok(false, "CI=true: the recorder's tests must run as root (euid %d)",
			   (int)geteuid());
		else
			tap_skip_env("the recorder needs CAP_BPF and CAP_PERFMON: run as root");
		return tlib_finish(tap_done());
	}
	if (strcmp(argv[1], "symbols") == 0)
		case_symbols(argv[2]);
	else if (strcmp(argv[1], "rescued") == 0)
		case_rescued(argv[2]);
	else
		ok(false, "unknown case %s", argv[1]);
	return tlib_finish(tap_done());
}
