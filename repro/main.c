/* sockaudit-rpc: the framed Thrift PriceService used to reproduce leaks. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "client.h"
#include "duration.h"
#include "hostport.h"
#include "server.h"

#define PROG	"sockaudit-rpc"

/* Exit statuses: 1 is "a call failed" for the client, 2 is bad usage. */
#define EXIT_RUNTIME	1
#define EXIT_USAGE	2

static const char usage_text[] =
"usage: " PROG " server --listen HOST:PORT [--read-timeout D] [--cost D]\n"
"                     [--max-frame N]\n"
"       " PROG " client --connect HOST:PORT [--timeout D] [--calls N]\n"
"                     [--conn-per-call] [--no-close] [--hold D] [--area N]\n"
"                     [--trace-id S] [--caller S] [--span-id S]\n"
"       " PROG " --help | --version\n"
"\n"
"A Thrift PriceService (framed transport, strict binary protocol).\n"
"\n"
"server: serves Price(req) with ErrNo=0 PassengerDiscount=0.4, one thread per\n"
"connection.  Prints \"listening on ADDR:PORT\" on stdout, then logs one line\n"
"per connection event on stderr.  Port 0 picks a free port.\n"
"  --listen HOST:PORT   address to listen on ([V6ADDR]:PORT for IPv6)\n"
"  --read-timeout D     close a connection whose next request frame has not\n"
"                       fully arrived within D; also bounds each reply write\n"
"                       (default 0: none)\n"
"  --cost D             time the handler takes per call (default 0)\n"
"  --max-frame N        largest request frame in bytes (default 16384000)\n"
"\n"
"client: makes N calls and prints, per call, the result (\"ErrNo=.. \n"
"PassengerDiscount=..\" or \"error: ...\") and \"transport: open|closed\".\n"
"  --connect HOST:PORT  server address\n"
"  --timeout D          limit for each connect, send and receive (default 0:\n"
"                       none)\n"
"  --calls N            number of calls (default 1)\n"
"  --conn-per-call      a new connection per call (default: one for all;\n"
"                       a connection whose call failed is not reused)\n"
"  --no-close           never close a socket: the leak to audit\n"
"  --hold D             wait D after the calls before exiting (with\n"
"                       --no-close the default is until SIGTERM/SIGINT)\n"
"  --area N, --trace-id S, --caller S, --span-id S\n"
"                       request fields (defaults 1, s, d, f)\n"
"\n"
"Durations D: 0 or <number><unit> with unit ms, s, m, h (100ms, 2s, 1m30s).\n"
"Exit status: 0 success, 1 a call or the server failed, 2 bad usage.\n";

__attribute__((format(printf, 2, 3), noreturn))
static void die(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void parse_endpoint(const char *flag, const char *arg, char *host,
			   size_t hostsz, uint16_t *port)
{
	int err = rpc_parse_hostport(arg, host, hostsz, port);

	if (err == -ENAMETOOLONG)
		die(EXIT_USAGE, "%s: host name too long in '%s'", flag, arg);
	if (err)
		die(EXIT_USAGE, "%s: '%s' is not HOST:PORT (port 0-65535)",
		    flag, arg);
}

static int64_t parse_duration(const char *flag, const char *arg)
{
	int64_t ms;
	int err = sa_parse_duration_ms(arg, false, &ms);

	if (err == -ERANGE)
		die(EXIT_USAGE, "%s: duration '%s' is too large", flag, arg);
	if (err)
		die(EXIT_USAGE,
		    "%s: '%s' is not a duration (e.g. 0, 100ms, 2s, 1m, 1h)",
		    flag, arg);
	return ms;
}

static long long parse_int(const char *flag, const char *arg, long long min,
			   long long max)
{
	long long v;
	char *end;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		die(EXIT_USAGE, "%s: '%s' is not an integer in %lld..%lld",
		    flag, arg, min, max);
	return v;
}

/* getopt_long with our own messages: opterr is off, ':' reports args. */
__attribute__((noreturn))
static void bad_option(const char *cmd, int c, char **argv)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		die(EXIT_USAGE, "%s: option '%s' needs an argument", cmd, arg);
	if (strncmp(arg, "--", 2) != 0 && optopt > 0 && optopt < 128)
		die(EXIT_USAGE, "%s: unknown option '-%c' (see --help)", cmd,
		    optopt);
	if (optopt && strchr(arg, '='))
		die(EXIT_USAGE, "%s: option '%s' takes no argument", cmd, arg);
	die(EXIT_USAGE, "%s: unknown option '%s' (see --help)", cmd, arg);
}

static void no_operands(const char *cmd, int argc, char **argv)
{
	if (optind < argc)
		die(EXIT_USAGE, "%s: unexpected argument '%s'", cmd,
		    argv[optind]);
}

enum {
	OPT_LISTEN = 256,
	OPT_READ_TIMEOUT,
	OPT_COST,
	OPT_MAX_FRAME,
	OPT_CONNECT,
	OPT_TIMEOUT,
	OPT_CALLS,
	OPT_CONN_PER_CALL,
	OPT_NO_CLOSE,
	OPT_HOLD,
	OPT_AREA,
	OPT_TRACE_ID,
	OPT_CALLER,
	OPT_SPAN_ID,
};

static int cmd_server(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen",	  required_argument, NULL, OPT_LISTEN },
		{ "read-timeout", required_argument, NULL, OPT_READ_TIMEOUT },
		{ "cost",	  required_argument, NULL, OPT_COST },
		{ "max-frame",	  required_argument, NULL, OPT_MAX_FRAME },
		{ "help",	  no_argument,	     NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rpc_server_opts o = { .max_frame = TW_DEFAULT_MAX_FRAME };
	char host[256], bound[RPC_ADDRSTRLEN], err[512];
	bool have_listen = false;
	int c, lfd, rc;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_LISTEN:
			parse_endpoint("--listen", optarg, host, sizeof(host),
				       &o.port);
			o.host = host;
			have_listen = true;
			break;
		case OPT_READ_TIMEOUT:
			o.read_timeout_ms = parse_duration("--read-timeout",
							   optarg);
			break;
		case OPT_COST:
			o.cost_ms = parse_duration("--cost", optarg);
			break;
		case OPT_MAX_FRAME:
			o.max_frame = (uint32_t)parse_int("--max-frame", optarg,
							  1, INT32_MAX);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			bad_option("server", c, argv);
		}
	}
	no_operands("server", argc, argv);
	if (!have_listen)
		die(EXIT_USAGE, "server: --listen HOST:PORT is required");

	lfd = rpc_server_listen(&o, bound, sizeof(bound), err, sizeof(err));
	if (lfd < 0)
		die(EXIT_RUNTIME, "server: %s", err);
	printf("listening on %s\n", bound);
	fflush(stdout);

	rc = rpc_server_accept_loop(lfd, &o);
	close(lfd);
	die(EXIT_RUNTIME, "server: accept: %s", strerror(-rc));
}

static int cmd_client(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "connect",	   required_argument, NULL, OPT_CONNECT },
		{ "timeout",	   required_argument, NULL, OPT_TIMEOUT },
		{ "calls",	   required_argument, NULL, OPT_CALLS },
		{ "conn-per-call", no_argument,	      NULL, OPT_CONN_PER_CALL },
		{ "no-close",	   no_argument,	      NULL, OPT_NO_CLOSE },
		{ "hold",	   required_argument, NULL, OPT_HOLD },
		{ "area",	   required_argument, NULL, OPT_AREA },
		{ "trace-id",	   required_argument, NULL, OPT_TRACE_ID },
		{ "caller",	   required_argument, NULL, OPT_CALLER },
		{ "span-id",	   required_argument, NULL, OPT_SPAN_ID },
		{ "help",	   no_argument,	      NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rpc_client_opts o = { .calls = 1 };
	const char *trace_id = "s", *caller = "d", *span_id = "f";
	bool have_connect = false, have_hold = false;
	char host[256];
	int c;

	o.req.area = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CONNECT:
			parse_endpoint("--connect", optarg, host, sizeof(host),
				       &o.port);
			if (o.port == 0)
				die(EXIT_USAGE, "--connect: port 0 in '%s'",
				    optarg);
			o.host = host;
			have_connect = true;
			break;
		case OPT_TIMEOUT:
			o.timeout_ms = parse_duration("--timeout", optarg);
			break;
		case OPT_CALLS:
			o.calls = (unsigned long)parse_int("--calls", optarg, 1,
							   INT32_MAX);
			break;
		case OPT_CONN_PER_CALL:
			o.conn_per_call = true;
			break;
		case OPT_NO_CLOSE:
			o.no_close = true;
			break;
		case OPT_HOLD:
			o.hold_ms = parse_duration("--hold", optarg);
			have_hold = true;
			break;
		case OPT_AREA:
			o.req.area = (int32_t)parse_int("--area", optarg,
							INT32_MIN, INT32_MAX);
			break;
		case OPT_TRACE_ID:
			trace_id = optarg;
			break;
		case OPT_CALLER:
			caller = optarg;
			break;
		case OPT_SPAN_ID:
			span_id = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			bad_option("client", c, argv);
		}
	}
	no_operands("client", argc, argv);
	if (!have_connect)
		die(EXIT_USAGE, "client: --connect HOST:PORT is required");
	o.hold_forever = o.no_close && !have_hold;

	o.req.has_area = true;
	o.req.has_trace = true;
	o.req.trace.trace_id = (struct tw_str){ trace_id, strlen(trace_id) };
	o.req.trace.caller = (struct tw_str){ caller, strlen(caller) };
	o.req.trace.span_id = (struct tw_str){ span_id, strlen(span_id) };
	o.req.trace.has_trace_id = true;
	o.req.trace.has_caller = true;
	o.req.trace.has_span_id = true;

	return rpc_client_run(&o, stdout);
}

int main(int argc, char **argv)
{
	const char *cmd;

	/* Peers vanish mid-reply; that must be an error code, not a death. */
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	setvbuf(stderr, NULL, _IOLBF, 0);
	opterr = 0;

	if (argc < 2)
		die(EXIT_USAGE, "missing command: server or client (see --help)");
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		printf("%s %s\n", PROG, SOCKAUDIT_VERSION);
		return 0;
	}
	/* Subcommands parse argv[1..]: getopt skips argv[0], the command. */
	if (!strcmp(cmd, "server"))
		return cmd_server(argc - 1, argv + 1);
	if (!strcmp(cmd, "client"))
		return cmd_client(argc - 1, argv + 1);
	die(EXIT_USAGE, "unknown command '%s': use server or client", cmd);
}
