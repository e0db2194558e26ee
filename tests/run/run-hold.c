/* Holds a connected socket until its stdin reaches EOF. Under a `run` that
 * is killed it goes on running, its table in the run's directory. */
#include "rp.h"

int main(void)
{
	struct sockaddr_in a;
	char cmd[64];
	int c;

	/* The listener stays open too: the connection is ESTABLISHED. */
	sc_listener(&a);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (const struct sockaddr *)&a, sizeof(a)) < 0)
		sc_die("connect");
	sc_say("ready pid=%d", (int)getpid());
	while (sc_command(cmd, sizeof(cmd)))
		;
	return 0;
}
