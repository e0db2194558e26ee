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

/* The first frame of the peer's record outside the shim and libc. */
static void peer_frame(struct report_peer *p)
{
	struct target t;
	struct sa_reader r;
	struct sa_snapshot snap;
	struct symbolizer *sym = NULL;
	uint64_t frames[SA_MAX_FRAMES];
	uint32_t id = 0, depth;
	char err[600];

	if (!target_lookup(&t, p->pid) || target_open_table_err(&t, &r, err, sizeof(err)) < 0)
		return;
	if (sa_reader_snapshot(&r, &snap, err, sizeof(err)) < 0)
		goto out_close;
	for (size_t i = 0; i < snap.nrecs; i++) {
		const struct sa_slot *sl = &snap.recs[i].slot;

		if (snap.recs[i].status != SA_REC_OK || !sl->used || sl->fd != p->fd)
			continue;
		id = sl->connect_stack ? sl->connect_stack : sl->open_stack;
		snprintf(p->stack, sizeof(p->stack), "%s", sl->connect_stack ? "connect" : "open");
	}
	sa_snapshot_finish(&snap);
	depth = id ? sa_reader_stack(&r, id, frames) : 0;
	if (depth)
		sym = sym_create_pid(p->pid);
	for (uint32_t i = 0; sym && i < depth && !p->have_frame; i++) {
		const struct sym_frame *f;
		size_t n;

		sym_resolve(sym, frames[i], &f, &n);
		if (!n || shim_or_libc(f[n - 1].module))
			continue;
		p->have_frame = true;
		snprintf(p->function, sizeof(p->function), "%s", f[0].function ? f[0].function : "??");
		snprintf(p->file, sizeof(p->file), "%s", f[0].file ? f[0].file : "");
		p->line = f[0].line;
	}
	sym_destroy(sym);
out_close:
	sa_reader_close(&r);
}

void report_peers_fill(struct report *rep, const struct ks_table *ks)
{
	struct report_join *j = &rep->join;
	struct ks_peer_index *ix;
	struct ks_owner *own;
	const struct ks_sock **peer_of;
	size_t n = 0, nown = 0;

	if (!ks || !j->nsocks)
		return;
	ix = ks_peer_index_create(ks);
	if (!ix)
		return;
	peer_of = xcalloc(j->nsocks, sizeof(peer_of[0]));
	for (size_t i = 0; i < j->nsocks; i++)
		if (j->socks[i].ks && (peer_of[i] = ks_peer_find(ix, j->socks[i].ks)))
			n++;
	if (!n)
		goto out;
	rep->peers = xcalloc(n, sizeof(rep->peers[0]));
	own = xcalloc(2 * n, sizeof(own[0]));
	for (size_t i = 0; i < j->nsocks; i++) {
		const struct ks_sock *ps = peer_of[i], *l;
		struct report_peer *p;

		if (!ps)
			continue;
		p = &rep->peers[rep->npeers++];
		j->socks[i].peer = p;
		snprintf(p->state, sizeof(p->state), "%s", ks_tcp_state_name(ps->state));
		ks_format_addr(&ps->local, p->local, sizeof(p->local));
		p->orphan = ps->inode == 0;
		if (ps->inode)
			own[nown++].inode = ps->inode;
		l = ks_peer_listener(ix, &ps->local);
		if (l && l->inode)
			own[nown++].inode = l->inode;
	}
	ks_owners_find(own, nown);
	for (size_t i = 0, k = 0; i < j->nsocks; i++) {
		const struct ks_sock *ps = peer_of[i], *l;
		struct report_peer *p;

		if (!ps)
			continue;
		p = &rep->peers[k++];
		l = ks_peer_listener(ix, &ps->local);
		for (size_t o = 0; o < nown; o++) {
			if (ps->inode && own[o].inode == ps->inode && own[o].pid && !p->held) {
				p->held = true;
				p->pid = own[o].pid;
				p->fd = own[o].fd;
				snprintf(p->comm, sizeof(p->comm), "%s", own[o].comm);
			}
			if (l && l->inode && own[o].inode == l->inode && own[o].pid &&
			    !p->listener_pid) {
				p->listener_pid = own[o].pid;
				snprintf(p->listener_comm, sizeof(p->listener_comm), "%s", own[o].comm);
			}
		}
		if (p->held)
			peer_frame(p);
	}
	free(own);
out:
	free(peer_of);
	ks_peer_index_destroy(ix);
}
