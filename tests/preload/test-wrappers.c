/* One case per wrapper: after each step the table holds exactly the sockets
 * the process has (compared with /proc/self/fd), each with the right origin.
 * Built twice: with and without -D_FILE_OFFSET_BITS=64 (fcntl vs fcntl64). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"

static unsigned origin_of(int fd)
{
	struct th_table t;
	const struct sa_slot *s;
	unsigned o = 0;

	if (!th_load(&t, getpid()))
		return 0;
	s = th_find(&t, fd);
	if (s)
		o = s->origin;
	th_unload(&t);
	return o;
}

static bool has_record(int fd)
{
	struct th_table t;
	bool found;

	if (!th_load(&t, getpid()))
		return false;
	found = th_find(&t, fd) != NULL;
	th_unload(&t);
	return found;
}

/* The inode a record carries: 0 unless SOCKAUDIT_INODE_AT_OPEN, for the
 * callers that know they got a socket (they skip the fstat); UINT64_MAX
 * when there is no record. */
static uint64_t inode_of(int fd)
{
	struct th_table t;
	const struct sa_slot *s;
	uint64_t ino = UINT64_MAX;

	if (!th_load(&t, getpid()))
		return ino;
	if ((s = th_find(&t, fd)))
		ino = s->inode;
	th_unload(&t);
	return ino;
}

static bool inode_at_open(void)
{
	const char *e = getenv("SOCKAUDIT_INODE_AT_OPEN");

	return e && *e && strcmp(e, "0") != 0;
}

static void case_socket_close(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	ok(origin_of(fd) == SA_ORIGIN_SOCKET, "socket(): recorded with origin socket");
	ok(inode_of(fd) == (inode_at_open() ? th_inode(fd) : 0),
	   "socket(): inode %s", inode_at_open() ? "recorded at open" : "left to the CLI (0)");
	ok(th_exact(getpid()), "socket(): table exact");
	close(fd);
	ok(!has_record(fd), "close(): record gone");
	ok(th_exact(getpid()), "close(): table exact");
}

static void case_tcp(void)
{
	int l, c, s, s4;
	struct th_table t;
	const struct sa_slot *rec;
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	th_tcp_pair(&l, &c, &s);
	ok(origin_of(s) == SA_ORIGIN_ACCEPT, "accept(): origin accept");
	getsockname(l, (struct sockaddr *)&a, &len);
	ok(th_load(&t, getpid()), "table loads");
	rec = th_find(&t, c);
	ok(rec && (rec->flags & SA_SLOT_CONNECTED) && rec->connect_stack != 0,
	   "connect(): connect stack recorded");
	ok(rec && rec->peer_len == sizeof(struct sockaddr_in) &&
	   memcmp(rec->peer, &a, sizeof(a)) == 0, "connect(): peer is the listener's address");
	rec = th_find(&t, s);
	ok(rec && rec->dup_of == l, "accept(): names the listening fd");
	th_unload(&t);

	s4 = -1;
	{
		int c2 = socket(AF_INET, SOCK_STREAM, 0);
		connect(c2, (struct sockaddr *)&a, sizeof(a));
		s4 = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		ok(s4 >= 0 && origin_of(s4) == SA_ORIGIN_ACCEPT, "accept4(): origin accept");
		ok(th_exact(getpid()), "accept4(): table exact");
		close(c2);
		close(s4);
	}
	{
		/* A buffer smaller than the address: the kernel reports the full
		 * length, the shim must copy no more than the buffer held (the
		 * sanitizer pass catches an over-read of this stack buffer). */
		int c3 = socket(AF_INET, SOCK_STREAM, 0), s5;
		struct { char small[6]; } buf;
		socklen_t blen = sizeof(buf.small);
		struct th_table t2;
		connect(c3, (struct sockaddr *)&a, sizeof(a));
		s5 = accept(l, (struct sockaddr *)buf.small, &blen);
		ok(s5 >= 0 && blen == sizeof(struct sockaddr_in), "accept() with a short buffer");
		ok(th_load(&t2, getpid()) && th_find(&t2, s5) && th_find(&t2, s5)->peer_len == 6,
		   "accept(): peer copied only as far as the caller's buffer");
		th_unload(&t2);
		close(c3);
		close(s5);
	}
	close(c);
	close(s);
	close(l);
	ok(th_exact(getpid()), "tcp: all closed, table exact");
}

static void case_socketpair(void)
{
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	ok(origin_of(sv[0]) == SA_ORIGIN_SOCKETPAIR && origin_of(sv[1]) == SA_ORIGIN_SOCKETPAIR,
	   "socketpair(): both ends recorded");
	ok(th_exact(getpid()), "socketpair(): table exact");
	close(sv[0]);
	close(sv[1]);
}

static void case_dup(void)
{
	int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET6, SOCK_DGRAM, 0);
	int d, d2, d3, p[2];
	struct th_table t;

	d = dup(a);
	ok(origin_of(d) == SA_ORIGIN_DUP && th_inode(d) == th_inode(a), "dup(): origin dup");
	/* dup2 onto an open socket: b's record must be replaced, not kept. */
	d2 = dup2(a, b);
	ok(d2 == b && origin_of(b) == SA_ORIGIN_DUP, "dup2() onto an open socket: replaced");
	ok(th_exact(getpid()), "dup2(): table exact");
	d3 = dup3(a, 200, O_CLOEXEC);
	ok(d3 == 200 && origin_of(200) == SA_ORIGIN_DUP, "dup3(): origin dup");
	ok(th_load(&t, getpid()) && th_find(&t, 200) && th_find(&t, 200)->dup_of == a,
	   "dup3(): names its source fd");
	th_unload(&t);
	/* dup2 of a pipe over a socket: the socket record must go. */
	pipe(p);
	dup2(p[0], 200);
	ok(!has_record(200), "dup2(pipe, socket fd): record cleared");
	ok(th_exact(getpid()), "dup family: table exact");
	close(200);
	close(p[0]);
	close(p[1]);
	close(d);
	close(a);
	close(b);
	ok(th_exact(getpid()), "dup family: closed, table exact");
}

static void case_fcntl(void)
{
	int a = socket(AF_INET, SOCK_STREAM, 0);
	int d = fcntl(a, F_DUPFD_CLOEXEC, 300);
	int d2 = fcntl(a, F_DUPFD, 310);

#if defined(_FILE_OFFSET_BITS) && _FILE_OFFSET_BITS == 64
	diag("built with _FILE_OFFSET_BITS=64: fcntl() binds to fcntl64");
#else
	diag("built without _FILE_OFFSET_BITS=64: fcntl() binds to fcntl");
#endif
	ok(d >= 300 && origin_of(d) == SA_ORIGIN_DUP, "fcntl(F_DUPFD_CLOEXEC): recorded");
	ok(d2 >= 310 && origin_of(d2) == SA_ORIGIN_DUP, "fcntl(F_DUPFD): recorded");
	ok(fcntl(a, F_GETFD) == 0, "fcntl(F_GETFD) passes through");
	ok(th_exact(getpid()), "fcntl: table exact");
	close(d);
	close(d2);
	close(a);
}

static void case_close_range(void)
{
	int fds[4];

	for (int i = 0; i < 4; i++) {
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		fds[i] = fcntl(s, F_DUPFD, 400 + i * 2);
		close(s);
	}
	ok(fds[0] == 400 && fds[3] == 406, "sockets at 400, 402, 404, 406");
	ok(th_exact(getpid()), "close_range setup: table exact");
	ok(close_range(400, 403, CLOSE_RANGE_CLOEXEC) == 0, "close_range(CLOEXEC) succeeds");
	ok(has_record(400) && has_record(402), "close_range(CLOEXEC): fds stay recorded");
	ok(close_range(403, 400, 0) == -1 && errno == EINVAL && has_record(400),
	   "close_range(invalid): EINVAL, records kept");
	ok(close_range(400, 403, 0) == 0, "close_range() succeeds");
	ok(!has_record(400) && !has_record(402) && has_record(404), "close_range(): exactly the range cleared");
	ok(th_exact(getpid()), "close_range(): table exact");
	closefrom(404);
	ok(!has_record(404) && !has_record(406), "closefrom(): records cleared");
	ok(th_exact(getpid()), "closefrom(): table exact");
}

static void case_fclose(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	FILE *f = fdopen(fd, "r+");

	ok(f && has_record(fd), "fdopen(socket): still recorded");
	fclose(f);
	ok(!has_record(fd), "fclose(fdopen(sock)): record cleared");
	ok(th_exact(getpid()), "fclose: table exact");
}

int main(void)
{
	/* Start from a known state: only what the harness opened. */
	ok(th_exact(getpid()), "start: table exact");
	case_socket_close();
	case_tcp();
	case_socketpair();
	case_dup();
	case_fcntl();
	case_close_range();
	case_fclose();
	return tap_done();
}
