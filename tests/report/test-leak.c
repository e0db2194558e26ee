/* The leak rule and the duration syntax, from tables of cases. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "../tap.h"
#include "report/leak.h"
#include "report/model.h"
#include "util/util.h"

#define MS_MAX 0xffffffffu

struct leak_case {
	const char *what;
	bool fd_open, known;
	int family, protocol, state;
	bool info;
	uint32_t data_recv, data_sent, ack_recv;
	uint64_t cw, idle;               /* thresholds */
	enum leak_kind kind;
	bool flagged;
};

static const struct leak_case leak_cases[] = {
	{ "CLOSE_WAIT at the threshold", true, true, AF_INET, IPPROTO_TCP, TCP_CLOSE_WAIT, true,
	  9000, 9000, 5000, 5000, 60000, LEAK_CLOSE_WAIT, true },
	{ "CLOSE_WAIT 1 ms short", true, true, AF_INET, IPPROTO_TCP, TCP_CLOSE_WAIT, true,
	  9000, 9000, 4999, 5000, 60000, LEAK_NONE, false },
	{ "CLOSE_WAIT: long idle before the FIN does not count", true, true, AF_INET, IPPROTO_TCP,
	  TCP_CLOSE_WAIT, true, 600000, 600000, 100, 5000, 60000, LEAK_NONE, false },
	{ "CLOSE_WAIT over IPv6", true, true, AF_INET6, IPPROTO_TCP, TCP_CLOSE_WAIT, true,
	  20000, 20000, 20000, 5000, 60000, LEAK_CLOSE_WAIT, true },
	{ "CLOSE_WAIT without tcp_info: listed, not flagged", true, true, AF_INET, IPPROTO_TCP,
	  TCP_CLOSE_WAIT, false, 0, 0, 0, 5000, 60000, LEAK_CLOSE_WAIT_AGE_UNKNOWN, false },
	{ "CLOSE_WAIT no longer held", false, true, AF_INET, IPPROTO_TCP, TCP_CLOSE_WAIT, true,
	  90000, 90000, 90000, 5000, 60000, LEAK_NONE, false },
	{ "CLOSE_WAIT, threshold 0", true, true, AF_INET, IPPROTO_TCP, TCP_CLOSE_WAIT, true,
	  0, 0, 0, 0, 60000, LEAK_CLOSE_WAIT, true },
	{ "CLOSE_WAIT, jiffies at their maximum", true, true, AF_INET, IPPROTO_TCP, TCP_CLOSE_WAIT,
	  true, MS_MAX, MS_MAX, MS_MAX, 3600000, 60000, LEAK_CLOSE_WAIT, true },
	{ "ESTABLISHED idle at the threshold", true, true, AF_INET, IPPROTO_TCP, TCP_ESTABLISHED,
	  true, 60000, 60000, 0, 5000, 60000, LEAK_IDLE, true },
	{ "ESTABLISHED idle: recent send counts", true, true, AF_INET, IPPROTO_TCP,
	  TCP_ESTABLISHED, true, 90000, 59999, 0, 5000, 60000, LEAK_NONE, false },
	{ "ESTABLISHED idle: recent receive counts", true, true, AF_INET6, IPPROTO_TCP,
	  TCP_ESTABLISHED, true, 10, 90000, 90000, 5000, 60000, LEAK_NONE, false },
	{ "ESTABLISHED: keepalive ACKs do not make it busy", true, true, AF_INET, IPPROTO_TCP,
	  TCP_ESTABLISHED, true, 70000, 70000, 5, 5000, 60000, LEAK_IDLE, true },
	{ "ESTABLISHED without tcp_info: idle unknown", true, true, AF_INET, IPPROTO_TCP,
	  TCP_ESTABLISHED, false, 0, 0, 0, 0, 0, LEAK_NONE, false },
	{ "ESTABLISHED, threshold 0", true, true, AF_INET, IPPROTO_TCP, TCP_ESTABLISHED, true,
	  0, 0, 0, 0, 0, LEAK_IDLE, true },
	{ "LISTEN is never flagged", true, true, AF_INET, IPPROTO_TCP, TCP_LISTEN, true,
	  MS_MAX, MS_MAX, MS_MAX, 0, 0, LEAK_NONE, false },
	{ "SYN_SENT", true, true, AF_INET, IPPROTO_TCP, TCP_SYN_SENT, true, MS_MAX, MS_MAX, MS_MAX,
	  0, 0, LEAK_NONE, false },
	{ "FIN_WAIT2", true, true, AF_INET, IPPROTO_TCP, TCP_FIN_WAIT2, true, MS_MAX, MS_MAX,
	  MS_MAX, 0, 0, LEAK_NONE, false },
	{ "LAST_ACK", true, true, AF_INET, IPPROTO_TCP, TCP_LAST_ACK, true, MS_MAX, MS_MAX, MS_MAX,
	  0, 0, LEAK_NONE, false },
	{ "TCP CLOSE (never connected)", true, true, AF_INET, IPPROTO_TCP, TCP_CLOSE, true, MS_MAX,
	  MS_MAX, MS_MAX, 0, 0, LEAK_NONE, false },
	{ "UDP 'established' (connected)", true, true, AF_INET, IPPROTO_UDP, TCP_ESTABLISHED, false,
	  0, 0, 0, 0, 0, LEAK_NONE, false },
	{ "UNIX stream connected", true, true, AF_UNIX, 0, TCP_ESTABLISHED, false, 0, 0, 0, 0, 0,
	  LEAK_NONE, false },
	{ "UNIX in a TCP-like CLOSE_WAIT number", true, true, AF_UNIX, 0, TCP_CLOSE_WAIT, false,
	  0, 0, 0, 0, 0, LEAK_NONE, false },
	{ "unknown to the kernel view", true, false, 0, 0, 0, false, 0, 0, 0, 0, 0, LEAK_NONE,
	  false },
};

static void test_leak_rule(void)
{
	for (size_t i = 0; i < sizeof(leak_cases) / sizeof(leak_cases[0]); i++) {
		const struct leak_case *c = &leak_cases[i];
		struct leak_opts o = { .close_wait_ms = c->cw, .idle_ms = c->idle };
		struct ks_sock ks;
		struct leak_verdict v;
		char reason[200];

		memset(&ks, 0, sizeof(ks));
		ks.family = c->family;
		ks.protocol = c->protocol;
		ks.state = c->state;
		ks.have_tcp_info = c->info;
		ks.last_data_recv_ms = c->data_recv;
		ks.last_data_sent_ms = c->data_sent;
		ks.last_ack_recv_ms = c->ack_recv;
		leak_classify(&o, c->fd_open, c->known ? &ks : NULL, &v);
		leak_reason(&o, &v, reason, sizeof(reason));
		ok(v.kind == c->kind && v.flagged == c->flagged && (reason[0] != '\0') ==
		   (c->kind != LEAK_NONE), "leak rule: %s -> %s%s", c->what, leak_kind_name(v.kind),
		   v.flagged ? " (flagged)" : "");
	}
}

static void test_leak_ages(void)
{
	struct leak_opts o;
	struct ks_sock ks;
	struct leak_verdict v;

	leak_opts_default(&o);
	ok(o.close_wait_ms == 5000 && o.idle_ms == 60000, "defaults: close-wait 5s, idle 60s");
	memset(&ks, 0, sizeof(ks));
	ks.family = AF_INET;
	ks.protocol = IPPROTO_TCP;
	ks.state = TCP_CLOSE_WAIT;
	ks.have_tcp_info = true;
	ks.last_data_recv_ms = 7000;
	ks.last_data_sent_ms = 9000;
	ks.last_ack_recv_ms = 2000;
	leak_classify(&o, true, &ks, &v);
	ok(v.close_wait_known && v.close_wait_ms == 2000 && v.close_wait_max_ms == 7000,
	   "CLOSE_WAIT age: last_ack_recv is the lower bound, last_data_recv the upper");
	ok(v.idle_known && v.idle_ms == 7000, "idle: min(last_data_recv, last_data_sent)");
	ok(strcmp(leak_kind_name(LEAK_CLOSE_WAIT), "close-wait") == 0 &&
	   strcmp(leak_kind_name(LEAK_IDLE), "idle") == 0 &&
	   strcmp(leak_kind_name(LEAK_CLOSE_WAIT_AGE_UNKNOWN), "close-wait-age-unknown") == 0 &&
	   strcmp(leak_kind_name(LEAK_NONE), "none") == 0, "kind names are the JSON ones");
}

struct dur_case {
	const char *in;
	int rc;
	uint64_t ms;
};

static const struct dur_case dur_cases[] = {
	{ "250ms", 0, 250 }, { "5s", 0, 5000 }, { "2m", 0, 120000 }, { "1h", 0, 3600000 },
	{ "1500", 0, 1500 }, { "0", 0, 0 }, { "0ms", 0, 0 }, { "200ms", 0, 200 },
	{ "48h", 0, 172800000 },
	{ "", -1, 0 }, { "ms", -1, 0 }, { "5x", -1, 0 }, { "-1", -1, 0 }, { "1.5s", 0, 1500 }, { "1m30s", 0, 90000 }, { "1.5", -1, 0 },
	{ " 5s", -1, 0 }, { "5s ", -1, 0 }, { "5S", -1, 0 }, { "5 s", -1, 0 }, { "s5", -1, 0 },
	{ "5sec", -1, 0 }, { "99999999999999999999", -1, 0 }, { "18446744073709551615h", -1, 0 },
};

struct fmt_case {
	uint64_t ms;
	const char *out;
};

static const struct fmt_case fmt_cases[] = {
	{ 0, "0ms" }, { 999, "999ms" }, { 1000, "1.0s" }, { 1500, "1.5s" },
	{ 60000, "1m00s" }, { 192000, "3m12s" }, { 3600000, "1h00m" }, { 7500000, "2h05m" },
};

/* The thresholds are inclusive, and `run` asks the same function. */
static void test_leak_past(void)
{
	static const struct {
		enum leak_kind kind;
		uint64_t age_ms;
		bool past;
	} cases[] = {
		{ LEAK_CLOSE_WAIT, 0, false },
		{ LEAK_CLOSE_WAIT, 4999, false },
		{ LEAK_CLOSE_WAIT, 5000, true },
		{ LEAK_CLOSE_WAIT, 5001, true },
		{ LEAK_IDLE, 59999, false },
		{ LEAK_IDLE, 60000, true },
		{ LEAK_IDLE, UINT64_MAX, true },
		{ LEAK_CLOSE_WAIT_AGE_UNKNOWN, UINT64_MAX, false },
		{ LEAK_NONE, UINT64_MAX, false },
	};
	struct leak_opts o;

	leak_opts_default(&o);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(leak_past(&o, cases[i].kind, cases[i].age_ms) == cases[i].past,
		   "leak_past(%s, %llu ms) is %s", leak_kind_name(cases[i].kind),
		   (unsigned long long)cases[i].age_ms, cases[i].past ? "true" : "false");
}

static void test_durations(void)
{
	for (size_t i = 0; i < sizeof(dur_cases) / sizeof(dur_cases[0]); i++) {
		const struct dur_case *c = &dur_cases[i];
		uint64_t ms = 12345;
		int rc = parse_duration_ms(c->in, &ms);

		ok(rc == c->rc && (rc < 0 || ms == c->ms), "duration '%s' -> %s", c->in,
		   c->rc ? "rejected" : "accepted");
	}
	for (size_t i = 0; i < sizeof(fmt_cases) / sizeof(fmt_cases[0]); i++) {
		char buf[32];

		format_duration(fmt_cases[i].ms, buf, sizeof(buf));
		ok(strcmp(buf, fmt_cases[i].out) == 0, "format %llu ms -> '%s' (got '%s')",
		   (unsigned long long)fmt_cases[i].ms, fmt_cases[i].out, buf);
	}
}

static void test_threshold_precedence(void)
{
	struct report_opts o;

	report_opts_init(&o);
	o.threshold_set = true;
	o.threshold_ms = 1000;
	report_opts_finish(&o);
	ok(o.leak.close_wait_ms == 1000 && o.leak.idle_ms == 1000, "--threshold sets both");
	report_opts_init(&o);
	o.leak.idle_ms = 5000;
	o.idle_set = true;
	o.threshold_set = true;
	o.threshold_ms = 1000;
	report_opts_finish(&o);
	ok(o.leak.close_wait_ms == 1000 && o.leak.idle_ms == 5000,
	   "--idle given on its own beats --threshold");
	report_opts_init(&o);
	report_opts_finish(&o);
	ok(o.leak.close_wait_ms == 5000 && o.leak.idle_ms == 60000 && o.exit_code == 1,
	   "no options: defaults, exit code 1 when flagged");
}

int main(void)
{
	test_leak_rule();
	test_leak_ages();
	test_leak_past();
	test_durations();
	test_threshold_precedence();
	return tap_done();
}
