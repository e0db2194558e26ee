/* kstate-private: what the parts of the kernel view share (kstate.c the
 * table, sockdiag.c the sock_diag dumps, netns.c the namespaces, procnet.c
 * the /proc/<pid>/net fallback). Not for use outside kernel/. */
#pragma once

#include <libmnl/libmnl.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>


struct ks_sock;
struct ks_table;

#define KS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Not in glibc's <netinet/tcp.h>: the state of request sockets in a dump. */
#define KS_TCP_NEW_SYN_RECV 12

/* Linux socket states (struct socket::state) as /proc/net/unix prints them;
 * 1, SS_UNCONNECTED, is what everything else is taken as. */
#define KS_SS_CONNECTING 2
#define KS_SS_CONNECTED 3
#define KS_SS_DISCONNECTING 4

struct ks_dump_spec {
	int family;
	int protocol;         /* 0 for AF_UNIX */
	const char *procnet;  /* the /proc/<pid>/net file with the same sockets */
};

/* TCP, UDP over IPv4 and IPv6, UNIX: one dump (and one /proc file) each. */
extern const struct ks_dump_spec ks_dumps[5];

/* TCP states a process can hold: all but TIME_WAIT and request sockets,
 * which have no inode (no struct socket) and no fd. */
#define KS_STATES_HELD (~0u & ~(1u << TCP_TIME_WAIT) & ~(1u << KS_TCP_NEW_SYN_RECV))

/* kstate.c: the table */
__attribute__((format(printf, 2, 3)))
void ks_note(struct ks_table *t, const char *fmt, ...);
int ks_add(struct ks_table *t, const struct ks_sock *src);
void ks_free_entries(struct ks_table *t);
void ks_index_build(struct ks_table *t);
void ks_set_inet(struct sockaddr_storage *ss, int family, const void *addr, uint16_t port_be,
		 uint32_t ifindex);

/* sockdiag.c: every dump of ks_dumps on nl (a file of procnet.c for a dump
 * the kernel refuses). */
/* tcp_only: the TCP dumps alone (UDP and UNIX skipped). */
int ks_collect_diag(struct ks_table *t, pid_t pid, struct mnl_socket *nl, uint32_t tcp_states,
		    bool tcp_only);

/* netns.c: a netlink socket in the network namespace of `pid`, or NULL in
 * *out when we must fall back to /proc/<pid>/net (the reason is in
 * t->note). Fails only when the process does not exist. */
int ks_open_for(struct ks_table *t, pid_t pid, struct mnl_socket **out);
bool ks_pid_exists(pid_t pid);

/* procnet.c: one /proc/<pid>/net file (pid <= 0: ours) into t. */
int ks_procnet_file(struct ks_table *t, pid_t pid, const struct ks_dump_spec *spec);
