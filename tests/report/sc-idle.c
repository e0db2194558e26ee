/* A quiet connection: both ends ESTABLISHED, one byte each way, then
 * silence. Both sockets are held; with a short --idle both are flagged,
 * the client under its connect stack, the server end under its accept,
 * made in a thread of its own (its stack ends in the thread's function:
 * libc's thread entry is not shown). */
#include "sc.h"

#include <pthread.h>

static int connect_line, accept_line;

SC_CONNECTER(quiet_client, connect_line)

__attribute__((noinline))
static int quiet_server(int l)
{
	int fd;

	accept_line = __LINE__ + 1;
	fd = accept(l, NULL, NULL);
	if (fd < 0)
		sc_die("accept");
	return fd;
}

static int listener, server_fd;

__attribute__((noinline))
static void *server_thread(void *arg)
{
	(void)arg;
	server_fd = quiet_server(listener);
	return NULL;
}

int main(void)
{
	struct sockaddr_in a;
	int c, s;
	pthread_t t;
	char cmd[64];

	listener = sc_listener(&a);
	c = quiet_client(&a);
	if (pthread_create(&t, NULL, server_thread, NULL) != 0 || pthread_join(t, NULL) != 0)
		sc_die("server thread");
	s = server_fd;
	sc_ping(c, s);
	sc_say("ready fd=%d line=%d func=quiet_client server_fd=%d server_line=%d "
	       "server_func=quiet_server file=sc-idle.c", c, connect_line, s, accept_line);
	while (sc_command(cmd, sizeof(cmd))) {
		if (strcmp(cmd, "ping") == 0) {
			sc_ping(c, s);
			sc_say("pinged");
		}
	}
	return 0;
}
