/* A socket kept across execve(): stage 1 connects (the fd is not
 * close-on-exec), then executes itself again. The listener and the server
 * end are close-on-exec, so after the exec the kept client socket sits in
 * CLOSE_WAIT. Its record's stack belongs to stage 1's address space (image
 * generation 1): the report must resolve it from the table's module log,
 * not from the running image. */
#include "sc.h"

static int connect_line;

SC_CONNECTER(exec_client, connect_line)

int main(int argc, char **argv)
{
	struct sockaddr_in a;
	char fdarg[16], linearg[16];
	int l, c, s;

	if (argc == 4 && strcmp(argv[1], "stage2") == 0) {
		sc_say("ready fd=%s line=%s func=exec_client file=sc-exec.c", argv[2], argv[3]);
		sc_wait();
		return 0;
	}
	l = sc_listener(&a);
	c = exec_client(&a);
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		sc_die("accept");
	snprintf(fdarg, sizeof(fdarg), "%d", c);
	snprintf(linearg, sizeof(linearg), "%d", connect_line);
	execl("/proc/self/exe", argv[0], "stage2", fdarg, linearg, (char *)NULL);
	sc_die("exec");
}
