/* "HOST:PORT" and "[V6ADDR]:PORT" endpoint strings. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Split @s into @host (NUL-terminated, may be empty: any address for a
 * listener, loopback for a client) and a decimal @port in 0..65535.
 * Returns 0 or -EINVAL (malformed) / -ENAMETOOLONG (host does not fit).
 */
int rpc_parse_hostport(const char *s, char *host, size_t hostsz,
		       uint16_t *port);

struct sockaddr;

/* Room for "[v6addr%scope]:port". */
#define RPC_ADDRSTRLEN	80

/* "1.2.3.4:80" or "[::1]:80"; "?" for families other than IPv4/IPv6. */
void rpc_format_sockaddr(const struct sockaddr *sa, char *buf, size_t sz);
