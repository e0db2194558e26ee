/* The open stack of a socket made in a known function contains that
 * function, and its caller; the shim's own frames are not in it. */
#include <dlfcn.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"

__attribute__((noinline)) int open_in_known_function(void);
__attribute__((noinline)) int open_in_known_function(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	__asm__ volatile("" ::: "memory");   /* keep the call a call */
	return fd;
}

__attribute__((noinline)) int known_caller(void);
__attribute__((noinline)) int known_caller(void)
{
	int fd = open_in_known_function();
	__asm__ volatile("" ::: "memory");
	return fd;
}

int main(void)
{
	struct th_table t;
	const struct sa_slot *s;
	uint64_t frames[SA_MAX_FRAMES];
	uint32_t n;
	int fd = known_caller();
	Dl_info info;

	if (!ok(th_load(&t, getpid()), "table loads"))
		return tap_done();
	s = th_find(&t, fd);
	ok(s && s->open_stack, "socket has an open stack");
	n = s ? sa_reader_stack(&t.r, s->open_stack, frames) : 0;
	ok(n >= 3, "stack has %u frames", n);
	memset(&info, 0, sizeof(info));
	if (n)
		dladdr((void *)(uintptr_t)(frames[0] - 1), &info);
	ok(info.dli_sname && strcmp(info.dli_sname, "open_in_known_function") == 0,
	   "innermost frame is the caller of socket(), not the shim (%s in %s)",
	   info.dli_sname ? info.dli_sname : "?", info.dli_fname ? info.dli_fname : "?");
	{
		bool found_fn = false, found_caller = false;
		for (uint32_t i = 0; i < n; i++) {
			if (!dladdr((void *)(uintptr_t)(frames[i] - 1), &info) || !info.dli_sname)
				continue;
			found_fn |= strcmp(info.dli_sname, "open_in_known_function") == 0;
			found_caller |= strcmp(info.dli_sname, "known_caller") == 0;
		}
		ok(found_fn, "stack contains open_in_known_function");
		ok(found_caller, "stack contains known_caller");
	}
	ok(th_stack_has(&t, s ? s->open_stack : 0, (void *)main, 4096), "stack reaches main");
	th_unload(&t);
	close(fd);
	return tap_done();
}
