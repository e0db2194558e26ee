/* Writing the mapped table: pages, slots, stacks, module log (writer.c). */
#pragma once

#include "shim.h"

bool shim_reserve(uint64_t off, uint64_t len) SHIM_HIDDEN;
/* Returns whether the record was written. Replacing a counted record of
 * another open counts a close of it (its fd was closed unseen, or by dup2). */
bool shim_slot_write(int fd, const struct sa_slot *rec) SHIM_HIDDEN;
/* May an open at stack `id` be counted (its count entry backed)? A count
 * entry (16 bytes, in a page-aligned region) never straddles a page: one
 * bit says. Inline: it runs on every open. */
static inline bool shim_count_ready(uint32_t id)
{
	uint64_t c;

	if (!id || !shim.counts || id > shim.hdr->ncounts)
		return false;
	c = (shim.hdr->counts_off + (uint64_t)(id - 1) * sizeof(struct sa_count)) >>
	    SHIM_CHUNK_SHIFT;
	return c < SHIM_MAX_CHUNKS &&
	       (atomic_load_explicit(&shim.reserved[c >> 6], memory_order_acquire) &
		(1ull << (c & 63)));
}

/* One relaxed add to counts[id - 1].opened; call only when shim_count_ready(). */
static inline void shim_count_open(uint32_t id)
{
	atomic_fetch_add_explicit((_Atomic uint64_t *)&shim.counts[id - 1].opened, 1,
				  memory_order_relaxed);
}
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
