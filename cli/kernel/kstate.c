/* kstate: the kernel's view of sockets, keyed by inode.
 *
 * Five NETLINK_SOCK_DIAG dumps on one socket (TCP and UDP over IPv4 and IPv6
 * through inet_diag, UNIX through unix_diag), parsed with libmnl into a
 * uthash keyed by inode. No per-socket system call: the cost is a handful of
 * recvmsg() calls of up to 32 KiB each plus one malloc per socket.
 *
 * When the target process lives in another network namespace we enter it
 * only to create the netlink socket, which stays bound to that namespace
 * after we return to ours. When that is not allowed we read the text tables
 * in /proc/<pid>/net instead, which any process whose /proc entry we can see
 * may read, and say what was lost in t->note.
 */
/* uthash calls exit() on allocation failure unless told otherwise; a failed
 * add then leaves hh.tbl NULL, which ks_add() checks. Must precede uthash.h. */
#define HASH_NONFATAL_OOM 1

#include "kernel/kstate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define KS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Not in glibc's <netinet/tcp.h>: the state of request sockets in a dump. */
#define KS_TCP_NEW_SYN_RECV 12

/* netlink_recvmsg() caps the skb size of a dump at about 32 KiB whatever we
 * ask for; twice that guarantees a whole skb always fits (no MSG_TRUNC). */
#define KS_RECV_BUF (64 * 1024)

/* Linux socket states (struct socket::state) as /proc/net/unix prints them;
 * 1, SS_UNCONNECTED, is what everything else is taken as. */
#define KS_SS_CONNECTING 2
#define KS_SS_CONNECTED 3
#define KS_SS_DISCONNECTING 4
/* __SO_ACCEPTCON in the Flags column of /proc/net/unix: a listener. */
#define KS_SO_ACCEPTCON (1 << 16)

struct ks_dump_spec {
	int family;
	int protocol;         /* 0 for AF_UNIX */
	const char *procnet;  /* the /proc/<pid>/net file with the same sockets */
};

static const struct ks_dump_spec ks_dumps[] = {
	{ AF_INET, IPPROTO_TCP, "tcp" },
	{ AF_INET6, IPPROTO_TCP, "tcp6" },
	{ AF_INET, IPPROTO_UDP, "udp" },
	{ AF_INET6, IPPROTO_UDP, "udp6" },
	{ AF_UNIX, 0, "unix" },
};

/* TCP states a process can hold: all but TIME_WAIT and request sockets,
 * which have no inode (no struct socket) and no fd. */
#define KS_STATES_HELD (~0u & ~(1u << TCP_TIME_WAIT) & ~(1u << KS_TCP_NEW_SYN_RECV))

struct ks_dump_ctx {
	struct ks_table *t;
	int protocol;
	uint32_t tcp_states;  /* bit (1 << state) per TCP state to ask for */
	int err;   /* our own failure (-ENOMEM) as opposed to the kernel's */
};

static void ks_note(struct ks_table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Keep the first sentence: it names the cause, later ones are consequences. */
static void ks_note(struct ks_table *t, const char *fmt, ...)
{
	va_list ap;

	if (t->note[0])
		return;
	va_start(ap, fmt);
	vsnprintf(t->note, sizeof(t->note), fmt, ap);
	va_end(ap);
}

static void ks_free_head(struct ks_sock **head)
{
	struct ks_sock *s = *head, *next;

	/* HASH_CLEAR drops the buckets but leaves the app-order links intact,
	 * so a plain walk frees the items without unlinking each one. */
	HASH_CLEAR(hh, *head);
	for (; s; s = next) {
		next = s->hh.next;
		free(s);
	}
}

static void ks_free_entries(struct ks_table *t)
{
	ks_free_head(&t->by_inode);
	ks_free_head(&t->no_inode);
	free(t->index);
	t->index = NULL;
	t->nindex = 0;
}

static int ks_index_cmp(const void *a, const void *b)
{
	const struct ks_index_entry *x = a, *y = b;

	return (x->inode > y->inode) - (x->inode < y->inode);
}

/* After a collection; without memory the lookups stay on the hash. */
static void ks_index_build(struct ks_table *t)
{
	size_t n = HASH_COUNT(t->by_inode), i = 0;
	struct ks_sock *s;

	free(t->index);
	t->nindex = 0;
	t->index = n ? malloc(n * sizeof(*t->index)) : NULL;
	if (!t->index)
		return;
	for (s = t->by_inode; s; s = s->hh.next)
		t->index[i++] = (struct ks_index_entry){ s->inode, s };
	qsort(t->index, n, sizeof(*t->index), ks_index_cmp);
	t->nindex = n;
}

static bool ks_index_valid(const struct ks_table *t)
{
	return t->index && t->nindex == HASH_COUNT(t->by_inode);
}

/* One entry just added to by_inode: keep the index sorted and complete. */
static void ks_index_add(struct ks_table *t, struct ks_sock *s)
{
	struct ks_index_entry *v;
	size_t lo = 0, hi = t->nindex;

	if (!t->index || t->nindex + 1 != HASH_COUNT(t->by_inode))
		return;
	v = realloc(t->index, (t->nindex + 1) * sizeof(*v));
	if (!v)
		return;   /* stale from now on: lookups use the hash */
	t->index = v;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].inode < s->inode)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&v[lo + 1], &v[lo], (t->nindex - lo) * sizeof(*v));
	v[lo] = (struct ks_index_entry){ s->inode, s };
	t->nindex++;
}

/* uthash's Jenkins hash falls through its switch on purpose; gcc keeps
 * quiet about it because the macro comes from a system header, clang does
 * not. Only ks_add() and ks_lookup() expand the hash. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"

static int ks_add(struct ks_table *t, const struct ks_sock *src)
{
	struct ks_sock *s;

	if (src->inode) {
		/* A socket that moves between hash chains during a dump can be
		 * reported twice, and the per-file fallback after a failed dump
		 * may repeat what the dump already gave: the first view wins. */
		HASH_FIND(hh, t->by_inode, &src->inode, sizeof(src->inode), s);
		if (s)
			return 0;
	}
	s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s, src, sizeof(*s));
	if (s->inode)
		HASH_ADD(hh, t->by_inode, inode, sizeof(s->inode), s);
	else
		HASH_ADD(hh, t->no_inode, inode, sizeof(s->inode), s);
	if (!s->hh.tbl) {
		free(s);
		return -ENOMEM;
	}
	return 0;
}

int ks_insert(struct ks_table *t, const struct ks_sock *s)
{
	size_t before = HASH_COUNT(t->by_inode);
	struct ks_sock *added;
	int ret = ks_add(t, s);

	if (ret < 0 || !s->inode || HASH_COUNT(t->by_inode) == before)
		return ret;
	HASH_FIND(hh, t->by_inode, &s->inode, sizeof(s->inode), added);
	ks_index_add(t, added);
	return ret;
}

struct ks_sock *ks_lookup(const struct ks_table *t, uint64_t inode)
{
	struct ks_sock *head = t->by_inode, *s;

	if (!inode)
		return NULL;
	if (ks_index_valid(t)) {
		size_t lo = 0, hi = t->nindex;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (t->index[mid].inode == inode)
				return t->index[mid].s;
			if (t->index[mid].inode < inode)
				lo = mid + 1;
			else
				hi = mid;
		}
		return NULL;
	}
	HASH_FIND(hh, head, &inode, sizeof(inode), s);
	return s;
}

#pragma GCC diagnostic pop

void ks_finish(struct ks_table *t)
{
	ks_free_entries(t);
	memset(t, 0, sizeof(*t));
}

/* ---- names and addresses ---------------------------------------------- */

static const char *const ks_tcp_state_names[] = {
	[TCP_ESTABLISHED] = "ESTABLISHED",
	[TCP_SYN_SENT] = "SYN_SENT",
	[TCP_SYN_RECV] = "SYN_RECV",
	[TCP_FIN_WAIT1] = "FIN_WAIT1",
	[TCP_FIN_WAIT2] = "FIN_WAIT2",
	[TCP_TIME_WAIT] = "TIME_WAIT",
	[TCP_CLOSE] = "CLOSE",
	[TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCP_LAST_ACK] = "LAST_ACK",
	[TCP_LISTEN] = "LISTEN",
	[TCP_CLOSING] = "CLOSING",
	[KS_TCP_NEW_SYN_RECV] = "NEW_SYN_RECV",
};

const char *ks_state_name(const struct ks_sock *s)
{
	/* UDP and UNIX sockets reuse the TCP numbers for a few states; name
	 * those the way ss does, anything else keeps its TCP name. */
	if (s->family == AF_UNIX || s->protocol == IPPROTO_UDP) {
		switch (s->state) {
		case TCP_ESTABLISHED:
			return "ESTAB";
		case TCP_CLOSE:
			return "UNCONN";
		case TCP_LISTEN:
			return "LISTEN";
		default:
			break;
		}
	}
	if (s->state >= 0 && (size_t)s->state < KS_ARRAY_SIZE(ks_tcp_state_names) &&
	    ks_tcp_state_names[s->state])
		return ks_tcp_state_names[s->state];
	return "UNKNOWN";
}

void ks_format_addr(const struct sockaddr_storage *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (!len)
		return;
	switch (a->ss_family) {
	case AF_INET: {
		const struct sockaddr_in *in = (const void *)a;

		if (in->sin_addr.s_addr == htonl(INADDR_ANY) && !in->sin_port)
			break;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
		return;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const void *)a;

		if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) && !in6->sin6_port)
			break;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		/* Link-local addresses mean nothing without the interface;
		 * its index is what the kernel gave us (no lookup here). */
		if (in6->sin6_scope_id)
			snprintf(buf, len, "[%s%%%" PRIu32 "]:%u", host,
				 in6->sin6_scope_id, ntohs(in6->sin6_port));
		else
			snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
		return;
	}
	case AF_UNIX: {
		const struct sockaddr_un *un = (const void *)a;
		size_t n;

		/* sun_path need not be NUL-terminated when it is full. */
		if (un->sun_path[0]) {
			n = strnlen(un->sun_path, sizeof(un->sun_path));
			snprintf(buf, len, "%.*s", (int)n, un->sun_path);
			return;
		}
		n = strnlen(un->sun_path + 1, sizeof(un->sun_path) - 1);
		if (n) {
			snprintf(buf, len, "@%.*s", (int)n, un->sun_path + 1);
			return;
		}
		break;
	}
	default:
		break;
	}
	snprintf(buf, len, "*");
}

static void ks_set_inet(struct sockaddr_storage *ss, int family, const void *addr,
			uint16_t port_be, uint32_t ifindex)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (void *)ss;

		in->sin_family = AF_INET;
		in->sin_port = port_be;
		memcpy(&in->sin_addr, addr, sizeof(in->sin_addr));
	} else {
		struct sockaddr_in6 *in6 = (void *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = port_be;
		memcpy(&in6->sin6_addr, addr, sizeof(in6->sin6_addr));
		/* The kernel only reports an interface for bound-to-device or
		 * link-local sockets; keep it only where it scopes the address. */
		if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr))
			in6->sin6_scope_id = ifindex;
	}
}

/* ---- sock_diag --------------------------------------------------------- */

struct ks_attrs {
	const struct nlattr **tb;
	unsigned int max;
};

static int ks_attr_cb(const struct nlattr *attr, void *data)
{
	const struct ks_attrs *a = data;
	unsigned int type = mnl_attr_get_type(attr);

	/* Attributes newer than our headers are none of our business. */
	if (type <= a->max)
		a->tb[type] = attr;
	return MNL_CB_OK;
}

static void ks_take_tcp_info(struct ks_sock *s, const struct nlattr *attr)
{
	struct tcp_info ti;
	size_t len = mnl_attr_get_payload_len(attr);

	/* Older kernels send a shorter struct; the fields we read have been
	 * there since 2.6, but check rather than trust. */
	if (len < offsetof(struct tcp_info, tcpi_last_ack_recv) + sizeof(ti.tcpi_last_ack_recv))
		return;
	memset(&ti, 0, sizeof(ti));
	memcpy(&ti, mnl_attr_get_payload(attr), len < sizeof(ti) ? len : sizeof(ti));
	s->have_tcp_info = true;
	s->last_data_recv_ms = ti.tcpi_last_data_recv;
	s->last_data_sent_ms = ti.tcpi_last_data_sent;
	s->last_ack_recv_ms = ti.tcpi_last_ack_recv;
}

static int ks_inet_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ks_dump_ctx *d = data;
	const struct nlattr *tb[INET_DIAG_MAX + 1] = { NULL };
	struct ks_attrs attrs = { tb, INET_DIAG_MAX };
	const struct inet_diag_msg *m;
	struct ks_sock s;
	int ret;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	m = mnl_nlmsg_get_payload(nlh);
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		return MNL_CB_OK;

	memset(&s, 0, sizeof(s));
	s.inode = m->idiag_inode;
	s.family = m->idiag_family;
	s.protocol = d->protocol;
	s.type = d->protocol == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	s.state = m->idiag_state;
	s.rqueue = m->idiag_rqueue;
	s.wqueue = m->idiag_wqueue;
	ks_set_inet(&s.local, s.family, m->id.idiag_src, m->id.idiag_sport, m->id.idiag_if);
	ks_set_inet(&s.peer, s.family, m->id.idiag_dst, m->id.idiag_dport, m->id.idiag_if);

	mnl_attr_parse(nlh, sizeof(*m), ks_attr_cb, &attrs);
	if (tb[INET_DIAG_INFO] && s.protocol == IPPROTO_TCP)
		ks_take_tcp_info(&s, tb[INET_DIAG_INFO]);

	ret = ks_add(d->t, &s);
	if (ret < 0) {
		d->err = ret;
		errno = -ret;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static int ks_unix_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ks_dump_ctx *d = data;
	const struct nlattr *tb[UNIX_DIAG_MAX + 1] = { NULL };
	struct ks_attrs attrs = { tb, UNIX_DIAG_MAX };
	const struct unix_diag_msg *m;
	struct sockaddr_un *un;
	struct ks_sock s;
	int ret;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	m = mnl_nlmsg_get_payload(nlh);

	memset(&s, 0, sizeof(s));
	s.inode = m->udiag_ino;
	s.family = AF_UNIX;
	s.type = m->udiag_type;
	s.state = m->udiag_state;
	s.local.ss_family = AF_UNIX;
	s.peer.ss_family = AF_UNIX;

	mnl_attr_parse(nlh, sizeof(*m), ks_attr_cb, &attrs);
	if (tb[UNIX_DIAG_NAME]) {
		/* The raw sun_path bytes: a leading NUL marks the abstract
		 * namespace, and there is no terminating NUL to rely on. */
		size_t len = mnl_attr_get_payload_len(tb[UNIX_DIAG_NAME]);

		un = (void *)&s.local;
		if (len > sizeof(un->sun_path))
			len = sizeof(un->sun_path);
		memcpy(un->sun_path, mnl_attr_get_payload(tb[UNIX_DIAG_NAME]), len);
	}
	if (tb[UNIX_DIAG_PEER] && mnl_attr_get_payload_len(tb[UNIX_DIAG_PEER]) >= sizeof(uint32_t))
		s.unix_peer_inode = mnl_attr_get_u32(tb[UNIX_DIAG_PEER]);
	if (tb[UNIX_DIAG_RQLEN] &&
	    mnl_attr_get_payload_len(tb[UNIX_DIAG_RQLEN]) >= sizeof(struct unix_diag_rqlen)) {
		struct unix_diag_rqlen rq;

		memcpy(&rq, mnl_attr_get_payload(tb[UNIX_DIAG_RQLEN]), sizeof(rq));
		s.rqueue = rq.udiag_rqueue;
		s.wqueue = rq.udiag_wqueue;
	}

	ret = ks_add(d->t, &s);
	if (ret < 0) {
		d->err = ret;
		errno = -ret;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static int ks_error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (e->error < 0) {
		errno = -e->error;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;   /* an ACK: nothing more will come */
}

/* A dump that fails midway ends in NLMSG_DONE carrying the error, which
 * libmnl's default handler ignores: we would take half a table for a whole. */
static int ks_done_cb(const struct nlmsghdr *nlh, void *data)
{
	int err;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err)) {
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
		if (err < 0) {
			errno = -err;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

/* With a control array libmnl consults only it, so every control type we
 * care about is listed; NLMSG_NOOP and NLMSG_OVERRUN are skipped. Not const
 * only because mnl_cb_run2() does not take it as such. */
static mnl_cb_t ks_ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = ks_error_cb,
	[NLMSG_DONE] = ks_done_cb,
};

static int ks_dump(struct mnl_socket *nl, char *buf, unsigned int seq,
		   const struct ks_dump_spec *spec, struct ks_dump_ctx *d)
{
	unsigned int portid = mnl_socket_get_portid(nl);
	struct nlmsghdr *nlh;
	mnl_cb_t cb;
	ssize_t n;
	int ret;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	if (spec->family == AF_UNIX) {
		struct unix_diag_req *req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));

		req->sdiag_family = AF_UNIX;
		req->udiag_states = ~0u;
		req->udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN;
		cb = ks_unix_msg_cb;
	} else {
		struct inet_diag_req_v2 *req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));

		req->sdiag_family = spec->family;
		req->sdiag_protocol = spec->protocol;
		/* All states, TIME_WAIT and request sockets included: they
		 * land in no_inode, and ss -a shows them too. */
		req->idiag_states = spec->protocol == IPPROTO_TCP ? d->tcp_states : ~0u;
		if (spec->protocol == IPPROTO_TCP)
			req->idiag_ext = 1 << (INET_DIAG_INFO - 1);
		cb = ks_inet_msg_cb;
	}

	do
		n = mnl_socket_sendto(nl, nlh, nlh->nlmsg_len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, KS_RECV_BUF);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		ret = mnl_cb_run2(buf, n, seq, portid, cb, d, ks_ctl_cbs, KS_ARRAY_SIZE(ks_ctl_cbs));
		if (ret == MNL_CB_STOP)
			return 0;
		if (ret < 0) {
			if (d->err)
				return d->err;
			/* libmnl's sequence mismatch: the tail of an earlier
			 * dump we gave up on (e.g. NLM_F_DUMP_INTR). Skip it. */
			if (errno == EPROTO)
				continue;
			return -errno;
		}
	}
}

/* unix_diag gives only the peer's inode; ss shows the peer's name, which
 * for an accepted connection is the listener's path. */
static void ks_unix_peer_names(struct ks_table *t)
{
	struct ks_sock *s, *tmp, *p;

	HASH_ITER(hh, t->by_inode, s, tmp) {
		if (s->family != AF_UNIX || !s->unix_peer_inode)
			continue;
		p = ks_lookup(t, s->unix_peer_inode);
		if (p)
			memcpy(&s->peer, &p->local, sizeof(s->peer));
	}
}

static int ks_procnet_file(struct ks_table *t, pid_t pid, const struct ks_dump_spec *spec);

static int ks_collect_diag(struct ks_table *t, pid_t pid, struct mnl_socket *nl,
			   uint32_t tcp_states)
{
	unsigned int seq = 0;   /* the socket is ours alone: 1..5 tell the dumps apart */
	struct ks_dump_ctx d;
	size_t i;
	char *buf;
	int ret = 0, fret;

	buf = malloc(KS_RECV_BUF);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < KS_ARRAY_SIZE(ks_dumps); i++) {
		const struct ks_dump_spec *spec = &ks_dumps[i];

		memset(&d, 0, sizeof(d));
		d.t = t;
		d.protocol = spec->protocol;
		d.tcp_states = tcp_states;
		ret = ks_dump(nl, buf, ++seq, spec, &d);
		if (ret == -ENOMEM)
			goto out;
		if (!ret)
			continue;
		/* A kernel without udp_diag or unix_diag answers ENOENT: the
		 * text table still has those sockets, minus the extras. */
		ks_note(t, "the kernel would not list %s sockets (%s): read from /proc instead, "
			"without idle times or peers", spec->procnet, strerror(-ret));
		fret = ks_procnet_file(t, pid, spec);
		if (fret == -ENOMEM) {
			ret = fret;
			goto out;
		}
		ret = 0;
	}
	ks_unix_peer_names(t);
	t->source = KS_SOURCE_DIAG;
out:
	free(buf);
	return ret;
}

static int ks_socket_open(struct mnl_socket **out)
{
	struct mnl_socket *nl;
	int ret;

	nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		mnl_socket_close(nl);
		return ret;
	}
	*out = nl;
	return 0;
}

static bool ks_pid_exists(pid_t pid)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return access(path, F_OK) == 0 || errno != ENOENT;
}

/* A netlink socket in the network namespace of `pid`, or NULL in *out when
 * we must fall back to /proc/<pid>/net (the reason is in t->note). Fails
 * only when the process does not exist. */
static int ks_open_for(struct ks_table *t, pid_t pid, struct mnl_socket **out)
{
	struct stat ours, theirs;
	int self_fd = -1, target_fd = -1, ret, err;
	char path[48];

	*out = NULL;
	if (pid > 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
		target_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (target_fd < 0) {
			err = errno;
			if (!ks_pid_exists(pid)) {
				ks_note(t, "process %d does not exist", (int)pid);
				return -ENOENT;
			}
			/* Another user's process: its netns is hidden from us,
			 * its /proc/<pid>/net is not. */
			ks_note(t, "cannot open %s (%s): sockets from /proc/%d/net, idle times unknown "
				"(run as root for full detail)", path, strerror(err), (int)pid);
			return 0;
		}
		/* thread-self: setns() moves this thread only, so ours is
		 * the calling thread's namespace, not the main thread's. */
		self_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self_fd < 0 || fstat(self_fd, &ours) < 0 || fstat(target_fd, &theirs) < 0) {
			ks_note(t, "cannot compare network namespaces (%s): sockets from /proc/%d/net, "
				"idle times unknown", strerror(errno), (int)pid);
			ret = 0;
			goto out_close;
		}
		if (ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino)
			t->other_netns = true;
	}

	if (!t->other_netns) {
		ret = ks_socket_open(out);
		if (ret < 0) {
			ks_note(t, "sock_diag is unavailable (%s): sockets from /proc, idle times unknown",
				strerror(-ret));
			ret = 0;
		}
		goto out_close;
	}

	if (setns(target_fd, CLONE_NEWNET) < 0) {
		err = errno;
		if (err == EPERM)
			ks_note(t, "target is in another network namespace that sockaudit may not enter: "
				"idle times unknown (run as root for full detail)");
		else
			ks_note(t, "cannot enter the target's network namespace (%s): idle times unknown",
				strerror(err));
		ret = 0;
		goto out_close;
	}
	ret = ks_socket_open(out);
	if (setns(self_fd, CLONE_NEWNET) < 0) {
		/* Every later connection and dump of this thread would silently
		 * use the target's network: there is no sane way to go on. */
		fprintf(stderr, "sockaudit: cannot return to our own network namespace: %s\n",
			strerror(errno));
		abort();
	}
	if (ret < 0) {
		ks_note(t, "sock_diag is unavailable in the target's network namespace (%s): "
			"idle times unknown", strerror(-ret));
		ret = 0;
	}
out_close:
	if (self_fd >= 0)
		close(self_fd);
	if (target_fd >= 0)
		close(target_fd);
	return ret;
}

static int ks_collect_states(struct ks_table *t, pid_t pid, uint32_t tcp_states)
{
	struct mnl_socket *nl;
	int ret;

	ret = ks_open_for(t, pid, &nl);
	if (ret < 0)
		return ret;
	if (!nl)
		return ks_collect_procnet(t, pid);
	ret = ks_collect_diag(t, pid, nl, tcp_states);
	mnl_socket_close(nl);
	if (ret < 0) {
		ks_free_entries(t);
		t->note[0] = '\0';
		ks_note(t, "cannot list sockets: %s", strerror(-ret));
		return ret;
	}
	ks_index_build(t);
	return ret;
}

int ks_collect(struct ks_table *t, pid_t pid)
{
	return ks_collect_states(t, pid, ~0u);
}

int ks_collect_held(struct ks_table *t, pid_t pid)
{
	return ks_collect_states(t, pid, KS_STATES_HELD);
}

/* ---- /proc/<pid>/net fallback ------------------------------------------ */

/* The kernel prints each 32-bit word of an address with %08X, as the
 * in-memory (network order) word read as a host integer: converting the
 * text back to a host integer and storing it restores the bytes on either
 * endianness. */
static int ks_hex_words(const char *hex, size_t nwords, void *dst)
{
	uint32_t w;
	size_t i, j;
	char c;

	for (i = 0; i < nwords; i++) {
		w = 0;
		for (j = 0; j < 8; j++) {
			c = hex[i * 8 + j];
			if (c >= '0' && c <= '9')
				w = w << 4 | (uint32_t)(c - '0');
			else if (c >= 'A' && c <= 'F')
				w = w << 4 | (uint32_t)(c - 'A' + 10);
			else if (c >= 'a' && c <= 'f')
				w = w << 4 | (uint32_t)(c - 'a' + 10);
			else
				return -EINVAL;
		}
		memcpy((char *)dst + i * 4, &w, 4);
	}
	return hex[nwords * 8] ? -EINVAL : 0;
}

int ks_procnet_parse_inet(const char *line, int family, int protocol, struct ks_sock *out)
{
	char lhex[33], rhex[33];
	unsigned int lport, rport, state, txq, rxq;
	unsigned char laddr[16], raddr[16];
	size_t nwords = family == AF_INET6 ? 4 : 1;
	uint64_t inode;
	int n;

	memset(out, 0, sizeof(*out));
	if ((family != AF_INET && family != AF_INET6) ||
	    (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP))
		return -EINVAL;
	/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode ... */
	n = sscanf(line, " %*u: %32[0-9A-Fa-f]:%x %32[0-9A-Fa-f]:%x %x %x:%x %*x:%*x %*x %*u %*d %" SCNu64,
		   lhex, &lport, rhex, &rport, &state, &txq, &rxq, &inode);
	if (n != 8 || lport > 0xffff || rport > 0xffff || state > 0xff)
		return -EINVAL;
	if (strlen(lhex) != nwords * 8 || strlen(rhex) != nwords * 8 ||
	    ks_hex_words(lhex, nwords, laddr) < 0 || ks_hex_words(rhex, nwords, raddr) < 0)
		return -EINVAL;

	out->inode = inode;
	out->family = family;
	out->protocol = protocol;
	out->type = protocol == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	out->state = (int)state;
	out->rqueue = rxq;
	out->wqueue = txq;
	/* The text tables have no interface index: link-local stays unscoped. */
	ks_set_inet(&out->local, family, laddr, htons((uint16_t)lport), 0);
	ks_set_inet(&out->peer, family, raddr, htons((uint16_t)rport), 0);
	return 0;
}

int ks_procnet_parse_unix(const char *line, struct ks_sock *out)
{
	unsigned int flags, type, st;
	struct sockaddr_un *un = (void *)&out->local;
	const char *path;
	uint64_t inode;
	size_t len;
	int n = 0;

	memset(out, 0, sizeof(*out));
	/* Num: RefCount Protocol Flags Type St Inode [Path] */
	if (sscanf(line, "%*[0-9A-Fa-f]: %*x %*x %x %x %x %" SCNu64 "%n",
		   &flags, &type, &st, &inode, &n) != 4 || !n)
		return -EINVAL;

	out->inode = inode;
	out->family = AF_UNIX;
	out->type = (int)type;
	out->local.ss_family = AF_UNIX;
	out->peer.ss_family = AF_UNIX;
	/* The column is the socket layer's state; map it to the sk_state
	 * unix_diag reports, as ss does for its own /proc fallback. */
	if (flags & KS_SO_ACCEPTCON)
		out->state = TCP_LISTEN;
	else if (st == KS_SS_CONNECTED)
		out->state = TCP_ESTABLISHED;
	else if (st == KS_SS_CONNECTING)
		out->state = TCP_SYN_SENT;
	else if (st == KS_SS_DISCONNECTING)
		out->state = TCP_CLOSING;
	else
		out->state = TCP_CLOSE;

	path = line + n;
	if (*path != ' ')
		return 0;
	path++;
	len = strcspn(path, "\n");
	if (!len)
		return 0;
	/* Abstract names are printed with '@' for the leading NUL (and for
	 * any NUL inside, which cannot be told apart from a real '@'). */
	if (path[0] == '@') {
		path++;
		len--;
		if (len > sizeof(un->sun_path) - 1)
			len = sizeof(un->sun_path) - 1;
		memcpy(un->sun_path + 1, path, len);
	} else {
		if (len > sizeof(un->sun_path))
			len = sizeof(un->sun_path);
		memcpy(un->sun_path, path, len);
	}
	return 0;
}

static int ks_procnet_file(struct ks_table *t, pid_t pid, const struct ks_dump_spec *spec)
{
	char path[64];
	char *line = NULL;
	size_t cap = 0;
	struct ks_sock s;
	FILE *f;
	int ret = 0;

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid, spec->procnet);
	else
		snprintf(path, sizeof(path), "/proc/self/net/%s", spec->procnet);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* The header line and anything unparsable are skipped by the parsers. */
	while (getline(&line, &cap, f) > 0) {
		if (spec->family == AF_UNIX)
			ret = ks_procnet_parse_unix(line, &s);
		else
			ret = ks_procnet_parse_inet(line, spec->family, spec->protocol, &s);
		if (ret < 0) {
			ret = 0;
			continue;
		}
		ret = ks_add(t, &s);
		if (ret < 0)
			break;
	}
	if (!ret && ferror(f))
		ret = -EIO;
	free(line);
	fclose(f);
	return ret;
}

int ks_collect_procnet(struct ks_table *t, pid_t pid)
{
	char who[16] = "self";
	size_t i;
	int ret;

	if (pid > 0)
		snprintf(who, sizeof(who), "%d", (int)pid);

	for (i = 0; i < KS_ARRAY_SIZE(ks_dumps); i++) {
		ret = ks_procnet_file(t, pid, &ks_dumps[i]);
		/* Without IPv6 there are no tcp6/udp6 files: nothing missed. */
		if (ret == -ENOENT && ks_dumps[i].family == AF_INET6 && (pid <= 0 || ks_pid_exists(pid)))
			continue;
		if (ret < 0)
			goto fail;
	}
	t->source = KS_SOURCE_PROCNET;
	ks_note(t, "sockets from /proc/%s/net: idle times unknown", who);
	ks_index_build(t);
	return 0;

fail:
	ks_free_entries(t);
	/* Nothing at all: why the fallback was taken matters less than why it
	 * failed too. */
	t->note[0] = '\0';
	if (pid > 0 && !ks_pid_exists(pid)) {
		ret = -ENOENT;
		ks_note(t, "process %d does not exist", (int)pid);
	} else {
		ks_note(t, "cannot read /proc/%s/net/%s: %s", who, ks_dumps[i].procnet, strerror(-ret));
	}
	return ret;
}

const struct ks_table *ks_views_get(struct ks_views *vs, pid_t pid)
{
	char path[64];
	struct stat st;
	struct ks_view *v;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat(path, &st) < 0)
		return NULL;
	for (size_t i = 0; i < vs->n; i++)
		if (vs->v[i].dev == st.st_dev && vs->v[i].ino == st.st_ino)
			return vs->v[i].ok ? &vs->v[i].ks : NULL;
	v = realloc(vs->v, (vs->n + 1) * sizeof(vs->v[0]));
	if (!v)
		return NULL;
	vs->v = v;
	v = &vs->v[vs->n++];
	memset(v, 0, sizeof(*v));
	v->dev = st.st_dev;
	v->ino = st.st_ino;
	/* Polls look sockets up by inode: TIME_WAIT and requests are of no use. */
	v->ok = ks_collect_held(&v->ks, pid) == 0;
	return v->ok ? &v->ks : NULL;
}

void ks_views_finish(struct ks_views *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		ks_finish(&vs->v[i].ks);
	free(vs->v);
	vs->v = NULL;
	vs->n = 0;
}
