/* Process life: a forked child's own table, adoption across execve(), and
 * the exit path. */
#include "process.h"

#include "table-file.h"
#include "util.h"
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Does fd still hold the socket of `rec`? Exactly when the inode was
 * recorded; else any socket will do, and the record learns its inode (what
 * the process holds now is what the CLI would see anyway). */
static bool fd_holds(int fd, struct sa_slot *rec)
{
	struct stat st;

	if (shim_fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	if (rec->inode == 0)
		rec->inode = st.st_ino;
	return st.st_ino == rec->inode;
}

/* The parent's backed-page bits at fork. 8 KiB: not on the stack of
 * whatever (signal) stack forked. Only the child's one thread uses it, once. */
static uint64_t old_reserved[SHIM_MAX_CHUNKS / 64];

/* Was [off, off + len) of the parent's table backed, by the parent's bits
 * as they were at fork? Only such bytes may be read: a read fault on a page
 * tmpfs cannot back is SIGBUS too. */
static bool old_backed(uint64_t off, uint64_t len)
{
	uint64_t first = off >> SHIM_CHUNK_SHIFT, last = (off + len - 1) >> SHIM_CHUNK_SHIFT;

	if (last >= SHIM_MAX_CHUNKS)
		return false;
	for (uint64_t c = first; c <= last; c++)
		if (!(old_reserved[c >> 6] & (1ull << (c & 63))))
			return false;
	return true;
}

static bool old_stack_backed(const struct sa_header *old_hdr, uint32_t id)
{
	uint64_t off = old_hdr->stacks_off + (uint64_t)(id - 1) * sizeof(struct sa_stack);

	return old_backed(off, sizeof(struct sa_stack));
}

/* Language frames of an inherited stack name entries of the parent's
 * table: copy each into ours (dropping those that cannot be read). Returns
 * the new depth. */
static uint32_t remap_lang(uint64_t *frames, uint32_t d, const uint8_t *old_base,
			   const struct sa_header *old_hdr)
{
	uint32_t o = 0;

	for (uint32_t i = 0; i < d; i++) {
		uint64_t idx = frames[i] & ~SA_FRAME_LANG, off, v;
		const struct sa_lframe *e;

		if (!sa_frame_is_lang(frames[i])) {
			frames[o++] = frames[i];
			continue;
		}
		if (idx >= old_hdr->nlframes)
			continue;
		off = old_hdr->lframes_off + idx * sizeof(*e);
		if (!old_backed(off, sizeof(*e)))
			continue;
		e = (const struct sa_lframe *)(old_base + off);
		if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != SA_ENTRY_READY)
			continue;
		v = shim_lframe_copy(e);
		if (v)
			frames[o++] = v;
	}
	return o;
}

/* The id in our table of the parent's stack `id` (its language frames
 * copied across); 0 when it cannot be read or stored. */
static uint32_t remap_stack(uint32_t id, const struct sa_stack *old_stacks,
			    const uint8_t *old_base, const struct sa_header *old_hdr)
{
	uint64_t frames[SA_MAX_FRAMES];
	uint32_t d;

	if (!id || id > old_hdr->nstacks || !old_stack_backed(old_hdr, id) ||
	    (d = old_stacks[id - 1].depth) > SA_MAX_FRAMES)
		return 0;
	memcpy(frames, old_stacks[id - 1].frames, d * sizeof(frames[0]));
	d = remap_lang(frames, d, old_base, old_hdr);
	return d ? shim_stack_intern(frames, d) : 0;
}

/* In a forked child: the mapping still shows the parent's table (MAP_SHARED),
 * so a close here would erase the parent's record. Make our own table, copy
 * the records whose fd we really inherited (same inode), then drop the
 * parent's mapping. Runs once, in the child's only thread. */
int shim_fork_child(int32_t pid)
{
	uint8_t *old_base = shim.base;
	uint64_t old_size = shim.size;
	struct sa_header *old_hdr = shim.hdr;
	struct sa_slot *old_slots = shim.slots;
	struct sa_stack *old_stacks = shim.stacks;
	struct sa_module *old_modules = shim.modules;
	uint32_t old_nslots = shim.nslots, nmods;
	int rc;

	shim_busy++;
	/* Neither the parent's nor ours until the switch is done: a signal
	 * handler's close() in between must write neither table (gate.c). */
	shim.guard->owner_pid = SHIM_OWNER_SWITCHING;
	atomic_signal_fence(memory_order_seq_cst);
	for (unsigned i = 0; i < SHIM_MAX_CHUNKS / 64; i++)
		old_reserved[i] = atomic_load_explicit(&shim.reserved[i], memory_order_relaxed);
	shim.pid = pid;
	shim.forked = true;
	shim.starttime = shim_read_starttime();   /* names the child's table */
	rc = shim_table_create(false);
	if (rc < 0) {
		/* Off first, then forget the parent's table, then unmap it: no
		 * reader may find pointers into a mapping that is gone (shim.h,
		 * "The table globals"). shim_warn needs shim.path: it names the
		 * table that could not be made. */
		atomic_store(&shim.state, SHIM_OFF);
		atomic_signal_fence(memory_order_seq_cst);
		for (unsigned i = 0; i < SHIM_MAX_CHUNKS / 64; i++)
			atomic_store_explicit(&shim.reserved[i], 0, memory_order_relaxed);
		shim.nslots = 0;
		shim.slots = NULL;
		shim.stacks = NULL;
		shim.lframes = NULL;
		shim.counts = NULL;
		shim.ncounts = 0;
		shim.modules = NULL;
		shim.hdr = NULL;
		shim.base = NULL;
		shim.size = 0;
		atomic_signal_fence(memory_order_seq_cst);
		munmap(old_base, old_size);
		shim.guard->owner_pid = pid;
		shim_warn("forked child cannot create its socket table", -rc);
		shim_busy--;
		return rc;
	}
	shim.hdr->generation = old_hdr->generation;

	/* Same address space image: the parent's module log applies. */
	nmods = old_hdr->modules_used < old_hdr->nmodules ? old_hdr->modules_used
							  : old_hdr->nmodules;
	for (uint32_t i = 0; i < nmods && i < shim.hdr->nmodules; i++) {
		uint64_t off = old_hdr->modules_off + (uint64_t)i * sizeof(*old_modules);

		if (!old_backed(off, sizeof(*old_modules)) ||
		    old_modules[i].state != SA_ENTRY_READY)
			continue;
		if (!shim_reserve(shim.hdr->modules_off + (uint64_t)i * sizeof(shim.modules[i]),
				  sizeof(shim.modules[i]))) {
			shim_counter_add(&shim.hdr->counters.overflow_module);
			break;
		}
		shim.modules[i] = old_modules[i];
	}
	shim.hdr->modules_used = nmods;

	for (uint32_t c = 0; c < SHIM_MAX_CHUNKS; c++) {
		uint64_t cstart, cend, first, last;

		if (!(old_reserved[c >> 6] & (1ull << (c & 63))))
			continue;
		cstart = (uint64_t)c << SHIM_CHUNK_SHIFT;
		cend = cstart + (1ull << SHIM_CHUNK_SHIFT);
		if (cend <= old_hdr->slots_off)
			continue;
		first = cstart > old_hdr->slots_off
				? (cstart - old_hdr->slots_off) / sizeof(struct sa_slot) : 0;
		last = (cend - old_hdr->slots_off + sizeof(struct sa_slot) - 1) / sizeof(struct sa_slot);
		if (last > old_nslots)
			last = old_nslots;
		for (uint64_t fd = first; fd < last; fd++) {
			struct sa_slot rec;

			if (!old_slots[fd].used ||
			    !sa_slot_read(&old_slots[fd], &rec, SHIM_SLOT_SPINS) || !rec.used ||
			    !fd_holds((int)fd, &rec))
				continue;
			rec.origin = SA_ORIGIN_INHERIT_FORK;
			/* Counted in the parent's table: our counts start at
			 * zero, and closing an inherited fd here is no close of
			 * ours to count (docs/design.md, "Per-site counts"). */
			rec.flags &= (uint8_t)~SA_SLOT_COUNTED;
			rec.open_stack = remap_stack(rec.open_stack, old_stacks, old_base, old_hdr);
			rec.connect_stack = remap_stack(rec.connect_stack, old_stacks, old_base,
							old_hdr);
			shim_slot_write((int)fd, &rec);
		}
	}
	munmap(old_base, old_size);
	atomic_signal_fence(memory_order_seq_cst);
	shim.guard->owner_pid = pid;
	shim_busy--;
	return 0;
}

/* After execve() adopted the table: keep records whose fd survived (not
 * CLOEXEC) and still holds the same socket; their stacks resolve against the
 * earlier image's modules (slot.generation says which). */
void shim_adopt_exec(void)
{
	for (uint32_t fd = 0; fd < shim.nslots; fd++) {
		uint64_t off = shim.hdr->slots_off + (uint64_t)fd * sizeof(struct sa_slot);
		struct sa_slot rec;

		if (!(atomic_load_explicit(&shim.reserved[(off >> SHIM_CHUNK_SHIFT) >> 6],
					   memory_order_relaxed) &
		      (1ull << ((off >> SHIM_CHUNK_SHIFT) & 63)))) {
			/* skip the rest of an unbacked chunk */
			uint64_t next = ((off >> SHIM_CHUNK_SHIFT) + 1) << SHIM_CHUNK_SHIFT;
			uint64_t nfd = (next - shim.hdr->slots_off) / sizeof(struct sa_slot);
			fd = (uint32_t)(nfd > fd ? nfd - 1 : fd);
			continue;
		}
		if (!shim.slots[fd].used || !sa_slot_read(&shim.slots[fd], &rec, SHIM_SLOT_SPINS))
			continue;
		if (rec.used && fd_holds((int)fd, &rec)) {
			if (rec.origin != SA_ORIGIN_INHERIT_START)
				rec.origin = SA_ORIGIN_INHERIT_EXEC;
			shim_slot_write((int)fd, &rec);
		} else {
			shim_slot_clear((int)fd);
			shim_counter_add(&shim.hdr->counters.stale_cleared);
		}
	}
}

/* At exit, is the record's socket still at its fd? A socket closed where
 * no wrapper sees it (a raw close instruction, io_uring) leaves a record
 * whose fd is closed, holds no socket, another socket (inode, when known),
 * or one of another family or type. */
static bool exit_holds(int fd, const struct sa_slot *rec)
{
	struct sa_slot copy = *rec;
	int v;
	socklen_t l = sizeof(v);

	if (!fd_holds(fd, &copy))
		return false;
	if (!rec->family)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l) == 0 && v != rec->family)
		return false;
	l = sizeof(v);
	return !(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l) == 0 && v != rec->type);
}

/* Normal exit. Under `sockaudit run` the table stays for the gate to read,
 * with each TCP socket's state at this moment, and without the records of
 * sockets the process no longer holds (counted in stale_cleared): `run`
 * must never list at exit a socket that was closed, however it was closed.
 * Otherwise the table is removed. The mapping is never unmapped: later
 * destructors and threads still close. */
void shim_exit(void)
{
	if (atomic_load(&shim.state) != SHIM_READY || !shim.guard ||
	    shim.guard->owner_pid != shim.pid || shim_vfork_child())
		return;
	if (!shim.under_run) {
		unlink(shim.path);
		return;
	}
	for (uint32_t fd = 0; fd < shim.nslots; fd++) {
		struct sa_slot rec;
		struct tcp_info ti;
		socklen_t l = sizeof(ti);

		if (!shim_slot_used((int)fd) ||
		    !sa_slot_read(&shim.slots[fd], &rec, SHIM_SLOT_SPINS) || !rec.used)
			continue;
		if (!exit_holds((int)fd, &rec)) {
			shim_slot_clear((int)fd);
			shim_counter_add(&shim.hdr->counters.stale_cleared);
			continue;
		}
		if ((rec.family != AF_INET && rec.family != AF_INET6) ||
		    getsockopt((int)fd, IPPROTO_TCP, TCP_INFO, &ti, &l) != 0)
			continue;
		rec.exit_state = ti.tcpi_state;
		rec.flags |= SA_SLOT_EXIT_STATE;
		shim_slot_write((int)fd, &rec);
	}
	shim.hdr->exited_ns = shim_now_ns();
	__atomic_or_fetch(&shim.hdr->flags, SA_HDR_EXITED, __ATOMIC_RELEASE);
}
