/* The table file from the writer's side: create or adopt it, back its pages
 * before touching them, and update slots, stacks and the module log. Every
 * function here may run inside a signal handler: syscalls and atomics only. */
#include "writer.h"

#include "util.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

void shim_counter_add(uint64_t *counter)
{
	atomic_fetch_add_explicit((_Atomic uint64_t *)counter, 1, memory_order_relaxed);
}

static int sys_close(int fd)
{
	return (int)shim_sys(SYS_close, fd);
}

/* Back [off, off + len) of the file so that a full /dev/shm gives ENOSPC
 * here instead of SIGBUS in the host when the page is first written. The
 * file is reopened by path (we keep no descriptor the host could close) and
 * checked to be the very file we mapped (device and inode): backing another
 * file at that name would leave our page unbacked and mark it backed. */
bool shim_reserve(uint64_t off, uint64_t len)
{
	uint64_t first = off >> SHIM_CHUNK_SHIFT, last = (off + len - 1) >> SHIM_CHUNK_SHIFT;
	struct stat st;
	bool ok = true;
	int fd = -1;

	if (last >= SHIM_MAX_CHUNKS)
		return false;
	for (uint64_t c = first; c <= last; c++) {
		uint64_t bit = 1ull << (c & 63);
		_Atomic uint64_t *word = &shim.reserved[c >> 6];

		if (atomic_load_explicit(word, memory_order_acquire) & bit)
			continue;
		if (fd < 0) {
			fd = (int)shim_sys(SYS_openat, AT_FDCWD, shim.path,
					  O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
			if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
			    (uint64_t)st.st_size != shim.size || st.st_dev != shim.table_dev ||
			    st.st_ino != shim.table_ino) {
				ok = false;
				break;
			}
		}
		uint64_t cstart = c << SHIM_CHUNK_SHIFT;
		uint64_t clen = 1ull << SHIM_CHUNK_SHIFT;
		if (cstart + clen > shim.size)
			clen = shim.size - cstart;
		/* Raw fallocate: glibc's posix_fallocate emulates by writing when
		 * the filesystem lacks it, which is not what we want here. */
		if (shim_sys(SYS_fallocate, fd, 0, (off_t)cstart, (off_t)clen) != 0) {
			shim_counter_add(&shim.hdr->counters.reserve_failed);
			ok = false;
			break;
		}
		atomic_fetch_or_explicit(word, bit, memory_order_release);
	}
	if (fd >= 0)
		sys_close(fd);
	return ok;
}

/* Is every chunk of [off, off + len) backed? An entry may straddle two
 * chunks (a stack entry is 280 bytes, a module 312): looking at its first
 * chunk only let a store run into the next one, unbacked, and a full tmpfs
 * then killed the host with SIGBUS (issue 13, item 6). Reads count as much
 * as stores: tmpfs allocates a page on a read fault too. */
static bool backed(uint64_t off, uint64_t len)
{
	uint64_t first = off >> SHIM_CHUNK_SHIFT, last = (off + len - 1) >> SHIM_CHUNK_SHIFT;

	if (last >= SHIM_MAX_CHUNKS)
		return false;
	for (uint64_t c = first; c <= last; c++)
		if (!(atomic_load_explicit(&shim.reserved[c >> 6], memory_order_acquire) &
		      (1ull << (c & 63))))
			return false;
	return true;
}

static bool slot_begin(struct sa_slot *s)
{
	_Atomic uint32_t *seq = (_Atomic uint32_t *)&s->seq;

	for (int i = 0; i < SHIM_SLOT_SPINS; i++) {
		uint32_t v = atomic_load_explicit(seq, memory_order_relaxed);
		if (!(v & 1) && atomic_compare_exchange_weak_explicit(seq, &v, v + 1,
								      memory_order_acquire,
								      memory_order_relaxed)) {
			atomic_thread_fence(memory_order_release);
			return true;
		}
		shim_cpu_relax();
	}
	shim_counter_add(&shim.hdr->counters.missed);
	return false;
}

static void slot_end(struct sa_slot *s)
{
	_Atomic uint32_t *seq = (_Atomic uint32_t *)&s->seq;

	atomic_store_explicit(seq, atomic_load_explicit(seq, memory_order_relaxed) + 1,
			      memory_order_release);
}

/* Is slot[fd] (fd < nslots) backed? One bit on a page-aligned region. */
static inline bool slot_backed(uint32_t fd)
{
	uint64_t c;

	if (unlikely(shim.slots_chunk == UINT32_MAX))
		return backed(shim.hdr->slots_off + (uint64_t)fd * sizeof(struct sa_slot),
			      sizeof(struct sa_slot));
	c = shim.slots_chunk + (fd / ((1u << SHIM_CHUNK_SHIFT) / sizeof(struct sa_slot)));
	return c < SHIM_MAX_CHUNKS &&
	       (atomic_load_explicit(&shim.reserved[c >> 6], memory_order_acquire) &
		(1ull << (c & 63)));
}

/* The slot of fd, for a caller that checked that the table is live. */
static inline __attribute__((always_inline)) struct sa_slot *slot_at(int fd, bool reserve)
{
	uint64_t off;

	if (fd < 0 || (uint32_t)fd >= shim.nslots) {
		if (reserve && shim.hdr)
			shim_counter_add(&shim.hdr->counters.overflow_fd);
		return NULL;
	}
	if (likely(slot_backed((uint32_t)fd)))
		return &shim.slots[fd];
	if (!reserve)
		return NULL;   /* never backed: nothing recorded there */
	off = shim.hdr->slots_off + (uint64_t)fd * sizeof(struct sa_slot);
	if (!shim_reserve(off, sizeof(struct sa_slot))) {
		shim_counter_add(&shim.hdr->counters.overflow_fd);
		return NULL;
	}
	return &shim.slots[fd];
}

static struct sa_slot *slot_for(int fd, bool reserve)
{
	/* No table (see "The table globals" in shim.h): touch nothing. */
	if (unlikely(!shim_table_live()))
		return NULL;
	return slot_at(fd, reserve);
}

/* --- per-site counts ------------------------------------------------------
 * Each stack has a cell per shard (common/table.h, "struct sa_count"); a
 * thread adds to its own shard's cell only: no lock, no line shared with
 * another thread's shard. Exact under threads (an owned shard has one
 * writer; a shared one takes locked adds) and fork (a child has its own
 * table, see process.c; it inherits only the forking thread, and shards
 * are never handed out again). The reader sums. */

__thread uint32_t shim_count_shard __attribute__((tls_model("initial-exec")));
__thread bool shim_count_own __attribute__((tls_model("initial-exec")));
static _Atomic uint32_t next_shard;

uint32_t shim_count_shard_take(void)
{
	uint32_t n = atomic_fetch_add_explicit(&next_shard, 1, memory_order_relaxed);

	/* Set the shard before the flag: a signal handler that comes in
	 * between finds a shard and counts with a locked add. */
	if (n < SA_COUNT_SHARDS - 1) {
		shim_count_shard = n + 1;
		atomic_signal_fence(memory_order_seq_cst);
		shim_count_own = true;
	} else {
		shim_count_shard = SA_COUNT_SHARDS;
	}
	return shim_count_shard;
}

/* The count block of stack id, from the start of the file. */
static uint64_t count_block_off(uint32_t id)
{
	return shim.hdr->counts_off + (uint64_t)((id - 1) / SA_COUNT_BLOCK) * SA_COUNT_BLOCK_SIZE;
}

/* A counted record goes away (cleared or replaced) while we own its slot.
 * SA_SLOT_COUNTED is set only when the block was backed (see
 * shim_count_ready), and a page stays backed for the life of a mapping (a
 * forked child's new mapping starts with no page backed, and its inherited
 * records lose the flag; an adopted table marks every page the earlier
 * image backed). The check is made all the same: a record whose stack was
 * replaced (language frames added) names an entry that may not be backed. */
static void count_close(const struct sa_slot *s, bool collected)
{
	uint32_t id = s->open_stack;
	struct sa_count *c;

	if (!s->used || !(s->flags & SA_SLOT_COUNTED) || !shim_count_ready(id))
		return;
	c = shim_count_cell(id);
	shim_count_add(&c->closed);
	if (unlikely(collected))
		shim_count_add(&c->collected);
}

const struct sa_slot shim_slot_empty;

bool shim_slot_write(int fd, const struct sa_slot *rec)
{
	struct sa_slot *s = slot_at(fd, true);

	if (!s || !slot_begin(s))
		return false;
	/* The same open rewritten (connect, exec adoption, exit) keeps its
	 * count; any other record in its place means that open is gone. */
	if (unlikely(s->used && (s->flags & SA_SLOT_COUNTED)) &&
	    (!(rec->flags & SA_SLOT_COUNTED) || rec->open_stack != s->open_stack ||
	     rec->open_ns != s->open_ns))
		count_close(s, false);
	memcpy((uint8_t *)s + sizeof(s->seq), (const uint8_t *)rec + sizeof(rec->seq),
	       sizeof(*s) - sizeof(s->seq));
	slot_end(s);
	shim_counter_add(&shim.hdr->counters.records);
	return true;
}

uint64_t shim_slot_open_ns(int fd)
{
	struct sa_slot *s = slot_at(fd, false);
	const _Atomic uint32_t *seq;

	if (!s || !__atomic_load_n(&s->used, __ATOMIC_RELAXED))
		return 0;
	seq = (const _Atomic uint32_t *)&s->seq;
	for (int i = 0; i < SHIM_SLOT_SPINS; i++) {
		uint32_t s1 = atomic_load_explicit(seq, memory_order_acquire);
		uint64_t v;
		uint8_t used;

		if (s1 & 1) {
			shim_cpu_relax();
			continue;
		}
		used = __atomic_load_n(&s->used, __ATOMIC_RELAXED);
		v = __atomic_load_n(&s->open_ns, __ATOMIC_RELAXED);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(seq, memory_order_relaxed) == s1)
			return used ? v : 0;
	}
	return 0;
}

bool shim_slot_connect(int fd, uint64_t open_ns, const struct sa_slot *peer,
		       uint64_t connect_ns, uint32_t connect_stack)
{
	struct sa_slot *s = slot_at(fd, false);

	if (!s || !slot_begin(s))
		return false;
	/* Closed meanwhile, and perhaps another socket opened at fd: that
	 * one's record is not this connect's to change. */
	if (!s->used || s->open_ns != open_ns) {
		slot_end(s);
		return false;
	}
	memcpy(s->peer, peer->peer, sizeof(s->peer));
	s->peer_len = peer->peer_len;
	s->flags = (uint8_t)((s->flags & ~SA_SLOT_PEER_TRUNC) | (peer->flags & SA_SLOT_PEER_TRUNC) |
			     SA_SLOT_CONNECTED);
	s->connect_ns = connect_ns;
	s->connect_stack = connect_stack;
	slot_end(s);
	shim_counter_add(&shim.hdr->counters.records);
	return true;
}

void shim_slot_clear_as(int fd, bool collected)
{
	struct sa_slot *s = slot_at(fd, false);

	if (!s || !__atomic_load_n(&s->used, __ATOMIC_RELAXED))
		return;
	if (!slot_begin(s))
		return;
	count_close(s, collected);
	s->used = 0;
	slot_end(s);
}

void shim_slot_clear(int fd)
{
	shim_slot_clear_as(fd, false);
}

bool shim_slot_used(int fd)
{
	struct sa_slot *s = slot_at(fd, false);

	return s && __atomic_load_n(&s->used, __ATOMIC_RELAXED);
}

bool shim_slot_kind(int fd, int kind[3])
{
	struct sa_slot *s = slot_for(fd, false);
	struct sa_slot rec;

	if (!s || !__atomic_load_n(&s->used, __ATOMIC_RELAXED) ||
	    !sa_slot_read(s, &rec, SHIM_SLOT_SPINS) || !rec.used || !rec.family)
		return false;
	kind[0] = rec.family;
	kind[1] = rec.type;
	kind[2] = rec.protocol;
	return true;
}

/* Deduplicated stacks: open addressing on the hash. An entry is claimed
 * EMPTY -> BUSY with a CAS, filled, then published READY; it never changes
 * again, so readers need no lock. Racing inserters of one stack may make two
 * entries, which only costs space. */
/* Fill an entry this thread took (BUSY) and publish it. */
static void stack_store(struct sa_stack *st, uint64_t h, const uint64_t *frames, uint32_t depth)
{
	st->hash = h;
	st->depth = depth;
	st->generation = shim.hdr->generation;
	memcpy(st->frames, frames, depth * sizeof(*frames));
	atomic_store_explicit((_Atomic uint32_t *)&st->state, SA_ENTRY_READY, memory_order_release);
	/* A new stack may run through a library dlopen'ed since start. */
	shim_modules_note(frames, depth);
}

uint32_t shim_stack_intern(const uint64_t *frames, uint32_t depth)
{
	uint64_t h = sa_stack_hash(frames, depth);
	uint32_t mask = shim.hdr->nstacks - 1;

	for (uint32_t i = 0; i < SA_STACK_PROBES; i++) {
		uint32_t idx = (uint32_t)(h + i) & mask;
		struct sa_stack *st = &shim.stacks[idx];
		_Atomic uint32_t *state = (_Atomic uint32_t *)&st->state;
		uint64_t off = shim.hdr->stacks_off + (uint64_t)idx * sizeof(*st);
		uint32_t v;

		if (!backed(off, sizeof(*st)) && !shim_reserve(off, sizeof(*st)))
			break;
		v = atomic_load_explicit(state, memory_order_acquire);
		if (v == SA_ENTRY_EMPTY) {
			/* Back the new stack's count block (every shard's
			 * cell) now, off the per-open path; without it the
			 * stack is kept and its opens go uncounted. */
			if (shim.counts && !shim_count_ready(idx + 1))
				shim_reserve(count_block_off(idx + 1), SA_COUNT_BLOCK_SIZE);
			if (atomic_compare_exchange_strong_explicit(state, &v, SA_ENTRY_BUSY,
								    memory_order_acquire,
								    memory_order_acquire)) {
				stack_store(st, h, frames, depth);
				return idx + 1;
			}
			/* v: what another thread made of it meanwhile. */
		}
		/* Another thread is storing a stack here, perhaps this very
		 * one (threads opening at one new site at once): wait for it
		 * rather than store the same stack again under a second id,
		 * which would split the site's counts. Bounded: an entry left
		 * BUSY (its writer descheduled for long) is passed over. */
		for (int k = 0; v == SA_ENTRY_BUSY && k < SHIM_SLOT_SPINS; k++) {
			shim_cpu_relax();
			v = atomic_load_explicit(state, memory_order_acquire);
		}
		if (v == SA_ENTRY_READY && st->hash == h && st->depth == depth &&
		    memcmp(st->frames, frames, depth * sizeof(*frames)) == 0)
			return idx + 1;
	}
	shim_counter_add(&shim.hdr->counters.overflow_stack);
	return 0;
}

/* How long lframe_store waits for an entry another thread is writing. */
#define LFRAME_BUSY_SPINS 4096u

/* Language frames: interned like stacks (EMPTY -> BUSY -> READY, never
 * changed afterwards), so that a frame shared by many stacks is stored once
 * and a stack entry is one word. */
static uint64_t lframe_store(unsigned lang, const char *file, size_t file_len, const char *func,
			     size_t func_len, uint32_t line, uint32_t column, uint8_t flags)
{
	uint32_t h, mask;

	if (!shim_table_live() || !shim.hdr->nlframes)
		return 0;
	h = sa_lframe_hash(lang, line, column, file, file_len, func, func_len);
	mask = shim.hdr->nlframes - 1;
	for (uint32_t i = 0; i < SA_LFRAME_PROBES; i++) {
		uint32_t idx = (h + i) & mask;
		struct sa_lframe *e = &shim.lframes[idx];
		_Atomic uint32_t *state = (_Atomic uint32_t *)&e->state;
		uint64_t off = shim.hdr->lframes_off + (uint64_t)idx * sizeof(*e);
		uint32_t v;

		if (!backed(off, sizeof(*e)) && !shim_reserve(off, sizeof(*e)))
			break;
		v = atomic_load_explicit(state, memory_order_acquire);
again:
		/* Another thread may be storing this very frame (threads of a
		 * pool reach one line at once): wait for it a little, since one
		 * frame stored twice is two entries, and the report's groups,
		 * keyed by the entries, would split. Bounded: a writer this
		 * interrupts (a signal handler's socket) or that is preempted
		 * costs a duplicate, never a hang. */
		for (unsigned spin = 0; v == SA_ENTRY_BUSY && spin < LFRAME_BUSY_SPINS; spin++) {
			shim_cpu_relax();
			v = atomic_load_explicit(state, memory_order_acquire);
		}
		if (v == SA_ENTRY_READY) {
			if (e->hash == h && e->lang == lang && e->line == line &&
			    e->column == column && e->flags == flags && e->file_len == file_len &&
			    e->func_len == func_len && memcmp(e->file, file, file_len) == 0 &&
			    memcmp(e->func, func, func_len) == 0)
				return SA_FRAME_LANG | idx;
			continue;
		}
		if (v != SA_ENTRY_EMPTY)
			continue;
		/* Lost to another writer: it may be storing this frame. */
		if (!atomic_compare_exchange_strong_explicit(state, &v, SA_ENTRY_BUSY,
							     memory_order_acquire,
							     memory_order_acquire))
			goto again;
		e->hash = h;
		e->lang = (uint8_t)lang;
		e->flags = flags;
		e->file_len = (uint16_t)file_len;
		e->func_len = (uint16_t)func_len;
		e->column = (uint16_t)column;
		e->line = line;
		memcpy(e->file, file, file_len);
		memcpy(e->func, func, func_len);
		atomic_store_explicit(state, SA_ENTRY_READY, memory_order_release);
		return SA_FRAME_LANG | idx;
	}
	shim_counter_add(&shim.hdr->counters.overflow_lframe);
	return 0;
}

uint64_t shim_lframe_intern(unsigned lang, const char *file, size_t file_len, const char *func,
			    size_t func_len, uint32_t line, uint32_t column)
{
	uint8_t flags = 0;

	if (file_len > SA_LFRAME_FILE_MAX) {
		/* The end of a path says the most: keep it. */
		file += file_len - SA_LFRAME_FILE_MAX;
		file_len = SA_LFRAME_FILE_MAX;
		flags |= SA_LFRAME_FILE_TRUNC;
	}
	if (func_len > SA_LFRAME_FUNC_MAX) {
		func_len = SA_LFRAME_FUNC_MAX;
		flags |= SA_LFRAME_FUNC_TRUNC;
	}
	return lframe_store(lang, file, file_len, func, func_len, line, column > 0xffff ? 0 : column,
			    flags);
}

uint64_t shim_lframe_copy(const struct sa_lframe *e)
{
	if (e->file_len > SA_LFRAME_FILE_MAX || e->func_len > SA_LFRAME_FUNC_MAX)
		return 0;
	return lframe_store(e->lang, e->file, e->file_len, e->func, e->func_len, e->line,
			    e->column, e->flags & (SA_LFRAME_FILE_TRUNC | SA_LFRAME_FUNC_TRUNC));
}

/* --- module log ---------------------------------------------------------- */

static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The GNU build-id of a loaded object, read from its PT_NOTE segments in
 * memory: no file access, no allocation. */
static uint8_t note_build_id(const ElfW(Phdr) *ph, uint16_t phnum, uintptr_t bias, uint8_t *out)
{
	for (uint16_t i = 0; i < phnum; i++) {
		const uint8_t *p, *end;

		if (ph[i].p_type != PT_NOTE)
			continue;
		p = (const uint8_t *)(bias + ph[i].p_vaddr);
		end = p + ph[i].p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *n = (const void *)p;
			size_t name = (n->n_namesz + 3) & ~3u, desc = (n->n_descsz + 3) & ~3u;
			const uint8_t *d = p + sizeof(*n) + name;

			if (d + n->n_descsz > end)
				break;
			if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
			    memcmp(p + sizeof(*n), "GNU", 4) == 0) {
				uint8_t len = n->n_descsz > SA_BUILD_ID_MAX ? SA_BUILD_ID_MAX
									    : (uint8_t)n->n_descsz;
				memcpy(out, d, len);
				return len;
			}
			p = d + desc;
		}
	}
	return 0;
}

static bool module_known(uint64_t addr)
{
	uint32_t n = atomic_load_explicit((_Atomic uint32_t *)&shim.hdr->modules_used,
					  memory_order_acquire);

	if (n > shim.hdr->nmodules)
		n = shim.hdr->nmodules;
	for (uint32_t i = 0; i < n; i++) {
		const struct sa_module *m = &shim.modules[i];

		/* An entry whose page could not be backed was claimed but never
		 * written: skip it without touching it. */
		if (!backed(shim.hdr->modules_off + (uint64_t)i * sizeof(*m), sizeof(*m)) ||
		    atomic_load_explicit((_Atomic uint32_t *)&m->state, memory_order_acquire) !=
			    SA_ENTRY_READY)
			continue;
		if (m->generation == shim.hdr->generation && addr >= m->start && addr < m->end)
			return true;
	}
	return false;
}

static void module_append(const char *path, const ElfW(Phdr) *ph, uint16_t phnum, uintptr_t bias)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	uint32_t idx;
	struct sa_module *m;

	for (uint16_t i = 0; i < phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (bias + ph[i].p_vaddr < lo)
			lo = bias + ph[i].p_vaddr;
		if (bias + ph[i].p_vaddr + ph[i].p_memsz > hi)
			hi = bias + ph[i].p_vaddr + ph[i].p_memsz;
	}
	if (lo >= hi || module_known(lo))
		return;
	idx = atomic_fetch_add_explicit((_Atomic uint32_t *)&shim.hdr->modules_used, 1,
					memory_order_acq_rel);
	if (idx >= shim.hdr->nmodules) {
		shim_counter_add(&shim.hdr->counters.overflow_module);
		return;
	}
	if (!shim_reserve(shim.hdr->modules_off + (uint64_t)idx * sizeof(*m), sizeof(*m))) {
		shim_counter_add(&shim.hdr->counters.overflow_module);
		return;
	}
	m = &shim.modules[idx];
	m->generation = shim.hdr->generation;
	m->start = lo;
	m->end = hi;
	m->bias = bias;
	m->build_id_len = note_build_id(ph, phnum, bias, m->build_id);
	copy_str(m->path, sizeof(m->path), path);
	atomic_store_explicit((_Atomic uint32_t *)&m->state, SA_ENTRY_READY, memory_order_release);
}

static void main_program_path(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	buf[n > 0 ? n : 0] = '\0';
}

static int log_one(struct dl_phdr_info *info, size_t size, void *data)
{
	char exe[SA_PATH_MAX];
	const char *path = info->dlpi_name;

	(void)size;
	(void)data;
	if (!path || !*path) {
		main_program_path(exe, sizeof(exe));
		path = exe;
	}
	if (strncmp(path, "linux-vdso", 10) == 0 || strncmp(path, "linux-gate", 10) == 0)
		path = "[vdso]";
	module_append(path, info->dlpi_phdr, info->dlpi_phnum, info->dlpi_addr);
	return 0;
}

/* Called at init and after exec adoption: dl_iterate_phdr takes the loader
 * lock, which is fine there and never on the hot path. */
void shim_modules_log_all(void)
{
	dl_iterate_phdr(log_one, NULL);
}

/* On a new stack, log the modules of frames not covered yet (a dlopen since
 * start). _dl_find_object is lock-free and async-signal-safe, unlike
 * dl_iterate_phdr. */
void shim_modules_note(const uint64_t *frames, uint32_t depth)
{
	for (uint32_t i = 0; i < depth; i++) {
		struct dl_find_object fo;
		const ElfW(Ehdr) *eh;
		const struct link_map *lm;
		char exe[SA_PATH_MAX];
		const char *path;

		if (sa_frame_is_lang(frames[i]) || module_known(frames[i]))
			continue;
		if (_dl_find_object((void *)(uintptr_t)(frames[i] - 1), &fo) != 0)
			continue;
		lm = fo.dlfo_link_map;
		eh = fo.dlfo_map_start;
		if (!lm || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
			continue;
		path = lm->l_name;
		if (!path || !*path) {
			main_program_path(exe, sizeof(exe));
			path = exe;
		}
		module_append(path, (const void *)((const uint8_t *)eh + eh->e_phoff),
			      eh->e_phnum, lm->l_addr);
	}
}
