/* The end-to-end leak cases' layer on tlib: see e2e.h. */
#include "e2e.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"

void e2e_spawn(struct tlib_host *p, const char *name, char *const argv[])
{
	const struct tlib_spawn how = {
		.shim = true, .stdin_null = true, .capture_err = true, .name = name,
	};

	tlib_host_start(p, &how, argv);
}

char *e2e_slurp(struct tlib_host *p, bool err)
{
	char *text;

	tlib_host_pump(p, 0);
	text = strdup(err ? p->err : p->out);
	if (!text)
		bail("out of memory");
	return text;
}

json_object *e2e_report(pid_t pid, bool all, struct trun *r)
{
	char spid[16];
	const char *args[] = { "report", "--json", "--close-wait", "200ms", "--idle", "300ms",
			       all ? "--all" : spid, spid, NULL };
	json_object *root;

	snprintf(spid, sizeof(spid), "%d", (int)pid);
	if (!all)
		args[7] = NULL;
	root = tlib_cli_json(r, args);
	if (root && r->signaled) {
		json_object_put(root);
		root = NULL;
	}
	if (!root || !tj_str_is(root, "schema", "sockaudit.report/1")) {
		diag("report %d: exit %d, not a sockaudit.report/1 document; stderr: %s", (int)pid,
		     r->status, r->err);
		json_object_put(root);
		return NULL;
	}
	return root;
}

json_object *e2e_poll_report(pid_t pid, e2e_pred pred, void *arg, struct trun *r)
{
	uint64_t deadline = trun_now_ms() + E2E_WAIT_MS;

	for (;;) {
		json_object *root = e2e_report(pid, false, r);

		if (root && pred(root, r, arg))
			return root;
		if (trun_now_ms() >= deadline) {
			diag("report of %d: condition not reached within %d ms; last exit %d, "
			     "stdout: %s", (int)pid, E2E_WAIT_MS, r->status, r->out);
			json_object_put(root);
			trun_free(r);
			return NULL;
		}
		json_object_put(root);
		trun_free(r);
		tlib_pause_ms(50);
	}
}

json_object *e2e_hold_report(pid_t pid, uint64_t until_ms, e2e_pred pred, void *arg,
			     struct trun *r)
{
	for (;;) {
		uint64_t started = trun_now_ms();
		json_object *root = e2e_report(pid, false, r);

		if (!root || !pred(root, r, arg)) {
			diag("report of %d, %lld ms before the end of the window: exit %d, "
			     "stdout: %s", (int)pid, (long long)until_ms - (long long)started,
			     r->status, r->out);
			json_object_put(root);
			trun_free(r);
			return NULL;
		}
		if (started >= until_ms)
			return root;
		json_object_put(root);
		trun_free(r);
		tlib_pause_ms(50);
	}
}

bool e2e_ktcp_find(unsigned lport, unsigned rport, struct e2e_ktcp *k)
{
	char *text = tlib_slurp("/proc/net/tcp");
	uint32_t loop = htonl(INADDR_LOOPBACK);
	bool found = false;
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned la, lp, ra, rp, st;
		unsigned long tx, rx, inode;

		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*u: %8X:%4X %8X:%4X %2X %lX:%lX %*X:%*X %*X %*u %*u %lu",
			   &la, &lp, &ra, &rp, &st, &tx, &rx, &inode) != 8)
			continue;
		if (la != loop || ra != loop || lp != lport || rp != rport)
			continue;
		/* A leftover of an earlier connection on the same ports has no
		 * file; the socket a process holds wins. */
		if (found && k->inode && !inode)
			continue;
		*k = (struct e2e_ktcp){ lp, rp, (int)st, tx, rx, inode };
		found = true;
	}
	free(text);
	return found;
}

bool e2e_ktcp_wait(unsigned lport, unsigned rport, e2e_kpred kpred, void *arg,
		   struct e2e_ktcp *k, bool *found)
{
	uint64_t deadline = trun_now_ms() + E2E_WAIT_MS;

	for (;;) {
		memset(k, 0, sizeof(*k));
		*found = e2e_ktcp_find(lport, rport, k);
		if (kpred(k, *found, arg))
			return true;
		if (trun_now_ms() >= deadline) {
			if (*found)
				diag("kernel: :%u -> :%u %s rxq %lu inode %lu after %d ms", lport,
				     rport, e2e_tcp_state_name(k->state), k->rxq, k->inode,
				     E2E_WAIT_MS);
			else
				diag("kernel: no socket :%u -> :%u after %d ms", lport, rport,
				     E2E_WAIT_MS);
			return false;
		}
		tlib_pause_ms(20);
	}
}

bool e2e_ktcp_pair_wait(unsigned lport, unsigned rport, e2e_kpred2 kpred2, struct e2e_ktcp *a,
			bool *found_a, struct e2e_ktcp *b, bool *found_b)
{
	uint64_t deadline = trun_now_ms() + E2E_WAIT_MS;

	for (;;) {
		memset(a, 0, sizeof(*a));
		memset(b, 0, sizeof(*b));
		*found_a = e2e_ktcp_find(lport, rport, a);
		*found_b = e2e_ktcp_find(rport, lport, b);
		if (kpred2(a, *found_a, b, *found_b))
			return true;
		if (trun_now_ms() >= deadline) {
			diag("kernel after %d ms: :%u -> :%u %s (inode %lu), :%u -> :%u %s (inode %lu)",
			     E2E_WAIT_MS, lport, rport,
			     *found_a ? e2e_tcp_state_name(a->state) : "gone", a->inode, rport,
			     lport, *found_b ? e2e_tcp_state_name(b->state) : "gone", b->inode);
			return false;
		}
		tlib_pause_ms(20);
	}
}

const char *e2e_tcp_state_name(int state)
{
	static const char *const names[] = {
		[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_SYN_SENT] = "SYN_SENT",
		[TCP_SYN_RECV] = "SYN_RECV",       [TCP_FIN_WAIT1] = "FIN_WAIT1",
		[TCP_FIN_WAIT2] = "FIN_WAIT2",     [TCP_TIME_WAIT] = "TIME_WAIT",
		[TCP_CLOSE] = "CLOSE",             [TCP_CLOSE_WAIT] = "CLOSE_WAIT",
		[TCP_LAST_ACK] = "LAST_ACK",       [TCP_LISTEN] = "LISTEN",
		[TCP_CLOSING] = "CLOSING",
	};

	if (state > 0 && (size_t)state < sizeof(names) / sizeof(names[0]) && names[state])
		return names[state];
	return "?";
}

/* Line n (1-based) of a file, or false. */
static bool source_line(const char *path, long n, char *out, size_t len)
{
	char *text = tlib_slurp(path), *s = text;
	bool ok_ = false;

	for (long i = 1; *s; i++) {
		char *nl = strchr(s, '\n');

		if (i == n) {
			snprintf(out, len, "%.*s", nl ? (int)(nl - s) : (int)strlen(s), s);
			ok_ = true;
			break;
		}
		if (!nl)
			break;
		s = nl + 1;
	}
	free(text);
	return ok_;
}

bool e2e_frame_is(json_object *group, const char *func, const char *file, const char *call)
{
	const char *fn, *base;
	char src[4096], text[512] = "";
	long line;

	if (!tj_first_frame(group, &fn, &base, &line)) {
		diag("group has no frames");
		return false;
	}
	snprintf(src, sizeof(src), "%s/%s", tlib_env("E2E_REPRO_SRC"), file);
	if (fn && base && !strcmp(fn, func) && !strcmp(base, file) &&
	    source_line(src, line, text, sizeof(text)) && strstr(text, call))
		return true;
	diag("first frame: %s at %s:%ld [%s], expected %s in %s on a line calling %s",
	     fn ? fn : "??", base ? base : "?", line, text, func, file, call);
	return false;
}

const char *e2e_only_key(json_object *o)
{
	const char *only = NULL;
	int n = 0;

	if (!o || !json_object_is_type(o, json_type_object))
		return NULL;
	json_object_object_foreach(o, key, val) {
		(void)val;
		only = key;
		n++;
	}
	return n == 1 ? only : NULL;
}
