/* trace/procs: events to table records (see procs.h). Record semantics
 * follow the shim's (docs/design.md, "struct sa_slot"): a socket, accept or
 * socketpair record with its open stack; a dup copies its source's record;
 * connect adds the peer and its stack; a close clears the slot; a forked
 * child inherits its parent's records; exec keeps the sockets still open. */
#include "trace/procs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <uthash.h>

#include "kernel/procfd.h"
#include "trace/gosym.h"
#include "trace/writer.h"
#include "util/proc.h"
#include "util/util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1u << 2)
#endif

enum owner {
	OWN_NONE = 0,   /* no table yet: nothing recorded so far */
	OWN_RECORDER,   /* ours */
	OWN_SHIM,       /* the shim writes its table: left alone */
	OWN_OTHER,      /* another recorder's table, or the process is gone */
};

struct proc {
	pid_t pid;
	pid_t ppid;
	enum owner owner;
	bool forked;
	uint64_t nlost;     /* events lost, as last set */
	bool exec_recheck;  /* the shim's process exec'd: is the shim in the new image? */
	bool table_recheck; /* ours, then an exec into an image the shim may enter */
	int gc_known;       /* 0: not looked up; 1: runfinq at [gc_lo, gc_hi); -1: none */
	uint32_t mods_gen;  /* the image generation whose modules are logged, 0 none */
	char exe[SA_PATH_MAX];     /* read at exec, for a process gone by the time */
	char cmdline[SA_CMDLINE_MAX];
	bool known;         /* start time and euid from the kernel's events */
	uint64_t start_ns;
	uint32_t euid;
	uint64_t gc_lo, gc_hi;
	uint64_t image;     /* its exec event's mono_ns (the kernel's `images`), 0 unseen */
	struct tr_table t;
	UT_hash_handle hh;
};

struct tr_procs {
	char dir[4096];
	struct proc *procs;
	int64_t mono_to_real;   /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	struct tr_lost_ops ops;
	bool under_run;
	char run_id[SA_RUN_ID_MAX];
	uint64_t clk_tck;       /* USER_HZ: /proc's starttime unit */
};

static int64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct tr_procs *tr_procs_create(const char *dir)
{
	struct tr_procs *p = xcalloc(1, sizeof(*p));

	snprintf(p->dir, sizeof(p->dir), "%s", dir);
	p->mono_to_real = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	p->clk_tck = (uint64_t)sysconf(_SC_CLK_TCK);
	if (!p->clk_tck || 1000000000ull % p->clk_tck)
		p->clk_tck = 100;
	return p;
}

static void proc_free(struct tr_procs *p, struct proc *pr, bool remove)
{
	HASH_DEL(p->procs, pr);
	if (pr->owner == OWN_RECORDER)
		tr_table_close(&pr->t, remove);
	free(pr);
}

void tr_procs_destroy(struct tr_procs *p)
{
	struct proc *pr, *tmp;

	if (!p)
		return;
	HASH_ITER(hh, p->procs, pr, tmp)
		proc_free(p, pr, !p->under_run);
	free(p);
}

void tr_procs_set_lost_ops(struct tr_procs *p, const struct tr_lost_ops *ops)
{
	p->ops = *ops;
}

/* Add what the kernel counted for pr since the last time to its table's
 * `missed`: an event lost in the kernel is an update dropped. */
static void apply_lost(struct tr_procs *p, struct proc *pr)
{
	uint64_t n;

	if (!p->ops.lost || pr->owner != OWN_RECORDER)
		return;
	n = p->ops.lost(p->ops.arg, pr->pid, pr->known ? pr->start_ns : 0);
	if (n > pr->nlost) {
		__atomic_fetch_add(&pr->t.hdr->counters.missed, n - pr->nlost, __ATOMIC_RELAXED);
		pr->nlost = n;
	}
}

/* pr is gone: its last lost count applied, the kernel's entry dropped, its
 * table finished as the shim's at exit (removed; kept under `run`, which
 * reads what it left open). */
static void proc_gone(struct tr_procs *p, struct proc *pr)
{
	apply_lost(p, pr);
	if (p->ops.forget)
		p->ops.forget(p->ops.arg, pr->pid, pr->known ? pr->start_ns : 0);
	proc_free(p, pr, !p->under_run);
}

/* The process of pid started at start_ns (0: not known). One known under
 * that pid with another start time is gone, and its exit event with it
 * (the ring buffer was full): it is retired, and its table never receives
 * the records of the process that reused its pid. */
static struct proc *proc_get_at(struct tr_procs *p, pid_t pid, uint64_t start_ns)
{
	struct proc *pr;

	HASH_FIND_INT(p->procs, &pid, pr);
	if (pr && pr->known && start_ns && pr->start_ns != start_ns) {
		proc_gone(p, pr);
		pr = NULL;
	}
	if (pr)
		return pr;
	pr = xcalloc(1, sizeof(*pr));
	pr->pid = pid;
	pr->t.fd = -1;
	HASH_ADD_INT(p->procs, pid, pr);
	return pr;
}

static struct proc *proc_get(struct tr_procs *p, pid_t pid)
{
	return proc_get_at(p, pid, 0);
}

/* Is libsockaudit.so mapped in pid? 1: yes, the shim writes its table (or
 * will: a forked child of the shim's makes its own on first use); 0: the
 * maps were read and it is not; -1: not known (the process is gone, or
 * its address space already released at exit). */
struct shim_walk {
	bool any;
};

static int shim_line(const struct proc_map *m, void *arg)
{
	((struct shim_walk *)arg)->any = true;
	return strstr(m->path, "/libsockaudit") != NULL;
}

static int shim_mapped(pid_t pid)
{
	struct shim_walk w = { false };

	if (proc_maps_each(pid, shim_line, &w) == 1)
		return 1;
	return w.any ? 0 : -1;
}

/* Has the executable a PT_INTERP (the dynamic loader, which loads the
 * shim)? True when it cannot be read either: then it may have the shim. */
static bool exe_is_dynamic(const char *path)
{
	struct proc_exe_facts f;

	return proc_exe_facts(path, &f) < 0 || f.interp;
}

/* Is the executable a Go program (a .note.go.buildid section)? A look at
 * the section headers only. */
static bool exe_is_go(const char *path)
{
	struct proc_exe_facts f;

	return proc_exe_facts(path, &f) == 0 && f.go_note;
}

/* The sockets pid holds now (per /proc/<pid>/fd) into t, without stacks. */
static int adopt_fds(struct proc *pr, struct tr_table *t, unsigned origin)
{
	struct procfd_list fds;
	int rc = procfd_scan(pr->pid, &fds);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < fds.n; i++) {
		struct sa_slot s = { 0 };

		s.used = 1;
		s.origin = (uint8_t)origin;
		s.inode = fds.v[i].inode;
		s.fd = fds.v[i].fd;
		s.dup_of = -1;
		s.generation = t->hdr->generation;
		/* Opened before now; when exactly is not known. */
		s.open_ns = now_realtime_ns();
		tr_table_put(t, fds.v[i].fd, &s);
	}
	procfd_finish(&fds);
	return (int)fds.n;
}

static void mark_run(const struct tr_procs *p, struct tr_table *t)
{
	if (!p->under_run)
		return;
	t->hdr->flags |= SA_HDR_UNDER_RUN;
	memcpy(t->hdr->run_id, p->run_id, sizeof(t->hdr->run_id));
}

void tr_procs_set_run(struct tr_procs *p, const char *run_id)
{
	p->under_run = true;
	snprintf(p->run_id, sizeof(p->run_id), "%s", run_id);
}

/* The table this process's records go to, or NULL when they are not ours
 * to write. Made on first need. */
static struct tr_table *table_of(struct tr_procs *p, struct proc *pr)
{
	struct rlimit rl = { 0 };
	uint64_t start;
	uint32_t uid;
	int rc, shim;

	/* Only an exec can bring the shim into a process whose table we
	 * made (we made it after seeing no shim in its maps), and only into
	 * an image with the dynamic loader: a path lookup per event (most of
	 * the reader's time under a busy Go client) is needed only then. */
	if (pr->owner == OWN_RECORDER) {
		if (!pr->table_recheck || tr_table_still_ours(&pr->t))
			return &pr->t;
		/* The shim replaced it at an exec: the process is its now. */
		tr_table_close(&pr->t, false);
		pr->owner = OWN_SHIM;
		return NULL;
	}
	/* A process of the shim's exec'd: an image the shim cannot enter
	 * (static, Go without cgo) leaves its table without a writer. */
	if (pr->owner == OWN_SHIM && pr->exec_recheck) {
		pr->exec_recheck = false;
		if (shim_mapped(pr->pid) == 0)
			pr->owner = OWN_NONE;
	}
	if (pr->owner != OWN_NONE)
		return NULL;
	shim = shim_mapped(pr->pid);
	/* Gone before we could look: only an executable the dynamic loader
	 * never runs (static, Go without cgo) is surely without the shim. */
	if (shim == 1 || (shim < 0 && (!pr->exe[0] || exe_is_dynamic(pr->exe)))) {
		pr->owner = OWN_SHIM;
		return NULL;
	}
	/* From the kernel's event: /proc may already be gone for a process
	 * that lived a few milliseconds; /proc's starttime is the same
	 * nanoseconds in clock ticks. */
	if (pr->known) {
		start = pr->start_ns / (1000000000ull / p->clk_tck);
		uid = pr->euid;
	} else if (!proc_read_starttime(pr->pid, &start) || !proc_read_euid(pr->pid, &uid)) {
		pr->owner = OWN_OTHER;   /* gone before we could name its table */
		return NULL;
	}
	if (prlimit(pr->pid, RLIMIT_NOFILE, NULL, &rl) != 0 || rl.rlim_max == RLIM_INFINITY)
		rl.rlim_max = SA_MAX_SLOTS;
	if (!pr->ppid)
		pr->ppid = proc_read_ppid(pr->pid);
	rc = tr_table_create(&pr->t, p->dir, pr->pid, uid, start, pr->ppid,
			     rl.rlim_max > SA_MAX_SLOTS ? SA_MAX_SLOTS : (uint32_t)rl.rlim_max);
	/* Only a process seen running without the shim gives up the shim's
	 * table: one that is gone may have written it itself. */
	if (rc == -EEXIST && shim == 0 && !tr_table_is_recorders(pr->t.path) &&
	    tr_table_remove_stale(pr->t.path, uid, pr->pid, start) == 0) {
		/* The shim's table of an earlier image, no longer written:
		 * ours now, with the sockets that image left open. */
		rc = tr_table_create(&pr->t, p->dir, pr->pid, uid, start, pr->ppid,
				     rl.rlim_max > SA_MAX_SLOTS ? SA_MAX_SLOTS
								: (uint32_t)rl.rlim_max);
		if (rc == 0) {
			pr->owner = OWN_RECORDER;
			pr->table_recheck = false;
			mark_run(p, &pr->t);
			adopt_fds(pr, &pr->t, SA_ORIGIN_INHERIT_EXEC);
			return &pr->t;
		}
	}
	if (rc == -EEXIST) {
		pr->owner = tr_table_is_recorders(pr->t.path) ? OWN_OTHER : OWN_SHIM;
		return NULL;
	}
	if (rc < 0) {
		warnx_("trace: cannot make the table of process %d: %s", (int)pr->pid,
		       strerror(-rc));
		pr->owner = OWN_OTHER;
		return NULL;
	}
	pr->owner = OWN_RECORDER;
	pr->table_recheck = false;
	if (pr->forked)
		pr->t.hdr->flags |= SA_HDR_FORKED;
	mark_run(p, &pr->t);
	return &pr->t;
}

static uint64_t real_ns(const struct tr_procs *p, uint64_t mono)
{
	return (uint64_t)((int64_t)mono + p->mono_to_real);
}

static void put_peer(struct sa_slot *s, const struct tr_event *ev)
{
	s->peer_len = ev->peer_len;
	memcpy(s->peer, ev->peer, sizeof(s->peer));
	if (ev->peer_len > SA_PEER_MAX)
		s->flags |= SA_SLOT_PEER_TRUNC;
}

static void record_open(struct tr_procs *p, struct tr_table *t, const struct tr_event *ev,
			int fd, unsigned origin, int dup_of, uint32_t stack)
{
	struct sa_slot s = { 0 };

	s.used = 1;
	s.origin = (uint8_t)origin;
	s.inode = origin == SA_ORIGIN_SOCKETPAIR && fd == ev->fd2 ? ev->inode2 : ev->inode;
	s.fd = fd;
	s.family = ev->family;
	s.type = ev->type;
	s.protocol = ev->protocol;
	s.dup_of = dup_of;
	s.tid = ev->tid;
	s.open_stack = stack;
	s.generation = t->hdr->generation;
	s.open_ns = real_ns(p, ev->mono_ns);
	if (origin == SA_ORIGIN_ACCEPT)
		put_peer(&s, ev);
	/* Counted as the shim counts (docs/design.md, "Per-site counts"). */
	if (tr_table_count_ready(t, stack))
		s.flags |= SA_SLOT_COUNTED;
	if (tr_table_put(t, fd, &s) && (s.flags & SA_SLOT_COUNTED))
		tr_table_count_open(t, stack);
}

static void on_dup(struct tr_procs *p, struct tr_table *t, const struct tr_event *ev)
{
	struct sa_slot s;
	uint32_t stack = tr_table_stack(t, (const uint64_t *)ev->frames, ev->nframes);

	if (!tr_table_get(t, ev->fd2, &s)) {
		/* A socket opened before recording began. */
		record_open(p, t, ev, ev->fd, SA_ORIGIN_DUP, ev->fd2, stack);
		return;
	}
	s.origin = SA_ORIGIN_DUP;
	s.flags &= (uint8_t)~SA_SLOT_COUNTED;   /* a dup is no open */
	s.dup_of = ev->fd2;
	s.fd = ev->fd;
	s.tid = ev->tid;
	s.open_stack = stack;
	s.generation = t->hdr->generation;
	s.open_ns = real_ns(p, ev->mono_ns);
	if (ev->inode)
		s.inode = ev->inode;
	tr_table_put(t, ev->fd, &s);
}

static void on_connect(struct tr_procs *p, struct tr_table *t, const struct tr_event *ev)
{
	struct sa_slot s;

	if (!tr_table_get(t, ev->fd, &s)) {
		memset(&s, 0, sizeof(s));
		s.used = 1;
		s.origin = SA_ORIGIN_INHERIT_START;
		s.dup_of = -1;
		s.tid = ev->tid;
		s.generation = t->hdr->generation;
	}
	s.flags |= SA_SLOT_CONNECTED;
	put_peer(&s, ev);
	s.connect_stack = tr_table_stack(t, (const uint64_t *)ev->frames, ev->nframes);
	s.connect_ns = real_ns(p, ev->mono_ns);
	tr_table_put(t, ev->fd, &s);
}

/* Where runtime.runfinq is in pr's image, looked up while /proc has it.
 * Told to the kernel, which judges the image's closes from then on
 * (recorder.bpf.c, close_gc()), when the image's exec was seen. */
static void find_runfinq(struct tr_procs *p, struct proc *pr)
{
	pr->gc_known = tr_gosym_range(pr->pid, "runtime.runfinq", &pr->gc_lo, &pr->gc_hi) ? 1 : -1;
	if (p->ops.gc_range && pr->image)
		p->ops.gc_range(p->ops.arg, pr->pid, pr->image,
				pr->gc_known > 0 ? pr->gc_lo : 0, pr->gc_known > 0 ? pr->gc_hi : 0);
}

/* Did Go's finalizer goroutine (runtime.runfinq) make this close? The
 * program dropped the socket and the garbage collector closed it. */
static bool closed_by_gc(struct tr_procs *p, struct proc *pr, const struct tr_event *ev)
{
	if (ev->flags & TR_CLOSE_DECIDED)
		return ev->flags & TR_CLOSE_GC;
	if (!pr->gc_known)
		find_runfinq(p, pr);
	if (pr->gc_known < 0)
		return false;
	for (uint32_t i = 0; i < ev->nframes && i < TR_MAX_FRAMES; i++)
		if (ev->frames[i] >= pr->gc_lo && ev->frames[i] < pr->gc_hi)
			return true;
	return false;
}

static void on_close(struct tr_procs *p, struct proc *pr, struct tr_table *t,
		     const struct tr_event *ev)
{
	struct sa_slot s;
	bool gc;

	if (!tr_table_get(t, ev->fd, &s))
		return;
	gc = closed_by_gc(p, pr, ev);
	if (gc)
		tr_table_rescued(t, &s, real_ns(p, ev->mono_ns));
	tr_table_clear_as(t, ev->fd, gc);
}

static void on_close_range(struct tr_table *t, const struct tr_event *ev)
{
	uint32_t last = (uint32_t)ev->fd2;

	/* With CLOSE_RANGE_CLOEXEC nothing closes now; exec drops them. */
	if (ev->flags & CLOSE_RANGE_CLOEXEC || ev->fd < 0)
		return;
	if (last >= t->hdr->nslots)
		last = t->hdr->nslots - 1;
	for (uint32_t fd = (uint32_t)ev->fd; fd <= last; fd++)
		tr_table_clear(t, (int)fd);
}

/* Is fd of pid still the socket with this inode (0: any socket)? */
static bool fd_is_socket(pid_t pid, int fd, uint64_t inode)
{
	uint64_t ino;

	return procfd_inode(pid, fd, &ino) == 0 && (inode == 0 || ino == inode);
}

/* A new image: records of sockets still open carry over (their stacks
 * are the earlier image's), the close-on-exec ones are gone. */
static void on_exec(struct tr_procs *p, struct proc *pr, struct tr_table *t)
{
	uint32_t n = t->hdr->nslots;
	struct sa_slot s;

	t->hdr->generation++;
	pr->gc_known = 0;   /* another executable */
	for (uint32_t fd = 0; fd < n; fd++) {
		if (!tr_table_get(t, (int)fd, &s))
			continue;
		if (!fd_is_socket(pr->pid, (int)fd, s.inode)) {
			tr_table_clear(t, (int)fd);
			__atomic_fetch_add(&t->hdr->counters.stale_cleared, 1, __ATOMIC_RELAXED);
			continue;
		}
		s.origin = SA_ORIGIN_INHERIT_EXEC;
		tr_table_put(t, (int)fd, &s);
	}
	proc_read_cmdline(pr->pid, t->hdr->cmdline, sizeof(t->hdr->cmdline));
}

static void on_fork(struct tr_procs *p, struct proc *parent, const struct tr_event *ev)
{
	struct proc *child = proc_get_at(p, (pid_t)ev->fd, ev->start_ns);
	struct tr_table *pt, *ct;
	uint64_t frames[SA_MAX_FRAMES];
	struct sa_slot s;

	child->ppid = parent->pid;
	child->forked = true;
	if (parent->owner == OWN_SHIM) {
		child->owner = OWN_SHIM;
		return;
	}
	if (parent->owner != OWN_RECORDER || !(pt = table_of(p, parent)))
		return;
	ct = NULL;
	for (uint32_t fd = 0; fd < pt->hdr->nslots; fd++) {
		if (!tr_table_get(pt, (int)fd, &s))
			continue;
		if (!ct && !(ct = table_of(p, child)))
			return;
		if (s.open_stack) {
			uint32_t d = tr_table_stack_get(pt, s.open_stack, frames);
			s.open_stack = tr_table_stack(ct, frames, d);
		}
		if (s.connect_stack) {
			uint32_t d = tr_table_stack_get(pt, s.connect_stack, frames);
			s.connect_stack = tr_table_stack(ct, frames, d);
		}
		s.origin = SA_ORIGIN_INHERIT_FORK;
		/* Counted in the parent's table: the child counts its own. */
		s.flags &= (uint8_t)~SA_SLOT_COUNTED;
		s.generation = ct->hdr->generation;
		tr_table_put(ct, (int)fd, &s);
	}
}

/* The TCP states of the sockets it left open, read in the kernel at its
 * exit before its files were closed: what the shim's exit path writes. */
static void on_exit_states(struct proc *pr, const struct tr_event *ev)
{
	struct sa_slot s;

	if (pr->owner != OWN_RECORDER || !tr_table_still_ours(&pr->t))
		return;
	for (uint32_t i = 0; i < ev->nframes && i < TR_MAX_FRAMES; i++) {
		int fd = (int)(ev->frames[i] >> 8);

		if (!tr_table_get(&pr->t, fd, &s))
			continue;
		s.exit_state = (uint8_t)(ev->frames[i] & 0xff);
		s.flags |= SA_SLOT_EXIT_STATE;
		tr_table_put(&pr->t, fd, &s);
	}
}

static void on_proc_exit(struct tr_procs *p, struct proc *pr, const struct tr_event *ev)
{
	int code = ev->fd2;

	if (pr->owner == OWN_RECORDER && tr_table_still_ours(&pr->t)) {
		pr->t.hdr->exit_status = code & 0x7f ? 128 + (code & 0x7f) : (code >> 8) & 0xff;
		pr->t.hdr->exited_ns = real_ns(p, ev->mono_ns);
		__atomic_or_fetch(&pr->t.hdr->flags, SA_HDR_EXITED, __ATOMIC_RELEASE);
	}
	/* As the shim does at exit outside `run`: the table goes with it. */
	proc_gone(p, pr);
}

int tr_procs_adopt(struct tr_procs *p, pid_t pid)
{
	struct proc *pr = proc_get(p, pid);
	char path[64];
	struct tr_table *t;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if (access(path, R_OK) != 0)
		return -errno;
	t = table_of(p, pr);
	if (!t && pr->owner == OWN_OTHER && tr_table_is_recorders(pr->t.path))
		return -EBUSY;
	return t ? adopt_fds(pr, t, SA_ORIGIN_INHERIT_START) : 0;
}

/* The new image's file and command line, while /proc still has them. A
 * process already gone: the name exec was given, resolved from here (a
 * relative one is relative to the tree's directory, usually ours) and
 * taken only if it is the very file the kernel exec'd (inode, device). */
static void remember_image(struct proc *pr, const struct tr_event *ev)
{
	char path[64], name[sizeof(ev->frames) + 1], *real;
	unsigned kdev = (unsigned)ev->fd2;
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pr->pid);
	n = readlink(path, pr->exe, sizeof(pr->exe) - 1);
	pr->exe[n > 0 ? n : 0] = '\0';
	proc_read_cmdline(pr->pid, pr->cmdline, sizeof(pr->cmdline));
	if (pr->exe[0])
		return;
	memcpy(name, ev->frames, sizeof(ev->frames));
	name[sizeof(ev->frames)] = '\0';
	real = name[0] ? realpath(name, NULL) : NULL;
	/* The kernel's dev_t is major << 20 | minor. */
	if (real && stat(real, &st) == 0 && st.st_ino == ev->inode &&
	    st.st_dev == makedev(kdev >> 20, kdev & 0xfffff) && strlen(real) < sizeof(pr->exe))
		snprintf(pr->exe, sizeof(pr->exe), "%s", real);
	free(real);
	if (!pr->cmdline[0])
		snprintf(pr->cmdline, sizeof(pr->cmdline), "%s", name);
}

static void learn(struct proc *pr, uint64_t start_ns, uint32_t euid, uint32_t ppid)
{
	if (!start_ns)
		return;
	/* A drop of privileges changes the euid a new table is named by. */
	pr->known = true;
	pr->start_ns = start_ns;
	pr->euid = euid;
	if (!pr->ppid)
		pr->ppid = (pid_t)ppid;
}

void tr_procs_event(struct tr_procs *p, const struct tr_event *ev)
{
	/* A fork event names the child; the parent's start is in inode2. */
	struct proc *pr = proc_get_at(p, (pid_t)ev->tgid,
				      ev->kind == TR_FORK ? ev->inode2 : ev->start_ns);
	struct tr_table *t;

	if (ev->kind == TR_FORK)
		learn(proc_get_at(p, (pid_t)ev->fd, ev->start_ns), ev->start_ns, ev->euid,
		      ev->ppid);
	else
		learn(pr, ev->start_ns, ev->euid, ev->ppid);

	switch (ev->kind) {
	case TR_FORK:
		on_fork(p, pr, ev);
		return;
	case TR_EXIT:
		on_proc_exit(p, pr, ev);
		return;
	case TR_EXIT_STATE:
		on_exit_states(pr, ev);
		return;
	case TR_EXEC:
		remember_image(pr, ev);
		if (pr->owner == OWN_RECORDER && (t = table_of(p, pr))) {
			on_exec(p, pr, t);
			pr->table_recheck = !pr->exe[0] || exe_is_dynamic(pr->exe);
		}
		/* Socket events are read in batches (they do not wake the
		 * reader), an exec at once: a short-lived Go program may be
		 * gone when its closes are applied, so its runtime.runfinq is
		 * found now. Only for Go: a symbol table scan per exec of a
		 * large tree (make, a compiler) would be wasted. */
		pr->gc_known = 0;
		pr->image = ev->mono_ns;
		if (pr->exe[0] && exe_is_go(pr->exe))
			find_runfinq(p, pr);
		if (pr->owner == OWN_SHIM)
			pr->exec_recheck = true;
		return;
	case TR_CLOSE:
	case TR_CLOSE_RANGE:
	case TR_NOTSOCK:
		/* Nothing to clear in a table not made yet. */
		if (pr->owner != OWN_RECORDER)
			return;
		break;
	default:
		break;
	}
	t = table_of(p, pr);
	if (!t)
		return;
	/* Modules are logged when the first stack of an image comes: by then
	 * the dynamic loader has mapped its libraries (at the exec event it
	 * has not yet). */
	if (ev->nframes && pr->mods_gen != t->hdr->generation) {
		if (!tr_table_modules(t, pr->pid) && pr->exe[0])
			tr_table_module_file(t, pr->exe);
		pr->mods_gen = t->hdr->generation;
	}
	if (!t->hdr->cmdline[0] && pr->cmdline[0])
		memcpy(t->hdr->cmdline, pr->cmdline, sizeof(t->hdr->cmdline));
	switch (ev->kind) {
	case TR_SOCKET:
		record_open(p, t, ev, ev->fd, SA_ORIGIN_SOCKET, -1,
			    tr_table_stack(t, (const uint64_t *)ev->frames, ev->nframes));
		break;
	case TR_ACCEPT:
		record_open(p, t, ev, ev->fd, SA_ORIGIN_ACCEPT, ev->fd2,
			    tr_table_stack(t, (const uint64_t *)ev->frames, ev->nframes));
		break;
	case TR_SOCKETPAIR: {
		uint32_t stack = tr_table_stack(t, (const uint64_t *)ev->frames, ev->nframes);

		record_open(p, t, ev, ev->fd, SA_ORIGIN_SOCKETPAIR, ev->fd2, stack);
		record_open(p, t, ev, ev->fd2, SA_ORIGIN_SOCKETPAIR, ev->fd, stack);
		break;
	}
	case TR_DUP:
		on_dup(p, t, ev);
		break;
	case TR_CONNECT:
		on_connect(p, t, ev);
		break;
	case TR_CLOSE:
		on_close(p, pr, t, ev);
		break;
	case TR_NOTSOCK:
		tr_table_clear(t, ev->fd);
		break;
	case TR_CLOSE_RANGE:
		on_close_range(t, ev);
		break;
	default:
		break;
	}
}

void tr_procs_update_lost(struct tr_procs *p)
{
	struct proc *pr, *tmp;

	HASH_ITER(hh, p->procs, pr, tmp)
		apply_lost(p, pr);
}

int tr_procs_gone(struct tr_procs *p, pid_t *pids, uint64_t *starts, int max)
{
	struct proc *pr, *tmp;
	int n = 0;

	HASH_ITER(hh, p->procs, pr, tmp) {
		uint64_t ticks;
		bool gone;
		char path[64];

		if (n >= max)
			break;
		if (pr->known)
			/* A zombie is still there, same start: its exit event
			 * was sent before it could be reaped. */
			gone = !proc_read_starttime(pr->pid, &ticks) ||
			       ticks != pr->start_ns / (1000000000ull / p->clk_tck);
		else {
			snprintf(path, sizeof(path), "/proc/%d", (int)pr->pid);
			gone = access(path, F_OK) != 0;
		}
		if (!gone)
			continue;
		pids[n] = pr->pid;
		starts[n++] = pr->known ? pr->start_ns : 0;
	}
	return n;
}

bool tr_procs_retire(struct tr_procs *p, pid_t pid, uint64_t start)
{
	struct proc *pr;

	HASH_FIND_INT(p->procs, &pid, pr);
	if (!pr || (start && (!pr->known || pr->start_ns != start)) || (!start && pr->known))
		return false;
	proc_gone(p, pr);
	return true;
}
