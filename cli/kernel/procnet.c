/* procnet: the /proc/<pid>/net text tables, the fallback when sock_diag
 * cannot be had (another network namespace we may not enter, a kernel
 * without the diag module): no idle times, no UNIX peers. */
#include "kernel/kstate.h"
#include "kernel/kstate-private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>

/* __SO_ACCEPTCON in the Flags column of /proc/net/unix: a listener. */
#define KS_SO_ACCEPTCON (1 << 16)


/* The kernel prints each 32-bit word of an address with %08X, as the
 * in-memory (network order) word read as a host integer: converting the
 * text back to a host integer and storing it restores the bytes on either
 * endianness. */
static int ks_hex_words(const char *hex, size_t nwords, void *dst)
{
	uint32_t w;
	size_t i, j;
	char c;

	for (i = 0; i < nwords; i++) {
		w = 0;
		for (j = 0; j < 8; j++) {
			c = hex[i * 8 + j];
			if (c >= '0' && c <= '9')
				w = w << 4 | (uint32_t)(c - '0');
			else if (c >= 'A' && c <= 'F')
				w = w << 4 | (uint32_t)(c - 'A' + 10);
			else if (c >= 'a' && c <= 'f')
				w = w << 4 | (uint32_t)(c - 'a' + 10);
			else
				return -EINVAL;
		}
		memcpy((char *)dst + i * 4, &w, 4);
	}
	return hex[nwords * 8] ? -EINVAL : 0;
}

int ks_procnet_parse_inet(const char *line, int family, int protocol, struct ks_sock *out)
{
	char lhex[33], rhex[33];
	unsigned int lport, rport, state, txq, rxq;
	unsigned char laddr[16], raddr[16];
	size_t nwords = family == AF_INET6 ? 4 : 1;
	uint64_t inode;
	int n;

	memset(out, 0, sizeof(*out));
	if ((family != AF_INET && family != AF_INET6) ||
	    (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP))
		return -EINVAL;
	/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode ... */
	n = sscanf(line, " %*u: %32[0-9A-Fa-f]:%x %32[0-9A-Fa-f]:%x %x %x:%x %*x:%*x %*x %*u %*d %" SCNu64,
		   lhex, &lport, rhex, &rport, &state, &txq, &rxq, &inode);
	if (n != 8 || lport > 0xffff || rport > 0xffff || state > 0xff)
		return -EINVAL;
	if (strlen(lhex) != nwords * 8 || strlen(rhex) != nwords * 8 ||
	    ks_hex_words(lhex, nwords, laddr) < 0 || ks_hex_words(rhex, nwords, raddr) < 0)
		return -EINVAL;

	out->inode = inode;
	out->family = family;
	out->protocol = protocol;
	out->type = protocol == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	out->state = (int)state;
	out->rqueue = rxq;
	out->wqueue = txq;
	/* The text tables have no interface index: link-local stays unscoped. */
	ks_set_inet(&out->local, family, laddr, htons((uint16_t)lport), 0);
	ks_set_inet(&out->peer, family, raddr, htons((uint16_t)rport), 0);
	return 0;
}

int ks_procnet_parse_unix(const char *line, struct ks_sock *out)
{
	unsigned int flags, type, st;
	struct sockaddr_un *un = (void *)&out->local;
	const char *path;
	uint64_t inode;
	size_t len;
	int n = 0;

	memset(out, 0, sizeof(*out));
	/* Num: RefCount Protocol Flags Type St Inode [Path] */
	if (sscanf(line, "%*[0-9A-Fa-f]: %*x %*x %x %x %x %" SCNu64 "%n",
		   &flags, &type, &st, &inode, &n) != 4 || !n)
		return -EINVAL;

	out->inode = inode;
	out->family = AF_UNIX;
	out->type = (int)type;
	out->local.ss_family = AF_UNIX;
	out->peer.ss_family = AF_UNIX;
	/* The column is the socket layer's state; map it to the sk_state
	 * unix_diag reports, as ss does for its own /proc fallback. */
	if (flags & KS_SO_ACCEPTCON)
		out->state = TCP_LISTEN;
	else if (st == KS_SS_CONNECTED)
		out->state = TCP_ESTABLISHED;
	else if (st == KS_SS_CONNECTING)
		out->state = TCP_SYN_SENT;
	else if (st == KS_SS_DISCONNECTING)
		out->state = TCP_CLOSING;
	else
		out->state = TCP_CLOSE;

	path = line + n;
	if (*path != ' ')
		return 0;
	path++;
	len = strcspn(path, "\n");
	if (!len)
		return 0;
	/* Abstract names are printed with '@' for the leading NUL (and for
	 * any NUL inside, which cannot be told apart from a real '@'). */
	if (path[0] == '@') {
		path++;
		len--;
		if (len > sizeof(un->sun_path) - 1)
			len = sizeof(un->sun_path) - 1;
		memcpy(un->sun_path + 1, path, len);
	} else {
		if (len > sizeof(un->sun_path))
			len = sizeof(un->sun_path);
		memcpy(un->sun_path, path, len);
	}
	return 0;
}

int ks_procnet_file(struct ks_table *t, pid_t pid, const struct ks_dump_spec *spec)
{
	char path[64];
	char *line = NULL;
	size_t cap = 0;
	struct ks_sock s;
	FILE *f;
	int ret = 0;

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid, spec->procnet);
	else
		snprintf(path, sizeof(path), "/proc/self/net/%s", spec->procnet);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* The header line and anything unparsable are skipped by the parsers. */
	while (getline(&line, &cap, f) > 0) {
		if (spec->family == AF_UNIX)
			ret = ks_procnet_parse_unix(line, &s);
		else
			ret = ks_procnet_parse_inet(line, spec->family, spec->protocol, &s);
		if (ret < 0) {
			ret = 0;
			continue;
		}
		ret = ks_add(t, &s);
		if (ret < 0)
			break;
	}
	if (!ret && ferror(f))
		ret = -EIO;
	free(line);
	fclose(f);
	return ret;
}

int ks_collect_procnet(struct ks_table *t, pid_t pid)
{
	char who[16] = "self";
	size_t i;
	int ret;

	if (pid > 0)
		snprintf(who, sizeof(who), "%d", (int)pid);

	for (i = 0; i < KS_ARRAY_SIZE(ks_dumps); i++) {
		ret = ks_procnet_file(t, pid, &ks_dumps[i]);
		/* Without IPv6 there are no tcp6/udp6 files: nothing missed. */
		if (ret == -ENOENT && ks_dumps[i].family == AF_INET6 && (pid <= 0 || ks_pid_exists(pid)))
			continue;
		if (ret < 0)
			goto fail;
	}
	t->source = KS_SOURCE_PROCNET;
	ks_note(t, "sockets from /proc/%s/net: idle times unknown", who);
	ks_index_build(t);
	return 0;

fail:
	ks_free_entries(t);
	/* Nothing at all: why the fallback was taken matters less than why it
	 * failed too. */
	t->note[0] = '\0';
	if (pid > 0 && !ks_pid_exists(pid)) {
		ret = -ENOENT;
		ks_note(t, "process %d does not exist", (int)pid);
	} else {
		ks_note(t, "cannot read /proc/%s/net/%s: %s", who, ks_dumps[i].procnet, strerror(-ret));
	}
	return ret;
}
