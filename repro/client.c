/* PriceService client: connect, call, report, close (or deliberately not). */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frame-io.h"
#include "hostport.h"

enum rpc_call_result {
	RPC_CALL_OK,
	RPC_CALL_EXCEPTION,	/* the server answered with an exception */
	RPC_CALL_TIMEOUT,
	RPC_CALL_CLOSED,	/* peer closed or reset the connection */
	RPC_CALL_FAILED,	/* anything else: see the reason */
};

struct rpc_client_conn {
	int fd;			/* -1: none */
	int32_t seqid;		/* last one sent on this connection */
	struct rpc_frame frame;
};

/* Kept out of line: the leak auditor reports the stack of socket(). */
__attribute__((noinline))
int rpc_client_connect(const char *host, uint16_t port, int64_t timeout_ms,
		       int *fdp, char *why, size_t whysz)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV,
	};
	int64_t deadline = rpc_deadline(timeout_ms);
	char portstr[8], addr[RPC_ADDRSTRLEN];
	struct addrinfo *res, *ai;
	socklen_t sl;
	int fd = -1, rc, soerr, one = 1, st = RPC_IO_SYS;

	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(host && *host ? host : NULL, portstr, &hints, &res);
	if (rc) {
		snprintf(why, whysz, "resolve %s: %s", host, gai_strerror(rc));
		return RPC_IO_SYS;
	}
	snprintf(why, whysz, "connect %s:%u: no address", host, port);
	for (ai = res; ai; ai = ai->ai_next) {
		rpc_format_sockaddr(ai->ai_addr, addr, sizeof(addr));
		fd = socket(ai->ai_family,
			    ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			snprintf(why, whysz, "socket: %s", strerror(errno));
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			st = rpc_io_wait(fd, POLLOUT, deadline);
			if (st == RPC_IO_TIMEOUT)
				break;
			sl = sizeof(soerr);
			if (st == RPC_IO_OK &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0) {
				if (!soerr)
					break;
				errno = soerr;
			}
		}
		snprintf(why, whysz, "connect tcp %s: %s", addr,
			 strerror(errno));
		st = RPC_IO_SYS;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return st;
	if (st == RPC_IO_TIMEOUT) {
		close(fd);
		snprintf(why, whysz, "connect tcp %s: i/o timeout", addr);
		return RPC_IO_TIMEOUT;
	}
	/* Back to a plain blocking socket: frame-io polls on its own. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fdp = fd;
	return RPC_IO_OK;
}

static enum rpc_call_result rpc_client_io_result(int st, const char *op,
						 char *why, size_t whysz)
{
	switch (st) {
	case RPC_IO_TIMEOUT:
		return RPC_CALL_TIMEOUT;
	case RPC_IO_EOF:
	case RPC_IO_TRUNC:
		return RPC_CALL_CLOSED;
	case RPC_IO_SYS:
		if (errno == EPIPE || errno == ECONNRESET)
			return RPC_CALL_CLOSED;
		snprintf(why, whysz, "%s: %s", op, strerror(errno));
		return RPC_CALL_FAILED;
	}
	snprintf(why, whysz, "%s: %s", op, rpc_io_strerror(st));
	return RPC_CALL_FAILED;
}

static enum rpc_call_result rpc_client_call(struct rpc_client_conn *c,
					    const struct rpc_client_opts *o,
					    struct rpc_reply *rep,
					    char *why, size_t whysz)
{
	const struct rpc_trace *t = &o->req.trace;
	enum rpc_call_result res;
	struct tw_writer w;
	uint8_t *buf;
	size_t cap;
	int st;

	cap = 128 + t->trace_id.len + t->caller.len + t->span_id.len;
	buf = malloc(cap);
	if (!buf) {
		snprintf(why, whysz, "out of memory");
		return RPC_CALL_FAILED;
	}
	tw_writer_init(&w, buf, cap);
	st = rpc_encode_price_call(&w, ++c->seqid, &o->req);
	if (st) {
		snprintf(why, whysz, "encode: %s", tw_strerror(st));
		res = RPC_CALL_FAILED;
		goto out;
	}
	st = rpc_write_all(c->fd, w.buf, w.len, o->timeout_ms);
	if (st) {
		res = rpc_client_io_result(st, "write", why, whysz);
		goto out;
	}
	st = rpc_read_frame(c->fd, &c->frame, TW_DEFAULT_MAX_FRAME,
			    o->timeout_ms);
	if (st) {
		res = rpc_client_io_result(st, "read", why, whysz);
		goto out;
	}
	st = rpc_decode_reply(c->frame.data, c->frame.len, rep);
	if (st) {
		snprintf(why, whysz, "protocol: %s", tw_strerror(st));
		res = RPC_CALL_FAILED;
		goto out;
	}
	if (!tw_str_eq(rep->hdr.name, RPC_PRICE_METHOD)) {
		snprintf(why, whysz, "protocol: wrong method name in reply");
		res = RPC_CALL_FAILED;
		goto out;
	}
	if (rep->hdr.seqid != c->seqid) {
		snprintf(why, whysz,
			 "protocol: out of order sequence response (got %d, want %d)",
			 rep->hdr.seqid, c->seqid);
		res = RPC_CALL_FAILED;
		goto out;
	}
	res = rep->kind == RPC_REPLY_OK ? RPC_CALL_OK : RPC_CALL_EXCEPTION;
out:
	free(buf);
	return res;
}

/* Like Thrift's TSocket.isOpen(): held by us and not closed by the peer. */
static bool rpc_client_transport_open(int fd)
{
	char b;
	ssize_t n;

	if (fd < 0)
		return false;
	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0)
		return true;
	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* Server text reaches a terminal: escape control bytes. */
static void rpc_client_print_escaped(FILE *out, struct tw_str s)
{
	size_t i;

	for (i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.ptr[i];

		if (ch < 0x20 || ch == 0x7f || ch == '\\')
			fprintf(out, "\\x%02x", ch);
		else
			putc(ch, out);
	}
}

static void rpc_client_report(FILE *out, enum rpc_call_result res,
			      const struct rpc_reply *rep, const char *why)
{
	switch (res) {
	case RPC_CALL_OK:
		fprintf(out, "ErrNo=%d PassengerDiscount=%g\n",
			rep->res.err_no, rep->res.passenger_discount);
		break;
	case RPC_CALL_EXCEPTION:
		fputs("error: exception: ", out);
		rpc_client_print_escaped(out, rep->ex.message);
		putc('\n', out);
		break;
	case RPC_CALL_TIMEOUT:
		fputs("error: timeout\n", out);
		break;
	case RPC_CALL_CLOSED:
		fputs("error: connection closed\n", out);
		break;
	case RPC_CALL_FAILED:
		fprintf(out, "error: %s\n", why);
		break;
	}
}

/* Forget a connection; with --no-close its socket stays open on purpose. */
static void rpc_client_drop(struct rpc_client_conn *c, bool no_close)
{
	if (c->fd >= 0 && !no_close)
		close(c->fd);
	c->fd = -1;
	c->seqid = 0;
	rpc_frame_free(&c->frame);
}

static bool rpc_client_holds(const struct rpc_client_opts *o)
{
	return o->hold_forever || o->hold_ms > 0;
}

static void rpc_client_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

/*
 * Block SIGTERM/SIGINT before the last result is printed: whoever reads
 * that line and then signals us must reach rpc_client_hold(), not the
 * default action.  Earlier, the signals still interrupt a stuck call.
 */
static void rpc_client_hold_prepare(const struct rpc_client_opts *o)
{
	sigset_t set;

	if (!rpc_client_holds(o))
		return;
	rpc_client_stop_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* Wait @o's hold time; SIGTERM/SIGINT (blocked by now) end it early. */
static void rpc_client_hold(const struct rpc_client_opts *o, FILE *out)
{
	struct timespec ts;
	int64_t deadline, left;
	sigset_t set;

	if (!rpc_client_holds(o))
		return;
	fflush(out);
	rpc_client_stop_signals(&set);
	deadline = rpc_deadline(o->hold_ms);
	for (;;) {
		if (o->hold_forever) {
			if (sigwaitinfo(&set, NULL) > 0)
				return;
			continue;
		}
		left = deadline - rpc_now_ms();
		if (left <= 0)
			return;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		if (sigtimedwait(&set, NULL, &ts) > 0)
			return;
		if (errno == EAGAIN)
			return;
	}
}

int rpc_client_run(const struct rpc_client_opts *o, FILE *out)
{
	struct rpc_client_conn conn = { .fd = -1 };
	enum rpc_call_result res;
	struct rpc_reply rep;
	char why[256];
	unsigned long i;
	int status = 0, st;

	for (i = 0; i < o->calls; i++) {
		bool last = i + 1 == o->calls;

		memset(&rep, 0, sizeof(rep));
		if (conn.fd < 0) {
			st = rpc_client_connect(o->host, o->port, o->timeout_ms,
						&conn.fd, why, sizeof(why));
			if (st) {
				conn.fd = -1;
				res = st == RPC_IO_TIMEOUT ? RPC_CALL_TIMEOUT
							   : RPC_CALL_FAILED;
				if (last)
					rpc_client_hold_prepare(o);
				rpc_client_report(out, res, &rep, why);
				fputs("transport: closed\n", out);
				status = 1;
				continue;
			}
		}
		res = rpc_client_call(&conn, o, &rep, why, sizeof(why));
		if (last)
			rpc_client_hold_prepare(o);
		rpc_client_report(out, res, &rep, why);
		fprintf(out, "transport: %s\n",
			rpc_client_transport_open(conn.fd) ? "open" : "closed");
		if (res != RPC_CALL_OK)
			status = 1;
		/* A failed transport may hold a late reply: never reuse it. */
		if (o->conn_per_call ||
		    (res != RPC_CALL_OK && res != RPC_CALL_EXCEPTION))
			rpc_client_drop(&conn, o->no_close);
	}
	rpc_client_hold(o, out);
	rpc_client_drop(&conn, o->no_close);
	fflush(out);
	return status;
}
