/* render: a run's findings as text (stderr, for the CI log) and as
 * "sockaudit.run/1" JSON (docs/report-json.md). Frames and socket objects
 * are the report's own renderers; what is new is the process tree and the
 * gate's verdict per group. */
#include "run/render.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "config.h"
#include "render/render.h"
#include "report/format.h"
#include "render/style.h"
#include "run/suppress.h"
#include "util/util.h"

#define RUN_MAX_PROCS 10   /* processes and sockets listed per group in text */
#define RUN_MAX_SOCKS 10


static const char *tcp_state_name(int state)
{
	struct ks_sock k = { .family = AF_INET, .protocol = IPPROTO_TCP, .state = state };

	return ks_state_name(&k);
}

/* The group's verdict in a word or two. */
static void group_status(const struct run_state *rs, const struct run_group *g, char *buf,
			 size_t len)
{
	if (g->failing)
		snprintf(buf, len, "FAIL");
	else if (g->supp)
		snprintf(buf, len, "suppressed by '%s' (%s)", g->supp->name, g->supp->where);
	else if (g->baselined)
		snprintf(buf, len, "in the baseline");
	else
		snprintf(buf, len, "not failing (%s is not in --fail-on)", run_kind_name(g->kind));
}

static void at_exit_reason(const struct run_sock *src, char *buf, size_t len)
{
	if (!src->exit_state_known)
		snprintf(buf, len, "open at exit, state unknown");
	else if (src->exit_state_shim)
		snprintf(buf, len, "open at exit, %s", tcp_state_name(src->exit_state));
	else
		snprintf(buf, len, "open at exit, %s at the last poll",
			 ks_state_name(&src->ks));
}

static void rescued_reason(const struct report_sock *s, char *buf, size_t len)
{
	char held[32];

	if (!s->open_age_known) {
		snprintf(buf, len, "dropped, closed by Go's garbage collector");
		return;
	}
	format_duration(s->open_age_ms, held, sizeof(held));
	snprintf(buf, len, "dropped, closed by Go's garbage collector after %s", held);
}

static void sock_line(FILE *out, const struct run_state *rs, const struct run_proc *p,
		      const struct report_sock *s, const struct style *st)
{
	size_t idx = (size_t)(s - p->rep.join.socks);
	char local[160], peer[160], proto[32], reason[240];

	report_sock_local(s, local, sizeof(local));
	report_sock_peer(s, peer, sizeof(peer));
	report_sock_proto(s, proto, sizeof(proto));
	if (p->kind_of[idx] == RUN_KIND_AT_EXIT)
		at_exit_reason(p->src_of[idx], reason, sizeof(reason));
	else if (p->kind_of[idx] == RUN_KIND_RESCUED)
		rescued_reason(s, reason, sizeof(reason));
	else
		report_sock_reason(s, &rs->opts.rep.leak, reason, sizeof(reason));
	fprintf(out, "    pid %d fd %d", (int)p->pid, s->fds[0]);
	for (size_t i = 1; i < s->nfds; i++)
		fprintf(out, ",%d", s->fds[i]);
	fprintf(out, "  %s %s  %s -> %s  %s%s%s\n", proto,
		p->kind_of[idx] == RUN_KIND_RESCUED ? "closed" : report_sock_state(s), local, peer,
		YELLOW(st), reason, RESET(st));
}

static void supp_name(const struct run_group *g, char *buf, size_t len)
{
	const struct group *first = g->m[0].g;
	const char *top = first->nframes && first->frames[0].function ? first->frames[0].function
								       : "nostack";

	snprintf(buf, len, "%s-%s-%.8s", run_kind_name(g->kind), top, g->hash);
}

static void render_group(FILE *out, const struct run_state *rs, const struct run_group *g,
			 const struct style *st)
{
	const struct group *first = g->m[0].g;
	char status[400], title[160];
	size_t shown = 0;

	group_status(rs, g, status, sizeof(status));
	fprintf(out, "\n%s#%zu %s%s %s  %s%zu %s%s in %zu %s\n", g->failing ? RED(st) : BOLD(st),
		g->id, status, RESET(st), run_kind_name(g->kind), BOLD(st), g->count,
		plural(g->count, "socket", "sockets"), RESET(st), g->nm,
		plural(g->nm, "process", "processes"));
	for (size_t i = 0; i < g->nm && i < RUN_MAX_PROCS; i++) {
		const struct run_proc *p = g->m[i].p;

		fprintf(out, "    process %d (parent %d", (int)p->pid, (int)p->hdr.ppid);
		if (p->status_known)
			fprintf(out, ", exit %d", p->status);
		fprintf(out, ")  %s\n", p->hdr.cmdline);
	}
	if (g->nm > RUN_MAX_PROCS)
		fprintf(out, "    ... and %zu more processes (--json lists them all)\n",
			g->nm - RUN_MAX_PROCS);
	group_title_nostack(first, title, sizeof(title));
	if (title[0]) {
		fprintf(out, "    %s%s%s\n", DIM(st), title, RESET(st));
	} else {
		fprintf(out, "    %s stack:\n", first->stack->kind);
		for (size_t i = 0; i < first->nframes; i++)
			render_text_frame(out, &first->frames[i], st->color);
		if (first->trimmed)
			fprintf(out, "      %s(%zu %s of %s left out)%s\n", DIM(st),
				first->trimmed, plural(first->trimmed, "frame", "frames"),
				first->trimmed_go ? "Go's runtime, syscall and net"
						  : "libc, the shim or a language runtime",
				RESET(st));
	}
	for (size_t i = 0; i < g->nm; i++)
		for (size_t k = 0; k < g->m[i].g->n; k++)
			if (shown++ < RUN_MAX_SOCKS)
				sock_line(out, rs, g->m[i].p, g->m[i].g->socks[k], st);
	if (shown > RUN_MAX_SOCKS)
		fprintf(out, "    ... and %zu more sockets (--json lists every socket)\n",
			shown - RUN_MAX_SOCKS);
	if (rs->opts.gen_suppressions) {
		char name[200];

		supp_name(g, name, sizeof(name));
		supp_print(out, name, run_kind_name(g->kind), first->frames,
			   first->stack->depth ? first->nframes : 0);
	}
}

static void fail_on_list(unsigned bits, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int k = 0; k < RUN_KIND_MAX; k++)
		if (bits & RUN_KIND_BIT(k))
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "",
					      run_kind_name((enum run_kind)k));
	if (!n)
		snprintf(buf, len, "nothing");
}

void run_render_text(FILE *out, const struct run_state *rs, bool color)
{
	const struct style st = { .color = color };
	char cw[32], idle[32], iv[32], fail[64];
	size_t sockets = 0, other;

	format_duration(rs->opts.rep.leak.close_wait_ms, cw, sizeof(cw));
	format_duration(rs->opts.rep.leak.idle_ms, idle, sizeof(idle));
	format_duration(rs->opts.interval_ms, iv, sizeof(iv));
	fail_on_list(rs->opts.fail_on, fail, sizeof(fail));
	fprintf(out, "\n%ssockaudit run:%s", BOLD(&st), RESET(&st));
	for (char **a = rs->opts.cmd; *a; a++)
		fprintf(out, " %s", *a);
	if (rs->cmd_signal)
		fprintf(out, "  (killed by signal %d)", rs->cmd_signal);
	else
		fprintf(out, "  (exit %d)", rs->cmd_status);
	fprintf(out, "\n  %zu %s audited, %zu polls every %s, run %s\n", rs->nprocs,
		plural(rs->nprocs, "process", "processes"), rs->npolls, iv, rs->run_id);
	fprintf(out, "  leak rule: CLOSE_WAIT >= %s, ESTABLISHED idle >= %s; sockets open at exit; "
		"fails on %s\n", cw, idle, fail);
	for (size_t i = 0; i < rs->ngroups; i++) {
		render_group(out, rs, &rs->groups[i], &st);
		sockets += rs->groups[i].count;
	}
	other = rs->ngroups - rs->nfailing - rs->nsuppressed - rs->nbaselined;
	fprintf(out, "\n%zu %s (%zu %s): %s%zu failing%s, %zu suppressed, %zu in the baseline, "
		"%zu not in --fail-on\n", rs->ngroups, plural(rs->ngroups, "group", "groups"),
		sockets, plural(sockets, "socket", "sockets"),
		rs->nfailing ? RED(&st) : GREEN(&st), rs->nfailing, RESET(&st), rs->nsuppressed,
		rs->nbaselined, other);
	for (size_t i = 0; i < rs->notes.n; i++)
		fprintf(out, "%snote:%s %s\n", YELLOW(&st), RESET(&st), rs->notes.v[i]);
}

static void add(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

static json_object *jstr_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : json_object_new_null();
}

static json_object *kinds_array(unsigned bits)
{
	json_object *a = json_object_new_array();

	for (int k = 0; k < RUN_KIND_MAX; k++)
		if (bits & RUN_KIND_BIT(k))
			json_object_array_add(a, json_object_new_string(
						 run_kind_name((enum run_kind)k)));
	return a;
}

static json_object *options_json(const struct run_state *rs)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();

	add(o, "close_wait_ms", json_object_new_uint64(rs->opts.rep.leak.close_wait_ms));
	add(o, "idle_ms", json_object_new_uint64(rs->opts.rep.leak.idle_ms));
	add(o, "interval_ms", json_object_new_uint64(rs->opts.interval_ms));
	add(o, "fail_on", kinds_array(rs->opts.fail_on));
	add(o, "exit_code", json_object_new_int(rs->opts.rep.exit_code));
	for (size_t i = 0; i < rs->opts.nsupp; i++)
		json_object_array_add(a, json_object_new_string(rs->opts.supp_paths[i]));
	add(o, "suppressions", a);
	add(o, "baseline", jstr_or_null(rs->opts.baseline_path));
	add(o, "preload", json_object_new_string(rs->shim));
	return o;
}

static json_object *summary_json(const struct run_state *rs)
{
	json_object *o = json_object_new_object(), *k = json_object_new_object();
	size_t sockets = 0;

	for (size_t i = 0; i < rs->ngroups; i++)
		sockets += rs->groups[i].count;
	add(o, "processes", json_object_new_uint64(rs->nprocs));
	add(o, "polls", json_object_new_uint64(rs->npolls));
	add(o, "duration_ms", json_object_new_uint64(rs->ended_ms - rs->started_ms));
	add(o, "groups", json_object_new_uint64(rs->ngroups));
	add(o, "sockets", json_object_new_uint64(sockets));
	add(o, "failing", json_object_new_uint64(rs->nfailing));
	add(o, "suppressed", json_object_new_uint64(rs->nsuppressed));
	add(o, "baselined", json_object_new_uint64(rs->nbaselined));
	for (int i = 0; i < RUN_KIND_MAX; i++)
		add(k, run_kind_name((enum run_kind)i), json_object_new_uint64(rs->by_kind[i]));
	add(o, "by_kind", k);
	return o;
}

static json_object *process_json(const struct run_state *rs, const struct run_proc *p)
{
	json_object *o = json_object_new_object();

	add(o, "pid", json_object_new_int(p->pid));
	add(o, "ppid", p->have_hdr ? json_object_new_int(p->hdr.ppid) : json_object_new_null());
	add(o, "starttime", json_object_new_uint64(p->starttime));
	add(o, "cmdline", p->have_hdr ? json_object_new_string(p->hdr.cmdline)
				      : json_object_new_null());
	add(o, "generation", p->have_hdr ? json_object_new_int64(p->hdr.generation)
					 : json_object_new_null());
	add(o, "exit_path", json_object_new_boolean(p->ran_exit_path));
	add(o, "exit_status", p->status_known ? json_object_new_int(p->status)
					      : json_object_new_null());
	add(o, "polls", json_object_new_uint64(p->polls));
	add(o, "error", p->have_hdr ? json_object_new_null() : jstr_or_null(p->table_error));
	add(o, "table", json_object_new_string(p->path));
	return o;
}

static json_object *sock_json(const struct run_state *rs, const struct run_proc *p,
			      const struct report_sock *s)
{
	size_t idx = (size_t)(s - p->rep.join.socks);
	const struct run_sock *src = p->src_of[idx];
	json_object *o = render_json_sock(&p->rep, s);

	add(o, "pid", json_object_new_int(p->pid));
	add(o, "run_kind", json_object_new_string(run_kind_name(p->kind_of[idx])));
	if (p->kind_of[idx] == RUN_KIND_RESCUED)
		add(o, "state", json_object_new_string("closed"));
	add(o, "close_wait_observed_ms", src->cw_seen ? json_object_new_uint64(src->cw_ms)
						      : json_object_new_null());
	add(o, "idle_max_ms", src->idle_seen ? json_object_new_uint64(src->idle_ms)
					     : json_object_new_null());
	add(o, "at_exit", json_object_new_boolean(src->at_exit));
	add(o, "exit_state", src->exit_state_known
		? json_object_new_string(src->exit_state_shim ? tcp_state_name(src->exit_state)
							      : ks_state_name(&src->ks))
		: json_object_new_null());
	add(o, "exit_state_from", !src->exit_state_known ? json_object_new_null()
		: json_object_new_string(src->exit_state_shim ? "exit-path" : "last-poll"));
	add(o, "rescued_close_ns", src->rescued ? json_object_new_uint64(src->rescued_close_ns)
						: json_object_new_null());
	add(o, "rescued_held_ms", src->rescued && s->open_age_known
		? json_object_new_uint64(s->open_age_ms) : json_object_new_null());
	return o;
}

static json_object *group_json(const struct run_state *rs, const struct run_group *g)
{
	const struct group *first = g->m[0].g;
	json_object *o = json_object_new_object(), *a, *sup;
	char title[160];

	add(o, "id", json_object_new_uint64(g->id));
	add(o, "kind", json_object_new_string(run_kind_name(g->kind)));
	add(o, "failing", json_object_new_boolean(g->failing));
	if (g->supp) {
		sup = json_object_new_object();
		add(sup, "name", json_object_new_string(g->supp->name));
		add(sup, "where", json_object_new_string(g->supp->where));
	} else {
		sup = json_object_new_null();
	}
	add(o, "suppressed", sup);
	add(o, "baselined", json_object_new_boolean(g->baselined));
	add(o, "stack_id", json_object_new_string(g->stack_id));
	add(o, "stack_hash", json_object_new_string(g->hash));
	add(o, "count", json_object_new_uint64(g->count));
	a = json_object_new_array();
	for (size_t i = 0; i < g->nm; i++) {
		json_object *p = json_object_new_object();

		add(p, "pid", json_object_new_int(g->m[i].p->pid));
		add(p, "cmdline", json_object_new_string(g->m[i].p->hdr.cmdline));
		add(p, "count", json_object_new_uint64(g->m[i].g->n));
		json_object_array_add(a, p);
	}
	add(o, "processes", a);
	add(o, "stack", first->stack->depth ? json_object_new_string(first->stack->kind)
					    : json_object_new_null());
	add(o, "no_stack", first->stack->depth ? json_object_new_null()
					       : json_object_new_string(first->stack->nostack));
	group_title_nostack(first, title, sizeof(title));
	add(o, "title", json_object_new_string(title[0] ? title
			: (first->nframes && first->frames[0].function ? first->frames[0].function
								       : "??")));
	add(o, "frames_trimmed", json_object_new_uint64(first->trimmed));
	add(o, "frames_trimmed_below", json_object_new_uint64(first->trimmed_below));
	a = json_object_new_array();
	for (size_t i = 0; i < first->nframes; i++)
		json_object_array_add(a, render_json_frame(&first->frames[i]));
	add(o, "frames", a);
	a = json_object_new_array();
	for (size_t i = 0; i < g->nm; i++)
		for (size_t k = 0; k < g->m[i].g->n; k++)
			json_object_array_add(a, sock_json(rs, g->m[i].p, g->m[i].g->socks[k]));
	add(o, "sockets", a);
	return o;
}

json_object *run_render_json(const struct run_state *rs)
{
	json_object *root = json_object_new_object(), *a, *st;

	add(root, "schema", json_object_new_string(RUN_SCHEMA));
	add(root, "version", json_object_new_string(SOCKAUDIT_VERSION));
	add(root, "run_id", json_object_new_string(rs->run_id));
	a = json_object_new_array();
	for (char **p = rs->opts.cmd; *p; p++)
		json_object_array_add(a, json_object_new_string(*p));
	add(root, "command", a);
	st = json_object_new_object();
	add(st, "exit_status", json_object_new_int(rs->exit_status));
	add(st, "command_status", json_object_new_int(rs->cmd_status));
	add(st, "command_signal", rs->cmd_signal ? json_object_new_int(rs->cmd_signal)
						 : json_object_new_null());
	add(root, "result", st);
	add(root, "options", options_json(rs));
	add(root, "summary", summary_json(rs));
	a = json_object_new_array();
	for (size_t i = 0; i < rs->nprocs; i++)
		json_object_array_add(a, process_json(rs, rs->procs[i]));
	add(root, "processes", a);
	a = json_object_new_array();
	for (size_t i = 0; i < rs->ngroups; i++)
		json_object_array_add(a, group_json(rs, &rs->groups[i]));
	add(root, "groups", a);
	a = json_object_new_array();
	for (size_t i = 0; i < rs->notes.n; i++)
		json_object_array_add(a, json_object_new_string(rs->notes.v[i]));
	add(root, "notes", a);
	return root;
}
