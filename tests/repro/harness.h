/* The repro scenario tests' layer on the shared harness (tests/lib/tlib.h):
 * sockaudit-rpc processes as tlib hosts, and the wire and socket helpers
 * the RPC's tests need. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tlib.h"

/* Start argv[0] (a path) with stdin from /dev/null, stdout and stderr
 * collected (tlib_host_pump(), tlib_host_wait(), tlib_host_wait_exit()). */
void th_spawn(struct tlib_host *p, char *const argv[]);
/* Signal, reap within 5 s (SIGKILL after that) and free. */
void th_stop(struct tlib_host *p, int sig);

/* Port from a server's "listening on 127.0.0.1:PORT" line; bail() if none. */
uint16_t th_server_port(struct tlib_host *p, int timeout_ms);

int th_count(const char *hay, const char *needle);
/* Sockets among /proc/PID/fd. */
int th_socket_count(pid_t pid);
/* How many of pid's sockets are IPv4 TCP ESTABLISHED now (/proc/net/tcp):
 * a connection its holder closed or shut down is not; -1 on error. */
int th_tcp_established(pid_t pid);

int th_connect(uint16_t port);
uint16_t th_local_port(int fd);
/* Loopback listener on a free port. */
int th_listen(uint16_t *port);
/* A loopback port bound (without SO_REUSEADDR) and never listened on, held
 * as long as the returned fd is open: a connect to it is refused, and no
 * other program can take the port meanwhile. */
int th_bound_closed(uint16_t *port);
/* Accept one connection within @timeout_ms, or -1. */
int th_accept(int lfd, int timeout_ms);
bool th_send_all(int fd, const void *buf, size_t n);

enum th_closed {
	TH_CLOSED_EOF,		/* read returned 0 */
	TH_CLOSED_RESET,	/* ECONNRESET: closed with our bytes unread */
	TH_CLOSED_TIMEOUT,
	TH_CLOSED_DATA,		/* the peer sent something instead */
	TH_CLOSED_ERROR,
};
/* Wait for the peer to close @fd. */
enum th_closed th_wait_closed(int fd, int timeout_ms);
const char *th_closed_str(enum th_closed c);

/* Hex (whitespace ignored) to bytes; bail() on bad input or overflow. */
size_t th_unhex(const char *hex, uint8_t *out, size_t cap);
int64_t th_now_ms(void);
