/* Stack capture: raw return addresses only, symbolized later by the CLI.
 *
 * libunwind is dlopen'ed RTLD_LOCAL, never linked: linking it would let its
 * strong _Unwind_* symbols take over the host's C++ exceptions. In a forked
 * child (until exec) glibc's backtrace() is used instead, because libunwind
 * can deadlock on the loader lock a parent thread held at fork time. */
#include "capture.h"

#include "util.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXTRA_FRAMES 8   /* room for the shim's own frames, skipped below */

static int (*unw_backtrace_fn)(void **, int);

static uintptr_t unw_start, unw_end;   /* libunwind's mapping */

/* Is `addr` (a return address) inside libunwind? */
bool shim_capture_owns(const void *addr)
{
	return (uintptr_t)addr >= unw_start && (uintptr_t)addr < unw_end;
}

/* libunwind keeps a pipe open for the life of the process (to validate
 * addresses). Left at the lowest free numbers it would shift every fd the
 * host opens afterwards, and a host that closes "all fds >= 3" and reuses
 * the numbers would have libunwind write into its files. So pipes made by
 * libunwind are moved above the soft RLIMIT_NOFILE, where the kernel never
 * hands out numbers to the host (raising the soft limit for a moment when
 * it is below the hard one). */
void shim_capture_relocate(int fds[2])
{
	struct rlimit rl, tmp;
	rlim_t base;
	bool raised = false;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		base = rl.rlim_cur;
		tmp.rlim_cur = rl.rlim_max - base > 64 ? base + 64 : rl.rlim_max;
		tmp.rlim_max = rl.rlim_max;
		raised = setrlimit(RLIMIT_NOFILE, &tmp) == 0;
		if (!raised)
			base = rl.rlim_cur > 2 ? rl.rlim_cur - 2 : 0;
	} else {
		base = rl.rlim_cur > 2 ? rl.rlim_cur - 2 : 0;
	}
	for (int i = 0; i < 2; i++) {
		int nfd = (int)syscall(SYS_fcntl, fds[i], F_DUPFD_CLOEXEC, (long)base);
		if (nfd >= 0 && (rlim_t)nfd >= base && nfd != fds[i]) {
			syscall(SYS_close, fds[i]);
			fds[i] = nfd;
		} else if (nfd >= 0 && nfd != fds[i]) {
			syscall(SYS_close, nfd);
		}
	}
	if (raised)
		setrlimit(RLIMIT_NOFILE, &rl);
}

void shim_capture_init(void)
{
	struct dl_find_object fo;
	void *h, *buf[4];

	h = dlopen("libunwind.so.8", RTLD_LAZY | RTLD_LOCAL);
	if (h)
		*(void **)&unw_backtrace_fn = dlsym(h, "unw_backtrace");
	if (unw_backtrace_fn && _dl_find_object((void *)unw_backtrace_fn, &fo) == 0) {
		unw_start = (uintptr_t)fo.dlfo_map_start;
		unw_end = (uintptr_t)fo.dlfo_map_end;
	}
	/* The first capture in a process costs ~200 us (and backtrace() loads
	 * libgcc_s): pay both now, not in the host's first socket(). */
	if (unw_backtrace_fn)
		unw_backtrace_fn(buf, 4);
	backtrace(buf, 4);
}

uint32_t shim_capture(uint64_t *frames, uint32_t max)
{
	void *buf[SA_MAX_FRAMES + EXTRA_FRAMES];
	int n, i = 0;
	uint32_t out = 0;

	if (unw_backtrace_fn && !shim.forked)
		n = unw_backtrace_fn(buf, (int)(max + EXTRA_FRAMES));
	else
		n = backtrace(buf, (int)(max + EXTRA_FRAMES));
	/* Skip everything up to the last frame inside this library: the one
	 * after it is the host's call of the wrapped function. (A sanitizer
	 * runtime interposes backtrace() and adds its own frame first.) */
	for (int k = 0; k < n && k < (int)EXTRA_FRAMES + 2; k++)
		if ((uintptr_t)buf[k] >= shim.self_start && (uintptr_t)buf[k] < shim.self_end)
			i = k + 1;
	for (; i < n && out < max; i++)
		frames[out++] = (uint64_t)(uintptr_t)buf[i];
	return out;
}
