/* kstate: the kernel's view of sockets, keyed by inode.
 *
 * One NETLINK_SOCK_DIAG dump per family (TCP v4/v6 with tcp_info, UDP v4/v6,
 * UNIX via unix_diag, all states), joined by inode with uthash. Sockets live
 * in a network namespace: when the target's differs from ours we try to enter
 * it just long enough to create the netlink socket; when that is not allowed
 * we fall back to /proc/<pid>/net/{tcp,tcp6,udp,udp6,unix} (state and
 * addresses, no tcp_info: idle unknown) and say so in `note`.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <uthash.h>

enum ks_source {
	KS_SOURCE_DIAG = 0,   /* sock_diag in the target's netns */
	KS_SOURCE_PROCNET,    /* /proc/<pid>/net fallback: no tcp_info */
};

struct ks_sock {
	uint64_t inode;
	int family;           /* AF_INET, AF_INET6, AF_UNIX */
	int type;             /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET (unix); tcp -> STREAM, udp -> DGRAM */
	int protocol;         /* IPPROTO_TCP / IPPROTO_UDP; 0 for unix */
	int state;            /* TCP_ESTABLISHED ... as in <netinet/tcp.h>; UDP/UNIX: the kernel's value */
	struct sockaddr_storage local, peer;  /* AF_UNIX: sun_path of the socket's own name (local);
	                                       * peer: the name of unix_peer_inode when it is in the table */
	bool have_tcp_info;
	bool probed;          /* read through the process's own fd (kprobe.c) */
	uint32_t last_data_recv_ms, last_data_sent_ms, last_ack_recv_ms;
	uint32_t rqueue, wqueue;
	uint32_t expires_ms;        /* sock_diag's timer left: for TIME_WAIT, the newest has most */
	uint64_t unix_peer_inode;   /* 0 when none or not unix */
	UT_hash_handle hh;
};

struct ks_table {
	struct ks_sock *by_inode;   /* uthash head */
	enum ks_source source;
	bool other_netns;           /* the target's netns is not ours */
	char note[160];             /* one plain sentence when something was degraded, else "" */
	/* Sockets no process holds any more have no inode (TIME_WAIT, orphans
	 * after close() such as FIN_WAIT2, SYN_RECV requests). They cannot be
	 * keyed by inode, so they live here: a uthash head like by_inode, but
	 * every key is 0: iterate it with HASH_ITER, never look up. */
	struct ks_sock *no_inode;
	/* by_inode's entries sorted by inode, built when a collection is
	 * complete: `report` looks up every fd of the target, and uthash's
	 * chains (several entries, each a cache miss in a table of tens of
	 * thousands) make that ~0.4 us a lookup. Used while it covers every
	 * entry of by_inode; ks_insert() keeps it so. */
	struct ks_index_entry {
		uint64_t inode;
		struct ks_sock *s;
	} *index;
	size_t nindex;
};

/* Fill `t` (zeroed by the caller) with every TCP, UDP and UNIX socket of the
 * network namespace of `pid` (pid <= 0: our own). Returns 0, or -errno with a
 * message in t->note when nothing could be read at all. */
int ks_collect(struct ks_table *t, pid_t pid);
/* The same, less what no process can hold: TIME_WAIT and request sockets
 * (no inode, no fd) are not asked of sock_diag, so by_inode is the same
 * and no_inode holds only orphans. A host that closes many connections has
 * tens of thousands of those; `report` looks sockets up by inode only. */
int ks_collect_held(struct ks_table *t, pid_t pid);
/* TCP's TIME_WAIT sockets alone (no inode, no process: into no_inode), by
 * sock_diag only (-EPERM without it): asked only when the other end of a
 * connection is on this host and not in the held view. */
int ks_collect_timewait(struct ks_table *t, pid_t pid);
struct ks_sock *ks_lookup(const struct ks_table *t, uint64_t inode);
/* Add one socket (copied); an inode already present keeps its first view. */
int ks_insert(struct ks_table *t, const struct ks_sock *s);
void ks_finish(struct ks_table *t);   /* frees every entry; t may be zeroed again */

/* One kernel view per network namespace, for commands that look at many
 * processes: processes sharing a namespace (the usual case) share one
 * dump. */
struct ks_view {
	dev_t dev;
	ino_t ino;
	bool ok;
	struct ks_table ks;
};

struct ks_views {
	struct ks_view *v;
	size_t n;
};

/* The view of pid's namespace, collected on first use; NULL when the
 * namespace cannot be read or its dump failed. */
const struct ks_table *ks_views_get(struct ks_views *vs, pid_t pid);
void ks_views_finish(struct ks_views *vs);

/* "ESTABLISHED", "CLOSE_WAIT", ... for TCP states; "UNCONN"/"ESTAB" style for others. */
const char *ks_state_name(const struct ks_sock *s);
/* "127.0.0.1:8080", "[::1]:80", "/run/x.sock", "@abstract", "*" */
void ks_format_addr(const struct sockaddr_storage *a, char *buf, size_t len);

/* The /proc/<pid>/net fallback on its own (pid <= 0: ours), whatever the
 * namespaces: for tests and for comparing the two views. Same contract as
 * ks_collect; t->source is KS_SOURCE_PROCNET. */
int ks_collect_procnet(struct ks_table *t, pid_t pid);
/* One line of /proc/net/{tcp,tcp6,udp,udp6} (family AF_INET/AF_INET6,
 * protocol IPPROTO_TCP/UDP) or of /proc/net/unix into *out (zeroed first).
 * Returns 0, or -EINVAL for a header or malformed line. */
int ks_procnet_parse_inet(const char *line, int family, int protocol, struct ks_sock *out);
int ks_procnet_parse_unix(const char *line, struct ks_sock *out);
