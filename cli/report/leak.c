/* leak: the pure leak rule (see leak.h). */
#include "report/leak.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "util/util.h"

void leak_opts_default(struct leak_opts *o)
{
	o->close_wait_ms = LEAK_DEFAULT_CLOSE_WAIT_MS;
	o->idle_ms = LEAK_DEFAULT_IDLE_MS;
}

bool leak_past(const struct leak_opts *o, enum leak_kind kind, uint64_t age_ms)
{
	switch (kind) {
	case LEAK_CLOSE_WAIT:
		return age_ms >= o->close_wait_ms;
	case LEAK_IDLE:
		return age_ms >= o->idle_ms;
	default:
		return false;
	}
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

void leak_classify(const struct leak_opts *o, bool fd_open, const struct ks_sock *ks,
		   struct leak_verdict *v)
{
	memset(v, 0, sizeof(*v));
	if (!ks)
		return;
	v->is_tcp = ks->protocol == IPPROTO_TCP &&
		    (ks->family == AF_INET || ks->family == AF_INET6);
	if (!v->is_tcp)
		return;
	if (ks->have_tcp_info &&
	    (ks->state == TCP_ESTABLISHED || ks->state == TCP_CLOSE_WAIT)) {
		v->idle_known = true;
		v->idle_ms = min_u64(ks->last_data_recv_ms, ks->last_data_sent_ms);
	}
	if (ks->state == TCP_CLOSE_WAIT && ks->have_tcp_info) {
		/* The FIN resets last_ack_recv and nothing later does unless
		 * this side sends or keepalive probes are answered, both of
		 * which only make the value smaller: a lower bound. All data
		 * precedes the FIN, so last_data_recv is an upper bound. */
		v->close_wait_known = true;
		v->close_wait_ms = ks->last_ack_recv_ms;
		v->close_wait_max_ms = ks->last_data_recv_ms < ks->last_ack_recv_ms
					       ? ks->last_ack_recv_ms : ks->last_data_recv_ms;
	}
	/* A socket the target no longer holds is somebody else's business
	 * (an orphan the kernel finishes on its own). */
	if (!fd_open)
		return;
	switch (ks->state) {
	case TCP_CLOSE_WAIT:
		if (!v->close_wait_known)
			v->kind = LEAK_CLOSE_WAIT_AGE_UNKNOWN;
		else if (leak_past(o, LEAK_CLOSE_WAIT, v->close_wait_ms))
			v->kind = LEAK_CLOSE_WAIT;
		break;
	case TCP_ESTABLISHED:
		if (v->idle_known && leak_past(o, LEAK_IDLE, v->idle_ms))
			v->kind = LEAK_IDLE;
		break;
	default:
		break;
	}
	v->flagged = v->kind == LEAK_CLOSE_WAIT || v->kind == LEAK_IDLE;
}

const char *leak_kind_name(enum leak_kind k)
{
	switch (k) {
	case LEAK_CLOSE_WAIT:
		return "close-wait";
	case LEAK_IDLE:
		return "idle";
	case LEAK_CLOSE_WAIT_AGE_UNKNOWN:
		return "close-wait-age-unknown";
	default:
		return "none";
	}
}

void leak_reason(const struct leak_opts *o, const struct leak_verdict *v, char *buf, size_t len)
{
	char age[32], thr[32];

	if (!len)
		return;
	buf[0] = '\0';
	switch (v->kind) {
	case LEAK_CLOSE_WAIT:
		format_duration(v->close_wait_ms, age, sizeof(age));
		format_duration(o->close_wait_ms, thr, sizeof(thr));
		snprintf(buf, len, "CLOSE_WAIT for at least %s (threshold %s): the peer closed, "
			 "this side never did", age, thr);
		break;
	case LEAK_IDLE:
		format_duration(v->idle_ms, age, sizeof(age));
		format_duration(o->idle_ms, thr, sizeof(thr));
		snprintf(buf, len, "ESTABLISHED with no data either way for %s (threshold %s)",
			 age, thr);
		break;
	case LEAK_CLOSE_WAIT_AGE_UNKNOWN:
		snprintf(buf, len, "CLOSE_WAIT for an unknown time (no tcp_info): not flagged");
		break;
	default:
		break;
	}
}
