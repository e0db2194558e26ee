/* sarif: SARIF 2.1.0 (OASIS) for `sockaudit run --sarif`.
 *
 * One rule per finding kind, one result per run group. The result's
 * location is the top user frame that has a source line (where the socket
 * was opened or connected); the whole stack goes in codeFlows so the UI can
 * walk it; partialFingerprints carry the stack identity, which survives
 * rebuilds, so the UI tracks one alert across commits. Suppressed and
 * baselined groups are still results, marked as such (suppressions[],
 * baselineState), so the UI can show them closed rather than forget them.
 */
#include "run/sarif.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "run/model.h"
#include "run/suppress.h"
#include "util/util.h"

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"
#define SARIF_FINGERPRINT "sockauditStack/v1"

static void add(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

static json_object *text(const char *s)
{
	json_object *o = json_object_new_object();

	add(o, "text", json_object_new_string(s));
	return o;
}

static const struct {
	const char *name, *brief, *full;
} rules[RUN_KIND_MAX] = {
	[RUN_KIND_CLOSE_WAIT] = {
		"SocketLeftInCloseWait",
		"Socket left in CLOSE_WAIT",
		"The peer closed the TCP connection and this side never closed its socket: the "
		"descriptor and the kernel's connection stay until the process exits.",
	},
	[RUN_KIND_IDLE] = {
		"IdleConnectionHeld",
		"Idle TCP connection held",
		"An ESTABLISHED TCP connection carried no data either way for longer than the "
		"idle threshold while the process kept it open.",
	},
	[RUN_KIND_AT_EXIT] = {
		"SocketOpenAtExit",
		"Socket still open at process exit",
		"The process exited with this socket still open: it was never closed (what "
		"valgrind --track-fds reports).",
	},
	[RUN_KIND_RESCUED] = {
		"SocketClosedByGarbageCollector",
		"Socket dropped and closed by Go's garbage collector",
		"The program dropped this connection without closing it; Go's garbage collector "
		"closed it later through the netFD finalizer (runtime.runfinq). Until a "
		"collection ran, the descriptor and the connection stayed open: a leak that "
		"comes and goes with garbage collection.",
	},
};

/* Lexically normalise an absolute path: "/a/b/../c/./d" -> "/a/c/d". */
static void normalize(const char *in, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	while (*in) {
		const char *seg;
		size_t sl;

		while (*in == '/')
			in++;
		seg = in;
		while (*in && *in != '/')
			in++;
		sl = (size_t)(in - seg);
		if (!sl || (sl == 1 && seg[0] == '.'))
			continue;
		if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
			out[n] = '\0';
			continue;
		}
		if (n + 1 + sl + 1 > len)
			break;
		out[n++] = '/';
		memcpy(out + n, seg, sl);
		n += sl;
		out[n] = '\0';
	}
	if (!n)
		snprintf(out, len, "/");
}

void sarif_uri(const char *path, const char *cwd, char *buf, size_t len)
{
	char abs[PATH_MAX], base[PATH_MAX];
	size_t bl;

	if (path[0] != '/') {
		while (strncmp(path, "../", 3) == 0 || strncmp(path, "./", 2) == 0)
			path += path[1] == '/' ? 2 : 3;
		snprintf(buf, len, "%s", path);
		return;
	}
	normalize(path, abs, sizeof(abs));
	normalize(cwd && *cwd ? cwd : "/", base, sizeof(base));
	bl = strlen(base);
	if (bl > 1 && strncmp(abs, base, bl) == 0 && abs[bl] == '/') {
		snprintf(buf, len, "%s", abs + bl + 1);
		return;
	}
	snprintf(buf, len, "file://%s", abs);
}

static json_object *phys(const char *path, int line, const char *cwd)
{
	json_object *pl = json_object_new_object(), *al = json_object_new_object();
	char uri[PATH_MAX + 16];

	sarif_uri(path, cwd, uri, sizeof(uri));
	add(al, "uri", json_object_new_string(uri));
	add(pl, "artifactLocation", al);
	if (line > 0) {
		json_object *r = json_object_new_object();

		add(r, "startLine", json_object_new_int(line));
		add(pl, "region", r);
	}
	return pl;
}

static const struct sym_frame *top_frame(const struct group *g)
{
	for (size_t i = 0; i < g->nframes; i++)
		if (g->frames[i].file && g->frames[i].line > 0)
			return &g->frames[i];
	return NULL;
}

static json_object *result_location(const struct run_group *rg, const char *cwd)
{
	const struct group *g = rg->m[0].g;
	const struct sym_frame *f = top_frame(g);
	json_object *loc = json_object_new_object();
	char exe[1024];

	if (f) {
		add(loc, "physicalLocation", phys(f->file, f->line, cwd));
		if (f->function)
			add(loc, "message", text(f->function));
		return loc;
	}
	/* No line anywhere (no debug info): the module, else the program. */
	for (size_t i = 0; i < g->nframes; i++)
		if (g->frames[i].module) {
			add(loc, "physicalLocation", phys(g->frames[i].module, 0, cwd));
			return loc;
		}
	snprintf(exe, sizeof(exe), "%s", rg->m[0].p->hdr.cmdline);
	exe[strcspn(exe, " ")] = '\0';
	add(loc, "physicalLocation", phys(exe[0] ? exe : "unknown", 0, cwd));
	return loc;
}

static json_object *code_flows(const struct group *g, const char *cwd)
{
	json_object *flows = json_object_new_array(), *flow = json_object_new_object();
	json_object *threads = json_object_new_array(), *tf = json_object_new_object();
	json_object *locs = json_object_new_array();

	for (size_t i = 0; i < g->nframes; i++) {
		const struct sym_frame *f = &g->frames[i];
		json_object *tfl = json_object_new_object(), *loc = json_object_new_object();
		char msg[600];
		const char *mod = f->module ? strrchr(f->module, '/') : NULL;

		mod = mod ? mod + 1 : (f->module ? f->module : "?");
		if (f->language)
			snprintf(msg, sizeof(msg), "%s (%s)", f->function ? f->function : "??",
				 f->language);
		else
			snprintf(msg, sizeof(msg), "%s (%s+0x%llx)%s", f->function ? f->function : "??",
				 mod, (unsigned long long)f->module_offset,
				 f->inlined ? " inlined" : "");
		if (f->file)
			add(loc, "physicalLocation", phys(f->file, f->line, cwd));
		add(loc, "message", text(msg));
		add(tfl, "location", loc);
		json_object_array_add(locs, tfl);
	}
	add(tf, "locations", locs);
	json_object_array_add(threads, tf);
	add(flow, "threadFlows", threads);
	json_object_array_add(flows, flow);
	return flows;
}

static void message(const struct run_state *rs, const struct run_group *rg, char *buf,
		    size_t len)
{
	const struct group *g = rg->m[0].g;
	const struct run_proc *p = rg->m[0].p;
	const char *fn = g->nframes && g->frames[0].function ? g->frames[0].function : NULL;
	char thr[32];
	int n;

	switch (rg->kind) {
	case RUN_KIND_CLOSE_WAIT:
		format_duration(rs->opts.rep.leak.close_wait_ms, thr, sizeof(thr));
		n = snprintf(buf, len, "%zu socket%s left in CLOSE_WAIT for %s or more", rg->count,
			     rg->count == 1 ? "" : "s", thr);
		break;
	case RUN_KIND_IDLE:
		format_duration(rs->opts.rep.leak.idle_ms, thr, sizeof(thr));
		n = snprintf(buf, len, "%zu TCP connection%s held idle for %s or more", rg->count,
			     rg->count == 1 ? "" : "s", thr);
		break;
	case RUN_KIND_RESCUED:
		n = snprintf(buf, len, "%zu socket%s dropped without a close and closed by Go's "
			     "garbage collector", rg->count, rg->count == 1 ? "" : "s");
		break;
	default:
		n = snprintf(buf, len, "%zu socket%s still open at process exit", rg->count,
			     rg->count == 1 ? "" : "s");
		break;
	}
	if (n < 0 || (size_t)n >= len)
		return;
	snprintf(buf + n, len - (size_t)n, ", %s %s, in pid %d (%s)%s",
		 g->stack->depth ? (strcmp(g->stack->kind, "connect") == 0 ? "connected in"
									  : "opened in")
				 : "no stack:",
		 fn ? fn : (g->stack->depth ? "??" : g->stack->nostack), (int)p->pid,
		 p->hdr.cmdline, rg->nm > 1 ? " and other processes" : "");
}

static json_object *result_json(const struct run_state *rs, const struct run_group *rg,
				const char *cwd)
{
	json_object *r = json_object_new_object(), *a, *fp, *props;
	char msg[1400];

	add(r, "ruleId", json_object_new_string(run_kind_name(rg->kind)));
	add(r, "ruleIndex", json_object_new_int(rg->kind));
	add(r, "level", json_object_new_string(rg->failing ? "error"
					       : (rg->supp || rg->baselined) ? "warning" : "note"));
	message(rs, rg, msg, sizeof(msg));
	add(r, "message", text(msg));
	a = json_object_new_array();
	json_object_array_add(a, result_location(rg, cwd));
	add(r, "locations", a);
	if (rg->m[0].g->nframes)
		add(r, "codeFlows", code_flows(rg->m[0].g, cwd));
	fp = json_object_new_object();
	add(fp, SARIF_FINGERPRINT, json_object_new_string(rg->hash));
	add(r, "partialFingerprints", fp);
	if (rs->opts.baseline_path)
		add(r, "baselineState", json_object_new_string(rg->baselined ? "unchanged" : "new"));
	if (rg->supp) {
		json_object *s = json_object_new_object();
		char why[600];

		snprintf(why, sizeof(why), "suppressed by '%s' (%s)", rg->supp->name,
			 rg->supp->where);
		add(s, "kind", json_object_new_string("external"));
		add(s, "justification", json_object_new_string(why));
		a = json_object_new_array();
		json_object_array_add(a, s);
		add(r, "suppressions", a);
	}
	props = json_object_new_object();
	add(props, "stackId", json_object_new_string(rg->stack_id));
	add(props, "count", json_object_new_uint64(rg->count));
	a = json_object_new_array();
	for (size_t i = 0; i < rg->nm; i++) {
		json_object *p = json_object_new_object();

		add(p, "pid", json_object_new_int(rg->m[i].p->pid));
		add(p, "cmdline", json_object_new_string(rg->m[i].p->hdr.cmdline));
		json_object_array_add(a, p);
	}
	add(props, "processes", a);
	add(r, "properties", props);
	return r;
}

static json_object *driver_json(void)
{
	json_object *d = json_object_new_object(), *a = json_object_new_array();

	add(d, "name", json_object_new_string("sockaudit"));
	add(d, "version", json_object_new_string(SOCKAUDIT_VERSION));
	add(d, "semanticVersion", json_object_new_string(SOCKAUDIT_VERSION));
	for (int k = 0; k < RUN_KIND_MAX; k++) {
		json_object *r = json_object_new_object(), *cfg = json_object_new_object();

		add(r, "id", json_object_new_string(run_kind_name((enum run_kind)k)));
		add(r, "name", json_object_new_string(rules[k].name));
		add(r, "shortDescription", text(rules[k].brief));
		add(r, "fullDescription", text(rules[k].full));
		add(r, "help", text(rules[k].full));
		add(cfg, "level", json_object_new_string(k == RUN_KIND_AT_EXIT ? "note" : "error"));
		add(r, "defaultConfiguration", cfg);
		json_object_array_add(a, r);
	}
	add(d, "rules", a);
	return d;
}

json_object *sarif_build(const struct run_state *rs)
{
	json_object *root = json_object_new_object(), *runs = json_object_new_array();
	json_object *run = json_object_new_object(), *tool = json_object_new_object();
	json_object *a, *inv = json_object_new_object();
	char cwd[PATH_MAX], *cmd = NULL;
	size_t cl = 0;
	FILE *f;

	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = '\0';
	add(root, "$schema", json_object_new_string(SARIF_SCHEMA));
	add(root, "version", json_object_new_string("2.1.0"));
	add(tool, "driver", driver_json());
	add(run, "tool", tool);
	f = open_memstream(&cmd, &cl);
	if (!f)
		die("out of memory");
	for (char **p = rs->opts.cmd; *p; p++)
		fprintf(f, "%s%s", p == rs->opts.cmd ? "" : " ", *p);
	fclose(f);
	add(inv, "commandLine", json_object_new_string(cmd));
	free(cmd);
	add(inv, "executionSuccessful", json_object_new_boolean(true));
	add(inv, "exitCode", json_object_new_int(rs->exit_status));
	a = json_object_new_array();
	json_object_array_add(a, inv);
	add(run, "invocations", a);
	a = json_object_new_array();
	for (size_t i = 0; i < rs->ngroups; i++)
		json_object_array_add(a, result_json(rs, &rs->groups[i], cwd));
	add(run, "results", a);
	json_object_array_add(runs, run);
	add(root, "runs", runs);
	return root;
}
