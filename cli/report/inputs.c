/* inputs: the target's table, fds and kernel view, read by three
 * threads.
 *
 * The main thread takes the first snapshot, scans /proc/<pid>/fd (one
 * readlink per fd: the larger part of a report of many sockets) and takes
 * the second snapshot. Meanwhile a worker runs the sock_diag dumps and,
 * once they are done, starts another that resolves the first snapshot's
 * stacks ahead of time (libdwfl opening and decompressing debug information
 * is most of what symbols cost): one after the other, so that the scan has
 * a CPU to itself on a machine of two, and the main thread has the kernel
 * view without waiting for the symbols. They share nothing but inputs none
 * of them writes: the snapshot, and the mapped table, whose SIGBUS guard is
 * per thread. Workers call no die(); a main thread about to die joins them
 * first, so there is one message. Without threads, the main thread does it
 * all itself.
 */
#include "report/inputs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* Enough for any real service; past it the rest resolve after the join. */
#define PREPARE_MAX_STACKS 512u

/* The distinct stacks of the first snapshot's records. */
static size_t stacks_of(const struct sa_snapshot *s, uint32_t *ids, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nrecs && n < max; i++) {
		const struct sa_slot *sl = &s->recs[i].slot;
		uint32_t pair[2] = { sl->open_stack, sl->connect_stack };

		if (s->recs[i].status != SA_REC_OK || !sl->used)
			continue;
		for (int k = 0; k < 2 && n < max; k++) {
			bool seen = pair[k] == 0;

			for (size_t j = 0; j < n && !seen; j++)
				seen = ids[j] == pair[k];
			if (!seen)
				ids[n++] = pair[k];
		}
	}
	return n;
}

static void *sym_worker(void *arg);
static void start(pthread_t *t, bool *running, void *(*fn)(void *), struct report_inputs *in);

static void *ks_worker(void *arg)
{
	struct report_inputs *in = arg;

	in->ks_rc = ks_collect_held(&in->ks, in->pid);
	/* Seen by the main thread once it has joined this one. */
	if (in->reader)
		start(&in->sym_thread, &in->sym_threaded, sym_worker, in);
	return NULL;
}

static void *sym_worker(void *arg)
{
	struct report_inputs *in = arg;
	uint32_t ids[PREPARE_MAX_STACKS];
	size_t n = stacks_of(in->first, ids, PREPARE_MAX_STACKS);

	if (n)
		in->prep = report_symbols_prepare(in->pid, in->first->hdr.generation, in->reader,
						  ids, n, in->shared);
	return NULL;
}

static void start(pthread_t *t, bool *running, void *(*fn)(void *), struct report_inputs *in)
{
	*running = pthread_create(t, NULL, fn, in) == 0;
	if (!*running)
		fn(in);
}

static void join_ks(struct report_inputs *in)
{
	if (in->ks_threaded) {
		pthread_join(in->ks_thread, NULL);
		in->ks_threaded = false;
	}
}

struct report_symbols *report_inputs_join(struct report_inputs *in)
{
	if (in->sym_threaded) {
		pthread_join(in->sym_thread, NULL);
		in->sym_threaded = false;
	}
	return in->prep;
}

/* Before die(): nothing of ours may run past exit(). */
static void join_all(struct report_inputs *in)
{
	join_ks(in);
	report_symbols_destroy(report_inputs_join(in));
	in->prep = NULL;
}

static void snapshot_or_die(struct report_inputs *in, struct sa_reader *r,
			    struct sa_snapshot *s)
{
	char err[600];

	if (sa_reader_snapshot(r, s, err, sizeof(err)) < 0) {
		join_all(in);
		die("%s", err);
	}
}

static void scan_or_die(struct report_inputs *in, struct procfd_list *l)
{
	int rc = procfd_scan(in->pid, l);

	if (rc >= 0)
		return;
	join_all(in);
	if (rc == -ENOENT)
		die("pid %d exited while being read", (int)in->pid);
	if (rc == -EACCES || rc == -EPERM)
		die("pid %d: cannot read /proc/%d/fd: %s (run as its user or as root)",
		    (int)in->pid, (int)in->pid, strerror(-rc));
	die("pid %d: cannot read /proc/%d/fd: %s", (int)in->pid, (int)in->pid, strerror(-rc));
}

void report_inputs_read(struct report_inputs *in, pid_t pid, struct sa_reader *r,
			struct sa_snapshot *s1, struct sa_snapshot *s2, struct procfd_list *fds,
			struct report_symcache *shared)
{
	memset(in, 0, sizeof(*in));
	in->pid = pid;
	in->reader = r;
	in->shared = shared;
	/* Snapshot, scan, snapshot: see report-join.c for why two. */
	if (r) {
		snapshot_or_die(in, r, s1);
		in->first = s1;
	}
	start(&in->ks_thread, &in->ks_threaded, ks_worker, in);
	scan_or_die(in, fds);
	if (r)
		snapshot_or_die(in, r, s2);
	join_ks(in);
}
