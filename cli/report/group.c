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

/* uthash's Jenkins hash falls through its switch on purpose; gcc keeps
 * quiet because the macro comes from a system header, clang does not. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
void group_build(struct group_set *gs, struct report_sock *socks, size_t n, bool all)
{
	struct group_entry *entries, *index = NULL, *e = NULL;
	const struct group_stack *last = NULL;
	size_t ngroups = 0, *fill;

	memset(gs, 0, sizeof(*gs));
	if (!n)
		return;
	entries = xcalloc(n, sizeof(*entries));
	gs->v = xcalloc(n, sizeof(*gs->v));
	/* First pass: one entry per distinct key, member counts. */
	for (size_t i = 0; i < n; i++) {
		struct group_key k;

		if (!in_group(&socks[i], all))
			continue;
		/* Identities are shared (report_stack_intern): neighbours with
		 * the same one need no key. */
		if (socks[i].stack == last) {
			gs->v[e->idx].n++;
			continue;
		}
		last = socks[i].stack;
		group_key_of(socks[i].stack, &k);
		HASH_FIND(hh, index, &k, sizeof(k), e);
		if (!e) {
			e = &entries[ngroups];
			e->key = k;
			e->idx = ngroups;
			gs->v[ngroups].stack = socks[i].stack;
			ngroups++;
			HASH_ADD(hh, index, key, sizeof(e->key), e);
		}
		gs->v[e->idx].n++;
	}
	/* Second pass: members, in socket order (ascending lowest fd). */
	last = NULL;
	fill = xcalloc(ngroups ? ngroups : 1, sizeof(*fill));
	for (size_t g = 0; g < ngroups; g++)
		gs->v[g].socks = xcalloc(gs->v[g].n, sizeof(gs->v[g].socks[0]));
	for (size_t i = 0; i < n; i++) {
		struct group_key k;

		if (!in_group(&socks[i], all))
			continue;
		if (socks[i].stack != last) {
			last = socks[i].stack;
			group_key_of(socks[i].stack, &k);
			HASH_FIND(hh, index, &k, sizeof(k), e);
		}
		gs->v[e->idx].socks[fill[e->idx]++] = &socks[i];
	}
	HASH_CLEAR(hh, index);
	free(fill);
	free(entries);
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
