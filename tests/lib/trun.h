/* trun: run a program to completion, as the tests run sockaudit: stdin
 * /dev/null, stdout and stderr collected, no LD_PRELOAD, a deadline. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct trun {
	int status;                 /* exit status, 128 + signal, -1 when not reaped */
	bool signaled;              /* killed by a signal (status is 128 + it) */
	bool timed_out;             /* killed at the deadline */
	char *out, *err;            /* NUL-terminated; "" when nothing was written */
	size_t nout, nerr;
	uint64_t started_ms, ended_ms;   /* CLOCK_MONOTONIC */
	pid_t pid;                  /* the child's, once started */
};

uint64_t trun_now_ms(void);
/* waitpid() polled until ms have passed: the wait status, or -1. */
int trun_reap(pid_t pid, int ms);
/* argv[0] is a path. A program still running after timeout_ms is killed.
 * track, when given, is told the child's pid once it runs (running true)
 * and once it is reaped (false): a test that dies meanwhile can kill it.
 * Returns true once the child is reaped (see status and signaled); fails
 * the whole test (TAP "Bail out!") when it cannot even start one. */
bool trun_capture(struct trun *r, const char *const argv[], int timeout_ms,
		  void (*track)(pid_t pid, bool running));
/* The same with setup(arg) run in the child just before the exec, its
 * stdin, stdout and stderr set and LD_PRELOAD unset: the environment,
 * limits or files a test wants the program to start with. It may _exit. */
bool trun_capture_setup(struct trun *r, const char *const argv[], int timeout_ms,
			void (*setup)(void *arg), void *arg,
			void (*track)(pid_t pid, bool running));
void trun_free(struct trun *r);
