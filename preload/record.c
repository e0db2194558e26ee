/* The hot path: what a wrapper does after (open-type) or before (close-type)
 * the real call, and the start-up scan of inherited sockets. Syscalls,
 * atomics and stack memory only. */
#include "record.h"

#include "capture.h"
#include "gate.h"
#include "lang.h"
#include "util.h"
#include "writer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static __thread uint32_t tls_tid __attribute__((tls_model("initial-exec")));
static __thread int32_t tls_tid_pid __attribute__((tls_model("initial-exec")));

static uint32_t current_tid(void)
{
	/* The cache is keyed by pid: a forked child inherits our TLS. */
	if (unlikely(tls_tid_pid != shim.pid)) {
		tls_tid = (uint32_t)shim_sys(SYS_gettid);
		tls_tid_pid = shim.pid;
	}
	return tls_tid;
}

static void set_peer(struct sa_slot *rec, const void *peer, socklen_t len)
{
	if (!peer || len == 0)
		return;
	rec->peer_len = len > 0xffff ? 0xffff : (uint16_t)len;
	if (len > SA_PEER_MAX) {
		len = SA_PEER_MAX;
		rec->flags |= SA_SLOT_PEER_TRUNC;
	}
	memcpy(rec->peer, peer, len);
}

static void fill_kind(struct sa_slot *rec, int fd)
{
	int v;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l) == 0)
		rec->family = (uint16_t)v;
	l = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l) == 0)
		rec->type = (uint16_t)v;
	l = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &l) == 0)
		rec->protocol = (uint16_t)v;
}

/* The stack to record for an open or a connect: captured, with the Java
 * frames in front when the JDK's JNI code made the call. Once a JVM is live
 * most records come from there, and a merge keeps only the JDK's own few
 * native frames of a capture that walks the whole native stack (~4,400
 * instructions through the VM's frames): a short capture first, the full
 * one only when that one cannot say (docs/design.md, "Language frames:
 * Java"). Inline, so that the capture is this record function's. */
#define JAVA_PROBE_FRAMES 4u   /* the JDK's run is 1-2 frames (libnio, libnet) */
#define JAVA_PROBE_OWN 2u      /* the shim's frames: the wrapper, the record function */
static inline __attribute__((always_inline)) uint32_t capture_merged(uint64_t *frames,
								    uint32_t max)
{
	uint32_t depth;

	if (unlikely(atomic_load_explicit(&shim_java_ready, memory_order_relaxed)) &&
	    shim_java_merge_short(frames,
				  shim_capture_in(frames, max < JAVA_PROBE_FRAMES ? max :
							  JAVA_PROBE_FRAMES, JAVA_PROBE_OWN),
				  max, &depth))
		return depth;
	return shim_java_merge(frames, shim_capture(frames, max), max);
}

/* Record fd as a socket opened here. `peer` may be NULL; `kind` (family,
 * type, protocol) when the caller knows it, which saves three syscalls.
 * A caller that knows the kind knows fd is a socket: then the inode is left
 * 0 (the CLI reads it from /proc/<pid>/fd) and the fstat, the costliest part
 * of a record, is skipped, unless SOCKAUDIT_INODE_AT_OPEN asks for it
 * (docs/design.md, "Where this differs", 9). */
static inline __attribute__((always_inline)) void record(int fd, unsigned origin, int dup_of,
							 const void *peer, socklen_t peerlen,
							 const int *kind)
{
	uint64_t frames[SA_MAX_FRAMES];
	struct sa_slot rec = shim_slot_empty;
	struct stat st;
	uint32_t depth;
	int saved = errno;

	if (shim_busy || !shim_writable_open())
		goto out;
	shim_busy++;
	if (!kind || shim.inode_at_open) {
		if (shim_fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
			goto unbusy;
		rec.inode = st.st_ino;
	}
	rec.used = 1;
	rec.origin = (uint8_t)origin;
	rec.fd = fd;
	rec.dup_of = dup_of;
	rec.tid = current_tid();
	rec.generation = shim.hdr->generation;
	rec.open_ns = shim_now_ns();
	if (kind) {
		rec.family = (uint16_t)kind[0];
		rec.type = (uint16_t)(kind[1] & ~(SOCK_NONBLOCK | SOCK_CLOEXEC));
		rec.protocol = (uint16_t)kind[2];
	} else {
		fill_kind(&rec, fd);
	}
	set_peer(&rec, peer, peerlen);
	if (unlikely(shim_lang_on) && origin == SA_ORIGIN_SOCKET) {
		/* With Python frames pending, the native frames below the few
		 * next to the call are the interpreter's loop: not captured
		 * (docs/design.md, "Language frames: Python", the native
		 * frames kept). */
		depth = shim_capture(frames, shim_lang_native_max(SHIM_LANG_OPEN, shim.depth));
		depth = shim_lang_merge(SHIM_LANG_OPEN, frames, depth, shim.depth);
		depth = shim_java_merge(frames, depth, shim.depth);
	} else if (origin == SA_ORIGIN_SOCKET || origin == SA_ORIGIN_ACCEPT) {
		depth = capture_merged(frames, shim.depth);
	} else {
		depth = shim_capture(frames, shim.depth);
	}
	if (depth)
		rec.open_stack = shim_stack_intern(frames, depth);
	if (shim_count_ready(rec.open_stack))
		rec.flags |= SA_SLOT_COUNTED;
	/* Counted once the record is in place, so that its close counts too. */
	if (shim_slot_write(fd, &rec) && (rec.flags & SA_SLOT_COUNTED))
		shim_count_open(rec.open_stack);
	if (shim_lang_on)
		shim_lang_note(fd, origin, rec.open_ns);
unbusy:
	shim_busy--;
out:
	errno = saved;
}

void shim_record(int fd, unsigned origin, int dup_of, const void *peer, socklen_t peerlen,
		 const int *kind)
{
	record(fd, origin, dup_of, peer, peerlen, kind);
}

/* The hot wrappers' entry points return the wrapper's result, so that the
 * wrapper ends in a sibling call: its frame is gone when the stack is taken,
 * and the unwinder walks one frame less (docs/design.md, "What a record
 * costs"). The stack is the same either way: the shim's frames are
 * skipped. */
int shim_record_socket(int fd, int domain, int type, int protocol)
{
	const int kind[3] = { domain, type, protocol };

	record(fd, SA_ORIGIN_SOCKET, -1, NULL, 0, kind);
	return fd;
}

int shim_record_accept(int fd, int listener, const struct sockaddr *peer, socklen_t peerlen)
{
	int kind[3];

	/* An accepted socket has its listener's family, type and protocol:
	 * take them from its record and save three getsockopt calls. */
	record(fd, SA_ORIGIN_ACCEPT, listener, peerlen ? peer : NULL, peerlen,
	       shim_slot_kind(listener, kind) ? kind : NULL);
	return fd;
}

/* newfd now refers to oldfd's open file: copy its record (the opener's
 * stack stays the telling one), or record a socket we had not seen. */
void shim_record_dup(int oldfd, int newfd)
{
	struct sa_slot rec;
	int saved = errno;

	if (oldfd == newfd || shim_busy || !shim_writable())
		goto out;
	if (oldfd >= 0 && (uint32_t)oldfd < shim.nslots && shim_slot_used(oldfd) &&
	    sa_slot_read(&shim.slots[oldfd], &rec, SHIM_SLOT_SPINS) && rec.used) {
		rec.fd = newfd;
		rec.origin = SA_ORIGIN_DUP;
		/* A dup is no open: the descriptor counted is the original. */
		rec.flags &= (uint8_t)~SA_SLOT_COUNTED;
		rec.dup_of = oldfd;
		rec.tid = current_tid();
		rec.open_ns = shim_now_ns();
		shim_slot_write(newfd, &rec);
		goto out;
	}
	/* Not a socket we track: newfd may have been one before the dup. */
	shim_slot_clear(newfd);
	shim_record(newfd, SA_ORIGIN_DUP, oldfd, NULL, 0, NULL);
out:
	errno = saved;
}

/* connect(): the peer and the connect stack (for pooled clients the more
 * telling one). Only sockets we track are updated. */
static inline __attribute__((always_inline)) void record_connect(int fd,
								 const struct sockaddr *addr,
								 socklen_t len)
{
	uint64_t frames[SA_MAX_FRAMES], open_ns, connect_ns;
	struct sa_slot peer = shim_slot_empty;
	uint32_t depth, stack;
	int saved = errno;

	/* The open this connect belongs to, to find it again below. */
	if (shim_busy || !shim_writable_open() || !(open_ns = shim_slot_open_ns(fd)))
		goto out;
	shim_busy++;
	set_peer(&peer, addr, len);
	connect_ns = shim_now_ns();
	if (unlikely(shim_lang_on)) {
		depth = shim_capture(frames, shim_lang_native_max(SHIM_LANG_CONNECT, shim.depth));
		depth = shim_lang_merge(SHIM_LANG_CONNECT, frames, depth, shim.depth);
		shim_lang_note(fd, SA_ORIGIN_NONE, 0);
		depth = shim_java_merge(frames, depth, shim.depth);
	} else {
		depth = capture_merged(frames, shim.depth);
	}
	stack = depth ? shim_stack_intern(frames, depth) : 0;
	shim_slot_connect(fd, open_ns, &peer, connect_ns, stack);
	shim_busy--;
out:
	errno = saved;
}

/* After connect() returned rc: a connect that succeeded or is in progress
 * (a non-blocking connect holds the peer all the same). Returns rc, errno
 * as it was. */
int shim_record_connect(int rc, int fd, const struct sockaddr *addr, socklen_t len)
{
	if (rc == 0 || errno == EINPROGRESS)
		record_connect(fd, addr, len);
	return rc;
}

/* Before a close-type call: clear first, or a close racing with a new
 * socket that gets the same number would erase the new record. Runs even
 * under the recursion guard (a signal handler's close must not leave a stale
 * record behind). */
static void forget(int fd, bool collected)
{
	int saved;

	/* Most closes are of files and pipes: a look at the slot settles them
	 * without a syscall. */
	if (atomic_load_explicit(&shim.state, memory_order_acquire) != SHIM_READY ||
	    !shim_slot_used(fd))
		return;
	saved = errno;
	if (shim_writable())
		shim_slot_clear_as(fd, collected);
	errno = saved;
}

void shim_forget(int fd)
{
	forget(fd, false);
}

/* A language runtime's hook calls this before a close its garbage
 * collector or a finalizer makes (the program dropped the object that held
 * the socket): the same clear, counted as collected too. */
void shim_forget_collected(int fd)
{
	forget(fd, true);
}

void shim_forget_range(unsigned first, unsigned last)
{
	int saved = errno;

	if (atomic_load_explicit(&shim.state, memory_order_acquire) != SHIM_READY ||
	    !shim_writable())
		goto out;
	if (last >= shim.nslots)
		last = shim.nslots - 1;
	for (unsigned fd = first; fd <= last && fd < shim.nslots; fd++)
		shim_slot_clear((int)fd);
out:
	errno = saved;
}

/* A socket found open without a record (start-up scan): no stack. */
static void record_inherited(int fd, unsigned origin)
{
	struct sa_slot rec = { 0 };
	struct stat st;
	socklen_t l = SA_PEER_MAX;
	uint8_t peer[SA_PEER_MAX];

	if (shim_fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return;
	rec.used = 1;
	rec.origin = (uint8_t)origin;
	rec.inode = st.st_ino;
	rec.fd = fd;
	rec.dup_of = -1;
	rec.tid = current_tid();
	rec.generation = shim.hdr->generation;
	rec.open_ns = shim_now_ns();
	fill_kind(&rec, fd);
	if (getpeername(fd, (struct sockaddr *)peer, &l) == 0 && l > 0) {
		set_peer(&rec, peer, l);
		rec.flags |= SA_SLOT_CONNECTED;
	}
	shim_slot_write(fd, &rec);
}

/* Sockets open before we started (systemd socket activation, a parent
 * without the shim): recorded as inherited, without a stack. getdents64
 * directly, because opendir() allocates. */
void shim_scan_fds(void)
{
	char buf[4096];
	int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long n;

	if (dfd < 0)
		return;
	while ((n = shim_sys(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64 *e = (struct dirent64 *)(buf + off);
			int fd = 0;
			const char *p = e->d_name;

			off += e->d_reclen;
			if (*p < '0' || *p > '9')
				continue;
			while (*p >= '0' && *p <= '9')
				fd = fd * 10 + (*p++ - '0');
			if (fd == dfd || shim_slot_used(fd))
				continue;
			record_inherited(fd, SA_ORIGIN_INHERIT_START);
		}
	}
	shim_sys(SYS_close, dfd);
}
