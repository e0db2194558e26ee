/* Reading a table from another process. The file is hostile input: anyone
 * able to write to the table directory may have planted it, and the writer
 * may be changing or truncating it while we read. Nothing here trusts a
 * number from the file before checking it, and every read of the mapping is
 * guarded against SIGBUS (a truncated file). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "table.h"

enum sa_rec_status {
	SA_REC_OK = 0,
	SA_REC_UNKNOWN,   /* the slot stayed mid-update: writer busy or dead */
};

struct sa_record {
	struct sa_slot slot;      /* a consistent copy (status OK) */
	enum sa_rec_status status;
};

struct sa_reader {
	int fd;
	const uint8_t *map;
	size_t map_len;
	struct sa_header hdr;     /* validated copy taken at open */
	char path[4096];
};

struct sa_snapshot {
	struct sa_header hdr;     /* header (counters, flags) as of the snapshot */
	struct sa_record *recs;   /* used slots, by fd */
	size_t nrecs;
	size_t nunknown;          /* slots left mid-update */
	bool truncated;           /* the file shrank while we read: partial */
};

/* Error strings are written to err (one line, no newline). All functions
 * return 0 or a negative errno:
 *   -ENOENT no table, -EACCES/-EPERM wrong owner or mode, -EINVAL garbage,
 *   -EFAULT changed under us (truncated). */
int sa_reader_open(struct sa_reader *r, const char *path, uid_t expect_uid,
		   char *err, size_t errlen);
/* The same checks on a file the caller opened (O_NOFOLLOW|O_NONBLOCK, e.g.
 * inside a container's root); path only names it in messages. The fd is
 * the reader's from then on, closed on failure. expect_uid is the owner as
 * we see it; hdr_uid the uid the header must name, which for a process in
 * another user namespace is its euid there, not the owner we see
 * ((uid_t)-1: the owner, as sa_reader_open). */
int sa_reader_open_fd(struct sa_reader *r, int fd, const char *path, uid_t expect_uid,
		      uid_t hdr_uid, char *err, size_t errlen);
/* On failure the snapshot holds nothing (no need to finish it). */
int sa_reader_snapshot(struct sa_reader *r, struct sa_snapshot *s, char *err, size_t errlen);
/* Copy stack `id` (index + 1, as in a slot). Returns the depth, 0 when the id
 * is 0, out of range, or not published. */
uint32_t sa_reader_stack(struct sa_reader *r, uint32_t id, uint64_t frames[SA_MAX_FRAMES]);
/* Copy the language frame a stack entry names (SA_FRAME_LANG | index).
 * False when the entry is not such a frame, out of range, not published,
 * or its lengths or language are out of range. Its bytes are still
 * hostile: anything but NUL-free UTF-8 may be in them. */
bool sa_reader_lframe(struct sa_reader *r, uint64_t entry, struct sa_lframe *out);
/* Copy the GC-rescued closes the table keeps (counters.rescued says how
 * many there were in all), most recent first, each a consistent copy (an
 * entry mid-update is skipped). Returns how many (<= max). */
size_t sa_reader_rescued(struct sa_reader *r, struct sa_rescued *out, size_t max,
			 uint64_t *total);
/* Copy the per-stack counts: out[i] for stack i + 1 (its shards summed; abi
 * 3 has no shards and no `collected`, read as 0), at most n entries.
 * Returns how many were read: 0 for a table without counts (abi 1 or 2). Read
 * with pread, so a page the writer never backed reads as zeros and is not
 * allocated, and a truncated file cannot fault; holes are skipped with
 * SEEK_DATA. Each counter is monotonic for a live writer; the counters are
 * not one snapshot (a close may land between two loads). */
size_t sa_reader_counts(struct sa_reader *r, struct sa_count *out, size_t n);
/* The same up to the last stack with counts only: entries past the count
 * returned are zero and not written (a table of 4096 stacks that used ten
 * reads and zeroes 16 entries, not 4096). */
size_t sa_reader_counts_used(struct sa_reader *r, struct sa_count *out, size_t n);
/* The table has a counts region (abi >= 3): sa_reader_counts() fills it. */
bool sa_reader_has_counts(const struct sa_reader *r);
/* Copy the published modules; returns how many (<= max). */
size_t sa_reader_modules(struct sa_reader *r, struct sa_module *out, size_t max);
void sa_snapshot_finish(struct sa_snapshot *s);
void sa_reader_close(struct sa_reader *r);

/* Find the table of a process in `dir`: the exact name when starttime != 0,
 * else the one file for (uid, pid) with the highest starttime. Writes the
 * path. Returns 0 or -ENOENT. */
int sa_table_find(const char *dir, uint32_t uid, int32_t pid, uint64_t starttime,
		  char *path, size_t len);
/* SOCKAUDIT_DIR or /dev/shm. */
const char *sa_table_dir(void);
