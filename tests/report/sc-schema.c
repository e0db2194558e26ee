/* Something of every kind the report's JSON describes, so that the schema
 * test (test-schema.py) finds every documented field filled in: a client
 * socket in CLOSE_WAIT, dup'ed (groups, frames, peers, fds); a listener and
 * an ESTABLISHED pair; a raw-syscall UDP socket "connected" to port 53
 * (untracked, label dns); a socket closed by a raw close whose fd a pipe
 * took over (stale, not-a-socket). Prints "ready", waits for EOF on stdin;
 * under `sockaudit run` (stdin at EOF) it exits holding them (at-exit). */
#include <sys/syscall.h>

#include "../raw-syscall.h"
#include "sc.h"

__attribute__((noinline))
static int schema_client(const struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)a, sizeof(*a)) < 0)
		sc_die("connect");
	return fd;
}

int main(void)
{
	struct sockaddr_in a, dns = { .sin_family = AF_INET, .sin_port = htons(53),
				      .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int l = sc_listener(&a), cw, s, est, est_s, raw, stale, p[2];
	char b, cmd[64];

	cw = schema_client(&a);
	s = accept(l, NULL, NULL);
	est = schema_client(&a);
	est_s = accept(l, NULL, NULL);
	if (s < 0 || est_s < 0 || dup(cw) < 0)
		sc_die("accept/dup");
	close(s);   /* the server side goes: cw sees EOF, CLOSE_WAIT */
	if (read(cw, &b, 1) != 0)
		sc_die("expected EOF");
	raw = (int)syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	if (raw < 0 || connect(raw, (const struct sockaddr *)&dns, sizeof(dns)) < 0)
		sc_die("raw socket");
	stale = socket(AF_INET, SOCK_DGRAM, 0);
	if (stale < 0 || raw_syscall3(SYS_close, stale, 0, 0) != 0 || pipe(p) != 0)
		sc_die("stale");
	sc_say("ready cw=%d est=%d raw=%d stale=%d pipe=%d", cw, est, raw, stale, p[0]);
	while (sc_command(cmd, sizeof(cmd)))
		;
	return 0;
}
