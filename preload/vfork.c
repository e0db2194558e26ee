/* vfork() and clone() trampolines: the only way a process gets a child that
 * shares its memory (and so its guard page) through libc's exported entry
 * points. Each notes that in shim.vfork_seen, which turns on the getpid
 * check of shim_writable() for the rest of this image, and then jumps to the
 * real function with the stack and the argument registers as the caller
 * left them: the real call runs exactly as if the program had called it.
 *
 * This is not the C wrapper DESIGN §2 forbids. A wrapper that *calls* vfork
 * has a frame on the stack the child shares: the child returns through it
 * and overwrites it (return address, saved registers, its next calls), and
 * the parent then resumes in that clobbered frame. Here the one call (to
 * shim_*_prepare) has returned and the stack is back as the caller left it
 * before the real function runs, and it is reached by a jump: it returns,
 * in the child and then in the parent, straight to the program.
 *
 * The exported names are assembly symbols, chosen explicitly as fcntl and
 * fcntl64 are with asm labels (wrap-dup.c). Other architectures have no
 * trampolines and check the pid always (shim_init). Not seen: a raw
 * syscall(SYS_vfork/clone/clone3) with CLONE_VM, and glibc's __vfork and
 * __clone names (docs/design.md). posix_spawn's child never enters the shim. */
#include "vfork.h"

#include "trampoline.h"
#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <unistd.h>

static void note_shared_vm(void)
{
	atomic_store_explicit(&shim.vfork_seen, 1, memory_order_release);
}

/* Normally resolved by shim_init; a vfork from a constructor that ran
 * before ours gets here first. */
static void *resolve(void **slot, const char *name)
{
	int saved = errno;

	if (!*slot)
		*slot = dlsym(RTLD_NEXT, name);
	errno = saved;
	return *slot;
}

/* A clone() the shim could not find: fail as a kernel without it would. */
static int no_clone(void)
{
	errno = ENOSYS;
	return -1;
}

__attribute__((used)) void *shim_vfork_prepare(void)
{
	void *real;

	note_shared_vm();
	real = shim_real.vfork;
	if (unlikely(!real))
		real = resolve(&shim_real.vfork, "vfork");
	/* fork() is a valid vfork(): only with no libc vfork to be found. */
	return real ? real : (void *)fork;
}

__attribute__((used)) void *shim_clone_prepare(int flags)
{
	void *real;

	/* Without CLONE_VM the child gets a copy of our memory, guard page
	 * wiped, like any forked child. With it, even with CLONE_FILES, its
	 * _exit must not run our exit path. */
	if (flags & CLONE_VM)
		note_shared_vm();
	real = shim_real.clone;
	if (unlikely(!real))
		real = resolve(&shim_real.clone, "clone");
	return real ? real : (void *)no_clone;
}

#if defined(__x86_64__)

/* On entry %rsp is 8 mod 16 (the return address): 8 more aligns the call.
 * clone() is variadic: %al and every argument register, and the 7th
 * argument on the stack, must reach the real one untouched. */
__asm__(
	".pushsection .text\n\t"
	".hidden shim_vfork_prepare\n\t"
	".hidden shim_clone_prepare\n\t"

	SHIM_TRAMP_BEGIN("vfork")
	"subq $8, %rsp\n\t"
	".cfi_adjust_cfa_offset 8\n\t"
	"call shim_vfork_prepare\n\t"
	"addq $8, %rsp\n\t"
	".cfi_adjust_cfa_offset -8\n\t"
	"jmp *%rax\n\t"
	SHIM_TRAMP_END("vfork")

	SHIM_TRAMP_BEGIN("clone")
	SHIM_TRAMP_SAVE
	"movl %edx, %edi\n\t"
	"call shim_clone_prepare\n\t"
	SHIM_TRAMP_RESTORE
	"jmp *%r11\n\t"
	SHIM_TRAMP_END("clone")
	".popsection\n");

#elif defined(__aarch64__)

/* vfork() keeps only the frame record; clone() takes its 7 arguments in
 * x0-x6 (x7 saved for the pair). */
__asm__(
	".pushsection .text\n\t"
	".hidden shim_vfork_prepare\n\t"
	".hidden shim_clone_prepare\n\t"

	SHIM_TRAMP_BEGIN("vfork")
	"stp x29, x30, [sp, #-16]!\n\t"
	".cfi_def_cfa_offset 16\n\t"
	".cfi_offset 29, -16\n\t"
	".cfi_offset 30, -8\n\t"
	"mov x29, sp\n\t"
	"bl shim_vfork_prepare\n\t"
	"mov x16, x0\n\t"
	"ldp x29, x30, [sp], #16\n\t"
	".cfi_restore 29\n\t"
	".cfi_restore 30\n\t"
	".cfi_def_cfa_offset 0\n\t"
	"br x16\n\t"
	SHIM_TRAMP_END("vfork")

	SHIM_TRAMP_BEGIN("clone")
	SHIM_TRAMP_SAVE
	"mov w0, w2\n\t"
	"bl shim_clone_prepare\n\t"
	SHIM_TRAMP_RESTORE
	"br x16\n\t"
	SHIM_TRAMP_END("clone")
	".popsection\n");

#endif
