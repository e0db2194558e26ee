/* `sockaudit dump` on a live process under the shim: --json holds every
 * socket dump-host opened with its origin, dup_of, peer and stacks, and
 * nothing /proc/<pid>/fd does not hold; text mode lists the same fds with
 * the same origins; --table on the same file says the same. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"
#include "dt.h"

#define MAX_FDS 64

struct expect {
	const char *what;
	int fd;
	const char *origin;
	const char *family;
	int dup_of;
	char peer[64];           /* "" : null */
	bool connect_stack;
};

static struct dt_host host;
static struct expect expects[6];
static int nexpects;

static void expect(const char *what, int fd, const char *origin, const char *family, int dup_of,
		   const char *peer, int port, bool connect_stack)
{
	struct expect *e = &expects[nexpects++];

	e->what = what;
	e->fd = fd;
	e->origin = origin;
	e->family = family;
	e->dup_of = dup_of;
	if (peer)
		snprintf(e->peer, sizeof(e->peer), "%s:%d", peer, port);
	e->connect_stack = connect_stack;
}

/* 1: a non-empty array of "0x<hex>" strings; 0: null; -1: anything else. */
static int stack_kind(json_object *rec, const char *key)
{
	json_object *a;
	size_t n;

	if (!json_object_object_get_ex(rec, key, &a))
		return -1;
	if (json_object_is_type(a, json_type_null))
		return 0;
	if (!json_object_is_type(a, json_type_array) || (n = json_object_array_length(a)) == 0 ||
	    n > SA_MAX_FRAMES)
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_object *f = json_object_array_get_idx(a, i);
		const char *s = json_object_is_type(f, json_type_string) ? json_object_get_string(f)
									 : NULL;

		if (!s || strncmp(s, "0x", 2) != 0 || !s[2] || strspn(s + 2, "0123456789abcdef") !=
		    strlen(s + 2))
			return -1;
	}
	return 1;
}

static const char *peer_of(json_object *rec, bool *is_null)
{
	json_object *p;

	*is_null = false;
	if (!json_object_object_get_ex(rec, "peer", &p))
		return NULL;
	if (json_object_is_type(p, json_type_null)) {
		*is_null = true;
		return NULL;
	}
	return json_object_is_type(p, json_type_string) ? json_object_get_string(p) : NULL;
}

static void check_header(json_object *root, const char *how)
{
	static const char *const counters[] = {
		"records", "overflow_fd", "overflow_stack", "overflow_module", "missed",
		"reserve_failed", "stale_cleared",
	};
	json_object *c;
	int64_t v;
	bool all = true;
	const char *s = dt_json_str(root, "schema");

	ok(s && strcmp(s, "sockaudit.dump/1") == 0, "%s: schema sockaudit.dump/1 (got %s)", how,
	   s ? s : "none");
	ok(dt_json_int(root, "pid", &v) && v == host.pid, "%s: pid %d", how, (int)host.pid);
	s = dt_json_str(root, "table");
	ok(s && strcmp(s, host.table) == 0, "%s: table %s (got %s)", how, host.table,
	   s ? s : "none");
	ok(dt_json_int(root, "unknown_slots", &v) && v == 0, "%s: no unknown slots", how);
	if (!ok(json_object_object_get_ex(root, "counters", &c) &&
		json_object_is_type(c, json_type_object), "%s: counters object present", how))
		return;
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		if (!dt_json_int(c, counters[i], &v) || v < 0) {
			diag("counter %s missing or negative", counters[i]);
			all = false;
		}
	ok(all, "%s: every counter present", how);
	/* socket x2, connect, accept, dup, socketpair x2 */
	ok(dt_json_int(c, "records", &v) && v >= 7, "%s: counters.records >= 7 (got %lld)", how,
	   (long long)(dt_json_int(c, "records", &v) ? v : -1));
}

/* Origins whose records may carry no inode: the opener knew it had a
 * socket and skipped the fstat; a dup copies its original's record. */
static bool inode_optional(json_object *rec)
{
	static const char *const origins[] = { "socket", "socketpair", "accept", "dup" };
	json_object *o;
	const char *s;

	if (!json_object_object_get_ex(rec, "origin", &o) || !(s = json_object_get_string(o)))
		return false;
	for (size_t i = 0; i < sizeof(origins) / sizeof(origins[0]); i++)
		if (strcmp(s, origins[i]) == 0)
			return true;
	return false;
}

static bool dt_inode_at_open(void)
{
	const char *e = getenv("SOCKAUDIT_INODE_AT_OPEN");

	return e && *e && strcmp(e, "0") != 0;
}

static void check_records(json_object *root, const char *how)
{
	int fds[MAX_FDS], n;
	uint64_t inodes[MAX_FDS];
	json_object *recs;
	bool exact = true;

	for (int i = 0; i < nexpects; i++) {
		const struct expect *e = &expects[i];
		json_object *rec = dt_json_record(root, e->fd);
		const char *s, *peer;
		bool null;
		int64_t v;

		if (!ok(rec != NULL, "%s: %s (fd %d) has a record", how, e->what, e->fd))
			continue;
		s = dt_json_str(rec, "status");
		ok(s && strcmp(s, "ok") == 0, "%s: %s status ok", how, e->what);
		s = dt_json_str(rec, "origin");
		ok(s && strcmp(s, e->origin) == 0, "%s: %s origin %s (got %s)", how, e->what,
		   e->origin, s ? s : "none");
		ok(dt_json_int(rec, "dup_of", &v) && v == e->dup_of, "%s: %s dup_of %d (got %lld)",
		   how, e->what, e->dup_of, dt_json_int(rec, "dup_of", &v) ? (long long)v : -999);
		s = dt_json_str(rec, "family");
		ok(s && strcmp(s, e->family) == 0 && (s = dt_json_str(rec, "type")) &&
		   strcmp(s, "stream") == 0, "%s: %s is %s stream", how, e->what, e->family);
		peer = peer_of(rec, &null);
		if (e->peer[0])
			ok(peer && strcmp(peer, e->peer) == 0, "%s: %s peer %s (got %s)", how,
			   e->what, e->peer, peer ? peer : null ? "null" : "none");
		else
			ok(null, "%s: %s peer null (got %s)", how, e->what, peer ? peer : "none");
		ok(stack_kind(rec, "open_stack") == 1, "%s: %s open_stack is a non-empty hex array",
		   how, e->what);
		ok(stack_kind(rec, "connect_stack") == (e->connect_stack ? 1 : 0),
		   "%s: %s connect_stack %s", how, e->what,
		   e->connect_stack ? "is a non-empty hex array" : "null");
	}

	/* The records are exactly the sockets the kernel says it holds. */
	n = dt_proc_sockets(host.pid, fds, inodes, MAX_FDS);
	if (!json_object_object_get_ex(root, "records", &recs) ||
	    !json_object_is_type(recs, json_type_array) || n < 0) {
		ok(false, "%s: records array and /proc/%d/fd readable", how, (int)host.pid);
		return;
	}
	for (int i = 0; i < n; i++) {
		json_object *rec = dt_json_record(root, fds[i]);
		int64_t ino;

		json_object *v;

		/* null: socket(), socketpair(), accept() and their dups leave
		 * the inode to the reader (docs/design.md, "Where this differs", 9). */
		if (rec && json_object_object_get_ex(rec, "inode", &v) &&
		    json_object_is_type(v, json_type_null) && !dt_inode_at_open() &&
		    inode_optional(rec))
			continue;
		if (!rec || !dt_json_int(rec, "inode", &ino) || (uint64_t)ino != inodes[i]) {
			diag("fd %d (socket %llu): no record with that inode", fds[i],
			     (unsigned long long)inodes[i]);
			exact = false;
		}
	}
	if ((int)json_object_array_length(recs) != n) {
		diag("%zu records, %d sockets in /proc/%d/fd", json_object_array_length(recs), n,
		     (int)host.pid);
		exact = false;
	}
	ok(exact, "%s: records match /proc/%d/fd, fd and inode", how, (int)host.pid);
}

static json_object *dump_json(const char *const *args, const char *how)
{
	struct trun r;
	json_object *root = NULL;

	tlib_cli(&r, args);
	if (ok(r.status == 0 && r.nerr == 0, "%s: exit 0, nothing on stderr", how))
		root = dt_json_parse(r.out);
	else
		diag("status %d, stderr: %s", r.status, tlib_oneline(r.err));
	ok(root != NULL, "%s: output is a JSON object", how);
	trun_free(&r);
	return root;
}

/* Text mode: the record lines (an fd first) and their ORIGIN column; ours
 * are each followed by their open stack. */
static void check_text(void)
{
	char pidarg[16], origin[64], head[64], *line, *save = NULL;
	const char *args[] = { "dump", pidarg, NULL };
	const char *lines[512];
	struct trun r;
	int seen[MAX_FDS], nseen = 0, nlines = 0;
	bool origins = true, header = false, pidline = false, dupnote = false, stacks = true;

	snprintf(pidarg, sizeof(pidarg), "%d", (int)host.pid);
	snprintf(head, sizeof(head), "pid %d ", (int)host.pid);
	tlib_cli(&r, args);
	if (!ok(r.status == 0 && r.nerr == 0, "text: exit 0, nothing on stderr")) {
		diag("status %d, stderr: %s", r.status, tlib_oneline(r.err));
		trun_free(&r);
		return;
	}
	for (line = strtok_r(r.out, "\n", &save); line && nlines < 512;
	     line = strtok_r(NULL, "\n", &save))
		lines[nlines++] = line;
	for (int l = 0; l < nlines; l++) {
		char ino[24];
		int fd;

		if (strncmp(lines[l], head, strlen(head)) == 0)
			pidline = true;
		if (strncmp(lines[l], "FD ", 3) == 0)
			header = true;
		if (!isdigit((unsigned char)lines[l][0]))
			continue;
		/* The inode column: a number, or "-" when the shim left it to the reader. */
		if (sscanf(lines[l], "%d %23s %63s", &fd, ino, origin) != 3 || nseen == MAX_FDS ||
		    !(strcmp(ino, "-") == 0 || strspn(ino, "0123456789") == strlen(ino))) {
			diag("unexpected record line: %s", lines[l]);
			origins = false;
			continue;
		}
		seen[nseen++] = fd;
		for (int i = 0; i < nexpects; i++) {
			if (expects[i].fd != fd)
				continue;
			if (strcmp(origin, expects[i].origin) != 0) {
				diag("fd %d: origin %s, expected %s", fd, origin, expects[i].origin);
				origins = false;
			}
			if (fd == host.dup) {
				char note[32];

				snprintf(note, sizeof(note), "(from fd %d)", host.client);
				dupnote = strstr(lines[l], note) != NULL;
			}
			if (l + 1 == nlines || strncmp(lines[l + 1], "    open: 0x", 12) != 0) {
				diag("fd %d: no open stack line after it", fd);
				stacks = false;
			}
		}
	}
	ok(pidline, "text: a \"pid %d\" line", (int)host.pid);
	ok(header, "text: the column header");
	for (int i = 0; i < nexpects; i++) {
		bool found = false;

		for (int j = 0; j < nseen; j++)
			found |= seen[j] == expects[i].fd;
		ok(found, "text: %s (fd %d) listed", expects[i].what, expects[i].fd);
	}
	ok(origins, "text: every listed fd has the origin --json gives");
	ok(dupnote, "text: the dup says (from fd %d)", host.client);
	ok(stacks, "text: each of dump-host's sockets has an open stack line");
	{
		int fds[MAX_FDS];
		uint64_t inodes[MAX_FDS];
		int n = dt_proc_sockets(host.pid, fds, inodes, MAX_FDS);

		ok(n == nseen, "text: %d records for %d sockets in /proc/%d/fd", nseen, n,
		   (int)host.pid);
	}
	trun_free(&r);
}

int main(int argc, char **argv)
{
	char pidarg[16];
	json_object *root;
	int status;

	dt_init(argc, argv);
	if (!dt_host_start(&host, true))
		bail("dump-host did not start under the shim");
	diag("dump-host %d, table %s", (int)host.pid, host.table);
	snprintf(pidarg, sizeof(pidarg), "%d", (int)host.pid);

	expect("listener", host.listen, "socket", "inet", -1, NULL, 0, false);
	expect("client", host.client, "socket", "inet", -1, "127.0.0.1", host.port, true);
	expect("accepted", host.accepted, "accept", "inet", host.listen, "127.0.0.1",
	       host.client_port, false);
	expect("dup of the client", host.dup, "dup", "inet", host.client, "127.0.0.1", host.port,
	       true);
	expect("socketpair end 0", host.pair[0], "socketpair", "unix", host.pair[1], NULL, 0, false);
	expect("socketpair end 1", host.pair[1], "socketpair", "unix", host.pair[0], NULL, 0, false);

	{
		const char *args[] = { "dump", "--json", pidarg, NULL };

		root = dump_json(args, "--json <pid>");
		if (root) {
			check_header(root, "--json <pid>");
			check_records(root, "--json <pid>");
			json_object_put(root);
		}
	}
	{
		/* GNU argument order: options may follow the operand. */
		const char *args[] = { "dump", pidarg, "--json", NULL };

		root = dump_json(args, "<pid> --json");
		if (root) {
			check_header(root, "<pid> --json");
			check_records(root, "<pid> --json");
			json_object_put(root);
		}
	}
	check_text();
	{
		const char *args[] = { "dump", "--json", "--table", host.table, NULL };

		root = dump_json(args, "--json --table");
		if (root) {
			check_header(root, "--json --table");
			check_records(root, "--json --table");
			json_object_put(root);
		}
	}

	status = dt_host_stop(&host);
	ok(status == 0, "dump-host exits 0 at stdin EOF (got %d)", status);
	ok(access(host.table, F_OK) < 0, "its table is gone after a normal exit");
	return dt_finish(tap_done());
}
