/* Scenario test: the sockaudit-rpc client and command line.
 *
 * Usage: test-repro-client PATH-TO-SOCKAUDIT-RPC.  The client runs against
 * the real server and against scripted peers played by this test, which
 * check the exact request bytes and answer what each case needs.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frame-io.h"
#include "harness.h"
#include "price.h"
#include "tap.h"

#define WAIT_MS		5000
#define OK_LINES	"ErrNo=0 PassengerDiscount=0.4\ntransport: open\n"

/* python3-thrift's CALL frame for Area=7, Trace T1/C1/S1, seqid 1. */
static const char call_t1_hex[] =
	"0000003c 80010001 00000005 5072696365 00000001"
	"0c 0001 08 0001 00000007 0c 0002"
	"0b 0001 00000002 5431 0b 0002 00000002 4331 0b 0003 00000002 5331"
	"00 00 00";

static const char *rpc_path;

/* argv from a NULL-terminated list; the program path comes first. */
#define ARGV(...)	((char *[]){ (char *)rpc_path, __VA_ARGS__, NULL })

static void spawn_rpc(struct tlib_host *p, char **argv)
{
	th_spawn(p, argv);
}

/* Run to completion; returns the exit code, -1 on timeout or signal. */
static int run_rpc(struct tlib_host *p, char **argv, int timeout_ms)
{
	spawn_rpc(p, argv);
	if (!tlib_host_wait_exit(p, timeout_ms)) {
		diag("%s %s: still running after %d ms", argv[1], argv[2],
		     timeout_ms);
		tlib_host_kill(p);
		return -1;
	}
	return WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1;
}

static bool out_is(struct tlib_host *p, const char *want)
{
	if (strcmp(p->out, want)) {
		diag("stdout: [%s]", p->out);
		diag("want:   [%s]", want);
		diag("stderr: [%s]", p->err);
		return false;
	}
	return true;
}

static char *repeat(const char *s, int n)
{
	size_t len = strlen(s);
	char *r = malloc(len * (size_t)n + 1);
	int i;

	if (!r)
		bail("out of memory");
	for (i = 0; i < n; i++)
		memcpy(r + len * (size_t)i, s, len);
	r[len * (size_t)n] = '\0';
	return r;
}

static void start_server(struct tlib_host *p, uint16_t *port, const char *cost)
{
	th_spawn(p, ARGV("server", "--listen", "127.0.0.1:0", "--cost",
			 (char *)cost));
	*port = th_server_port(p, WAIT_MS);
}

/* Wait until the server log holds exactly @want "accepted"/"closed" lines. */
static bool wait_count(struct tlib_host *srv, const char *what, int want)
{
	int64_t deadline = th_now_ms() + WAIT_MS;

	while (th_count(srv->err, what) < want && th_now_ms() < deadline)
		tlib_host_pump(srv, 50);
	tlib_host_pump(srv, 50);	/* and no more than that */
	if (th_count(srv->err, what) != want)
		diag("'%s' lines: %d, want %d", what, th_count(srv->err, what),
		     want);
	return th_count(srv->err, what) == want;
}

static void test_against_server(struct tlib_host *srv, uint16_t port,
				struct tlib_host *slow, uint16_t slow_port)
{
	char ep[32], slow_ep[32], *three = repeat(OK_LINES, 3);
	struct tlib_host c;
	int64_t t0, el;
	int rc, acc;

	snprintf(ep, sizeof(ep), "127.0.0.1:%u", port);
	snprintf(slow_ep, sizeof(slow_ep), "127.0.0.1:%u", slow_port);

	acc = th_count(srv->err, "accepted ");
	rc = run_rpc(&c, ARGV("client", "--connect", ep, "--calls", "3",
			      "--timeout", "5s"), 10000);
	ok(rc == 0 && out_is(&c, three), "3 calls on one connection (exit %d)",
	   rc);
	ok(wait_count(srv, "accepted ", acc + 1) &&
	   tlib_host_wait(srv, true, " 3 requests)", WAIT_MS),
	   "the server saw one connection with 3 requests");
	tlib_host_free(&c);
	free(three);

	acc = th_count(srv->err, "accepted ");
	rc = run_rpc(&c, ARGV("client", "--connect", ep, "--calls", "2",
			      "--conn-per-call"), 10000);
	ok(rc == 0 && out_is(&c, OK_LINES OK_LINES),
	   "2 calls with --conn-per-call (exit %d)", rc);
	ok(wait_count(srv, "accepted ", acc + 2),
	   "the server saw two connections");
	tlib_host_free(&c);

	/* The timeout fires long before the handler answers: against a 60 s
	 * handler, so that the bound on the client's whole run (process start
	 * included, slow under ASan on a busy machine) can be generous and
	 * still tell a working timeout from waiting the handler out. */
	{
		struct tlib_host stuck;
		uint16_t stuck_port;
		char stuck_ep[32];

		start_server(&stuck, &stuck_port, "60s");
		snprintf(stuck_ep, sizeof(stuck_ep), "127.0.0.1:%u", stuck_port);
		t0 = th_now_ms();
		rc = run_rpc(&c, ARGV("client", "--connect", stuck_ep, "--timeout",
				      "100ms"), 30000);
		el = th_now_ms() - t0;
		ok(rc == 1 && out_is(&c, "error: timeout\ntransport: open\n") &&
		   el < 20000, "--timeout 100ms against a 60 s handler: gives up "
		   "within 20 s (exit %d, %lld ms)", rc, (long long)el);
		tlib_host_free(&c);
		ok(wait_count(&stuck, "accepted ", 1), "the 60 s server saw that call");
		th_stop(&stuck, SIGTERM);
	}

	/* The slow server takes 1 s per call. */
	t0 = th_now_ms();
	rc = run_rpc(&c, ARGV("client", "--connect", slow_ep, "--timeout",
			      "100ms"), 10000);
	el = th_now_ms() - t0;
	ok(rc == 1 && out_is(&c, "error: timeout\ntransport: open\n"),
	   "--timeout 100ms against a 1 s handler (exit %d, %lld ms)",
	   rc, (long long)el);
	tlib_host_free(&c);
	ok(wait_count(slow, "accepted ", 1), "the slow server saw that call");

	acc = th_count(slow->err, "accepted ");
	rc = run_rpc(&c, ARGV("client", "--connect", slow_ep, "--timeout",
			      "100ms", "--calls", "2"), 10000);
	ok(rc == 1 && out_is(&c, "error: timeout\ntransport: open\n"
				 "error: timeout\ntransport: open\n"),
	   "two timed-out calls (exit %d)", rc);
	ok(wait_count(slow, "accepted ", acc + 2),
	   "a timed-out connection is not reused for the next call");
	tlib_host_free(&c);

	rc = run_rpc(&c, ARGV("client", "--connect", slow_ep, "--timeout",
			      "5s"), 10000);
	ok(rc == 0 && out_is(&c, OK_LINES),
	   "--timeout 5s against a 1 s handler succeeds (exit %d)", rc);
	tlib_host_free(&c);
}

/* --no-close and --hold: the sockets a leak audit should find. */
static void test_hold(struct tlib_host *srv, uint16_t port)
{
	char ep[32];
	struct tlib_host c;
	int acc, clo, socks, rc;
	int64_t t0, el;

	snprintf(ep, sizeof(ep), "127.0.0.1:%u", port);

	acc = th_count(srv->err, "accepted ");
	clo = th_count(srv->err, "closed ");
	spawn_rpc(&c, ARGV("client", "--connect", ep, "--calls", "2",
			   "--conn-per-call", "--no-close"));
	ok(tlib_host_wait(&c, false, OK_LINES OK_LINES, WAIT_MS),
	   "--no-close: both calls reported while the client holds");
	ok(wait_count(srv, "accepted ", acc + 2), "--no-close: two connections");
	socks = th_socket_count(c.pid);
	ok(socks == 2, "--no-close: client holds %d sockets (want 2)", socks);
	{
		/* Nothing closed: the kernel says both connections are
		 * ESTABLISHED (a close or shutdown on loopback sends the FIN
		 * at once), and for a 300 ms window the server logs no close:
		 * watched, not slept, so a close ends the wait and fails. */
		int est = th_tcp_established(c.pid);
		int64_t until = th_now_ms() + 300;

		while (th_count(srv->err, "closed ") == clo && th_now_ms() < until)
			tlib_host_pump(srv, (int)(until - th_now_ms()));
		ok(est == 2 && th_count(srv->err, "closed ") == clo && tlib_host_alive(&c),
		   "--no-close: nothing closed (%d of its sockets ESTABLISHED), client "
		   "still waiting", est);
	}
	kill(c.pid, SIGTERM);
	ok(tlib_host_wait_exit(&c, WAIT_MS) && WIFEXITED(c.status) &&
	   WEXITSTATUS(c.status) == 0,
	   "--no-close: SIGTERM ends the client with status 0");
	ok(wait_count(srv, "closed ", clo + 2),
	   "the kernel closes the held sockets at exit");
	tlib_host_free(&c);

	acc = th_count(srv->err, "accepted ");
	t0 = th_now_ms();
	rc = run_rpc(&c, ARGV("client", "--connect", ep, "--calls", "2",
			      "--no-close", "--hold", "300ms"), 10000);
	el = th_now_ms() - t0;
	ok(rc == 0 && out_is(&c, OK_LINES OK_LINES) && el >= 290,
	   "--no-close --hold 300ms exits by itself after %lld ms",
	   (long long)el);
	ok(wait_count(srv, "accepted ", acc + 1),
	   "one connection for both calls");
	tlib_host_free(&c);

	clo = th_count(srv->err, "closed ");
	spawn_rpc(&c, ARGV("client", "--connect", ep, "--calls", "2",
			   "--conn-per-call", "--hold", "20s"));
	ok(tlib_host_wait(&c, false, OK_LINES OK_LINES, WAIT_MS) &&
	   wait_count(srv, "closed ", clo + 2),
	   "without --no-close each connection is closed after its call");
	socks = th_socket_count(c.pid);
	ok(socks == 0 && tlib_host_alive(&c),
	   "--hold without --no-close: %d sockets left while holding", socks);
	th_stop(&c, SIGTERM);

	clo = th_count(srv->err, "closed ");
	spawn_rpc(&c, ARGV("client", "--connect", ep, "--hold", "20s"));
	ok(tlib_host_wait(&c, false, OK_LINES, WAIT_MS) &&
	   th_socket_count(c.pid) == 1,
	   "--hold keeps the one open connection during the hold");
	kill(c.pid, SIGINT);
	ok(tlib_host_wait_exit(&c, WAIT_MS) && WIFEXITED(c.status) &&
	   WEXITSTATUS(c.status) == 0 && wait_count(srv, "closed ", clo + 1),
	   "SIGINT ends the hold and the client closes its connection");
	tlib_host_free(&c);
}

/* Play the server: accept the client's connection and read its request. */
static int fake_accept(int lfd, struct rpc_frame *f, bool *exact)
{
	uint8_t want[128];
	size_t wn = th_unhex(call_t1_hex, want, sizeof(want));
	int fd, st;

	fd = th_accept(lfd, WAIT_MS);
	if (fd < 0)
		bail("client did not connect");
	st = rpc_read_frame(fd, f, TW_DEFAULT_MAX_FRAME, WAIT_MS);
	*exact = st == RPC_IO_OK && f->len + 4 == wn &&
		 !memcmp(f->data, want + 4, f->len);
	return fd;
}

/* The scripted replies are built from docs/repro-protocol.md: a frame
 * length, the strict header (80010002 REPLY or 80010003 EXCEPTION, name
 * 00000005 "Price", seqid 1 as in the call), then the body:
 * - Price_result { 0: success PriceRes { 1: ErrNo i32 = 3, 2: double
 *   PassengerDiscount = 0.25, IEEE-754 3fd0000000000000 } }: 40 bytes.
 * - TApplicationException { 1: message "Unknown function Price" (22 =
 *   0x16 bytes) } without its optional field 2 ("Unknown methods": the
 *   client does not require it): 47 bytes.
 * - the same with message "bad\nline" (8 bytes) and 2: type i32 6
 *   (INTERNAL_ERROR): 40 bytes; the client prints a control byte as \xNN.
 * - the REPLY of the protocol's example (ErrNo 0, 0.4 = 3fd999999999999a)
 *   with seqid 9 for the call's 1 ("Client exchange": the client checks it).
 * - a REPLY whose struct is only STOP: no field 0, Thrift's MISSING_RESULT,
 *   "Price failed: unknown result" ("Unknown methods").
 * - version word 80020002: its top 16 bits are not 0x8001.
 * Each frame's length word is checked against its bytes below. The outcome
 * lines are the client's wording in repro/client.c, pinned as it prints
 * them: the result line, then "transport: open|closed" as documented. */
static void test_scripted(void)
{
	static const struct {
		const char *name;
		const char *reply_hex;	/* NULL: close instead of replying */
		int rc;
		const char *out;
	} cases[] = {
		{ "reply ErrNo=3 0.25",
		  "00000028 80010002 00000005 5072696365 00000001 0c 0000"
		  "08 0001 00000003 04 0002 3fd0000000000000 00 00",
		  0, "ErrNo=3 PassengerDiscount=0.25\ntransport: open\n" },
		{ "exception without type field",
		  "0000002f 80010003 00000005 5072696365 00000001"
		  "0b 0001 00000016 556e6b6e6f776e2066756e6374696f6e205072696365"
		  "00",
		  1, "error: exception: Unknown function Price\ntransport: open\n" },
		{ "exception with control bytes",
		  "00000028 80010003 00000005 5072696365 00000001"
		  "0b 0001 00000008 6261640a6c696e65 08 0002 00000006 00",
		  1, "error: exception: bad\\x0aline\ntransport: open\n" },
		{ "reply with a wrong seqid",
		  "00000028 80010002 00000005 5072696365 00000009 0c 0000"
		  "08 0001 00000000 04 0002 3fd999999999999a 00 00",
		  1, "error: protocol: out of order sequence response (got 9, want 1)\n"
		     "transport: open\n" },
		{ "reply without success",
		  "00000012 80010002 00000005 5072696365 00000001 00",
		  1, "error: exception: Price failed: unknown result\n"
		     "transport: open\n" },
		{ "bad version in reply",
		  "00000012 80020002 00000005 5072696365 00000001 00",
		  1, "error: protocol: bad version in message header\n"
		     "transport: open\n" },
		{ "server closes", NULL,
		  1, "error: connection closed\ntransport: closed\n" },
	};
	struct rpc_frame f = { 0 };
	struct tlib_host c;
	uint8_t reply[256];
	char ep[32];
	uint16_t port;
	size_t i, n;
	bool exact;
	int lfd, fd, rc;

	lfd = th_listen(&port);
	snprintf(ep, sizeof(ep), "127.0.0.1:%u", port);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		spawn_rpc(&c, ARGV("client", "--connect", ep, "--timeout", "5s",
				   "--area", "7", "--trace-id", "T1",
				   "--caller", "C1", "--span-id", "S1"));
		fd = fake_accept(lfd, &f, &exact);
		ok(exact, "%s: request bytes match python3-thrift's", cases[i].name);
		if (cases[i].reply_hex) {
			n = th_unhex(cases[i].reply_hex, reply, sizeof(reply));
			ok(n >= 4 && ((size_t)reply[0] << 24 | (size_t)reply[1] << 16 |
				      (size_t)reply[2] << 8 | reply[3]) == n - 4,
			   "%s: the scripted frame's length word counts its %zu bytes",
			   cases[i].name, n >= 4 ? n - 4 : 0);
			th_send_all(fd, reply, n);
		} else {
			close(fd);
			fd = -1;
		}
		if (!tlib_host_wait_exit(&c, WAIT_MS))
			bail("%s: client did not exit", cases[i].name);
		rc = WIFEXITED(c.status) ? WEXITSTATUS(c.status) : -1;
		ok(rc == cases[i].rc && out_is(&c, cases[i].out),
		   "%s: client prints the outcome (exit %d)", cases[i].name, rc);
		tlib_host_free(&c);
		if (fd >= 0)
			close(fd);
	}

	/* Second call on the same connection carries seqid 2. */
	spawn_rpc(&c, ARGV("client", "--connect", ep, "--calls", "2",
			   "--timeout", "5s", "--area", "7", "--trace-id", "T1",
			   "--caller", "C1", "--span-id", "S1"));
	fd = fake_accept(lfd, &f, &exact);
	n = th_unhex(cases[0].reply_hex, reply, sizeof(reply));
	th_send_all(fd, reply, n);
	rc = rpc_read_frame(fd, &f, TW_DEFAULT_MAX_FRAME, WAIT_MS);
	ok(rc == RPC_IO_OK && f.len >= 17 && f.data[13] == 0 &&
	   f.data[14] == 0 && f.data[15] == 0 && f.data[16] == 2,
	   "the second call on a connection has seqid 2");
	reply[4 + 16] = 2;
	th_send_all(fd, reply, n);
	ok(tlib_host_wait_exit(&c, WAIT_MS) && WIFEXITED(c.status) &&
	   WEXITSTATUS(c.status) == 0 &&
	   out_is(&c, "ErrNo=3 PassengerDiscount=0.25\ntransport: open\n"
		      "ErrNo=3 PassengerDiscount=0.25\ntransport: open\n"),
	   "two calls, two results");
	tlib_host_free(&c);
	close(fd);

	/* A port nothing listens on: bound and held by this test, so that no
	 * other test can start listening on it meanwhile (a port just freed
	 * could be taken). */
	close(lfd);
	lfd = th_bound_closed(&port);
	snprintf(ep, sizeof(ep), "127.0.0.1:%u", port);
	rc = run_rpc(&c, ARGV("client", "--connect", ep, "--timeout", "2s"),
		     WAIT_MS);
	{
		char want[128];

		snprintf(want, sizeof(want),
			 "error: connect tcp 127.0.0.1:%u: Connection refused\n"
			 "transport: closed\n", port);
		ok(rc == 1 && out_is(&c, want), "connection refused (exit %d)",
		   rc);
	}
	close(lfd);
	tlib_host_free(&c);
	rpc_frame_free(&f);
}

static void test_usage(void)
{
	static const char *const bad[][8] = {
		{ NULL },
		{ "bogus" },
		{ "client" },
		{ "client", "--connect", "localhost" },
		{ "client", "--connect", "127.0.0.1:70000" },
		{ "client", "--connect", "127.0.0.1:0" },
		{ "client", "--connect", "127.0.0.1:1", "--timeout", "5" },
		{ "client", "--connect", "127.0.0.1:1", "--timeout", "-1s" },
		{ "client", "--connect", "127.0.0.1:1", "--hold", "1d" },
		{ "client", "--connect", "127.0.0.1:1", "--calls", "0" },
		{ "client", "--connect", "127.0.0.1:1", "--calls", "x" },
		{ "client", "--connect", "127.0.0.1:1", "--area", "2147483648" },
		{ "client", "--connect", "127.0.0.1:1", "--bogus" },
		{ "client", "--connect", "127.0.0.1:1", "--no-close=1" },
		{ "client", "--connect", "127.0.0.1:1", "-x" },
		{ "client", "--connect", "127.0.0.1:1", "extra" },
		{ "client", "--connect" },
		{ "server" },
		{ "server", "--listen", "127.0.0.1:0", "--read-timeout", "1x" },
		{ "server", "--listen", "127.0.0.1:0", "--cost", "" },
		{ "server", "--listen", "127.0.0.1:0", "--max-frame", "0" },
		{ "server", "--listen", "127.0.0.1:0", "--max-frame",
		  "2147483648" },
		{ "server", "--listen", "[::1]" },
	};
	char *argv[10];
	struct tlib_host c;
	size_t i, j;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[160] = "";

		argv[0] = (char *)rpc_path;
		for (j = 0; bad[i][j]; j++) {
			argv[j + 1] = (char *)bad[i][j];
			strncat(line, " ", sizeof(line) - strlen(line) - 1);
			strncat(line, bad[i][j], sizeof(line) - strlen(line) - 1);
		}
		argv[j + 1] = NULL;
		rc = run_rpc(&c, argv, WAIT_MS);
		ok(rc == 2 && !strncmp(c.err, "sockaudit-rpc: ", 15) &&
		   th_count(c.err, "\n") == 1 && c.nout == 0,
		   "bad usage '%s' exits 2 with one line: %.*s", line,
		   (int)strcspn(c.err, "\n"), c.err);
		tlib_host_free(&c);
	}

	rc = run_rpc(&c, ARGV("--help"), WAIT_MS);
	ok(rc == 0 && strstr(c.out, "usage: sockaudit-rpc server") &&
	   strstr(c.out, "--conn-per-call"), "--help prints usage");
	tlib_host_free(&c);
	rc = run_rpc(&c, ARGV("client", "--help"), WAIT_MS);
	ok(rc == 0 && strstr(c.out, "usage:"), "client --help prints usage");
	tlib_host_free(&c);
	rc = run_rpc(&c, ARGV("--version"), WAIT_MS);
	ok(rc == 0 && !strncmp(c.out, "sockaudit-rpc ", 14),
	   "--version: %.*s", (int)strcspn(c.out, "\n"), c.out);
	tlib_host_free(&c);
}

int main(int argc, char **argv)
{
	struct tlib_host srv, slow;
	uint16_t port, slow_port;

	if (argc != 2)
		bail("usage: %s PATH-TO-SOCKAUDIT-RPC", argv[0]);
	rpc_path = argv[1];

	start_server(&srv, &port, "0");
	start_server(&slow, &slow_port, "1s");
	test_against_server(&srv, port, &slow, slow_port);
	test_hold(&srv, port);
	test_scripted();
	test_usage();
	ok(tlib_host_alive(&srv) && tlib_host_alive(&slow), "both servers still running");
	th_stop(&srv, SIGTERM);
	th_stop(&slow, SIGTERM);
	return tap_done();
}
