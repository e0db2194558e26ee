/* syscall(): the trampoline that sees closes made through libc's generic
 * system call function. libuv (Node.js) closes its sockets with
 * syscall(SYS_close, fd); without this their records stayed behind, stale
 * while the process ran and "open at exit" after it. A close or a
 * close_range clears the records first, as close() and close_range() do;
 * every other call reaches libc's syscall() exactly as the caller made it.
 *
 * Like the vfork() and clone() trampolines (vfork.c), and for the same
 * reason, it is assembly: syscall() is variadic and may be asked for
 * anything (a raw clone or vfork included), so the real function must run
 * on the caller's stack with the caller's registers, reached by a jump
 * once the one call (shim_syscall_prepare) has returned. Other
 * architectures have no trampoline and do not export syscall. */
#include "wrap-syscall.h"

#include "lang.h"
#include "record.h"
#include "trampoline.h"
#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <linux/close_range.h>
#include <string.h>
#include <sys/syscall.h>

/* A statx() path that may be sockaudit-node.js's hand-over: read through
 * probes, never dereferenced as given (the kernel answers a bad pointer
 * with EFAULT; so must we, by leaving it alone). Out of line: only a
 * matching prefix pays for the page-sized copy, which goes on from the
 * prefix node_prefix() read, without asking again for the page it proved
 * readable (one probe syscall per hand-over instead of two). */
static __attribute__((noinline)) void node_handover(const char *path)
{
	const size_t k = sizeof(SHIM_NODE_PREFIX) - 1;
	char buf[4096 + 1];
	size_t n;

	memcpy(buf, SHIM_NODE_PREFIX, k);
	n = k + shim_read_str_more(buf + k, path + k, sizeof(buf) - 1 - k,
				   ((uintptr_t)path + k - 1) & ~(uintptr_t)4095);
	if (n > k && !buf[n - 1])
		shim_lang_node(buf);
}

static bool node_prefix(const char *path)
{
	char buf[sizeof(SHIM_NODE_PREFIX)];

	return shim_read_str(buf, path, sizeof(buf) - 1) == sizeof(buf) - 1 &&
	       memcmp(buf, SHIM_NODE_PREFIX, sizeof(buf) - 1) == 0;
}

static long no_syscall(void)
{
	errno = ENOSYS;
	return -1;
}

/* Not instrumented by the sanitizers: a library constructor that runs
 * before the sanitizer runtime has started (jemalloc setting itself up
 * from libgpg-error's constructor, under redis-server) reaches this through
 * syscall(), and an instrumented load would find no shadow memory yet. */
__attribute__((used, no_sanitize("address", "undefined")))
void *shim_syscall_prepare(long nr, long a1, long a2, long a3)
{
	int st = atomic_load_explicit(&shim.state, memory_order_acquire);
	void *real;

	/* No table, no records to clear; and before the shim (and a
	 * sanitizer runtime) has started, nothing instrumented may run: the
	 * state is read here, not through shim_table_live(), which a
	 * sanitized build may leave out of line, instrumented. */
	if (st != SHIM_READY)
		goto resolve;
	if (unlikely(nr == SYS_close)) {
		shim_forget((int)a1);
	} else if (unlikely(nr == SYS_close_range)) {
		unsigned first = (unsigned)a1, last = (unsigned)a2;
		int flags = (int)a3;

		/* As close_range() (wrap-close.c): nothing closed, nothing cleared. */
		if (!(flags & CLOSE_RANGE_CLOEXEC) &&
		    !(flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) && first <= last)
			shim_forget_range(first, last);
#ifdef SYS_statx
	} else if (unlikely(nr == SYS_statx) && a2 && node_prefix((const char *)a2)) {
		/* sockaudit-node.js handing over a socket's JavaScript frames. */
		int saved = errno;

		node_handover((const char *)a2);
		errno = saved;
#endif
	}
resolve:
	real = shim_real.syscall;
	if (unlikely(!real)) {
		/* Before shim_real_resolve(): a constructor that ran first. */
		int saved = errno;

		real = shim_real.syscall = dlsym(RTLD_NEXT, "syscall");
		errno = saved;
	}
	return real ? real : (void *)no_syscall;
}

#if defined(__x86_64__)

/* The number and the first three arguments are already where
 * shim_syscall_prepare wants them (%rdi, %rsi, %rdx, %rcx); %al, every
 * argument register and the 7th argument on the stack reach the real
 * syscall() untouched. */
__asm__(
	".pushsection .text\n\t"
	".hidden shim_syscall_prepare\n\t"
	SHIM_TRAMP_BEGIN("syscall")
	SHIM_TRAMP_SAVE
	"call shim_syscall_prepare\n\t"
	SHIM_TRAMP_RESTORE
	"jmp *%r11\n\t"
	SHIM_TRAMP_END("syscall")
	".popsection\n");

#elif defined(__aarch64__)

/* x0-x3 are already the prepare's arguments. */
__asm__(
	".pushsection .text\n\t"
	".hidden shim_syscall_prepare\n\t"
	SHIM_TRAMP_BEGIN("syscall")
	SHIM_TRAMP_SAVE
	"bl shim_syscall_prepare\n\t"
	SHIM_TRAMP_RESTORE
	"br x16\n\t"
	SHIM_TRAMP_END("syscall")
	".popsection\n");

#endif
