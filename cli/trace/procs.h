/* trace/procs: the recorded processes and what each event does to their
 * tables. A process gets a table from the recorder only when it has a
 * socket to record and no table of the shim's: a process the shim writes
 * (it created its table first, or replaced ours when it exec'd an image
 * that loads the shim) is left to the shim, and so are its children. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "trace/events.h"

struct tr_procs;

struct tr_procs *tr_procs_create(const char *dir);
/* Remove every table the recorder still writes (their processes are no
 * longer recorded) and free everything. */
void tr_procs_destroy(struct tr_procs *p);
/* Record the sockets pid holds now (per /proc/<pid>/fd) as opened before
 * recording: no stack. Returns how many, -EBUSY when another recorder
 * writes its table (the one that made it keeps it), or -errno when pid is
 * gone. */
int tr_procs_adopt(struct tr_procs *p, pid_t pid);
/* Under `sockaudit run`: tables carry SA_HDR_UNDER_RUN and run_id, and
 * stay after their process exits (run reads what it left open, then
 * removes its directory). */
void tr_procs_set_run(struct tr_procs *p, const char *run_id);
/* Where the kernel counts each process's lost events: lost(arg, pid,
 * start_ns) reads the count, forget(arg, pid, start_ns) drops it once the
 * process is gone (start_ns: the kernel's start_boottime). gc_range (may
 * be NULL) tells the kernel where runtime.runfinq is in the image pid's
 * exec event `image` started (lo == hi: nowhere), so that it judges
 * closes itself. */
struct tr_lost_ops {
	uint64_t (*lost)(void *arg, pid_t pid, uint64_t start_ns);
	void (*forget)(void *arg, pid_t pid, uint64_t start_ns);
	void (*gc_range)(void *arg, pid_t pid, uint64_t image, uint64_t lo, uint64_t hi);
	void *arg;
};
void tr_procs_set_lost_ops(struct tr_procs *p, const struct tr_lost_ops *ops);
/* Apply one event. An event of a pid whose known process had another
 * start time means that process is gone and its exit event was lost: it
 * is retired first (tr_procs_retire). */
void tr_procs_event(struct tr_procs *p, const struct tr_event *ev);
/* Add to each table's `missed` the events lost in the kernel since. */
void tr_procs_update_lost(struct tr_procs *p);
/* After events were lost (an exit may be among them): the processes that
 * /proc says are gone, or are another process now, into pids/starts (at
 * most max); how many. The caller then applies what the ring buffer holds
 * (their exit events may be there) and retires the ones still known. */
int tr_procs_gone(struct tr_procs *p, pid_t *pids, uint64_t *starts, int max);
/* The process pid started at start (0: any) exited unseen: its lost count
 * is applied and dropped and its table is finished as at exit (removed,
 * or under `run` kept, without an exit status). False when it is not
 * known (any more). */
bool tr_procs_retire(struct tr_procs *p, pid_t pid, uint64_t start);
