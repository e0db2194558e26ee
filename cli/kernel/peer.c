#include "kernel/peer.h"

#include "kernel/procfd.h"
#include "util/proc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct peer_key {
	uint8_t laddr[16], paddr[16];
	uint16_t lport, pport;
	uint8_t v6;
	uint8_t pad[3];
};

struct peer_entry {
	struct peer_key key;
	const struct ks_sock *s;
	UT_hash_handle hh;
};

struct ks_peer_index {
	struct peer_entry *by_ends;       /* uthash */
	const struct ks_sock **listeners;
	size_t nlisteners;
};

/* An address as 16 bytes and a port; an IPv4-mapped IPv6 address is the
 * IPv4 one (the two ends of one connection may be of either family). */
static bool addr_norm(const struct sockaddr_storage *a, uint8_t out[16], uint16_t *port,
		      uint8_t *v6)
{
	memset(out, 0, 16);
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)a;

		memcpy(out, &in->sin_addr, 4);
		*port = ntohs(in->sin_port);
		*v6 = 0;
		return true;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a;

		*port = ntohs(in6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			memcpy(out, in6->sin6_addr.s6_addr + 12, 4);
			*v6 = 0;
		} else {
			memcpy(out, &in6->sin6_addr, 16);
			*v6 = 1;
		}
		return true;
	}
	return false;
}

static bool is_tcp(const struct ks_sock *s)
{
	return s->protocol == IPPROTO_TCP && (s->family == AF_INET || s->family == AF_INET6);
}

static bool key_of(const struct sockaddr_storage *local, const struct sockaddr_storage *peer,
		   struct peer_key *k)
{
	uint8_t v6a, v6b;

	memset(k, 0, sizeof(*k));
	if (!addr_norm(local, k->laddr, &k->lport, &v6a) ||
	    !addr_norm(peer, k->paddr, &k->pport, &v6b) || v6a != v6b)
		return false;
	k->v6 = v6a;
	return true;
}

static void index_add(struct ks_peer_index *ix, const struct ks_sock *s, bool *oom)
{
	struct peer_entry *e, *old;

	if (!is_tcp(s))
		return;
	if (s->state == TCP_LISTEN) {
		const struct ks_sock **v = realloc(ix->listeners,
						   (ix->nlisteners + 1) * sizeof(v[0]));

		if (!v) {
			*oom = true;
			return;
		}
		ix->listeners = v;
		v[ix->nlisteners++] = s;
		return;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		*oom = true;
		return;
	}
	if (!key_of(&s->local, &s->peer, &e->key) || e->key.pport == 0) {
		free(e);
		return;
	}
	e->s = s;
	HASH_FIND(hh, ix->by_ends, &e->key, sizeof(e->key), old);
	if (old) {
		free(e);
		return;
	}
	HASH_ADD(hh, ix->by_ends, key, sizeof(e->key), e);
}

struct ks_peer_index *ks_peer_index_create(const struct ks_table *t)
{
	struct ks_peer_index *ix = calloc(1, sizeof(*ix));
	struct ks_sock *s, *tmp;
	bool oom = false;

	if (!ix)
		return NULL;
	HASH_ITER(hh, t->by_inode, s, tmp)
		index_add(ix, s, &oom);
	HASH_ITER(hh, t->no_inode, s, tmp)
		index_add(ix, s, &oom);
	if (oom) {
		ks_peer_index_destroy(ix);
		return NULL;
	}
	return ix;
}

void ks_peer_index_destroy(struct ks_peer_index *ix)
{
	struct peer_entry *e, *tmp;

	if (!ix)
		return;
	HASH_ITER(hh, ix->by_ends, e, tmp) {
		HASH_DEL(ix->by_ends, e);
		free(e);
	}
	free(ix->listeners);
	free(ix);
}

const struct ks_sock *ks_peer_find(const struct ks_peer_index *ix, const struct ks_sock *s)
{
	struct peer_key k;
	struct peer_entry *e;

	if (!ix || !is_tcp(s) || s->state == TCP_LISTEN || !key_of(&s->peer, &s->local, &k) ||
	    k.lport == 0)
		return NULL;
	HASH_FIND(hh, ix->by_ends, &k, sizeof(k), e);
	return e && e->s != s ? e->s : NULL;
}

static bool same_end(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	uint8_t x[16], y[16], v6a, v6b;
	uint16_t pa, pb;

	return addr_norm(a, x, &pa, &v6a) && addr_norm(b, y, &pb, &v6b) && pa && pa == pb &&
	       v6a == v6b && memcmp(x, y, 16) == 0;
}

const struct ks_sock *ks_peer_find_timewait(const struct ks_table *tw, const struct ks_sock *s)
{
	struct ks_sock *t, *tmp, *best = NULL;
	uint8_t any[16];
	uint16_t port = 0;
	uint8_t v6;
	bool no_peer;

	if (!tw || !is_tcp(s) || s->state == TCP_LISTEN ||
	    !addr_norm(&s->local, any, &port, &v6) || !port)
		return NULL;
	no_peer = !addr_norm(&s->peer, any, &port, &v6) || !port;
	/* Without the peer address, the local port may have served earlier
	 * connections still in TIME_WAIT (and ours may not be there: the
	 * kernel drops TIME_WAIT sockets past tcp_max_tw_buckets): only a
	 * single candidate is taken for it. */
	HASH_ITER(hh, tw->no_inode, t, tmp) {
		if (t->state != TCP_TIME_WAIT || !same_end(&t->peer, &s->local))
			continue;
		if (!no_peer && !same_end(&t->local, &s->peer))
			continue;
		if (best)
			return NULL;
		best = t;
	}
	return best;
}

const struct ks_sock *ks_peer_listener(const struct ks_peer_index *ix,
				       const struct sockaddr_storage *addr)
{
	static const uint8_t any[16];
	const struct ks_sock *wild = NULL;
	uint8_t a[16], b[16], v6a, v6b;
	uint16_t pa, pb;

	if (!ix || !addr_norm(addr, a, &pa, &v6a))
		return NULL;
	for (size_t i = 0; i < ix->nlisteners; i++) {
		const struct ks_sock *l = ix->listeners[i];

		if (!addr_norm(&l->local, b, &pb, &v6b) || pb != pa)
			continue;
		if (v6a == v6b && memcmp(a, b, 16) == 0)
			return l;
		/* A wildcard listener: 0.0.0.0 for IPv4, :: for both. */
		if (memcmp(b, any, 16) == 0 && (v6b || !v6a))
			wild = l;
	}
	return wild;
}

int ks_owner_cmp(const void *a, const void *b)
{
	const struct ks_owner *x = a, *y = b;

	return (x->inode > y->inode) - (x->inode < y->inode);
}

static int pid_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

void ks_owners_find(struct ks_owner *v, size_t n, pid_t skip)
{
	DIR *proc;
	struct dirent *d;
	int *pids = NULL;
	size_t npids = 0, left = n;

	for (size_t i = 0; i < n; i++) {
		v[i].pid = 0;
		v[i].fd = -1;
		v[i].comm[0] = '\0';
	}
	if (!n)
		return;
	qsort(v, n, sizeof(v[0]), ks_owner_cmp);
	proc = opendir("/proc");
	if (!proc)
		return;
	while ((d = readdir(proc))) {
		char *end;
		long pid = strtol(d->d_name, &end, 10);
		int *np;

		if (*end || pid <= 0 || pid == skip)
			continue;
		np = realloc(pids, (npids + 1) * sizeof(pids[0]));
		if (!np)
			break;
		pids = np;
		pids[npids++] = (int)pid;
	}
	closedir(proc);
	qsort(pids, npids, sizeof(pids[0]), pid_cmp);
	for (size_t p = 0; p < npids && left; p++) {
		struct procfd_list fds;

		if (procfd_scan(pids[p], &fds) < 0)
			continue;
		for (size_t i = 0; i < fds.n && left; i++) {
			uint64_t ino = fds.v[i].inode;
			struct ks_owner key, *o;

			key.inode = ino;
			o = bsearch(&key, v, n, sizeof(v[0]), ks_owner_cmp);
			if (!o)
				continue;
			/* Equal inodes sit together: give each its owner. */
			while (o > v && o[-1].inode == ino)
				o--;
			for (; o < v + n && o->inode == ino; o++)
				if (!o->pid) {
					o->pid = pids[p];
					o->fd = fds.v[i].fd;
					proc_read_comm(o->pid, o->comm, sizeof(o->comm));
					left--;
				}
		}
		procfd_finish(&fds);
	}
	free(pids);
}

struct ks_owner_map {
	struct ks_owner *v;      /* by (inode, pid) once sorted */
	size_t n, cap;
	bool sorted;
	int *known;              /* pids added: their fds are in v */
	size_t nknown, capknown;
	bool walked;             /* every other process's fds are in v too */
};

struct ks_owner_map *ks_owner_map_create(void)
{
	return calloc(1, sizeof(struct ks_owner_map));
}

void ks_owner_map_destroy(struct ks_owner_map *m)
{
	if (!m)
		return;
	free(m->v);
	free(m->known);
	free(m);
}

static bool map_push(struct ks_owner_map *m, uint64_t inode, pid_t pid, int fd, const char *comm)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		struct ks_owner *nv = realloc(m->v, cap * sizeof(*nv));

		if (!nv)
			return false;
		m->v = nv;
		m->cap = cap;
	}
	m->v[m->n].inode = inode;
	m->v[m->n].pid = pid;
	m->v[m->n].fd = fd;
	snprintf(m->v[m->n].comm, sizeof(m->v[0].comm), "%s", comm);
	m->n++;
	m->sorted = false;
	return true;
}

void ks_owner_map_add(struct ks_owner_map *m, pid_t pid, const char *comm,
		      const struct procfd_list *fds)
{
	if (!m)
		return;
	if (m->nknown == m->capknown) {
		size_t cap = m->capknown ? m->capknown * 2 : 256;
		int *nk = realloc(m->known, cap * sizeof(*nk));

		if (!nk)
			return;
		m->known = nk;
		m->capknown = cap;
	}
	m->known[m->nknown++] = pid;
	for (size_t i = 0; i < fds->n; i++)
		if (!map_push(m, fds->v[i].inode, pid, fds->v[i].fd, comm))
			return;
}

static int owner_pid_cmp(const void *a, const void *b)
{
	const struct ks_owner *x = a, *y = b;

	if (x->inode != y->inode)
		return (x->inode > y->inode) - (x->inode < y->inode);
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->fd - y->fd;
}

/* Every process not added: its socket fds into the map. */
static void map_walk(struct ks_owner_map *m)
{
	struct procfd_list fds = { 0 };
	struct dirent *d;
	DIR *proc;

	m->walked = true;
	qsort(m->known, m->nknown, sizeof(m->known[0]), pid_cmp);
	proc = opendir("/proc");
	while (proc && (d = readdir(proc))) {
		char *end, comm[64];
		long pid = strtol(d->d_name, &end, 10);
		int key;

		if (*end || pid <= 0 || pid == getpid())
			continue;
		key = (int)pid;
		if (bsearch(&key, m->known, m->nknown, sizeof(m->known[0]), pid_cmp))
			continue;
		if (procfd_scan((pid_t)pid, &fds) < 0 || !fds.n) {
			procfd_finish(&fds);
			continue;
		}
		proc_read_comm((pid_t)pid, comm, sizeof(comm));
		for (size_t i = 0; i < fds.n; i++)
			map_push(m, fds.v[i].inode, (pid_t)pid, fds.v[i].fd, comm);
		procfd_finish(&fds);
	}
	if (proc)
		closedir(proc);
}

static const struct ks_owner *map_lookup(struct ks_owner_map *m, uint64_t inode, pid_t skip)
{
	size_t lo = 0, hi = m->n;

	if (!m->sorted) {
		qsort(m->v, m->n, sizeof(m->v[0]), owner_pid_cmp);
		m->sorted = true;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid].inode < inode)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < m->n && m->v[lo].inode == inode; lo++)
		if (m->v[lo].pid != skip)
			return &m->v[lo];
	return NULL;
}

void ks_owner_map_find(struct ks_owner_map *m, struct ks_owner *v, size_t n, pid_t skip)
{
	bool missing = false;

	if (!m) {
		ks_owners_find(v, n, skip);
		return;
	}
	for (int pass = 0; pass < 2; pass++) {
		missing = false;
		for (size_t i = 0; i < n; i++) {
			const struct ks_owner *o = pass && v[i].pid ? NULL : map_lookup(m, v[i].inode, skip);

			if (pass && v[i].pid)
				continue;
			if (o) {
				v[i].pid = o->pid;
				v[i].fd = o->fd;
				memcpy(v[i].comm, o->comm, sizeof(v[i].comm));
			} else {
				v[i].pid = 0;
				v[i].fd = -1;
				v[i].comm[0] = '\0';
				missing = true;
			}
		}
		if (!missing || m->walked)
			break;
		map_walk(m);
	}
	qsort(v, n, sizeof(v[0]), ks_owner_cmp);
}

bool ks_addr_is_loopback(const struct sockaddr_storage *a)
{
	uint8_t b[16], v6;
	uint16_t port;
	static const uint8_t one[16] = { [15] = 1 };

	if (!addr_norm(a, b, &port, &v6))
		return false;
	return v6 ? memcmp(b, one, 16) == 0 : b[0] == 127;
}

const char *ks_tcp_state_name(int state)
{
	static const char *const names[] = {
		[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_SYN_SENT] = "SYN_SENT",
		[TCP_SYN_RECV] = "SYN_RECV", [TCP_FIN_WAIT1] = "FIN_WAIT_1",
		[TCP_FIN_WAIT2] = "FIN_WAIT_2", [TCP_TIME_WAIT] = "TIME_WAIT",
		[TCP_CLOSE] = "CLOSE", [TCP_CLOSE_WAIT] = "CLOSE_WAIT",
		[TCP_LAST_ACK] = "LAST_ACK", [TCP_LISTEN] = "LISTEN", [TCP_CLOSING] = "CLOSING",
	};

	if (state > 0 && (size_t)state < sizeof(names) / sizeof(names[0]) && names[state])
		return names[state];
	return "UNKNOWN";
}
