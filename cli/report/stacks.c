/* stacks: each socket's stack identity, read from the table. The
 * connect stack tells more for pooled clients (the socket is opened in one
 * place, connected where the request is made), so it wins when recorded. */
#include "report/stacks.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* Stacks by id, as read from the table: thousands of sockets share a
 * handful of stacks. Only published stacks are kept, so one not yet
 * published is read again for the next socket, as it would be uncached. */
struct stack_cache {
	struct cached_stack {
		struct cached_stack *next;   /* every entry, to free them */
		struct group_stack st;       /* frames and depth; kind and generation of `last` */
		const struct group_stack *last;   /* interned for the previous socket */
	} **v, *all;                     /* v by id; NULL: not read, or not published */
	uint32_t n;
};

/* The interned identity of stack `id` as recorded by `s`, or NULL when the
 * table has no such stack. */
static const struct group_stack *stack_get(struct report_join *j, struct stack_cache *c,
					   struct sa_reader *r, uint32_t id, const char *kind,
					   uint32_t generation)
{
	struct cached_stack *e = id < c->n ? c->v[id] : NULL, tmp;

	if (!e) {
		e = &tmp;
		memset(e, 0, sizeof(*e));
		e->st.depth = sa_reader_stack(r, id, e->st.frames);
		if (!e->st.depth)
			return NULL;
		if (id < c->n) {
			e = xmalloc(sizeof(*e));
			*e = tmp;
			e->next = c->all;
			c->all = e;
			c->v[id] = e;
		}
	}
	if (!e->last || e->last->generation != generation || !group_stack_kind_same(e->last->kind, kind)) {
		e->st.kind = kind;
		e->st.generation = generation;
		e->last = report_stack_intern(j, &e->st);
	}
	return e->last;
}

static const struct group_stack *stack_of(struct report_join *j, const struct report_sock *s,
					  struct stack_cache *c, struct sa_reader *r,
					  const struct sa_header *hdr)
{
	const char *origin = sa_origin_name(s->rec.origin);
	uint32_t ids[2] = { s->rec.connect_stack, s->rec.open_stack };
	const char *kinds[2] = { "connect", "open" };

	for (int i = 0; i < 2; i++) {
		const struct group_stack *st;

		if (!ids[i])
			continue;
		st = stack_get(j, c, r, ids[i], kinds[i], s->rec.generation);
		if (st)
			return st;
	}
	/* The recorder attached to a running process: it says so plainly. */
	if (s->rec.origin == SA_ORIGIN_INHERIT_START && (hdr->flags & SA_HDR_RECORDER))
		return report_stack_none(j, "opened before recording");
	if (s->rec.origin == SA_ORIGIN_INHERIT_START)
		return report_stack_none(j, "%s", origin);
	if (ids[0] || ids[1])
		return report_stack_none(j, "%s, stack unreadable", origin);
	if (hdr->counters.overflow_stack)
		return report_stack_none(j, "%s, stack table full", origin);
	return report_stack_none(j, "%s, stack not recorded", origin);
}

void report_stacks_read(struct report_join *j, struct sa_reader *r, const struct sa_header *hdr,
			bool instrumented)
{
	struct stack_cache c = { 0 };

	/* Ids above the table's count are never published: no entry. */
	if (instrumented && r) {
		c.n = r->hdr.nstacks + 1;
		c.v = xcalloc(c.n, sizeof(c.v[0]));
	}
	for (size_t i = 0; i < j->nsocks; i++) {
		struct report_sock *s = &j->socks[i];

		if (!instrumented)
			s->stack = report_stack_none(j, "process not instrumented");
		else if (s->slot_unknown)
			s->stack = report_stack_none(j, "record mid-update");
		else if (!s->tracked)
			s->stack = report_stack_none(j, "untracked, %s", report_label_name(s->label));
		else
			s->stack = stack_of(j, s, &c, r, hdr);
	}
	while (c.all) {
		struct cached_stack *next = c.all->next;

		free(c.all);
		c.all = next;
	}
	free(c.v);
}
