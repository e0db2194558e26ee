/* trace/writer: the recorder's side of the table ABI (common/table.h). The
 * recorder writes the table of each recorded process the shim does not
 * write, with the same layout and the same seqlock and publication rules,
 * so `report`, `list`, `dump` and `run` read it as they read the shim's.
 * One writer: the recorder's single thread. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "table.h"   /* common/ */

struct tr_table {
	int fd;
	uint8_t *base;
	uint64_t size;
	struct sa_header *hdr;
	struct sa_slot *slots;
	struct sa_stack *stacks;
	uint64_t *backed;          /* one bit per 4096-byte page */
	dev_t dev;
	ino_t ino;
	char path[4200];
};

/* Make the table of process `pid` (uid, start time as named) in `dir`.
 * Returns 0, -EEXIST when a table of that name exists (the shim's, or an
 * earlier recorder's), or -errno. */
int tr_table_create(struct tr_table *t, const char *dir, pid_t pid, uint32_t uid,
		    uint64_t starttime, pid_t ppid, uint32_t nslots);
/* The file at t->path is still the one we made (the shim may have replaced
 * it when the process exec'd an image that loads it). */
bool tr_table_still_ours(const struct tr_table *t);
/* Unmap; with `remove`, unlink the file too (only if still ours). */
void tr_table_close(struct tr_table *t, bool remove);

/* Log the files mapped in pid now (path, range, load bias, build-id: GNU,
 * or Go's) for the table's current generation, so that stacks can be
 * resolved once the process is gone (as the shim logs its modules).
 * Returns how many were logged. */
unsigned tr_table_modules(struct tr_table *t, pid_t pid);
/* The same for one executable file linked at a fixed address (not PIE:
 * Go's default, static C), from the file alone: for a process already gone
 * when its stacks are applied. False when it is not such a file. */
bool tr_table_module_file(struct tr_table *t, const char *path);
/* Store a stack; returns its index + 1, or 0 (set full, page not backed:
 * counted in overflow_stack). */
uint32_t tr_table_stack(struct tr_table *t, const uint64_t *frames, uint32_t depth);
/* Write slot[fd] under its seqlock (src->seq ignored); false (counted in
 * overflow_fd) when it could not be. Replacing a counted record with
 * another open counts a close of it, as the shim does. */
bool tr_table_put(struct tr_table *t, int fd, const struct sa_slot *src);
/* May an open at stack `id` be counted (its count cell backed)? Then the
 * record carries SA_SLOT_COUNTED and, once put, tr_table_count_open(). */
bool tr_table_count_ready(struct tr_table *t, uint32_t id);
void tr_table_count_open(struct tr_table *t, uint32_t id);
/* Copy of slot[fd]; false when fd is out of range or never written. */
bool tr_table_get(const struct tr_table *t, int fd, struct sa_slot *out);
void tr_table_clear(struct tr_table *t, int fd);
/* Clear slot[fd], counting a close of a counted record; `collected`: Go's
 * garbage collector made it (counted in `collected` too). */
void tr_table_clear_as(struct tr_table *t, int fd, bool collected);
/* Keep `rec` (the record of a socket Go's garbage collector just closed)
 * in the header's ring of the most recent ones; counts it. */
void tr_table_rescued(struct tr_table *t, const struct sa_slot *rec, uint64_t close_ns);
/* The stack at index+1 `id` into frames; returns its depth (0: none). */
uint32_t tr_table_stack_get(const struct tr_table *t, uint32_t id, uint64_t *frames);

/* Does an existing table file at dir for (uid, pid, starttime) come from the
 * recorder (SA_HDR_RECORDER)? false for the shim's or an unreadable one. */
bool tr_table_is_recorders(const char *path);
/* Remove the table file at path if it is a regular file of (uid, pid,
 * starttime) by its owner and header: the shim's table of an earlier image
 * of the process, which no one writes any more. 0 or -errno. */
int tr_table_remove_stale(const char *path, uint32_t uid, pid_t pid, uint64_t starttime);
