/* Stack capture: raw return addresses only, symbolized later by the CLI.
 *
 * libunwind is dlopen'ed RTLD_LOCAL, never linked: linking it would let its
 * strong _Unwind_* symbols take over the host's C++ exceptions. In a forked
 * child (until exec) glibc's backtrace() is used instead, because libunwind
 * can deadlock on the loader lock a parent thread held at fork time.
 *
 * No descriptor, ever (docs/design.md, "Where this differs", 1). libunwind
 * validates the addresses it reads while it works out a frame by writing a
 * byte from them into a pipe it keeps open for the life of the process; that
 * pipe sits on numbers the host owns (any number the kernel can hand the
 * host, or the host can dup2 onto, is the host's), and libunwind reads and
 * writes it. So the shim replaces the memory accessor of libunwind's local
 * address space (unw_get_accessors(), public API) with one that validates
 * with a syscall that needs no descriptor, and refuses libunwind the pipe
 * (wrap-pipe.c) while the shim is the one calling it. An unwind the host
 * makes itself with the same libunwind, outside a capture, gets libunwind's
 * own accessor and pipe exactly as without the shim. */
#include "capture.h"

#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <libunwind.h>
#include <link.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define STR_(x) #x
#define STR(x) STR_(x)   /* the exported name behind one of libunwind.h's macros */

/* The live stack below a capture's own frame is libunwind's working memory
 * (its cursor, its copy of the registers): read without a probe, but only
 * this far below the capture's frame (see access_mem). */
#define LIVE_SPAN (64 * 1024)
#define PAGE 4096UL

int (*shim_unw_backtrace)(void **, int);
static unw_accessors_t *unw_acc;
static int (*unw_access_mem_orig)(unw_addr_space_t, unw_word_t, unw_word_t *, int, void *);

static uintptr_t unw_start, unw_end;   /* libunwind's mapping */

/* The capture under way on this thread (capture.h explains the epoch). */
__thread struct shim_capture_state shim_cap __attribute__((tls_model("initial-exec")));

/* Is `addr` (a return address) inside libunwind? */
bool shim_capture_owns(const void *addr)
{
	return (uintptr_t)addr >= unw_start && (uintptr_t)addr < unw_end;
}

/* Is this thread inside the shim's use of libunwind (a capture, or the
 * start-up that initialises it)? Then libunwind gets no pipe. */
bool shim_capture_active(void)
{
	return shim_cap.live_hi != 0;
}

static bool page_readable(uintptr_t page)
{
	unsigned slot = (unsigned)(page / PAGE) % SHIM_PROVEN_PAGES;

	if (page < PAGE)
		return false;
	if (shim_cap.page[slot] == page && shim_cap.page_epoch[slot] == shim_cap.epoch)
		return true;
	if (!shim_probe_readable((const void *)page))
		return false;
	/* In this order, an interrupted update never pairs the current epoch
	 * with a page nobody proved in this capture. */
	shim_cap.page_epoch[slot] = 0;
	atomic_signal_fence(memory_order_seq_cst);
	shim_cap.page[slot] = page;
	atomic_signal_fence(memory_order_seq_cst);
	shim_cap.page_epoch[slot] = shim_cap.epoch;
	return true;
}

/* A read outside the live stack: only from pages proven readable. Kept out
 * of access_mem so that the common case there stays a leaf. */
static __attribute__((noinline)) int read_proven(unw_word_t addr, unw_word_t *val)
{
	if (addr > UINTPTR_MAX - sizeof(unw_word_t) ||
	    !page_readable(addr & ~(PAGE - 1)) ||
	    !page_readable((addr + sizeof(unw_word_t) - 1) & ~(PAGE - 1)))
		return -UNW_EINVAL;
	/* Any alignment: libunwind reads instructions too (is the frame a
	 * signal trampoline's?), and a JIT's code sits at odd addresses. */
	memcpy(val, (const void *)addr, sizeof(*val));
	return 0;
}

/* libunwind's local memory accessor, for captures. Reads and writes between
 * this frame and the capture's are libunwind's own variables on the live
 * stack; any other read (the host's frames, unwind tables) must be on pages
 * proven readable during this capture. The live span is bounded so that a
 * host's own unwind, run by a signal handler on an alternate stack while a
 * capture is interrupted, is not taken for a read of the capture's stack. */
static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write,
		      void *arg)
{
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	uintptr_t hi = shim_cap.live_hi;

	if (!hi)
		return unw_access_mem_orig(as, addr, val, write, arg);
	if (addr >= here && hi > here && hi - here <= LIVE_SPAN &&
	    addr <= hi - sizeof(unw_word_t)) {
		if (write)
			*(unw_word_t *)addr = *val;
		else
			*val = *(unw_word_t *)addr;
		return 0;
	}
	if (write)
		return -UNW_EINVAL;
	return read_proven(addr, val);
}

void shim_capture_init(void)
{
	struct dl_find_object fo;
	unw_addr_space_t *local_as = NULL;
	unw_accessors_t *(*get_accessors)(unw_addr_space_t) = NULL;
	void *h, *buf[4] = { NULL };
	int saved = errno;

	h = dlopen("libunwind.so.8", RTLD_LAZY | RTLD_LOCAL);
	if (h) {
		*(void **)&shim_unw_backtrace = dlsym(h, "unw_backtrace");
		*(void **)&get_accessors = dlsym(h, STR(unw_get_accessors));
		local_as = dlsym(h, STR(unw_local_addr_space));
	}
	if (shim_unw_backtrace && _dl_find_object((void *)shim_unw_backtrace, &fo) == 0) {
		unw_start = (uintptr_t)fo.dlfo_map_start;
		unw_end = (uintptr_t)fo.dlfo_map_end;
	}
	/* Without our accessor libunwind would use its pipe, and without a
	 * working probe the accessor could not validate: then no libunwind
	 * (glibc's backtrace() instead). The probe must tell a local from the
	 * top page of the address space, which no user mapping can hold. */
	if (shim_unw_backtrace && (!get_accessors || !local_as || !unw_start ||
				 !shim_probe_readable(buf) || shim_probe_readable((void *)-PAGE)))
		shim_unw_backtrace = NULL;
	if (shim_unw_backtrace) {
		/* unw_get_accessors() initialises libunwind, which opens its
		 * pipe: refused (wrap-pipe.c), as the thread is "in a capture". */
		shim_cap.live_hi = (uintptr_t)__builtin_frame_address(0);
		unw_acc = get_accessors(*local_as);
		if (unw_acc && unw_acc->access_mem) {
			unw_access_mem_orig = unw_acc->access_mem;
			unw_acc->access_mem = access_mem;
		} else {
			shim_unw_backtrace = NULL;
		}
		shim_cap.live_hi = 0;
	}
	/* The first capture in a process costs ~200 us (and backtrace() loads
	 * libgcc_s): pay both now, not in the host's first socket(). */
	if (shim_unw_backtrace)
		shim_capture((uint64_t *)buf, 2);
	backtrace(buf, 4);
	errno = saved;
}

uint32_t shim_capture_keep(void **buf, int n, uint64_t *frames, uint32_t max)
{
	/* Locals: frames[] could alias the globals for all the compiler knows. */
	const uintptr_t lo = shim.self_start, hi = shim.self_end;
	int i = 0, scan = n < (int)SHIM_CAPTURE_EXTRA + 2 ? n : (int)SHIM_CAPTURE_EXTRA + 2;
	uint32_t out = 0;

	/* Skip the shim's own frames and what comes before them (a sanitizer
	 * runtime interposes backtrace() and adds its own frame first): the
	 * first frame after them is the host's call of the wrapped function. */
	for (int k = 0; k < scan; k++) {
		if ((uintptr_t)buf[k] >= lo && (uintptr_t)buf[k] < hi)
			i = k + 1;
		else if (i)
			break;
	}
	for (; i < n && out < max; i++)
		frames[out++] = (uint64_t)(uintptr_t)buf[i];
	return out;
}

uint32_t shim_capture_glibc(uint64_t *frames, uint32_t max)
{
	void *buf[SA_MAX_FRAMES + SHIM_CAPTURE_EXTRA];

	return shim_capture_keep(buf, backtrace(buf, (int)(max + SHIM_CAPTURE_EXTRA)), frames, max);
}
