/* json: the report as "sockaudit.report/1" (docs/report-json.md).
 * Unknown values are null, never 0 or "": a tool must be able to tell "no
 * time passed" from "nobody knows". Addresses are hex strings because JSON
 * numbers lose precision above 2^53. The document is written as it is
 * produced (json-writer.h): a report of thousands of sockets would
 * otherwise spend most of its time building a json-c tree. */
#include "render/render.h"

#include <string.h>

#include "config.h"
#include "util/json-writer.h"
#include "report/format.h"
#include "report/model.h"
#include "report/peer.h"
#include "util/util.h"

static void knull(struct jw *w, const char *k)
{
	jw_key(w, k);
	jw_null(w);
}

/* A duration in ms, or null when unknown. */
static void kms(struct jw *w, const char *k, bool known, uint64_t ms)
{
	jw_key(w, k);
	if (known)
		jw_uint(w, ms);
	else
		jw_null(w);
}

static void process_json(struct jw *w, const struct report *rep)
{
	const struct target *t = &rep->tgt;

	jw_object_begin(w);
	jw_kint(w, "pid", t->pid);
	jw_kbool(w, "alive", rep->alive);
	jw_kbool(w, "instrumented", rep->instrumented);
	jw_kstr(w, "why_not_instrumented", rep->instrumented ? NULL : t->why);
	jw_kstr(w, "comm", t->comm[0] ? t->comm : NULL);
	jw_kstr(w, "cmdline", t->cmdline[0] ? t->cmdline : rep->hdr.cmdline);
	jw_kint(w, "uid", t->uid);
	if (rep->alive || rep->instrumented)
		jw_kuint(w, "starttime", rep->alive ? t->starttime : rep->hdr.starttime);
	else
		knull(w, "starttime");
	jw_kstr(w, "table", rep->instrumented ? t->table : NULL);
	if (rep->instrumented)
		jw_kint(w, "generation", rep->hdr.generation);
	else
		knull(w, "generation");
	jw_kbool(w, "exited", rep->instrumented && (rep->hdr.flags & SA_HDR_EXITED));
	jw_kstr(w, "run_id", rep->instrumented && rep->hdr.run_id[0] ? rep->hdr.run_id : NULL);
	jw_kint(w, "ns_pid", t->ns.ns_pid);
	jw_kint(w, "ns_uid", t->ns.ns_euid);
	jw_kstr(w, "root", t->ns.other_root ? "other" : "ours");
	jw_key(w, "container");
	if (t->container.runtime[0]) {
		jw_object_begin(w);
		jw_kstr(w, "runtime", t->container.runtime);
		jw_kstr(w, "id", t->container.id);
		jw_object_end(w);
	} else {
		jw_null(w);
	}
	if (rep->open_fds)
		jw_kuint(w, "open_fds", rep->open_fds);
	else
		knull(w, "open_fds");
	if (rep->nofile_soft && rep->nofile_soft != UINT64_MAX)
		jw_kuint(w, "nofile_limit", rep->nofile_soft);
	else
		knull(w, "nofile_limit");
	jw_object_end(w);
}

static void options_json(struct jw *w, const struct report *rep)
{
	jw_object_begin(w);
	jw_kuint(w, "close_wait_ms", rep->opts.leak.close_wait_ms);
	jw_kuint(w, "idle_ms", rep->opts.leak.idle_ms);
	jw_kbool(w, "all", rep->opts.all);
	jw_object_end(w);
}

static void kernel_json(struct jw *w, const struct report *rep)
{
	jw_object_begin(w);
	jw_kstr(w, "source", !rep->have_ks ? NULL
		: rep->ks_source == KS_SOURCE_DIAG ? "sock_diag" : "procnet");
	jw_kbool(w, "other_netns", rep->other_netns);
	jw_object_end(w);
}

static void counters_json(struct jw *w, const struct sa_counters *c)
{
	jw_object_begin(w);
	for (unsigned i = 0; i < SA_NCOUNTERS; i++)
		jw_kuint(w, sa_counter_names[i], sa_counter_at(c, i));
	jw_object_end(w);
}

static void summary_json(struct jw *w, const struct report *rep)
{
	const struct report_summary *s = &rep->join.sum;

	jw_object_begin(w);
	jw_kuint(w, "sockets", s->sockets);
	jw_kuint(w, "fds", s->fds);
	jw_kuint(w, "tracked", s->tracked);
	jw_kuint(w, "untracked", s->untracked);
	jw_kuint(w, "flagged", s->flagged);
	jw_kuint(w, "suspect", s->suspect);
	jw_kuint(w, "stale", s->stale);
	jw_kuint(w, "unknown_slots", s->unknown_slots);
	jw_kuint(w, "vanished", s->vanished);
	jw_kuint(w, "groups", rep->groups.n);
	jw_key(w, "untracked_by_label");
	jw_object_begin(w);
	for (int l = REPORT_LABEL_NONE + 1; l < REPORT_LABEL_MAX; l++)
		jw_kuint(w, report_label_key((enum report_label)l), s->untracked_by_label[l]);
	jw_object_end(w);
	jw_key(w, "by_kind");
	jw_object_begin(w);
	for (int k = LEAK_NONE + 1; k < LEAK_KIND_MAX; k++)
		jw_kuint(w, leak_kind_name((enum leak_kind)k), s->by_kind[k]);
	jw_object_end(w);
	jw_key(w, "counters");
	if (rep->instrumented)
		counters_json(w, &rep->hdr.counters);
	else
		jw_null(w);
	jw_object_end(w);
}

void render_json_peer(struct jw *w, const struct report_peer *p)
{
	if (!p) {
		jw_null(w);
		return;
	}
	jw_object_begin(w);
	if (p->held) {
		jw_kint(w, "pid", p->pid);
		jw_kstr(w, "comm", p->comm);
		jw_kint(w, "fd", p->fd);
	} else {
		knull(w, "pid");
		knull(w, "comm");
		knull(w, "fd");
	}
	jw_kstr(w, "state", p->state);
	jw_kstr(w, "local", p->local);
	jw_kbool(w, "held", p->held);
	jw_kbool(w, "orphan", p->orphan);
	jw_kstr(w, "netns", p->other_netns ? "other" : "same");
	jw_key(w, "listener");
	if (p->listener_pid) {
		jw_object_begin(w);
		jw_kint(w, "pid", p->listener_pid);
		jw_kstr(w, "comm", p->listener_comm);
		jw_object_end(w);
	} else {
		jw_null(w);
	}
	jw_key(w, "frame");
	if (p->have_frame) {
		jw_object_begin(w);
		jw_kstr(w, "stack", p->stack);
		jw_kstr(w, "function", p->function);
		jw_kstr(w, "file", p->file[0] ? p->file : NULL);
		if (p->line)
			jw_kint(w, "line", p->line);
		else
			knull(w, "line");
		jw_object_end(w);
	} else {
		jw_null(w);
	}
	jw_object_end(w);
}

static void sock_json(struct jw *w, const struct report *rep, const struct report_sock *s)
{
	char buf[200];

	jw_object_begin(w);
	jw_kint(w, "fd", s->fds[0]);
	jw_key(w, "fds");
	jw_array_begin(w);
	for (size_t i = 0; i < s->nfds; i++)
		jw_int(w, s->fds[i]);
	jw_array_end(w);
	if (s->inode & REPORT_INODE_NONE)
		knull(w, "inode");
	else
		jw_kuint(w, "inode", s->inode);
	report_sock_proto(s, buf, sizeof(buf));
	jw_kstr(w, "proto", buf);
	jw_kstr(w, "state", report_sock_state(s));
	report_sock_local(s, buf, sizeof(buf));
	jw_kstr(w, "local", buf);
	report_sock_peer(s, buf, sizeof(buf));
	jw_kstr(w, "peer", buf);
	kms(w, "idle_ms", s->verdict.idle_known, s->verdict.idle_ms);
	kms(w, "close_wait_ms", s->verdict.close_wait_known, s->verdict.close_wait_ms);
	kms(w, "close_wait_max_ms", s->verdict.close_wait_known, s->verdict.close_wait_max_ms);
	kms(w, "age_ms", s->age_known, s->age_ms);
	kms(w, "open_age_ms", s->open_age_known, s->open_age_ms);
	jw_kbool(w, "held", s->held);
	jw_kbool(w, "tracked", s->tracked);
	jw_kstr(w, "origin", s->tracked ? sa_origin_name(s->rec.origin) : NULL);
	jw_kstr(w, "label", s->tracked ? NULL : report_label_key(s->label));
	jw_kbool(w, "slot_unknown", s->slot_unknown);
	jw_kbool(w, "flagged", s->verdict.flagged);
	jw_kstr(w, "kind", s->verdict.kind == LEAK_NONE ? NULL : leak_kind_name(s->verdict.kind));
	report_sock_reason(s, &rep->opts.leak, buf, sizeof(buf));
	jw_kstr(w, "reason", buf[0] ? buf : NULL);
	jw_key(w, "peer_process");
	render_json_peer(w, s->peer);
	jw_object_end(w);
}

static void frame_json(struct jw *w, const struct sym_frame *f)
{
	jw_object_begin(w);
	jw_key(w, "addr");
	jw_hex(w, f->addr);
	jw_kstr(w, "function", f->function);
	jw_kstr(w, "linkage", f->linkage);
	jw_kstr(w, "language", f->language ? f->language : "native");
	if (f->column)
		jw_kint(w, "column", f->column);
	else
		knull(w, "column");
	jw_kstr(w, "file", f->file);
	if (f->line)
		jw_kint(w, "line", f->line);
	else
		knull(w, "line");
	jw_kstr(w, "module", f->module);
	jw_key(w, "offset");
	if (f->module)
		jw_hex(w, f->module_offset);
	else
		jw_null(w);
	jw_kbool(w, "inlined", f->inlined);
	jw_object_end(w);
}

/* `run` builds its document with json-c: it gets the same pieces, parsed
 * back from the text, so there is one definition of each. */
static json_object *to_json_c(struct jw *w)
{
	char *text = jw_take(w);
	json_object *o = json_tokener_parse(text);

	if (!o)
		die("internal error: the JSON writer produced unparsable text");
	free(text);
	return o;
}

json_object *render_json_frame(const struct sym_frame *f)
{
	struct jw w;

	jw_init(&w, NULL);
	frame_json(&w, f);
	return to_json_c(&w);
}

json_object *render_json_sock(const struct report *rep, const struct report_sock *s)
{
	struct jw w;

	jw_init(&w, NULL);
	sock_json(&w, rep, s);
	return to_json_c(&w);
}

static void group_json(struct jw *w, const struct report *rep, const struct group *g)
{
	char title[160];

	jw_object_begin(w);
	jw_kuint(w, "id", g->id);
	jw_key(w, "kinds");
	jw_array_begin(w);
	for (int k = LEAK_NONE + 1; k < LEAK_KIND_MAX; k++)
		if (g->kinds & (1u << k))
			jw_string(w, leak_kind_name((enum leak_kind)k));
	jw_array_end(w);
	jw_kuint(w, "count", g->n);
	jw_kuint(w, "flagged", g->flagged);
	jw_kuint(w, "suspect", g->suspect);
	jw_key(w, "states");
	jw_object_begin(w);
	for (size_t i = 0; i < g->nstates; i++) {
		jw_key(w, g->states[i].name);
		jw_object_begin(w);
		jw_kuint(w, "count", g->states[i].count);
		kms(w, "oldest_age_ms", g->states[i].oldest_known, g->states[i].oldest_age_ms);
		jw_object_end(w);
	}
	jw_object_end(w);
	kms(w, "oldest_age_ms", g->oldest_known, g->oldest_age_ms);
	jw_key(w, "peers");
	jw_array_begin(w);
	for (size_t i = 0; i < g->npeers; i++) {
		jw_object_begin(w);
		jw_kstr(w, "peer", g->peers[i].peer);
		jw_kuint(w, "count", g->peers[i].count);
		jw_object_end(w);
	}
	jw_array_end(w);
	jw_kuint(w, "distinct_peers", g->distinct_peers);
	if (g->counts_known) {
		jw_kuint(w, "opened_total", g->opened_total);
		jw_kuint(w, "closed_total", g->closed_total);
		jw_kuint(w, "collected_total", g->collected_total);
		jw_kuint(w, "held", g->opened_total > g->closed_total
				 ? g->opened_total - g->closed_total : 0);
	} else {
		knull(w, "opened_total");
		knull(w, "closed_total");
		knull(w, "collected_total");
		knull(w, "held");
	}
	jw_key(w, "growth");
	jw_object_begin(w);
	jw_key(w, "growing");
	jw_bool(w, g->growing);
	if (g->growing) {
		jw_key(w, "per_hour");
		jw_double(w, g->growth_per_hour);
	} else {
		knull(w, "per_hour");
	}
	if (g->exhaust_known)
		jw_kuint(w, "exhausts_in_s", g->exhaust_s);
	else
		knull(w, "exhausts_in_s");
	jw_object_end(w);
	jw_kstr(w, "stack", g->stack->depth ? g->stack->kind : NULL);
	group_title_nostack(g, title, sizeof(title));
	jw_kstr(w, "no_stack", g->stack->depth ? NULL : g->stack->nostack);
	jw_kstr(w, "title", title[0] ? title
		: (g->nframes && g->frames[0].function ? g->frames[0].function : "??"));
	if (g->stack->depth)
		jw_kint(w, "generation", g->stack->generation);
	else
		knull(w, "generation");
	jw_kuint(w, "frames_trimmed", g->trimmed);
	jw_kuint(w, "frames_trimmed_below", g->trimmed_below);
	jw_key(w, "frames");
	jw_array_begin(w);
	for (size_t i = 0; i < g->nframes; i++)
		frame_json(w, &g->frames[i]);
	jw_array_end(w);
	jw_key(w, "sockets");
	jw_array_begin(w);
	for (size_t i = 0; i < g->n; i++)
		sock_json(w, rep, g->socks[i]);
	jw_array_end(w);
	jw_object_end(w);
}

static void stale_json(struct jw *w, const struct report_stale *s)
{
	jw_object_begin(w);
	jw_kint(w, "fd", s->rec.fd);
	if (s->rec.inode)
		jw_kuint(w, "inode", s->rec.inode);
	else
		knull(w, "inode");
	jw_kstr(w, "origin", sa_origin_name(s->rec.origin));
	jw_kstr(w, "why", s->why == REPORT_STALE_OTHER_INODE ? "other-socket" : "not-a-socket");
	jw_kstr(w, "now", s->now[0] ? s->now : "closed");
	if (s->why == REPORT_STALE_OTHER_INODE)
		jw_kuint(w, "now_inode", s->now_inode);
	else
		knull(w, "now_inode");
	kms(w, "open_age_ms", s->open_age_known, s->open_age_ms);
	jw_object_end(w);
}

/* "rescued": closes by a garbage collector (finding kind `rescued`). */
static void rescued_json(struct jw *w, const struct report *rep)
{
	const struct report_rescued_set *rs = &rep->rescued;
	uint64_t now = now_realtime_ns();

	jw_object_begin(w);
	jw_kuint(w, "total", rs->total);
	jw_kuint(w, "shown", rs->n);
	jw_key(w, "sockets");
	jw_array_begin(w);
	for (size_t i = 0; i < rs->n; i++) {
		const struct sa_rescued *e = &rs->v[i].e;
		const struct group *g = &rs->groups.v[i];
		char peer[160];

		report_slot_peer(&e->slot, peer, sizeof(peer));
		jw_object_begin(w);
		jw_kstr(w, "kind", "rescued");
		jw_kint(w, "fd", e->slot.fd);
		if (e->slot.inode)
			jw_kuint(w, "inode", e->slot.inode);
		else
			knull(w, "inode");
		jw_kstr(w, "peer", peer);
		jw_kuint(w, "open_ns", e->slot.open_ns);
		jw_kuint(w, "close_ns", e->close_ns);
		jw_kuint(w, "held_ms", e->close_ns > e->slot.open_ns ?
		      (e->close_ns - e->slot.open_ns) / 1000000 : 0);
		jw_kuint(w, "closed_ago_ms", now > e->close_ns ? (now - e->close_ns) / 1000000 : 0);
		/* The per-site counts of its open stack. */
		if (rs->v[i].counts_known) {
			jw_kuint(w, "opened_total", rs->v[i].opened);
			jw_kuint(w, "closed_total", rs->v[i].closed);
			jw_kuint(w, "collected_total", rs->v[i].collected);
		} else {
			knull(w, "opened_total");
			knull(w, "closed_total");
			knull(w, "collected_total");
		}
		jw_kstr(w, "stack", g->stack->depth ? g->stack->kind : NULL);
		jw_kstr(w, "no_stack", g->stack->depth ? NULL : g->stack->nostack);
		jw_kstr(w, "title", g->nframes && g->frames[0].function ? g->frames[0].function : "??");
		jw_kuint(w, "frames_trimmed", g->trimmed);
		jw_kuint(w, "frames_trimmed_below", g->trimmed_below);
		jw_key(w, "frames");
		jw_array_begin(w);
		for (size_t f = 0; f < g->nframes; f++)
			frame_json(w, &g->frames[f]);
		jw_array_end(w);
		jw_object_end(w);
	}
	jw_array_end(w);
	jw_object_end(w);
}

void render_json(FILE *out, const struct report *rep)
{
	const struct report_join *j = &rep->join;
	struct jw w;

	jw_init(&w, out);
	jw_object_begin(&w);
	jw_kstr(&w, "schema", RENDER_REPORT_SCHEMA);
	jw_kstr(&w, "version", SOCKAUDIT_VERSION);
	jw_key(&w, "process");
	process_json(&w, rep);
	jw_key(&w, "options");
	options_json(&w, rep);
	jw_key(&w, "kernel");
	kernel_json(&w, rep);
	jw_key(&w, "summary");
	summary_json(&w, rep);
	jw_key(&w, "groups");
	jw_array_begin(&w);
	for (size_t i = 0; i < rep->groups.n; i++)
		group_json(&w, rep, &rep->groups.v[i]);
	jw_array_end(&w);
	jw_key(&w, "rescued");
	rescued_json(&w, rep);
	jw_key(&w, "untracked");
	jw_array_begin(&w);
	for (size_t i = 0; i < j->nsocks; i++)
		if (!j->socks[i].tracked)
			sock_json(&w, rep, &j->socks[i]);
	jw_array_end(&w);
	jw_key(&w, "stale");
	jw_array_begin(&w);
	for (size_t i = 0; i < j->nstale; i++)
		stale_json(&w, &j->stale[i]);
	jw_array_end(&w);
	jw_key(&w, "unknown_slots");
	jw_array_begin(&w);
	for (size_t i = 0; i < j->nunknown; i++)
		jw_int(&w, j->unknown_fds[i]);
	jw_array_end(&w);
	jw_key(&w, "notes");
	jw_array_begin(&w);
	for (size_t i = 0; i < rep->notes.n; i++)
		jw_string(&w, rep->notes.v[i]);
	jw_array_end(&w);
	jw_object_end(&w);
	jw_finish(&w);
	fputc('\n', out);
}

void render_json_print(FILE *out, json_object *root)
{
	fputs(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					     JSON_C_TO_STRING_NOSLASHESCAPE), out);
	fputc('\n', out);
	json_object_put(root);
}
