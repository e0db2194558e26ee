/* Both ends of a connection on one host, with the bundled RPC as two
 * processes (docs/repro.md). Case 1 (the server has no read timeout): both
 * ends held and idle; each side's report names the other end's pid, fd,
 * state and the code that opened it. Case 2 (`--read-timeout 200ms`): the
 * server gives up and closes; the client's socket sits in CLOSE_WAIT and
 * its report says the other end is an orphaned FIN_WAIT_2 no process holds,
 * on the port the server listens on; `report -A` pairs the two ends in one
 * finding. Every wait is a poll with a deadline. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "tjson.h"
#include "tlib.h"
#include "trun.h"

static pid_t children[4];
static size_t nchildren;

static void kill_children(void)
{
	for (size_t i = 0; i < nchildren; i++)
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			trun_reap(children[i], 5000);
			children[i] = 0;
		}
	nchildren = 0;
}

/* Start argv under the shim, stdout and stderr to files. */
static pid_t start(char *const argv[], const char *out, const char *err)
{
	pid_t pid = fork();

	if (pid < 0)
		bail("fork: %s", strerror(errno));
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int n = open("/dev/null", O_RDONLY);

		if (o < 0 || e < 0 || n < 0 || dup2(n, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(127);
		setenv("LD_PRELOAD", getenv("SOCKAUDIT_SHIM"), 1);
		execv(argv[0], argv);
		_exit(127);
	}
	children[nchildren++] = pid;
	return pid;
}

/* Poll file for a line containing pat; copy the rest of that line after
 * pat into rest. False when it did not appear in time. */
static bool wait_line(const char *file, const char *pat, char *rest, size_t len)
{
	uint64_t deadline = trun_now_ms() + TLIB_READY_MS;
	struct timespec pause = { 0, 20 * 1000 * 1000 };

	while (trun_now_ms() < deadline) {
		char line[1024];
		FILE *f = fopen(file, "r");

		while (f && fgets(line, sizeof(line), f)) {
			char *p = strstr(line, pat);

			if (!p)
				continue;
			if (rest) {
				snprintf(rest, len, "%s", p + strlen(pat));
				rest[strcspn(rest, "\n")] = '\0';
			}
			fclose(f);
			return true;
		}
		if (f)
			fclose(f);
		nanosleep(&pause, NULL);
	}
	diag("no '%s' in %s within %d ms", pat, file, TLIB_READY_MS);
	return false;
}

/* The first socket of the report that is flagged and has a peer. */
static json_object *flagged_with_peer(json_object *root)
{
	json_object *groups = tj_get(root, "groups");

	for (size_t g = 0; groups && g < json_object_array_length(groups); g++) {
		json_object *socks = tj_get(json_object_array_get_idx(groups, g), "sockets");

		for (size_t k = 0; socks && k < json_object_array_length(socks); k++) {
			json_object *s = json_object_array_get_idx(socks, k), *p;

			p = tj_get(s, "peer_process");
			if (tj_bool(s, "flagged") && p && !json_object_is_type(p, json_type_null))
				return s;
		}
	}
	return NULL;
}

static json_object *poll_peer(pid_t pid, const char *const *extra, struct trun *r)
{
	uint64_t deadline = trun_now_ms() + TLIB_POLL_MS;
	struct timespec pause = { 0, 100 * 1000 * 1000 };

	for (;;) {
		json_object *root = tlib_report(pid, extra, r);

		if (root && flagged_with_peer(root))
			return root;
		if (trun_now_ms() >= deadline) {
			diag("no flagged socket with a peer within %d ms; exit %d, stderr: %s",
			     TLIB_POLL_MS, r->status, r->err);
			json_object_put(root);
			return NULL;
		}
		json_object_put(root);
		trun_free(r);
		nanosleep(&pause, NULL);
	}
}

static void paths(const char *dir, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* Case 1: the two ends held, idle: each report names the other. */
static void case_idle(void)
{
	const char *dir = tlib_case_dir(tlib_env("RT_TABLES"), "peer-idle");
	char *rpc = tlib_path("RT_BIN_DIR", "../../repro/sockaudit-rpc");
	char so[4200], se[4200], co[4200], ce[4200], addr[128];
	const char *extra[] = { "--idle", "1s", NULL };
	pid_t server, client;
	struct trun r;
	json_object *root, *s, *p;

	paths(dir, "server.out", so, sizeof(so));
	paths(dir, "server.err", se, sizeof(se));
	paths(dir, "client.out", co, sizeof(co));
	paths(dir, "client.err", ce, sizeof(ce));
	{
		char *argv[] = { rpc, "server", "--listen", "127.0.0.1:0", "--cost", "100ms", NULL };

		server = start(argv, so, se);
	}
	if (!ok(wait_line(so, "listening on ", addr, sizeof(addr)), "idle: server listening"))
		return;
	{
		char *argv[] = { rpc, "client", "--connect", addr, "--timeout", "2s", "--no-close",
				 "--hold", "60s", NULL };

		client = start(argv, co, ce);
	}
	ok(wait_line(co, "transport:", NULL, 0), "idle: the client made its call and holds");

	root = poll_peer(client, extra, &r);
	s = root ? flagged_with_peer(root) : NULL;
	p = s ? tj_get(s, "peer_process") : NULL;
	ok(p && tj_int(p, "pid", -1) == server && tj_bool(p, "held") &&
	   tj_str_is(p, "state", "ESTABLISHED") && tj_int(p, "fd", -1) >= 0 &&
	   tj_str_is(p, "comm", "sockaudit-rpc"),
	   "idle: the client's report names the server's end: pid %d, fd, ESTABLISHED",
	   (int)server);
	ok(p && tj_str_is(p, "frame.function", "rpc_server_accept_loop"),
	   "idle: and the code that opened it: rpc_server_accept_loop (%s)",
	   p ? tj_str(p, "frame.function") : "none");
	json_object_put(root);
	trun_free(&r);

	root = poll_peer(server, extra, &r);
	s = root ? flagged_with_peer(root) : NULL;
	p = s ? tj_get(s, "peer_process") : NULL;
	ok(p && tj_int(p, "pid", -1) == client && tj_bool(p, "held") &&
	   tj_str_is(p, "frame.function", "rpc_client_connect"),
	   "idle: the server's report names the client's end: pid %d at rpc_client_connect",
	   (int)client);
	json_object_put(root);
	trun_free(&r);
	{
		char pid[16];
		const char *text[] = { "report", "--idle", "1s", pid, NULL };

		snprintf(pid, sizeof(pid), "%d", (int)client);
		ok(tlib_cli(&r, text) && r.status == 1 && strstr(r.out, "other end: pid ") &&
		   strstr(r.out, "rpc_server_accept_loop"),
		   "idle: the text report has a line for the other end under the socket");
		trun_free(&r);
	}
	kill_children();
}

/* Case 2: the server times out and closes: CLOSE_WAIT against an orphaned
 * FIN_WAIT_2; report -A pairs them. In a network namespace of its own. */
static void case_closewait(void)
{
	const char *dir = tlib_case_dir(tlib_env("RT_TABLES"), "peer-cw");
	char *rpc = tlib_path("RT_BIN_DIR", "../../repro/sockaudit-rpc");
	char so[4200], se[4200], co[4200], ce[4200], addr[128];
	const char *extra[] = { "--close-wait", "300ms", NULL };
	pid_t server, client;
	struct trun r;
	json_object *root, *s, *p, *pairs, *pair = NULL;

	tlib_own_netns();
	paths(dir, "server.out", so, sizeof(so));
	paths(dir, "server.err", se, sizeof(se));
	paths(dir, "client.out", co, sizeof(co));
	paths(dir, "client.err", ce, sizeof(ce));
	{
		char *argv[] = { rpc, "server", "--listen", "127.0.0.1:0", "--read-timeout", "200ms",
				 "--cost", "100ms", NULL };

		server = start(argv, so, se);
	}
	if (!ok(wait_line(so, "listening on ", addr, sizeof(addr)), "cw: server listening"))
		return;
	{
		char *argv[] = { rpc, "client", "--connect", addr, "--timeout", "2s", "--no-close",
				 "--hold", "60s", NULL };

		client = start(argv, co, ce);
	}
	ok(wait_line(co, "transport:", NULL, 0) && wait_line(se, "i/o timeout", NULL, 0),
	   "cw: the client made its call, the server timed out");

	root = poll_peer(client, extra, &r);
	s = root ? flagged_with_peer(root) : NULL;
	p = s ? tj_get(s, "peer_process") : NULL;
	ok(s && tj_str_is(s, "state", "CLOSE_WAIT") && p && !tj_bool(p, "held") &&
	   tj_bool(p, "orphan") && tj_str_is(p, "state", "FIN_WAIT_2") &&
	   tj_int(p, "listener.pid", -1) == server,
	   "cw: the client's CLOSE_WAIT: the other end is an orphaned FIN_WAIT_2, on the port "
	   "pid %d listens on", (int)server);
	json_object_put(root);
	trun_free(&r);
	{
		const char *all[] = { "report", "-A", "--json", "--close-wait", "300ms", NULL };
		const char *text[] = { "report", "-A", "--close-wait", "300ms", NULL };
		char want[64];

		ok(tlib_cli(&r, all) && r.status == 1, "cw: report -A flags (exit %d)", r.status);
		root = json_tokener_parse(r.out ? r.out : "");
		pairs = root ? tj_get(root, "pairs") : NULL;
		for (size_t i = 0; pairs && i < json_object_array_length(pairs); i++) {
			json_object *x = json_object_array_get_idx(pairs, i);

			if (tj_int(x, "flagged.pid", -1) == client)
				pair = x;
		}
		ok(pair && tj_str_is(pair, "kind", "close-wait") &&
		   tj_str_is(pair, "flagged.state", "CLOSE_WAIT") &&
		   tj_str_is(pair, "other.state", "FIN_WAIT_2") &&
		   tj_int(pair, "other.listener.pid", -1) == server,
		   "cw: report -A pairs the client's CLOSE_WAIT with the server's FIN_WAIT_2");
		json_object_put(root);
		trun_free(&r);
		snprintf(want, sizeof(want), "pid %d (sockaudit-rpc) listens there", (int)server);
		ok(tlib_cli(&r, text) && r.status == 1 && strstr(r.out, "both ends on this host") &&
		   strstr(r.out, want), "cw: text: the pair under 'both ends on this host'");
		trun_free(&r);
	}
	kill_children();
}

/* A program on PATH as a path. */
static const char *which(const char *prog)
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
	static char p[4][64];
	static int next;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char *slot = p[next % 4];

		snprintf(slot, sizeof(p[0]), "%s/%s", dirs[i], prog);
		if (access(slot, X_OK) == 0) {
			next++;
			return slot;
		}
	}
	bail("%s not found", prog);
}

/* pid's network namespace is not ours. */
static bool other_netns(pid_t pid)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	return stat("/proc/self/ns/net", &a) == 0 && stat(path, &b) == 0 &&
	       (a.st_dev != b.st_dev || a.st_ino != b.st_ino);
}

/* The process document of pid in a sockaudit.host/1 document. */
static json_object *host_proc(json_object *root, pid_t pid)
{
	json_object *a = root ? tj_get(root, "processes") : NULL;

	for (size_t i = 0; a && i < json_object_array_length(a); i++)
		if (tj_int(json_object_array_get_idx(a, i), "process.pid", -1) == pid)
			return json_object_array_get_idx(a, i);
	return NULL;
}

/* Case 1 across two network namespaces joined by a veth pair (root): the
 * client in one, the server in the other. report -A, which has both
 * views, names the server's end from the client's socket, and pairs them. */
static void case_netns(void)
{
	char *rpc = tlib_path("RT_BIN_DIR", "../../repro/sockaudit-rpc");
	const char *shim = getenv("SOCKAUDIT_SHIM");
	char sscript[1024], cscript[1024], line[256], spid[16], cpid[16];
	const char *all[] = { "report", "-A", "--json", "--idle", "1s", NULL };
	struct tlib_spawn how = { .shim = false, .capture_err = true };
	struct tlib_host server, client;
	struct trun r;
	json_object *root = NULL, *s = NULL, *p, *pairs;
	size_t npairs;
	uint64_t deadline;
	const char *port;

	tlib_require_root("network namespaces and a veth pair need root");
	tlib_case_dir(tlib_env("RT_TABLES"), "peer-netns");
	snprintf(sscript, sizeof(sscript),
		 "read go && ip link set lo up && ip addr add 10.213.7.2/24 dev vb && "
		 "ip link set vb up && exec env LD_PRELOAD='%s' \"$0\" server "
		 "--listen 10.213.7.2:0 --cost 100ms", shim);
	snprintf(cscript, sizeof(cscript),
		 "read port && ip link set lo up && ip addr add 10.213.7.1/24 dev va && "
		 "ip link set va up && exec env LD_PRELOAD='%s' \"$0\" client "
		 "--connect 10.213.7.2:$port --timeout 2s --no-close --hold 60s", shim);
	{
		char *sargv[] = { (char *)which("unshare"), "--net", "sh", "-c", sscript, rpc, NULL };
		char *cargv[] = { (char *)which("unshare"), "--net", "sh", "-c", cscript, rpc, NULL };

		if (!ok(tlib_host_start(&server, &how, sargv) && tlib_host_start(&client, &how, cargv),
			"netns: two shells in network namespaces of their own"))
			return;
	}
	/* Each shell execs its way to the RPC: the pid stays. */
	snprintf(spid, sizeof(spid), "%d", (int)server.pid);
	snprintf(cpid, sizeof(cpid), "%d", (int)client.pid);
	{
		/* Both ends of the pair made in one step, straight into the two
		 * namespaces: nothing is added to ours. The namespaces exist
		 * once unshare has exec'd the shell: retried until then. */
		const char *veth[] = { which("ip"), "link", "add", "va", "netns", cpid, "type", "veth",
				       "peer", "name", "vb", "netns", spid, NULL };
		bool made = false;

		/* Not before both are in namespaces of their own: "netns PID"
		 * of a process still in ours would put the link in ours. */
		deadline = trun_now_ms() + TLIB_READY_MS;
		while (!(other_netns(server.pid) && other_netns(client.pid)) &&
		       trun_now_ms() < deadline)
			tlib_pause_ms(20);
		if (!ok(other_netns(server.pid) && other_netns(client.pid),
			"netns: both shells are in network namespaces of their own"))
			return;
		while (!made && trun_now_ms() < deadline) {
			made = trun_capture(&r, veth, TLIB_CLI_MS, NULL) && r.status == 0;
			if (!made)
				diag("ip link add: %s", r.err);
			trun_free(&r);
			if (!made)
				tlib_pause_ms(50);
		}
		if (!ok(made, "netns: a veth pair between them"))
			return;
	}
	ok(tlib_host_command(&server, "go", NULL) &&
	   tlib_host_find_line(&server, false, "listening on ", line, sizeof(line), TLIB_READY_MS),
	   "netns: server listening on 10.213.7.2 (%s)", line);
	port = strrchr(line, ':');
	ok(port && tlib_host_command(&client, port + 1, NULL) &&
	   tlib_host_wait(&client, false, "transport:", TLIB_READY_MS),
	   "netns: the client made its call across and holds its connection");
	tlib_host_pump(&client, 0);
	tlib_host_pump(&server, 0);
	if (!strstr(client.out, "transport:"))
		diag("client: %s%s; server: %s", client.out, client.err, server.err);

	deadline = trun_now_ms() + TLIB_POLL_MS;
	while (tlib_cli(&r, all)) {
		root = json_tokener_parse(r.out ? r.out : "");
		s = flagged_with_peer(host_proc(root, client.pid));
		if (s || trun_now_ms() >= deadline)
			break;
		json_object_put(root);
		root = NULL;
		trun_free(&r);
		tlib_pause_ms(100);
	}
	p = s ? tj_get(s, "peer_process") : NULL;
	ok(p && tj_str_is(p, "netns", "other") && tj_int(p, "pid", -1) == server.pid &&
	   tj_str_is(p, "state", "ESTABLISHED") &&
	   tj_str_is(p, "frame.function", "rpc_server_accept_loop"),
	   "netns: report -A names the server's end in the other namespace, with its stack");
	pairs = root ? tj_get(root, "pairs") : NULL;
	s = NULL;
	npairs = 0;
	for (size_t i = 0; pairs && i < json_object_array_length(pairs); i++) {
		json_object *x = json_object_array_get_idx(pairs, i);

		if (tj_int(x, "flagged.pid", -1) == client.pid ||
		    tj_int(x, "flagged.pid", -1) == server.pid) {
			s = x;
			npairs++;
		}
	}
	ok(npairs == 1 && tj_int(s, "other.pid", -1) ==
		(tj_int(s, "flagged.pid", -1) == client.pid ? server.pid : client.pid),
	   "netns: and pairs the two ends once (%zu pairs)", npairs);
	json_object_put(root);
	trun_free(&r);
	{
		const char *one[] = { "report", "--json", "--idle", "1s", cpid, NULL };

		root = tlib_cli_json(&r, one);
		s = root ? flagged_with_peer(root) : NULL;
		ok(root && tj_int(root, "summary.flagged", 0) > 0 && !s,
		   "netns: report <pid> alone has one view: its flagged socket names no other end");
		json_object_put(root);
		trun_free(&r);
	}
}

/* Both ends closed, one still held: the held end sits in CLOSE, the other
 * in TIME_WAIT, kept by the kernel with no process: named so. In a network
 * namespace of its own: the host's may be past tcp_max_tw_buckets (a
 * benchmark's churn), and then the kernel keeps no TIME_WAIT at all. */
static void case_timewait(void)
{
	const char *extra[] = { "--all", NULL };
	const char *text[] = { "report", "--all", NULL, NULL };
	struct tlib_host h;
	struct trun r;
	json_object *root, *s, *p;
	char want[64], pidarg[16];
	pid_t pid;
	int fd;

	tlib_require_root("a network namespace of its own needs root");
	tlib_case_dir(tlib_env("RT_TABLES"), "peer-tw");
	if (!ok(tlib_host_contained(&h, tlib_path("RT_BIN_DIR", "sc-timewait"), TLIB_NS_NET, &pid),
		"tw: scenario ready in its own namespaces (its end in CLOSE)"))
		return;
	fd = (int)tlib_ready_int(&h, "fd");
	snprintf(want, sizeof(want), "127.0.0.1:%ld", tlib_ready_int(&h, "server_port"));
	root = tlib_report(pid, extra, &r);
	s = root ? tj_grouped_sock(root, fd) : NULL;
	p = s ? tj_get(s, "peer_process") : NULL;
	ok(s && tj_str_is(s, "state", "CLOSE") && p && !tj_bool(p, "held") &&
	   tj_bool(p, "orphan") && tj_str_is(p, "state", "TIME_WAIT") && tj_str_is(p, "local", want) &&
	   tj_int(p, "listener.pid", -1) == pid,
	   "tw: the other end is named: TIME_WAIT at %s, held by no process, on the port it "
	   "listens on", want);
	if (!p || !tj_str_is(p, "state", "TIME_WAIT"))
		diag("socket: %s", s ? json_object_to_json_string(s) : "(none)");
	json_object_put(root);
	trun_free(&r);
	snprintf(pidarg, sizeof(pidarg), "%d", (int)pid);
	text[2] = pidarg;
	ok(tlib_cli(&r, text) && strstr(r.out, "TIME_WAIT") &&
	   strstr(r.out, "held by no process (closed, kept by the kernel)"),
	   "tw: text: the other end in TIME_WAIT, kept by the kernel");
	trun_free(&r);
	ok(tlib_host_stop(&h, 0, TLIB_GRACE_MS) == 0, "tw: scenario exits");
}

int main(int argc, char **argv)
{
	if (argc != 2)
		bail("usage: test-peer idle|closewait|netns|timewait");
	if (!getenv("SOCKAUDIT_SHIM"))
		bail("SOCKAUDIT_SHIM is not set");
	atexit(kill_children);
	if (strcmp(argv[1], "idle") == 0)
		case_idle();
	else if (strcmp(argv[1], "closewait") == 0)
		case_closewait();
	else if (strcmp(argv[1], "netns") == 0)
		case_netns();
	else if (strcmp(argv[1], "timewait") == 0)
		case_timewait();
	else
		bail("unknown case %s", argv[1]);
	return tlib_finish(tap_done());
}
