/* PriceService server: one detached thread per connection (TSimpleServer). */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct rpc_server_opts {
	const char *host;	/* "" or NULL: every local address */
	uint16_t port;		/* 0: pick a free port */
	int64_t read_timeout_ms;	/* per request frame and reply; 0: none */
	int64_t cost_ms;	/* time the handler spends per call */
	uint32_t max_frame;
};

/* Bound listening socket, or -1 with @err filled. @bound gets its address. */
int rpc_server_listen(const struct rpc_server_opts *o, char *bound,
		      size_t boundsz, char *err, size_t errsz);

/* Accept and serve forever; returns a negative errno on a fatal error. */
int rpc_server_accept_loop(int lfd, const struct rpc_server_opts *o);
