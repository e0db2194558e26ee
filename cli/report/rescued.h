/* rescued: sockets a Go program dropped and its garbage collector closed
 * (a finalizer on runtime.runfinq), as `sockaudit trace` records them in
 * the table (sa_header.rescued, counters.rescued): a leak the collector
 * hid. The most recent SA_RESCUED_MAX with their open stacks resolved,
 * and how many there were in all. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/group.h"
#include "report/symbols.h"
#include "table-reader.h"

struct report_rescued {
	struct sa_rescued e;
	struct group_stack stack;        /* the open stack (depth 0: none) */
	/* The per-site counts of that open stack (report_rescued_counts). */
	bool counts_known;
	uint64_t opened, closed, collected;
};

struct report_rescued_set {
	struct report_rescued *v;        /* most recent first */
	size_t n;
	uint64_t total;                  /* closes by the collector over the recording */
	struct group_set groups;         /* v[i]'s frames are groups.v[i].frames */
	struct report_symbols *syms;
};

/* Read them from the table (nothing without one) and resolve their
 * stacks as in->pid's. */
void report_rescued_read(struct report_rescued_set *rs, struct sa_reader *r,
			 const struct report_symbols_in *in);
/* Each one's site counts from counts[0..ncounts) (stack id - 1). */
void report_rescued_counts(struct report_rescued_set *rs, const struct sa_count *counts,
			   size_t ncounts);
void report_rescued_finish(struct report_rescued_set *rs);
