/* Internal interface of libsockaudit.so. Everything here is hidden: the
 * library exports only the wrappers listed in libsockaudit.map.
 *
 * Data path: a wrapper calls the real libc function, then
 *   shim_record(fd, ...)  -> capture stack -> fstat -> seqlock-write slot[fd]
 * or, before a close-type call,
 *   shim_forget(fd)       -> seqlock-clear slot[fd]
 * No malloc, no locks, no stdio on that path: only syscalls and atomics.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "table.h"

#define SHIM_HIDDEN __attribute__((visibility("hidden")))
#define SHIM_EXPORT __attribute__((visibility("default")))
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* The real libc entry points, resolved with dlsym(RTLD_NEXT) once. */
struct shim_real {
	int (*socket)(int, int, int);
	int (*socketpair)(int, int, int, int[2]);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*close)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*fcntl64)(int, int, ...);
	int (*close_range)(unsigned, unsigned, int);
	void (*closefrom)(int);
	int (*fclose)(void *);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	int (*recvmmsg)(int, struct mmsghdr *, unsigned, int, struct timespec *);
	int (*pipe2)(int[2], int);
	void (*_exit)(int) __attribute__((noreturn));
	void (*_Exit)(int) __attribute__((noreturn));
	/* Never called from C: vfork.c's trampolines jump to them. */
	void *vfork;
	void *clone;
};

enum shim_state {
	SHIM_UNINIT = 0,
	SHIM_INITIALIZING,
	SHIM_READY,      /* recording */
	SHIM_OFF,        /* no table: the process runs unrecorded */
};

/* Wipe-on-fork page: reads 0 in every forked child, whatever made it. */
struct shim_forkguard {
	volatile int32_t owner_pid;
};

/* The reservation unit: a page. A process pays for the pages it writes: the
 * header's, one per 32 slots in use, one per distinct stack (they hash all
 * over the stack set), one per 13 modules. */
#define SHIM_CHUNK_SHIFT 12u
#define SHIM_MAX_CHUNKS  65536u  /* 256 MiB of table */

struct shim {
	_Atomic int state;              /* enum shim_state */
	/* Sticky: this image has called vfork(), or clone() with CLONE_VM (or
	 * has no trampolines to tell, see vfork.c). Until then no process can
	 * share our memory, and the guard page alone tells the owner. */
	_Atomic int vfork_seen;
	struct shim_forkguard *guard;   /* wipe-on-fork page */
	int32_t pid;                    /* owner of the mapped table */
	uint32_t uid;
	uint64_t starttime;

	uint8_t *base;                  /* the mapped table */
	uint64_t size;
	struct sa_header *hdr;
	struct sa_slot *slots;
	struct sa_stack *stacks;
	struct sa_module *modules;
	uint32_t nslots;
	uint32_t depth;

	/* Chunks of the file known to be backed (fallocate). */
	_Atomic uint64_t reserved[SHIM_MAX_CHUNKS / 64];

	bool under_run;
	bool quiet;
	bool inode_at_open;             /* SOCKAUDIT_INODE_AT_OPEN: fstat every new socket */
	bool forked;                    /* a forked child until exec: no libunwind */
	uintptr_t self_start, self_end; /* our own text: frames to skip */
	char dir[512];
	char path[600];
	char run_id[SA_RUN_ID_MAX];
};

extern struct shim shim SHIM_HIDDEN;
extern struct shim_real shim_real SHIM_HIDDEN;
extern __thread int shim_busy SHIM_HIDDEN;  /* recursion guard */

/* real.c */
void shim_real_resolve(void) SHIM_HIDDEN;

/* init.c: returns true when the table may be written by this thread now
 * (handles lazy init, fork children and vfork children). No syscall in the
 * owner until the image has vforked; from then on one getpid. */
bool shim_writable(void) SHIM_HIDDEN;
/* The same answer, for open-type calls, with the common case inlined. A
 * vfork child's socket() does not write its parent's table either. */
bool shim_writable_open(void) SHIM_HIDDEN;
/* fstat without glibc's fstatat(AT_EMPTY_PATH) detour (measured ~25% faster). */
int shim_fstat(int fd, struct stat *st) SHIM_HIDDEN;
void shim_init(void) SHIM_HIDDEN;
void shim_warn(const char *what, int err) SHIM_HIDDEN;
int32_t shim_getpid(void) SHIM_HIDDEN;
uint64_t shim_read_starttime(void) SHIM_HIDDEN;

/* Where the guard page says "owner": is this in fact a child sharing the
 * owner's memory (vfork, clone(CLONE_VM))? Only the kernel knows, and it is
 * asked only once the image has made such a child (vfork.c). */
static inline bool shim_vfork_child(void)
{
	return unlikely(atomic_load_explicit(&shim.vfork_seen, memory_order_acquire)) &&
	       shim_getpid() != shim.pid;
}

/* vfork.c: what the vfork() and clone() trampolines call before they jump
 * to the real function (exported names defined in assembly there). */
#if defined(__x86_64__) || defined(__aarch64__)
#define SHIM_VFORK_TRAMPOLINES 1
#else
#define SHIM_VFORK_TRAMPOLINES 0
#endif
void *shim_vfork_prepare(void) SHIM_HIDDEN;
void *shim_clone_prepare(int flags) SHIM_HIDDEN;

/* table-file.c: create or adopt the file. */
int shim_table_create(bool adopt_existing) SHIM_HIDDEN;

/* writer.c: pages, slots, stacks, module log. */
bool shim_reserve(uint64_t off, uint64_t len) SHIM_HIDDEN;
void shim_slot_write(int fd, const struct sa_slot *rec) SHIM_HIDDEN;
void shim_slot_clear(int fd) SHIM_HIDDEN;
bool shim_slot_read(const struct sa_slot *src, struct sa_slot *dst) SHIM_HIDDEN;
bool shim_slot_used(int fd) SHIM_HIDDEN;
/* family, type, protocol of fd's record; false when it has none. */
bool shim_slot_kind(int fd, int kind[3]) SHIM_HIDDEN;
uint32_t shim_stack_intern(const uint64_t *frames, uint32_t depth) SHIM_HIDDEN;
void shim_modules_log_all(void) SHIM_HIDDEN;
void shim_modules_note(const uint64_t *frames, uint32_t depth) SHIM_HIDDEN;
void shim_counter_add(uint64_t *counter) SHIM_HIDDEN;

/* capture.c */
void shim_capture_init(void) SHIM_HIDDEN;
uint32_t shim_capture(uint64_t *frames, uint32_t max) SHIM_HIDDEN;
bool shim_capture_owns(const void *addr) SHIM_HIDDEN;
bool shim_capture_active(void) SHIM_HIDDEN;

/* record.c: the hot path used by the wrappers. */
void shim_record(int fd, unsigned origin, int dup_of, const void *peer, socklen_t peerlen,
		 const int *kind) SHIM_HIDDEN;
void shim_record_dup(int oldfd, int newfd) SHIM_HIDDEN;
void shim_record_connect(int fd, const struct sockaddr *addr, socklen_t len) SHIM_HIDDEN;
void shim_forget(int fd) SHIM_HIDDEN;
void shim_forget_range(unsigned first, unsigned last) SHIM_HIDDEN;
void shim_record_inherited(int fd, unsigned origin) SHIM_HIDDEN;

/* process.c: fork, exec, start-up scan, exit. */
int shim_fork_child(int32_t pid) SHIM_HIDDEN;
void shim_adopt_exec(void) SHIM_HIDDEN;
void shim_scan_fds(void) SHIM_HIDDEN;
void shim_exit(void) SHIM_HIDDEN;
uint64_t shim_now_ns(void) SHIM_HIDDEN;
