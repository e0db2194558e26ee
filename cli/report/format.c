/* format: one socket as strings, the same for text and JSON. The
 * kernel's view wins; a tracked socket the kernel view lacks still has the
 * peer its connect()/accept() recorded. */
#include "report/format.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

void report_sock_local(const struct report_sock *s, char *buf, size_t len)
{
	if (s->ks) {
		ks_format_addr(&s->ks->local, buf, len);
		return;
	}
	snprintf(buf, len, "*");
}

void report_sock_peer(const struct report_sock *s, char *buf, size_t len)
{
	if (s->ks) {
		ks_format_addr(&s->ks->peer, buf, len);
		return;
	}
	if (!s->tracked) {
		snprintf(buf, len, "*");
		return;
	}
	report_slot_peer(&s->rec, buf, len);
}

void report_slot_peer(const struct sa_slot *rec, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	size_t n = rec->peer_len;

	if (n > SA_PEER_MAX)
		n = SA_PEER_MAX;
	if (n < sizeof(sa_family_t)) {
		snprintf(buf, len, "*");
		return;
	}
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, rec->peer, n);
	ks_format_addr(&ss, buf, len);
}

const char *report_sock_state(const struct report_sock *s)
{
	struct ks_sock at_exit;

	if (s->ks)
		return ks_state_name(s->ks);
	/* A table kept after exit (sockaudit run) has each TCP socket's state
	 * as the process left. */
	if (s->tracked && (s->rec.flags & SA_SLOT_EXIT_STATE)) {
		memset(&at_exit, 0, sizeof(at_exit));
		at_exit.family = s->rec.family;
		at_exit.protocol = IPPROTO_TCP;
		at_exit.state = s->rec.exit_state;
		return ks_state_name(&at_exit);
	}
	return "UNKNOWN";
}

static const char *sock_type_name(int type)
{
	switch (type) {
	case SOCK_STREAM:
		return "stream";
	case SOCK_DGRAM:
		return "dgram";
	case SOCK_SEQPACKET:
		return "seqpacket";
	case SOCK_RAW:
		return "raw";
	default:
		return "other";
	}
}

static const char *family_proto(int family, int protocol, int type, char *buf, size_t len)
{
	const char *v6 = family == AF_INET6 ? "6" : "";

	switch (family) {
	case AF_INET:
	case AF_INET6:
		if (protocol == IPPROTO_TCP || (protocol == 0 && type == SOCK_STREAM))
			snprintf(buf, len, "tcp%s", v6);
		else if (protocol == IPPROTO_UDP || (protocol == 0 && type == SOCK_DGRAM))
			snprintf(buf, len, "udp%s", v6);
		else
			snprintf(buf, len, "ip%s/%s", v6, sock_type_name(type));
		break;
	case AF_UNIX:
		snprintf(buf, len, "unix/%s", sock_type_name(type));
		break;
	case AF_NETLINK:
		snprintf(buf, len, "netlink");
		break;
	case AF_PACKET:
		snprintf(buf, len, "packet");
		break;
	default:
		snprintf(buf, len, "family-%d", family);
		break;
	}
	return buf;
}

void report_sock_proto(const struct report_sock *s, char *buf, size_t len)
{
	if (s->ks)
		family_proto(s->ks->family, s->ks->protocol, s->ks->type, buf, len);
	else if (s->tracked)
		family_proto(s->rec.family, s->rec.protocol, s->rec.type, buf, len);
	else
		snprintf(buf, len, "unknown");
}

void report_sock_reason(const struct report_sock *s, const struct leak_opts *o, char *buf,
			size_t len)
{
	leak_reason(o, &s->verdict, buf, len);
}
