#include "report/host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "report/format.h"
#include "util/util.h"

/* The two ends of a pair as seen from the flagged one. */
struct pair_key {
	int32_t pid, fd, other_pid, other_fd;
};

struct report_host_seen {
	struct pair_key key;
	UT_hash_handle hh;
};

struct report_host_proc *report_host_add(struct report_host *h, pid_t pid, const char *comm)
{
	struct report_host_proc *p;

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->v = xrealloc(h->v, h->cap * sizeof(h->v[0]));
	}
	p = &h->v[h->n++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	return p;
}

void report_host_fail(struct report_host *h)
{
	h->failed++;
}

/* uthash's Jenkins hash falls through its switch on purpose. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
/* The same connection already paired from its other end. */
static bool paired(struct report_host *h, const struct pair_key *k)
{
	struct pair_key rev = { k->other_pid, k->other_fd, k->pid, k->fd };
	struct report_host_seen *e = NULL;

	if (!k->other_pid)
		return false;
	HASH_FIND(hh, h->seen, &rev, sizeof(rev), e);
	if (e)
		return true;
	e = xcalloc(1, sizeof(*e));
	e->key = *k;
	HASH_ADD(hh, h->seen, key, sizeof(e->key), e);
	return false;
}

static void seen_clear(struct report_host *h)
{
	struct report_host_seen *e, *tmp;

	HASH_ITER(hh, h->seen, e, tmp) {
		HASH_DEL(h->seen, e);
		free(e);
	}
}
#pragma GCC diagnostic pop

void report_host_take(struct report_host *h, struct report_host_proc *p, const struct report *rep)
{
	const struct report_join *j = &rep->join;

	h->read++;
	p->tracked = j->sum.tracked;
	p->untracked = j->sum.untracked;
	p->stale = j->sum.stale;
	p->flagged = j->sum.flagged;
	h->tracked += p->tracked;
	h->untracked += p->untracked;
	h->stale += p->stale;
	h->flagged += p->flagged;
	if (p->flagged)
		h->flagged_procs++;
	for (size_t i = 0; i < j->nsocks; i++) {
		const struct report_sock *s = &j->socks[i];
		const struct report_peer *o = s->peer;
		struct pair_key k;
		struct report_host_pair *q;

		if (!s->verdict.flagged || !o)
			continue;
		k = (struct pair_key){ rep->tgt.pid, s->nfds ? s->fds[0] : -1,
				       o->held ? o->pid : 0, o->held ? o->fd : -1 };
		if (paired(h, &k))
			continue;
		if (h->npairs == h->pairs_cap) {
			h->pairs_cap = h->pairs_cap ? h->pairs_cap * 2 : 64;
			h->pairs = xrealloc(h->pairs, h->pairs_cap * sizeof(h->pairs[0]));
		}
		q = &h->pairs[h->npairs++];
		memset(q, 0, sizeof(*q));
		q->pid = rep->tgt.pid;
		snprintf(q->comm, sizeof(q->comm), "%s", rep->tgt.comm);
		q->fd = k.fd;
		q->kind = leak_kind_name(s->verdict.kind);
		q->other = *o;
		snprintf(q->state, sizeof(q->state), "%s", report_sock_state(s));
		report_sock_local(s, q->local, sizeof(q->local));
		report_sock_peer(s, q->peer, sizeof(q->peer));
	}
}

static int proc_cmp(const void *a, const void *b)
{
	const struct report_host_proc *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

void report_host_sort(struct report_host *h)
{
	if (h->n)
		qsort(h->v, h->n, sizeof(h->v[0]), proc_cmp);
}

void report_host_finish(struct report_host *h)
{
	free(h->pairs);
	h->pairs = NULL;
	h->npairs = h->pairs_cap = 0;
	seen_clear(h);
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].json);
		free(h->v[i].text);
	}
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
