/* Stack capture: raw return addresses only, symbolized later by the CLI.
 *
 * libunwind is dlopen'ed RTLD_LOCAL, never linked: linking it would let its
 * strong _Unwind_* symbols take over the host's C++ exceptions. In a forked
 * child (until exec) glibc's backtrace() is used instead, because libunwind
 * can deadlock on the loader lock a parent thread held at fork time. */
#include "shim.h"

#include <dlfcn.h>
#include <execinfo.h>

#define EXTRA_FRAMES 8   /* room for the shim's own frames, skipped below */

static int (*unw_backtrace_fn)(void **, int);

void shim_capture_init(void)
{
	void *h = dlopen("libunwind.so.8", RTLD_LAZY | RTLD_LOCAL);
	void *buf[4];

	if (h)
		*(void **)&unw_backtrace_fn = dlsym(h, "unw_backtrace");
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
	/* Skip the frames inside this library: the first one that is not
	 * ours is the host's call of the wrapped function. */
	while (i < n && (uintptr_t)buf[i] >= shim.self_start && (uintptr_t)buf[i] < shim.self_end)
		i++;
	for (; i < n && out < max; i++)
		frames[out++] = (uint64_t)(uintptr_t)buf[i];
	return out;
}
