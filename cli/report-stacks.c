/* report-stacks: each socket's stack identity, read from the table. The
 * connect stack tells more for pooled clients (the socket is opened in one
 * place, connected where the request is made), so it wins when recorded. */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

__attribute__((format(printf, 2, 3)))
static void nostack(struct group_stack *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->nostack, sizeof(st->nostack), fmt, ap);
	va_end(ap);
}

/* Stacks by id, as read from the table: thousands of sockets share a
 * handful of stacks. Only published stacks are kept, so one not yet
 * published is read again for the next socket, as it would be uncached. */
struct stack_cache {
	struct cached_stack {
		struct cached_stack *next;   /* every entry, to free them */
		uint32_t depth;
		uint64_t frames[SA_MAX_FRAMES];
	} **v, *all;                     /* v by id; NULL: not read, or not published */
	uint32_t n;
};

static uint32_t stack_read(struct stack_cache *c, struct sa_reader *r, uint32_t id,
			   uint64_t frames[SA_MAX_FRAMES])
{
	struct cached_stack *e;
	uint32_t depth;

	if (id < c->n && c->v[id]) {
		e = c->v[id];
		memcpy(frames, e->frames, e->depth * sizeof(frames[0]));
		return e->depth;
	}
	depth = sa_reader_stack(r, id, frames);
	if (!depth || id >= c->n)
		return depth;
	e = xmalloc(sizeof(*e));
	e->next = c->all;
	c->all = e;
	e->depth = depth;
	memcpy(e->frames, frames, depth * sizeof(frames[0]));
	c->v[id] = e;
	return depth;
}

static void stack_of(struct report_sock *s, struct stack_cache *c, struct sa_reader *r,
		     const struct sa_header *hdr)
{
	struct group_stack *st = &s->stack;
	const char *origin = sa_origin_name(s->rec.origin);
	uint32_t ids[2] = { s->rec.connect_stack, s->rec.open_stack };
	const char *kinds[2] = { "connect", "open" };

	for (int i = 0; i < 2; i++) {
		if (!ids[i])
			continue;
		st->depth = stack_read(c, r, ids[i], st->frames);
		if (st->depth) {
			st->kind = kinds[i];
			st->generation = s->rec.generation;
			return;
		}
	}
	if (s->rec.origin == SA_ORIGIN_INHERIT_START)
		nostack(st, "%s", origin);
	else if (ids[0] || ids[1])
		nostack(st, "%s, stack unreadable", origin);
	else if (hdr->counters.overflow_stack)
		nostack(st, "%s, stack table full", origin);
	else
		nostack(st, "%s, stack not recorded", origin);
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

		memset(&s->stack, 0, sizeof(s->stack));
		if (!instrumented)
			nostack(&s->stack, "process not instrumented");
		else if (s->slot_unknown)
			nostack(&s->stack, "record mid-update");
		else if (!s->tracked)
			nostack(&s->stack, "untracked, %s", report_label_name(s->label));
		else
			stack_of(s, &c, r, hdr);
	}
	while (c.all) {
		struct cached_stack *next = c.all->next;

		free(c.all);
		c.all = next;
	}
	free(c.v);
}
