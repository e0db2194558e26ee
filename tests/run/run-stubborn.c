/* A job that will not be cancelled politely: it ignores SIGINT, SIGTERM,
 * SIGHUP and SIGQUIT, and so does the daemon it starts in a session of its
 * own (another process group, re-parented to the run when it detaches).
 * Each holds a socket. With "exit-on-term" it instead exits 0 on SIGTERM,
 * as a test runner that treats cancelling as success would. Both die of
 * SIGALRM after a minute whatever happens, so a failed test leaves nothing
 * running for long. */
#include <signal.h>
#include <string.h>

#include "rp.h"

static void on_term(int sig)
{
	_exit(0);
}

int main(int argc, char **argv)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	bool exit_on_term = argc > 1 && strcmp(argv[1], "exit-on-term") == 0;
	struct sockaddr_in a;
	char cmd[64];
	pid_t daemon;
	int c;

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_IGN);
	if (exit_on_term)
		signal(SIGTERM, on_term);
	alarm(60);
	sc_listener(&a);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (const struct sockaddr *)&a, sizeof(a)) < 0)
		sc_die("connect");
	daemon = fork();
	if (daemon < 0)
		sc_die("fork");
	if (daemon == 0) {
		signal(SIGTERM, SIG_IGN);
		setsid();
		for (;;)
			pause();
	}
	sc_say("ready pid=%d daemon=%d", (int)getpid(), (int)daemon);
	while (sc_command(cmd, sizeof(cmd)))
		;
	return 0;
}
