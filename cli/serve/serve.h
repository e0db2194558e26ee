/* serve: the metrics page over HTTP (libmicrohttpd), or written to a file
 * for node_exporter's textfile collector. Read-only: GET and HEAD of
 * /metrics (and / for a pointer to it); anything else gets a clear HTTP
 * error. Memory per connection, connections and their idle time are
 * bounded, scrapes are answered one at a time, and scrapes that come
 * within the minimum interval of the last collection get its page
 * (docs/monitoring.md). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "report/scrape.h"

#define SERVE_DEFAULT_LISTEN  "127.0.0.1:9847"
#define SERVE_MAX_CONNS       64
#define SERVE_CONN_TIMEOUT_S  10
#define SERVE_CONN_MEMORY     (32 * 1024)

/* A scrape within this long of the last collection is answered from it. */
#define SERVE_DEFAULT_MIN_INTERVAL_MS 1000

struct serve_opts {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct scrape_opts host;
	uint64_t min_interval_ms;    /* 0: every scrape collects */
};

/* "127.0.0.1:9847", "[::1]:9847", "0.0.0.0:9847" (numeric addresses only;
 * port 0: any free one). Returns 0, or -1 with one line in err. Pure. */
int serve_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *err,
		       size_t errlen);
bool serve_addr_is_loopback(const struct sockaddr_storage *ss);
/* "127.0.0.1:9847", "[::1]:9847" */
void serve_format_addr(const struct sockaddr_storage *ss, uint16_t port, char *buf, size_t len);

struct serve;
/* Start answering in a thread of libmicrohttpd's. NULL with err on failure
 * (address in use, not allowed). */
struct serve *serve_start(const struct serve_opts *o, char *err, size_t errlen);
/* The port bound (the one asked, or the one the kernel chose for 0). */
uint16_t serve_port(const struct serve *s);
void serve_stop(struct serve *s);   /* accepts NULL */

/* Collect once and write the page to path atomically: a temporary file in
 * the same directory, mode 0644, fsync'ed, then renamed over path.
 * Returns 0, or -errno with one line in err. */
int serve_write_textfile(const char *path, const struct scrape_opts *o, struct scrape_cache *cache,
			 char *err, size_t errlen);
