/* growth: per-site counts on a group, how fast its held sockets pile up,
 * and when the process would run out of descriptors at that pace.
 *
 * The counts come from the table's count region (docs/design.md,
 * "Per-site counts"): a group sums them over the distinct open stacks of
 * its sockets. The rate comes from the open times of the sockets the group
 * holds: over the window from the oldest of them to now, a pile that kept
 * growing has some opened in the later half; one opened in a burst (a pool
 * filled at start) has none, and is not called growing.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "report/group.h"
#include "table.h"

struct growth {
	bool growing;
	double per_hour;             /* held sockets per hour over the window */
	bool exhaust_known;          /* growing, with a finite limit and a count of fds */
	uint64_t exhaust_s;          /* until the soft RLIMIT_NOFILE at this rate alone */
};

/* The "Max open files" soft limit from the text of /proc/<pid>/limits.
 * Returns 0 with *soft (UINT64_MAX for "unlimited"), or -1 when the text
 * has no such line or it does not parse. Pure. */
int growth_nofile_parse(const char *text, uint64_t *soft);

/* Read /proc/<pid>/limits (the descriptors open are counted by the
 * scan of /proc/<pid>/fd: procfd_list.nall). Returns 0, or -errno; on
 * error nothing is known. */
int growth_nofile(pid_t pid, uint64_t *soft);

/* From the open ages (ms before now) of the sockets a group holds, in any
 * order. `fds_open`, `soft`: the process's descriptors now and its limit
 * (soft 0: unknown). Pure. */
void growth_of(const uint64_t *ages_ms, size_t n, uint64_t open_fds, uint64_t soft,
	       struct growth *out);

/* Fill each group's counts from counts[0..ncounts) (stack id - 1), and its
 * growth from its tracked sockets' open ages. Pure. */
void growth_fill_groups(struct group_set *gs, const struct sa_count *counts, size_t ncounts,
			uint64_t open_fds, uint64_t soft);

/* "1,204" */
void growth_format_count(uint64_t v, char *buf, size_t len);
/* "about 3 h", "about 40 min", "about 2 days", "under a minute" */
void growth_format_eta(uint64_t s, char *buf, size_t len);
/* "opened 1,204, closed 1,192, held 12: 1 in 100 never closed"; with closes
 * by a garbage collector (collected, of closed): "opened 3,600, closed by the
 * program 6, by the garbage collector 3,594, held 0" */
void growth_format_counts(uint64_t opened, uint64_t closed, uint64_t collected, char *buf,
			  size_t len);
