/* The shim's state, the bottom of preload/: every unit includes it, and it
 * includes nothing of preload/ (each unit's functions are declared in the
 * unit's own header, so includes point down: wrappers -> init -> record ->
 * gate -> process -> table-file, writer, capture -> util -> shim.h).
 * Everything here is hidden: the library exports only the wrappers listed in
 * libsockaudit.map.
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
	int (*setuid)(uid_t);
	int (*seteuid)(uid_t);
	int (*setreuid)(uid_t, uid_t);
	int (*setresuid)(uid_t, uid_t, uid_t);
	/* Never called from C: the trampolines (vfork.c, wrap-syscall.c)
	 * jump to them. */
	void *vfork;
	void *clone;
	void *syscall;
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
/* owner_pid while shim_fork_child() moves a forked child to its own table. */
#define SHIM_OWNER_SWITCHING (-1)

/* How long the shim waits for a slot another writer holds (a signal handler
 * interrupting a writer of the same slot would otherwise spin forever), and
 * how often it retries reading one. */
#define SHIM_SLOT_SPINS 4096

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
	uint32_t uid;                   /* owner of the table file: in its name and header */
	uint64_t starttime;

	/* The table globals. Invariant: they describe a live mapping whenever
	 * state is SHIM_READY or SHIM_INITIALIZING with hdr set, and nothing
	 * reads them otherwise: every reader checks shim_table_live() (or
	 * shim_writable*(), which checks the state) first. A path that loses
	 * the table (a forked child that cannot make its own) sets state to
	 * SHIM_OFF *before* it unmaps, then clears them (NULL, 0), so a reader
	 * that raced past its check finds nslots 0. A forked child's switch
	 * to its own table clears the reserved bits before it changes the
	 * pointers, so a signal handler in between sees no backed page and
	 * writes nothing. */
	uint8_t *base;                  /* the mapped table */
	uint64_t size;
	uint64_t table_dev, table_ino;  /* the mapped file: shim_reserve backs only it */
	struct sa_header *hdr;
	struct sa_slot *slots;
	struct sa_stack *stacks;
	struct sa_lframe *lframes;
	struct sa_count *counts;        /* NULL: an adopted table older than sharded counts */
	uint32_t ncounts;               /* stacks with counts (0 without) */
	uint32_t counts_chunk;          /* chunk of the counts region's first block */
	struct sa_module *modules;
	uint32_t nslots;
	uint32_t depth;
	/* slots_off >> SHIM_CHUNK_SHIFT when the slot region is page-aligned
	 * (sa_layout makes it so): a slot (128 bytes) then never straddles a
	 * page and one bit says it is backed. UINT32_MAX: check by range. */
	uint32_t slots_chunk;

	/* Chunks of the file known to be backed: set only once fallocate (or,
	 * for an adopted table, SEEK_DATA) says so. An entry is read or
	 * written only when every chunk it spans is set (writer.c, backed()):
	 * a full tmpfs turns any other access into SIGBUS. */
	_Atomic uint64_t reserved[SHIM_MAX_CHUNKS / 64];

	bool under_run;
	bool quiet;
	bool inode_at_open;             /* SOCKAUDIT_INODE_AT_OPEN: fstat every new socket */
	bool java_jvmti_walk;           /* SOCKAUDIT_JAVA_WALK=jvmti: GetStackTrace only */
	bool forked;                    /* a forked child until exec: no libunwind */
	uintptr_t self_start, self_end; /* our own text: frames to skip */
	char dir[512];
	char path[600];
	char run_id[SA_RUN_ID_MAX];
};

extern struct shim shim SHIM_HIDDEN;

/* May the table globals be read? (The invariant above.) One load, and a
 * second only while this image starts. */
static inline bool shim_table_live(void)
{
	int st = atomic_load_explicit(&shim.state, memory_order_acquire);

	return likely(st == SHIM_READY) || (st == SHIM_INITIALIZING && shim.hdr);
}

extern struct shim_real shim_real SHIM_HIDDEN;
extern __thread int shim_busy SHIM_HIDDEN;  /* recursion guard */
