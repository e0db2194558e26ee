/* sockaudit trace -- CMD [ARGS]: run CMD and its descendants under the
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
	"  record the sockets of CMD and every process it starts from the kernel (eBPF),\n"
	"  for Go and static programs; `sockaudit report PID` reads them meanwhile.\n"
	"  needs CAP_BPF and CAP_PERFMON (root) and a kernel with BTF.\n"
	"exit status: CMD's (128 + signal when it was killed); 2 on errors\n";

int cmd_trace(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(trace_usage, stdout);
			return EXIT_CLEAN;
		default:
			die("trace: unknown option '%s' (try sockaudit trace --help)",
			    argv[optind - 1]);
		}
	}
	if (optind >= argc)
		die("trace: no command given (usage: sockaudit trace -- CMD [ARGS])");
#ifdef SOCKAUDIT_HAVE_EBPF
	return tr_session_run(argv + optind);
#else
	die("trace: this sockaudit was built without the eBPF recorder (-Debpf=disabled, "
	    "or libbpf, bpftool or the kernel's BTF were missing at build time)");
#endif
}
