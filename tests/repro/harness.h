/* Process and socket helpers for the repro scenario tests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A child with its stdout and stderr collected (NUL-terminated). */
struct th_proc {
	pid_t pid;
	int out_fd, err_fd;	/* -1 after EOF */
	char *out, *err;
	size_t out_len, err_len;
	bool exited;
	int status;		/* waitpid() status once exited */
};

/* Start argv[0] (a path) with stdin from /dev/null; bail() on failure. */
void th_spawn(struct th_proc *p, char *const argv[]);
/* Collect output for up to @timeout_ms, returning early on new data. */
void th_pump(struct th_proc *p, int timeout_ms);
/* Wait until @needle is in stdout (@err false) or stderr (@err true). */
bool th_wait_output(struct th_proc *p, bool err, const char *needle,
		    int timeout_ms);
/* Wait for the child to exit, collecting its output. */
bool th_wait_exit(struct th_proc *p, int timeout_ms);
/* Still running? Reaps it (status kept) if not. */
bool th_alive(struct th_proc *p);
/* Signal, reap within 5 s (SIGKILL after that) and free. */
void th_stop(struct th_proc *p, int sig);
void th_proc_free(struct th_proc *p);

/* Port from a server's "listening on 127.0.0.1:PORT" line; bail() if none. */
uint16_t th_server_port(struct th_proc *p, int timeout_ms);

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
