/* host: `sockaudit report -A` as text (each process's report, then the
 * host's summary) or as "sockaudit.host/1" (docs/report-json.md). */
#include "render/render.h"

#include "config.h"
#include "report/host.h"
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

		if (!p->doc)
			fprintf(out, "pid %d (%s): not read: %s\n", (int)p->pid, p->comm, p->error);
	}
	if (h->npairs)
		fprintf(out, "%sboth ends on this host%s\n", bold, reset);
	for (size_t i = 0; i < h->npairs; i++) {
		const struct report_host_pair *p = &h->pairs[i];
		json_object *o = p->other, *v, *l;
		const char *st = json_object_object_get_ex(o, "state", &v) ? json_object_get_string(v) : "?";
		const char *addr = json_object_object_get_ex(o, "local", &v) ? json_object_get_string(v) : "?";

		fprintf(out, "  %s%s%s pid %d (%s) fd %d %s %s -> %s\n", red, p->kind ? p->kind : "",
			reset, (int)p->pid, p->comm, p->fd, p->state, p->local, p->peer);
		if (json_object_object_get_ex(o, "held", &v) && json_object_get_boolean(v)) {
			json_object *pid, *comm, *fd;

			json_object_object_get_ex(o, "pid", &pid);
			json_object_object_get_ex(o, "comm", &comm);
			json_object_object_get_ex(o, "fd", &fd);
			fprintf(out, "    other end: pid %d (%s) fd %d %s %s\n", json_object_get_int(pid),
				json_object_get_string(comm), json_object_get_int(fd), st, addr);
		} else {
			fprintf(out, "    other end: %s %s, held by no process (closed, kept by the kernel)",
				st, addr);
			if (json_object_object_get_ex(o, "listener", &l) && l &&
			    json_object_object_get_ex(l, "pid", &v)) {
				json_object *comm;

				json_object_object_get_ex(l, "comm", &comm);
				fprintf(out, "; pid %d (%s) listens there", json_object_get_int(v),
					json_object_get_string(comm));
			}
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

json_object *render_host_json(const struct report_host *h)
{
	json_object *root = json_object_new_object(), *o, *a, *e;

	json_object_object_add(root, "schema", json_object_new_string(RENDER_HOST_SCHEMA));
	json_object_object_add(root, "version", json_object_new_string(SOCKAUDIT_VERSION));
	o = json_object_new_object();
	json_object_object_add(o, "close_wait_ms", json_object_new_uint64(h->opts.leak.close_wait_ms));
	json_object_object_add(o, "idle_ms", json_object_new_uint64(h->opts.leak.idle_ms));
	json_object_object_add(o, "all", json_object_new_boolean(h->opts.all));
	json_object_object_add(root, "options", o);
	o = json_object_new_object();
	json_object_object_add(o, "processes", json_object_new_uint64(h->read));
	json_object_object_add(o, "unreadable", json_object_new_uint64(h->failed));
	json_object_object_add(o, "network_namespaces", json_object_new_uint64(h->netns));
	json_object_object_add(o, "tracked", json_object_new_uint64(h->tracked));
	json_object_object_add(o, "untracked", json_object_new_uint64(h->untracked));
	json_object_object_add(o, "stale", json_object_new_uint64(h->stale));
	json_object_object_add(o, "flagged", json_object_new_uint64(h->flagged));
	json_object_object_add(o, "flagged_processes", json_object_new_uint64(h->flagged_procs));
	json_object_object_add(root, "summary", o);
	a = json_object_new_array();
	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].doc)
			json_object_array_add(a, json_object_get(h->v[i].doc));
	json_object_object_add(root, "processes", a);
	a = json_object_new_array();
	for (size_t i = 0; i < h->n; i++) {
		const struct report_host_proc *p = &h->v[i];

		if (p->doc)
			continue;
		e = json_object_new_object();
		json_object_object_add(e, "pid", json_object_new_int(p->pid));
		json_object_object_add(e, "comm", json_object_new_string(p->comm));
		json_object_object_add(e, "error", json_object_new_string(p->error));
		json_object_array_add(a, e);
	}
	json_object_object_add(root, "unreadable", a);
	a = json_object_new_array();
	for (size_t i = 0; i < h->npairs; i++) {
		const struct report_host_pair *p = &h->pairs[i];

		e = json_object_new_object();
		json_object_object_add(e, "kind", p->kind ? json_object_new_string(p->kind) : NULL);
		o = json_object_new_object();
		json_object_object_add(o, "pid", json_object_new_int(p->pid));
		json_object_object_add(o, "comm", json_object_new_string(p->comm));
		json_object_object_add(o, "fd", json_object_new_int(p->fd));
		json_object_object_add(o, "state", json_object_new_string(p->state));
		json_object_object_add(o, "local", json_object_new_string(p->local));
		json_object_object_add(o, "peer", json_object_new_string(p->peer));
		json_object_object_add(e, "flagged", o);
		json_object_object_add(e, "other", json_object_get(p->other));
		json_object_array_add(a, e);
	}
	json_object_object_add(root, "pairs", a);
	return root;
}
