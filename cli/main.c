/* sockaudit: read the tables libsockaudit.so writes and join them with the
 * kernel's view. See sockaudit(1). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "util/util.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
	{ "report", cmd_report, "report [options] <pid>   sockets held, leaks flagged, the code that opened them" },
	{ "list", cmd_list, "list [--gc] [--json]     audited processes of this user" },
	{ "run", cmd_run, "run [options] -- CMD     run CMD's process tree under the shim; fail on leaks" },
	{ "trace", cmd_trace, "trace -- CMD             record CMD's tree from the kernel (Go, static)" },
	{ "watch", cmd_watch, "watch [options] <pid>    live view of the groups, held and flagged over time" },
	{ "serve", cmd_serve, "serve [--listen A:P]     metrics of every audited process, for Prometheus" },
	{ "dump", cmd_dump, "dump [--json] <pid>      raw table records and counters" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: sockaudit <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].help);
	fprintf(f, "\nsee sockaudit(1); exit status: 0 clean, 1 leaks flagged, 2 error\n");
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("no command given (try sockaudit --help)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return EXIT_CLEAN;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("sockaudit %s\n", SOCKAUDIT_VERSION);
		return EXIT_CLEAN;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	die("unknown command '%s' (try sockaudit --help)", argv[1]);
}
