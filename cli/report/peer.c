#include "report/peer.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/peer.h"
#include "report/model.h"
#include "symbolize/symbolize.h"
#include "table-reader.h"
#include "util/target.h"
#include "util/util.h"

static bool shim_or_libc(const char *module)
{
	const char *base;

	if (!module)
		return false;
	base = strrchr(module, '/');
	base = base ? base + 1 : module;
	return strstr(base, "libsockaudit") || strstr(base, "libc.so");
}

/* What one audited peer process gives: its table read once, a symbolizer
 * made once, and each stack's first frame resolved once (a process holding
 * thousands of connections to itself asks for each of them). */
struct peer_src {
	pid_t pid;
	bool ok;
	bool borrowed;           /* the report's own table and snapshot */
	struct sa_reader r, *rp;
	struct sa_snapshot snap;
	const struct sa_snapshot *sp;
	struct report_symbols *sym;
	struct notes notes;      /* what the symbolizer would say: not shown */
	struct peer_frame_cache {
		uint32_t id;
		bool have;
		char function[128], file[256];
		int line;
	} *frames;
	size_t nframes;
};

static struct peer_src *src_get(struct peer_src **v, size_t *n, const struct report *rep,
				pid_t pid)
{
	struct peer_src *s;
	struct target t;
	char err[600];

	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].pid == pid)
			return &(*v)[i];
	*v = xrealloc(*v, (*n + 1) * sizeof((*v)[0]));
	s = &(*v)[(*n)++];
	memset(s, 0, sizeof(*s));
	s->pid = pid;
	s->r.fd = -1;
	if (pid == rep->tgt.pid && rep->self_reader && rep->self_snap) {
		/* Connected to itself: its own table, read already. */
		s->rp = rep->self_reader;
		s->sp = rep->self_snap;
		s->borrowed = s->ok = true;
		return s;
	}
	if (!target_lookup(&t, pid) || target_open_table_err(&t, &s->r, err, sizeof(err)) < 0)
		return s;
	if (sa_reader_snapshot(&s->r, &s->snap, err, sizeof(err)) < 0) {
		sa_reader_close(&s->r);
		return s;
	}
	s->rp = &s->r;
	s->sp = &s->snap;
	s->ok = true;
	return s;
}

static void src_finish(struct peer_src *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].ok && !v[i].borrowed) {
			sa_snapshot_finish(&v[i].snap);
			sa_reader_close(&v[i].r);
		}
		report_symbols_destroy(v[i].sym);
		notes_finish(&v[i].notes);
		free(v[i].frames);
	}
	free(v);
}

static const struct sa_slot *src_slot(const struct peer_src *s, int fd)
{
	size_t lo = 0, hi = s->sp->nrecs;

	/* Records come by fd, ascending. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct sa_record *rec = &s->sp->recs[mid];

		if (rec->slot.fd == fd)
			return rec->status == SA_REC_OK && rec->slot.used ? &rec->slot : NULL;
		if (rec->slot.fd < fd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The first frame of the peer's record outside the shim and libc. */
static void peer_frame(struct peer_src *s, const struct report *rep, struct report_peer *p)
{
	const struct sa_slot *sl = s->ok ? src_slot(s, p->fd) : NULL;
	uint64_t frames[SA_MAX_FRAMES];
	struct peer_frame_cache *c = NULL;
	uint32_t id, depth;

	if (!sl)
		return;
	id = sl->connect_stack ? sl->connect_stack : sl->open_stack;
	if (!id)
		return;
	snprintf(p->stack, sizeof(p->stack), "%s", sl->connect_stack ? "connect" : "open");
	for (size_t i = 0; i < s->nframes && !c; i++)
		if (s->frames[i].id == id)
			c = &s->frames[i];
	if (!c) {
		s->frames = xrealloc(s->frames, (s->nframes + 1) * sizeof(s->frames[0]));
		c = &s->frames[s->nframes++];
		memset(c, 0, sizeof(*c));
		c->id = id;
		depth = sa_reader_stack(s->rp, id, frames);
		if (depth && !s->sym)
			s->sym = report_symbols_open(&(struct report_symbols_in){
					.pid = s->pid, .alive = true,
					.generation = s->sp->hdr.generation, .reader = s->rp,
					.shared = rep->symcache,
				});
		for (uint32_t i = 0; s->sym && i < depth && !c->have; i++) {
			const struct sym_frame *f;
			size_t n = report_symbols_addr(s->sym, &s->notes, s->sp->hdr.generation,
						       frames[i], &f);

			if (!n || shim_or_libc(f[n - 1].module))
				continue;
			c->have = true;
			snprintf(c->function, sizeof(c->function), "%s",
				 f[0].function ? f[0].function : "??");
			snprintf(c->file, sizeof(c->file), "%s", f[0].file ? f[0].file : "");
			c->line = f[0].line;
		}
	}
	p->have_frame = c->have;
	memcpy(p->function, c->function, sizeof(p->function));
	memcpy(p->file, c->file, sizeof(p->file));
	p->line = c->line;
}

struct held_fd {
	uint64_t inode;
	int fd;
};

static int held_cmp(const void *a, const void *b)
{
	const struct held_fd *x = a, *y = b;

	return (x->inode > y->inode) - (x->inode < y->inode);
}

/* Indexes made ahead of time by a host collection, one per view, found by
 * the view's hash head. */
static struct {
	const void *head;
	struct ks_peer_index *ix;
} prepared[64];
static size_t nprepared;

void report_peers_prepare(const struct ks_table *ks)
{
	if (!ks || nprepared == sizeof(prepared) / sizeof(prepared[0]))
		return;
	for (size_t i = 0; i < nprepared; i++)
		if (prepared[i].head == ks->by_inode)
			return;
	prepared[nprepared].head = ks->by_inode;
	prepared[nprepared].ix = ks_peer_index_create(ks);
	if (prepared[nprepared].ix)
		nprepared++;
}

void report_peers_forget(void)
{
	for (size_t i = 0; i < nprepared; i++)
		ks_peer_index_destroy(prepared[i].ix);
	nprepared = 0;
}

static struct ks_peer_index *prepared_for(const struct ks_table *ks)
{
	for (size_t i = 0; i < nprepared; i++)
		if (prepared[i].head == ks->by_inode)
			return prepared[i].ix;
	return NULL;
}

/* A socket in CLOSE has no peer address any more (getpeername fails): its
 * record has the one it connected to or accepted from. */
static const struct ks_sock *with_record_peer(const struct report_sock *s, struct ks_sock *copy)
{
	size_t n = s->rec.peer_len;

	if (!s->tracked || n < sizeof(sa_family_t) || n > SA_PEER_MAX ||
	    s->ks->peer.ss_family != 0)
		return s->ks;
	*copy = *s->ks;
	memset(&copy->peer, 0, sizeof(copy->peer));
	memcpy(&copy->peer, s->rec.peer, n);
	return copy;
}

void report_peers_fill(struct report *rep, const struct ks_table *ks)
{
	struct report_join *j = &rep->join;
	struct ks_peer_index *ix, *shared;
	struct ks_owner *own = NULL;
	struct held_fd *mine;
	struct peer_src *srcs = NULL;
	const struct ks_sock **peer_of;
	bool *other;
	size_t n = 0, nown = 0, nmine = 0, nsrcs = 0;
	pid_t self = rep->tgt.pid;
	struct ks_table tw;
	struct ks_sock probe;
	bool tw_tried = false;

	if (!ks || !j->nsocks)
		return;
	memset(&tw, 0, sizeof(tw));
	shared = prepared_for(ks);
	ix = shared ? shared : ks_peer_index_create(ks);
	if (!ix)
		return;
	peer_of = xcalloc(j->nsocks, sizeof(peer_of[0]));
	other = xcalloc(j->nsocks, sizeof(other[0]));
	for (size_t i = 0; i < j->nsocks; i++) {
		const struct ks_sock *k = j->socks[i].ks;

		if (!k)
			continue;
		peer_of[i] = ks_peer_find(ix, k);
		/* Another namespace's view (report -A, as root): a loopback
		 * address never leaves its namespace, and would match another
		 * namespace's own loopback connections. */
		for (size_t v = 0; !peer_of[i] && v < nprepared; v++)
			if (prepared[v].ix != ix && !ks_addr_is_loopback(&k->peer) &&
			    (peer_of[i] = ks_peer_find(prepared[v].ix, k)))
				other[i] = true;
		/* Not held, not an orphan: an end in TIME_WAIT, which the held
		 * view leaves out (tens of thousands on a busy host). Dumped
		 * once, and only for a socket whose other end may be here: a
		 * loopback peer, or none any more (closed on both sides). */
		if (!peer_of[i] && k->protocol == IPPROTO_TCP && k->state != TCP_LISTEN &&
		    (ks_addr_is_loopback(&k->peer) || ks_addr_is_loopback(&k->local))) {
			if (!tw_tried) {
				tw_tried = true;
				if (ks_collect_timewait(&tw, self) < 0)
					ks_finish(&tw);
			}
			peer_of[i] = ks_peer_find_timewait(&tw, with_record_peer(&j->socks[i], &probe));
		}
		n += peer_of[i] != NULL;
	}
	if (!n)
		goto out;
	/* Our own sockets by inode: a process connected to itself (or two
	 * threads of one service) needs no walk of /proc to be named. */
	mine = xcalloc(j->nsocks, sizeof(mine[0]));
	for (size_t i = 0; i < j->nsocks; i++)
		if (j->socks[i].held && j->socks[i].nfds && j->socks[i].ks)
			mine[nmine++] = (struct held_fd){ j->socks[i].ks->inode, j->socks[i].fds[0] };
	qsort(mine, nmine, sizeof(mine[0]), held_cmp);
	rep->peers = xcalloc(n, sizeof(rep->peers[0]));
	own = xcalloc(2 * n, sizeof(own[0]));
	for (size_t i = 0; i < j->nsocks; i++) {
		const struct ks_sock *ps = peer_of[i], *l;
		struct held_fd key = { ps ? ps->inode : 0, 0 };
		struct report_peer *p;

		if (!ps)
			continue;
		p = &rep->peers[rep->npeers++];
		j->socks[i].peer = p;
		p->other_netns = other[i];
		snprintf(p->state, sizeof(p->state), "%s", ks_tcp_state_name(ps->state));
		ks_format_addr(&ps->local, p->local, sizeof(p->local));
		p->orphan = ps->inode == 0;
		if (ps->inode) {
			const struct held_fd *h = bsearch(&key, mine, nmine, sizeof(mine[0]),
							  held_cmp);

			if (h) {
				p->held = true;
				p->pid = self;
				p->fd = h->fd;
				snprintf(p->comm, sizeof(p->comm), "%s", rep->tgt.comm);
			} else {
				own[nown++].inode = ps->inode;
			}
		}
		l = ps->inode || other[i] ? NULL : ks_peer_listener(ix, &ps->local);
		if (l && l->inode) {
			key.inode = l->inode;
			if (bsearch(&key, mine, nmine, sizeof(mine[0]), held_cmp)) {
				p->listener_pid = self;
				snprintf(p->listener_comm, sizeof(p->listener_comm), "%s",
					 rep->tgt.comm);
			} else {
				own[nown++].inode = l->inode;
			}
		}
	}
	free(mine);
	ks_owner_map_find(rep->owners, own, nown, self);
	for (size_t i = 0, k = 0; i < j->nsocks; i++) {
		const struct ks_sock *ps = peer_of[i], *l;
		struct ks_owner key, *o;
		struct report_peer *p;

		if (!ps)
			continue;
		p = &rep->peers[k++];
		if (!p->held && ps->inode) {
			key.inode = ps->inode;
			o = bsearch(&key, own, nown, sizeof(own[0]), ks_owner_cmp);
			if (o && o->pid) {
				p->held = true;
				p->pid = o->pid;
				p->fd = o->fd;
				snprintf(p->comm, sizeof(p->comm), "%s", o->comm);
			}
		}
		l = ps->inode || other[i] ? NULL : ks_peer_listener(ix, &ps->local);
		if (!p->listener_pid && l && l->inode) {
			key.inode = l->inode;
			o = bsearch(&key, own, nown, sizeof(own[0]), ks_owner_cmp);
			if (o && o->pid) {
				p->listener_pid = o->pid;
				snprintf(p->listener_comm, sizeof(p->listener_comm), "%s", o->comm);
			}
		}
		if (p->held)
			peer_frame(src_get(&srcs, &nsrcs, rep, p->pid), rep, p);
	}
	src_finish(srcs, nsrcs);
	free(own);
out:
	ks_finish(&tw);
	free(peer_of);
	free(other);
	if (!shared)
		ks_peer_index_destroy(ix);
}
