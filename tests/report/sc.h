/* Helpers for the scenario programs the report tests audit. A scenario
 * opens exactly what its name says, prints one "ready key=value ..." line on
 * stdout, then obeys commands on stdin until EOF (or dies by a signal).
 *
 * The calls whose stacks the tests check (socket, connect, accept) are made
 * in the scenario's own functions, never in a function of here: the report
 * must name the scenario's function, file and line. SC_CONNECTER writes
 * such a function into the scenario's file. */
#pragma once

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

__attribute__((noreturn, format(printf, 1, 2), unused))
static void sc_die(const char *fmt, ...)
{
	va_list ap;

	fputs("scenario: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (%s)\n", strerror(errno));
	exit(3);
}

/* A loopback listener on an ephemeral port; *a gets its address. */
__attribute__((unused))
static int sc_listener(struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int l;

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)a, sizeof(*a)) < 0 || listen(l, 64) < 0 ||
	    getsockname(l, (struct sockaddr *)a, &len) < 0)
		sc_die("listener");
	return l;
}

__attribute__((format(printf, 1, 2), unused))
static void sc_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Next command from fd, without its newline; false at EOF. Plain read()
 * so nothing is buffered behind our back between commands. */
__attribute__((unused))
static bool sc_command_fd(int fd, char *buf, size_t len)
{
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		if (c == '\n')
			break;
		if (n + 1 < len)
			buf[n++] = c;
	}
	buf[n] = '\0';
	return true;
}

/* The same from stdin. */
__attribute__((unused))
static bool sc_command(char *buf, size_t len)
{
	return sc_command_fd(STDIN_FILENO, buf, len);
}

/* Wait for EOF, ignoring any command. */
__attribute__((unused))
static void sc_wait(void)
{
	char buf[64];

	while (sc_command(buf, sizeof(buf)))
		;
}

/* Exchange one byte each way: both ends have just sent and received. */
__attribute__((unused))
static void sc_ping(int a, int b)
{
	char c = 'x';

	if (write(a, &c, 1) != 1 || read(b, &c, 1) != 1 || write(b, &c, 1) != 1 ||
	    read(a, &c, 1) != 1)
		sc_die("ping");
}

/* Defines `name`, a function of the scenario's own (never inlined) that
 * opens a TCP socket and connects it to *a, and sets the int `line` to its
 * line: every call in a macro's expansion is on the line that expands it,
 * so the report names "name <scenario>.c:<line of SC_CONNECTER>". */
#define SC_CONNECTER(name, line)                                                      \
	__attribute__((noinline)) static int name(const struct sockaddr_in *a)        \
	{                                                                             \
		int fd = socket(AF_INET, SOCK_STREAM, 0);                             \
                                                                                      \
		if (fd < 0)                                                           \
			sc_die("socket");                                             \
		line = __LINE__;                                                      \
		if (connect(fd, (const struct sockaddr *)a, sizeof(*a)) < 0)          \
			sc_die("connect");                                            \
		return fd;                                                            \
	}
