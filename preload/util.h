/* Small helpers every unit of the shim uses: the pid, the clock, fstat,
 * the one warning line, the start time, and a CPU pause for spin loops.
 * Async-signal-safe, allocation-free. */
#pragma once

#include "shim.h"

int32_t shim_getpid(void) SHIM_HIDDEN;
uint64_t shim_now_ns(void) SHIM_HIDDEN;
/* fstat without glibc's fstatat(AT_EMPTY_PATH) detour (measured ~25% faster). */
int shim_fstat(int fd, struct stat *st) SHIM_HIDDEN;
/* One line on stderr, once per process image, unless SOCKAUDIT_QUIET. */
void shim_warn(const char *what, int err) SHIM_HIDDEN;
/* One line "sockaudit: <a><b><c>" on stderr unless SOCKAUDIT_QUIET, for a
 * problem that does not stop recording (a knob out of range). b is
 * shortened to keep the line short; a newline in it becomes a space. */
void shim_say(const char *a, const char *b, const char *c) SHIM_HIDDEN;
/* Can 8 bytes be read at `addr`? The kernel copies the new signal mask
 * (8 bytes) from user memory before it looks at `how`: an invalid `how`
 * makes rt_sigprocmask a pure probe, EFAULT when the memory cannot be read,
 * EINVAL when it can, and the mask is never changed. No descriptor, no side
 * effect, and a syscall that seccomp policies allow wherever a program may
 * block signals (unless they filter on its arguments). shim_capture_init()
 * checks both answers once. Changes errno. */
bool shim_probe_readable(const void *addr) SHIM_HIDDEN;
/* Copy the string at src into dst[0..max): up to and with its NUL, or max
 * bytes. Reads only pages the kernel says are readable (a probe syscall per
 * page), so a bad pointer is an answer, not a fault. Returns the bytes
 * copied (the NUL included); 0 when src's first page cannot be read, and
 * fewer than asked, without a NUL, when a later one cannot. */
size_t shim_read_str(char *dst, const char *src, size_t max) SHIM_HIDDEN;
/* The same, for a string read in two steps: `proven` is the page (its
 * address; 0 for none) a read just before proved readable, which is not
 * asked again. */
size_t shim_read_str_more(char *dst, const char *src, size_t max, uintptr_t proven) SHIM_HIDDEN;
/* Field 22 of /proc/self/stat, or 0. */
uint64_t shim_read_starttime(void) SHIM_HIDDEN;

/* Where the guard page says "owner": is this in fact a child sharing the
 * owner's memory (vfork, clone(CLONE_VM))? Only the kernel knows, and it is
 * asked only once the image has made such a child (vfork.c). */
static inline bool shim_vfork_child(void)
{
	return unlikely(atomic_load_explicit(&shim.vfork_seen, memory_order_acquire)) &&
	       shim_getpid() != shim.pid;
}

/* Tell the CPU we are spinning (a hyperthread sibling may hold the slot). */
static inline void shim_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* The C library's syscall(), never the shim's own exported syscall
 * trampoline (wrap-syscall.c), which a plain call from the shim would reach
 * through the PLT: the shim's own system calls are neither records to clear
 * nor worth the trampoline's detour. Before shim_real_resolve() the
 * trampoline is what there is; it then only resolves libc's and jumps. */
#define shim_sys(...) \
	((long (*)(long, ...))(shim_real.syscall ? shim_real.syscall : (void *)syscall))(__VA_ARGS__)
