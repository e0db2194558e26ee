/* Socket side of TFramedTransport: poll() + non-blocking recv()/send(). */
#include "frame-io.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

/* Grow the payload buffer as bytes arrive, not as the peer announces. */
#define RPC_FRAME_CHUNK	(64 * 1024)

int64_t rpc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t rpc_deadline(int64_t timeout_ms)
{
	int64_t now;

	if (timeout_ms <= 0)
		return 0;
	now = rpc_now_ms();
	return timeout_ms > INT64_MAX - now ? INT64_MAX : now + timeout_ms;
}

int rpc_io_wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int wait_ms, n;

	for (;;) {
		wait_ms = -1;
		if (deadline) {
			int64_t left = deadline - rpc_now_ms();

			if (left <= 0)
				return RPC_IO_TIMEOUT;
			wait_ms = left > INT_MAX ? INT_MAX : (int)left;
		}
		n = poll(&pfd, 1, wait_ms);
		if (n > 0)
			return RPC_IO_OK;	/* errors show up in recv/send */
		if (n < 0 && errno != EINTR)
			return RPC_IO_SYS;
	}
}

static int rpc_frame_reserve(struct rpc_frame *f)
{
	size_t want;
	uint8_t *p;

	if (f->got < f->cap)
		return RPC_IO_OK;
	want = f->cap ? f->cap * 2 : RPC_FRAME_CHUNK;
	if (want > f->len)
		want = f->len;
	p = realloc(f->data, want);
	if (!p)
		return RPC_IO_NOMEM;
	f->data = p;
	f->cap = want;
	return RPC_IO_OK;
}

int rpc_read_frame(int fd, struct rpc_frame *f, uint32_t max_frame,
		   int64_t timeout_ms)
{
	int64_t deadline = rpc_deadline(timeout_ms);
	uint8_t *dst;
	size_t want;
	ssize_t n;
	int st;

	f->len = 0;
	f->got = 0;
	f->hdr_got = 0;
	for (;;) {
		if (f->hdr_got < TW_FRAME_HDR) {
			dst = f->hdr + f->hdr_got;
			want = TW_FRAME_HDR - f->hdr_got;
		} else if (f->got < f->len) {
			if ((st = rpc_frame_reserve(f)))
				return st;
			dst = f->data + f->got;
			want = (f->cap < f->len ? f->cap : f->len) - f->got;
		} else {
			return RPC_IO_OK;
		}

		n = recv(fd, dst, want, MSG_DONTWAIT);
		if (n == 0)
			return f->hdr_got == 0 ? RPC_IO_EOF : RPC_IO_TRUNC;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return RPC_IO_SYS;
			if ((st = rpc_io_wait(fd, POLLIN, deadline)))
				return st;
			continue;
		}

		if (f->hdr_got < TW_FRAME_HDR) {
			f->hdr_got += (size_t)n;
			if (f->hdr_got < TW_FRAME_HDR)
				continue;
			switch (tw_frame_check_len(f->hdr, max_frame, &f->len)) {
			case TW_EFRAMENEG:
				return RPC_IO_FRAMENEG;
			case TW_EFRAMEBIG:
				return RPC_IO_FRAMEBIG;
			}
		} else {
			f->got += (size_t)n;
		}
	}
}

void rpc_frame_free(struct rpc_frame *f)
{
	free(f->data);
	f->data = NULL;
	f->cap = 0;
	f->got = 0;
}

int rpc_write_all(int fd, const void *buf, size_t len, int64_t timeout_ms)
{
	int64_t deadline = rpc_deadline(timeout_ms);
	const uint8_t *p = buf;
	ssize_t n;
	int st;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return RPC_IO_SYS;
			if ((st = rpc_io_wait(fd, POLLOUT, deadline)))
				return st;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return RPC_IO_OK;
}

const char *rpc_io_strerror(int status)
{
	switch (status) {
	case RPC_IO_OK:		return "ok";
	case RPC_IO_EOF:	return "connection closed";
	case RPC_IO_TRUNC:	return "truncated frame";
	case RPC_IO_TIMEOUT:	return "i/o timeout";
	case RPC_IO_FRAMEBIG:	return "oversize frame";
	case RPC_IO_FRAMENEG:	return "negative frame length";
	case RPC_IO_SYS:	return "system error";
	case RPC_IO_NOMEM:	return "out of memory";
	}
	return "unknown status";
}
