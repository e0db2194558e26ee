/* Stack capture (capture.c). */
#pragma once

#include "shim.h"

#include <stdatomic.h>

#define SHIM_CAPTURE_EXTRA 8     /* room for the shim's own frames, skipped */
#define SHIM_PROVEN_PAGES 8      /* pages proven readable, per capture */

/* Per thread: the capture under way, if any. Each capture gets a new
 * epoch; a page counts as proven only when its entry carries the current
 * epoch, so no capture trusts a proof older than itself. A capture that
 * interrupts another (none does today: shim_busy keeps a signal handler's
 * socket() out of the shim while the thread is in it) saves and restores
 * the marker and the epoch. An entry an interrupting unwind wrote is a page
 * proven readable during the current capture too. */
struct shim_capture_state {
	uintptr_t live_hi;                 /* the capturing frame; 0: none */
	uint64_t epoch, last_epoch;
	uintptr_t page[SHIM_PROVEN_PAGES];
	uint64_t page_epoch[SHIM_PROVEN_PAGES];
};
extern __thread struct shim_capture_state shim_cap SHIM_HIDDEN
	__attribute__((tls_model("initial-exec")));
/* libunwind's unw_backtrace, NULL when it is not used (capture.c). */
extern int (*shim_unw_backtrace)(void **, int) SHIM_HIDDEN;

void shim_capture_init(void) SHIM_HIDDEN;
/* buf[0..n) as an unwinder gave it: the host's frames into frames[]. */
uint32_t shim_capture_keep(void **buf, int n, uint64_t *frames, uint32_t max) SHIM_HIDDEN;
/* glibc's backtrace(): in a forked child (capture.c says why), or without libunwind. */
uint32_t shim_capture_glibc(uint64_t *frames, uint32_t max) SHIM_HIDDEN;
bool shim_capture_owns(const void *addr) SHIM_HIDDEN;
/* Is this thread inside a capture (libunwind called by the shim)? */
bool shim_capture_active(void) SHIM_HIDDEN;

/* The caller's stack, raw return addresses, innermost first, at most max
 * of the host's frames when the shim's own are at most `extra` (<=
 * SHIM_CAPTURE_EXTRA): the unwinder walks max + extra frames. Inline: the
 * unwinder walks every frame between it and the host at ~85 instructions
 * each, so a capture function of its own would be one frame more to walk on
 * every record (docs/design.md, "What a record costs"). */
static inline __attribute__((always_inline)) uint32_t shim_capture_in(uint64_t *frames,
								     uint32_t max, uint32_t extra)
{
	void *buf[SA_MAX_FRAMES + SHIM_CAPTURE_EXTRA];
	uintptr_t outer_hi;
	uint64_t outer_epoch;
	int n;

	if (!shim_unw_backtrace || shim.forked)
		return shim_capture_glibc(frames, max);
	outer_hi = shim_cap.live_hi;
	outer_epoch = shim_cap.epoch;
	shim_cap.epoch = ++shim_cap.last_epoch;
	atomic_signal_fence(memory_order_seq_cst);
	shim_cap.live_hi = (uintptr_t)__builtin_frame_address(0);
	n = shim_unw_backtrace(buf, (int)(max + extra));
	shim_cap.live_hi = outer_hi;
	atomic_signal_fence(memory_order_seq_cst);
	shim_cap.epoch = outer_epoch;
	return shim_capture_keep(buf, n, frames, max);
}

static inline __attribute__((always_inline)) uint32_t shim_capture(uint64_t *frames,
								  uint32_t max)
{
	return shim_capture_in(frames, max, SHIM_CAPTURE_EXTRA);
}
