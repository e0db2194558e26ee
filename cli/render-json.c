/* render-json: the report as "sockaudit.report/1" (docs/report-json.md).
 * Unknown values are null, never 0 or "": a tool must be able to tell "no
 * time passed" from "nobody knows". Addresses are hex strings because JSON
 * numbers lose precision above 2^53. */
#include "render.h"

#include <string.h>

#include "config.h"
#include "report.h"

static json_object *jstr_or_null(const char *s)
{
	return s ? json_object_new_string(s) : json_object_new_null();
}

static json_object *jhex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	return json_object_new_string(buf);
}

static json_object *jms(bool known, uint64_t ms)
{
	return known ? json_object_new_uint64(ms) : json_object_new_null();
}

/* Every key here is a string that outlives the document and is added once
 * per object: json-c may keep the pointer and skip its duplicate lookup,
 * which is most of the cost of building a report of thousands of sockets. */
static void add(json_object *o, const char *k, json_object *v)
{
	json_object_object_add_ex(o, k, v,
				  JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY);
}

static json_object *process_json(const struct report *rep)
{
	const struct target *t = &rep->tgt;
	json_object *o = json_object_new_object();

	add(o, "pid", json_object_new_int(t->pid));
	add(o, "alive", json_object_new_boolean(rep->alive));
	add(o, "instrumented", json_object_new_boolean(rep->instrumented));
	add(o, "why_not_instrumented", rep->instrumented ? json_object_new_null()
							  : json_object_new_string(t->why));
	add(o, "comm", t->comm[0] ? json_object_new_string(t->comm) : json_object_new_null());
	add(o, "cmdline", json_object_new_string(t->cmdline[0] ? t->cmdline : rep->hdr.cmdline));
	add(o, "uid", json_object_new_int64(t->uid));
	add(o, "starttime", rep->alive || rep->instrumented
		? json_object_new_uint64(rep->alive ? t->starttime : rep->hdr.starttime)
		: json_object_new_null());
	add(o, "table", rep->instrumented ? json_object_new_string(t->table) : json_object_new_null());
	add(o, "generation", rep->instrumented ? json_object_new_int64(rep->hdr.generation)
					       : json_object_new_null());
	add(o, "exited", json_object_new_boolean(rep->instrumented &&
						 (rep->hdr.flags & SA_HDR_EXITED)));
	add(o, "run_id", rep->instrumented && rep->hdr.run_id[0]
		? json_object_new_string(rep->hdr.run_id) : json_object_new_null());
	return o;
}

static json_object *options_json(const struct report *rep)
{
	json_object *o = json_object_new_object();

	add(o, "close_wait_ms", json_object_new_uint64(rep->opts.leak.close_wait_ms));
	add(o, "idle_ms", json_object_new_uint64(rep->opts.leak.idle_ms));
	add(o, "all", json_object_new_boolean(rep->opts.all));
	return o;
}

static json_object *kernel_json(const struct report *rep)
{
	json_object *o = json_object_new_object();

	add(o, "source", !rep->have_ks ? json_object_new_null()
		: json_object_new_string(rep->ks_source == KS_SOURCE_DIAG ? "sock_diag" : "procnet"));
	add(o, "other_netns", json_object_new_boolean(rep->other_netns));
	return o;
}

static json_object *counters_json(const struct sa_counters *c)
{
	json_object *o = json_object_new_object();

	add(o, "records", json_object_new_uint64(c->records));
	add(o, "overflow_fd", json_object_new_uint64(c->overflow_fd));
	add(o, "overflow_stack", json_object_new_uint64(c->overflow_stack));
	add(o, "overflow_module", json_object_new_uint64(c->overflow_module));
	add(o, "missed", json_object_new_uint64(c->missed));
	add(o, "reserve_failed", json_object_new_uint64(c->reserve_failed));
	add(o, "stale_cleared", json_object_new_uint64(c->stale_cleared));
	return o;
}

static json_object *summary_json(const struct report *rep)
{
	const struct report_summary *s = &rep->join.sum;
	json_object *o = json_object_new_object(), *labels = json_object_new_object();
	json_object *kinds = json_object_new_object();

	add(o, "sockets", json_object_new_uint64(s->sockets));
	add(o, "fds", json_object_new_uint64(s->fds));
	add(o, "tracked", json_object_new_uint64(s->tracked));
	add(o, "untracked", json_object_new_uint64(s->untracked));
	add(o, "flagged", json_object_new_uint64(s->flagged));
	add(o, "suspect", json_object_new_uint64(s->suspect));
	add(o, "stale", json_object_new_uint64(s->stale));
	add(o, "unknown_slots", json_object_new_uint64(s->unknown_slots));
	add(o, "groups", json_object_new_uint64(rep->groups.n));
	for (int l = REPORT_LABEL_NONE + 1; l < REPORT_LABEL_MAX; l++)
		add(labels, report_label_key((enum report_label)l),
		    json_object_new_uint64(s->untracked_by_label[l]));
	add(o, "untracked_by_label", labels);
	for (int k = LEAK_NONE + 1; k < LEAK_KIND_MAX; k++)
		add(kinds, leak_kind_name((enum leak_kind)k), json_object_new_uint64(s->by_kind[k]));
	add(o, "by_kind", kinds);
	add(o, "counters", rep->instrumented ? counters_json(&rep->hdr.counters)
					     : json_object_new_null());
	return o;
}

static json_object *sock_json(const struct report *rep, const struct report_sock *s)
{
	json_object *o = json_object_new_object(), *fds = json_object_new_array();
	char buf[200];

	add(o, "fd", json_object_new_int(s->fds[0]));
	for (size_t i = 0; i < s->nfds; i++)
		json_object_array_add(fds, json_object_new_int(s->fds[i]));
	add(o, "fds", fds);
	add(o, "inode", s->inode & REPORT_INODE_NONE ? json_object_new_null()
						     : json_object_new_uint64(s->inode));
	report_sock_proto(s, buf, sizeof(buf));
	add(o, "proto", json_object_new_string(buf));
	add(o, "state", json_object_new_string(report_sock_state(s)));
	report_sock_local(s, buf, sizeof(buf));
	add(o, "local", json_object_new_string(buf));
	report_sock_peer(s, buf, sizeof(buf));
	add(o, "peer", json_object_new_string(buf));
	add(o, "idle_ms", jms(s->verdict.idle_known, s->verdict.idle_ms));
	add(o, "close_wait_ms", jms(s->verdict.close_wait_known, s->verdict.close_wait_ms));
	add(o, "close_wait_max_ms", jms(s->verdict.close_wait_known, s->verdict.close_wait_max_ms));
	add(o, "age_ms", jms(s->age_known, s->age_ms));
	add(o, "open_age_ms", jms(s->open_age_known, s->open_age_ms));
	add(o, "held", json_object_new_boolean(s->held));
	add(o, "tracked", json_object_new_boolean(s->tracked));
	add(o, "origin", s->tracked ? json_object_new_string(sa_origin_name(s->rec.origin))
				    : json_object_new_null());
	add(o, "label", s->tracked ? json_object_new_null()
				   : json_object_new_string(report_label_key(s->label)));
	add(o, "slot_unknown", json_object_new_boolean(s->slot_unknown));
	add(o, "flagged", json_object_new_boolean(s->verdict.flagged));
	add(o, "kind", s->verdict.kind == LEAK_NONE ? json_object_new_null()
		: json_object_new_string(leak_kind_name(s->verdict.kind)));
	report_sock_reason(s, &rep->opts.leak, buf, sizeof(buf));
	add(o, "reason", buf[0] ? json_object_new_string(buf) : json_object_new_null());
	return o;
}

static json_object *frame_json(const struct sym_frame *f)
{
	json_object *o = json_object_new_object();

	add(o, "addr", jhex(f->addr));
	add(o, "function", jstr_or_null(f->function));
	add(o, "file", jstr_or_null(f->file));
	add(o, "line", f->line ? json_object_new_int(f->line) : json_object_new_null());
	add(o, "module", jstr_or_null(f->module));
	add(o, "offset", f->module ? jhex(f->module_offset) : json_object_new_null());
	add(o, "inlined", json_object_new_boolean(f->inlined));
	return o;
}

json_object *render_json_frame(const struct sym_frame *f)
{
	return frame_json(f);
}

json_object *render_json_sock(const struct report *rep, const struct report_sock *s)
{
	return sock_json(rep, s);
}

static json_object *group_json(const struct report *rep, const struct group *g)
{
	json_object *o = json_object_new_object(), *a;
	char title[160];

	add(o, "id", json_object_new_uint64(g->id));
	a = json_object_new_array();
	for (int k = LEAK_NONE + 1; k < LEAK_KIND_MAX; k++)
		if (g->kinds & (1u << k))
			json_object_array_add(a, json_object_new_string(
						 leak_kind_name((enum leak_kind)k)));
	add(o, "kinds", a);
	add(o, "count", json_object_new_uint64(g->n));
	add(o, "flagged", json_object_new_uint64(g->flagged));
	add(o, "suspect", json_object_new_uint64(g->suspect));
	a = json_object_new_object();
	for (size_t i = 0; i < g->nstates; i++) {
		json_object *st = json_object_new_object();

		add(st, "count", json_object_new_uint64(g->states[i].count));
		add(st, "oldest_age_ms", jms(g->states[i].oldest_known, g->states[i].oldest_age_ms));
		json_object_object_add(a, g->states[i].name, st);
	}
	add(o, "states", a);
	add(o, "oldest_age_ms", jms(g->oldest_known, g->oldest_age_ms));
	a = json_object_new_array();
	for (size_t i = 0; i < g->npeers; i++) {
		json_object *p = json_object_new_object();

		add(p, "peer", json_object_new_string(g->peers[i].peer));
		add(p, "count", json_object_new_uint64(g->peers[i].count));
		json_object_array_add(a, p);
	}
	add(o, "peers", a);
	add(o, "distinct_peers", json_object_new_uint64(g->distinct_peers));
	add(o, "stack", jstr_or_null(g->stack->depth ? g->stack->kind : NULL));
	group_title_nostack(g, title, sizeof(title));
	add(o, "no_stack", g->stack->depth ? json_object_new_null()
					   : json_object_new_string(g->stack->nostack));
	add(o, "title", json_object_new_string(title[0] ? title
			: (g->nframes && g->frames[0].function ? g->frames[0].function : "??")));
	add(o, "generation", g->stack->depth ? json_object_new_int64(g->stack->generation)
					     : json_object_new_null());
	add(o, "frames_trimmed", json_object_new_uint64(g->trimmed));
	a = json_object_new_array();
	for (size_t i = 0; i < g->nframes; i++)
		json_object_array_add(a, frame_json(&g->frames[i]));
	add(o, "frames", a);
	a = json_object_new_array();
	for (size_t i = 0; i < g->n; i++)
		json_object_array_add(a, sock_json(rep, g->socks[i]));
	add(o, "sockets", a);
	return o;
}

static json_object *stale_json(const struct report_stale *s)
{
	json_object *o = json_object_new_object();

	add(o, "fd", json_object_new_int(s->rec.fd));
	add(o, "inode", s->rec.inode ? json_object_new_uint64(s->rec.inode) : json_object_new_null());
	add(o, "origin", json_object_new_string(sa_origin_name(s->rec.origin)));
	add(o, "why", json_object_new_string(s->why == REPORT_STALE_OTHER_INODE ? "other-socket"
										: "not-a-socket"));
	add(o, "now", json_object_new_string(s->now[0] ? s->now : "closed"));
	add(o, "now_inode", s->why == REPORT_STALE_OTHER_INODE ? json_object_new_uint64(s->now_inode)
							       : json_object_new_null());
	add(o, "open_age_ms", jms(s->open_age_known, s->open_age_ms));
	return o;
}

json_object *render_json(const struct report *rep)
{
	json_object *root = json_object_new_object(), *a;
	const struct report_join *j = &rep->join;

	add(root, "schema", json_object_new_string(RENDER_REPORT_SCHEMA));
	add(root, "version", json_object_new_string(SOCKAUDIT_VERSION));
	add(root, "process", process_json(rep));
	add(root, "options", options_json(rep));
	add(root, "kernel", kernel_json(rep));
	add(root, "summary", summary_json(rep));
	a = json_object_new_array();
	for (size_t i = 0; i < rep->groups.n; i++)
		json_object_array_add(a, group_json(rep, &rep->groups.v[i]));
	add(root, "groups", a);
	a = json_object_new_array();
	for (size_t i = 0; i < j->nsocks; i++)
		if (!j->socks[i].tracked)
			json_object_array_add(a, sock_json(rep, &j->socks[i]));
	add(root, "untracked", a);
	a = json_object_new_array();
	for (size_t i = 0; i < j->nstale; i++)
		json_object_array_add(a, stale_json(&j->stale[i]));
	add(root, "stale", a);
	a = json_object_new_array();
	for (size_t i = 0; i < j->nunknown; i++)
		json_object_array_add(a, json_object_new_int(j->unknown_fds[i]));
	add(root, "unknown_slots", a);
	a = json_object_new_array();
	for (size_t i = 0; i < rep->nnotes; i++)
		json_object_array_add(a, json_object_new_string(rep->notes[i]));
	add(root, "notes", a);
	return root;
}

void render_json_print(FILE *out, json_object *root)
{
	fputs(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					     JSON_C_TO_STRING_NOSLASHESCAPE), out);
	fputc('\n', out);
	json_object_put(root);
}
