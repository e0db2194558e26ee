/* events: what the recorder's kernel programs (recorder.bpf.c) send to user
 * space (recorder.c) through the ring buffer. Shared by the BPF object and
 * the CLI: plain fixed-size types only, no pointers. */
#pragma once

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TR_MAX_FRAMES 32   /* == SA_MAX_FRAMES */
#define TR_PEER_MAX   64   /* == SA_PEER_MAX */
#define TR_MAX_PROCS  8192 /* processes recorded at once */

enum tr_kind {
	TR_SOCKET = 1,    /* fd: a new socket (socket()) */
	TR_SOCKETPAIR,    /* fd and fd2: both ends */
	TR_ACCEPT,        /* fd accepted on fd2 */
	TR_DUP,           /* fd is now the socket fd2 was (dup*, fcntl F_DUPFD*) */
	TR_NOTSOCK,       /* fd now names something that is not a socket (dup2 over it) */
	TR_CONNECT,       /* connect(fd) succeeded or is in progress */
	TR_CLOSE,         /* close(fd) of a socket, before the call; flags: TR_CLOSE_* */
	TR_CLOSE_RANGE,   /* close_range(fd, fd2, flags), before the call */
	TR_FORK,          /* tgid forked the process fd; who it is (start_ns,
			   * euid, ppid) is the child; inode2 = tgid's start_ns */
	TR_EXEC,          /* tgid replaced its image: inode, fd2 = dev of the file,
			   * frames = the file name as exec was given it;
			   * mono_ns also names the image (tr_gc.image) */
	TR_EXIT,          /* the last thread of tgid exited; status in fd2 */
	TR_EXIT_STATE,    /* sent just before TR_EXIT, before the kernel closes the
			   * process's files: frames[0..nframes) are its TCP
			   * sockets as fd << 8 | TCP state (TR_EXIT_FDS fds at most) */
};

/* A close's flags: whether the kernel decided that Go's finalizer
 * goroutine made it (tr_gc below); without TR_CLOSE_DECIDED the event has
 * the user stack and user space decides. */
#define TR_CLOSE_DECIDED 1u
#define TR_CLOSE_GC      2u

#define TR_EXIT_FDS 65536   /* fds looked at for their TCP state at exit */

struct tr_event {
	__u32 kind;
	__u32 tgid;
	__u32 tid;
	__s32 fd;
	__s32 fd2;
	__u32 flags;          /* close_range's flags */
	__u16 family;
	__u16 type;
	__u16 protocol;
	__u16 peer_len;
	__u32 nframes;
	__u64 inode;          /* of the socket at fd, 0 when not known */
	__u64 inode2;         /* socketpair: of the socket at fd2 */
	__u64 mono_ns;        /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	/* Who the process is (the forked child for TR_FORK), so its table can
	 * be named even when it is gone before user space reads the event. */
	__u64 start_ns;       /* group leader's start_boottime (/proc starttime in ns) */
	__u32 euid;
	__u32 ppid;           /* real parent's tgid */
	__u8 peer[TR_PEER_MAX];
	__u64 frames[TR_MAX_FRAMES];  /* user stack, innermost first */
};

/* Events that carry neither peer nor frames (a close judged in the kernel,
 * close_range, fork, exit) are sent as their first TR_EVENT_SHORT bytes:
 * less to clear, copy and read, two of a TCP connection's five events.
 * The reader sees them zero-filled to a whole struct tr_event. */
#define TR_EVENT_SHORT __builtin_offsetof(struct tr_event, peer)

/* The `lost` map's value: events of process tgid the ring buffer had no
 * room for. Keyed by tgid, so start_ns says which process of that pid
 * (a pid is reused once its process is gone; the kernel starts the count
 * again when the start time differs). */
struct tr_lost {
	__u64 start_ns;
	__u64 count;
};

/* The `gc_range` map's value, written by user space per tgid once it
 * knows where runtime.runfinq is in the image that exec event `image`
 * (its mono_ns) started: [lo, hi), or lo == hi when the image has none.
 * The kernel uses it only while `images` says the process still runs that
 * image; otherwise a close carries its stack, as before. */
struct tr_gc {
	__u64 image;
	__u64 lo;
	__u64 hi;
};
