/* End-to-end: the four cases of the forgotten-close story (docs/repro.md).
 * A sockaudit-rpc server and client run under the shim with a private
 * SOCKAUDIT_DIR; the test checks the client's output, the server's log, the
 * kernel's view (/proc/net/tcp) and `sockaudit report --json` of each side.
 *
 * Durations are scaled down from the story (cost 1s -> 400ms, client
 * timeout 2s -> 800ms) and keep its order: server read timeout (100ms) <
 * cost < client timeout, except case 3 where the client timeout (200ms) <
 * cost. Report thresholds: --close-wait 200ms --idle 300ms.
 *
 * Usage: test-repro-e2e 1|2|3|4 (one meson test per case). */
#include <errno.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../tap.h"
#include "../tw-overflow.h"
#include "e2e.h"

#define READ_TIMEOUT    "100ms"
#define COST            "400ms"
#define CLIENT_TIMEOUT  "800ms"
#define SHORT_TIMEOUT   "200ms"   /* case 3: shorter than the cost */
#define CLOSE_WAIT_MS   200       /* the thresholds e2e_report passes */
#define IDLE_MS         300
#define REPLY_BYTES     44        /* the framed REPLY (docs/repro-protocol.md) */

#define OK_RESULT       "ErrNo=0 PassengerDiscount=0.4"
#define TIMEOUT_RESULT  "error: timeout"
#define TRANSPORT_OPEN  "transport: open"

struct pair {
	struct tlib_host srv, cli;
	char addr[64];          /* the server's 127.0.0.1:PORT */
	char peer[64];          /* the client's 127.0.0.1:PORT, from the server's log */
	unsigned sport, cport;
	int sfd;                /* the server's fd for the connection, from its log */
	char result[256], transport[256];   /* the client's two stdout lines */
};

static char *rpc_path(void)
{
	return (char *)tlib_env("SOCKAUDIT_RPC");
}

static unsigned port_of(const char *hostport)
{
	const char *c = strrchr(hostport, ':');

	return c ? (unsigned)strtoul(c + 1, NULL, 10) : 0;
}

/* Line n (0-based) of text into out. */
static void nth_line(const char *text, int n, char *out, size_t len)
{
	const char *s = text;

	out[0] = '\0';
	for (; n > 0 && s; n--) {
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	if (s)
		snprintf(out, len, "%.*s", (int)strcspn(s, "\n"), s);
}

/* Start the server, then the client; wait for the client's two lines and
 * the server's "accepted" line. */
static bool start_pair(struct pair *p, const char *read_timeout, const char *client_timeout,
		       bool closes)
{
	char line[512], *text;
	char *srv_argv[] = { rpc_path(), "server", "--listen", "127.0.0.1:0", "--cost", COST,
			     read_timeout ? "--read-timeout" : NULL, (char *)read_timeout, NULL };
	char *cli_argv[] = { rpc_path(), "client", "--connect", p->addr, "--timeout",
			     (char *)client_timeout,
			     closes ? "--conn-per-call" : "--no-close",
			     closes ? "--hold" : NULL, "1h", NULL };

	memset(p, 0, sizeof(*p));
	p->sfd = -1;
	e2e_spawn(&p->srv, "server", srv_argv);
	if (!tlib_host_find_line(&p->srv, false, "listening on ", line, sizeof(line), E2E_WAIT_MS))
		return false;
	snprintf(p->addr, sizeof(p->addr), "%.63s", line + strlen("listening on "));
	p->sport = port_of(p->addr);
	diag("server listens on %s", p->addr);

	e2e_spawn(&p->cli, "client", cli_argv);
	if (!tlib_host_wait_lines(&p->cli, false, 2, E2E_WAIT_MS))
		return false;
	text = e2e_slurp(&p->cli, false);
	nth_line(text, 0, p->result, sizeof(p->result));
	nth_line(text, 1, p->transport, sizeof(p->transport));
	free(text);
	diag("client: %s / %s", p->result, p->transport);

	if (!tlib_host_find_line(&p->srv, true, "accepted ", line, sizeof(line), E2E_WAIT_MS))
		return false;
	if (sscanf(line, "accepted %63s (fd %d)", p->peer, &p->sfd) != 2)
		return false;
	p->cport = port_of(p->peer);
	diag("server: %s", line);
	return p->sport && p->cport && p->sfd >= 0;
}

/* Stop the client gracefully (SIGTERM ends its hold): its exit status. */
static int stop_client(struct pair *p)
{
	int st = tlib_host_stop(&p->cli, SIGTERM, TLIB_GRACE_MS);

	return st >= 0 && WIFEXITED(p->cli.status) ? WEXITSTATUS(p->cli.status) : -1;
}

static void stop_server(struct pair *p)
{
	tlib_host_stop(&p->srv, SIGKILL, TLIB_GRACE_MS);
}

static bool log_has(struct tlib_host *proc, bool err, const char *needle)
{
	char *text = e2e_slurp(proc, err);
	bool has = strstr(text, needle) != NULL;

	free(text);
	return has;
}

/* The server's stderr has exactly this line. */
static bool server_logged(struct pair *p, const char *want)
{
	char line[512];

	return tlib_host_find_line(&p->srv, true, want, line, sizeof(line), E2E_WAIT_MS) &&
	       !strcmp(line, want);
}

/* ---- kernel predicates ---- */

static bool k_held_in(const struct e2e_ktcp *k, bool found, void *arg)
{
	return found && k->state == *(int *)arg && k->inode != 0;
}

static bool k_late_reply(const struct e2e_ktcp *k, bool found, void *arg)
{
	return found && k->state == TCP_ESTABLISHED && k->inode && k->rxq == REPLY_BYTES;
}

/* TCPTimeWaitOverflow when the case started: when it has grown since, the
 * time-wait table is full (other tests on the host, typically) and the
 * kernel frees an orphaned FIN_WAIT2 or a TIME_WAIT at once, so it cannot
 * be seen. */
static uint64_t tw_overflows_at_start;

static bool tw_table_full(void)
{
	return tcpext_tw_overflows() > tw_overflows_at_start;
}

/* The server's end after its close: an orphan (no file) in FIN_WAIT2, or
 * gone because the time-wait table is full. */
static bool k_orphan_fin_wait2(const struct e2e_ktcp *k, bool found, void *arg)
{
	if (found)
		return k->state == TCP_FIN_WAIT2 && k->inode == 0;
	return tw_table_full();
}

/* Both ends closed: no file holds either, and the end that closed first
 * waits in TIME_WAIT (or both are gone because the time-wait table is full). */
static bool k_closed_pair(const struct e2e_ktcp *a, bool found_a, const struct e2e_ktcp *b,
			  bool found_b)
{
	if ((found_a && a->inode) || (found_b && b->inode))
		return false;
	if ((found_a && a->state == TCP_TIME_WAIT) || (found_b && b->state == TCP_TIME_WAIT))
		return true;
	return !found_a && !found_b && tw_table_full();
}

#define TW_FULL_SKIP " # SKIP the time-wait table is full (TcpExt TCPTimeWaitOverflow rose, " \
		     "see net.ipv4.tcp_max_tw_buckets): the kernel freed the end at once"

/* ---- report predicates ---- */

static bool r_flagged_kind(json_object *root, const struct trun *r, void *arg)
{
	char path[64];

	snprintf(path, sizeof(path), "summary.by_kind.%s", (const char *)arg);
	return tj_int(root, "summary.flagged", -1) >= 1 && tj_int(root, path, -1) >= 1;
}

/* Nothing flagged, exit 0, and exactly *arg sockets held. */
static bool r_clean_holding(json_object *root, const struct trun *r, void *arg)
{
	return r->status == 0 && tj_int(root, "summary.flagged", -1) == 0 &&
	       tj_int(root, "summary.groups", -1) == 0 && tj_len(root, "groups") == 0 &&
	       tj_int(root, "summary.sockets", -1) == *(int *)arg &&
	       tj_int(root, "summary.stale", -1) == 0;
}

static bool r_holding(json_object *root, const struct trun *r, void *arg)
{
	return tj_int(root, "summary.sockets", -1) == *(int *)arg;
}

/* What the one flagged socket of a side must look like. */
struct want {
	const char *side;       /* "client", "server" */
	const char *kind;       /* "idle", "close-wait" */
	const char *state;      /* "ESTABLISHED", "CLOSE_WAIT" */
	const char *func, *file, *call;   /* first frame */
	const char *stack;      /* "connect", "open" */
	const char *origin;     /* "socket", "accept" */
	const char *local, *peer;
	int sockets;            /* sockets the side holds in all */
	unsigned long inode;    /* the kernel's */
	uint64_t since_ms;      /* the socket's data moved after this */
};

static void check_flagged(json_object *root, const struct trun *r, const struct want *w)
{
	json_object *g = json_object_array_get_idx(tj_get(root, "groups"), 0);
	json_object *s = g ? json_object_array_get_idx(tj_get(g, "sockets"), 0) : NULL;
	json_object *kinds = tj_get(g, "kinds");
	char path[64];
	int64_t age, bound = (int64_t)(r->ended_ms - w->since_ms) + TLIB_JIFFY_MS;
	int64_t threshold = !strcmp(w->kind, "idle") ? IDLE_MS : CLOSE_WAIT_MS;

	snprintf(path, sizeof(path), "summary.by_kind.%s", w->kind);
	ok(r->status == 1 && tj_int(root, "summary.flagged", -1) == 1 &&
	   tj_int(root, path, -1) == 1 && tj_int(root, "summary.groups", -1) == 1 &&
	   tj_len(root, "groups") == 1 && tj_int(root, "summary.sockets", -1) == w->sockets &&
	   tj_int(root, "summary.untracked", -1) == 0 && tj_bool(root, "process.instrumented"),
	   "%s report: exit 1, one socket flagged (%s) of %d held, one group, all tracked",
	   w->side, w->kind, w->sockets);
	snprintf(path, sizeof(path), "states.%s.count", w->state);
	ok(g && kinds && json_object_array_length(kinds) == 1 &&
	   !strcmp(json_object_get_string(json_object_array_get_idx(kinds, 0)), w->kind) &&
	   tj_int(g, "count", -1) == 1 && tj_int(g, "flagged", -1) == 1 &&
	   e2e_only_key(tj_get(g, "states")) && !strcmp(e2e_only_key(tj_get(g, "states")), w->state) &&
	   tj_int(g, path, -1) == 1,
	   "%s group: kinds [%s], 1 socket, states {%s: 1}", w->side, w->kind, w->state);
	ok(g && e2e_frame_is(g, w->func, w->file, w->call) && tj_str_is(g, "stack", w->stack),
	   "%s group: %s stack, first frame %s in %s, on its %s line", w->side, w->stack,
	   w->func, w->file, w->call);
	ok(s && tj_str_is(s, "state", w->state) && tj_str_is(s, "kind", w->kind) &&
	   tj_bool(s, "flagged") && tj_bool(s, "held") && tj_bool(s, "tracked") &&
	   tj_str_is(s, "origin", w->origin) && tj_str_is(s, "proto", "tcp") &&
	   tj_str_is(s, "local", w->local) && tj_str_is(s, "peer", w->peer) &&
	   (unsigned long)tj_int(s, "inode", -1) == w->inode,
	   "%s socket: %s %s -> %s, origin %s, the kernel's inode %lu", w->side, w->state,
	   w->local, w->peer, w->origin, w->inode);
	age = tj_int(s, !strcmp(w->kind, "idle") ? "idle_ms" : "close_wait_ms", -1);
	ok(age >= threshold && age <= bound,
	   "%s socket: %s age %lld ms, at least the %lld ms threshold, at most the %lld ms "
	   "since the exchange began", w->side, w->kind, (long long)age, (long long)threshold,
	   (long long)bound);
	if (!s)
		diag("report: %s", r->out);
}

/* The server holds its listener and nothing else. */
static void check_only_listener(struct pair *p)
{
	struct trun r;
	json_object *root = e2e_report(p->srv.pid, true, &r);
	json_object *g = root ? json_object_array_get_idx(tj_get(root, "groups"), 0) : NULL;
	json_object *s = g ? json_object_array_get_idx(tj_get(g, "sockets"), 0) : NULL;

	ok(root && r.status == 0 && tj_int(root, "summary.sockets", -1) == 1 &&
	   tj_len(root, "groups") == 1 && tj_int(g, "count", -1) == 1 &&
	   tj_str_is(s, "state", "LISTEN") && tj_str_is(s, "local", p->addr) &&
	   tj_str_is(s, "origin", "socket"),
	   "server report --all: its one socket is the LISTEN socket on %s, none for %s",
	   p->addr, p->peer);
	if (!s)
		diag("report: %s", r.out);
	json_object_put(root);
	trun_free(&r);
}

/* Both ends ESTABLISHED, held by a file each; their inodes. */
static bool kernel_both_established(struct pair *p, struct e2e_ktcp *kc, struct e2e_ktcp *ks)
{
	int est = TCP_ESTABLISHED;
	bool found;

	return e2e_ktcp_wait(p->cport, p->sport, k_held_in, &est, kc, &found) &&
	       e2e_ktcp_wait(p->sport, p->cport, k_held_in, &est, ks, &found);
}

static void check_client_idle(struct pair *p, unsigned long inode)
{
	struct want w = {
		.side = "client", .kind = "idle", .state = "ESTABLISHED",
		.func = "rpc_client_connect", .file = "client.c", .call = "connect(",
		.stack = "connect", .origin = "socket", .local = p->peer, .peer = p->addr,
		.sockets = 1, .inode = inode, .since_ms = p->cli.started_ms,
	};
	struct trun r;
	json_object *root = e2e_poll_report(p->cli.pid, r_flagged_kind, "idle", &r);

	if (ok(root != NULL, "client report flags its socket idle once %d ms passed", IDLE_MS))
		check_flagged(root, &r, &w);
	json_object_put(root);
	trun_free(&r);
}

static void check_server_idle(struct pair *p, unsigned long inode)
{
	struct want w = {
		.side = "server", .kind = "idle", .state = "ESTABLISHED",
		.func = "rpc_server_accept_loop", .file = "server.c", .call = "accept4(",
		.stack = "open", .origin = "accept", .local = p->addr, .peer = p->peer,
		.sockets = 2, .inode = inode, .since_ms = p->cli.started_ms,
	};
	struct trun r;
	json_object *root = e2e_poll_report(p->srv.pid, r_flagged_kind, "idle", &r);

	if (ok(root != NULL, "server report flags its accepted socket idle once %d ms passed",
	       IDLE_MS))
		check_flagged(root, &r, &w);
	json_object_put(root);
	trun_free(&r);
}

/* Case 1: no read timeout, the client never closes: both ends idle. */
static void case_idle(void)
{
	struct pair p;
	struct e2e_ktcp kc, ks;

	if (!ok(start_pair(&p, NULL, CLIENT_TIMEOUT, false),
		"case 1: server (no read timeout, cost %s), client (timeout %s, --no-close) "
		"made its call", COST, CLIENT_TIMEOUT))
		return;
	ok(!strcmp(p.result, OK_RESULT) && !strcmp(p.transport, TRANSPORT_OPEN),
	   "client: '%s', '%s'", OK_RESULT, TRANSPORT_OPEN);
	ok(kernel_both_established(&p, &kc, &ks),
	   "kernel: :%u -> :%u and :%u -> :%u both ESTABLISHED, each held by a file", p.cport,
	   p.sport, p.sport, p.cport);
	check_client_idle(&p, kc.inode);
	check_server_idle(&p, ks.inode);
	ok(kernel_both_established(&p, &kc, &ks), "kernel: both still ESTABLISHED afterwards");
	ok(!log_has(&p.srv, true, "error processing request") && !log_has(&p.srv, true, "closed "),
	   "server: no error, the connection was never closed");
	ok(stop_client(&p) == 0, "client exits 0 on SIGTERM: its call succeeded");
	stop_server(&p);
}

/* Case 2: a server read timeout closes the idle connection: the client's
 * forgotten socket turns CLOSE_WAIT, the server's end is an orphan in
 * FIN_WAIT2 that no file holds. */
static void case_closewait(void)
{
	struct pair p;
	struct e2e_ktcp kc, ks;
	struct trun r;
	json_object *root;
	char want_err[512];
	int cw = TCP_CLOSE_WAIT, one = 1;
	uint64_t fin_seen;
	bool found, fin_wait2, fin_wait2_seen, fin_wait2_early, held;

	if (!ok(start_pair(&p, READ_TIMEOUT, CLIENT_TIMEOUT, false),
		"case 2: server (read timeout %s, cost %s), client (timeout %s, --no-close) "
		"made its call", READ_TIMEOUT, COST, CLIENT_TIMEOUT))
		return;
	ok(!strcmp(p.result, OK_RESULT) && !strcmp(p.transport, TRANSPORT_OPEN),
	   "client: '%s', '%s'", OK_RESULT, TRANSPORT_OPEN);

	snprintf(want_err, sizeof(want_err),
		 "%s: error processing request: read tcp %s->%s: i/o timeout", p.peer, p.addr,
		 p.peer);
	ok(server_logged(&p, want_err),
	   "server logs '%s'", want_err);
	snprintf(want_err, sizeof(want_err), "closed %s (fd %d, 1 requests)", p.peer, p.sfd);
	ok(server_logged(&p, want_err),
	   "server logs '%s'", want_err);

	ok(e2e_ktcp_wait(p.cport, p.sport, k_held_in, &cw, &kc, &found),
	   "kernel: the client's end :%u -> :%u is CLOSE_WAIT, held by a file", p.cport, p.sport);
	fin_wait2 = e2e_ktcp_wait(p.sport, p.cport, k_orphan_fin_wait2, NULL, &ks, &found);
	fin_wait2_early = fin_wait2;
	fin_wait2_seen = fin_wait2 && found;
	ok(fin_wait2, "kernel: the server's end :%u -> :%u is FIN_WAIT2 and no file holds it%s",
	   p.sport, p.cport, fin_wait2 && !found ? TW_FULL_SKIP : "");
	fin_seen = trun_now_ms();

	{
		struct want w = {
			.side = "client", .kind = "close-wait", .state = "CLOSE_WAIT",
			.func = "rpc_client_connect", .file = "client.c", .call = "connect(",
			.stack = "connect", .origin = "socket", .local = p.peer, .peer = p.addr,
			.sockets = 1, .inode = kc.inode, .since_ms = p.cli.started_ms,
		};

		root = e2e_poll_report(p.cli.pid, r_flagged_kind, "close-wait", &r);
		if (ok(root != NULL, "client report flags its socket close-wait once %d ms passed",
		       CLOSE_WAIT_MS))
			check_flagged(root, &r, &w);
		json_object_put(root);
		trun_free(&r);
	}

	root = e2e_hold_report(p.srv.pid, fin_seen + IDLE_MS + 100, r_clean_holding, &one, &r);
	ok(root != NULL,
	   "server report: exit 0, nothing flagged, one socket held, from the close until "
	   "both thresholds passed");
	json_object_put(root);
	trun_free(&r);
	check_only_listener(&p);
	held = e2e_ktcp_wait(p.cport, p.sport, k_held_in, &cw, &kc, &found);
	fin_wait2 = e2e_ktcp_find(p.sport, p.cport, &ks);
	ok(held, "kernel afterwards: the client's end still CLOSE_WAIT (held)");
	/* The server's end: still the orphan FIN_WAIT2 seen above. When it was
	 * not seen, this is a skip only for the reason that point skipped
	 * for (the time-wait table full); otherwise it fails with it. */
	if (fin_wait2_seen)
		ok(fin_wait2 && ks.state == TCP_FIN_WAIT2 && !ks.inode,
		   "kernel afterwards: the server's end still FIN_WAIT2 (no file)");
	else if (fin_wait2_early)
		ok(true, "kernel afterwards: the server's end%s", TW_FULL_SKIP);
	else
		ok(false, "kernel afterwards: the server's end was never FIN_WAIT2 (see above)");
	ok(stop_client(&p) == 0, "client exits 0 on SIGTERM: its call succeeded");
	stop_server(&p);
}

/* Case 3: the client gives up before the server answers and forgets the
 * socket; the late reply sits unread in it. */
static void case_client_timeout(void)
{
	struct pair p;
	struct e2e_ktcp kc, ks;
	bool found;

	if (!ok(start_pair(&p, NULL, SHORT_TIMEOUT, false),
		"case 3: server (no read timeout, cost %s), client (timeout %s, --no-close) "
		"made its call", COST, SHORT_TIMEOUT))
		return;
	ok(!strcmp(p.result, TIMEOUT_RESULT) && !strcmp(p.transport, TRANSPORT_OPEN),
	   "client: '%s', '%s'", TIMEOUT_RESULT, TRANSPORT_OPEN);
	ok(e2e_ktcp_wait(p.cport, p.sport, k_late_reply, NULL, &kc, &found),
	   "kernel: the client's end is ESTABLISHED, held, with the %d-byte late reply unread",
	   REPLY_BYTES);
	ok(kernel_both_established(&p, &kc, &ks), "kernel: both ends ESTABLISHED, each held");
	check_client_idle(&p, kc.inode);
	check_server_idle(&p, ks.inode);
	ok(!log_has(&p.srv, true, "error processing request") && !log_has(&p.srv, true, "closed "),
	   "server: no error, the connection was never closed");
	ok(stop_client(&p) == 1, "client exits 1 on SIGTERM: its call failed");
	stop_server(&p);
}

/* Case 4: the client closes its transport: nothing to flag anywhere. */
static void case_closed(void)
{
	struct pair p;
	struct e2e_ktcp kc, ks;
	struct trun r;
	json_object *root;
	char want[512];
	int zero = 0, one = 1;
	uint64_t gone_ms;
	bool fc, fs, closed;

	if (!ok(start_pair(&p, READ_TIMEOUT, CLIENT_TIMEOUT, true),
		"case 4: server (read timeout %s, cost %s), client (timeout %s, "
		"--conn-per-call: closes after the call) made its call", READ_TIMEOUT, COST,
		CLIENT_TIMEOUT))
		return;
	ok(!strcmp(p.result, OK_RESULT) && !strcmp(p.transport, TRANSPORT_OPEN),
	   "client: '%s', '%s'", OK_RESULT, TRANSPORT_OPEN);
	snprintf(want, sizeof(want), "closed %s (fd %d, 1 requests)", p.peer, p.sfd);
	ok(server_logged(&p, want),
	   "server logs '%s'", want);
	if (log_has(&p.srv, true, "i/o timeout"))
		diag("the server's read timeout fired before the client's close arrived");

	closed = e2e_ktcp_pair_wait(p.cport, p.sport, k_closed_pair, &kc, &fc, &ks, &fs);
	ok(closed, "kernel: no file holds either end of :%u <-> :%u, and the end that closed first "
	   "is in TIME_WAIT (client: %s, server: %s)%s", p.cport, p.sport,
	   fc ? e2e_tcp_state_name(kc.state) : "gone", fs ? e2e_tcp_state_name(ks.state) : "gone",
	   closed && !fc && !fs ? TW_FULL_SKIP : "");
	gone_ms = trun_now_ms();

	root = e2e_poll_report(p.cli.pid, r_holding, &zero, &r);
	json_object_put(root);
	trun_free(&r);
	root = e2e_hold_report(p.cli.pid, gone_ms + IDLE_MS + 100, r_clean_holding, &zero, &r);
	ok(root != NULL,
	   "client report: exit 0, no socket held, nothing flagged, no stale record, until "
	   "both thresholds passed");
	json_object_put(root);
	trun_free(&r);

	root = e2e_poll_report(p.srv.pid, r_holding, &one, &r);
	json_object_put(root);
	trun_free(&r);
	root = e2e_hold_report(p.srv.pid, gone_ms + IDLE_MS + 100, r_clean_holding, &one, &r);
	ok(root != NULL,
	   "server report: exit 0, one socket held, nothing flagged, until both thresholds "
	   "passed");
	json_object_put(root);
	trun_free(&r);
	check_only_listener(&p);
	ok(stop_client(&p) == 0, "client exits 0 on SIGTERM: its call succeeded");
	stop_server(&p);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*run)(void);
	} cases[] = {
		{ "1", case_idle },
		{ "2", case_closewait },
		{ "3", case_client_timeout },
		{ "4", case_closed },
	};
	char name[32];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2)
		bail("usage: %s 1|2|3|4", argv[0]);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(argv[1], cases[i].name))
			continue;
		snprintf(name, sizeof(name), "case%s", cases[i].name);
		/* Its own TIME_WAIT table and a short socket dump for report. */
		tlib_own_netns();
		tlib_case_dir(tlib_env("E2E_WORK"), name);
		tw_overflows_at_start = tcpext_tw_overflows();
		cases[i].run();
		return tlib_finish(tap_done());
	}
	bail("unknown case '%s'", argv[1]);
}
