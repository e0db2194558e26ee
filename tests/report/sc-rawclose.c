/* A socket closed by a raw close system call, which no preload library
 * sees: its record stays behind, stale. Nothing is opened afterwards, so
 * the fd number stays free. */
#include <sys/syscall.h>

#include "../raw-syscall.h"

#include "sc.h"

int main(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || raw_syscall3(SYS_close, fd, 0, 0) != 0)
		sc_die("socket/close");
	sc_say("ready fd=%d", fd);
	sc_wait();
	return 0;
}
