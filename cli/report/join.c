/* join: the table's records, /proc/<pid>/fd and the kernel's view,
 * joined by socket inode. Pure (no I/O), so the classification rules are
 * unit-tested with synthetic snapshots (tests/report/test-join.c).
 *
 *   fd in /proc, record with the same inode      -> tracked
 *   fd in /proc, no record or another inode       -> untracked (labelled by peer)
 *   record, fd closed / not a socket / other inode -> stale record
 *
 * A record the shim wrote without an inode (it skips the fstat on socket(),
 * socketpair() and accept(): docs/design.md, "Where this differs", 9)
 * matches the socket its fd holds unless the kernel shows that socket to be
 * of another kind or, for a connected record, to have another peer.
 *
 * Two snapshots bracket the /proc scan: a record only counts as stale when
 * it is in both, unchanged, and a socket counts as untracked only when
 * neither has its record. Otherwise a live service that opens and closes
 * sockets while we read would show phantom leaks of the shim.
 */
#include "report/join.h"

#include "report/stack.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

struct rec_index {
	const struct sa_record **v;   /* by fd */
	size_t n;
};

static int rec_ptr_cmp(const void *a, const void *b)
{
	const struct sa_record *x = *(const struct sa_record *const *)a;
	const struct sa_record *y = *(const struct sa_record *const *)b;

	return (x->slot.fd > y->slot.fd) - (x->slot.fd < y->slot.fd);
}

/* The reader emits records in fd order; the join does not rely on it: the
 * pointers are sorted unless they already are (a check, not a sort: a
 * scrape builds 200 of these). */
static void rec_index_build(struct rec_index *ix, const struct sa_snapshot *s)
{
	bool sorted = true;

	ix->v = NULL;
	ix->n = 0;
	if (!s || !s->nrecs)
		return;
	ix->v = xcalloc(s->nrecs, sizeof(ix->v[0]));
	for (size_t i = 0; i < s->nrecs; i++) {
		ix->v[i] = &s->recs[i];
		if (i && s->recs[i].slot.fd < s->recs[i - 1].slot.fd)
			sorted = false;
	}
	ix->n = s->nrecs;
	if (!sorted)
		qsort(ix->v, ix->n, sizeof(ix->v[0]), rec_ptr_cmp);
}

/* The record of fd, for fds asked in ascending order: *at only moves
 * forward, so a whole pass is one walk over the index (a binary search per
 * fd chased a pointer into the snapshot at every step). */
static const struct sa_record *rec_next(const struct rec_index *ix, size_t *at, int fd)
{
	while (*at < ix->n && ix->v[*at]->slot.fd < fd)
		(*at)++;
	return *at < ix->n && ix->v[*at]->slot.fd == fd ? ix->v[*at] : NULL;
}

static bool rec_ok(const struct sa_record *r)
{
	return r && r->status == SA_REC_OK && r->slot.used;
}

static bool same_peer(const struct sa_slot *r, const struct sockaddr_storage *k)
{
	const struct sockaddr_in *a4 = (const void *)r->peer, *k4 = (const void *)k;
	const struct sockaddr_in6 *a6 = (const void *)r->peer, *k6 = (const void *)k;
	sa_family_t f;

	memcpy(&f, r->peer, sizeof(f));
	if (f != k->ss_family)
		return true;   /* v4-mapped, AF_UNSPEC (disconnect), unknown: no evidence */
	/* connect() to the any address reaches the host itself: the kernel
	 * then shows a loopback peer, so only the port can be compared. */
	if (f == AF_INET && r->peer_len >= sizeof(*a4))
		return a4->sin_port == k4->sin_port &&
		       (a4->sin_addr.s_addr == htonl(INADDR_ANY) ||
			a4->sin_addr.s_addr == k4->sin_addr.s_addr);
	if (f == AF_INET6 && r->peer_len >= sizeof(*a6))
		return a6->sin6_port == k6->sin6_port &&
		       (IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr) ||
			memcmp(&a6->sin6_addr, &k6->sin6_addr, sizeof(a6->sin6_addr)) == 0);
	return true;
}

/* Is the socket fd holds now (`inode`, kernel view `k` or NULL) the one the
 * record describes? */
static bool rec_holds(const struct sa_slot *r, uint64_t inode, const struct ks_sock *k)
{
	if (r->inode)
		return r->inode == inode;
	if (!k)
		return true;   /* netlink, packet, no kernel view: nothing to compare */
	if (r->family && r->family != k->family)
		return false;
	if (r->type && r->type != k->type)
		return false;
	if ((r->family == AF_INET || r->family == AF_INET6) && r->peer_len &&
	    (r->flags & SA_SLOT_CONNECTED || r->origin == SA_ORIGIN_ACCEPT) &&
	    k->state != TCP_LISTEN && k->state != TCP_CLOSE)
		return same_peer(r, &k->peer);
	return true;
}

/* `k`: the kernel's view of the socket p holds, or NULL. */
static bool rec_matches(const struct sa_record *r, const struct procfd_entry *p,
			const struct ks_sock *k)
{
	return r->slot.inode == p->inode || (r->slot.inode == 0 && rec_holds(&r->slot, p->inode, k));
}

/* Which of two records for one socket says more about where it came from:
 * a connect stack (pooled clients), then any stack, then the original over
 * a dup. Ties keep the lower fd, seen first. */
static int rec_rank(const struct sa_slot *r)
{
	return (r->connect_stack ? 4 : 0) + (r->open_stack ? 2 : 0) +
	       (r->origin != SA_ORIGIN_DUP ? 1 : 0);
}

struct join_state {
	struct report_join *j;
};

struct key_pos {
	uint64_t key;
	size_t pos;
};

static int key_pos_cmp(const void *a, const void *b)
{
	const struct key_pos *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

/* first[i]: the lowest position whose key is keys[i]. Several fds can
 * hold one socket (dup, fork, SCM_RIGHTS); sorting finds them with one
 * pass over compact memory, where a hash table of sockets cost a cache
 * miss or two per fd at 20k fds. */
static size_t *first_of(const uint64_t *keys, size_t n)
{
	struct key_pos *v = xcalloc(n ? n : 1, sizeof(*v));
	size_t *first = xcalloc(n ? n : 1, sizeof(*first));

	for (size_t i = 0; i < n; i++)
		v[i] = (struct key_pos){ keys[i], i };
	qsort(v, n, sizeof(*v), key_pos_cmp);
	for (size_t i = 0; i < n; i++)
		first[v[i].pos] = i && v[i].key == v[i - 1].key ? first[v[i - 1].pos] : v[i].pos;
	free(v);
	return first;
}

/* The socket of position i, given first_of()'s answer: a new one for the
 * first position of a key, else that position's. The array was sized for
 * one socket per position, so it never moves. */
static struct report_sock *sock_at(struct report_join *j, const size_t *first, size_t *sock_of,
				   size_t i, uint64_t inode)
{
	if (first[i] != i) {
		sock_of[i] = sock_of[first[i]];
		return &j->socks[sock_of[i]];
	}
	sock_of[i] = j->nsocks;
	j->socks[j->nsocks].inode = inode;
	return &j->socks[j->nsocks++];
}

static void sock_add_fd(struct report_sock *s, int fd)
{
	s->fds = xrealloc(s->fds, (s->nfds + 1) * sizeof(s->fds[0]));
	s->fds[s->nfds++] = fd;
}

static void sock_take_rec(struct report_sock *s, const struct sa_slot *rec)
{
	if (!s->tracked || rec_rank(rec) > rec_rank(&s->rec)) {
		s->rec = *rec;
		if (!s->rec.inode && !(s->inode & REPORT_INODE_NONE))
			s->rec.inode = s->inode;
	}
	s->tracked = true;
}

static void push_stale(struct report_join *j, size_t *cap, const struct sa_slot *rec,
		       enum report_stale_why why, uint64_t now_inode)
{
	struct report_stale *st;

	if (j->nstale == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		j->stale = xrealloc(j->stale, *cap * sizeof(j->stale[0]));
	}
	st = &j->stale[j->nstale++];
	memset(st, 0, sizeof(*st));
	st->rec = *rec;
	st->why = why;
	st->now_inode = now_inode;
}

static void join_alive(struct join_state *st, const struct report_join_in *in,
		       const struct rec_index *i1, const struct rec_index *i2)
{
	struct report_join *j = st->j;
	size_t stale_cap = 0, n = in->fds->n;
	/* Per fd of the scan: did the second snapshot's record match it? The
	 * stale pass below asks again for the same pairs. */
	bool *r2_held = xcalloc(n ? n : 1, sizeof(*r2_held));
	uint64_t *inodes = xcalloc(n ? n : 1, sizeof(*inodes));
	size_t *first, *sock_of = xcalloc(n ? n : 1, sizeof(*sock_of));

	for (size_t i = 0; i < n; i++)
		inodes[i] = in->fds->v[i].inode;
	first = first_of(inodes, n);
	for (size_t i = 0, at1 = 0, at2 = 0; i < n; i++) {
		const struct procfd_entry *p = &in->fds->v[i];
		const struct sa_record *r1 = rec_next(i1, &at1, p->fd);
		const struct sa_record *r2 = rec_next(i2, &at2, p->fd);
		struct report_sock *s = sock_at(j, first, sock_of, i, p->inode);

		/* One lookup per socket, kept for the verdict. */
		if (s->nfds == 0)
			s->ks = in->ks ? ks_lookup(in->ks, p->inode) : NULL;
		sock_add_fd(s, p->fd);
		s->held = true;
		r2_held[i] = rec_ok(r2) && rec_matches(r2, p, s->ks);
		if (r2_held[i])
			sock_take_rec(s, &r2->slot);
		else if (rec_ok(r1) && rec_matches(r1, p, s->ks))
			sock_take_rec(s, &r1->slot);
		else if ((r2 && r2->status == SA_REC_UNKNOWN) || (r1 && r1->status == SA_REC_UNKNOWN))
			s->slot_unknown = true;
	}
	for (size_t i = 0, at1 = 0; i < i2->n; i++) {
		const struct sa_record *r2 = i2->v[i], *r1;
		const struct procfd_entry *p;

		if (!rec_ok(r2))
			continue;
		p = procfd_find(in->fds, r2->slot.fd);
		if (p && r2_held[p - in->fds->v])
			continue;
		/* Unchanged across the scan, so it was this way during it. */
		r1 = rec_next(i1, &at1, r2->slot.fd);
		if (!rec_ok(r1) || r1->slot.seq != r2->slot.seq)
			continue;
		push_stale(j, &stale_cap, &r2->slot,
			   p ? REPORT_STALE_OTHER_INODE : REPORT_STALE_NOT_SOCKET, p ? p->inode : 0);
	}
	free(r2_held);
	free(inodes);
	free(first);
	free(sock_of);
}

/* The process is gone: its records are all there is. */
static void join_dead(struct join_state *st, const struct report_join_in *in,
		      const struct rec_index *i2)
{
	const struct sa_record **ok = xcalloc(i2->n ? i2->n : 1, sizeof(*ok));
	uint64_t *keys = xcalloc(i2->n ? i2->n : 1, sizeof(*keys));
	size_t n = 0, *first, *sock_of = xcalloc(i2->n ? i2->n : 1, sizeof(*sock_of));

	for (size_t i = 0; i < i2->n; i++) {
		const struct sa_record *r = i2->v[i];

		if (!rec_ok(r))
			continue;
		/* Without an inode, each fd counts as a socket of its own. */
		keys[n] = r->slot.inode ? r->slot.inode : REPORT_INODE_NONE | (uint32_t)r->slot.fd;
		ok[n++] = r;
	}
	first = first_of(keys, n);
	for (size_t i = 0; i < n; i++) {
		struct report_sock *s = sock_at(st->j, first, sock_of, i, keys[i]);

		if (s->nfds == 0 && in->ks && !(s->inode & REPORT_INODE_NONE))
			s->ks = ks_lookup(in->ks, s->inode);
		sock_add_fd(s, ok[i]->slot.fd);
		sock_take_rec(s, &ok[i]->slot);
	}
	free(ok);
	free(keys);
	free(first);
	free(sock_of);
}

/* Untracked, yet none of its fds holds it any more: it came and went
 * between the snapshots (or before the kernel's dump), so neither caught
 * its record. No finding: drop it. */
static void drop_vanished(struct report_join *j, const struct report_join_in *in)
{
	size_t k = 0;

	for (size_t i = 0; i < j->nsocks; i++) {
		struct report_sock *s = &j->socks[i];
		bool held = s->tracked || s->slot_unknown || !in->still_holds;

		for (size_t f = 0; !held && f < s->nfds; f++)
			held = in->still_holds(s->fds[f], s->inode, in->still_holds_arg);
		if (!held) {
			free(s->fds);
			j->sum.vanished++;
			continue;
		}
		if (k != i)
			j->socks[k] = *s;
		k++;
	}
	j->nsocks = k;
}

static void sock_finish(struct report_sock *s, const struct report_join_in *in)
{
	if (!s->tracked)
		s->label = in->ks ? report_label_of(s->ks) : REPORT_LABEL_UNKNOWN;
	leak_classify(in->leak, s->held, s->ks, &s->verdict);
	if (s->tracked && s->rec.open_ns) {
		s->open_age_known = true;
		s->open_age_ms = in->now_ns > s->rec.open_ns ? (in->now_ns - s->rec.open_ns) / 1000000
							     : 0;
	}
	/* The age that matters for the state: how long it has sat there. */
	if (s->verdict.close_wait_known) {
		s->age_known = true;
		s->age_ms = s->verdict.close_wait_ms;
	} else if (s->ks && s->ks->state == TCP_ESTABLISHED && s->verdict.idle_known) {
		s->age_known = true;
		s->age_ms = s->verdict.idle_ms;
	} else if (s->open_age_known) {
		s->age_known = true;
		s->age_ms = s->open_age_ms;
	}
}

static void join_summary(struct report_join *j, const struct sa_snapshot *last)
{
	struct report_summary *sum = &j->sum;

	for (size_t i = 0; i < j->nsocks; i++) {
		const struct report_sock *s = &j->socks[i];

		sum->sockets++;
		sum->fds += s->nfds;
		if (s->tracked) {
			sum->tracked++;
		} else {
			sum->untracked++;
			sum->untracked_by_label[s->label]++;
		}
		if (s->verdict.flagged)
			sum->flagged++;
		else if (s->verdict.kind != LEAK_NONE)
			sum->suspect++;
		sum->by_kind[s->verdict.kind]++;
	}
	sum->stale = j->nstale;
	sum->unknown_slots = last ? last->nunknown : 0;
}

/* Stack identities: the join owns one copy of each. */
struct report_stack_node {
	struct report_stack_node *next;
	struct group_stack st;
};

static bool same_stack(const struct group_stack *a, const struct group_stack *b)
{
	if (a->depth != b->depth || a->generation != b->generation || !group_stack_kind_same(a->kind, b->kind))
		return false;
	if (a->depth)
		return memcmp(a->frames, b->frames, a->depth * sizeof(a->frames[0])) == 0;
	return strcmp(a->nostack, b->nostack) == 0;
}

const struct group_stack *report_stack_intern(struct report_join *j, const struct group_stack *st)
{
	struct report_stack_node *n;

	for (n = j->stacks; n; n = n->next)
		if (same_stack(&n->st, st))
			return &n->st;
	n = xcalloc(1, sizeof(*n));
	n->st.depth = st->depth;
	n->st.generation = st->generation;
	n->st.kind = st->kind;
	memcpy(n->st.frames, st->frames, st->depth * sizeof(st->frames[0]));
	memcpy(n->st.nostack, st->nostack, sizeof(n->st.nostack));
	n->next = j->stacks;
	j->stacks = n;
	return &n->st;
}

const struct group_stack *report_stack_none(struct report_join *j, const char *fmt, ...)
{
	struct group_stack st;
	va_list ap;

	memset(&st, 0, sizeof(st));
	va_start(ap, fmt);
	vsnprintf(st.nostack, sizeof(st.nostack), fmt, ap);
	va_end(ap);
	return report_stack_intern(j, &st);
}

static void report_stacks_free(struct report_join *j)
{
	while (j->stacks) {
		struct report_stack_node *next = j->stacks->next;

		free(j->stacks);
		j->stacks = next;
	}
}

void report_join_build(struct report_join *j, const struct report_join_in *in)
{
	const struct sa_snapshot *last = in->second ? in->second : in->first;
	struct rec_index i1, i2;
	struct join_state st = { .j = j };
	size_t cap;

	memset(j, 0, sizeof(*j));
	rec_index_build(&i1, in->first ? in->first : last);
	rec_index_build(&i2, last);
	cap = in->fds ? in->fds->n : i2.n;
	j->socks = xcalloc(cap ? cap : 1, sizeof(j->socks[0]));
	if (in->fds) {
		join_alive(&st, in, &i1, &i2);
		drop_vanished(j, in);
	} else
		join_dead(&st, in, &i2);
	for (size_t i = 0; i < j->nsocks; i++)
		sock_finish(&j->socks[i], in);
	for (size_t i = 0; i < j->nstale; i++) {
		struct report_stale *s = &j->stale[i];

		if (s->rec.open_ns) {
			s->open_age_known = true;
			s->open_age_ms = in->now_ns > s->rec.open_ns
						 ? (in->now_ns - s->rec.open_ns) / 1000000 : 0;
		}
	}
	for (size_t i = 0; i < i2.n; i++) {
		if (i2.v[i]->status != SA_REC_UNKNOWN)
			continue;
		j->unknown_fds = xrealloc(j->unknown_fds, (j->nunknown + 1) * sizeof(int));
		j->unknown_fds[j->nunknown++] = i2.v[i]->slot.fd;
	}
	join_summary(j, last);
	free(i1.v);
	free(i2.v);
}

void report_join_finish(struct report_join *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->nsocks; i++)
		free(j->socks[i].fds);
	free(j->socks);
	free(j->stale);
	free(j->unknown_fds);
	report_stacks_free(j);
	memset(j, 0, sizeof(*j));
}
