/* What the wrappers record, and the start-up scan (record.c). */
#pragma once

#include "shim.h"

void shim_record(int fd, unsigned origin, int dup_of, const void *peer, socklen_t peerlen,
		 const int *kind) SHIM_HIDDEN;
/* For socket(), accept() and connect(): the same, returning the wrapper's
 * result (fd, fd, rc) so that the wrapper can end in a sibling call. */
int shim_record_socket(int fd, int domain, int type, int protocol) SHIM_HIDDEN;
int shim_record_accept(int fd, int listener, const struct sockaddr *peer,
		       socklen_t peerlen) SHIM_HIDDEN;
int shim_record_connect(int rc, int fd, const struct sockaddr *addr, socklen_t len) SHIM_HIDDEN;
void shim_record_dup(int oldfd, int newfd) SHIM_HIDDEN;
void shim_forget(int fd) SHIM_HIDDEN;
/* shim_forget() for a close a garbage collector or finalizer makes: counted
 * in the stack's `collected` as well as `closed`. For language hooks. */
void shim_forget_collected(int fd) SHIM_HIDDEN;
void shim_forget_range(unsigned first, unsigned last) SHIM_HIDDEN;
/* Sockets open before we started, recorded as inherited (no stack). */
void shim_scan_fds(void) SHIM_HIDDEN;
