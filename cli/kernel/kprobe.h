/* kprobe: sockets the sock_diag dumps do not list, read through the
 * target's own descriptor with pidfd_getfd(2).
 *
 * The dumps miss a TCP socket in CLOSE (reset by its peer, or never
 * connected), an unbound UDP socket, and every family they do not cover
 * (netlink, packet). A leaked connection that met a reset is still a leaked
 * descriptor, and without this it would show as "unknown". pidfd_getfd
 * needs PTRACE_MODE_ATTACH over the target (root, or the target's ancestor
 * under Yama scope 1); without it the sockets stay as they were.
 */
#pragma once

#include <sys/types.h>

#include "kernel/kstate.h"
#include "kernel/procfd.h"

/* Adds a ks_sock (probed = true) for each socket fd of `pid` whose inode
 * `t` lacks. Returns how many were added, or -errno when pidfd_getfd is not
 * allowed at all. */
int ks_probe_missing(struct ks_table *t, pid_t pid, const struct procfd_list *fds);
