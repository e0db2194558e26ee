#include "report/host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t num(json_object *doc, const char *a, const char *b)
{
	json_object *o, *v;

	if (!json_object_object_get_ex(doc, a, &o) || !json_object_object_get_ex(o, b, &v))
		return 0;
	return (uint64_t)json_object_get_int64(v);
}

void report_host_count(struct report_host *h, const struct report_host_proc *p)
{
	if (!p->doc) {
		h->failed++;
		return;
	}
	h->read++;
	h->tracked += num(p->doc, "summary", "tracked");
	h->untracked += num(p->doc, "summary", "untracked");
	h->stale += num(p->doc, "summary", "stale");
	h->flagged += num(p->doc, "summary", "flagged");
	if (num(p->doc, "summary", "flagged"))
		h->flagged_procs++;
}

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;

	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *str(json_object *o, const char *k)
{
	json_object *v = get(o, k);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int64_t int_of(json_object *o, const char *k, int64_t def)
{
	json_object *v = get(o, k);

	return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : def;
}

/* The same connection already paired from its other end. */
static bool paired(const struct report_host *h, pid_t pid, int fd, json_object *other)
{
	for (size_t i = 0; i < h->npairs; i++) {
		const struct report_host_pair *q = &h->pairs[i];

		if (int_of(q->other, "pid", -1) == pid && int_of(q->other, "fd", -1) == fd &&
		    int_of(other, "pid", -2) == q->pid && int_of(other, "fd", -2) == q->fd)
			return true;
	}
	return false;
}

void report_host_pair(struct report_host *h)
{
	for (size_t i = 0; i < h->n; i++) {
		json_object *doc = h->v[i].doc, *groups = get(doc, "groups");

		for (size_t g = 0; groups && g < json_object_array_length(groups); g++) {
			json_object *socks = get(json_object_array_get_idx(groups, g), "sockets");

			for (size_t k = 0; socks && k < json_object_array_length(socks); k++) {
				json_object *s = json_object_array_get_idx(socks, k);
				json_object *other = get(s, "peer_process"), *fl = get(s, "flagged");
				struct report_host_pair *p;
				int fd = (int)int_of(s, "fd", -1);

				if (!fl || !json_object_get_boolean(fl) || !other ||
				    json_object_is_type(other, json_type_null) ||
				    paired(h, h->v[i].pid, fd, other))
					continue;
				h->pairs = realloc(h->pairs, (h->npairs + 1) * sizeof(h->pairs[0]));
				if (!h->pairs)
					abort();
				p = &h->pairs[h->npairs++];
				memset(p, 0, sizeof(*p));
				p->pid = h->v[i].pid;
				snprintf(p->comm, sizeof(p->comm), "%s", h->v[i].comm);
				p->fd = fd;
				snprintf(p->state, sizeof(p->state), "%s",
					 str(s, "state") ? str(s, "state") : "");
				snprintf(p->local, sizeof(p->local), "%s",
					 str(s, "local") ? str(s, "local") : "");
				snprintf(p->peer, sizeof(p->peer), "%s",
					 str(s, "peer") ? str(s, "peer") : "");
				p->kind = str(s, "kind");
				p->other = other;
			}
		}
	}
}

void report_host_finish(struct report_host *h)
{
	free(h->pairs);
	h->pairs = NULL;
	h->npairs = 0;
	for (size_t i = 0; i < h->n; i++) {
		json_object_put(h->v[i].doc);
		free(h->v[i].text);
	}
	free(h->v);
	h->v = NULL;
	h->n = 0;
}
