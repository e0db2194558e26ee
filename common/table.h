/* The sockaudit table: the only contract between the shim (preload/, the
 * writer, inside the audited process) and the CLI (cli/, the reader, another
 * process). docs/design.md describes every field; keep the two in step.
 *
 * One file per process: <dir>/sockaudit.<euid>.<pid>.<starttime>
 *
 *   offset 0            struct sa_header        (SA_HEADER_SIZE bytes)
 *   modules_off         struct sa_module  [nmodules]   append-only log
 *   stacks_off          struct sa_stack   [nstacks]    open-addressed hash set
 *   lframes_off         struct sa_lframe  [nlframes]   open-addressed hash set
 *   counts_off          struct sa_count   blocks       per stack and shard: opened, closed,
 *                                                      collected (abi >= 4; abi 3: a flat
 *                                                      array of struct sa_count_v3)
 *   slots_off           struct sa_slot    [nslots]     indexed by fd
 *
 * Concurrency: every slot is a seqlock (seq odd while a writer owns it).
 * Stacks and modules are published once (state EMPTY -> BUSY -> READY) and
 * never change afterwards. Counters are updated with relaxed atomic adds;
 * per-stack counts in per-thread shards (a thread adds only to its own
 * shard's cells, the reader sums them).
 * All integers are host-endian: a table is only ever read on the machine
 * that wrote it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SA_MAGIC            0x5449445541434f53ULL   /* "SOCAUDIT" little-endian */
#define SA_ABI_VERSION      4u   /* bumped on any layout change (4: sharded counts, collected) */
#define SA_ABI_COMPAT       4u   /* bumped when an older reader may not read it (4: counts moved) */
#define SA_ABI_OLDEST       2u   /* the oldest table this reader reads */
#define SA_ABI_COUNTS       3u   /* first version with the counts region (flat, sa_count_v3) */
#define SA_ABI_SHARDED      4u   /* first version with sharded counts (struct sa_count) */

#define SA_HEADER_SIZE      4096u
#define SA_MAX_FRAMES       32u  /* frames stored per stack (SOCKAUDIT_DEPTH caps it) */
#define SA_PEER_MAX         64u  /* bytes of sockaddr kept per slot */
#define SA_PATH_MAX         240u
#define SA_BUILD_ID_MAX     32u
#define SA_CMDLINE_MAX      1024u
#define SA_RUN_ID_MAX       40u
/* The private table directory of a `sockaudit run` is <table dir>/SA_RUN_DIR_PREFIX<id>
 * (cli/run/dir.h); the shim falls back to <table dir> when it cannot reach it. */
#define SA_RUN_DIR_PREFIX   "sockaudit-run."

#define SA_MAX_SLOTS        (1u << 20)  /* fds beyond it are counted as overflow */
#define SA_NSTACKS          4096u       /* power of two */
#define SA_NMODULES         512u
#define SA_STACK_PROBES     64u         /* then the stack counts as overflow */
#define SA_RESCUED_MAX      16u         /* GC-rescued closes kept (the most recent) */
#define SA_NLFRAMES         4096u       /* power of two */
#define SA_LFRAME_PROBES    64u         /* then the frame counts as overflow */
#define SA_LFRAME_FILE_MAX  168u        /* bytes of a language frame's file kept */
#define SA_LFRAME_FUNC_MAX  64u         /* bytes of its function name kept */
#define SA_COUNT_SHARDS     8u          /* count cells per stack (abi >= 4), one per thread group */
#define SA_COUNT_BLOCK      16u         /* stacks per 4 KiB block of the counts region */
#define SA_COUNT_BLOCK_SIZE 4096u       /* == SA_COUNT_SHARDS * SA_COUNT_BLOCK * sizeof(sa_count) */

/* A stack entry with this bit set is not a return address (user space never
 * has it) but a language frame: its low 32 bits index the lframe set. Such
 * entries come first in a stack, innermost first, then the native frames. */
#define SA_FRAME_LANG       (1ull << 63)

static inline bool sa_frame_is_lang(uint64_t v)
{
	return (v & SA_FRAME_LANG) != 0;
}

/* Languages of sa_lframe.lang */
enum sa_lang {
	SA_LANG_NONE = 0,
	SA_LANG_PYTHON,
	SA_LANG_NODE,
	SA_LANG_JAVA,
	SA_LANG_MAX,
};

/* sa_lframe.flags */
#define SA_LFRAME_FILE_TRUNC 0x01u /* the file was longer: its leading bytes were dropped */
#define SA_LFRAME_FUNC_TRUNC 0x02u /* the function name was longer: its tail was dropped */

/* Slot origins: how the process came to hold the fd. */
enum sa_origin {
	SA_ORIGIN_NONE = 0,
	SA_ORIGIN_SOCKET,        /* socket() */
	SA_ORIGIN_ACCEPT,        /* accept(), accept4() */
	SA_ORIGIN_SOCKETPAIR,    /* socketpair() */
	SA_ORIGIN_DUP,           /* dup*, fcntl(F_DUPFD*): dup_of names the source fd */
	SA_ORIGIN_RECEIVED,      /* SCM_RIGHTS via recvmsg()/recvmmsg() */
	SA_ORIGIN_INHERIT_START, /* already open when the shim started: no stack */
	SA_ORIGIN_INHERIT_EXEC,  /* kept across execve(): stack of an earlier image */
	SA_ORIGIN_INHERIT_FORK,  /* copied from the parent's table in a forked child */
	SA_ORIGIN_MAX,
};

/* sa_slot.flags */
#define SA_SLOT_PEER_TRUNC  0x01u  /* peer address longer than SA_PEER_MAX */
#define SA_SLOT_CONNECTED   0x02u  /* connect() succeeded or is in progress */
#define SA_SLOT_EXIT_STATE  0x04u  /* exit_state holds the TCP state at exit */
#define SA_SLOT_COUNTED     0x08u  /* this open was counted in open_stack's count (opened):
				      clearing or replacing the record counts a close there */

/* sa_header.flags */
#define SA_HDR_UNDER_RUN    0x01u  /* written under `sockaudit run`: kept after exit */
#define SA_HDR_EXITED       0x02u  /* the process ran its exit path */
#define SA_HDR_FORKED       0x04u  /* this process is a forked child */
#define SA_HDR_RECORDER     0x08u  /* written by `sockaudit trace` (kernel recorder), not the shim */

/* sa_module.build_id_kind: which note build_id comes from. Go's linker
 * writes no NT_GNU_BUILD_ID, only its own build ID (".note.go.buildid",
 * a string of hashes): the recorder logs its first 32 bytes. */
#define SA_BUILD_ID_GNU 0u
#define SA_BUILD_ID_GO  1u

/* Publication states of stacks and modules. */
#define SA_ENTRY_EMPTY 0u
#define SA_ENTRY_BUSY  1u
#define SA_ENTRY_READY 2u

struct sa_counters {
	uint64_t records;        /* slot records written */
	uint64_t overflow_fd;    /* fd >= nslots, or the slot page could not be reserved */
	uint64_t overflow_stack; /* stack set full: record kept without stack */
	uint64_t overflow_module;/* module log full */
	uint64_t missed;         /* slot busy for too long: update dropped */
	uint64_t reserve_failed; /* posix_fallocate failed (e.g. /dev/shm full) */
	uint64_t stale_cleared;  /* records dropped at fork/exec adoption: fd gone */
	uint64_t overflow_lframe;/* language frames not stored (set full): left out of the stack */
	uint64_t rescued;        /* sockets closed by Go's garbage collector (a finalizer on
				  * runtime.runfinq), not by the program: sa_header.rescued
				  * keeps the last SA_RESCUED_MAX. Written by the recorder. */
	uint64_t reserved[7];
};

/* One record per fd. 128 bytes: slot[fd]. */
struct sa_slot {
	uint32_t seq;            /* seqlock: odd while being written */
	uint8_t used;            /* 1: a socket is recorded at this fd */
	uint8_t origin;          /* enum sa_origin */
	uint8_t flags;           /* SA_SLOT_* */
	uint8_t exit_state;      /* TCP state at exit, with SA_SLOT_EXIT_STATE */
	uint64_t inode;          /* st_ino of the socket */
	int32_t fd;
	uint16_t family;
	uint16_t type;           /* SOCK_STREAM..., without SOCK_NONBLOCK/CLOEXEC */
	uint16_t protocol;
	uint16_t peer_len;       /* bytes the peer address had (may exceed SA_PEER_MAX) */
	int32_t dup_of;          /* source fd for SA_ORIGIN_DUP, else -1 */
	uint32_t tid;            /* thread that opened it */
	uint32_t open_stack;     /* stack index + 1; 0 = none */
	uint32_t connect_stack;  /* stack index + 1; 0 = none */
	uint32_t generation;     /* image generation whose modules resolve the stacks */
	uint64_t open_ns;        /* CLOCK_REALTIME of the open */
	uint64_t connect_ns;     /* CLOCK_REALTIME of connect(), 0 = none */
	uint8_t peer[SA_PEER_MAX];  /* connect()/accept() peer sockaddr, truncated */
};

/* A socket the program dropped and Go's garbage collector closed (its
 * finalizer ran on runtime.runfinq): the record it had, and when it went.
 * Entry (n - 1) % SA_RESCUED_MAX holds the n-th (counters.rescued = n);
 * slot.seq is the seqlock of the whole entry, as for a slot. */
struct sa_rescued {
	struct sa_slot slot;     /* the socket's record at the close (fd, stacks, open_ns, peer) */
	uint64_t close_ns;       /* CLOCK_REALTIME of the close */
	uint64_t pad0;
};

struct sa_header {
	uint64_t magic;
	uint32_t abi_version;
	uint32_t compat_version;
	uint32_t header_size;    /* == SA_HEADER_SIZE */
	uint32_t slot_size;      /* == sizeof(struct sa_slot) */
	uint32_t stack_size;     /* == sizeof(struct sa_stack) */
	uint32_t module_size;    /* == sizeof(struct sa_module) */
	uint64_t file_size;      /* == the file's st_size */
	uint64_t modules_off;
	uint64_t stacks_off;
	uint64_t slots_off;
	uint32_t nmodules;
	uint32_t nstacks;
	uint32_t nslots;
	uint32_t depth;          /* frames captured per stack (<= SA_MAX_FRAMES) */
	uint32_t uid;            /* effective uid of the writer */
	int32_t pid;
	uint64_t starttime;      /* field 22 of /proc/<pid>/stat: clock ticks after boot */
	uint32_t generation;     /* 1 for the first image; +1 per adopted execve() */
	uint32_t flags;          /* SA_HDR_* */
	int32_t ppid;
	int32_t exit_status;     /* valid with SA_HDR_EXITED when known, else -1 */
	uint64_t created_ns;     /* CLOCK_REALTIME */
	uint64_t exited_ns;      /* CLOCK_REALTIME, 0 while running */
	uint32_t modules_used;   /* module log entries claimed */
	uint32_t pad0;
	char run_id[SA_RUN_ID_MAX];  /* SOCKAUDIT_RUN_ID, NUL-terminated, "" outside a run */
	char cmdline[SA_CMDLINE_MAX];/* argv joined by spaces, NUL-terminated, truncated */
	struct sa_counters counters;
	uint64_t lframes_off;
	uint32_t nlframes;
	uint32_t lframe_size;    /* == sizeof(struct sa_lframe) */
	/* abi_version >= SA_ABI_COUNTS; zero in older tables. */
	uint64_t counts_off;
	uint32_t ncounts;        /* == nstacks: one count per stack */
	uint32_t count_size;     /* == sizeof(struct sa_count); 16 (sa_count_v3) in abi 3 */
	struct sa_rescued rescued[SA_RESCUED_MAX];  /* zero in the shim's tables */
	/* abi_version >= SA_ABI_SHARDED; zero in older tables. */
	uint32_t count_shards;   /* == SA_COUNT_SHARDS */
	uint32_t count_block;    /* == SA_COUNT_BLOCK */
};

struct sa_stack {
	uint32_t state;          /* SA_ENTRY_* */
	uint32_t depth;          /* frames used */
	uint64_t hash;           /* of depth and frames; never 0 */
	uint32_t generation;
	uint32_t pad0;
	uint64_t frames[SA_MAX_FRAMES];  /* raw return addresses, innermost first */
};

/* One frame of a language runtime (a Python or JavaScript function at a
 * line), interned once and published like a stack. The strings are bytes
 * as the runtime gave them, not NUL-terminated, and hostile to a reader
 * like the rest. */
struct sa_lframe {
	uint32_t state;          /* SA_ENTRY_* */
	uint32_t hash;           /* of everything below; never 0 */
	uint8_t lang;            /* enum sa_lang */
	uint8_t flags;           /* SA_LFRAME_* */
	uint16_t file_len;       /* bytes used in file[] */
	uint16_t func_len;       /* bytes used in func[] */
	uint16_t column;         /* 0 = unknown */
	uint32_t line;           /* 0 = unknown */
	uint32_t pad0;
	char file[SA_LFRAME_FILE_MAX];
	char func[SA_LFRAME_FUNC_MAX];
};

/* Per stack and shard: descriptors opened there (records made with
 * SA_SLOT_COUNTED), closed again, and of those closed the ones a garbage
 * collector or finalizer closed (collected <= closed). Relaxed atomic adds by
 * the writer, each thread to its own shard's cell; monotonic. A stack's
 * count is the sum over its shards; held = opened - closed. Kept apart from
 * sa_stack, which never changes once published.
 *
 * The region is made of blocks of SA_COUNT_BLOCK_SIZE bytes: block b holds
 * stacks [b * SA_COUNT_BLOCK + 1, (b + 1) * SA_COUNT_BLOCK] for every
 * shard, shard after shard (sa_count_cell_off), so that one page backs a
 * stack's cells in all shards and two threads in different shards never
 * write one cache line. */
struct sa_count {
	uint64_t opened;
	uint64_t closed;
	uint64_t collected;
	uint64_t pad0;
};

/* abi 3: one flat entry per stack, unsharded. Read, never written. */
struct sa_count_v3 {
	uint64_t opened;
	uint64_t closed;
};

struct sa_module {
	uint32_t state;          /* SA_ENTRY_* */
	uint32_t generation;     /* image generation that had this module */
	uint64_t start, end;     /* mapped address range, end exclusive */
	uint64_t bias;           /* load bias (l_addr) */
	uint8_t build_id_len;
	uint8_t build_id[SA_BUILD_ID_MAX];
	uint8_t build_id_kind;   /* SA_BUILD_ID_GNU, or SA_BUILD_ID_GO (first 32 bytes) */
	uint8_t pad0[6];
	char path[SA_PATH_MAX];  /* NUL-terminated, "" for the main program when unknown */
};

_Static_assert(sizeof(struct sa_header) <= SA_HEADER_SIZE, "header fits its page");
_Static_assert(sizeof(struct sa_slot) == 128, "slot is 128 bytes");
_Static_assert(sizeof(struct sa_stack) == 280, "stack entry size");
_Static_assert(sizeof(struct sa_module) == 312, "module entry size");
_Static_assert(sizeof(struct sa_rescued) == 144, "rescued entry size");
_Static_assert(sizeof(struct sa_lframe) == 256, "language frame entry size");
_Static_assert((SA_NLFRAMES & (SA_NLFRAMES - 1)) == 0, "lframe set is a power of two");
_Static_assert(sizeof(struct sa_count) == 32, "count cell size");
_Static_assert(sizeof(struct sa_count_v3) == 16, "abi 3 count entry size");
_Static_assert(SA_COUNT_SHARDS * SA_COUNT_BLOCK * sizeof(struct sa_count) == SA_COUNT_BLOCK_SIZE,
	       "a counts block is one page");
_Static_assert((SA_COUNT_SHARDS & (SA_COUNT_SHARDS - 1)) == 0, "shards are a power of two");
_Static_assert((SA_NSTACKS & (SA_NSTACKS - 1)) == 0, "stack set is a power of two");

/* abi >= 4: bytes of the counts region of a table of `nstacks` stacks. */
static inline uint64_t sa_counts_len(uint32_t nstacks)
{
	return ((uint64_t)nstacks + SA_COUNT_BLOCK - 1) / SA_COUNT_BLOCK * SA_COUNT_BLOCK_SIZE;
}

/* abi >= 4: offset in the counts region of stack `id`'s (index + 1, >= 1)
 * cell in `shard` (< SA_COUNT_SHARDS). */
static inline uint64_t sa_count_cell_off(uint32_t id, uint32_t shard)
{
	uint32_t i = id - 1;

	return (uint64_t)(i / SA_COUNT_BLOCK) * SA_COUNT_BLOCK_SIZE +
	       (uint64_t)shard * (SA_COUNT_BLOCK * sizeof(struct sa_count)) +
	       (uint64_t)(i % SA_COUNT_BLOCK) * sizeof(struct sa_count);
}

/* Layout for a table of `nslots` slots; returns the file size. */
uint64_t sa_layout(struct sa_header *h, uint32_t nslots);

/* Who writes a fresh table: the shim for its own process, or the
 * recorder for a traced one. */
struct sa_writer_id {
	uint32_t uid, depth, flags;
	int32_t pid, ppid;
	uint64_t starttime, created_ns;
};
/* A fresh table's header at h: the layout sa_layout() made, the writer's
 * identity, generation 1 and an exit status not yet known (-1). The
 * command line and run id are the caller's to add. Pure stores: the shim
 * calls it at start-up. */
void sa_header_init(struct sa_header *h, const struct sa_header *layout,
		    const struct sa_writer_id *id);

/* File name for (uid, pid, starttime): "sockaudit.<uid>.<pid>.<starttime>". */
int sa_table_name(char *buf, unsigned len, uint32_t uid, int32_t pid, uint64_t starttime);
/* Parse such a name; returns 0 or -1. */
int sa_table_name_parse(const char *name, uint32_t *uid, int32_t *pid, uint64_t *starttime);

/* Validate a header copied out of a file of `file_size` bytes. Returns NULL
 * when it is sound, else a short reason ("bad magic", "slot region out of
 * bounds", ...). Pure: never touches anything but *h. */
const char *sa_header_check(const struct sa_header *h, uint64_t file_size);

/* Stack hash used for deduplication; never returns 0. */
uint64_t sa_stack_hash(const uint64_t *frames, uint32_t depth);
/* Language frame hash (lang, line, column, file, function); never 0. */
uint32_t sa_lframe_hash(unsigned lang, uint32_t line, uint32_t column, const char *file,
			size_t file_len, const char *func, size_t func_len);
/* "python", "node", "java", or NULL for an unknown language. */
const char *sa_lang_name(unsigned lang);

const char *sa_origin_name(unsigned origin);
/* The counters by name, in struct order: what dump and report print.
 * sa_counter_names[i] is the i-th uint64_t of struct sa_counters. */
#define SA_NCOUNTERS 9
extern const char *const sa_counter_names[SA_NCOUNTERS];
static inline uint64_t sa_counter_at(const struct sa_counters *c, unsigned i)
{
	return ((const uint64_t *)c)[i];
}

/* One seqlock read of a slot, the same for the writer (which rereads its own
 * records) and the reader: copy it while seq is even and unchanged, trying at
 * most `tries` times. On success dst->seq holds the even seq that was read.
 * Returns false when the slot never settled (its writer busy or dead). No
 * allocation, no locks: async-signal-safe, usable from the shim. */
bool sa_slot_read(const struct sa_slot *src, struct sa_slot *dst, unsigned tries);
/* Append rec (closed at close_ns by a collector, not the program) to h's
 * ring of rescued closes and count it. Lock-free for any number of writers
 * (the recorder is one, the shim's threads are many), async-signal-safe;
 * false when other writers kept the entry busy (not counted). */
bool sa_rescued_put(struct sa_header *h, const struct sa_slot *rec, uint64_t close_ns);

/* Field 22 (starttime, clock ticks after boot) of a /proc/<pid>/stat line in
 * buf[0..len) (NUL not needed). Field 2, comm, is "(name)" where the name may
 * hold spaces and ')': fields are counted after the LAST ')'. Returns 0, or
 * -1 when the text is not such a line. Pure: the shim, the CLI and the tests
 * name tables with it. */
int sa_stat_starttime(const char *buf, size_t len, uint64_t *starttime);
