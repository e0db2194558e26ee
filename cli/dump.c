/* sockaudit dump <pid>: the raw records of a table, the low-level view. */
#include <getopt.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "commands.h"
#include "kernel/kstate.h"
#include "report/lframe.h"
#include "table-reader.h"
#include "util/target.h"
#include "util/util.h"

static void peer_string(const struct sa_slot *s, char *buf, size_t len)
{
	struct sockaddr_storage ss = { 0 };
	size_t n = s->peer_len < SA_PEER_MAX ? s->peer_len : SA_PEER_MAX;

	if (n == 0) {
		snprintf(buf, len, "-");
		return;
	}
	memcpy(&ss, s->peer, n);
	ks_format_addr(&ss, buf, len);
}

static const char *family_name(unsigned f)
{
	switch (f) {
	case AF_INET: return "inet";
	case AF_INET6: return "inet6";
	case AF_UNIX: return "unix";
	case AF_NETLINK: return "netlink";
	case AF_PACKET: return "packet";
	default: return "other";
	}
}

static const char *type_name(unsigned t)
{
	switch (t) {
	case SOCK_STREAM: return "stream";
	case SOCK_DGRAM: return "dgram";
	case SOCK_SEQPACKET: return "seqpacket";
	case SOCK_RAW: return "raw";
	default: return "other";
	}
}

static json_object *frames_json(struct sa_reader *r, uint32_t id)
{
	uint64_t frames[SA_MAX_FRAMES];
	uint32_t n = sa_reader_stack(r, id, frames);
	json_object *a;
	char hex[24];

	if (!id)
		return json_object_new_null();
	a = json_object_new_array();
	for (uint32_t i = 0; i < n; i++) {
		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)frames[i]);
		json_object_array_add(a, json_object_new_string(hex));
	}
	return a;
}

/* A language frame as "python:file:line:function", "?" when unreadable. */
static void lang_text(struct sa_reader *r, uint64_t entry, char *buf, size_t len)
{
	struct report_lframe lf;

	if (!report_lframe_read(r, entry, &lf))
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%s:%s:%d:%s", lf.language, lf.file, lf.line, lf.function);
}

static json_object *lang_json(struct sa_reader *r, uint32_t id)
{
	uint64_t frames[SA_MAX_FRAMES];
	uint32_t n = sa_reader_stack(r, id, frames);
	json_object *a;
	char buf[2 * LFRAME_TEXT_MAX + 32];

	if (!id)
		return json_object_new_null();
	a = json_object_new_array();
	for (uint32_t i = 0; i < n && sa_frame_is_lang(frames[i]); i++) {
		lang_text(r, frames[i], buf, sizeof(buf));
		json_object_array_add(a, json_object_new_string(buf));
	}
	return a;
}

static void print_frames(struct sa_reader *r, const char *what, uint32_t id)
{
	uint64_t frames[SA_MAX_FRAMES];
	uint32_t n = sa_reader_stack(r, id, frames);

	if (!id)
		return;
	printf("    %s:", what);
	for (uint32_t i = 0; i < n; i++) {
		char buf[2 * LFRAME_TEXT_MAX + 32];

		if (!sa_frame_is_lang(frames[i])) {
			printf(" 0x%llx", (unsigned long long)frames[i]);
			continue;
		}
		lang_text(r, frames[i], buf, sizeof(buf));
		printf(" %s", buf);
	}
	printf("%s\n", n ? "" : " (stack not readable)");
}

static json_object *counters_json(const struct sa_counters *c)
{
	json_object *o = json_object_new_object();

	for (unsigned i = 0; i < SA_NCOUNTERS; i++)
		json_object_object_add(o, sa_counter_names[i],
				       json_object_new_uint64(sa_counter_at(c, i)));
	return o;
}

/* The GC-rescued closes the table keeps, most recent first. */
static json_object *rescued_json(struct sa_reader *r)
{
	struct sa_rescued v[SA_RESCUED_MAX];
	json_object *a = json_object_new_array();
	uint64_t total;
	size_t n = sa_reader_rescued(r, v, SA_RESCUED_MAX, &total);
	char peer[160];

	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();
		const struct sa_slot *sl = &v[i].slot;

		peer_string(sl, peer, sizeof(peer));
		json_object_object_add(o, "fd", json_object_new_int(sl->fd));
		json_object_object_add(o, "inode", sl->inode ? json_object_new_uint64(sl->inode)
							      : json_object_new_null());
		json_object_object_add(o, "peer", sl->peer_len ? json_object_new_string(peer)
							       : json_object_new_null());
		json_object_object_add(o, "open_ns", json_object_new_uint64(sl->open_ns));
		json_object_object_add(o, "close_ns", json_object_new_uint64(v[i].close_ns));
		json_object_object_add(o, "generation", json_object_new_int64(sl->generation));
		json_object_object_add(o, "open_stack", frames_json(r, sl->open_stack));
		json_object_object_add(o, "connect_stack", frames_json(r, sl->connect_stack));
		json_object_array_add(a, o);
	}
	return a;
}

static void dump_json(struct sa_reader *r, const struct sa_snapshot *s)
{
	json_object *root = json_object_new_object(), *recs = json_object_new_array();
	const struct sa_header *h = &s->hdr;
	uint64_t now = now_realtime_ns();
	char peer[160];

	json_object_object_add(root, "schema", json_object_new_string("sockaudit.dump/1"));
	json_object_object_add(root, "table", json_object_new_string(r->path));
	json_object_object_add(root, "pid", json_object_new_int(h->pid));
	json_object_object_add(root, "ppid", json_object_new_int(h->ppid));
	json_object_object_add(root, "uid", json_object_new_int64(h->uid));
	json_object_object_add(root, "starttime", json_object_new_uint64(h->starttime));
	json_object_object_add(root, "generation", json_object_new_int64(h->generation));
	json_object_object_add(root, "cmdline", json_object_new_string(h->cmdline));
	json_object_object_add(root, "run_id", json_object_new_string(h->run_id));
	json_object_object_add(root, "exited", json_object_new_boolean(h->flags & SA_HDR_EXITED));
	json_object_object_add(root, "forked", json_object_new_boolean(h->flags & SA_HDR_FORKED));
	json_object_object_add(root, "writer", json_object_new_string(
		h->flags & SA_HDR_RECORDER ? "recorder" : "shim"));
	json_object_object_add(root, "nslots", json_object_new_int64(h->nslots));
	json_object_object_add(root, "depth", json_object_new_int64(h->depth));
	json_object_object_add(root, "counters", counters_json(&h->counters));
	json_object_object_add(root, "unknown_slots", json_object_new_uint64(s->nunknown));
	for (size_t i = 0; i < s->nrecs; i++) {
		const struct sa_slot *sl = &s->recs[i].slot;
		json_object *o = json_object_new_object();

		json_object_object_add(o, "fd", json_object_new_int(sl->fd));
		if (s->recs[i].status == SA_REC_UNKNOWN) {
			json_object_object_add(o, "status", json_object_new_string("unknown"));
			json_object_array_add(recs, o);
			continue;
		}
		peer_string(sl, peer, sizeof(peer));
		json_object_object_add(o, "status", json_object_new_string("ok"));
		json_object_object_add(o, "inode", sl->inode ? json_object_new_uint64(sl->inode)
							      : json_object_new_null());
		json_object_object_add(o, "origin", json_object_new_string(sa_origin_name(sl->origin)));
		json_object_object_add(o, "dup_of", json_object_new_int(sl->dup_of));
		json_object_object_add(o, "family", json_object_new_string(family_name(sl->family)));
		json_object_object_add(o, "type", json_object_new_string(type_name(sl->type)));
		json_object_object_add(o, "protocol", json_object_new_int(sl->protocol));
		json_object_object_add(o, "tid", json_object_new_int64(sl->tid));
		json_object_object_add(o, "generation", json_object_new_int64(sl->generation));
		json_object_object_add(o, "open_ns", json_object_new_uint64(sl->open_ns));
		json_object_object_add(o, "age_ms", json_object_new_uint64(
			now > sl->open_ns ? (now - sl->open_ns) / 1000000 : 0));
		json_object_object_add(o, "peer", sl->peer_len ? json_object_new_string(peer)
							       : json_object_new_null());
		json_object_object_add(o, "peer_truncated",
				       json_object_new_boolean(sl->flags & SA_SLOT_PEER_TRUNC));
		json_object_object_add(o, "connect_ns", json_object_new_uint64(sl->connect_ns));
		json_object_object_add(o, "exit_state", (sl->flags & SA_SLOT_EXIT_STATE)
			? json_object_new_int(sl->exit_state) : json_object_new_null());
		json_object_object_add(o, "open_stack", frames_json(r, sl->open_stack));
		json_object_object_add(o, "connect_stack", frames_json(r, sl->connect_stack));
		json_object_object_add(o, "open_lang", lang_json(r, sl->open_stack));
		json_object_object_add(o, "connect_lang", lang_json(r, sl->connect_stack));
		json_object_array_add(recs, o);
	}
	json_object_object_add(root, "records", recs);
	json_object_object_add(root, "rescued", rescued_json(r));
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

static void dump_rescued_text(struct sa_reader *r)
{
	struct sa_rescued v[SA_RESCUED_MAX];
	uint64_t total;
	size_t n = sa_reader_rescued(r, v, SA_RESCUED_MAX, &total);
	char peer[160], held[32];

	if (!total)
		return;
	printf("closed by a garbage collector: %llu (the last %zu)\n", (unsigned long long)total,
	       n);
	for (size_t i = 0; i < n; i++) {
		const struct sa_slot *sl = &v[i].slot;

		peer_string(sl, peer, sizeof(peer));
		format_duration(v[i].close_ns > sl->open_ns ? (v[i].close_ns - sl->open_ns) / 1000000
							    : 0, held, sizeof(held));
		printf("%-5d held %s  %s\n", sl->fd, held, peer);
		print_frames(r, "open", sl->open_stack);
		print_frames(r, "connect", sl->connect_stack);
	}
}

static void dump_text(struct sa_reader *r, const struct sa_snapshot *s)
{
	const struct sa_header *h = &s->hdr;
	const struct sa_counters *c = &h->counters;
	uint64_t now = now_realtime_ns();
	char peer[160], age[32], ino[24];

	printf("table %s\n", r->path);
	printf("pid %d  ppid %d  uid %u  generation %u%s%s%s\n", h->pid, h->ppid, h->uid,
	       h->generation, h->flags & SA_HDR_EXITED ? "  exited" : "",
	       h->flags & SA_HDR_FORKED ? "  forked" : "",
	       h->flags & SA_HDR_RECORDER ? "  written by sockaudit trace" : "");
	printf("cmdline %s\n", h->cmdline);
	if (h->run_id[0])
		printf("run %s\n", h->run_id);
	printf("records written %llu, overflow fd %llu stack %llu module %llu, missed %llu, "
	       "reserve failed %llu, unknown slots %zu\n",
	       (unsigned long long)c->records, (unsigned long long)c->overflow_fd,
	       (unsigned long long)c->overflow_stack, (unsigned long long)c->overflow_module,
	       (unsigned long long)c->missed, (unsigned long long)c->reserve_failed,
	       s->nunknown);
	printf("%-5s %-10s %-16s %-6s %-9s %-8s %s\n", "FD", "INODE", "ORIGIN", "FAMILY",
	       "TYPE", "AGE", "PEER");
	for (size_t i = 0; i < s->nrecs; i++) {
		const struct sa_slot *sl = &s->recs[i].slot;

		if (s->recs[i].status == SA_REC_UNKNOWN) {
			printf("%-5d (slot mid-update: unknown)\n", sl->fd);
			continue;
		}
		peer_string(sl, peer, sizeof(peer));
		format_duration(now > sl->open_ns ? (now - sl->open_ns) / 1000000 : 0, age,
				sizeof(age));
		if (sl->inode)
			snprintf(ino, sizeof(ino), "%llu", (unsigned long long)sl->inode);
		else
			snprintf(ino, sizeof(ino), "-");
		printf("%-5d %-10s %-16s %-6s %-9s %-8s %s", sl->fd, ino, sa_origin_name(sl->origin),
		       family_name(sl->family), type_name(sl->type), age, peer);
		if (sl->origin == SA_ORIGIN_DUP || sl->origin == SA_ORIGIN_RECEIVED)
			printf("  (%s fd %d)", sl->origin == SA_ORIGIN_DUP ? "from" : "via",
			       sl->dup_of);
		putchar('\n');
		print_frames(r, "open", sl->open_stack);
		print_frames(r, "connect", sl->connect_stack);
	}
	dump_rescued_text(r);
}

int cmd_dump(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "table", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *table = NULL;
	struct sa_reader r;
	struct sa_snapshot s;
	struct target t;
	bool json = false;
	char err[512];
	int c, pid = 0;

	/* getopt's own message would be a second stderr line: errors are one. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jt:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 't': table = optarg; break;
		case 'h':
			puts("usage: sockaudit dump [--json] [--table FILE] <pid>");
			return EXIT_CLEAN;
		case ':':
			die("dump: option %s needs an argument (see sockaudit dump --help)",
			    argv[optind - 1]);
		default:
			if (optopt)
				die("dump: bad option -%c (see sockaudit dump --help)", optopt);
			die("dump: bad option %s (see sockaudit dump --help)", argv[optind - 1]);
		}
	}
	if (optind == argc && table) {
		pid = 0;
	} else if (optind + 1 != argc || parse_pid(argv[optind], &pid) < 0) {
		die("dump: expected one pid, got %s", optind < argc ? argv[optind] : "nothing");
	}
	if (pid) {
		target_resolve(&t, pid, table);
		if (!t.table[0]) {
			target_explain(&t);
			die("pid %d has no table: %s", pid, t.why);
		}
		target_open_table(&t, &r);
	} else if (sa_reader_open(&r, table, (uid_t)-1, err, sizeof(err)) < 0) {
		die("%s", err);
	}
	if (sa_reader_snapshot(&r, &s, err, sizeof(err)) < 0)
		die("%s", err);
	if (json)
		dump_json(&r, &s);
	else
		dump_text(&r, &s);
	sa_snapshot_finish(&s);
	sa_reader_close(&r);
	return EXIT_CLEAN;
}
