/* host: `sockaudit report -A` as text (each process's report, then the
 * host's summary) or as "sockaudit.host/1" (docs/report-json.md). */
#include "render/render.h"

#include "config.h"
#include "report/host.h"
#include "util/json-writer.h"
#include "util/util.h"

void render_host_text(FILE *out, const struct report_host *h, bool color)
{
	const char *bold = color ? "\033[1m" : "", *red = color ? "\033[1;31m" : "";
	const char *reset = color ? "\033[0m" : "";

	for (size_t i = 0; i < h->n; i++) {
		const struct report_host_proc *p = &h->v[i];

		if (p->text) {
			fputs(p->text, out);
			fputc('\n', out);
		}
	}
	for (size_t i = 0; i < h->n; i++) {
		const struct report_host_proc *p = &h->v[i];

		if (!p->json)
			fprintf(out, "pid %d (%s): not read: %s\n", (int)p->pid, p->comm, p->error);
	}
	if (h->npairs)
		fprintf(out, "%sboth ends on this host%s\n", bold, reset);
	for (size_t i = 0; i < h->npairs; i++) {
		const struct report_host_pair *p = &h->pairs[i];
		const struct report_peer *o = &p->other;

		fprintf(out, "  %s%s%s pid %d (%s) fd %d %s %s -> %s\n", red, p->kind ? p->kind : "",
			reset, (int)p->pid, p->comm, p->fd, p->state, p->local, p->peer);
		if (o->held) {
			fprintf(out, "    other end: pid %d (%s) fd %d %s %s\n", (int)o->pid, o->comm,
				o->fd, o->state, o->local);
		} else {
			fprintf(out, "    other end: %s %s, held by no process (closed, kept by the kernel)",
				o->state, o->local);
			if (o->listener_pid)
				fprintf(out, "; pid %d (%s) listens there", (int)o->listener_pid,
					o->listener_comm);
			fputc('\n', out);
		}
	}
	fprintf(out, "%shost: %zu audited %s read%s", bold, h->read,
		h->read == 1 ? "process" : "processes", reset);
	if (h->failed)
		fprintf(out, ", %zu could not be", h->failed);
	fprintf(out, "; %zu network %s\n", h->netns, h->netns == 1 ? "namespace" : "namespaces");
	fprintf(out, "  %llu sockets tracked, %llu untracked, %llu stale records\n",
		(unsigned long long)h->tracked, (unsigned long long)h->untracked,
		(unsigned long long)h->stale);
	if (h->flagged)
		fprintf(out, "  %s%llu %s flagged in %zu %s%s\n", red,
			(unsigned long long)h->flagged, h->flagged == 1 ? "socket" : "sockets",
			h->flagged_procs, h->flagged_procs == 1 ? "process" : "processes", reset);
	else
		fprintf(out, "  nothing flagged\n");
}

/* Written as it goes: each process's document is put in as its report
 * wrote it, never parsed again. */
void render_host_json(FILE *out, const struct report_host *h)
{
	struct jw w;

	jw_init(&w, out);
	jw_object_begin(&w);
	jw_kstr(&w, "schema", RENDER_HOST_SCHEMA);
	jw_kstr(&w, "version", SOCKAUDIT_VERSION);
	jw_key(&w, "options");
	jw_object_begin(&w);
	jw_kuint(&w, "close_wait_ms", h->opts.leak.close_wait_ms);
	jw_kuint(&w, "idle_ms", h->opts.leak.idle_ms);
	jw_key(&w, "all");
	jw_bool(&w, h->opts.all);
	jw_object_end(&w);
	jw_key(&w, "summary");
	jw_object_begin(&w);
	jw_kuint(&w, "processes", h->read);
	jw_kuint(&w, "unreadable", h->failed);
	jw_kuint(&w, "network_namespaces", h->netns);
	jw_kuint(&w, "tracked", h->tracked);
	jw_kuint(&w, "untracked", h->untracked);
	jw_kuint(&w, "stale", h->stale);
	jw_kuint(&w, "flagged", h->flagged);
	jw_kuint(&w, "flagged_processes", h->flagged_procs);
	jw_object_end(&w);
	jw_key(&w, "processes");
	jw_array_begin(&w);
	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].json)
			jw_raw(&w, h->v[i].json);
	jw_array_end(&w);
	jw_key(&w, "unreadable");
	jw_array_begin(&w);
	for (size_t i = 0; i < h->n; i++) {
		const struct report_host_proc *p = &h->v[i];

		if (p->json)
			continue;
		jw_object_begin(&w);
		jw_kint(&w, "pid", p->pid);
		jw_kstr(&w, "comm", p->comm);
		jw_kstr(&w, "error", p->error);
		jw_object_end(&w);
	}
	jw_array_end(&w);
	jw_key(&w, "pairs");
	jw_array_begin(&w);
	for (size_t i = 0; i < h->npairs; i++) {
		const struct report_host_pair *p = &h->pairs[i];

		jw_object_begin(&w);
		jw_kstr(&w, "kind", p->kind);
		jw_key(&w, "flagged");
		jw_object_begin(&w);
		jw_kint(&w, "pid", p->pid);
		jw_kstr(&w, "comm", p->comm);
		jw_kint(&w, "fd", p->fd);
		jw_kstr(&w, "state", p->state);
		jw_kstr(&w, "local", p->local);
		jw_kstr(&w, "peer", p->peer);
		jw_object_end(&w);
		jw_key(&w, "other");
		render_json_peer(&w, &p->other);
		jw_object_end(&w);
	}
	jw_array_end(&w);
	jw_object_end(&w);
	jw_finish(&w);
	fputc('\n', out);
}
