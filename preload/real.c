/* The real libc entry points. Resolved once, up front, from the constructor
 * (or the first wrapper call that beats it); close-type wrappers never call
 * dlsym themselves (not async-signal-safe) and fall back to raw syscalls
 * while a pointer is still NULL. */
#include "real.h"

#include <dlfcn.h>

struct shim_real shim_real;

#define RESOLVE(name) \
	do { \
		if (!shim_real.name) \
			*(void **)&shim_real.name = dlsym(RTLD_NEXT, #name); \
	} while (0)

void shim_real_resolve(void)
{
	RESOLVE(socket);
	RESOLVE(socketpair);
	RESOLVE(connect);
	RESOLVE(accept);
	RESOLVE(accept4);
	RESOLVE(close);
	RESOLVE(dup);
	RESOLVE(dup2);
	RESOLVE(dup3);
	RESOLVE(fcntl);
	RESOLVE(fcntl64);
	RESOLVE(close_range);
	RESOLVE(closefrom);
	RESOLVE(fclose);
	RESOLVE(recvmsg);
	RESOLVE(recvmmsg);
	RESOLVE(pipe2);
	RESOLVE(_exit);
	RESOLVE(_Exit);
	RESOLVE(setuid);
	RESOLVE(seteuid);
	RESOLVE(setreuid);
	RESOLVE(setresuid);
	RESOLVE(vfork);
	RESOLVE(clone);
	RESOLVE(syscall);
	/* Without fcntl64 (older libc) both names mean the same call. */
	if (!shim_real.fcntl64)
		shim_real.fcntl64 = shim_real.fcntl;
}
