/* trace/session: `sockaudit trace -- CMD`: start CMD stopped, record it and
 * its descendants from before its first instruction, pass the signals a
 * terminal or a CI runner sends, and end with CMD's status. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Runs argv[0..] under the recorder; returns CMD's exit status (its code,
 * or 128 + the signal that killed it). Errors die() with exit 2. */
int tr_session_run(char **argv);
/* Record the running process pid and the processes it forks from now on,
 * until SIGINT, SIGTERM or SIGHUP, or until pid is gone; the sockets it
 * already holds are recorded as opened before recording. Returns 0. */
int tr_session_attach(pid_t pid);

/* The recorder beside `sockaudit run`: its tables go to dir, marked for
 * the run (tr_procs_set_run). NULL with a one-line reason in err when it
 * cannot record (privileges, no BTF). */
struct tr_background;
struct tr_background *tr_background_start(const char *dir, const char *run_id, char *err,
					  size_t len);
/* Record pid and its descendants (call before it may exec). */
void tr_background_track(struct tr_background *b, pid_t pid);
/* An fd that is readable when events wait (for poll()). */
int tr_background_fd(struct tr_background *b);
/* Apply every event the kernel has sent so far; never blocks. */
void tr_background_pump(struct tr_background *b);
/* Detach; the tables stay for run. Accepts NULL. */
void tr_background_stop(struct tr_background *b);
