/* serve: the metrics page over HTTP, or into a textfile (see serve.h). */
#include "serve/serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render/metrics.h"
#include "util/util.h"

/* Touched only by libmicrohttpd's one internal thread (no thread per
 * connection, no thread pool: MHD_USE_INTERNAL_POLLING_THREAD alone), so
 * requests are answered one after the other and nothing here needs a
 * lock. serve_start() fills it before that thread starts; serve_stop()
 * reads it after MHD_stop_daemon() has joined it. */
struct serve {
	struct MHD_Daemon *d;
	struct scrape_opts host;
	struct scrape_cache *cache;
	uint64_t min_interval_ms;
	/* The last collection's pages (prom, OpenMetrics), rendered when first
	 * asked; a scrape within min_interval_ms of that collection gets them
	 * as they are, so a crowd of scrapers costs one collection. */
	struct scrape_report last;
	bool have_last;
	uint64_t last_ms;
	char *page[2];
	size_t page_len[2];
	uint64_t collections;        /* for tests, through the page */
	uint16_t port;
};

int serve_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *err,
		       size_t errlen)
{
	char host[128];
	const char *colon, *port, *h;
	size_t hl;
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM }, *res = NULL;
	char *end;
	long p;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':') {
			snprintf(err, errlen, "'%s': expected [IPv6]:PORT", s);
			return -1;
		}
		h = s + 1;
		hl = (size_t)(close - h);
		port = close + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon) {
			snprintf(err, errlen, "'%s': expected ADDR:PORT (IPv6 as [ADDR]:PORT)", s);
			return -1;
		}
		h = s;
		hl = (size_t)(colon - s);
		port = colon + 1;
	}
	if (hl == 0 || hl >= sizeof(host)) {
		snprintf(err, errlen, "'%s': no address before the port", s);
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	p = strtol(port, &end, 10);
	if (!*port || *end || errno || p < 0 || p > 65535 || (port[0] == '0' && port[1])) {
		snprintf(err, errlen, "'%s': port must be a number from 0 to 65535", s);
		return -1;
	}
	if (getaddrinfo(host, port, &hints, &res) != 0 || !res) {
		snprintf(err, errlen, "'%s': '%s' is not a numeric IPv4 or IPv6 address", s, host);
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

bool serve_addr_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

void serve_format_addr(const struct sockaddr_storage *ss, uint16_t port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, (unsigned)port);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, (unsigned)port);
	}
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     const char *body, size_t len, bool allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result text_reply(struct MHD_Connection *c, unsigned status, const char *msg,
				  bool allow)
{
	return reply(c, status, "text/plain; charset=utf-8", msg, strlen(msg), allow);
}

static void forget_last(struct serve *s)
{
	if (s->have_last)
		scrape_report_finish(&s->last);
	s->have_last = false;
	for (int i = 0; i < 2; i++) {
		free(s->page[i]);
		s->page[i] = NULL;
		s->page_len[i] = 0;
	}
}

static enum MHD_Result metrics_reply(struct serve *s, struct MHD_Connection *c)
{
	const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	bool om = render_metrics_wants_openmetrics(accept);
	uint64_t now = now_monotonic_ms();

	if (!s->have_last || now - s->last_ms >= s->min_interval_ms) {
		forget_last(s);
		scrape_collect(&s->last, &s->host, s->cache);
		s->have_last = true;
		s->last_ms = now_monotonic_ms();
		s->collections++;
	}
	if (!s->page[om])
		s->page[om] = render_metrics(&s->last, om, &s->page_len[om]);
	return reply(c, MHD_HTTP_OK, om ? RENDER_METRICS_TYPE_OM : RENDER_METRICS_TYPE_PROM,
		     s->page[om], s->page_len[om], false);
}

/* A request's state: whether it came with a body (refused). */
struct req {
	bool body;
};

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_len, void **req_cls)
{
	struct serve *s = cls;
	struct req *rq = *req_cls;

	(void)version;
	(void)upload;
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*req_cls = rq;
		return MHD_YES;
	}
	if (*upload_len) {
		/* Read and dropped: bounded by what arrives, never kept. */
		rq->body = true;
		*upload_len = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return text_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "sockaudit serve is read-only: GET or HEAD /metrics\n", true);
	if (rq->body)
		return text_reply(c, MHD_HTTP_BAD_REQUEST, "a request body is not accepted\n",
				  false);
	if (strcmp(url, "/metrics") == 0)
		return metrics_reply(s, c);
	if (strcmp(url, "/") == 0)
		return text_reply(c, MHD_HTTP_OK, "sockaudit serve: metrics at /metrics\n", false);
	return text_reply(c, MHD_HTTP_NOT_FOUND, "not found: sockaudit serves /metrics only\n",
			  false);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)c;
	(void)why;
	free(*req_cls);
	*req_cls = NULL;
}

struct serve *serve_start(const struct serve_opts *o, char *err, size_t errlen)
{
	struct serve *s = xcalloc(1, sizeof(*s));
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	uint16_t port = o->addr.ss_family == AF_INET6
				? ntohs(((const struct sockaddr_in6 *)&o->addr)->sin6_port)
				: ntohs(((const struct sockaddr_in *)&o->addr)->sin_port);

	if (o->addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->host = o->host;
	s->min_interval_ms = o->min_interval_ms;
	s->cache = scrape_cache_create();
	errno = 0;
	s->d = MHD_start_daemon(flags, port, NULL, NULL, on_request, s,
				MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&o->addr,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)SERVE_MAX_CONNS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVE_CONN_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVE_CONN_MEMORY,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
				MHD_OPTION_END);
	if (!s->d) {
		char a[80];

		serve_format_addr(&o->addr, port, a, sizeof(a));
		snprintf(err, errlen, "cannot listen on %s: %s", a,
			 errno ? strerror(errno) : "the HTTP server did not start");
		serve_stop(s);
		return NULL;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : port;
	return s;
}

uint16_t serve_port(const struct serve *s)
{
	return s->port;
}

void serve_stop(struct serve *s)
{
	if (!s)
		return;
	if (s->d)
		MHD_stop_daemon(s->d);
	forget_last(s);
	scrape_cache_destroy(s->cache);
	free(s);
}

int serve_write_textfile(const char *path, const struct scrape_opts *o, struct scrape_cache *cache,
			 char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	struct scrape_report h;
	size_t len, off = 0;
	char tmp[4200];
	char *page;
	int fd, rc = 0;

	/* In the same directory, hidden (the collector reads *.prom only). */
	if (slash)
		snprintf(tmp, sizeof(tmp), "%.*s/.%s.XXXXXX", (int)(slash - path), path, slash + 1);
	else
		snprintf(tmp, sizeof(tmp), ".%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create a file next to %s: %s", path, strerror(errno));
		return rc;
	}
	scrape_collect(&h, o, cache);
	page = render_metrics(&h, false, &len);
	scrape_report_finish(&h);
	while (off < len) {
		ssize_t n = write(fd, page + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	free(page);
	/* node_exporter runs as its own user: the page is for everyone to read. */
	if (!rc && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (rc) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
		unlink(tmp);
	}
	return rc;
}
