/* The preload tests' layer on the shared harness (tests/lib/tlib.h): for
 * tests that run under LD_PRELOAD=libsockaudit.so and check the table
 * against the kernel's truth (/proc/<pid>/fd). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "table-reader.h"

struct th_table {
	struct sa_reader r;
	struct sa_snapshot s;
	bool open;
};

/* Open and snapshot the table of `pid` (our own: getpid()). Returns false
 * with a diagnostic when there is none. */
bool th_load(struct th_table *t, pid_t pid);
void th_unload(struct th_table *t);
/* The record for fd, or NULL. */
const struct sa_slot *th_find(const struct th_table *t, int fd);
/* Table == the sockets in /proc/<pid>/fd (fd and inode), no more, no less.
 * Prints each difference as a TAP diagnostic. */
bool th_exact(pid_t pid);
/* May the shim leave this record's inode 0 (unless SOCKAUDIT_INODE_AT_OPEN)? */
bool th_inode_optional(const struct sa_slot *s);
/* Wait for pid with a deadline of `ms`: its exit status, 128 + the signal
 * that killed it, or -1 when it hung (then killed) or was not our child
 * (tlib_wait_child()). */
int th_wait_child(pid_t pid, int ms);
/* The socket inode at fd, 0 when not a socket. */
uint64_t th_inode(int fd);
/* Does the open stack of `rec` contain an address inside function `fn`
 * (whose size is unknown: we accept [fn, fn + limit)). */
bool th_stack_has(struct th_table *t, uint32_t stack_id, const void *fn, unsigned long limit);
/* Is libsockaudit.so really loaded in this process (not merely named in
 * LD_PRELOAD, which ld.so ignores when it cannot load the file)? True when
 * the `close` the process calls resolves into it. */
bool th_shim_loaded(void);
/* Poll `cond` every 5 ms for up to `ms`; false on timeout (tlib_poll()). */
bool th_poll(bool (*cond)(void *), void *arg, int ms);
/* A connected loopback TCP pair: *client, *server (accepted); listener kept in *lfd. */
void th_tcp_pair(int *lfd, int *client, int *server);
