/* group: sockets by stack identity (see group.h). */
#include "report/group.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/format.h"
#include "report/join.h"
#include "util/util.h"

/* Hashed as raw bytes: always built zeroed so padding and unused frames
 * compare equal. */
struct group_key {
	uint32_t depth;
	uint32_t generation;
	uint64_t frames[SA_MAX_FRAMES];
	char nostack[96];
};

struct group_entry {
	struct group_key key;
	size_t idx;                      /* into the group array */
	size_t n;                        /* members */
	const struct group_stack *stack;
	UT_hash_handle hh;
};

static void group_key_of(const struct group_stack *st, struct group_key *k)
{
	memset(k, 0, sizeof(*k));
	k->depth = st->depth;
	if (st->depth) {
		k->generation = st->generation;
		memcpy(k->frames, st->frames, st->depth * sizeof(st->frames[0]));
	} else {
		snprintf(k->nostack, sizeof(k->nostack), "%s", st->nostack);
	}
}

static bool in_group(const struct report_sock *s, bool all)
{
	return all || s->verdict.kind != LEAK_NONE;
}

static void group_add_state(struct group *g, const struct report_sock *s)
{
	const char *name = report_sock_state(s);
	struct group_state *st = NULL;

	for (size_t i = 0; i < g->nstates; i++)
		if (strcmp(g->states[i].name, name) == 0)
			st = &g->states[i];
	if (!st) {
		/* More distinct states than TCP has: fold into the last. */
		if (g->nstates == GROUP_MAX_STATES)
			st = &g->states[GROUP_MAX_STATES - 1];
		else
			st = &g->states[g->nstates++];
		if (!st->name)
			st->name = name;
	}
	st->count++;
	if (s->age_known && (!st->oldest_known || s->age_ms > st->oldest_age_ms)) {
		st->oldest_known = true;
		st->oldest_age_ms = s->age_ms;
	}
}

struct peer_count {
	char peer[128];
	size_t count;
};

static int peer_str_cmp(const void *a, const void *b)
{
	const struct peer_count *x = a, *y = b;

	return strcmp(x->peer, y->peer);
}

static int peer_count_cmp(const void *a, const void *b)
{
	const struct peer_count *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->peer, y->peer);
}

/* Top peers by count: sort the peer strings, count the runs, sort the runs
 * by count. A server's accept group can have a distinct peer per socket,
 * so nothing quadratic here. */
static void group_peers(struct group *g)
{
	struct peer_count *pc = xcalloc(g->n, sizeof(*pc));
	size_t n = 0, runs = 0;

	for (size_t i = 0; i < g->n; i++) {
		report_sock_peer(g->socks[i], pc[n].peer, sizeof(pc[n].peer));
		/* "*": no peer (listeners, unconnected datagram sockets). */
		if (pc[n].peer[0] && strcmp(pc[n].peer, "*") != 0)
			n++;
	}
	qsort(pc, n, sizeof(*pc), peer_str_cmp);
	for (size_t i = 0; i < n; i++) {
		if (runs && strcmp(pc[runs - 1].peer, pc[i].peer) == 0) {
			pc[runs - 1].count++;
			continue;
		}
		if (runs != i)
			memcpy(pc[runs].peer, pc[i].peer, sizeof(pc[runs].peer));
		pc[runs++].count = 1;
	}
	qsort(pc, runs, sizeof(*pc), peer_count_cmp);
	g->distinct_peers = runs;
	for (size_t i = 0; i < runs && i < GROUP_MAX_PEERS; i++) {
		memcpy(g->peers[i].peer, pc[i].peer, sizeof(g->peers[i].peer));
		g->peers[i].count = pc[i].count;
		g->npeers++;
	}
	free(pc);
}

static void group_summarize(struct group *g)
{
	for (size_t i = 0; i < g->n; i++) {
		const struct report_sock *s = g->socks[i];

		if (s->verdict.flagged)
			g->flagged++;
		else if (s->verdict.kind != LEAK_NONE)
			g->suspect++;
		if (s->verdict.kind != LEAK_NONE)
			g->kinds |= 1u << s->verdict.kind;
		if (s->age_known && (!g->oldest_known || s->age_ms > g->oldest_age_ms)) {
			g->oldest_known = true;
			g->oldest_age_ms = s->age_ms;
		}
		group_add_state(g, s);
	}
	group_peers(g);
}

static int group_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	uint64_t xo = x->oldest_known ? x->oldest_age_ms : 0;
	uint64_t yo = y->oldest_known ? y->oldest_age_ms : 0;

	if ((x->flagged > 0) != (y->flagged > 0))
		return x->flagged > 0 ? -1 : 1;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	if (x->oldest_known != y->oldest_known)
		return x->oldest_known ? -1 : 1;
	if (xo != yo)
		return xo > yo ? -1 : 1;
	/* Deterministic output: the group whose first fd is lowest. */
	return x->socks[0]->fds[0] - y->socks[0]->fds[0];
}

/* An interned identity (report_stack_intern) and its entry: identities are
 * shared, so most sockets find their group by pointer, without building and
 * hashing a 360-byte key; two identities with equal keys (two stack ids of
 * one stack) still meet in the key's entry. */
struct group_ptr {
	const struct group_stack *stack;
	struct group_entry *e;
	UT_hash_handle hh;
};

/* uthash's Jenkins hash falls through its switch on purpose; gcc keeps
 * quiet because the macro comes from a system header, clang does not. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
/* The entry of st's key, made when new. */
static struct group_entry *entry_of(struct group_entry **index, struct group_ptr **by_ptr,
				    const struct group_stack *st, size_t *ngroups)
{
	struct group_entry *e;
	struct group_ptr *p;
	struct group_key k;

	HASH_FIND_PTR(*by_ptr, &st, p);
	if (p)
		return p->e;
	group_key_of(st, &k);
	HASH_FIND(hh, *index, &k, sizeof(k), e);
	if (!e) {
		e = xcalloc(1, sizeof(*e));
		e->key = k;
		e->idx = (*ngroups)++;
		e->stack = st;
		HASH_ADD(hh, *index, key, sizeof(e->key), e);
	}
	p = xcalloc(1, sizeof(*p));
	p->stack = st;
	p->e = e;
	HASH_ADD_PTR(*by_ptr, stack, p);
	return e;
}

void group_build(struct group_set *gs, struct report_sock *socks, size_t n, bool all)
{
	struct group_entry *index = NULL, *e = NULL, *tmp;
	struct group_ptr *by_ptr = NULL, *p, *ptmp;
	size_t ngroups = 0, *fill;

	memset(gs, 0, sizeof(*gs));
	if (!n)
		return;
	/* First pass: one entry per distinct key, member counts. Entries and
	 * groups are made per group, not per socket: a process of thousands
	 * of sockets has a handful of groups, and zeroing a group (1.4 KB)
	 * per socket cost more than the grouping. */
	for (size_t i = 0; i < n; i++) {
		if (!in_group(&socks[i], all))
			continue;
		e = entry_of(&index, &by_ptr, socks[i].stack, &ngroups);
		e->n++;
	}
	gs->v = xcalloc(ngroups ? ngroups : 1, sizeof(*gs->v));
	HASH_ITER(hh, index, e, tmp) {
		gs->v[e->idx].stack = e->stack;
		gs->v[e->idx].n = e->n;
		gs->v[e->idx].socks = xcalloc(e->n, sizeof(gs->v[e->idx].socks[0]));
	}
	/* Second pass: members, in socket order (ascending lowest fd). */
	fill = xcalloc(ngroups ? ngroups : 1, sizeof(*fill));
	for (size_t i = 0; i < n; i++) {
		if (!in_group(&socks[i], all))
			continue;
		e = entry_of(&index, &by_ptr, socks[i].stack, &ngroups);
		gs->v[e->idx].socks[fill[e->idx]++] = &socks[i];
	}
	HASH_ITER(hh, by_ptr, p, ptmp) {
		HASH_DEL(by_ptr, p);
		free(p);
	}
	HASH_ITER(hh, index, e, tmp) {
		HASH_DEL(index, e);
		free(e);
	}
	free(fill);
	gs->n = ngroups;
	for (size_t g = 0; g < ngroups; g++)
		group_summarize(&gs->v[g]);
	if (gs->n)
		qsort(gs->v, gs->n, sizeof(gs->v[0]), group_cmp);
	for (size_t g = 0; g < ngroups; g++)
		gs->v[g].id = g + 1;
}
#pragma GCC diagnostic pop

void group_set_finish(struct group_set *gs)
{
	if (!gs)
		return;
	for (size_t g = 0; g < gs->n; g++) {
		free(gs->v[g].socks);
		free(gs->v[g].frames);
	}
	free(gs->v);
	memset(gs, 0, sizeof(*gs));
}

void group_title_nostack(const struct group *g, char *buf, size_t len)
{
	if (!len)
		return;
	buf[0] = '\0';
	if (!g->stack->depth)
		snprintf(buf, len, "(no stack: %s)", g->stack->nostack);
}
