/* Unit tests of the pure pieces of `serve`: the --listen parser, the
 * Accept negotiation, the cardinality caps and the page's escaping. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "render/metrics.h"
#include "serve/serve.h"

static void test_listen(void)
{
	static const struct {
		const char *in;
		int rc;
		const char *out;     /* serve_format_addr of the result */
		bool loopback;
	} cases[] = {
		{ "127.0.0.1:9847", 0, "127.0.0.1:9847", true },
		{ "127.1.2.3:0", 0, "127.1.2.3:0", true },
		{ "0.0.0.0:80", 0, "0.0.0.0:80", false },
		{ "10.0.0.1:65535", 0, "10.0.0.1:65535", false },
		{ "[::1]:9847", 0, "[::1]:9847", true },
		{ "[::]:9847", 0, "[::]:9847", false },
		{ "[::ffff:127.0.0.1]:1", 0, "[::ffff:127.0.0.1]:1", true },
		{ "127.0.0.1", -1, NULL, false },
		{ "127.0.0.1:", -1, NULL, false },
		{ ":9847", -1, NULL, false },
		{ "127.0.0.1:65536", -1, NULL, false },
		{ "127.0.0.1:-1", -1, NULL, false },
		{ "127.0.0.1:09", -1, NULL, false },
		{ "127.0.0.1:9x", -1, NULL, false },
		{ "localhost:9847", -1, NULL, false },
		{ "::1:9847", -1, NULL, false },
		{ "[::1]9847", -1, NULL, false },
		{ "[::1:9847", -1, NULL, false },
		{ "999.0.0.1:80", -1, NULL, false },
		{ "", -1, NULL, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		char err[256] = "", out[96] = "";
		int rc = serve_parse_listen(cases[i].in, &ss, &len, err, sizeof(err));
		uint16_t port = 0;

		if (rc == 0) {
			port = ss.ss_family == AF_INET6
				       ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
				       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
			serve_format_addr(&ss, port, out, sizeof(out));
		}
		ok(rc == cases[i].rc && (rc ? err[0] != '\0'
				   : strcmp(out, cases[i].out) == 0 &&
				     serve_addr_is_loopback(&ss) == cases[i].loopback),
		   "--listen '%s': %s", cases[i].in, rc ? err : out);
	}
}

static void test_accept(void)
{
	static const struct {
		const char *accept;
		bool om;
	} cases[] = {
		{ NULL, false },
		{ "", false },
		{ "*/*", false },
		{ "text/plain;version=0.0.4", false },
		{ "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
		  "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", true },
		{ "text/plain;version=0.0.4;q=0.5,application/openmetrics-text;version=1.0.0", false },
		{ "APPLICATION/OPENMETRICS-TEXT; version=1.0.0", true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(render_metrics_wants_openmetrics(cases[i].accept) == cases[i].om,
		   "Accept '%s': %s", cases[i].accept ? cases[i].accept : "(none)",
		   cases[i].om ? "OpenMetrics" : "text");
}

static void test_caps(void)
{
	struct scrape_site s[6] = {
		{ "a", 60, 50 }, { "b", 50, 50 }, { "c", 40, 1 }, { "d", 3, 2 }, { "e", 2, 2 },
		{ "f", 1, 0 },
	};
	struct scrape_flag f[5] = {
		{ "close-wait", "a", 9 }, { "idle", "b", 5 }, { "close-wait", "c", 3 },
		{ "idle", "d", 2 }, { "close-wait", "e", 1 },
	};
	size_t n = 6, nf = 5;

	scrape_sites_cap(s, &n, 3);
	ok(n == 4 && strcmp(s[3].site, SCRAPE_OTHER) == 0 && s[3].opened == 6 && s[3].closed == 4,
	   "sites: top 3 kept, the other 3 summed as \"other\" (6 opened, 4 closed)");
	n = 4;
	scrape_sites_cap(s, &n, 10);
	ok(n == 4, "sites: fewer than the cap: unchanged");
	scrape_flags_cap(f, &nf, 2);
	ok(nf == 4 && strcmp(f[2].site, SCRAPE_OTHER) == 0 && strcmp(f[2].kind, "close-wait") == 0 &&
	   f[2].n == 4 && strcmp(f[3].kind, "idle") == 0 && f[3].n == 2,
	   "flags: top 2 kept, one \"other\" per kind (close-wait 4, idle 2)");
}

static void test_page(void)
{
	struct scrape_state st[1] = { { "CLOSE_WAIT", 2 } };
	struct scrape_flag fl[1] = { { "close-wait", "f \"q\" a\\b\nc x.c:1", 2 } };
	struct scrape_site si[1] = { { "f x.c:1", 7, 5 } };
	struct scrape_proc p = {
		.pid = 42, .comm = "we\"ird", .states = st, .nstates = 1, .flags = fl, .nflags = 1,
		.sites = si, .nsites = 1, .counts_known = true,
	};
	struct scrape_report h = { .procs = &p, .nprocs = 1, .duration_s = 0.25 };
	size_t len;
	char *page = render_metrics(&h, false, &len);

	ok(strlen(page) == len, "page length");
	ok(strstr(page, "sockaudit_sockets{pid=\"42\",comm=\"we\\\"ird\",state=\"CLOSE_WAIT\"} 2\n") != NULL,
	   "a sockets sample, comm escaped");
	ok(strstr(page, "site=\"f \\\"q\\\" a\\\\b\\nc x.c:1\"} 2\n") != NULL,
	   "quote, backslash and newline escaped in a site");
	ok(strstr(page, "# TYPE sockaudit_site_opened_total counter\n") &&
	   strstr(page, "sockaudit_site_opened_total{pid=\"42\",comm=\"we\\\"ird\",site=\"f x.c:1\"} 7\n") &&
	   strstr(page, "sockaudit_site_closed_total{pid=\"42\",comm=\"we\\\"ird\",site=\"f x.c:1\"} 5\n"),
	   "counters, typed");
	ok(strstr(page, "sockaudit_scrape_duration_seconds 0.250000\n") && !strstr(page, "# EOF"),
	   "scrape duration; no EOF in the text format");
	free(page);
	page = render_metrics(&h, true, &len);
	ok(strstr(page, "# TYPE sockaudit_site_opened counter\n") &&
	   strstr(page, "sockaudit_site_opened_total{") && len > 6 &&
	   strcmp(page + len - 6, "# EOF\n") == 0,
	   "OpenMetrics: counter family without _total, samples with it, ends in # EOF");
	free(page);
}

int main(void)
{
	test_listen();
	test_accept();
	test_caps();
	test_page();
	return tap_done();
}
