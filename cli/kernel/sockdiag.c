/* sockdiag: the NETLINK_SOCK_DIAG dumps (inet_diag for TCP and UDP over
 * IPv4 and IPv6, unix_diag for UNIX), parsed with libmnl into the table.
 */
#include "kernel/kstate.h"
#include "kernel/kstate-private.h"

#include <errno.h>
#include <inttypes.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

/* netlink_recvmsg() caps the skb size of a dump at about 32 KiB whatever we
 * ask for; twice that guarantees a whole skb always fits (no MSG_TRUNC). */
#define KS_RECV_BUF (64 * 1024)

struct ks_dump_ctx {
	struct ks_table *t;
	int protocol;
	uint32_t tcp_states;  /* bit (1 << state) per TCP state to ask for */
	int err;   /* our own failure (-ENOMEM) as opposed to the kernel's */
};

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
	s.expires_ms = m->idiag_expires;
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

int ks_collect_diag(struct ks_table *t, pid_t pid, struct mnl_socket *nl,
			   uint32_t tcp_states, bool tcp_only)
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

		if (tcp_only && spec->protocol != IPPROTO_TCP)
			continue;
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
	if (!tcp_only)
		ks_unix_peer_names(t);
	t->source = KS_SOURCE_DIAG;
out:
	free(buf);
	return ret;
}
