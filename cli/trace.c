/* sockaudit trace -- CMD [ARGS] | --pid PID: run CMD and its descendants under the
 * kernel-side recorder (cli/trace/), for programs the shim cannot see (Go,
 * static binaries, raw system calls). `sockaudit report PID` reads what it
 * records while they run. Exit status: CMD's (its code, or 128 + the
 * signal); 2 on sockaudit's own errors, with one line on stderr. */
#include <getopt.h>
#include <string.h>

#include "commands.h"
#include "util/util.h"
#ifdef SOCKAUDIT_HAVE_EBPF
#include "trace/session.h"
#endif

static const char trace_usage[] =
	"usage: sockaudit trace -- CMD [ARGS]\n"
	"       sockaudit trace --pid PID\n"
	"  record the sockets of CMD and every process it starts from the kernel (eBPF),\n"
	"  for Go and static programs; `sockaudit report PID` reads them meanwhile.\n"
	"  --pid PID   record a running process (and what it forks from now on) until\n"
	"              SIGINT or SIGTERM; sockets it holds already have no stack\n"
	"  needs CAP_BPF and CAP_PERFMON (root) and a kernel with BTF.\n"
	"exit status: CMD's (128 + signal when it was killed); 2 on errors\n";

int cmd_trace(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "pid", required_argument, NULL, 'p' },
		{ 0 },
	};
	int c, pid = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(trace_usage, stdout);
			return EXIT_CLEAN;
		case 'p':
			if (parse_pid(optarg, &pid) != 0)
				die("trace: --pid wants a process id, not '%s'", optarg);
			break;
		case ':':
			die("trace: %s needs a value", argv[optind - 1]);
		default:
			die("trace: unknown option '%s' (try sockaudit trace --help)",
			    argv[optind - 1]);
		}
	}
	if (pid && optind < argc)
		die("trace: --pid and a command exclude each other");
	if (!pid && optind >= argc)
		die("trace: no command given (usage: sockaudit trace -- CMD [ARGS])");
#ifdef SOCKAUDIT_HAVE_EBPF
	if (pid)
		return tr_session_attach(pid);
	return tr_session_run(argv + optind);
#else
	die("trace: this sockaudit was built without the eBPF recorder (-Debpf=disabled, "
	    "or libbpf, bpftool or the kernel's BTF were missing at build time)");
#endif
}
