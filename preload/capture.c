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

#define EXTRA_FRAMES 8   /* room for the shim's own frames, skipped below */

#define STR_(x) #x
#define STR(x) STR_(x)   /* the exported name behind one of libunwind.h's macros */

/* The live stack below a capture's own frame is libunwind's working memory
 * (its cursor, its copy of the registers): read without a probe, but only
 * this far below the capture's frame (see access_mem). */
#define LIVE_SPAN (64 * 1024)
#define PROVEN_PAGES 8   /* pages proven readable, per capture */
#define PAGE 4096UL

static int (*unw_backtrace_fn)(void **, int);
static unw_accessors_t *unw_acc;
static int (*unw_access_mem_orig)(unw_addr_space_t, unw_word_t, unw_word_t *, int, void *);

static uintptr_t unw_start, unw_end;   /* libunwind's mapping */

/* Per thread: the capture under way, if any. Each capture gets a new
 * epoch; a page counts as proven only when its entry carries the current
 * epoch, so no capture trusts a proof older than itself. A capture that
 * interrupts another (none does today: shim_busy keeps a signal handler's
 * socket() out of the shim while the thread is in it) saves and restores
 * the marker and the epoch. An entry an interrupting unwind wrote is a page
 * proven readable during the current capture too. */
struct capture_state {
	uintptr_t live_hi;                 /* the capturing frame; 0: none */
	uint64_t epoch, last_epoch;
	uintptr_t page[PROVEN_PAGES];
	uint64_t page_epoch[PROVEN_PAGES];
};
static __thread struct capture_state cap __attribute__((tls_model("initial-exec")));

/* Is `addr` (a return address) inside libunwind? */
bool shim_capture_owns(const void *addr)
{
	return (uintptr_t)addr >= unw_start && (uintptr_t)addr < unw_end;
}

/* Is this thread inside the shim's use of libunwind (a capture, or the
 * start-up that initialises it)? Then libunwind gets no pipe. */
bool shim_capture_active(void)
{
	return cap.live_hi != 0;
}

/* Can 8 bytes be read at `addr`? The kernel copies the new signal mask
 * (8 bytes) from user memory before it looks at `how`: an invalid `how`
 * makes the call a pure probe, EFAULT when the memory cannot be read,
 * EINVAL when it can, and the mask is never changed. No descriptor, no side
 * effect, and a syscall that seccomp policies allow wherever a program may
 * block signals (unless they filter on its arguments). shim_capture_init()
 * checks both answers once. */
static bool probe_readable(const void *addr)
{
	return shim_sys(SYS_rt_sigprocmask, -1, addr, NULL, sizeof(uint64_t)) < 0 &&
	       errno == EINVAL;
}

static bool page_readable(uintptr_t page)
{
	unsigned slot = (unsigned)(page / PAGE) % PROVEN_PAGES;

	if (page < PAGE)
		return false;
	if (cap.page[slot] == page && cap.page_epoch[slot] == cap.epoch)
		return true;
	if (!probe_readable((const void *)page))
		return false;
	/* In this order, an interrupted update never pairs the current epoch
	 * with a page nobody proved in this capture. */
	cap.page_epoch[slot] = 0;
	atomic_signal_fence(memory_order_seq_cst);
	cap.page[slot] = page;
	atomic_signal_fence(memory_order_seq_cst);
	cap.page_epoch[slot] = cap.epoch;
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
	uintptr_t hi = cap.live_hi;

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
		*(void **)&unw_backtrace_fn = dlsym(h, "unw_backtrace");
		*(void **)&get_accessors = dlsym(h, STR(unw_get_accessors));
		local_as = dlsym(h, STR(unw_local_addr_space));
	}
	if (unw_backtrace_fn && _dl_find_object((void *)unw_backtrace_fn, &fo) == 0) {
		unw_start = (uintptr_t)fo.dlfo_map_start;
		unw_end = (uintptr_t)fo.dlfo_map_end;
	}
	/* Without our accessor libunwind would use its pipe, and without a
	 * working probe the accessor could not validate: then no libunwind
	 * (glibc's backtrace() instead). The probe must tell a local from the
	 * top page of the address space, which no user mapping can hold. */
	if (unw_backtrace_fn && (!get_accessors || !local_as || !unw_start ||
				 !probe_readable(buf) || probe_readable((void *)-PAGE)))
		unw_backtrace_fn = NULL;
	if (unw_backtrace_fn) {
		/* unw_get_accessors() initialises libunwind, which opens its
		 * pipe: refused (wrap-pipe.c), as the thread is "in a capture". */
		cap.live_hi = (uintptr_t)__builtin_frame_address(0);
		unw_acc = get_accessors(*local_as);
		if (unw_acc && unw_acc->access_mem) {
			unw_access_mem_orig = unw_acc->access_mem;
			unw_acc->access_mem = access_mem;
		} else {
			unw_backtrace_fn = NULL;
		}
		cap.live_hi = 0;
	}
	/* The first capture in a process costs ~200 us (and backtrace() loads
	 * libgcc_s): pay both now, not in the host's first socket(). */
	if (unw_backtrace_fn)
		shim_capture((uint64_t *)buf, 2);
	backtrace(buf, 4);
	errno = saved;
}

uint32_t shim_capture(uint64_t *frames, uint32_t max)
{
	void *buf[SA_MAX_FRAMES + EXTRA_FRAMES];
	int n, i = 0;
	uint32_t out = 0;

	if (unw_backtrace_fn && !shim.forked) {
		uintptr_t outer_hi = cap.live_hi;
		uint64_t outer_epoch = cap.epoch;

		cap.epoch = ++cap.last_epoch;
		atomic_signal_fence(memory_order_seq_cst);
		cap.live_hi = (uintptr_t)__builtin_frame_address(0);
		n = unw_backtrace_fn(buf, (int)(max + EXTRA_FRAMES));
		cap.live_hi = outer_hi;
		atomic_signal_fence(memory_order_seq_cst);
		cap.epoch = outer_epoch;
	} else {
		n = backtrace(buf, (int)(max + EXTRA_FRAMES));
	}
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
