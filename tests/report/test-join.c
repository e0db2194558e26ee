/* The join (tracked / untracked / stale), the untracked labels, grouping
 * and frame trimming, on synthetic snapshots: no process, no kernel. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "../tap.h"
#include "report/model.h"
#include "util/util.h"

#define NOW_NS 1000000000000ull   /* "now" for open ages */

struct snap_builder {
	struct sa_snapshot s;
	size_t cap;
};

static struct sa_slot *snap_add(struct snap_builder *b, int fd, uint64_t inode, uint32_t seq)
{
	struct sa_record *r;

	if (b->s.nrecs == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->s.recs = xrealloc(b->s.recs, b->cap * sizeof(b->s.recs[0]));
	}
	r = &b->s.recs[b->s.nrecs++];
	memset(r, 0, sizeof(*r));
	r->status = SA_REC_OK;
	r->slot.seq = seq;
	r->slot.used = 1;
	r->slot.fd = fd;
	r->slot.inode = inode;
	r->slot.origin = SA_ORIGIN_SOCKET;
	r->slot.dup_of = -1;
	r->slot.family = AF_INET;
	r->slot.type = SOCK_STREAM;
	r->slot.generation = 1;
	r->slot.open_ns = NOW_NS - 3000 * 1000000ull;   /* opened 3 s ago */
	return &r->slot;
}

static void snap_unknown(struct snap_builder *b, int fd)
{
	struct sa_slot *s = snap_add(b, fd, 0, 0);

	memset(s, 0, sizeof(*s));
	s->fd = fd;
	b->s.recs[b->s.nrecs - 1].status = SA_REC_UNKNOWN;
	b->s.nunknown++;
}

static struct procfd_list fds_of(const struct procfd_entry *v, size_t n)
{
	struct procfd_list l = { .v = xcalloc(n, sizeof(*v)), .n = n };

	memcpy(l.v, v, n * sizeof(*v));
	return l;
}

/* uthash's Jenkins hash falls through its switch on purpose; the
 * kstate tables use it, so ks_add() must too; gcc keeps
 * quiet because the macro comes from a system header, clang does not. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
static struct ks_sock *ks_add(struct ks_table *t, uint64_t inode, int family, int protocol,
			      int state)
{
	struct ks_sock *s = xcalloc(1, sizeof(*s));

	s->inode = inode;
	s->family = family;
	s->protocol = protocol;
	s->type = protocol == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	s->state = state;
	s->local.ss_family = (sa_family_t)family;
	s->peer.ss_family = (sa_family_t)family;
	HASH_ADD(hh, t->by_inode, inode, sizeof(s->inode), s);
	return s;
}
#pragma GCC diagnostic pop

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	struct sockaddr_in *in = (void *)ss;

	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	in->sin_port = htons(port);
}

static void set_unix(struct sockaddr_storage *ss, const char *path)
{
	struct sockaddr_un *un = (void *)ss;

	un->sun_family = AF_UNIX;
	snprintf(un->sun_path, sizeof(un->sun_path), "%s", path);
}

static struct report_sock *sock_by_inode(struct report_join *j, uint64_t inode)
{
	for (size_t i = 0; i < j->nsocks; i++)
		if (j->socks[i].inode == inode)
			return &j->socks[i];
	return NULL;
}

static struct report_stale *stale_by_fd(struct report_join *j, int fd)
{
	for (size_t i = 0; i < j->nstale; i++)
		if (j->stale[i].rec.fd == fd)
			return &j->stale[i];
	return NULL;
}

/* still_holds for the tests: every fd holds its socket except the inodes
 * listed (0-terminated); asking about a tracked socket (inode 100 here)
 * is noted. */
static bool holds_asked_tracked;

static bool holds_but(int fd, uint64_t inode, void *arg)
{
	const uint64_t *gone = arg;

	if (inode == 100)
		holds_asked_tracked = true;
	for (; *gone; gone++)
		if (*gone == inode && inode != 100)
			return false;
	return true;
}

static void test_join_alive(void)
{
	struct snap_builder b1 = { 0 }, b2 = { 0 };
	struct ks_table ks = { 0 };
	struct leak_opts lo;
	struct ks_sock *k;
	struct sa_slot *r;
	struct report_join j;
	struct report_sock *s;
	struct report_stale *st;
	size_t untracked_before, sockets_before, netlink_before;
	static const struct procfd_entry held[] = {
		{ 3, 100 },   /* tracked */
		{ 4, 200 },   /* untracked, DNS */
		{ 5, 300 },   /* record says 301: untracked + stale */
		{ 8, 500 },   /* socket ... */
		{ 9, 500 },   /* ... dup'd */
		{ 10, 600 },  /* slot mid-update */
		{ 11, 700 },  /* unknown to the kernel: netlink/other */
		{ 12, 800 },  /* tracked, CLOSE_WAIT for 10 s */
		{ 13, 900 },  /* recorded only in the first snapshot */
		{ 14, 1000 }, /* untracked /dev/log */
		{ 15, 1100 }, /* untracked nscd */
	};
	struct procfd_list l = fds_of(held, sizeof(held) / sizeof(held[0]));
	struct report_join_in in = { .first = &b1.s, .second = &b2.s, .fds = &l, .ks = &ks,
				     .leak = &lo, .now_ns = NOW_NS };

	leak_opts_default(&lo);
	for (int pass = 0; pass < 2; pass++) {
		struct snap_builder *b = pass ? &b2 : &b1;

		snap_add(b, 3, 100, 2);
		snap_add(b, 5, 301, 2);
		snap_add(b, 6, 400, 2);                    /* fd 6 closed: stale */
		r = snap_add(b, 8, 500, 2);
		r->connect_stack = 7;
		r = snap_add(b, 9, 500, 2);
		r->connect_stack = 7;
		r->origin = SA_ORIGIN_DUP;
		r->dup_of = 8;
		snap_add(b, 12, 800, 2);
	}
	snap_add(&b1, 13, 900, 2);
	snap_add(&b2, 7, 450, 4);                          /* new since the scan: not stale */
	snap_add(&b1, 7, 440, 2);
	snap_unknown(&b2, 10);

	ks_add(&ks, 100, AF_INET, IPPROTO_TCP, TCP_ESTABLISHED);
	k = ks_add(&ks, 200, AF_INET, IPPROTO_UDP, TCP_ESTABLISHED);
	set_port(&k->peer, 53);
	ks_add(&ks, 300, AF_INET, IPPROTO_TCP, TCP_LISTEN);
	ks_add(&ks, 500, AF_INET, IPPROTO_TCP, TCP_ESTABLISHED);
	ks_add(&ks, 600, AF_INET, IPPROTO_TCP, TCP_ESTABLISHED);
	k = ks_add(&ks, 800, AF_INET6, IPPROTO_TCP, TCP_CLOSE_WAIT);
	k->have_tcp_info = true;
	k->last_ack_recv_ms = 10000;
	k->last_data_recv_ms = 20000;
	k->last_data_sent_ms = 20000;
	ks_add(&ks, 900, AF_INET, IPPROTO_TCP, TCP_ESTABLISHED);
	k = ks_add(&ks, 1000, AF_UNIX, 0, TCP_ESTABLISHED);
	set_unix(&k->peer, "/run/systemd/journal/dev-log");
	k = ks_add(&ks, 1100, AF_UNIX, 0, TCP_ESTABLISHED);
	set_unix(&k->peer, "/var/run/nscd/socket");

	report_join_build(&j, &in);
	untracked_before = j.sum.untracked;
	sockets_before = j.sum.sockets;
	netlink_before = j.sum.untracked_by_label[REPORT_LABEL_NETLINK];
	s = sock_by_inode(&j, 100);
	ok(s && s->tracked && s->held && s->nfds == 1 && s->fds[0] == 3 &&
	   s->label == REPORT_LABEL_NONE,
	   "fd with a record of the same inode: tracked");
	ok(s && s->open_age_known && s->open_age_ms == 3000, "tracked: open age from the record");
	s = sock_by_inode(&j, 200);
	ok(s && !s->tracked && s->label == REPORT_LABEL_DNS, "no record, peer port 53: untracked DNS");
	s = sock_by_inode(&j, 300);
	ok(s && !s->tracked && s->label == REPORT_LABEL_UNKNOWN,
	   "record of another inode: the socket is untracked");
	st = stale_by_fd(&j, 5);
	ok(st && st->why == REPORT_STALE_OTHER_INODE && st->rec.inode == 301 && st->now_inode == 300,
	   "record of another inode: the record is stale (other socket)");
	st = stale_by_fd(&j, 6);
	ok(st && st->why == REPORT_STALE_NOT_SOCKET && st->rec.inode == 400,
	   "record whose fd is closed: stale");
	ok(!stale_by_fd(&j, 7), "record that changed while /proc was read: not stale");
	s = sock_by_inode(&j, 500);
	ok(s && s->tracked && s->nfds == 2 && s->fds[0] == 8 && s->fds[1] == 9 &&
	   s->rec.fd == 8 && s->rec.origin == SA_ORIGIN_SOCKET,
	   "one socket on two fds: one entry, both fds, the original's record");
	s = sock_by_inode(&j, 600);
	ok(s && !s->tracked && s->slot_unknown, "slot left mid-update: not tracked, marked");
	ok(j.nunknown == 1 && j.unknown_fds[0] == 10 && j.sum.unknown_slots == 1,
	   "unknown slots listed by fd");
	s = sock_by_inode(&j, 700);
	ok(s && !s->tracked && !s->ks && s->label == REPORT_LABEL_NETLINK,
	   "unknown to sock_diag: netlink/other");
	s = sock_by_inode(&j, 800);
	ok(s && s->tracked && s->verdict.flagged && s->verdict.kind == LEAK_CLOSE_WAIT &&
	   s->age_known && s->age_ms == 10000, "tracked CLOSE_WAIT 10 s: flagged, age 10 s");
	s = sock_by_inode(&j, 900);
	ok(s && s->tracked, "record only in the first snapshot (cleared after the scan): tracked");
	s = sock_by_inode(&j, 1000);
	ok(s && s->label == REPORT_LABEL_DEVLOG, "unix peer journald dev-log: /dev/log");
	s = sock_by_inode(&j, 1100);
	ok(s && s->label == REPORT_LABEL_NSCD, "unix peer /var/run/nscd/socket: nscd");
	ok(j.sum.sockets == 10 && j.sum.fds == 11 && j.sum.tracked == 4 && j.sum.untracked == 6 &&
	   j.sum.flagged == 1 && j.sum.stale == 2,
	   "summary: 10 sockets, 11 fds, 4 tracked, 6 untracked, 1 flagged, 2 stale "
	   "(got %zu %zu %zu %zu %zu %zu)",
	   j.sum.sockets, j.sum.fds, j.sum.tracked, j.sum.untracked, j.sum.flagged, j.sum.stale);
	ok(j.sum.untracked_by_label[REPORT_LABEL_DNS] == 1 &&
	   j.sum.untracked_by_label[REPORT_LABEL_NETLINK] == 1 &&
	   j.sum.untracked_by_label[REPORT_LABEL_DEVLOG] == 1 &&
	   j.sum.untracked_by_label[REPORT_LABEL_NSCD] == 1 &&
	   j.sum.untracked_by_label[REPORT_LABEL_UNKNOWN] == 2,
	   "untracked counted by label");
	report_join_finish(&j);

	/* One snapshot only (first == second): every mismatch is stale. */
	in.first = &b2.s;
	report_join_build(&j, &in);
	ok(stale_by_fd(&j, 7) != NULL, "single snapshot: a record without its fd is stale");
	report_join_finish(&j);

	/* Not instrumented: everything held is untracked. */
	in.first = in.second = NULL;
	report_join_build(&j, &in);
	ok(j.sum.sockets == 10 && j.sum.tracked == 0 && j.sum.untracked == 10 && j.nstale == 0 &&
	   j.sum.flagged == 1, "no table: all untracked, the leak rule still applies");
	report_join_finish(&j);

	/* Asked again after the snapshots: the untracked sockets whose fds no
	 * longer hold them (700, unknown to the kernel, and 200) came and went
	 * while we read; tracked ones are never asked about. */
	in.first = &b1.s;
	in.second = &b2.s;
	in.fds = &l;
	in.ks = &ks;
	in.still_holds = holds_but;
	in.still_holds_arg = (uint64_t[]){ 700, 200, 100, 0 };
	holds_asked_tracked = false;
	report_join_build(&j, &in);
	ok(!sock_by_inode(&j, 700) && !sock_by_inode(&j, 200) && j.sum.vanished == 2,
	   "vanished while read: left out and counted (%zu)", j.sum.vanished);
	s = sock_by_inode(&j, 100);
	ok(s && s->tracked && !holds_asked_tracked,
	   "vanished: a tracked socket is kept and never asked about");
	ok(j.sum.untracked == untracked_before - 2 && j.sum.sockets == sockets_before - 2 &&
	   j.sum.untracked_by_label[REPORT_LABEL_NETLINK] == netlink_before - 1,
	   "vanished: the summary counts only what was held");
	report_join_finish(&j);
	in.still_holds = NULL;

	/* The process is gone: the records are what there is, nothing flagged. */
	in.first = NULL;
	in.second = &b2.s;
	in.fds = NULL;
	in.ks = NULL;
	report_join_build(&j, &in);
	s = sock_by_inode(&j, 500);
	ok(j.sum.sockets == 6 && j.sum.flagged == 0 && s && !s->held && s->nfds == 2,
	   "gone: records grouped by inode, not held, never flagged");
	report_join_finish(&j);

	procfd_finish(&l);
	ks_finish(&ks);
	free(b1.s.recs);
	free(b2.s.recs);
}

/* Records the shim wrote without an inode (socket(), socketpair(), accept()
 * by default) match the socket their fd holds unless the kernel shows it to
 * be of another family or type, or connected to another peer. */
static void rec_peer(struct sa_slot *r, uint32_t addr, uint16_t port)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(addr),
				  .sin_port = htons(port) };

	memcpy(r->peer, &in, sizeof(in));
	r->peer_len = sizeof(in);
	r->flags |= SA_SLOT_CONNECTED;
}

static void test_join_no_inode(void)
{
	static const struct {
		int fd;
		uint64_t now;        /* inode the fd holds; 0: closed */
		int family, proto, state;
		uint16_t kport;      /* the kernel's peer port (loopback) */
		bool ks;             /* the kernel view has it */
		int rtype;           /* the record's type */
		uint32_t raddr;      /* the record's peer address, port 8080; 1: no peer */
		bool tracked;        /* expected */
		const char *what;
	} cases[] = {
		{ 3, 100, AF_INET, IPPROTO_TCP, TCP_ESTABLISHED, 8080, true, SOCK_STREAM,
		  INADDR_LOOPBACK, true, "connected, same peer: tracked" },
		{ 4, 200, AF_INET, IPPROTO_TCP, TCP_ESTABLISHED, 9090, true, SOCK_STREAM,
		  INADDR_LOOPBACK, false, "connected, another peer port: stale (other socket)" },
		{ 5, 300, AF_UNIX, 0, TCP_ESTABLISHED, 0, true, SOCK_STREAM, 1, false,
		  "inet record, unix socket now: stale" },
		{ 6, 400, AF_INET, IPPROTO_TCP, TCP_ESTABLISHED, 8080, true, SOCK_DGRAM, 1, false,
		  "udp record, tcp socket now: stale" },
		{ 7, 500, AF_INET, IPPROTO_TCP, TCP_ESTABLISHED, 8080, true, SOCK_STREAM,
		  INADDR_ANY, true, "connected to the any address, loopback peer: tracked" },
		{ 8, 600, AF_INET, IPPROTO_TCP, 0, 0, false, SOCK_STREAM, 1, true,
		  "no kernel view (netlink, packet): tracked" },
		{ 9, 700, AF_INET, IPPROTO_TCP, TCP_LISTEN, 0, true, SOCK_STREAM, 1, true,
		  "unconnected record, listener: tracked" },
		{ 11, 0, 0, 0, 0, 0, false, SOCK_STREAM, 1, false, "fd closed: stale" },
	};
	const size_t n = sizeof(cases) / sizeof(cases[0]);
	struct snap_builder b = { 0 };
	struct ks_table ks = { 0 };
	struct procfd_entry held[16];
	size_t nheld = 0;
	struct procfd_list l;
	struct leak_opts lo;
	struct report_join j;
	struct report_join_in in = { .first = NULL, .ks = &ks, .leak = &lo, .now_ns = NOW_NS };
	struct report_sock *s;
	struct sa_slot *r;

	leak_opts_default(&lo);
	for (size_t i = 0; i < n; i++) {
		r = snap_add(&b, cases[i].fd, 0, 2);
		r->type = (uint16_t)cases[i].rtype;
		if (cases[i].raddr != 1)
			rec_peer(r, cases[i].raddr, 8080);
		if (cases[i].now)
			held[nheld++] = (struct procfd_entry){ cases[i].fd, cases[i].now };
		if (cases[i].ks) {
			struct ks_sock *k = ks_add(&ks, cases[i].now, cases[i].family,
						   cases[i].proto, cases[i].state);
			if (cases[i].kport)
				set_port(&k->peer, cases[i].kport);
		}
	}
	r = snap_add(&b, 10, 0, 2);   /* a dup of fd 3 */
	r->origin = SA_ORIGIN_DUP;
	r->dup_of = 3;
	rec_peer(r, INADDR_LOOPBACK, 8080);
	held[nheld++] = (struct procfd_entry){ 10, 100 };
	l = fds_of(held, nheld);
	in.second = &b.s;
	in.fds = &l;
	report_join_build(&j, &in);
	for (size_t i = 0; i < n; i++) {
		struct report_stale *st = stale_by_fd(&j, cases[i].fd);

		s = cases[i].now ? sock_by_inode(&j, cases[i].now) : NULL;
		if (cases[i].tracked)
			ok(s && s->tracked && s->rec.inode == cases[i].now && !st,
			   "no inode, fd %d: %s", cases[i].fd, cases[i].what);
		else
			ok(st && (cases[i].now ? st->why == REPORT_STALE_OTHER_INODE &&
							 st->now_inode == cases[i].now && s &&
							 !s->tracked
					       : st->why == REPORT_STALE_NOT_SOCKET),
			   "no inode, fd %d: %s", cases[i].fd, cases[i].what);
	}
	s = sock_by_inode(&j, 100);
	ok(s && s->nfds == 2 && s->fds[1] == 10 && s->rec.fd == 3,
	   "no inode: a dup joins its original's socket by the inode /proc shows");
	report_join_finish(&j);

	/* Gone: without inodes, each record is a socket of its own. */
	in.fds = NULL;
	in.ks = NULL;
	report_join_build(&j, &in);
	ok(j.sum.sockets == n + 1 && sock_by_inode(&j, REPORT_INODE_NONE | 3) &&
	   sock_by_inode(&j, REPORT_INODE_NONE | 10),
	   "no inode, process gone: one socket per record, keyed by fd (%zu)", j.sum.sockets);
	report_join_finish(&j);
	procfd_finish(&l);
	ks_finish(&ks);
	free(b.s.recs);
}

/* mk_sock()'s stacks: interned like report_stacks_read() does, or a copy
 * of their own, which group_build() must still merge by content. */
static struct report_join stack_pool;
static struct group_stack stack_copies[16];
static size_t nstack_copies;

static void mk_sock(struct report_sock *s, int fd, uint64_t inode, int generation,
		    const uint64_t *frames, uint32_t depth, enum leak_kind kind, uint64_t age,
		    struct ks_sock *ks, bool shared)
{
	struct group_stack st;

	memset(s, 0, sizeof(*s));
	s->inode = inode;
	s->fds = xcalloc(1, sizeof(int));
	s->fds[0] = fd;
	s->nfds = 1;
	s->held = true;
	s->tracked = depth > 0;
	s->ks = ks;
	s->verdict.kind = kind;
	s->verdict.flagged = kind == LEAK_CLOSE_WAIT || kind == LEAK_IDLE;
	s->age_known = true;
	s->age_ms = age;
	memset(&st, 0, sizeof(st));
	st.depth = depth;
	st.generation = (uint32_t)generation;
	if (depth) {
		memcpy(st.frames, frames, depth * sizeof(frames[0]));
		st.kind = "connect";
	} else {
		snprintf(st.nostack, sizeof(st.nostack), "inherited-start");
	}
	if (shared) {
		s->stack = report_stack_intern(&stack_pool, &st);
	} else {
		stack_copies[nstack_copies] = st;
		s->stack = &stack_copies[nstack_copies++];
	}
}

static void test_intern(void)
{
	static const uint64_t fa[] = { 0x1000, 0x2000, 0x3000 };
	struct report_join j;
	struct group_stack a, b;
	const struct group_stack *pa, *pb;

	memset(&j, 0, sizeof(j));
	memset(&a, 0, sizeof(a));
	a.depth = 3;
	a.generation = 1;
	a.kind = "connect";
	memcpy(a.frames, fa, sizeof(fa));
	b = a;
	b.frames[5] = 0xdead;   /* past depth: not part of the identity */
	pa = report_stack_intern(&j, &a);
	pb = report_stack_intern(&j, &b);
	ok(pa && pa == pb && pa != &a && pa->depth == 3 && pa->frames[2] == 0x3000,
	   "intern: equal stacks share one copy");
	b.generation = 2;
	ok(report_stack_intern(&j, &b) != pa, "intern: another generation is another identity");
	b = a;
	b.kind = "open";
	ok(report_stack_intern(&j, &b) != pa, "intern: an open stack is not the connect stack");
	b = a;
	b.frames[2] = 0x3001;
	ok(report_stack_intern(&j, &b) != pa, "intern: other frames, other identity");
	b = a;
	b.frames[0] = 0x1001;   /* frames are innermost first */
	ok(report_stack_intern(&j, &b) != pa,
	   "intern: another innermost frame alone, other identity");
	pa = report_stack_none(&j, "untracked, %s", "DNS");
	ok(pa == report_stack_none(&j, "untracked, DNS") && pa->depth == 0 &&
	   strcmp(pa->nostack, "untracked, DNS") == 0, "intern: the same reason, one copy");
	ok(pa != report_stack_none(&j, "untracked, nscd"), "intern: another reason, another copy");
	report_join_finish(&j);
	ok(j.stacks == NULL, "intern: freed with the join");
}

static void test_groups(void)
{
	static const uint64_t fa[] = { 0x1000, 0x2000, 0x3000 }, fb[] = { 0x1000, 0x2000, 0x3001 };
	struct ks_sock cw[4], est, lis;
	struct report_sock socks[9];
	struct group_set gs;
	const struct group *g;

	for (int i = 0; i < 4; i++) {
		memset(&cw[i], 0, sizeof(cw[i]));
		cw[i].family = AF_INET;
		cw[i].protocol = IPPROTO_TCP;
		cw[i].state = TCP_CLOSE_WAIT;
		set_port(&cw[i].peer, (uint16_t)(i < 3 ? 8080 : 9090));
	}
	memset(&est, 0, sizeof(est));
	est.family = AF_INET;
	est.protocol = IPPROTO_TCP;
	est.state = TCP_ESTABLISHED;
	set_port(&est.peer, 8080);
	memset(&lis, 0, sizeof(lis));
	lis.family = AF_INET;
	lis.protocol = IPPROTO_TCP;
	lis.state = TCP_LISTEN;

	/* 2 and 4 carry a copy of the stack 0, 1 and 3 share. */
	mk_sock(&socks[0], 3, 1, 1, fa, 3, LEAK_CLOSE_WAIT, 7000, &cw[0], true);
	mk_sock(&socks[1], 4, 2, 1, fa, 3, LEAK_CLOSE_WAIT, 9000, &cw[1], true);
	mk_sock(&socks[2], 5, 3, 1, fa, 3, LEAK_IDLE, 65000, &est, false);
	mk_sock(&socks[3], 6, 4, 1, fa, 3, LEAK_CLOSE_WAIT, 8000, &cw[2], true);
	mk_sock(&socks[4], 7, 5, 1, fa, 3, LEAK_CLOSE_WAIT, 1000, &cw[3], false);
	mk_sock(&socks[5], 8, 6, 1, fb, 3, LEAK_CLOSE_WAIT, 99000, &cw[0], true);  /* other stack */
	mk_sock(&socks[6], 9, 7, 2, fa, 3, LEAK_CLOSE_WAIT, 5000, &cw[0], true);   /* other generation */
	mk_sock(&socks[7], 10, 8, 1, NULL, 0, LEAK_CLOSE_WAIT_AGE_UNKNOWN, 0, &cw[0], true);
	socks[7].age_known = false;
	mk_sock(&socks[8], 11, 9, 1, fa, 3, LEAK_NONE, 50000, &lis, true);

	group_build(&gs, socks, 9, false);
	ok(gs.n == 4, "findings only: 4 groups (same stack, other frames, other generation, no stack)");
	g = &gs.v[0];
	ok(g->id == 1 && g->n == 5 && g->flagged == 5 && g->socks[0]->fds[0] == 3 &&
	   g->socks[4]->fds[0] == 7, "largest group first, members in fd order");
	ok(g->kinds == ((1u << LEAK_CLOSE_WAIT) | (1u << LEAK_IDLE)), "group kinds: close-wait, idle");
	ok(g->nstates == 2 && strcmp(g->states[0].name, "CLOSE_WAIT") == 0 &&
	   g->states[0].count == 4 && g->states[0].oldest_age_ms == 9000 &&
	   strcmp(g->states[1].name, "ESTABLISHED") == 0 && g->states[1].count == 1 &&
	   g->states[1].oldest_age_ms == 65000, "per-state counts with the oldest age");
	ok(g->oldest_known && g->oldest_age_ms == 65000, "group oldest age");
	ok(g->npeers == 2 && strcmp(g->peers[0].peer, "127.0.0.1:8080") == 0 &&
	   g->peers[0].count == 4 && g->peers[1].count == 1 && g->distinct_peers == 2,
	   "top peers with counts");
	ok(gs.v[1].n == 1 && gs.v[1].socks[0]->fds[0] == 8 && gs.v[2].socks[0]->fds[0] == 9,
	   "equal counts: older first (99 s before 5 s)");
	ok(gs.v[3].suspect == 1 && gs.v[3].flagged == 0 && gs.v[3].stack->depth == 0,
	   "suspect-only group sorts after flagged ones");
	{
		char title[128];

		group_title_nostack(&gs.v[3], title, sizeof(title));
		ok(strcmp(title, "(no stack: inherited-start)") == 0, "no-stack group title: %s",
		   title);
	}
	group_set_finish(&gs);

	group_build(&gs, socks, 9, true);
	ok(gs.n == 4 && gs.v[0].n == 6 && gs.v[0].flagged == 5,
	   "--all: the unflagged listener joins its stack's group");
	group_set_finish(&gs);
	for (int i = 0; i < 9; i++)
		free(socks[i].fds);
	report_join_finish(&stack_pool);
}

/* Two leak sites that differ only in the innermost frame (frames are
 * innermost first): two calls of connect() from one function, the same
 * callers above. They are two sites, so two groups, whether the stacks are
 * interned or separate copies. */
static void test_groups_innermost(void)
{
	static const uint64_t fa[] = { 0x1000, 0x2000, 0x3000 }, fi[] = { 0x1008, 0x2000, 0x3000 };
	struct ks_sock cw;
	struct report_sock socks[4];
	struct group_set gs;

	memset(&cw, 0, sizeof(cw));
	cw.family = AF_INET;
	cw.protocol = IPPROTO_TCP;
	cw.state = TCP_CLOSE_WAIT;
	set_port(&cw.peer, 8080);
	for (int shared = 0; shared < 2; shared++) {
		nstack_copies = 0;
		mk_sock(&socks[0], 3, 1, 1, fa, 3, LEAK_CLOSE_WAIT, 7000, &cw, shared);
		mk_sock(&socks[1], 4, 2, 1, fi, 3, LEAK_CLOSE_WAIT, 6000, &cw, shared);
		mk_sock(&socks[2], 5, 3, 1, fa, 3, LEAK_CLOSE_WAIT, 5000, &cw, shared);
		mk_sock(&socks[3], 6, 4, 1, fi, 3, LEAK_CLOSE_WAIT, 4000, &cw, shared);
		group_build(&gs, socks, 4, false);
		ok(gs.n == 2 && gs.v[0].n == 2 && gs.v[1].n == 2 &&
		   gs.v[0].stack->frames[0] != gs.v[1].stack->frames[0] &&
		   gs.v[0].socks[0]->fds[0] == 3 && gs.v[0].socks[1]->fds[0] == 5 &&
		   gs.v[1].socks[0]->fds[0] == 4 && gs.v[1].socks[1]->fds[0] == 6,
		   "stacks that differ only in the innermost frame are two groups of 2 "
		   "(%s stacks; %zu groups)", shared ? "interned" : "copied", gs.n);
		group_set_finish(&gs);
		for (int i = 0; i < 4; i++)
			free(socks[i].fds);
	}
	report_join_finish(&stack_pool);
	nstack_copies = 0;
}

static void test_trim(void)
{
	struct sym_frame f[4];

	memset(f, 0, sizeof(f));
	f[0].module = "/usr/lib/libsockaudit.so";
	f[1].module = "/usr/lib/x86_64-linux-gnu/libc.so.6";
	f[2].module = "/srv/app";
	f[3].module = "/usr/lib/x86_64-linux-gnu/libc.so.6";
	ok(report_trim_count(f, 4) == 2, "trim: shim and libc frames before the caller");
	ok(report_trim_count(f + 2, 2) == 0, "trim: nothing before the caller's own frame");
	ok(report_trim_count(f + 1, 1) == 0, "trim: an all-libc stack is kept whole");
	f[0].module = NULL;
	ok(report_trim_count(f, 4) == 0, "trim: an unknown module stops trimming");
	f[0].module = "/opt/libc.so.6.d/app";
	ok(report_trim_count(f, 4) == 0, "trim: judged by the file name, not the directory");
}

int main(void)
{
	test_join_alive();
	test_join_no_inode();
	test_intern();
	test_groups();
	test_groups_innermost();
	test_trim();
	return tap_done();
}
