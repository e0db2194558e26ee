/* TCP connection churn over loopback, client and server in one process.
 *
 * Each client thread has its own server thread and listener (no shared
 * accept queue, so threads only meet inside the kernel and the shim), and
 * both run on the same CPU: client i and server i on CPU i mod the CPU
 * count. Unpinned, the scheduler's placement of the ping-pong made runs
 * vary by +-30 %. One operation is a whole connection's life:
 *
 *   client: socket, connect, write 1 byte, read 1 byte, read EOF, close
 *   server: accept, read 1 byte, write it back, close
 *
 * Every wrapper on a connection's path (socket, connect, accept, close on
 * both ends) runs in the measured process. The server closes first and the
 * client closes only after reading EOF, so TIME_WAIT lands on the server's
 * side of the 4-tuple and the client never runs out of ephemeral ports.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct pair {
	int id;
	int lfd;
	struct sockaddr_in addr;
	pthread_t server;
	int server_err;
};

static void *server_main(void *arg)
{
	struct pair *p = arg;

	bench_pin(p->id);   /* the CPU of its client thread */
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		char c;
		ssize_t n;
		int fd = accept(p->lfd, (struct sockaddr *)&peer, &len);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			p->server_err = errno;
			return NULL;
		}
		n = read(fd, &c, 1);
		if (n == 0) {          /* the stop sentinel: connect + close */
			close(fd);
			return NULL;
		}
		if (n != 1 || write(fd, &c, 1) != 1) {
			p->server_err = n < 0 ? errno : EPROTO;
			close(fd);
			return NULL;
		}
		close(fd);
	}
}

static void *churn_setup(int id)
{
	struct pair *p = calloc(1, sizeof(*p));
	socklen_t len = sizeof(p->addr);

	if (!p)
		return NULL;
	p->id = id;
	p->addr.sin_family = AF_INET;
	p->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&p->addr, sizeof(p->addr)) != 0 ||
	    listen(p->lfd, 128) != 0 ||
	    getsockname(p->lfd, (struct sockaddr *)&p->addr, &len) != 0 ||
	    pthread_create(&p->server, NULL, server_main, p) != 0)
		return NULL;
	return p;
}

static int churn_op(void *ctx)
{
	struct pair *p = ctx;
	char c = 'x';
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&p->addr, sizeof(p->addr)) != 0 ||
	    write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1 || read(fd, &c, 1) != 0) {
		int saved = errno ? errno : EPROTO;
		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}

static void churn_teardown(void *ctx)
{
	struct pair *p = ctx;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	/* Wake the server with an empty connection, then wait for it. */
	if (fd >= 0) {
		if (connect(fd, (struct sockaddr *)&p->addr, sizeof(p->addr)) != 0)
			perror("churn: stop connection");
		close(fd);
	}
	pthread_join(p->server, NULL);
	if (p->server_err) {
		errno = p->server_err;
		perror("churn: server thread");
		exit(1);
	}
	close(p->lfd);
	free(p);
}

int main(int argc, char **argv)
{
	static const struct bench_spec spec = {
		.name = "tcp-churn",
		.setup = churn_setup,
		.op = churn_op,
		.teardown = churn_teardown,
	};
	struct bench_opts o;

	bench_parse(argc, argv, &o);
	return bench_main(&spec, &o);
}
