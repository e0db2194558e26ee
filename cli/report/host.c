#include "report/host.h"

#include <stdlib.h>

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

void report_host_finish(struct report_host *h)
{
	for (size_t i = 0; i < h->n; i++) {
		json_object_put(h->v[i].doc);
		free(h->v[i].text);
	}
	free(h->v);
	h->v = NULL;
	h->n = 0;
}
