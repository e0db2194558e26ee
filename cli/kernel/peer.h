/* peer: the other end of a TCP connection when it is on this host. In one
 * network namespace's view, the socket whose local address is this one's
 * peer and whose peer is this one's local address; the process and fd that
 * hold a socket (one walk of /proc/<pid>/fd for all the inodes asked);
 * the socket listening on a port. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kernel/kstate.h"

struct ks_peer_index;

/* Index a view's TCP sockets by their two ends. NULL when out of memory. */
struct ks_peer_index *ks_peer_index_create(const struct ks_table *t);
void ks_peer_index_destroy(struct ks_peer_index *ix);   /* accepts NULL */
/* The socket at the other end of s (a TCP connection, not a listener),
 * held or orphaned; NULL when the view has none. */
const struct ks_sock *ks_peer_find(const struct ks_peer_index *ix, const struct ks_sock *s);
/* In a view of TIME_WAIT sockets (ks_collect_timewait), the one at the
 * other end of s: by both ends, or, when s has no peer address (a socket
 * in CLOSE after both ends closed, read through its fd, and no record
 * says where it connected), the only one whose peer is s's local address
 * and port. NULL when none, or when that is ambiguous. */
const struct ks_sock *ks_peer_find_timewait(const struct ks_table *tw, const struct ks_sock *s);
/* The socket listening on addr's port (on that address or a wildcard). */
const struct ks_sock *ks_peer_listener(const struct ks_peer_index *ix,
				       const struct sockaddr_storage *addr);

struct ks_owner {
	uint64_t inode;          /* asked */
	pid_t pid;               /* 0: no process we may look at holds it */
	int fd;
	char comm[64];
};
/* Fill each owner's pid, fd and comm: one walk of every /proc/<pid>/fd we
 * may read but skip's (whose fds the caller has), the lowest pid first.
 * Sorts v by inode (ks_owner_cmp: bsearch it after). */
void ks_owners_find(struct ks_owner *v, size_t n, pid_t skip);
int ks_owner_cmp(const void *a, const void *b);

/* Who holds which socket inode over many processes, for a host-wide
 * collection: the fd scans of the processes it read anyway, and, once
 * something is asked that they do not hold, one walk of every other
 * process's /proc/<pid>/fd (instead of one walk per process asking). */
struct procfd_list;
struct ks_owner_map;
struct ks_owner_map *ks_owner_map_create(void);
void ks_owner_map_destroy(struct ks_owner_map *m);   /* accepts NULL */
/* pid's socket fds, as scanned (comm: its command). */
void ks_owner_map_add(struct ks_owner_map *m, pid_t pid, const char *comm,
		      const struct procfd_list *fds);
/* As ks_owners_find, from the map (lowest pid first, skip's fds not
 * used); m NULL: ks_owners_find. */
void ks_owner_map_find(struct ks_owner_map *m, struct ks_owner *v, size_t n, pid_t skip);

/* 127.0.0.0/8, ::1 or an IPv4-mapped 127/8: never leaves its namespace. */
bool ks_addr_is_loopback(const struct sockaddr_storage *a);
/* "FIN_WAIT_2" style name of a TCP state. */
const char *ks_tcp_state_name(int state);
