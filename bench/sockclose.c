/* socket() + close() of a UDP socket in a loop, per thread: the shim's
 * record and forget paths with as little kernel work around them as a
 * socket allows. */
#include "bench.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static int sockclose_op(void *ctx)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	(void)ctx;
	if (fd < 0)
		return -1;
	return close(fd);
}

int main(int argc, char **argv)
{
	static const struct bench_spec spec = {
		.name = "socket-close",
		.op = sockclose_op,
	};
	struct bench_opts o;

	bench_parse(argc, argv, &o);
	return bench_main(&spec, &o);
}
