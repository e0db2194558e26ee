/* Writing the mapped table: pages, slots, stacks, module log (writer.c). */
#pragma once

#include "shim.h"

bool shim_reserve(uint64_t off, uint64_t len) SHIM_HIDDEN;
/* Returns whether the record was written. Replacing a counted record of
 * another open counts a close of it (its fd was closed unseen, or by dup2). */
bool shim_slot_write(int fd, const struct sa_slot *rec) SHIM_HIDDEN;
/* A record to start from: all zero. A copy of it is a few vector moves,
 * where `= { 0 }` made the compiler emit `rep stos`, whose start-up cost
 * was a fifth of a record's own time (perf). */
extern const struct sa_slot shim_slot_empty SHIM_HIDDEN;
/* May an open at stack `id` be counted (its count block backed)? A block
 * is one page (the region is page-aligned, see map_globals): one bit says.
 * Inline: it runs on every open and every counted close. */
static inline bool shim_count_ready(uint32_t id)
{
	uint64_t c;

	if (!id || id > shim.ncounts)
		return false;
	c = shim.counts_chunk + (id - 1) / SA_COUNT_BLOCK;
	return c < SHIM_MAX_CHUNKS &&
	       (atomic_load_explicit(&shim.reserved[c >> 6], memory_order_acquire) &
		(1ull << (c & 63)));
}

/* This thread's count shard + 1 (0: not chosen yet), and whether the
 * thread owns it. The first SA_COUNT_SHARDS - 1 threads to count own a
 * shard each, never shared (a shard is never handed out twice); later
 * threads share the last one. */
extern __thread uint32_t shim_count_shard SHIM_HIDDEN;
extern __thread bool shim_count_own SHIM_HIDDEN;
uint32_t shim_count_shard_take(void) SHIM_HIDDEN;

/* This thread's cell of stack `id`'s count; call only when shim_count_ready(id). */
static inline struct sa_count *shim_count_cell(uint32_t id)
{
	uint32_t s = shim_count_shard;

	if (unlikely(!s))
		s = shim_count_shard_take();
	return (struct sa_count *)((uint8_t *)shim.counts + sa_count_cell_off(id, s - 1));
}

/* One more in a cell of this thread's shard. An owned shard has one
 * writer: a plain add instruction, which a signal handler on the same
 * thread cannot split and a reader never sees torn (an aligned 8-byte
 * store), instead of a locked one, which cost a record as much as its
 * slot's seqlock (perf). A shared shard takes the locked add. */
static inline void shim_count_add(uint64_t *cell)
{
#if defined(__x86_64__)
	if (likely(shim_count_own)) {
		__asm__ volatile("addq $1, %0" : "+m"(*cell));
		return;
	}
#endif
	atomic_fetch_add_explicit((_Atomic uint64_t *)cell, 1, memory_order_relaxed);
}

/* One more `opened` of stack `id`; call only when shim_count_ready(id). */
static inline void shim_count_open(uint32_t id)
{
	shim_count_add(&shim_count_cell(id)->opened);
}
/* shim_slot_write() and the slot functions below read the table globals
 * without a state check of their own: their callers have made one
 * (shim_writable*(), or the state READY), or run where the table is mapped
 * (start-up, fork, exec adoption, exit). shim_slot_kind() checks. */
/* Clear fd's record before the real close; `collected`: the close is a
 * garbage collector's or finalizer's, not the program's (counted apart). */
void shim_slot_clear_as(int fd, bool collected) SHIM_HIDDEN;
/* The open time of fd's record, read under its seqlock: it names the
 * open (0: no record). */
uint64_t shim_slot_open_ns(int fd) SHIM_HIDDEN;
/* connect() on fd: the peer (peer's peer, peer_len and PEER_TRUNC flag),
 * connect time and stack into fd's record in place, if it still holds the
 * open of `open_ns`: the stack is taken between the two calls, and another
 * thread may close fd and open another socket there meanwhile. */
bool shim_slot_connect(int fd, uint64_t open_ns, const struct sa_slot *peer,
		       uint64_t connect_ns, uint32_t connect_stack) SHIM_HIDDEN;
void shim_slot_clear(int fd) SHIM_HIDDEN;
bool shim_slot_used(int fd) SHIM_HIDDEN;
/* family, type, protocol of fd's record; false when it has none. */
bool shim_slot_kind(int fd, int kind[3]) SHIM_HIDDEN;
uint32_t shim_stack_intern(const uint64_t *frames, uint32_t depth) SHIM_HIDDEN;
/* A language frame into the lframe set: the stack entry that names it
 * (SA_FRAME_LANG | index), or 0 when it could not be stored (counted). The
 * file keeps its tail and the function its head when they are too long. */
uint64_t shim_lframe_intern(unsigned lang, const char *file, size_t file_len, const char *func,
			    size_t func_len, uint32_t line, uint32_t column) SHIM_HIDDEN;
/* The same for an entry of another table (a forked child's parent's). */
uint64_t shim_lframe_copy(const struct sa_lframe *e) SHIM_HIDDEN;
void shim_modules_log_all(void) SHIM_HIDDEN;
void shim_modules_note(const uint64_t *frames, uint32_t depth) SHIM_HIDDEN;
void shim_counter_add(uint64_t *counter) SHIM_HIDDEN;
