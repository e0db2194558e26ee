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
 * recording: no stack. Returns how many, or -errno when pid is gone. */
int tr_procs_adopt(struct tr_procs *p, pid_t pid);
/* Under `sockaudit run`: tables carry SA_HDR_UNDER_RUN and run_id, and
 * stay after their process exits (run reads what it left open, then
 * removes its directory). */
void tr_procs_set_run(struct tr_procs *p, const char *run_id);
/* Apply one event. */
void tr_procs_event(struct tr_procs *p, const struct tr_event *ev);
/* Set each table's count of events lost in the kernel (lost(pid)). */
void tr_procs_set_lost(struct tr_procs *p, uint64_t (*lost)(void *, pid_t), void *arg);
/* Processes seen exiting since the last call, for the caller to forget. */
int tr_procs_take_exited(struct tr_procs *p, pid_t *out, int max);
