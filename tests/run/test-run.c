/* End-to-end tests of `sockaudit run`: real process trees under the real
 * shim, the real binary's exit status, JSON, SARIF and stderr. The programs
 * audited write their pid and leak site to info files; every wait is the
 * run itself (it ends when the tree has exited) or a poll with a deadline
 * (tests/lib/tlib.h), never a blind sleep.
 *
 * Environment (tests/run/meson.build): SOCKAUDIT, RUN_WORK (where each case
 * makes its table directory), RUN_BIN_DIR, RUN_SRC_DIR.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "tlib.h"

#define CW   "--close-wait"
#define IDLE "--idle"

static const char *bin_dir, *src_dir;

/* A fresh table directory for the case, exported as SOCKAUDIT_DIR. */
static const char *case_dir(const char *name)
{
	return tlib_case_dir(tlib_env("RUN_WORK"), name);
}

static char *path2(const char *a, const char *b)
{
	char *p;

	if (asprintf(&p, "%s/%s", a, b) < 0)
		bail("out of memory");
	return p;
}

/* "key=value" of an info file, as an integer (-1 when missing). */
static long info_int(const char *dir, const char *name, const char *key)
{
	char *path = path2(dir, name), line[1024], want[64];
	FILE *f = fopen(path, "r");
	const char *s;
	long v = -1;

	free(path);
	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	snprintf(want, sizeof(want), "%s=", key);
	for (s = line; (s = strstr(s, want)); s++)
		if (s == line || s[-1] == ' ') {
			v = strtol(s + strlen(want), NULL, 10);
			break;
		}
	return v;
}

static bool run(struct trun *r, const char *const *args)
{
	bool done = tlib_cli(r, args);

	if (!done)
		diag("sockaudit run did not finish");
	return done;
}

static json_object *load_json(const char *path)
{
	json_object *o = json_object_from_file(path);

	if (!o)
		diag("%s: %s", path, json_util_get_last_err());
	return o;
}

static json_object *aget(json_object *o, const char *path, size_t i)
{
	return i < tj_len(o, path) ? json_object_array_get_idx(tj_get(o, path), i) : NULL;
}

/* Groups of kind `kind` whose first process is pid. */
static size_t groups_of(json_object *root, const char *kind, long pid, json_object **first)
{
	size_t n = 0;

	if (first)
		*first = NULL;
	for (size_t i = 0; i < tj_len(root, "groups"); i++) {
		json_object *g = aget(root, "groups", i);
		const char *k = tj_str(g, "kind");

		if ((kind && (!k || strcmp(k, kind) != 0)) ||
		    tj_int(aget(g, "processes", 0), "pid", -1) != pid)
			continue;
		if (first && !*first)
			*first = g;
		n++;
	}
	return n;
}

static bool any_group_names_pid(json_object *root, long pid)
{
	for (size_t i = 0; i < tj_len(root, "groups"); i++) {
		json_object *g = aget(root, "groups", i);

		for (size_t k = 0; k < tj_len(g, "processes"); k++)
			if (tj_int(aget(g, "processes", k), "pid", -1) == pid)
				return true;
	}
	return false;
}

static const char *top_fn(json_object *g)
{
	return tj_str(aget(g, "frames", 0), "function");
}

/* The Python frames come first, the top one in run-idle.py; then the
 * native ones. Debian's python3 has no symbols for its static functions:
 * the top native frames are "??" in python3.x, the interpreter's exported
 * entry points below them are named. */
static bool python_stack(json_object *g)
{
	const char *lang = tj_str(aget(g, "frames", 0), "language");
	const char *file = tj_str(aget(g, "frames", 0), "file");
	const char *mod = NULL, *base;
	bool named = false;

	if (!lang || strcmp(lang, "python") || !file || !strstr(file, "run-idle.py")) {
		diag("python stack: top frame %s in %s", lang ? lang : "(none)",
		     file ? file : "(none)");
		return false;
	}
	for (size_t i = 0; i < tj_len(g, "frames"); i++) {
		const char *fn = tj_str(aget(g, "frames", i), "function");
		const char *l = tj_str(aget(g, "frames", i), "language");

		if (!mod && l && strcmp(l, "native") == 0)
			mod = tj_str(aget(g, "frames", i), "module");
		named |= fn && strncmp(fn, "Py", 2) == 0;
	}
	base = mod ? strrchr(mod, '/') : NULL;
	base = base ? base + 1 : mod;
	if (!base || (strncmp(base, "python3", 7) && strncmp(base, "libpython3", 10)) || !named) {
		diag("python stack: top module %s, named Py* frame %s", mod ? mod : "(none)",
		     named ? "yes" : "no");
		return false;
	}
	return true;
}

static bool cmd_has(json_object *g, const char *needle)
{
	const char *c = tj_str(aget(g, "processes", 0), "cmdline");

	return c && strstr(c, needle);
}

/* ---- schema checks (docs/report-json.md, sockaudit.run/1) ---- */

struct field {
	const char *path;
	const char *type;   /* i int, s string, b bool, a array, o object; '?' null allowed */
};

static bool type_ok(json_object *v, const char *t)
{
	bool nullable = strchr(t, '?') != NULL;

	if (!v || json_object_is_type(v, json_type_null))
		return nullable;
	switch (t[0]) {
	case 'i':
		return json_object_is_type(v, json_type_int);
	case 's':
		return json_object_is_type(v, json_type_string);
	case 'b':
		return json_object_is_type(v, json_type_boolean);
	case 'a':
		return json_object_is_type(v, json_type_array);
	case 'o':
		return json_object_is_type(v, json_type_object);
	default:
		return false;
	}
}

static bool fields_ok(json_object *o, const char *what, const struct field *f)
{
	bool good = true;

	for (; f->path; f++) {
		const char *dot = strrchr(f->path, '.');
		json_object *v = NULL, *p = o;
		char parent[128];

		/* json-c gives null as a NULL value of a key that exists. */
		if (dot) {
			snprintf(parent, sizeof(parent), "%.*s", (int)(dot - f->path), f->path);
			p = tj_get(o, parent);
		}
		if (!p || !json_object_object_get_ex(p, dot ? dot + 1 : f->path, &v)) {
			diag("%s: %s missing", what, f->path);
			good = false;
			continue;
		}
		if (!type_ok(v, f->type)) {
			diag("%s: %s is not %s", what, f->path, f->type);
			good = false;
		}
	}
	return good;
}

static const struct field top_fields[] = {
	{ "schema", "s" }, { "version", "s" }, { "run_id", "s" }, { "command", "a" },
	{ "result.exit_status", "i" }, { "result.command_status", "i" },
	{ "result.command_signal", "i?" },
	{ "options.close_wait_ms", "i" }, { "options.idle_ms", "i" },
	{ "options.interval_ms", "i" }, { "options.fail_on", "a" }, { "options.exit_code", "i" },
	{ "options.suppressions", "a" }, { "options.baseline", "s?" }, { "options.preload", "s" },
	{ "summary.processes", "i" }, { "summary.polls", "i" }, { "summary.duration_ms", "i" },
	{ "summary.groups", "i" }, { "summary.sockets", "i" }, { "summary.failing", "i" },
	{ "summary.suppressed", "i" }, { "summary.baselined", "i" },
	{ "summary.by_kind.close-wait", "i" }, { "summary.by_kind.idle", "i" },
	{ "summary.by_kind.at-exit", "i" }, { "summary.by_kind.rescued", "i" },
	{ "processes", "a" }, { "groups", "a" }, { "notes", "a" },
	{ NULL, NULL },
};

static const struct field proc_fields[] = {
	{ "pid", "i" }, { "ppid", "i?" }, { "starttime", "i" }, { "cmdline", "s?" },
	{ "generation", "i?" }, { "exit_path", "b" }, { "exit_status", "i?" }, { "polls", "i" },
	{ "error", "s?" },
	{ NULL, NULL },
};

static const struct field group_fields[] = {
	{ "id", "i" }, { "kind", "s" }, { "failing", "b" }, { "suppressed", "o?" },
	{ "baselined", "b" }, { "stack_id", "s" }, { "stack_hash", "s" }, { "count", "i" },
	{ "processes", "a" }, { "stack", "s?" }, { "no_stack", "s?" }, { "title", "s" },
	{ "frames_trimmed", "i" }, { "frames_trimmed_below", "i" }, { "frames", "a" },
	{ "sockets", "a" },
	{ NULL, NULL },
};

static const struct field gproc_fields[] = {
	{ "pid", "i" }, { "cmdline", "s" }, { "count", "i" }, { NULL, NULL },
};

static const struct field frame_fields[] = {
	{ "addr", "s" }, { "function", "s?" }, { "file", "s?" }, { "line", "i?" },
	{ "module", "s?" }, { "offset", "s?" }, { "inlined", "b" }, { NULL, NULL },
};

static const struct field sock_fields[] = {
	{ "fd", "i" }, { "fds", "a" }, { "inode", "i?" }, { "proto", "s" }, { "state", "s" },
	{ "local", "s" }, { "peer", "s" }, { "tracked", "b" }, { "origin", "s?" },
	{ "flagged", "b" }, { "kind", "s?" }, { "reason", "s?" }, { "pid", "i" },
	{ "run_kind", "s" }, { "close_wait_observed_ms", "i?" }, { "idle_max_ms", "i?" },
	{ "at_exit", "b" }, { "exit_state", "s?" }, { "exit_state_from", "s?" },
	{ "rescued_close_ns", "i?" }, { "rescued_held_ms", "i?" },
	{ NULL, NULL },
};

static bool run_schema_ok(json_object *root)
{
	bool good = fields_ok(root, "run report", top_fields);
	const char *schema = tj_str(root, "schema");

	if (!schema || strcmp(schema, "sockaudit.run/1") != 0) {
		diag("schema is %s", schema ? schema : "(none)");
		good = false;
	}
	for (size_t i = 0; i < tj_len(root, "processes"); i++)
		good &= fields_ok(aget(root, "processes", i), "processes[]", proc_fields);
	for (size_t i = 0; i < tj_len(root, "groups"); i++) {
		json_object *g = aget(root, "groups", i);
		const char *k = tj_str(g, "kind");

		good &= fields_ok(g, "groups[]", group_fields);
		if (!k || (strcmp(k, "close-wait") && strcmp(k, "idle") && strcmp(k, "at-exit") &&
			   strcmp(k, "rescued"))) {
			diag("groups[%zu].kind %s", i, k ? k : "(none)");
			good = false;
		}
		if (!tj_len(g, "processes") || !tj_len(g, "sockets")) {
			diag("groups[%zu] without processes or sockets", i);
			good = false;
		}
		for (size_t k2 = 0; k2 < tj_len(g, "processes"); k2++)
			good &= fields_ok(aget(g, "processes", k2), "groups[].processes[]",
					  gproc_fields);
		for (size_t k2 = 0; k2 < tj_len(g, "frames"); k2++)
			good &= fields_ok(aget(g, "frames", k2), "groups[].frames[]", frame_fields);
		for (size_t k2 = 0; k2 < tj_len(g, "sockets"); k2++)
			good &= fields_ok(aget(g, "sockets", k2), "groups[].sockets[]", sock_fields);
	}
	return good;
}

/* SARIF 2.1.0: the structure code-scanning uploads need. */
static bool sarif_ok(json_object *s, size_t ngroups)
{
	json_object *run = aget(s, "runs", 0);
	const char *ver = tj_str(s, "version"), *name = tj_str(run, "tool.driver.name");
	bool good = true;
	const char *want_rules[] = { "close-wait", "idle", "at-exit", "rescued" };

	if (!tj_str(s, "$schema") || !ver || strcmp(ver, "2.1.0") != 0 || tj_len(s, "runs") != 1 ||
	    !name || strcmp(name, "sockaudit") != 0) {
		diag("sarif: $schema, version 2.1.0, one run, driver name sockaudit");
		return false;
	}
	for (size_t i = 0; i < 4; i++) {
		const char *id = tj_str(aget(run, "tool.driver.rules", i), "id");

		if (!id || strcmp(id, want_rules[i]) != 0) {
			diag("sarif: rules[%zu].id %s, expected %s", i, id ? id : "(none)",
			     want_rules[i]);
			good = false;
		}
	}
	if (tj_len(run, "results") != ngroups) {
		diag("sarif: %zu results for %zu groups", tj_len(run, "results"), ngroups);
		good = false;
	}
	for (size_t i = 0; i < tj_len(run, "results"); i++) {
		json_object *r = aget(run, "results", i);
		json_object *pl = tj_get(aget(r, "locations", 0), "physicalLocation");

		if (!tj_str(r, "ruleId") || !tj_str(r, "level") || !tj_str(r, "message.text") ||
		    !pl || !tj_str(pl, "artifactLocation.uri") ||
		    !tj_get(r, "partialFingerprints")) {
			diag("sarif: results[%zu] lacks ruleId, level, message.text, "
			     "locations[0].physicalLocation.artifactLocation.uri or "
			     "partialFingerprints", i);
			good = false;
		}
	}
	return good;
}

/* The SARIF result located at file:line. */
static json_object *sarif_result_at(json_object *s, const char *file, long line)
{
	json_object *run = aget(s, "runs", 0);

	for (size_t i = 0; i < tj_len(run, "results"); i++) {
		json_object *r = aget(run, "results", i);
		json_object *pl = tj_get(aget(r, "locations", 0), "physicalLocation");
		const char *uri = tj_str(pl, "artifactLocation.uri");
		size_t ul = uri ? strlen(uri) : 0, fl = strlen(file);

		if (uri && ul >= fl && strcmp(uri + ul - fl, file) == 0 &&
		    tj_int(pl, "region.startLine", -1) == line)
			return r;
	}
	return NULL;
}

/* ---- the mix: a shell script forking leaky and clean programs ---- */

struct mix {
	long cw, idle, clean, daemon, atexit_;
	long cw_line, daemon_line, atexit_line;
};

static bool mix_run(const char *dir, const char *const *extra, struct trun *r,
		    struct mix *m)
{
	char *script = path2(src_dir, "mix.sh"), *json = path2(dir, "run.json");
	char *sarif = path2(dir, "run.sarif");
	const char *args[48];
	size_t n = 0;
	bool done;

	args[n++] = "run";
	args[n++] = CW;
	args[n++] = "300ms";
	args[n++] = IDLE;
	args[n++] = "300ms";
	args[n++] = "--interval";
	args[n++] = "50ms";
	args[n++] = "--json";
	args[n++] = json;
	args[n++] = "--sarif";
	args[n++] = sarif;
	for (; extra && *extra && n < 40; extra++)
		args[n++] = *extra;
	args[n++] = "--";
	args[n++] = script;
	args[n++] = dir;
	args[n++] = bin_dir;
	args[n++] = src_dir;
	args[n] = NULL;
	done = run(r, args);
	m->cw = info_int(dir, "cw", "pid");
	m->cw_line = info_int(dir, "cw", "line");
	m->idle = info_int(dir, "idle", "pid");
	m->clean = info_int(dir, "clean", "pid");
	m->daemon = info_int(dir, "daemon", "pid");
	m->daemon_line = info_int(dir, "daemon", "line");
	m->atexit_ = info_int(dir, "atexit", "pid");
	m->atexit_line = info_int(dir, "atexit", "line");
	if (m->cw < 0 || m->idle < 0 || m->clean < 0 || m->daemon < 0 || m->atexit_ < 0) {
		diag("a program of the mix did not run: stderr: %s", r->err);
		done = false;
	}
	free(script);
	free(json);
	free(sarif);
	return done;
}

static void case_mix(void)
{
	const char *dir = case_dir("mix");
	const char *extra[] = { "--gen-suppressions", NULL };
	struct trun r;
	struct mix m;
	json_object *root, *sarif, *g;
	char *jp = path2(dir, "run.json"), *sp = path2(dir, "run.sarif");
	size_t n;

	bool ran = mix_run(dir, extra, &r, &m);

	if (!ok(ran, "the mix ran: cw %ld, idle %ld, clean %ld, daemon %ld, atexit %ld", m.cw,
		m.idle, m.clean, m.daemon, m.atexit_))
		goto out;
	ok(r.status == 1, "a leak fails the run: exit %d", r.status);
	root = load_json(jp);
	if (!ok(root != NULL, "--json wrote a JSON document"))
		goto out;
	ok(run_schema_ok(root), "the JSON report has the documented sockaudit.run/1 fields");

	n = groups_of(root, "close-wait", m.cw, &g);
	ok(n == 1 && top_fn(g) && strcmp(top_fn(g), "cw_connect") == 0 && cmd_has(g, "run-cw") &&
	   tj_bool(g, "failing") && tj_frame_is(g, "cw_connect", "run-cw.c", m.cw_line),
	   "CLOSE_WAIT leak: one failing group, pid %ld, command run-cw, top frame cw_connect "
	   "at run-cw.c:%ld", m.cw, m.cw_line);
	n = groups_of(root, "idle", m.idle, &g);
	ok(n >= 1 && cmd_has(g, "run-idle.py") && tj_bool(g, "failing") && python_stack(g),
	   "idle leak: %zu failing group(s) of the Python pid %ld, command run-idle.py, a stack "
	   "in the interpreter", n, m.idle);
	n = groups_of(root, "close-wait", m.daemon, &g);
	ok(n == 1 && top_fn(g) && strcmp(top_fn(g), "daemon_connect") == 0 &&
	   cmd_has(g, "run-daemon") && tj_frame_is(g, "daemon_connect", "run-daemon.c",
						   m.daemon_line),
	   "the daemonised grandchild (pid %ld) was waited for and its leak reported at "
	   "daemon_connect", m.daemon);
	n = groups_of(root, "at-exit", m.atexit_, &g);
	ok(n == 1 && top_fn(g) && strcmp(top_fn(g), "atexit_connect") == 0 &&
	   cmd_has(g, "run-atexit") && !tj_bool(g, "failing") &&
	   tj_str(aget(g, "sockets", 0), "exit_state") &&
	   tj_bool(aget(g, "sockets", 0), "at_exit"),
	   "open at exit: pid %ld at atexit_connect, with its exit state (%s), not failing by "
	   "default", m.atexit_, g && tj_str(aget(g, "sockets", 0), "exit_state")
	   ? tj_str(aget(g, "sockets", 0), "exit_state") : "none");
	ok(!any_group_names_pid(root, m.clean), "the clean program (pid %ld) is never reported",
	   m.clean);
	/* Exactly the leaky ones: every group belongs to one of them. */
	n = 0;
	for (size_t i = 0; i < tj_len(root, "groups"); i++) {
		long pid = tj_int(aget(aget(root, "groups", i), "processes", 0), "pid", -1);

		if (pid != m.cw && pid != m.idle && pid != m.daemon && pid != m.atexit_) {
			diag("unexpected group %zu: %s", i,
			     json_object_to_json_string(aget(root, "groups", i)));
			n++;
		}
	}
	ok(n == 0, "no other group (%zu groups in all)", tj_len(root, "groups"));
	ok(strstr(r.err, "process ") && strstr(r.err, "cw_connect") &&
	   strstr(r.err, "name: close-wait-cw_connect-"),
	   "stderr has the grouped text report and --gen-suppressions entries");

	sarif = load_json(sp);
	ok(sarif && sarif_ok(sarif, tj_len(root, "groups")),
	   "--sarif: SARIF 2.1.0 with rules, one result per group, physical locations");
	g = sarif ? sarif_result_at(sarif, "run-cw.c", m.cw_line) : NULL;
	ok(g && strcmp(tj_str(g, "ruleId"), "close-wait") == 0 &&
	   strcmp(tj_str(g, "level"), "error") == 0 &&
	   tj_len(aget(aget(g, "codeFlows", 0), "threadFlows", 0), "locations") >= 2,
	   "the CLOSE_WAIT leak is a close-wait error at run-cw.c:%ld with its stack as a "
	   "code flow", m.cw_line);
	json_object_put(sarif);
	json_object_put(root);
out:
	trun_free(&r);
	free(jp);
	free(sp);
}

/* ---- suppressions: a generated entry silences exactly its group ---- */

/* The "{ ... }" entry named prefix* from --gen-suppressions output. */
static char *extract_entry(const char *err, const char *prefix)
{
	const char *p = err;

	while ((p = strstr(p, "{\n"))) {
		const char *end = strstr(p, "\n}\n"), *name = strstr(p, "name: ");
		char *e;

		if (!end)
			break;
		if (name && name < end && strncmp(name + 6, prefix, strlen(prefix)) == 0) {
			if (asprintf(&e, "# generated by sockaudit run --gen-suppressions\n%.*s\n",
				     (int)(end + 3 - p), p) < 0)
				bail("out of memory");
			return e;
		}
		p = end;
	}
	return NULL;
}

static void case_suppress(void)
{
	const char *dir = case_dir("suppress");
	const char *gen[] = { "--gen-suppressions", NULL };
	char *supp_path = path2(dir, "leaks.supp"), *jp = path2(dir, "run.json"), *entry;
	const char *use[] = { "--suppressions", supp_path, NULL };
	struct trun r;
	struct mix m;
	json_object *root, *g;
	size_t suppressed = 0;

	if (!ok(mix_run(dir, gen, &r, &m), "first run generates suppressions"))
		goto out;
	entry = extract_entry(r.err, "close-wait-cw_connect-");
	trun_free(&r);
	if (!ok(entry != NULL, "an entry was generated for the cw_connect group"))
		goto out;
	diag("entry:\n%s", entry ? entry : "");
	ok(tlib_write_file(supp_path, entry, strlen(entry), 0644), "entry saved");
	free(entry);
	if (!ok(mix_run(dir, use, &r, &m), "second run with --suppressions"))
		goto out;
	root = load_json(jp);
	for (size_t i = 0; root && i < tj_len(root, "groups"); i++)
		if (tj_get(aget(root, "groups", i), "suppressed"))
			suppressed++;
	groups_of(root, "close-wait", m.cw, &g);
	ok(g && tj_get(g, "suppressed") && !tj_bool(g, "failing") &&
	   strncmp(tj_str(g, "suppressed.name"), "close-wait-cw_connect-", 22) == 0,
	   "the cw_connect group is suppressed by its entry");
	ok(suppressed == 1, "exactly one group suppressed (%zu)", suppressed);
	groups_of(root, "close-wait", m.daemon, &g);
	ok(g && tj_bool(g, "failing") && r.status == 1,
	   "the daemon's leak still fails the run (exit %d)", r.status);
	json_object_put(root);

	/* A broken file is sockaudit's own error, found before CMD runs. */
	unlink(supp_path);
	tlib_write_file(supp_path, "{\n name: x\n bogus: y\n}\n", 22, 0644);
	{
		const char *args[] = { "run", "--suppressions", supp_path, "--", "true", NULL };

		trun_free(&r);
		run(&r, args);
		ok(r.status == 2 && tlib_err_lines(&r) == 1 && strstr(r.err, "leaks.supp:3"),
		   "a bad suppression file: exit 2, one line naming file:line (%s)", r.err);
	}
out:
	trun_free(&r);
	free(supp_path);
	free(jp);
}

/* ---- exit codes ---- */

static void expect_status(const char *const *args, int want, bool one_line, const char *what)
{
	struct trun r;

	run(&r, args);
	ok(r.status == want && (!one_line || tlib_err_lines(&r) == 1), "%s: exit %d (got %d)%s%s",
	   what, want, r.status, one_line ? ", one stderr line: " : "", one_line ? r.err : "");
	trun_free(&r);
}

static size_t run_dirs_in(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *d;
	size_t n = 0;

	while (dp && (d = readdir(dp)))
		if (strncmp(d->d_name, "sockaudit-run.", 14) == 0)
			n++;
	if (dp)
		closedir(dp);
	return n;
}

static void case_exit_codes(void)
{
	const char *dir = case_dir("exit");
	size_t dirs_before = run_dirs_in(dir), left;
	char *clean = path2(bin_dir, "run-clean"), *cw = path2(bin_dir, "run-cw");
	char *atx = path2(bin_dir, "run-atexit");
	char *info = path2(dir, "info"), *sh;

	{
		const char *a[] = { "run", "--", clean, info, NULL };
		expect_status(a, 0, false, "clean program");
	}
	{
		const char *a[] = { "run", CW, "300ms", "--interval", "50ms", "--", cw, info, NULL };
		expect_status(a, 1, false, "CLOSE_WAIT leak");
	}
	{
		const char *a[] = { "run", CW, "300ms", "--interval", "50ms", "--exit-code", "7",
				    "--", cw, info, NULL };
		expect_status(a, 7, false, "--exit-code 7 with a leak");
	}
	if (asprintf(&sh, "'%s' '%s'; exit 3", cw, info) < 0)
		bail("out of memory");
	{
		const char *a[] = { "run", CW, "300ms", "--interval", "50ms", "--", "/bin/sh", "-c",
				    sh, NULL };
		expect_status(a, 3, false, "CMD fails with 3 while leaking: CMD's status wins");
	}
	{
		const char *a[] = { "run", "--", atx, info, NULL };
		expect_status(a, 0, false, "open at exit does not fail by default");
	}
	{
		const char *a[] = { "run", "--fail-on", "at-exit", "--", atx, info, NULL };
		expect_status(a, 1, false, "--fail-on at-exit fails on it");
	}
	{
		const char *a[] = { "run", "--bogus", "--", "true", NULL };
		expect_status(a, 2, true, "unknown flag");
	}
	{
		const char *a[] = { "run", NULL };
		expect_status(a, 2, true, "no command");
	}
	{
		const char *a[] = { "run", CW, "1s", "--", NULL };
		expect_status(a, 2, true, "'--' and no command");
	}
	{
		const char *a[] = { "run", "--", "/nonexistent/cmd", NULL };
		expect_status(a, 2, true, "command that does not exist");
	}
	{
		const char *a[] = { "run", "--fail-on", "leaks", "--", "true", NULL };
		expect_status(a, 2, true, "bad --fail-on");
	}
	{
		const char *a[] = { "run", "--baseline", "/nonexistent.json", "--", "true", NULL };
		expect_status(a, 2, true, "missing --baseline file");
	}
	/* Every run removed its private table directory, errors included. */
	left = run_dirs_in(dir);
	ok(left == dirs_before, "no run left its table directory behind (%zu new)",
	   left - dirs_before);
	free(sh);
	free(clean);
	free(cw);
	free(atx);
	free(info);
}

/* ---- baseline: old leaks pass, new call sites fail, across rebuilds ---- */

static json_object *bl_run(const char *dir, int variant, const char *baseline, const char *json,
			   struct trun *r)
{
	char sub[32], *exe, *info = path2(dir, "info");
	const char *args[24];
	size_t n = 0;
	json_object *root;

	snprintf(sub, sizeof(sub), "bl%d/bl-leaker", variant);
	exe = path2(bin_dir, sub);
	args[n++] = "run";
	args[n++] = CW;
	args[n++] = "300ms";
	args[n++] = "--interval";
	args[n++] = "50ms";
	args[n++] = "--json";
	args[n++] = json;
	if (baseline) {
		args[n++] = "--baseline";
		args[n++] = baseline;
	}
	args[n++] = "--";
	args[n++] = exe;
	args[n++] = info;
	args[n] = NULL;
	run(r, args);
	root = load_json(json);
	free(exe);
	free(info);
	return root;
}

static json_object *group_top(json_object *root, const char *fn)
{
	for (size_t i = 0; i < tj_len(root, "groups"); i++) {
		json_object *g = aget(root, "groups", i);

		if (top_fn(g) && strcmp(top_fn(g), fn) == 0)
			return g;
	}
	return NULL;
}

static void case_baseline(void)
{
	const char *dir = case_dir("baseline");
	char *a = path2(dir, "a.json"), *a2 = path2(dir, "a2.json"), *b = path2(dir, "b.json");
	json_object *ra, *ra2, *rb, *ga, *ga2, *gb;
	struct trun r;
	long la, la2;

	ra = bl_run(dir, 1, NULL, a, &r);
	ga = group_top(ra, "site_a_connect");
	ok(ra && r.status == 1 && ga, "run A: the site A leak fails (exit %d)", r.status);
	trun_free(&r);

	ra2 = bl_run(dir, 2, a, a2, &r);
	ga2 = group_top(ra2, "site_a_connect");
	la = tj_int(aget(ga, "frames", 0), "line", -1);
	la2 = tj_int(aget(ga2, "frames", 0), "line", -1);
	ok(ga2 && la > 0 && la2 > 0 && la != la2 &&
	   strcmp(tj_str(aget(ga, "frames", 0), "addr"), tj_str(aget(ga2, "frames", 0), "addr")),
	   "the rebuild moved the leak: line %ld -> %ld, another address", la, la2);
	ok(r.status == 0 && ga2 && tj_bool(ga2, "baselined") && !tj_bool(ga2, "failing"),
	   "run A rebuilt, --baseline A: passes, the leak is in the baseline (exit %d)", r.status);
	trun_free(&r);

	rb = bl_run(dir, 3, a, b, &r);
	gb = group_top(rb, "site_b_connect");
	ga = group_top(rb, "site_a_connect");
	ok(r.status == 1 && gb && tj_bool(gb, "failing") && !tj_bool(gb, "baselined") && ga &&
	   tj_bool(ga, "baselined") && !tj_bool(ga, "failing"),
	   "run B (new call site), --baseline A: fails on site B only (exit %d)", r.status);
	trun_free(&r);
	json_object_put(ra);
	json_object_put(ra2);
	json_object_put(rb);
	free(a);
	free(a2);
	free(b);
}

/* The run directory in dir (there is one), into out. */
static bool find_run_dir(const char *dir, char *out, size_t len)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	if (!dp)
		return false;
	while ((d = readdir(dp)))
		if (strncmp(d->d_name, "sockaudit-run.", 14) == 0 && n++ == 0)
			snprintf(out, len, "%s/%s", dir, d->d_name);
	closedir(dp);
	return n == 1;
}

static bool owner_is(const char *rdir, pid_t pid)
{
	char prefix[32];
	struct dirent *d;
	DIR *dp = opendir(rdir);
	bool found = false;

	if (!dp)
		return false;
	snprintf(prefix, sizeof(prefix), "owner.%d.", (int)pid);
	while ((d = readdir(dp)))
		found = found || strncmp(d->d_name, prefix, strlen(prefix)) == 0;
	closedir(dp);
	return found;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* `list --gc --json`: the document, or NULL. */
static json_object *list_gc(void)
{
	const char *args[] = { "list", "--gc", "--json", NULL };
	json_object *root = NULL;
	struct trun r;

	if (tlib_cli(&r, args) && r.status == 0)
		root = json_tokener_parse(r.out);
	else
		diag("list --gc: status %d: %s", r.status, r.err);
	trun_free(&r);
	return root;
}

/* A run killed with SIGKILL cannot remove its directory; `list --gc` does,
 * once the run and every process with a table in it are gone. */
static void case_gc(void)
{
	const char *dir = case_dir("gc");
	char *hold = path2(bin_dir, "run-hold"), rdir[4200], planted[4200];
	char *argv[] = { (char *)getenv("SOCKAUDIT"), "run", "--", hold, NULL };
	uint64_t deadline;
	json_object *root;
	struct tlib_host p;
	bool removed = false;
	long child;

	if (!ok(tlib_host_ready(&p, false, argv), "gc: a run of run-hold is ready")) {
		free(hold);
		return;
	}
	child = tlib_ready_int(&p, "pid");
	ok(find_run_dir(dir, rdir, sizeof(rdir)) && owner_is(rdir, p.pid),
	   "gc: the run's directory names the run (pid %d) as its owner", (int)p.pid);
	root = list_gc();
	ok(root && is_dir(rdir) && tj_len(root, "run_dirs") == 0,
	   "gc: the directory of a run still running is left alone");
	json_object_put(root);

	kill(p.pid, SIGKILL);
	ok(tlib_host_wait_exit(&p, 5000) && child > 0 && kill((pid_t)child, 0) == 0,
	   "gc: the run killed, run-hold (pid %ld) goes on", child);
	root = list_gc();
	ok(root && is_dir(rdir) && tj_len(root, "run_dirs") == 0,
	   "gc: the directory stays while a process with a table in it runs");
	json_object_put(root);

	/* EOF on its stdin ends run-hold. */
	tlib_host_eof(&p);
	deadline = trun_now_ms() + TLIB_POLL_MS;
	do {
		root = list_gc();
		removed = root && tj_len(root, "run_dirs") == 1;
		if (!removed) {
			json_object_put(root);
			usleep(20 * 1000);
		}
	} while (!removed && trun_now_ms() < deadline);
	if (ok(removed, "gc: once run-hold is gone, list --gc reports the run directory")) {
		json_object *d = json_object_array_get_idx(tj_get(root, "run_dirs"), 0);

		ok(tj_str_is(d, "path", rdir) && tj_bool(d, "removed") &&
		   tj_get(d, "remove_error") == NULL && !is_dir(rdir),
		   "gc: ... and removes it (%s)", tj_str(d, "path"));
		json_object_put(root);
	}

	/* Not made by a run we can judge: no owner marker. */
	snprintf(planted, sizeof(planted), "%s/sockaudit-run.0123456789abcdef", dir);
	ok(mkdir(planted, 0700) == 0, "gc: a run directory without an owner marker planted");
	root = list_gc();
	ok(root && is_dir(planted) && tj_len(root, "run_dirs") == 0,
	   "gc: a directory without an owner marker is left alone");
	json_object_put(root);
	rmdir(planted);

	/* A gone owner, but a file no run makes: reported, left alone. */
	{
		char owner[4300], other[4300];
		int f1, f2;

		snprintf(owner, sizeof(owner), "%s/owner.2147483647.1", planted);
		snprintf(other, sizeof(other), "%s/notes.txt", planted);
		f1 = mkdir(planted, 0700) == 0 ? open(owner, O_CREAT | O_WRONLY, 0600) : -1;
		f2 = f1 >= 0 ? open(other, O_CREAT | O_WRONLY, 0600) : -1;
		ok(f1 >= 0 && f2 >= 0, "gc: a run directory with a gone owner and a foreign file");
		root = list_gc();
		ok(root && tj_len(root, "run_dirs") == 1 &&
		   !tj_bool(json_object_array_get_idx(tj_get(root, "run_dirs"), 0), "removed") &&
		   tj_str(json_object_array_get_idx(tj_get(root, "run_dirs"), 0), "remove_error") &&
		   access(other, F_OK) == 0 && access(owner, F_OK) == 0,
		   "gc: ... is reported, not removed, and nothing in it touched");
		json_object_put(root);
		if (f1 >= 0)
			close(f1);
		if (f2 >= 0)
			close(f2);
		unlink(owner);
		unlink(other);
		rmdir(planted);
	}
	tlib_host_free(&p);
	free(hold);
}


/* True when pid is gone (or a zombie nobody will reap: not ours to ask). */
static bool gone(long pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) < 0 && errno == ESRCH);
}

/* Wait up to ms for the run to end: its exit status, or -1. */
static int run_status_within(struct tlib_host *p, int ms)
{
	return tlib_host_wait_exit(p, ms) ? tlib_exit_code(p->status) : -1;
}

/* Run directories an earlier, failed test run left in dir (case_dir
 * removes files only): find_run_dir() must see exactly this run's. */
static void clear_run_dirs(const char *dir)
{
	struct dirent *d, *e;
	char sub[4200];
	DIR *dp = opendir(dir), *sp;

	while (dp && (d = readdir(dp))) {
		if (strncmp(d->d_name, "sockaudit-run.", 14) != 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, d->d_name);
		sp = opendir(sub);
		while (sp && (e = readdir(sp)))
			if (e->d_name[0] != '.')
				unlinkat(dirfd(sp), e->d_name, 0);
		if (sp)
			closedir(sp);
		rmdir(sub);
	}
	if (dp)
		closedir(dp);
}

/* The run of run-stubborn (and its daemon) that the test then cancels. */
static bool cancel_start(struct tlib_host *p, const char *how, const char *const *extra,
			 long *pid, long *daemon)
{
	char *prog = path2(bin_dir, "run-stubborn");
	char *argv[16];
	size_t n = 0;

	argv[n++] = (char *)getenv("SOCKAUDIT");
	argv[n++] = "run";
	for (; extra && *extra && n < 12; extra++)
		argv[n++] = (char *)*extra;
	argv[n++] = "--";
	argv[n++] = prog;
	if (strcmp(how, "exit-on-term") == 0)
		argv[n++] = "exit-on-term";
	argv[n] = NULL;
	if (!ok(tlib_host_ready(p, false, argv), "cancel (%s): the run of run-stubborn is ready", how)) {
		free(prog);
		return false;
	}
	free(prog);
	*pid = tlib_ready_int(p, "pid");
	*daemon = tlib_ready_int(p, "daemon");
	return ok(*pid > 0 && *daemon > 0, "cancel (%s): job %ld and its daemon %ld run", how,
		  *pid, *daemon);
}

/* Whatever a test left (it failed): kill by pid, never by the run. */
static void cancel_cleanup(struct tlib_host *p, long pid, long daemon)
{
	if (pid > 0)
		kill((pid_t)pid, SIGKILL);
	if (daemon > 0)
		kill((pid_t)daemon, SIGKILL);
	tlib_host_free(p);
}

/* A cancelled run never exits 0, stops the whole tree however stubborn,
 * and leaves nothing behind. */
static void case_cancel(void)
{
	const char *dir = case_dir("cancel");
	struct tlib_host p;
	long pid, daemon;
	int status;
	char rdir[4200];

	clear_run_dirs(dir);
	/* Both ignore the first signal: the run waits; a second kills the tree. */
	if (cancel_start(&p, "stubborn", NULL, &pid, &daemon)) {
		ok(find_run_dir(dir, rdir, sizeof(rdir)), "cancel: the run's directory exists");
		kill(p.pid, SIGTERM);
		/* Not an event to poll for: that it does not happen is the point. */
		ok(!tlib_host_wait_exit(&p, 500) && !gone(pid) && !gone(daemon),
		   "cancel: after one SIGTERM the run waits for the tree that ignores it");
		kill(p.pid, SIGTERM);
		status = run_status_within(&p, TLIB_POLL_MS);
		ok(status == 128 + SIGTERM,
		   "cancel: a second SIGTERM ends the run with 128 + SIGTERM (%d)", status);
		ok(gone(pid) && gone(daemon), "cancel: the job and its daemon in another session "
		   "are gone (SIGKILL to the tree)");
		ok(!is_dir(rdir), "cancel: the run's directory is removed");
		if (status < 0)
			cancel_cleanup(&p, pid, daemon);
		else
			tlib_host_free(&p);
	}

	/* One SIGINT, and --kill-after does the rest. */
	{
		const char *extra[] = { "--kill-after", "300ms", NULL };

		if (cancel_start(&p, "kill-after", extra, &pid, &daemon)) {
			kill(p.pid, SIGINT);
			status = run_status_within(&p, TLIB_POLL_MS);
			ok(status == 128 + SIGINT,
			   "cancel: one SIGINT and --kill-after 300ms end the run with 128 + SIGINT "
			   "(%d)", status);
			ok(gone(pid) && gone(daemon), "cancel: ... and the tree is gone");
			if (status < 0)
				cancel_cleanup(&p, pid, daemon);
			else
				tlib_host_free(&p);
		}
	}

	/* A job that exits 0 when cancelled: the run still says it was. */
	if (cancel_start(&p, "exit-on-term", NULL, &pid, &daemon)) {
		kill(p.pid, SIGTERM);
		kill(p.pid, SIGTERM);   /* the daemon ignores the first */
		status = run_status_within(&p, TLIB_POLL_MS);
		ok(status == 128 + SIGTERM,
		   "cancel: a job that exits 0 on SIGTERM still makes the run exit 128 + SIGTERM "
		   "(%d), never 0", status);
		if (status < 0)
			cancel_cleanup(&p, pid, daemon);
		else
			tlib_host_free(&p);
		ok(gone(daemon), "cancel: ... and its daemon is gone");
	}
}

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "mix", case_mix },
	{ "suppress", case_suppress },
	{ "exit-codes", case_exit_codes },
	{ "baseline", case_baseline },
	{ "gc", case_gc },
	{ "cancel", case_cancel },
};

int main(int argc, char **argv)
{
	bin_dir = getenv("RUN_BIN_DIR");
	src_dir = getenv("RUN_SRC_DIR");
	if (!bin_dir || !src_dir)
		bail("RUN_BIN_DIR and RUN_SRC_DIR must be set (run through meson test)");
	if (argc != 2)
		bail("usage: test-run CASE");
	if (access("/usr/bin/python3", X_OK) != 0 &&
	    (strcmp(argv[1], "mix") == 0 || strcmp(argv[1], "suppress") == 0)) {
		tap_skip_env("/usr/bin/python3 is not installed");
		return tap_done();
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(argv[1], cases[i].name) == 0) {
			cases[i].fn();
			return tlib_finish(tap_done());
		}
	bail("unknown case %s", argv[1]);
}
