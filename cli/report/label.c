/* label: name an untracked socket by its peer. glibc opens these
 * through internal entry points the shim never sees (DESIGN §2): syslog's
 * /dev/log, nscd's socket, the resolver's port 53, netlink for
 * getaddrinfo/if_nameindex. The label says "this is libc, not you". */
#include "report/label.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

static bool unix_peer_is(const struct ks_sock *ks, const char *const *paths)
{
	const struct sockaddr_un *un = (const void *)&ks->peer;
	size_t n = strnlen(un->sun_path, sizeof(un->sun_path));

	if (ks->peer.ss_family != AF_UNIX || !un->sun_path[0])
		return false;
	for (; *paths; paths++)
		if (strlen(*paths) == n && memcmp(*paths, un->sun_path, n) == 0)
			return true;
	return false;
}

static unsigned inet_peer_port(const struct ks_sock *ks)
{
	if (ks->peer.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)&ks->peer)->sin_port);
	if (ks->peer.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)&ks->peer)->sin6_port);
	return 0;
}

enum report_label report_label_of(const struct ks_sock *ks)
{
	/* systemd makes /dev/log a symlink to journald's socket; the kernel
	 * names the peer by the path it was bound to. */
	static const char *const devlog[] = {
		"/dev/log", "/run/systemd/journal/dev-log", "/run/systemd/journal/syslog", NULL,
	};
	static const char *const nscd[] = {
		"/var/run/nscd/socket", "/run/nscd/socket", NULL,
	};

	/* sock_diag lists TCP, UDP and UNIX: anything else held as a socket
	 * (netlink above all, packet, ...) is unknown to it. */
	if (!ks || (ks->family != AF_UNIX && ks->family != AF_INET && ks->family != AF_INET6))
		return REPORT_LABEL_NETLINK;
	if (ks->family == AF_UNIX) {
		if (unix_peer_is(ks, devlog))
			return REPORT_LABEL_DEVLOG;
		if (unix_peer_is(ks, nscd))
			return REPORT_LABEL_NSCD;
		return REPORT_LABEL_UNKNOWN;
	}
	if (inet_peer_port(ks) == 53)
		return REPORT_LABEL_DNS;
	return REPORT_LABEL_UNKNOWN;
}

const char *report_label_name(enum report_label l)
{
	switch (l) {
	case REPORT_LABEL_DEVLOG:
		return "/dev/log";
	case REPORT_LABEL_NSCD:
		return "nscd";
	case REPORT_LABEL_DNS:
		return "DNS";
	case REPORT_LABEL_NETLINK:
		return "netlink/other";
	case REPORT_LABEL_UNKNOWN:
		return "unknown";
	default:
		return "";
	}
}

const char *report_label_key(enum report_label l)
{
	switch (l) {
	case REPORT_LABEL_DEVLOG:
		return "devlog";
	case REPORT_LABEL_NSCD:
		return "nscd";
	case REPORT_LABEL_DNS:
		return "dns";
	case REPORT_LABEL_NETLINK:
		return "netlink";
	case REPORT_LABEL_UNKNOWN:
		return "unknown";
	default:
		return "none";
	}
}
