/* kstate: the kernel's view of sockets, keyed by inode: the table (a
 * uthash plus a sorted index for lookups), names and addresses, and
 * ks_collect(), which takes the view from the best source there is:
 *
 *   sockdiag.c  five NETLINK_SOCK_DIAG dumps on one socket (TCP and UDP over
 *               IPv4 and IPv6 through inet_diag, UNIX through unix_diag),
 *               parsed with libmnl. No per-socket system call: the cost is
 *               a handful of recvmsg() calls plus one malloc per socket.
 *   netns.c     a target in another network namespace: we enter it only to
 *               create the netlink socket, which stays bound to it after we
 *               return to ours; the per-namespace cache (ks_views).
 *   procnet.c   when that is not allowed, the text tables in /proc/<pid>/net,
 *               which any process whose /proc entry we can see may read;
 *               what was lost is said in t->note.
 */
/* uthash calls exit() on allocation failure unless told otherwise; a failed
 * add then leaves hh.tbl NULL, which ks_add() checks. Must precede uthash.h. */
#define HASH_NONFATAL_OOM 1

#include "kernel/kstate.h"
#include "kernel/kstate-private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>

const struct ks_dump_spec ks_dumps[5] = {
	{ AF_INET, IPPROTO_TCP, "tcp" },
	{ AF_INET6, IPPROTO_TCP, "tcp6" },
	{ AF_INET, IPPROTO_UDP, "udp" },
	{ AF_INET6, IPPROTO_UDP, "udp6" },
	{ AF_UNIX, 0, "unix" },
};

/* Keep the first sentence: it names the cause, later ones are consequences. */
void ks_note(struct ks_table *t, const char *fmt, ...)
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

void ks_free_entries(struct ks_table *t)
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
void ks_index_build(struct ks_table *t)
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

int ks_add(struct ks_table *t, const struct ks_sock *src)
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

void ks_set_inet(struct sockaddr_storage *ss, int family, const void *addr,
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

static int ks_collect_states(struct ks_table *t, pid_t pid, uint32_t tcp_states, bool tcp_only)
{
	struct mnl_socket *nl;
	int ret;

	ret = ks_open_for(t, pid, &nl);
	if (ret < 0)
		return ret;
	if (!nl)
		return tcp_only ? -EPERM : ks_collect_procnet(t, pid);
	ret = ks_collect_diag(t, pid, nl, tcp_states, tcp_only);
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
	return ks_collect_states(t, pid, ~0u, false);
}

int ks_collect_held(struct ks_table *t, pid_t pid)
{
	return ks_collect_states(t, pid, KS_STATES_HELD, false);
}

int ks_collect_timewait(struct ks_table *t, pid_t pid)
{
	return ks_collect_states(t, pid, 1u << TCP_TIME_WAIT, true);
}
