/* PriceService server: accept loop, per-connection request loop, handler. */
#include "server.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frame-io.h"
#include "hostport.h"
#include "price.h"

/* What the repro's handler always answers. */
#define RPC_SERVER_ERRNO	0
#define RPC_SERVER_DISCOUNT	0.4

/* Pause after EMFILE and friends so a full fd table does not spin a core. */
#define RPC_ACCEPT_BACKOFF_MS	100

struct rpc_conn {
	int fd;
	char peer[RPC_ADDRSTRLEN];
	char local[RPC_ADDRSTRLEN];
	struct rpc_server_opts opts;	/* a copy: threads outlive nothing */
};

/* One whole line per call: stdio's lock keeps threads' lines apart. */
__attribute__((format(printf, 1, 2)))
static void rpc_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

static void rpc_sleep_ms(int64_t ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (ms % 1000) * 1000000,
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int rpc_server_listen(const struct rpc_server_opts *o, char *bound,
		      size_t boundsz, char *err, size_t errsz)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	};
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct addrinfo *res, *ai;
	char port[8];
	int fd = -1, rc, one = 1, saved = 0;

	snprintf(port, sizeof(port), "%u", o->port);
	rc = getaddrinfo(o->host && *o->host ? o->host : NULL, port, &hints,
			 &res);
	if (rc) {
		snprintf(err, errsz, "resolve %s: %s", o->host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, SOMAXCONN) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errsz, "listen on %s:%u: %s", o->host, o->port,
			 strerror(saved));
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		snprintf(err, errsz, "getsockname: %s", strerror(errno));
		close(fd);
		return -1;
	}
	rpc_format_sockaddr((struct sockaddr *)&ss, bound, boundsz);
	return fd;
}

static void rpc_server_log_read_error(const struct rpc_conn *c, int st,
				      const struct rpc_frame *f)
{
	switch (st) {
	case RPC_IO_TIMEOUT:
		/* Worded like Go's net.OpError, which the leak story quotes. */
		rpc_log("%s: error processing request: read tcp %s->%s: i/o timeout",
			c->peer, c->local, c->peer);
		break;
	case RPC_IO_FRAMEBIG:
		rpc_log("%s: error processing request: oversize frame: length %u exceeds maximum %u",
			c->peer, f->len, c->opts.max_frame);
		break;
	case RPC_IO_FRAMENEG:
		rpc_log("%s: error processing request: negative frame length 0x%08x",
			c->peer, f->len);
		break;
	case RPC_IO_TRUNC:
		if (f->hdr_got < TW_FRAME_HDR)
			rpc_log("%s: error processing request: truncated frame: got %zu of %d length bytes",
				c->peer, f->hdr_got, TW_FRAME_HDR);
		else
			rpc_log("%s: error processing request: truncated frame: got %zu of %u bytes",
				c->peer, f->got, f->len);
		break;
	case RPC_IO_SYS:
		rpc_log("%s: error processing request: read tcp %s->%s: %s",
			c->peer, c->local, c->peer, strerror(errno));
		break;
	default:
		rpc_log("%s: error processing request: %s", c->peer,
			rpc_io_strerror(st));
		break;
	}
}

static void rpc_server_log_decode_error(const struct rpc_conn *c, int err,
					const struct rpc_frame *f)
{
	uint32_t ver;

	switch (err) {
	case TW_EBADVER:
		ver = (uint32_t)f->data[0] << 24 | (uint32_t)f->data[1] << 16 |
		      (uint32_t)f->data[2] << 8 | f->data[3];
		rpc_log("%s: error processing request: bad version 0x%08x in message header",
			c->peer, ver);
		break;
	case TW_EMSGTYPE:
		rpc_log("%s: error processing request: unexpected message type %u (want CALL or ONEWAY)",
			c->peer, f->data[3]);
		break;
	case TW_EDEPTH:
		rpc_log("%s: error processing request: nesting too deep (limit %d)",
			c->peer, TW_MAX_DEPTH);
		break;
	case TW_ETRUNC:
		rpc_log("%s: error processing request: truncated message: %u-byte frame ends inside a value",
			c->peer, f->len);
		break;
	default:
		rpc_log("%s: error processing request: %s", c->peer,
			tw_strerror(err));
		break;
	}
}

/* Reply to one decoded call; returns an RPC_IO_* status of the write. */
static int rpc_server_reply(const struct rpc_conn *c, const struct rpc_call *call)
{
	static const char prefix[] = "Unknown function ";
	struct rpc_price_res res = {
		.err_no = RPC_SERVER_ERRNO,
		.passenger_discount = RPC_SERVER_DISCOUNT,
		.has_err_no = true,
		.has_passenger_discount = true,
	};
	struct rpc_app_exception ex = {
		.type = RPC_APPEX_UNKNOWN_METHOD,
		.has_message = true,
		.has_type = true,
	};
	struct tw_writer w;
	uint8_t small[128];
	uint8_t *buf = small;
	char *msg = NULL;
	size_t cap = sizeof(small);
	int st;

	if (call->is_price) {
		tw_writer_init(&w, buf, cap);
		st = rpc_encode_price_reply(&w, call->hdr.seqid, &res);
	} else {
		/* The name comes twice: in the header and in the message. */
		cap = 2 * call->hdr.name.len + sizeof(prefix) + 64;
		msg = malloc(call->hdr.name.len + sizeof(prefix));
		buf = malloc(cap);
		if (!msg || !buf) {
			st = TW_ENOSPC;
			goto out;
		}
		memcpy(msg, prefix, sizeof(prefix) - 1);
		memcpy(msg + sizeof(prefix) - 1, call->hdr.name.ptr,
		       call->hdr.name.len);
		ex.message.ptr = msg;
		ex.message.len = sizeof(prefix) - 1 + call->hdr.name.len;
		tw_writer_init(&w, buf, cap);
		st = rpc_encode_exception(&w, call->hdr.name, call->hdr.seqid,
					  &ex);
	}
	if (st) {
		rpc_log("%s: error processing request: encode reply: %s",
			c->peer, tw_strerror(st));
		st = RPC_IO_NOMEM;
		goto out;
	}
	st = rpc_write_all(c->fd, w.buf, w.len, c->opts.read_timeout_ms);
	if (st == RPC_IO_TIMEOUT)
		rpc_log("%s: error processing request: write tcp %s->%s: i/o timeout",
			c->peer, c->local, c->peer);
	else if (st)
		rpc_log("%s: error processing request: write tcp %s->%s: %s",
			c->peer, c->local, c->peer, strerror(errno));
out:
	if (buf != small)
		free(buf);
	free(msg);
	return st;
}

/* Request loop of one connection; returns the number of requests served. */
static unsigned long rpc_server_serve(struct rpc_conn *c)
{
	struct rpc_frame f = { 0 };
	struct rpc_call call;
	unsigned long served = 0;
	int st;

	for (;;) {
		st = rpc_read_frame(c->fd, &f, c->opts.max_frame,
				    c->opts.read_timeout_ms);
		if (st == RPC_IO_EOF)
			break;
		if (st) {
			rpc_server_log_read_error(c, st, &f);
			break;
		}
		st = rpc_decode_call(f.data, f.len, &call);
		if (st) {
			rpc_server_log_decode_error(c, st, &f);
			break;
		}
		if (c->opts.cost_ms)
			rpc_sleep_ms(c->opts.cost_ms);
		served++;
		if (call.hdr.type == TW_ONEWAY)
			continue;
		if (rpc_server_reply(c, &call))
			break;
	}
	rpc_frame_free(&f);
	return served;
}

static void *rpc_server_conn_thread(void *arg)
{
	struct rpc_conn *c = arg;
	unsigned long served;

	served = rpc_server_serve(c);
	/* Log first: once closed, the fd number may be accepted again. */
	rpc_log("closed %s (fd %d, %lu requests)", c->peer, c->fd, served);
	close(c->fd);
	free(c);
	return NULL;
}

static void rpc_server_spawn(int fd, const struct sockaddr *peer,
			     const struct rpc_server_opts *o)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	pthread_attr_t attr;
	struct rpc_conn *c;
	pthread_t tid;
	int one = 1, err;

	c = calloc(1, sizeof(*c));
	if (!c) {
		rpc_log("dropping connection (fd %d): out of memory", fd);
		close(fd);
		return;
	}
	c->fd = fd;
	c->opts = *o;
	rpc_format_sockaddr(peer, c->peer, sizeof(c->peer));
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		rpc_format_sockaddr((struct sockaddr *)&ss, c->local,
				    sizeof(c->local));
	else
		snprintf(c->local, sizeof(c->local), "?");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	rpc_log("accepted %s (fd %d)", c->peer, fd);

	err = pthread_attr_init(&attr);
	if (err)
		goto fail;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&tid, &attr, rpc_server_conn_thread, c);
	pthread_attr_destroy(&attr);
	if (err)
		goto fail;
	return;
fail:
	rpc_log("closed %s (fd %d, 0 requests): cannot start thread: %s",
		c->peer, fd, strerror(err));
	close(fd);
	free(c);
}

/* Kept out of line: the leak auditor reports the stack of accept(). */
__attribute__((noinline))
int rpc_server_accept_loop(int lfd, const struct rpc_server_opts *o)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	for (;;) {
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		if (fd >= 0) {
			rpc_server_spawn(fd, (struct sockaddr *)&ss, o);
			continue;
		}
		switch (errno) {
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
		case EPERM:
			continue;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			rpc_log("accept: %s (retrying in %d ms)",
				strerror(errno), RPC_ACCEPT_BACKOFF_MS);
			rpc_sleep_ms(RPC_ACCEPT_BACKOFF_MS);
			continue;
		}
		return -errno;
	}
}
