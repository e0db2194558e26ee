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
#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <linux/close_range.h>
#include <string.h>
#include <sys/syscall.h>

/* A statx() path that may be sockaudit-node.js's hand-over: read through
 * probes, never dereferenced as given (the kernel answers a bad pointer
 * with EFAULT; so must we, by leaving it alone). Out of line: only a
 * matching prefix pays for the page-sized copy. */
static __attribute__((noinline)) void node_handover(const char *path)
{
	char buf[4096 + 1];
	size_t n = shim_read_str(buf, path, sizeof(buf) - 1);

	if (n && !buf[n - 1])
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

#if defined(__CET__) && (__CET__ & 1)
#define SHIM_ENDBR "endbr64\n\t"
#else
#define SHIM_ENDBR ""
#endif

/* The number and the first three arguments are already where
 * shim_syscall_prepare wants them (%rdi, %rsi, %rdx, %rcx). Seven pushes
 * align the call (on entry %rsp is 8 mod 16); %al, every argument register
 * and the 7th argument on the stack reach the real syscall() untouched. */
__asm__(
	".pushsection .text\n\t"
	".hidden shim_syscall_prepare\n\t"
	".globl syscall\n\t"
	".type syscall, @function\n\t"
	".p2align 4\n"
	"syscall:\n\t"
	".cfi_startproc\n\t"
	SHIM_ENDBR
	"pushq %rdi\n\t"
	".cfi_adjust_cfa_offset 8\n\t"
	"pushq %rsi\n\t"
	".cfi_adjust_cfa_offset 8\n\t"
	"pushq %rdx\n\t"
	".cfi_adjust_cfa_offset 8\n\t"
	"pushq %rcx\n\t"
	".cfi_adjust_cfa_offset 8\n\t"
	"pushq %r8\n\t"
	".cfi_adjust_cfa_offset 8\n\t"
	"pushq %r9\n\t"
	".cfi_adjust_cfa_offset 8\n\t"
	"pushq %rax\n\t"
	".cfi_adjust_cfa_offset 8\n\t"
	"call shim_syscall_prepare\n\t"
	"movq %rax, %r11\n\t"
	"popq %rax\n\t"
	".cfi_adjust_cfa_offset -8\n\t"
	"popq %r9\n\t"
	".cfi_adjust_cfa_offset -8\n\t"
	"popq %r8\n\t"
	".cfi_adjust_cfa_offset -8\n\t"
	"popq %rcx\n\t"
	".cfi_adjust_cfa_offset -8\n\t"
	"popq %rdx\n\t"
	".cfi_adjust_cfa_offset -8\n\t"
	"popq %rsi\n\t"
	".cfi_adjust_cfa_offset -8\n\t"
	"popq %rdi\n\t"
	".cfi_adjust_cfa_offset -8\n\t"
	"jmp *%r11\n\t"
	".cfi_endproc\n\t"
	".size syscall, .-syscall\n\t"
	".popsection\n");

#elif defined(__aarch64__)

/* x0-x3 are already the prepare's arguments; x0-x7 are saved around it
 * and the jump goes through x16 (see vfork.c for BTI). */
__asm__(
	".pushsection .text\n\t"
	".hidden shim_syscall_prepare\n\t"
	".globl syscall\n\t"
	".type syscall, %function\n\t"
	".p2align 2\n"
	"syscall:\n\t"
	".cfi_startproc\n\t"
	"hint 34\n\t"
	"stp x29, x30, [sp, #-80]!\n\t"
	".cfi_def_cfa_offset 80\n\t"
	".cfi_offset 29, -80\n\t"
	".cfi_offset 30, -72\n\t"
	"mov x29, sp\n\t"
	"stp x0, x1, [sp, #16]\n\t"
	"stp x2, x3, [sp, #32]\n\t"
	"stp x4, x5, [sp, #48]\n\t"
	"stp x6, x7, [sp, #64]\n\t"
	"bl shim_syscall_prepare\n\t"
	"mov x16, x0\n\t"
	"ldp x0, x1, [sp, #16]\n\t"
	"ldp x2, x3, [sp, #32]\n\t"
	"ldp x4, x5, [sp, #48]\n\t"
	"ldp x6, x7, [sp, #64]\n\t"
	"ldp x29, x30, [sp], #80\n\t"
	".cfi_restore 29\n\t"
	".cfi_restore 30\n\t"
	".cfi_def_cfa_offset 0\n\t"
	"br x16\n\t"
	".cfi_endproc\n\t"
	".size syscall, .-syscall\n\t"
	".popsection\n");

#endif
