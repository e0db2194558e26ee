/* PriceService client: calls, reports, and optionally leaks its sockets. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "price.h"

struct rpc_client_opts {
	const char *host;	/* "" or NULL: loopback */
	uint16_t port;
	int64_t timeout_ms;	/* connect, send and receive each; 0: none */
	unsigned long calls;
	bool conn_per_call;	/* a new connection for every call */
	bool no_close;		/* never close a socket: the leak to audit */
	bool hold_forever;	/* after the calls, wait for SIGTERM/SIGINT */
	int64_t hold_ms;	/* else wait this long after the calls */
	struct rpc_price_req req;
};

/*
 * Connect before @timeout_ms (0: none).  Returns RPC_IO_OK with *fdp set,
 * RPC_IO_TIMEOUT, or RPC_IO_SYS with @why filled.
 */
int rpc_client_connect(const char *host, uint16_t port, int64_t timeout_ms,
		       int *fdp, char *why, size_t whysz);

/*
 * Make the calls, printing one result line and one "transport: open|closed"
 * line per call on @out.  Returns 0 when every call succeeded, else 1.
 */
int rpc_client_run(const struct rpc_client_opts *o, FILE *out);
