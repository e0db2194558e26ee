/* Unit tests of repro/frame-io.c over real loopback TCP connections. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frame-io.h"
#include "tap.h"

/* A connected loopback TCP pair: fds[0] reads, fds[1] writes. */
static void tcp_pair(int fds[2])
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t sl = sizeof(sin);
	int lfd;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(lfd, 1) || getsockname(lfd, (struct sockaddr *)&sin, &sl))
		bail("loopback listener: %s", strerror(errno));
	fds[1] = socket(AF_INET, SOCK_STREAM, 0);
	if (fds[1] < 0 || connect(fds[1], (struct sockaddr *)&sin, sizeof(sin)))
		bail("connect: %s", strerror(errno));
	fds[0] = accept(lfd, NULL, NULL);
	if (fds[0] < 0)
		bail("accept: %s", strerror(errno));
	close(lfd);
}

static void close_pair(int fds[2])
{
	close(fds[0]);
	close(fds[1]);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void send_all(int fd, const void *p, size_t n)
{
	if (rpc_write_all(fd, p, n, 5000))
		bail("send: %s", strerror(errno));
}

/* Writer thread: sends a buffer in pieces of varying size with pauses. */
struct dribble {
	int fd;
	const uint8_t *data;
	size_t len;
	size_t max_piece;
	int delay_first_ms;
};

static void *dribble_thread(void *arg)
{
	struct dribble *d = arg;
	size_t off = 0, piece, k = 0;

	if (d->delay_first_ms)
		sleep_ms(d->delay_first_ms);
	while (off < d->len) {
		piece = 1 + (k * 7919) % d->max_piece;
		if (piece > d->len - off)
			piece = d->len - off;
		send_all(d->fd, d->data + off, piece);
		off += piece;
		k++;
		if (k % 4 == 0)
			sleep_ms(1);
	}
	return NULL;
}

static uint8_t *make_frame(uint32_t payload_len)
{
	uint8_t *f = malloc(TW_FRAME_HDR + (size_t)payload_len);
	uint32_t i;

	if (!f)
		bail("out of memory");
	tw_frame_put_len(f, payload_len);
	for (i = 0; i < payload_len; i++)
		f[TW_FRAME_HDR + i] = (uint8_t)(i * 31 + 7);
	return f;
}

static void test_segmented(size_t payload_len, size_t max_piece, int delay_ms,
			   int64_t timeout_ms, const char *what)
{
	struct rpc_frame f = { 0 };
	struct dribble d;
	pthread_t tid;
	uint8_t *frame = make_frame((uint32_t)payload_len);
	int fds[2], st;

	tcp_pair(fds);
	d = (struct dribble){ fds[1], frame, TW_FRAME_HDR + payload_len,
			      max_piece, delay_ms };
	if (pthread_create(&tid, NULL, dribble_thread, &d))
		bail("pthread_create");
	st = rpc_read_frame(fds[0], &f, TW_DEFAULT_MAX_FRAME, timeout_ms);
	pthread_join(tid, NULL);
	ok(st == RPC_IO_OK && f.len == payload_len && f.got == payload_len &&
	   (payload_len == 0 ||
	    !memcmp(f.data, frame + TW_FRAME_HDR, payload_len)),
	   "%s: %zu-byte frame read intact (%s)", what, payload_len,
	   rpc_io_strerror(st));
	rpc_frame_free(&f);
	free(frame);
	close_pair(fds);
}

static void test_back_to_back(void)
{
	struct rpc_frame f = { 0 };
	uint8_t two[] = { 0, 0, 0, 2, 'a', 'b', 0, 0, 0, 1, 'c' };
	int fds[2], st1, st2, st3;
	size_t len1, len2;
	bool same1, same2;

	tcp_pair(fds);
	send_all(fds[1], two, sizeof(two));
	shutdown(fds[1], SHUT_WR);
	st1 = rpc_read_frame(fds[0], &f, TW_DEFAULT_MAX_FRAME, 2000);
	len1 = f.len;
	same1 = len1 == 2 && !memcmp(f.data, "ab", 2);
	st2 = rpc_read_frame(fds[0], &f, TW_DEFAULT_MAX_FRAME, 2000);
	len2 = f.len;
	same2 = len2 == 1 && f.data[0] == 'c';
	st3 = rpc_read_frame(fds[0], &f, TW_DEFAULT_MAX_FRAME, 2000);
	ok(st1 == RPC_IO_OK && same1 && st2 == RPC_IO_OK && same2 &&
	   st3 == RPC_IO_EOF,
	   "two frames in one segment, then clean EOF (%d %d %d)", st1, st2,
	   st3);
	rpc_frame_free(&f);
	close_pair(fds);
}

static void test_timeouts(void)
{
	struct rpc_frame f = { 0 };
	uint8_t part[] = { 0, 0, 0, 10, 1, 2, 3 };
	int64_t t0, el;
	int fds[2], st;

	tcp_pair(fds);
	t0 = rpc_now_ms();
	st = rpc_read_frame(fds[0], &f, TW_DEFAULT_MAX_FRAME, 150);
	el = rpc_now_ms() - t0;
	ok(st == RPC_IO_TIMEOUT && el >= 145 && el < 2000,
	   "idle connection times out after %lld ms (want ~150)",
	   (long long)el);

	send_all(fds[1], part, sizeof(part));
	t0 = rpc_now_ms();
	st = rpc_read_frame(fds[0], &f, TW_DEFAULT_MAX_FRAME, 100);
	el = rpc_now_ms() - t0;
	ok(st == RPC_IO_TIMEOUT && f.len == 10 && f.got == 3 && el >= 95,
	   "partial frame times out (%s, got %zu of %u) after %lld ms",
	   rpc_io_strerror(st), f.got, f.len, (long long)el);
	close_pair(fds);
	rpc_frame_free(&f);
}

static void test_eof_and_lengths(void)
{
	static const struct {
		const char *name;
		const char *bytes;
		size_t n;
		uint32_t max;
		int want;
	} cases[] = {
		{ "EOF before any byte", "", 0, TW_DEFAULT_MAX_FRAME,
		  RPC_IO_EOF },
		{ "EOF inside the length", "\0\0", 2, TW_DEFAULT_MAX_FRAME,
		  RPC_IO_TRUNC },
		{ "EOF inside the payload", "\0\0\0\x09" "abc", 7,
		  TW_DEFAULT_MAX_FRAME, RPC_IO_TRUNC },
		{ "zero-length frame", "\0\0\0\0", 4, TW_DEFAULT_MAX_FRAME,
		  RPC_IO_OK },
		{ "16384001-byte frame", "\x00\xfa\x00\x01", 4,
		  TW_DEFAULT_MAX_FRAME, RPC_IO_FRAMEBIG },
		{ "negative length", "\x80\0\0\0", 4, TW_DEFAULT_MAX_FRAME,
		  RPC_IO_FRAMENEG },
		{ "length 0xffffffff", "\xff\xff\xff\xff", 4,
		  TW_DEFAULT_MAX_FRAME, RPC_IO_FRAMENEG },
		{ "frame above a custom max", "\0\0\0\x09" "123456789", 13, 8,
		  RPC_IO_FRAMEBIG },
		{ "frame at a custom max", "\0\0\0\x08" "12345678", 12, 8,
		  RPC_IO_OK },
	};
	struct rpc_frame f = { 0 };
	int fds[2], st;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tcp_pair(fds);
		if (cases[i].n)
			send_all(fds[1], cases[i].bytes, cases[i].n);
		shutdown(fds[1], SHUT_WR);
		st = rpc_read_frame(fds[0], &f, cases[i].max, 2000);
		ok(st == cases[i].want, "%s: %s", cases[i].name,
		   rpc_io_strerror(st));
		close_pair(fds);
	}
	rpc_frame_free(&f);
}

static void test_writes(void)
{
	size_t big = 32 * 1024 * 1024;
	uint8_t *buf = calloc(1, big);
	int64_t t0, el;
	int fds[2], st;

	if (!buf)
		bail("out of memory");
	tcp_pair(fds);
	t0 = rpc_now_ms();
	st = rpc_write_all(fds[1], buf, big, 100);
	el = rpc_now_ms() - t0;
	ok(st == RPC_IO_TIMEOUT && el >= 95 && el < 5000,
	   "write to a peer that does not read times out after %lld ms",
	   (long long)el);
	close_pair(fds);

	/* SIGPIPE is not ignored here: a raised one would kill the test. */
	tcp_pair(fds);
	close(fds[0]);
	{
		/* Wait for the peer's FIN (the socket turns readable at EOF):
		 * the first write then draws the RST. */
		struct pollfd pfd = { .fd = fds[1], .events = POLLIN | POLLRDHUP };

		ok(poll(&pfd, 1, 5000) == 1, "the closed peer's FIN arrives within 5 s");
	}
	st = rpc_write_all(fds[1], buf, 4096, 1000);
	if (st == RPC_IO_OK)
		st = rpc_write_all(fds[1], buf, 4096, 1000);
	ok(st == RPC_IO_SYS && (errno == EPIPE || errno == ECONNRESET),
	   "write to a closed peer fails without SIGPIPE (%s)",
	   st == RPC_IO_SYS ? strerror(errno) : rpc_io_strerror(st));
	close(fds[1]);
	free(buf);
}

int main(void)
{
	test_segmented(57, 1, 0, 5000, "one byte per segment");
	test_segmented(0, 1, 0, 5000, "empty payload, one byte per segment");
	test_segmented(300 * 1024, 7000, 0, 10000, "uneven segments");
	test_segmented(57, 3, 150, 0, "no timeout, late writer");
	test_segmented(57, 3, 100, 2000, "timeout longer than the wait");
	test_back_to_back();
	test_timeouts();
	test_eof_and_lengths();
	test_writes();
	return tap_done();
}
