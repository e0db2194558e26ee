/* Scenario test: sockaudit-rpc server against malformed and normal input.
 *
 * Usage: test-repro-server PATH-TO-SERVER (meson passes the ASan+UBSan
 * build when it can).  Each malformed input goes on its own connection,
 * which the server must close with exactly one error line in its log,
 * while it keeps serving everyone else and never crashes.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frame-io.h"
#include "harness.h"
#include "price.h"
#include "tap.h"
#include "thrift-vectors.h"

#define WAIT_MS		5000

static const char *server_path;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void start_server(struct tlib_host *p, uint16_t *port,
			 const char *read_timeout, const char *max_frame)
{
	char *argv[] = {
		(char *)server_path, "server", "--listen", "127.0.0.1:0",
		"--read-timeout", (char *)read_timeout,
		"--max-frame", (char *)max_frame, NULL,
	};

	th_spawn(p, argv);
	*port = th_server_port(p, WAIT_MS);
	diag("server pid %d on port %u (read timeout %s, max frame %s)",
	     (int)p->pid, *port, read_timeout, max_frame);
}

/* A Price call frame (length included) with the reference request. */
static size_t price_call(uint8_t *buf, size_t cap, int32_t seqid)
{
	struct rpc_price_req req = {
		.area = 1, .has_area = true, .has_trace = true,
		.trace = {
			.trace_id = { "s", 1 }, .caller = { "d", 1 },
			.span_id = { "f", 1 },
			.has_trace_id = true, .has_caller = true,
			.has_span_id = true,
		},
	};
	struct tw_writer w;

	tw_writer_init(&w, buf, cap);
	if (rpc_encode_price_call(&w, seqid, &req))
		bail("encode call");
	return w.len;
}

/* Read one reply and check it is Price's ErrNo=0 0.4 with @seqid. */
static bool read_ok_reply(int fd, int32_t seqid, const char **why)
{
	struct rpc_frame f = { 0 };
	struct rpc_reply rep;
	bool good = false;
	int st;

	st = rpc_read_frame(fd, &f, TW_DEFAULT_MAX_FRAME, WAIT_MS);
	if (st) {
		*why = rpc_io_strerror(st);
		goto out;
	}
	st = rpc_decode_reply(f.data, f.len, &rep);
	if (st) {
		*why = tw_strerror(st);
		goto out;
	}
	*why = "wrong reply";
	good = rep.kind == RPC_REPLY_OK && rep.hdr.type == TW_REPLY &&
	       rep.hdr.seqid == seqid && tw_str_eq(rep.hdr.name, "Price") &&
	       rep.res.has_err_no && rep.res.err_no == 0 &&
	       rep.res.has_passenger_discount &&
	       rep.res.passenger_discount == 0.4;
	if (good)
		*why = "ok";
out:
	rpc_frame_free(&f);
	return good;
}

static bool call_ok(uint16_t port, int32_t seqid, const char **why)
{
	uint8_t buf[256];
	size_t n = price_call(buf, sizeof(buf), seqid);
	int fd = th_connect(port);
	bool good;

	*why = "send failed";
	good = th_send_all(fd, buf, n) && read_ok_reply(fd, seqid, why);
	close(fd);
	return good;
}

/* The server logs "closed" after our close(): give it time to catch up. */
static bool wait_balanced(struct tlib_host *srv)
{
	int64_t deadline = th_now_ms() + WAIT_MS;

	while (th_count(srv->err, "accepted ") != th_count(srv->err, "closed ")) {
		if (th_now_ms() > deadline)
			return false;
		tlib_host_pump(srv, 50);
	}
	return true;
}

static void dump_log(struct tlib_host *srv)
{
	char *line, *save = NULL, *copy = strdup(srv->err);

	if (!copy)
		return;
	diag("server stderr:");
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		diag("  %s", line);
	free(copy);
}

static bool no_more_data(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 0;
}

struct bad_case {
	const char *name;
	const char *hex;
	bool shut_wr;		/* half-close after sending */
	const char *log;	/* expected error, after "error processing request: " */
};

static void run_bad_case(struct tlib_host *srv, uint16_t port,
			 const struct bad_case *c)
{
	uint8_t bytes[8192];
	char peer[64], want[256], closed[80];
	size_t n = th_unhex(c->hex, bytes, sizeof(bytes));
	enum th_closed how;
	int fd, lines;

	fd = th_connect(port);
	snprintf(peer, sizeof(peer), "127.0.0.1:%u: ", th_local_port(fd));
	snprintf(closed, sizeof(closed), "closed 127.0.0.1:%u ",
		 th_local_port(fd));
	if (!th_send_all(fd, bytes, n))
		diag("%s: send failed: %s", c->name, strerror(errno));
	if (c->shut_wr)
		shutdown(fd, SHUT_WR);
	how = th_wait_closed(fd, WAIT_MS);
	ok(how == TH_CLOSED_EOF || how == TH_CLOSED_RESET,
	   "%s: server closed the connection (%s)", c->name,
	   th_closed_str(how));
	close(fd);

	snprintf(want, sizeof(want), "%serror processing request: %s", peer,
		 c->log);
	ok(tlib_host_wait(srv, true, want, WAIT_MS) &&
	   tlib_host_wait(srv, true, closed, WAIT_MS),
	   "%s: logged '%s'", c->name, want);
	lines = th_count(srv->err, peer);
	ok(lines == 1, "%s: exactly one error line for the peer (%d)",
	   c->name, lines);
}

/* A Price call, seqid @seqid, whose args hold @levels nested structs. */
static char *nested_call_hex(int levels, int32_t seqid)
{
	size_t cap = 64 + 16 * (size_t)levels + 128, len;
	char *s = malloc(cap), *p;
	int i;

	if (!s)
		bail("out of memory");
	/* Frame length: 4 + 4+5 + 4 + 3 (field 99) + 3*(levels-2) + levels-1
	 * (T_STOPs of the nested value) + 1 (args T_STOP). */
	len = 4 + 9 + 4 + 3 + 3 * (size_t)(levels - 2) + (size_t)(levels - 1) + 1;
	p = s + sprintf(s, "%08zx 80010001 00000005 5072696365 %08x 0c0063 ",
			len, (uint32_t)seqid);
	for (i = 2; i < levels; i++)
		p += sprintf(p, "0c0001");
	for (i = 1; i < levels; i++)
		p += sprintf(p, "00");
	sprintf(p, " 00");
	return s;
}

/* The malformed inputs are built from docs/repro-protocol.md ("Frames",
 * "Messages", "Limits on skipping"); the header of a Price CALL is
 * 80010001 (strict version 1 | CALL), 00000005 "Price", seqid 00000001:
 * 17 bytes after the length.
 * - 00fa0001 = 16,384,001: one more than the 16,384,000-byte maximum.
 * - 80000000, ffffffff: a length with its top bit set ("negative").
 * - 80020001: the top 16 bits are not 0x8001 (bad version); 0000000f
 *   00000005...: the old non-strict header, starting with the name length,
 *   read as the version word 0x00000005.
 * - 0000001a (26): the header, a struct field 0c 0001, an i32 field
 *   08 0001 and only 3 of its 4 bytes: the frame ends inside a value.
 * - 00000039 (57, the CALL of the "Price" example) with only 20 bytes
 *   sent (the header and 0c 0001) and then a close; "0000": 2 of the 4
 *   length bytes and a close.
 * - nested_call_hex(65, 1): 65 levels, one more than the nesting limit.
 * - 0x55 is no type code of the table.
 * - "GET / HTTP/1.1...": its first four bytes 47455420 read as a length
 *   are 1,195,725,856, over the maximum.
 * - ffffffff as the name length: a negative string length.
 * - 80010002: a REPLY (type 2) sent to the server.
 * - 00000013 (19): a whole 18-byte message (header and STOP) and one more
 *   byte: the message does not fill its frame exactly.
 * The text after each category (the categories are the documented list of
 * "Server behaviour") is the server's wording in repro/server.c (rpc_log)
 * and repro/wire.c (tw_strerror), pinned as the program prints it; the
 * numbers in it are the ones derived above. */
static void test_malformed(struct tlib_host *srv, uint16_t port)
{
	char *nested65 = nested_call_hex(65, 1);
	const struct bad_case cases[] = {
		{ "oversize frame", "00fa0001", false,
		  "oversize frame: length 16384001 exceeds maximum 16384000" },
		{ "negative length", "80000000", false,
		  "negative frame length 0x80000000" },
		{ "length 0xffffffff", "ffffffff", false,
		  "negative frame length 0xffffffff" },
		{ "bad version",
		  "00000012 80020001 00000005 5072696365 00000001 00", false,
		  "bad version 0x80020001" },
		{ "non-strict header",
		  "0000000f 00000005 5072696365 01 00000001 00", false,
		  "bad version 0x00000005" },
		{ "truncated struct",
		  "0000001a 80010001 00000005 5072696365 00000001"
		  "0c 0001 08 0001 000000", false, "truncated message" },
		{ "truncated frame then close",
		  "00000039 80010001 00000005 5072696365 00000001 0c 0001",
		  true, "truncated frame: got 20 of 57 bytes" },
		{ "truncated length then close", "0000", true,
		  "truncated frame: got 2 of 4 length bytes" },
		{ "65 nested structs", nested65, false,
		  "nesting too deep (limit 64)" },
		{ "garbage type code",
		  "00000015 80010001 00000005 5072696365 00000001 55 0001 00",
		  false, "garbage: invalid type code" },
		{ "garbage bytes (HTTP request)",
		  "474554202f20485454502f312e310d0a486f73743a20780d0a0d0a",
		  false, "oversize frame: length 1195725856" },
		{ "negative string length",
		  "00000010 80010001 ffffffff 00000001 00 000000", false,
		  "garbage: negative size" },
		{ "REPLY sent to the server",
		  "00000012 80010002 00000005 5072696365 00000001 00", false,
		  "unexpected message type 2 (want CALL or ONEWAY)" },
		{ "trailing bytes in the frame",
		  "00000013 80010001 00000005 5072696365 00000001 00 ff", false,
		  "garbage: trailing bytes after message" },
	};
	uint8_t part[8];
	char peer[64];
	size_t i;
	const char *why;
	int idle;
	bool good;

	/* Held half-sent across all cases: other connections go on. */
	idle = th_connect(port);
	snprintf(peer, sizeof(peer), "127.0.0.1:%u: ", th_local_port(idle));
	th_unhex("00000039 8001", part, sizeof(part));
	th_send_all(idle, part, 6);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_bad_case(srv, port, &cases[i]);
	free(nested65);

	good = call_ok(port, 1, &why);
	ok(good, "a normal call after the malformed ones (%s)",
	   why);
	ok(th_count(srv->err, peer) == 0,
	   "the half-sent connection is still being waited for");
	close(idle);
	ok(tlib_host_wait(srv, true, "truncated frame: got 2 of 57 bytes",
			  WAIT_MS),
	   "the half-sent connection is reported once it closes");
}

static void test_normal(struct tlib_host *srv, uint16_t port)
{
	uint8_t buf[4096], want[256], got[256];
	char *nested64 = nested_call_hex(64, 41);
	struct rpc_frame f = { 0 };
	const char *why = "";
	size_t n, wn, i;
	int fd, st, fds[20], one = 1;
	bool all, good;

	/* Byte-exact reply, as python3-thrift would write it. */
	fd = th_connect(port);
	n = price_call(buf, sizeof(buf), 1);
	wn = th_unhex(reply_hex, want, sizeof(want));
	th_send_all(fd, buf, n);
	st = rpc_read_frame(fd, &f, TW_DEFAULT_MAX_FRAME, WAIT_MS);
	if (!st) {
		tw_frame_put_len(got, f.len);
		memcpy(got + 4, f.data, f.len < 252 ? f.len : 252);
	}
	ok(st == RPC_IO_OK && f.len + 4 == wn && !memcmp(got, want, wn),
	   "reply frame is byte-exact (%s, %u bytes)", rpc_io_strerror(st),
	   f.len);

	/* Unknown method: exception with the same name and seqid. */
	n = th_unhex("00000011 80010001 00000004 4e6f7065 00000007 00",
		     buf, sizeof(buf));
	wn = th_unhex(exc_hex, want, sizeof(want));
	th_send_all(fd, buf, n);
	st = rpc_read_frame(fd, &f, TW_DEFAULT_MAX_FRAME, WAIT_MS);
	if (!st) {
		tw_frame_put_len(got, f.len);
		memcpy(got + 4, f.data, f.len < 252 ? f.len : 252);
	}
	ok(st == RPC_IO_OK && f.len + 4 == wn && !memcmp(got, want, wn),
	   "unknown method 'Nope' gets the UNKNOWN_METHOD exception (%s)",
	   rpc_io_strerror(st));
	n = price_call(buf, sizeof(buf), 8);
	th_send_all(fd, buf, n);
	good = read_ok_reply(fd, 8, &why);
	ok(good,
	   "the connection still serves Price after the exception (%s)", why);

	/* seqid is echoed exactly, including negative ones. */
	n = price_call(buf, sizeof(buf), -123456789);
	th_send_all(fd, buf, n);
	good = read_ok_reply(fd, -123456789, &why);
	ok(good, "seqid -123456789 echoed (%s)",
	   why);

	/* Three calls in one segment: three replies in order. */
	n = price_call(buf, sizeof(buf), 21);
	n += price_call(buf + n, sizeof(buf) - n, 22);
	n += price_call(buf + n, sizeof(buf) - n, 23);
	th_send_all(fd, buf, n);
	all = read_ok_reply(fd, 21, &why) && read_ok_reply(fd, 22, &why) &&
	      read_ok_reply(fd, 23, &why);
	ok(all, "three pipelined calls get three replies in order (%s)", why);

	/* ONEWAY gets no reply; the next call is answered. */
	n = price_call(buf, sizeof(buf), 30);
	buf[7] = TW_ONEWAY;
	n += price_call(buf + n, sizeof(buf) - n, 31);
	th_send_all(fd, buf, n);
	good = read_ok_reply(fd, 31, &why) && no_more_data(fd, 100);
	ok(good,
	   "ONEWAY is served without a reply (%s)", why);

	/* One byte per segment: no Nagle coalescing on our side. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	n = price_call(buf, sizeof(buf), 40);
	for (i = 0; i < n; i++) {
		th_send_all(fd, buf + i, 1);
		sleep_ms(2);
	}
	good = read_ok_reply(fd, 40, &why);
	ok(good, "call sent one byte at a time (%s)",
	   why);

	/* 64 nesting levels are within the limit. */
	n = th_unhex(nested64, buf, sizeof(buf));
	th_send_all(fd, buf, n);
	good = read_ok_reply(fd, 41, &why);
	ok(good,
	   "a call nested 64 levels deep is answered (%s)", why);
	close(fd);
	free(nested64);
	rpc_frame_free(&f);

	/* Many connections at once, each with its own thread. */
	for (i = 0; i < 20; i++) {
		fds[i] = th_connect(port);
		n = price_call(buf, sizeof(buf), (int32_t)(100 + i));
		th_send_all(fds[i], buf, n);
	}
	all = true;
	for (i = 0; i < 20; i++) {
		all = all && read_ok_reply(fds[i], (int32_t)(100 + i), &why);
		close(fds[i]);
	}
	ok(all, "20 concurrent connections all answered (%s)", why);
}

static void test_read_timeout(void)
{
	struct tlib_host srv;
	uint8_t buf[256];
	char want[160];
	const char *why = "";
	enum th_closed how;
	uint16_t port, lport;
	int64_t t0, el;
	size_t n;
	int fd, i;
	bool all = true;

	start_server(&srv, &port, "300ms", "100");

	fd = th_connect(port);
	lport = th_local_port(fd);
	t0 = th_now_ms();
	how = th_wait_closed(fd, WAIT_MS);
	el = th_now_ms() - t0;
	ok(how == TH_CLOSED_EOF && el >= 250 && el < 3000,
	   "idle connection closed by the read timeout after %lld ms (%s)",
	   (long long)el, th_closed_str(how));
	close(fd);
	snprintf(want, sizeof(want),
		 "127.0.0.1:%u: error processing request: read tcp 127.0.0.1:%u->127.0.0.1:%u: i/o timeout",
		 lport, port, lport);
	ok(tlib_host_wait(&srv, true, want, WAIT_MS), "logged '%s'", want);

	/* Calls 100 ms apart: each frame gets a fresh 300 ms. */
	fd = th_connect(port);
	for (i = 0; i < 4; i++) {
		n = price_call(buf, sizeof(buf), i + 1);
		all = all && th_send_all(fd, buf, n) &&
		      read_ok_reply(fd, i + 1, &why);
		sleep_ms(100);
	}
	close(fd);
	ok(all, "a connection busy every 100 ms survives a 300 ms timeout (%s)",
	   why);

	/* --max-frame 100: the 57-byte calls above passed, 101 bytes do not. */
	fd = th_connect(port);
	lport = th_local_port(fd);
	n = th_unhex("00000065", buf, sizeof(buf));
	th_send_all(fd, buf, n);
	how = th_wait_closed(fd, WAIT_MS);
	close(fd);
	snprintf(want, sizeof(want),
		 "127.0.0.1:%u: error processing request: oversize frame: length 101 exceeds maximum 100",
		 lport);
	ok(how == TH_CLOSED_EOF && tlib_host_wait(&srv, true, want, WAIT_MS),
	   "--max-frame 100 rejects a 101-byte frame (%s)", th_closed_str(how));

	ok(tlib_host_alive(&srv) &&
	   !strstr(srv.err, "Sanitizer") && !strstr(srv.err, "runtime error"),
	   "timeout server still running, no sanitizer report");
	if (tap_failed)
		dump_log(&srv);
	th_stop(&srv, SIGTERM);
}

int main(int argc, char **argv)
{
	struct tlib_host srv;
	uint16_t port;
	const char *why = "";
	bool good;

	if (argc != 2)
		bail("usage: %s PATH-TO-SOCKAUDIT-RPC", argv[0]);
	server_path = argv[1];

	start_server(&srv, &port, "0", "16384000");
	test_malformed(&srv, port);
	test_normal(&srv, port);
	good = call_ok(port, 99, &why);
	ok(good, "server still answers at the end (%s)",
	   why);

	ok(tlib_host_alive(&srv), "server never exited");
	tlib_host_pump(&srv, 100);
	ok(!strstr(srv.err, "AddressSanitizer") &&
	   !strstr(srv.err, "runtime error") &&
	   !strstr(srv.err, "LeakSanitizer"),
	   "no sanitizer report in the server log");
	ok(wait_balanced(&srv),
	   "every accepted connection was closed (%d accepted, %d closed)",
	   th_count(srv.err, "accepted "), th_count(srv.err, "closed "));
	if (tap_failed)
		dump_log(&srv);
	th_stop(&srv, SIGTERM);

	test_read_timeout();
	return tap_done();
}
