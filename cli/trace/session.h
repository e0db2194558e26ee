/* trace/session: `sockaudit trace -- CMD`: start CMD stopped, record it and
 * its descendants from before its first instruction, pass the signals a
 * terminal or a CI runner sends, and end with CMD's status. */
#pragma once

#include <sys/types.h>

/* Runs argv[0..] under the recorder; returns CMD's exit status (its code,
 * or 128 + the signal that killed it). Errors die() with exit 2. */
int tr_session_run(char **argv);
/* Record the running process pid and the processes it forks from now on,
 * until SIGINT, SIGTERM or SIGHUP, or until pid is gone; the sockets it
 * already holds are recorded as opened before recording. Returns 0. */
int tr_session_attach(pid_t pid);
