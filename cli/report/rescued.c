/* rescued: the table's ring of GC-rescued closes, each open stack resolved
 * like a group's (trimmed the same way). See rescued.h. */
#include "report/rescued.h"

#include <string.h>

#include "util/util.h"

void report_rescued_read(struct report_rescued_set *rs, struct sa_reader *r,
			 const struct report_symbols_in *in)
{
	struct sa_rescued v[SA_RESCUED_MAX];

	memset(rs, 0, sizeof(*rs));
	if (!r)
		return;
	rs->n = sa_reader_rescued(r, v, SA_RESCUED_MAX, &rs->total);
	if (!rs->n)
		return;
	rs->v = xcalloc(rs->n, sizeof(rs->v[0]));
	rs->groups.v = xcalloc(rs->n, sizeof(rs->groups.v[0]));
	rs->groups.n = rs->n;
	for (size_t i = 0; i < rs->n; i++) {
		struct report_rescued *e = &rs->v[i];

		e->e = v[i];
		e->stack.depth = sa_reader_stack(r, v[i].slot.open_stack, e->stack.frames);
		e->stack.generation = v[i].slot.generation;
		e->stack.kind = e->stack.depth ? "open" : NULL;
		if (!e->stack.depth)
			snprintf(e->stack.nostack, sizeof(e->stack.nostack), "stack not recorded");
		rs->groups.v[i].id = i + 1;
		rs->groups.v[i].stack = &e->stack;
	}
	rs->syms = report_symbols_resolve(&rs->groups, in);
}

void report_rescued_counts(struct report_rescued_set *rs, const struct sa_count *counts,
			   size_t ncounts)
{
	for (size_t i = 0; i < rs->n; i++) {
		struct report_rescued *e = &rs->v[i];
		uint32_t id = e->e.slot.open_stack;

		if (!id || id > ncounts || !counts[id - 1].opened)
			continue;
		e->counts_known = true;
		e->opened = counts[id - 1].opened;
		e->closed = counts[id - 1].closed;
		e->collected = counts[id - 1].collected;
	}
}

void report_rescued_finish(struct report_rescued_set *rs)
{
	if (!rs)
		return;
	group_set_finish(&rs->groups);
	report_symbols_destroy(rs->syms);
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}
