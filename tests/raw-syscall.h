/* A system call made with the instruction itself, as Go, io_uring users or
 * a static binary make them: no libc function, so no preload library sees
 * it (the shim wraps libc's syscall() since libuv closes through it). For
 * scenarios that need a close the shim cannot see. */
#pragma once

#include <sys/syscall.h>
#include <errno.h>
#include <unistd.h>

static inline long raw_syscall3(long nr, long a, long b, long c)
{
#if defined(__x86_64__)
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;

	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	if (x0 < 0 && x0 > -4096) {
		errno = (int)-x0;
		return -1;
	}
	return x0;
#else
	/* No trampoline on other architectures: libc's is not seen either. */
	return syscall(nr, a, b, c);
#endif
}
