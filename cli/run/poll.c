/* poll: one look at the whole tree, every --interval.
 *
 * Each table in the run's directory is a process of the tree. A running one
 * gets what `report` does (snapshot, /proc/<pid>/fd, snapshot, one
 * sock_diag dump per network namespace, report_join_build) and every socket
 * it holds is followed by (pid, inode) across polls:
 *   - CLOSE_WAIT: the first poll that sees it is when it entered the state
 *     as far as we know; the age is the longer of "since then" and the
 *     kernel's lower bound (last_ack_recv), so both keepalive (which resets
 *     the kernel's value) and a late first poll are covered (DESIGN §5);
 *   - ESTABLISHED: the longest idle time observed.
 * A process that is gone (or ran its exit path) is finished once: the
 * records still in its table are the sockets it left open, with the TCP
 * state the shim wrote at exit, or the last poll's for a process killed
 * before its exit path could run.
 *
 * A process of the tree that cannot reach the run's directory (its own
 * mount namespace with a private /dev/shm, a user who may not enter it)
 * has its table in the table directory as its namespaces show it
 * (preload/table-file.c). Every poll walks the tree (run_spawn_tree) and
 * looks such a process up as `report <pid>` does (target_lookup_in: NSpid,
 * uid map, /proc/<pid>/root without leaving it); its table counts only
 * when its header carries this run's id. From there on it is polled and
 * finished like any other.
 */
#include "run/poll.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/spawn.h"
#include "util/procns.h"
#include "util/target.h"
#include "util/util.h"

/* One poll: its time and one kernel view per network namespace. */
struct poll_ctx {
	struct run_state *rs;
	struct ks_views views;
	uint64_t now_ms;
	uint64_t now_ns;
};

/* uthash's Jenkins hash falls through its switch on purpose. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
static struct run_sock *sock_get(struct run_proc *p, uint64_t inode)
{
	struct run_sock *s;

	HASH_FIND(hh, p->socks, &inode, sizeof(inode), s);
	if (s)
		return s;
	s = xcalloc(1, sizeof(*s));
	s->inode = inode;
	HASH_ADD(hh, p->socks, inode, sizeof(s->inode), s);
	return s;
}

static void sock_drop(struct run_proc *p, struct run_sock *s)
{
	HASH_DEL(p->socks, s);
	free(s->fds);
	free(s);
}

/* The pid we see for a process of our tree that knows itself as ns_pid.
 * Only our tree: two containers started in the same clock tick both have a
 * pid 1 with that start time. -1 when none runs. */
static pid_t host_pid_in_tree(pid_t ns_pid, uint64_t starttime)
{
	struct run_tree_proc *v;
	struct procns own;
	uint64_t st;
	pid_t found = -1;
	size_t n;

	/* In our pid namespace (the usual case): no walk. */
	if (proc_read_starttime(ns_pid, &st) && st == starttime && procns_read(ns_pid, &own) == 0 &&
	    own.ns_pid == ns_pid)
		return ns_pid;
	n = run_spawn_tree(&v);
	for (size_t i = 0; i < n && found < 0; i++) {
		struct procns ns;

		if (v[i].starttime == starttime && procns_read(v[i].pid, &ns) == 0 &&
		    ns.ns_pid == ns_pid)
			found = v[i].pid;
	}
	free(v);
	return found;
}

static struct run_proc *proc_get(struct run_state *rs, const char *name, int32_t pid,
				 uint64_t starttime)
{
	struct run_proc *p;

	HASH_FIND_STR(rs->by_name, name, p);
	if (p)
		return p;
	p = xcalloc(1, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->pid = p->ns_pid = pid;
	p->starttime = starttime;
	p->reader.fd = -1;
	snprintf(p->path, sizeof(p->path), "%.4000s/%.120s", rs->dir, name);
	/* A descendant in its own pid namespace (sharing our /dev/shm) names
	 * its table with the pid it sees: find the one we see. */
	{
		pid_t host = host_pid_in_tree(pid, starttime);

		if (host > 0)
			p->pid = host;
	}
	HASH_ADD_STR(rs->by_name, name, p);
	rs->procs = xrealloc(rs->procs, (rs->nprocs + 1) * sizeof(rs->procs[0]));
	rs->procs[rs->nprocs++] = p;
	return p;
}
#pragma GCC diagnostic pop

static void sock_set_fds(struct run_sock *s, const int *fds, size_t n)
{
	s->fds = xrealloc(s->fds, (n ? n : 1) * sizeof(s->fds[0]));
	memcpy(s->fds, fds, n * sizeof(fds[0]));
	s->nfds = n;
}

/* The closes by Go's garbage collector the recorder logged since the last
 * look (the header's ring of the SA_RESCUED_MAX most recent, most recent
 * first): each is a finding with the record the socket had. More than the
 * ring holds between two looks are counted, not lost silently. */
static void take_rescued(struct run_proc *p, struct sa_reader *r)
{
	struct sa_rescued v[SA_RESCUED_MAX];
	uint64_t total = 0, fresh;
	size_t n = sa_reader_rescued(r, v, SA_RESCUED_MAX, &total);

	if (total <= p->rescued_seen)
		return;
	fresh = total - p->rescued_seen;
	if (fresh > n) {
		p->rescued_missed += fresh - n;
		fresh = n;
	}
	for (size_t i = 0; i < fresh; i++) {
		const struct sa_slot *rec = &v[i].slot;
		/* Without an inode, a key of its own per close. */
		uint64_t key = rec->inode ? rec->inode
			: REPORT_INODE_NONE | (1ull << 40) | (p->rescued_seen + fresh - i);
		struct run_sock *s = sock_get(p, key);
		int fd = rec->fd;

		s->tracked = true;
		s->rec = *rec;
		if (!s->nfds)
			sock_set_fds(s, &fd, 1);
		s->rescued = true;
		s->rescued_close_ns = v[i].close_ns;
		s->held = false;
	}
	p->rescued_seen = total;
}

static bool is_tcp(const struct ks_sock *ks)
{
	return ks->protocol == IPPROTO_TCP && (ks->family == AF_INET || ks->family == AF_INET6);
}

/* One socket as this poll saw it. */
static void sock_observe(struct poll_ctx *c, struct run_proc *p, const struct report_sock *rsk)
{
	const struct leak_opts *o = &c->rs->opts.rep.leak;
	struct run_sock *s = sock_get(p, rsk->inode);
	uint64_t age;

	sock_set_fds(s, rsk->fds, rsk->nfds);
	if (rsk->tracked) {
		s->tracked = true;
		s->rec = rsk->rec;
	} else if (!s->tracked) {
		s->label = rsk->label;
	}
	s->held = true;
	/* A poll that found no kernel entry for a socket still held (the
	 * process was exiting: its fds still listed, its network namespace
	 * already unreadable) keeps the last view rather than forgetting
	 * the addresses and state the report shows. */
	if (!rsk->ks)
		return;
	s->have_ks = true;
	s->ks = *rsk->ks;
	memset(&s->ks.hh, 0, sizeof(s->ks.hh));
	if (!is_tcp(rsk->ks))
		return;
	if (rsk->ks->state == TCP_CLOSE_WAIT) {
		if (!s->cw_first_ms)
			s->cw_first_ms = c->now_ms;
		age = c->now_ms - s->cw_first_ms;
		if (rsk->verdict.close_wait_known && rsk->verdict.close_wait_ms > age)
			age = rsk->verdict.close_wait_ms;
		if (!s->cw_seen || age > s->cw_ms)
			s->cw_ms = age;
		s->cw_seen = true;
		if (leak_past(o, LEAK_CLOSE_WAIT, age))
			s->flag_cw = true;
	} else if (rsk->ks->state == TCP_ESTABLISHED && rsk->verdict.idle_known) {
		if (!s->idle_seen || rsk->verdict.idle_ms > s->idle_ms)
			s->idle_ms = rsk->verdict.idle_ms;
		s->idle_seen = true;
		if (leak_past(o, LEAK_IDLE, rsk->verdict.idle_ms))
			s->flag_idle = true;
	}
}

/* Sockets closed since the last poll that never met the rule are of no
 * further interest: forget them, so a long run of short connections does
 * not grow without bound. */
static void forget_closed(struct run_proc *p)
{
	struct run_sock *s, *tmp;

	HASH_ITER(hh, p->socks, s, tmp)
		if (!s->held && !s->flag_cw && !s->flag_idle && !s->at_exit && !s->rescued)
			sock_drop(p, s);
}

static bool proc_running(const struct run_proc *p)
{
	uint64_t st;

	return proc_read_starttime(p->pid, &st) && st == p->starttime &&
	       !target_proc_exited(p->pid);
}

static struct run_proc *proc_of(struct run_state *rs, pid_t pid, uint64_t starttime, bool in_ns)
{
	for (size_t i = 0; i < rs->nprocs; i++)
		if (rs->procs[i]->pid == pid && rs->procs[i]->starttime == starttime &&
		    rs->procs[i]->in_ns == in_ns)
			return rs->procs[i];
	return NULL;
}

/* A process whose table we read from the run's directory ran an image
 * that could not reach it and made a table of its own in its namespace:
 * that one is the live one, and answers for every fd the process holds. */
static void proc_supersede(struct run_proc *p)
{
	struct run_sock *s, *tmp;

	HASH_ITER(hh, p->socks, s, tmp)
		sock_drop(p, s);
	p->finished = true;
	if (p->reader_open)
		sa_reader_close(&p->reader);
	p->reader_open = false;
}

static void proc_error(struct run_proc *p, const char *err)
{
	snprintf(p->table_error, sizeof(p->table_error), "%.*s", (int)sizeof(p->table_error) - 1,
		 err);
}

/* The table a process of the tree made outside the run's directory, opened
 * as `report <pid>` opens it; ours only when it names this run. */
static bool open_table_ns(struct run_state *rs, struct run_proc *p)
{
	struct run_proc *old;
	char err[600];
	struct stat st;

	if (target_open_table_err(p->tgt, &p->reader, err, sizeof(err)) < 0) {
		/* Once the process is gone its root is too: keep the reason
		 * the table was refused while it ran. */
		if (!p->table_error[0] || proc_running(p))
			proc_error(p, err);
		return false;
	}
	/* The process's current table: a table in the run's directory of
	 * the same process is an earlier image's. While the new one cannot
	 * be read (a file planted at its name) the old one is still polled,
	 * and the kernel's view still flags the sockets, without stacks. */
	old = proc_of(rs, p->pid, p->starttime, false);
	if (old)
		proc_supersede(old);
	/* Not ours unless its header says so: a table another run made (a
	 * nested `sockaudit run`) is that run's to judge. */
	if (strcmp(p->reader.hdr.run_id, rs->run_id) != 0) {
		if (p->reader.hdr.run_id[0])
			snprintf(err, sizeof(err), "%.300s: made under another run (id '%.40s'), "
				 "not this one: not read", p->path, p->reader.hdr.run_id);
		else
			snprintf(err, sizeof(err), "%.300s: made without this run's id "
				 "(SOCKAUDIT_RUN_ID removed from its environment): not read",
				 p->path);
		proc_error(p, err);
		sa_reader_close(&p->reader);
		p->finished = true;
		return false;
	}
	if (!p->tgt->table_in_root[0] && fstat(p->reader.fd, &st) == 0) {
		p->table_dev_ino = true;
		p->table_dev = (uint64_t)st.st_dev;
		p->table_ino = (uint64_t)st.st_ino;
	}
	p->table_error[0] = '\0';
	p->reader_open = true;
	p->hdr = p->reader.hdr;
	p->have_hdr = true;
	return true;
}

static bool open_table(struct run_state *rs, struct run_proc *p)
{
	char path[4400], err[512];

	if (p->reader_open)
		return true;
	if (p->in_ns)
		return open_table_ns(rs, p);
	snprintf(path, sizeof(path), "%s/%s", rs->dir, p->name);
	if (sa_reader_open(&p->reader, path, geteuid(), err, sizeof(err)) < 0) {
		/* Possibly still being created: tried again next poll. */
		snprintf(p->table_error, sizeof(p->table_error), "%.*s",
			 (int)sizeof(p->table_error) - 1, err);
		return false;
	}
	if (p->reader.hdr.pid != p->ns_pid || p->reader.hdr.starttime != p->starttime) {
		snprintf(p->table_error, sizeof(p->table_error),
			 "%.200s: header names pid %d, not %d", path, p->reader.hdr.pid, p->ns_pid);
		sa_reader_close(&p->reader);
		return false;
	}
	p->table_error[0] = '\0';
	p->reader_open = true;
	p->hdr = p->reader.hdr;
	p->have_hdr = true;
	return true;
}


/* Polled sockets by the fd of the record they carry: how a record the shim
 * wrote without an inode finds the socket the polls saw for it. */
static struct run_sock **socks_by_rec_fd(struct run_proc *p, uint32_t nslots)
{
	struct run_sock **v = xcalloc(nslots ? nslots : 1, sizeof(v[0]));
	struct run_sock *k, *tmp;

	HASH_ITER(hh, p->socks, k, tmp)
		if (k->tracked && k->rec.fd >= 0 && (uint32_t)k->rec.fd < nslots)
			v[k->rec.fd] = k;
	return v;
}

/* The socket a record left at exit stands for: by inode when the shim
 * recorded one; else the polled socket that carried this very record (same
 * fd, thread and open time); else one of its own, keyed by its fd. */
static struct run_sock *sock_of_record(struct run_proc *p, struct run_sock *const *by_fd,
				       const struct sa_slot *rec)
{
	struct run_sock *k = by_fd[rec->fd];

	if (rec->inode)
		return sock_get(p, rec->inode);
	if (k && k->rec.open_ns == rec->open_ns && k->rec.tid == rec->tid)
		return k;
	return sock_get(p, REPORT_INODE_NONE | (uint32_t)rec->fd);
}

/* The process is gone: what its table still holds is what it left open. */
static void proc_finish(struct run_state *rs, struct run_proc *p)
{
	struct sa_snapshot s;
	struct run_sock **by_fd;
	char err[512];

	p->finished = true;
	if (sa_reader_snapshot(&p->reader, &s, err, sizeof(err)) < 0) {
		snprintf(p->table_error, sizeof(p->table_error), "%.*s",
			 (int)sizeof(p->table_error) - 1, err);
		goto out;
	}
	p->hdr = s.hdr;
	p->ran_exit_path = s.hdr.flags & SA_HDR_EXITED;
	take_rescued(p, &p->reader);
	by_fd = socks_by_rec_fd(p, s.hdr.nslots);
	for (size_t i = 0; i < s.nrecs; i++) {
		const struct sa_slot *rec = &s.recs[i].slot;
		struct run_sock *k;
		int fd = rec->fd;

		if (s.recs[i].status != SA_REC_OK || !rec->used)
			continue;
		/* Opened by another process (the parent before fork, whoever
		 * started the tree): that process answers for it. */
		if (rec->origin == SA_ORIGIN_INHERIT_FORK || rec->origin == SA_ORIGIN_INHERIT_START)
			continue;
		k = sock_of_record(p, by_fd, rec);
		if (!k->tracked) {
			k->tracked = true;
			k->rec = *rec;
		}
		if (!k->nfds)
			sock_set_fds(k, &fd, 1);
		k->at_exit = true;
		if (rec->flags & SA_SLOT_EXIT_STATE) {
			k->exit_state_known = true;
			k->exit_state_shim = true;
			k->exit_state = rec->exit_state;
		} else if (k->have_ks && k->held) {
			k->exit_state_known = true;
			k->exit_state = k->ks.state;
		}
	}
	free(by_fd);
	sa_snapshot_finish(&s);
out:
	forget_closed(p);
	/* Kept for the stacks (findings.c): the file may be gone with its
	 * mount namespace by then. */
	if (p->in_ns)
		return;
	sa_reader_close(&p->reader);
	p->reader_open = false;
}

static void proc_poll(struct poll_ctx *c, struct run_proc *p)
{
	struct run_state *rs = c->rs;
	struct sa_snapshot s1, s2;
	struct procfd_list fds = { 0 };
	struct report_join j;
	struct report_join_in in = { .leak = &rs->opts.rep.leak };
	struct run_sock *k, *tmp;
	char err[512];

	memset(&s1, 0, sizeof(s1));
	memset(&s2, 0, sizeof(s2));
	if (sa_reader_snapshot(&p->reader, &s1, err, sizeof(err)) < 0)
		goto gone;
	if (s1.hdr.flags & SA_HDR_EXITED)
		goto gone;
	if (procfd_scan(p->pid, &fds) < 0)
		goto gone;
	if (sa_reader_snapshot(&p->reader, &s2, err, sizeof(err)) < 0)
		goto gone;
	/* Scanned a successor with the same pid? Then the scan is not ours. */
	if (!proc_running(p))
		goto gone;
	p->hdr = s2.hdr;
	in.first = &s1;
	in.second = &s2;
	in.fds = &fds;
	/* A dump of every socket of the namespace is the costly part of a
	 * poll: only for a process that holds a socket. */
	in.ks = fds.n ? ks_views_get(&c->views, p->pid) : NULL;
	in.now_ns = c->now_ns;
	in.still_holds = procfd_holds;
	in.still_holds_arg = &p->pid;
	report_join_build(&j, &in);
	HASH_ITER(hh, p->socks, k, tmp)
		k->held = false;
	for (size_t i = 0; i < j.nsocks; i++)
		sock_observe(c, p, &j.socks[i]);
	take_rescued(p, &p->reader);
	forget_closed(p);
	p->polls++;
	report_join_finish(&j);
	goto out;
gone:
	proc_finish(rs, p);
out:
	procfd_finish(&fds);
	sa_snapshot_finish(&s1);
	sa_snapshot_finish(&s2);
}

static void discover(struct run_state *rs)
{
	struct dirent *d;
	uid_t euid = geteuid();
	DIR *dp = opendir(rs->dir);

	if (!dp)
		die("run: cannot read %s: %s", rs->dir, strerror(errno));
	while ((d = readdir(dp))) {
		uint32_t uid;
		int32_t pid;
		uint64_t starttime;

		if (sa_table_name_parse(d->d_name, &uid, &pid, &starttime) < 0 || uid != euid)
			continue;
		proc_get(rs, d->d_name, pid, starttime);
	}
	closedir(dp);
}

/* Processes of the tree with a table outside the run's directory. */
static void discover_tree(struct run_state *rs)
{
	struct run_tree_proc *v;
	size_t n = run_spawn_tree(&v);
	struct target t;

	for (size_t i = 0; i < n; i++) {
		struct run_proc *old = proc_of(rs, v[i].pid, v[i].starttime, false), *p;
		char name[128];
		struct procns ns;

		if (proc_of(rs, v[i].pid, v[i].starttime, true))
			continue;
		/* Its table is in the run's directory, and it still sees it. */
		if (old && (procns_read(v[i].pid, &ns) < 0 ||
			    (!ns.other_root && !ns.other_userns)))
			continue;
		if (!target_lookup_in(&t, v[i].pid, sa_table_dir()) || t.starttime != v[i].starttime)
			continue;
		snprintf(name, sizeof(name), "ns.%d.%llu", (int)v[i].pid,
			 (unsigned long long)v[i].starttime);
		p = xcalloc(1, sizeof(*p));
		snprintf(p->name, sizeof(p->name), "%s", name);
		snprintf(p->path, sizeof(p->path), "%s", t.table);
		p->pid = v[i].pid;
		p->ns_pid = t.ns.ns_pid;
		p->starttime = v[i].starttime;
		p->reader.fd = -1;
		p->in_ns = true;
		p->tgt = xmalloc(sizeof(*p->tgt));
		*p->tgt = t;
		HASH_ADD_STR(rs->by_name, name, p);
		rs->procs = xrealloc(rs->procs, (rs->nprocs + 1) * sizeof(rs->procs[0]));
		rs->procs[rs->nprocs++] = p;
		/* A table that cannot be opened yet is tried again at each
		 * poll (open_table), like one in the run's directory. */
		open_table_ns(rs, p);
	}
	free(v);
}

static bool known_path(const struct run_state *rs, const char *path)
{
	for (size_t i = 0; i < rs->nprocs; i++)
		if (rs->procs[i]->in_ns && strcmp(rs->procs[i]->path, path) == 0)
			return true;
	return false;
}

/* At the end: tables in our own table directory that name this run and that
 * no poll found by its process, because it lived between two polls: a
 * process of the tree running as a user who could not enter the run's
 * directory (the only way the shim puts one there: a process in another
 * mount namespace writes to its own). Owned by another user than ours, by
 * that rule. Their records are what they left at exit; the files are
 * removed with the run (run_proc_destroy). */
static void sweep_table_dir(struct run_state *rs)
{
	const char *dir = sa_table_dir();
	uid_t euid = geteuid();
	struct dirent *d;
	DIR *dp = opendir(dir);

	if (!dp)
		return;
	while ((d = readdir(dp))) {
		char path[4300], err[600];
		struct run_proc *p;
		struct stat st;
		uint32_t uid;
		int32_t pid;
		uint64_t starttime;
		int fd;

		if (sa_table_name_parse(d->d_name, &uid, &pid, &starttime) < 0 ||
		    fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid == euid)
			continue;
		snprintf(path, sizeof(path), "%.4000s/%.200s", dir, d->d_name);
		if (known_path(rs, path))
			continue;
		fd = openat(dirfd(dp), d->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
			    O_CLOEXEC);
		if (fd < 0)
			continue;
		p = xcalloc(1, sizeof(*p));
		if (sa_reader_open_fd(&p->reader, fd, path, st.st_uid, uid, err, sizeof(err)) < 0) {
			free(p);
			continue;
		}
		if (strcmp(p->reader.hdr.run_id, rs->run_id) != 0 || p->reader.hdr.pid != pid ||
		    p->reader.hdr.starttime != starttime) {
			sa_reader_close(&p->reader);
			free(p);
			continue;
		}
		snprintf(p->name, sizeof(p->name), "swept.%.100s", d->d_name);
		snprintf(p->path, sizeof(p->path), "%s", path);
		p->pid = p->ns_pid = pid;
		p->starttime = starttime;
		p->in_ns = true;
		p->reader_open = true;
		p->hdr = p->reader.hdr;
		p->have_hdr = true;
		p->table_dev_ino = true;
		p->table_dev = (uint64_t)st.st_dev;
		p->table_ino = (uint64_t)st.st_ino;
		HASH_ADD_STR(rs->by_name, name, p);
		rs->procs = xrealloc(rs->procs, (rs->nprocs + 1) * sizeof(rs->procs[0]));
		rs->procs[rs->nprocs++] = p;
		proc_finish(rs, p);
	}
	closedir(dp);
}

void run_poll(struct run_state *rs, bool final)
{
	struct poll_ctx c = { .rs = rs };

	discover(rs);
	discover_tree(rs);
	if (final)
		sweep_table_dir(rs);
	c.now_ms = now_monotonic_ms();
	c.now_ns = now_realtime_ns();
	for (size_t i = 0; i < rs->nprocs; i++) {
		struct run_proc *p = rs->procs[i];

		if (p->finished)
			continue;
		if (!open_table(rs, p)) {
			if (final || !proc_running(p))
				p->finished = true;
			continue;
		}
		if (final || !proc_running(p))
			proc_finish(rs, p);
		else
			proc_poll(&c, p);
	}
	ks_views_finish(&c.views);
	rs->npolls++;
}

void run_proc_destroy(struct run_proc *p)
{
	struct run_sock *s, *tmp;

	if (!p)
		return;
	HASH_ITER(hh, p->socks, s, tmp)
		sock_drop(p, s);
	if (p->reader_open)
		sa_reader_close(&p->reader);
	/* A table the shim left in our own table directory for the gate
	 * (a process that could not enter the run's): removed when the name
	 * still leads to the very file read. One in another root goes with
	 * that root's /dev/shm. */
	if (p->table_dev_ino && p->finished) {
		struct stat st;

		if (lstat(p->path, &st) == 0 && S_ISREG(st.st_mode) &&
		    (uint64_t)st.st_dev == p->table_dev && (uint64_t)st.st_ino == p->table_ino)
			unlink(p->path);
	}
	free(p->tgt);
	free(p);
}
