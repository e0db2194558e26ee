/* inputs: what `sockaudit report` reads about a live target, read by
 * three threads, handed to report_join_build(). */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "kernel/kstate.h"
#include "kernel/procfd.h"
#include "report/symbols.h"
#include "table-reader.h"

struct report_inputs {
	/* Read-only while the worker runs. */
	pid_t pid;
	struct sa_reader *reader;         /* NULL: no table */
	struct report_symcache *shared;   /* module files by build-id, or NULL */
	const struct sa_snapshot *first;  /* NULL: no table */

	/* The kernel worker's until report_inputs_read() returns. */
	struct ks_table ks;
	int ks_rc;                        /* as ks_collect_held() returned */
	/* The symbol worker's until report_inputs_join(). */
	struct report_symbols *prep;      /* NULL: nothing prepared */

	pthread_t ks_thread, sym_thread;
	bool ks_threaded, sym_threaded;   /* running, to be joined */
};

/* The first snapshot (with a table r), the scan of /proc/<pid>/fd into fds,
 * the second snapshot, and the kernel's view into in->ks and in->ks_rc
 * (ks_finish() it). Dies with `report`'s messages when a snapshot or the
 * scan fails. The symbol worker may still run: report_inputs_join(). */
void report_inputs_read(struct report_inputs *in, pid_t pid, struct sa_reader *r,
			struct sa_snapshot *s1, struct sa_snapshot *s2, struct procfd_list *fds,
			struct report_symcache *shared);
/* Wait for the symbol worker if it still runs: the symbols it prepared,
 * for report_symbols_resolve_prepared() (NULL: none). */
struct report_symbols *report_inputs_join(struct report_inputs *in);
