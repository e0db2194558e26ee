/* recorder.bpf.c: the kernel half of `sockaudit trace`. Programs on the
 * socket-lifecycle system calls and on the scheduler's fork, exec and exit
 * tracepoints, filtered in the kernel to the process trees being recorded
 * (the `tracked` map: tgid -> TR_IMAGE_NEW/SEEN), send one struct tr_event per change
 * through a ring buffer. The user stack of each open and connect is taken
 * here by frame pointers; a close's is only looked at here, for Go's
 * finalizer goroutine, once user space has said where it is.
 *
 * Attach points: BTF-typed raw tracepoints (tp_btf) only: raw_syscalls'
 * sys_enter/sys_exit and the scheduler's fork, exec and exit. They attach
 * by name with bpf(BPF_RAW_TRACEPOINT_OPEN): no tracefs, no perf events,
 * no BPF trampoline, and every link is an fd of the recorder, so a killed
 * recorder leaves nothing attached. Compiled once against the kernel's BTF
 * (CO-RE).
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.h"

char LICENSE[] SEC("license") = "GPL";

/* Reads through BTF pointers (a task's, and a file's or socket's made one
 * by this kfunc) are plain loads the JIT guards, where BPF_CORE_READ calls
 * a helper per pointer: the socket events' paths use them. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

#define S_IFMT   0170000
#define S_IFSOCK 0140000
#define F_DUPFD          0
#define F_DUPFD_CLOEXEC  1030
#define EINPROGRESS      115
#define AF_INET          2
#define AF_INET6         10
#define IPPROTO_TCP      6

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TR_MAX_PROCS);
	__type(key, __u32);
	__type(value, __u32);
} tracked SEC(".maps");

/* Events the ring buffer had no room for, per process (user space adds
 * them to the table's `missed` counter), with the start time of the
 * process they belong to: an entry user space never removed (it missed
 * that process's exit) is not carried over to the next process of the pid. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TR_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct tr_lost);
} lost SEC(".maps");

/* Every event lost, whoever it was for: when it grows, user space checks
 * its processes against /proc (an exit may have been the one lost). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost_total SEC(".maps");

/* Which image each tracked process runs: the mono_ns of its exec event
 * (a forked child inherits its parent's). Written by the kernel only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TR_MAX_PROCS);
	__type(key, __u32);
	__type(value, __u64);
} images SEC(".maps");

/* Where runtime.runfinq is in that image (struct tr_gc), written by user
 * space after the exec event: with it a close is judged here, see
 * close_gc(). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TR_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct tr_gc);
} gc_range SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* `tracked` values: the image has sent no socket event yet (set at fork
 * and exec), or it has. */
#define TR_IMAGE_NEW  1
#define TR_IMAGE_SEEN 2

/* When the reader was last woken past the threshold below (mono ns). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} last_wake SEC(".maps");

/* Past the threshold, one forced wake-up per this many ns at most. */
#define TR_WAKE_GAP_NS 1000000

/* Wake the reader for a socket event only for the first of an image (the
 * reader logs the image's modules then, from /proc, while the process is
 * surely alive) or once the ring is an eighth full: a wake-up per event (a
 * few per connection) cost more than the rest of the recording together
 * (docs/performance.md). Past the eighth, one event per millisecond wakes
 * it, not every one: each forced wake-up queues the ring's irq_work, a
 * self-interrupt (an exit to the hypervisor in a VM), and until a busy
 * reader got a CPU every event sent one. The reader consumes at least
 * every 100 ms, and at once for forks, execs and exits, which wake it. */
static __always_inline __u64 quiet(__u32 tgid, __u64 now)
{
	__u32 *v = bpf_map_lookup_elem(&tracked, &tgid);
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);
	__u32 zero = 0;
	__u64 *last;

	if (v && *v == TR_IMAGE_NEW) {
		*v = TR_IMAGE_SEEN;
		return BPF_RB_FORCE_WAKEUP;
	}
	if (avail < size / 8)
		return BPF_RB_NO_WAKEUP;
	last = bpf_map_lookup_elem(&last_wake, &zero);
	if (!last)
		return BPF_RB_FORCE_WAKEUP;
	/* Negative: another CPU woke it a moment ago. */
	if ((__s64)(now - *last) < TR_WAKE_GAP_NS)
		return BPF_RB_NO_WAKEUP;
	*last = now;
	return BPF_RB_FORCE_WAKEUP;
}

static __always_inline bool is_tracked(__u32 tgid)
{
	return bpf_map_lookup_elem(&tracked, &tgid) != NULL;
}

static __always_inline void count_lost(__u32 tgid, __u64 start_ns)
{
	struct tr_lost fresh = { .start_ns = start_ns, .count = 1 };
	struct tr_lost *v = bpf_map_lookup_elem(&lost, &tgid);
	__u32 zero = 0;
	__u64 *total = bpf_map_lookup_elem(&lost_total, &zero);

	if (total)
		__sync_fetch_and_add(total, 1);
	if (v && v->start_ns == start_ns)
		__sync_fetch_and_add(&v->count, 1);
	else
		bpf_map_update_elem(&lost, &tgid, &fresh, BPF_ANY);
}

/* Fill the identity of t's process: start time, euid, parent. */
static __always_inline void who(struct tr_event *ev, struct task_struct *t)
{
	ev->start_ns = t->group_leader->start_boottime;
	ev->euid = t->cred->euid.val;
	ev->ppid = t->real_parent->tgid;
}

/* A record of `size` bytes: sizeof(struct tr_event), or TR_EVENT_SHORT for
 * an event with neither peer nor frames (the verifier rejects a program
 * that would touch them in a short one). */
static __always_inline struct tr_event *event_sized(__u32 kind, __u32 tgid, __u32 size)
{
	struct tr_event *ev = bpf_ringbuf_reserve(&events, size, 0);
	__u64 id = bpf_get_current_pid_tgid();

	if (!ev) {
		struct task_struct *t = bpf_get_current_task_btf();

		count_lost(tgid, BPF_CORE_READ(t, group_leader, start_boottime));
		return NULL;
	}
	__builtin_memset(ev, 0, size);
	ev->kind = kind;
	ev->tgid = tgid;
	ev->tid = (__u32)id;
	ev->mono_ns = bpf_ktime_get_ns();
	who(ev, bpf_get_current_task_btf());
	return ev;
}

static __always_inline struct tr_event *event_new(__u32 kind, __u32 tgid)
{
	return event_sized(kind, tgid, sizeof(struct tr_event));
}

static __always_inline struct tr_event *event_short(__u32 kind, __u32 tgid)
{
	return event_sized(kind, tgid, TR_EVENT_SHORT);
}

/* The file at fd in the current task's table, or NULL. */
static __always_inline struct file *fd_file(int fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct fdtable *fdt = t->files->fdt;
	struct file **fds;
	struct file *f = NULL;

	if (!fdt || fd < 0 || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	fds = fdt->fd;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f)
		return NULL;
	return bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
}

/* Fill family, type, protocol and inode of the socket at fd; false when fd
 * is not a socket. */
static __always_inline bool sock_info(int fd, struct tr_event *ev)
{
	struct file *f = fd_file(fd);
	struct socket *sock;
	struct sock *sk;
	umode_t mode;

	if (!f)
		return false;
	mode = f->f_inode->i_mode;
	if ((mode & S_IFMT) != S_IFSOCK)
		return false;
	ev->inode = f->f_inode->i_ino;
	sock = bpf_rdonly_cast(f->private_data, bpf_core_type_id_kernel(struct socket));
	sk = sock->sk;
	if (sk) {
		ev->family = sk->__sk_common.skc_family;
		ev->type = sk->sk_type;
		ev->protocol = sk->sk_protocol;
	}
	return true;
}

static __always_inline bool fd_is_socket(int fd)
{
	struct file *f = fd_file(fd);

	return f && (f->f_inode->i_mode & S_IFMT) == S_IFSOCK;
}

/* Frame-pointer walks read the user stack a window at a time: one read of
 * 1 KiB costs about what one of 16 bytes does, and a Go stack's next frames
 * are usually within it (frames are tens to hundreds of bytes). */
#define TR_WALK_WORDS 128

struct walk_window {
	__u64 base;     /* user address of w[0]; 0: nothing read */
	__u64 w[TR_WALK_WORDS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk_window);
} walk_scratch SEC(".maps");

static __always_inline struct walk_window *walk_window(void)
{
	__u32 zero = 0;
	struct walk_window *win = bpf_map_lookup_elem(&walk_scratch, &zero);

	if (win)
		win->base = 0;
	return win;
}

/* The frame at fp: its saved frame pointer and return address, as two
 * reads of user memory at fp would give them; nonzero when fp cannot be
 * read. From the window when it holds both words, else the window is read
 * again from fp (or, when that fails, at the end of a mapping, the 16
 * bytes alone). */
static __always_inline long frame_at(struct walk_window *win, __u64 fp, __u64 fr[2])
{
	__u64 off = fp - win->base, i;

	if (!win->base || fp < win->base || (off & 7) || off > (TR_WALK_WORDS - 2) * 8) {
		if (bpf_probe_read_user(win->w, sizeof(win->w), (void *)fp) != 0) {
			win->base = 0;
			return bpf_probe_read_user(fr, 2 * sizeof(__u64), (void *)fp);
		}
		win->base = fp;
		off = 0;
	}
	i = off / 8;
	if (i > TR_WALK_WORDS - 2)
		return -1;
	fr[0] = win->w[i];
	fr[1] = win->w[i + 1];
	return 0;
}

/* One step of a walk (a bpf_loop callback: the verifier checks a step
 * once, not once per frame): from fp to the caller's frame, its return
 * address into ret[n], or, with lo < hi, only whether it lies in [lo, hi). */
struct walk {
	struct walk_window *win;
	__u64 fp;
	__u64 lo, hi;
	__u64 *ret;     /* TR_MAX_FRAMES entries, ret[0] the ip; NULL with lo < hi */
	__u32 n;        /* entries of ret filled */
	bool hit;
};

static long walk_step(__u32 i, void *arg)
{
	struct walk *w = arg;
	__u64 fr[2];

	if (!w->fp || !w->win || frame_at(w->win, w->fp, fr) != 0)
		return 1;
	w->fp = fr[0];
	if (w->lo < w->hi) {
		w->hit = fr[1] >= w->lo && fr[1] < w->hi;
		return w->hit;
	}
	if (!w->ret || w->n >= TR_MAX_FRAMES)
		return 1;
	w->ret[w->n++] = fr[1];
	return 0;
}

/* The user stack: the ip, then each frame's return address by frame
 * pointers, TR_MAX_FRAMES in all, as bpf_get_stack(BPF_F_USER_STACK) gives
 * it (perf's user callchain), walked here: see docs/design.md, "What the
 * recorder costs". */
static __always_inline void take_stack(void *ctx, struct tr_event *ev)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	struct walk w = { .win = walk_window(), .fp = regs->bp, .ret = ev->frames, .n = 1 };

	ev->frames[0] = regs->ip;
	bpf_loop(TR_MAX_FRAMES - 1, walk_step, &w, 0);
	ev->nframes = w.n;
}

/* Fixed sizes only (a variable size is hard to keep verifiable across
 * compilers): the whole 64 bytes, or, when they cross into an unmapped
 * page, a sockaddr_in6 or a sockaddr_in. Bytes past len are not used. */
static __always_inline void read_peer(struct tr_event *ev, const void *addr, __s64 len)
{
	if (!addr || len <= 0)
		return;
	ev->peer_len = len > 0xffff ? 0xffff : (__u16)len;
	if (bpf_probe_read_user(ev->peer, TR_PEER_MAX, addr) == 0)
		return;
	if (bpf_probe_read_user(ev->peer, 28, addr) == 0)
		return;
	bpf_probe_read_user(ev->peer, 16, addr);
}

/* The on_* functions below return the event still to get its stack and
 * be sent, or NULL: sys_exit takes the stack in one place (each inlined
 * copy of the walk is verified on its own).
 *
 * A new socket (or a dup of one) at fd. */
static __always_inline struct tr_event *on_open(__u32 kind, int fd, int fd2, __u32 tgid)
{
	struct tr_event *ev = event_new(kind, tgid);

	if (!ev)
		return NULL;
	ev->fd = fd;
	ev->fd2 = fd2;
	if (!sock_info(fd, ev)) {
		if (kind != TR_DUP) {
			bpf_ringbuf_discard(ev, 0);
			return NULL;
		}
		ev->kind = TR_NOTSOCK;
		bpf_ringbuf_submit(ev, quiet(tgid, ev->mono_ns));
		return NULL;
	}
	return ev;
}

/* x86-64 system call numbers (asm/unistd_64.h: part of the kernel ABI). */
#define NR_close        3
#define NR_dup          32
#define NR_dup2         33
#define NR_socket       41
#define NR_connect      42
#define NR_accept       43
#define NR_socketpair   53
#define NR_fcntl        72
#define NR_accept4      288
#define NR_dup3         292
#define NR_close_range  436

static __always_inline struct tr_event *on_socketpair(const struct pt_regs *regs, __u32 tgid)
{
	int sv[2] = { -1, -1 };
	struct tr_event *ev;
	struct file *f;

	if (bpf_probe_read_user(sv, sizeof(sv), (void *)BPF_CORE_READ(regs, r10)) != 0)
		return NULL;
	ev = event_new(TR_SOCKETPAIR, tgid);
	if (!ev)
		return NULL;
	ev->fd = sv[0];
	ev->fd2 = sv[1];
	sock_info(sv[0], ev);
	f = fd_file(sv[1]);
	if (f)
		ev->inode2 = BPF_CORE_READ(f, f_inode, i_ino);
	return ev;
}

static __always_inline struct tr_event *on_accept(const struct pt_regs *regs, long ret, __u32 tgid)
{
	struct tr_event *ev;
	int alen = 0;
	void *addr;

	ev = event_new(TR_ACCEPT, tgid);
	if (!ev)
		return NULL;
	ev->fd = (int)ret;
	ev->fd2 = (int)BPF_CORE_READ(regs, di);
	sock_info((int)ret, ev);
	addr = (void *)BPF_CORE_READ(regs, si);
	if (addr && bpf_probe_read_user(&alen, sizeof(alen), (void *)BPF_CORE_READ(regs, dx)) == 0)
		read_peer(ev, addr, alen);
	return ev;
}

static __always_inline struct tr_event *on_connect(const struct pt_regs *regs, __u32 tgid)
{
	struct tr_event *ev = event_new(TR_CONNECT, tgid);

	if (!ev)
		return NULL;
	ev->fd = (int)BPF_CORE_READ(regs, di);
	read_peer(ev, (void *)BPF_CORE_READ(regs, si), (int)BPF_CORE_READ(regs, dx));
	return ev;
}

/* The raw system call tracepoints: kprobes or fentry/fexit on the syscall
 * entry points would fire for the calls we want only, but kernels go
 * without kprobes and BPF trampolines (the one this was measured on has
 * neither: docs/design.md, "What the recorder costs"), while raw
 * tracepoints attach by name wherever BPF does. The cost: the dispatch and
 * one compare per system call of every process while recording (~19 ns
 * there), and a hash lookup for the eleven calls below. At exit the saved
 * user registers still hold the arguments (orig_ax the call's number). */
SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	long id = regs->orig_ax;   /* a BTF pointer: a plain load, no helper call */
	__u32 tgid;

	switch (id) {
	case NR_socket: case NR_socketpair: case NR_accept: case NR_accept4: case NR_connect:
	case NR_dup: case NR_dup2: case NR_dup3: case NR_fcntl:
		break;
	default:
		return 0;
	}
	struct tr_event *ev = NULL;

	tgid = bpf_get_current_pid_tgid() >> 32;
	if (!is_tracked(tgid))
		return 0;
	if (id == NR_connect) {
		if (ret == 0 || ret == -EINPROGRESS)
			ev = on_connect(regs, tgid);
	} else if (ret >= 0) {
		switch (id) {
		case NR_socket:
			ev = on_open(TR_SOCKET, (int)ret, -1, tgid);
			break;
		case NR_socketpair:
			ev = on_socketpair(regs, tgid);
			break;
		case NR_accept:
		case NR_accept4:
			ev = on_accept(regs, ret, tgid);
			break;
		case NR_fcntl: {
			unsigned long cmd = BPF_CORE_READ(regs, si);

			if (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC)
				break;
		}
			/* fallthrough */
		case NR_dup:
		case NR_dup2:
		case NR_dup3:
			ev = on_open(TR_DUP, (int)ret, (int)BPF_CORE_READ(regs, di), tgid);
			break;
		}
	}
	if (!ev)
		return 0;
	take_stack(ctx, ev);
	bpf_ringbuf_submit(ev, quiet(tgid, ev->mono_ns));
	return 0;
}

/* Was this close made by Go's finalizer goroutine (a frame in
 * runtime.runfinq)? 1 yes, 0 no, -1 not known here (no range for the
 * image the process runs now): then the close carries its stack and user
 * space decides, as it did for every close before. The walk is the one
 * take_stack() makes, without copying a stack out; an image
 * without runfinq (not Go) needs no walk. */
static __always_inline int close_gc(const struct pt_regs *regs, __u32 tgid)
{
	__u64 *image = bpf_map_lookup_elem(&images, &tgid);
	struct tr_gc *g = bpf_map_lookup_elem(&gc_range, &tgid);
	struct walk w = {};
	__u64 lo, hi, ip;

	if (!image || !g || g->image != *image)
		return -1;
	lo = g->lo;
	hi = g->hi;
	if (lo >= hi)
		return 0;
	ip = regs->ip;
	if (ip >= lo && ip < hi)
		return 1;
	w.win = walk_window();
	w.fp = regs->bp;
	w.lo = lo;
	w.hi = hi;
	bpf_loop(TR_MAX_FRAMES - 1, walk_step, &w, 0);
	return w.hit;
}

/* Closes are sent before the call, as the shim clears before the real
 * close: after it, another thread may already hold the same number for a
 * new socket whose event would then come first. */
SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	__u32 tgid;
	struct tr_event *ev;
	int fd;

	if (id != NR_close && id != NR_close_range)
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (!is_tracked(tgid))
		return 0;
	fd = (int)BPF_CORE_READ(regs, di);
	if (id == NR_close) {
		int gc;

		if (!fd_is_socket(fd))
			return 0;
		/* Judged before the record is reserved: one the kernel
		 * decided is short (no stack). */
		gc = close_gc(regs, tgid);
		if (gc < 0) {
			ev = event_new(TR_CLOSE, tgid);
			if (!ev)
				return 0;
			take_stack(ctx, ev);
		} else {
			ev = event_short(TR_CLOSE, tgid);
			if (!ev)
				return 0;
			ev->flags = TR_CLOSE_DECIDED | (gc ? TR_CLOSE_GC : 0);
		}
		ev->fd = fd;
	} else {
		ev = event_short(TR_CLOSE_RANGE, tgid);
		if (!ev)
			return 0;
		ev->fd = fd;
		ev->fd2 = (int)BPF_CORE_READ(regs, si);
		ev->flags = (__u32)BPF_CORE_READ(regs, dx);
	}
	bpf_ringbuf_submit(ev, quiet(tgid, ev->mono_ns));
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid, one = TR_IMAGE_NEW;
	struct tr_event *ev;
	struct tr_gc *g;
	__u64 *image;

	/* A new thread joins its process; only a new process is news. */
	if (child->pid != child->tgid || !is_tracked(ptgid))
		return 0;
	bpf_map_update_elem(&tracked, &ctgid, &one, BPF_ANY);
	image = bpf_map_lookup_elem(&images, &ptgid);
	if (image) {
		__u64 id = *image;

		bpf_map_update_elem(&images, &ctgid, &id, BPF_ANY);
	} else {
		bpf_map_delete_elem(&images, &ctgid);
	}
	g = bpf_map_lookup_elem(&gc_range, &ptgid);
	if (g) {
		struct tr_gc copy = *g;

		bpf_map_update_elem(&gc_range, &ctgid, &copy, BPF_ANY);
	} else {
		bpf_map_delete_elem(&gc_range, &ctgid);
	}
	ev = event_short(TR_FORK, ptgid);
	if (!ev)
		return 0;
	ev->fd = (int)ctgid;
	ev->inode2 = ev->start_ns;   /* the parent's, before who() names the child */
	who(ev, child);
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid, fresh = TR_IMAGE_NEW;
	struct tr_event *ev;
	__u64 image;

	if (!is_tracked(tgid))
		return 0;
	bpf_map_update_elem(&tracked, &tgid, &fresh, BPF_EXIST);
	ev = event_new(TR_EXEC, tgid);
	/* A new image: the range user space wrote for the old one no longer
	 * applies (close_gc() compares the two ids). */
	image = ev ? ev->mono_ns : 0;
	bpf_map_update_elem(&images, &tgid, &image, BPF_ANY);
	if (!ev)
		return 0;
	/* Which file: user space reads /proc/<pid>/exe, and for a process
	 * gone by then checks the name against this inode and device. */
	ev->inode = BPF_CORE_READ(bprm, file, f_inode, i_ino);
	ev->fd2 = (int)BPF_CORE_READ(bprm, file, f_inode, i_sb, s_dev);
	bpf_probe_read_kernel_str(ev->frames, sizeof(ev->frames), BPF_CORE_READ(bprm, filename));
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

/* The TCP states at exit: one event per 32 sockets, built in a per-CPU
 * scratch event (too big for the BPF stack) and copied out. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tr_event);
} exit_scratch SEC(".maps");

struct exit_walk {
	struct tr_event *ev;
	struct file **fds;
	__u32 max_fds;
};

static __always_inline void exit_flush(struct tr_event *ev)
{
	if (!ev->nframes)
		return;
	if (bpf_ringbuf_output(&events, ev, sizeof(*ev), 0) != 0)
		count_lost(ev->tgid, ev->start_ns);
	ev->nframes = 0;
}

static long exit_fd(__u32 fd, void *arg)
{
	struct exit_walk *w = arg;
	struct tr_event *ev = w->ev;
	struct file *f = NULL;
	struct socket *sock;
	struct sock *sk;
	__u32 n;

	if (fd >= w->max_fds)
		return 1;
	bpf_probe_read_kernel(&f, sizeof(f), &w->fds[fd]);
	if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return 0;
	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	switch (BPF_CORE_READ(sk, __sk_common.skc_family)) {
	case AF_INET:
	case AF_INET6:
		break;
	default:
		return 0;
	}
	n = ev->nframes;
	if (n >= TR_MAX_FRAMES)
		return 1;
	ev->frames[n] = (__u64)fd << 8 | BPF_CORE_READ(sk, __sk_common.skc_state);
	ev->nframes = n + 1;
	if (ev->nframes == TR_MAX_FRAMES)
		exit_flush(ev);
	return 0;
}

/* Before the kernel closes the exiting process's files: the state of each
 * TCP socket it leaves open, as the shim's exit path records it. */
static __always_inline void exit_states(struct task_struct *p, __u32 tgid)
{
	__u32 zero = 0, n;
	struct tr_event *ev = bpf_map_lookup_elem(&exit_scratch, &zero);
	struct fdtable *fdt = BPF_CORE_READ(p, files, fdt);
	struct exit_walk w;

	if (!ev || !fdt)
		return;
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->kind = TR_EXIT_STATE;
	ev->tgid = tgid;
	ev->tid = p->pid;
	ev->mono_ns = bpf_ktime_get_ns();
	who(ev, p);
	w.ev = ev;
	w.fds = BPF_CORE_READ(fdt, fd);
	w.max_fds = BPF_CORE_READ(fdt, max_fds);
	n = w.max_fds < TR_EXIT_FDS ? w.max_fds : TR_EXIT_FDS;
	bpf_loop(n, exit_fd, &w, 0);
	exit_flush(ev);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	struct tr_event *ev;
	int code;

	/* signal->live is already decremented here: 0 means the whole
	 * thread group is gone. */
	if (BPF_CORE_READ(p, signal, live.counter) != 0 || !is_tracked(tgid))
		return 0;
	bpf_map_delete_elem(&tracked, &tgid);
	bpf_map_delete_elem(&images, &tgid);
	bpf_map_delete_elem(&gc_range, &tgid);
	exit_states(p, tgid);
	code = BPF_CORE_READ(p, signal, group_exit_code);
	if (!code)
		code = BPF_CORE_READ(p, exit_code);
	ev = event_short(TR_EXIT, tgid);
	if (!ev)
		return 0;
	ev->fd = -1;
	ev->fd2 = code;
	bpf_ringbuf_submit(ev, 0);
	return 0;
}
