/* The per-call check that decides whether this thread may write the table
 * right now: the owner, a forked child that must first make its own table,
 * or a vfork child that must not touch it. */
#include "gate.h"

#include "process.h"
#include "util.h"

bool shim_writable_open(void)
{
	if (likely(atomic_load_explicit(&shim.state, memory_order_acquire) == SHIM_READY &&
		   shim.guard->owner_pid == shim.pid &&
		   !atomic_load_explicit(&shim.vfork_seen, memory_order_acquire)))
		return true;
	return shim_writable();
}

bool shim_writable(void)
{
	int st = atomic_load_explicit(&shim.state, memory_order_acquire);

	/* Not yet, or no longer (SHIM_OFF): nothing of the table may be
	 * touched. Never SHIM_UNINIT here: every wrapper calls shim_init()
	 * before its first real call, and only shim_init() resolves them. */
	if (unlikely(st != SHIM_READY))
		return false;
	/* Our private guard page intact: the owner, or a vfork child sharing
	 * the owner's memory, which must not touch the table (its fds are its
	 * own). Only a process that has vforked can have such a child. */
	if (likely(shim.guard->owner_pid == shim.pid))
		return !shim_vfork_child();
	/* Wiped: a forked child (by fork, _Fork or a raw clone), which makes
	 * its own table. SHIM_OWNER_SWITCHING: a signal handler's close
	 * caught shim_fork_child half-way. */
	if (shim.guard->owner_pid != 0)
		return false;
	return shim_fork_child(shim_getpid()) == 0;
}
