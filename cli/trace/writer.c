/* trace/writer: the recorder writes a table as the shim does (see
 * writer.h): created O_EXCL|O_NOFOLLOW, mode 0600, owned by the process's
 * euid; pages backed with fallocate before their first write, so a full
 * /dev/shm costs records (counted), never a SIGBUS in the recorder. */
#include "trace/writer.h"

#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/proc.h"
#include "util/util.h"

#define PAGE 4096u

static bool page_backed(const struct tr_table *t, uint64_t page)
{
	return (t->backed[page >> 6] >> (page & 63)) & 1;
}

/* Back every page of [off, off + len); false (counted) when one cannot be. */
static bool back(struct tr_table *t, uint64_t off, uint64_t len)
{
	for (uint64_t p = off / PAGE; p <= (off + len - 1) / PAGE; p++) {
		if (page_backed(t, p))
			continue;
		if (fallocate(t->fd, 0, (off_t)(p * PAGE), PAGE) != 0) {
			__atomic_fetch_add(&t->hdr->counters.reserve_failed, 1, __ATOMIC_RELAXED);
			return false;
		}
		t->backed[p >> 6] |= 1ull << (p & 63);
	}
	return true;
}

static bool readable(const struct tr_table *t, uint64_t off, uint64_t len)
{
	for (uint64_t p = off / PAGE; p <= (off + len - 1) / PAGE; p++)
		if (!page_backed(t, p))
			return false;
	return true;
}

int tr_table_create(struct tr_table *t, const char *dir, pid_t pid, uint32_t uid,
		    uint64_t starttime, pid_t ppid, uint32_t nslots)
{
	struct sa_header layout = { 0 };
	char name[96];
	struct stat st;
	uint64_t size;
	int err;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	/* As the shim: the process's hard fd limit, within the ABI's bounds. */
	if (nslots < 1024)
		nslots = 1024;
	if (nslots > SA_MAX_SLOTS)
		nslots = SA_MAX_SLOTS;
	size = sa_layout(&layout, nslots);
	if (sa_table_name(name, sizeof(name), uid, pid, starttime) != 0)
		return -EINVAL;
	snprintf(t->path, sizeof(t->path), "%s/%s", dir, name);
	t->fd = open(t->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (t->fd < 0)
		return -errno;
	if (fchmod(t->fd, 0600) < 0 || (uid != geteuid() && fchown(t->fd, uid, (gid_t)-1) < 0) ||
	    ftruncate(t->fd, (off_t)size) < 0 || fstat(t->fd, &st) < 0)
		goto fail;
	t->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
	if (t->base == MAP_FAILED) {
		t->base = NULL;
		goto fail;
	}
	t->size = size;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->backed = xcalloc((size / PAGE + 63) / 64, sizeof(uint64_t));
	t->hdr = (struct sa_header *)t->base;
	if (fallocate(t->fd, 0, 0, PAGE) != 0)
		goto fail;
	t->backed[0] = 1;
	sa_header_init(t->hdr, &layout, &(struct sa_writer_id){
		.uid = uid, .depth = SA_MAX_FRAMES, .flags = SA_HDR_RECORDER, .pid = pid,
		.ppid = ppid, .starttime = starttime, .created_ns = now_realtime_ns(),
	});
	proc_read_cmdline(pid, t->hdr->cmdline, sizeof(t->hdr->cmdline));
	t->slots = (struct sa_slot *)(t->base + layout.slots_off);
	t->stacks = (struct sa_stack *)(t->base + layout.stacks_off);
	return 0;

fail:
	err = errno ? errno : EIO;
	unlink(t->path);
	tr_table_close(t, false);
	return -err;
}

bool tr_table_still_ours(const struct tr_table *t)
{
	struct stat st;

	return t->base && lstat(t->path, &st) == 0 && st.st_dev == t->dev && st.st_ino == t->ino;
}

void tr_table_close(struct tr_table *t, bool remove)
{
	if (remove && tr_table_still_ours(t))
		unlink(t->path);
	if (t->base)
		munmap(t->base, t->size);
	if (t->fd >= 0)
		close(t->fd);
	free(t->backed);
	t->base = NULL;
	t->hdr = NULL;
	t->backed = NULL;
	t->fd = -1;
}

uint32_t tr_table_stack(struct tr_table *t, const uint64_t *frames, uint32_t depth)
{
	uint64_t hash;
	uint32_t mask = t->hdr->nstacks - 1;

	if (depth == 0)
		return 0;
	if (depth > SA_MAX_FRAMES)
		depth = SA_MAX_FRAMES;
	hash = sa_stack_hash(frames, depth);
	for (uint32_t probe = 0; probe < SA_STACK_PROBES; probe++) {
		uint32_t i = (uint32_t)(hash + probe) & mask;
		uint64_t off = t->hdr->stacks_off + (uint64_t)i * sizeof(struct sa_stack);
		struct sa_stack *s = &t->stacks[i];

		if (!readable(t, off, sizeof(*s))) {
			if (!back(t, off, sizeof(*s)))
				break;
		}
		if (s->state == SA_ENTRY_READY) {
			if (s->hash == hash && s->depth == depth &&
			    memcmp(s->frames, frames, depth * sizeof(frames[0])) == 0)
				return i + 1;
			continue;
		}
		s->depth = depth;
		s->hash = hash;
		s->generation = t->hdr->generation;
		memcpy(s->frames, frames, depth * sizeof(frames[0]));
		__atomic_store_n(&s->state, SA_ENTRY_READY, __ATOMIC_RELEASE);
		return i + 1;
	}
	__atomic_fetch_add(&t->hdr->counters.overflow_stack, 1, __ATOMIC_RELAXED);
	return 0;
}

uint32_t tr_table_stack_get(const struct tr_table *t, uint32_t id, uint64_t *frames)
{
	const struct sa_stack *s;

	if (id == 0 || id > t->hdr->nstacks)
		return 0;
	s = &t->stacks[id - 1];
	if (s->state != SA_ENTRY_READY)
		return 0;
	memcpy(frames, s->frames, s->depth * sizeof(frames[0]));
	return s->depth;
}

static uint64_t slot_off(const struct tr_table *t, int fd)
{
	return t->hdr->slots_off + (uint64_t)fd * sizeof(struct sa_slot);
}

/* The recorder's one thread writes shard 0 of each stack's count
 * (common/table.h): the reader sums the shards, whichever are used. */
static struct sa_count *count_cell(struct tr_table *t, uint32_t id)
{
	uint64_t off;

	if (id == 0 || id > t->hdr->ncounts || t->hdr->abi_version < SA_ABI_SHARDED)
		return NULL;
	off = t->hdr->counts_off + sa_count_cell_off(id, 0);
	if (!back(t, off, sizeof(struct sa_count)))
		return NULL;
	return (struct sa_count *)(t->base + off);
}

bool tr_table_count_ready(struct tr_table *t, uint32_t id)
{
	return count_cell(t, id) != NULL;
}

void tr_table_count_open(struct tr_table *t, uint32_t id)
{
	struct sa_count *c = count_cell(t, id);

	if (c)
		__atomic_fetch_add(&c->opened, 1, __ATOMIC_RELAXED);
}

/* A counted record goes (cleared, or replaced by another open). */
static void count_close(struct tr_table *t, const struct sa_slot *old, bool collected)
{
	struct sa_count *c;

	if (!old->used || !(old->flags & SA_SLOT_COUNTED) || !(c = count_cell(t, old->open_stack)))
		return;
	__atomic_fetch_add(&c->closed, 1, __ATOMIC_RELAXED);
	if (collected)
		__atomic_fetch_add(&c->collected, 1, __ATOMIC_RELAXED);
}

/* `count`: a counted record replaced by another open counts a close. */
static bool put(struct tr_table *t, int fd, const struct sa_slot *src, bool count)
{
	struct sa_slot *s;
	uint32_t seq;

	if (fd < 0 || (uint32_t)fd >= t->hdr->nslots || !back(t, slot_off(t, fd), sizeof(*s))) {
		__atomic_fetch_add(&t->hdr->counters.overflow_fd, 1, __ATOMIC_RELAXED);
		return false;
	}
	s = &t->slots[fd];
	/* As the shim (preload/writer.c): the same open rewritten keeps its
	 * count; another record in its place means that open is gone. */
	if (count && s->used && (s->flags & SA_SLOT_COUNTED) &&
	    (!(src->flags & SA_SLOT_COUNTED) || src->open_stack != s->open_stack ||
	     src->open_ns != s->open_ns))
		count_close(t, s, false);
	seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
	__atomic_store_n(&s->seq, seq | 1u, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy((uint8_t *)s + sizeof(s->seq), (const uint8_t *)src + sizeof(src->seq),
	       sizeof(*s) - sizeof(s->seq));
	s->fd = fd;
	__atomic_store_n(&s->seq, (seq | 1u) + 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&t->hdr->counters.records, 1, __ATOMIC_RELAXED);
	return true;
}

bool tr_table_put(struct tr_table *t, int fd, const struct sa_slot *src)
{
	return put(t, fd, src, true);
}

bool tr_table_get(const struct tr_table *t, int fd, struct sa_slot *out)
{
	if (fd < 0 || (uint32_t)fd >= t->hdr->nslots || !readable(t, slot_off(t, fd), sizeof(*out)))
		return false;
	*out = t->slots[fd];   /* the only writer is this thread */
	return out->used;
}

void tr_table_clear_as(struct tr_table *t, int fd, bool collected)
{
	struct sa_slot empty = { .dup_of = -1 };
	struct sa_slot cur;

	if (!tr_table_get(t, fd, &cur))
		return;
	count_close(t, &cur, collected);
	put(t, fd, &empty, false);
}

void tr_table_clear(struct tr_table *t, int fd)
{
	tr_table_clear_as(t, fd, false);
}

void tr_table_rescued(struct tr_table *t, const struct sa_slot *rec, uint64_t close_ns)
{
	/* The header's page is backed from creation; the writer is shared
	 * with the shim (Python's collected sockets). */
	sa_rescued_put(t->hdr, rec, close_ns);
}

bool tr_table_is_recorders(const char *path)
{
	struct sa_header h;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return false;
	n = pread(fd, &h, sizeof(h), 0);
	close(fd);
	return n == (ssize_t)sizeof(h) && h.magic == SA_MAGIC && (h.flags & SA_HDR_RECORDER);
}

int tr_table_remove_stale(const char *path, uint32_t uid, pid_t pid, uint64_t starttime)
{
	struct sa_header h;
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	n = pread(fd, &h, sizeof(h), 0);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != uid ||
	    n != (ssize_t)sizeof(h) || h.magic != SA_MAGIC || h.pid != pid ||
	    h.starttime != starttime) {
		close(fd);
		return -EPERM;
	}
	close(fd);
	return unlink(path) == 0 ? 0 : -errno;
}

/* Build-id of the file at path: GNU's, else the start of Go's. */
static void module_identity(const char *path, uint64_t off0_start, struct sa_module *m)
{
	size_t nph = 0, shstrndx;
	Elf_Scn *scn = NULL;
	const void *id;
	GElf_Ehdr eh;
	ssize_t len;
	Elf *e;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || !gelf_getehdr(e, &eh))
		goto out;
	/* The load bias: where the segment at file offset 0 went, less the
	 * address it was linked at (0 for a fixed-address executable). */
	if (eh.e_type == ET_DYN && elf_getphdrnum(e, &nph) == 0) {
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_offset == 0) {
				m->bias = off0_start - (ph.p_vaddr & ~(uint64_t)4095);
				break;
			}
		}
	}
	len = dwelf_elf_gnu_build_id(e, &id);
	if (len > 0) {
		m->build_id_len = (uint8_t)(len > SA_BUILD_ID_MAX ? SA_BUILD_ID_MAX : len);
		memcpy(m->build_id, id, m->build_id_len);
		m->build_id_kind = SA_BUILD_ID_GNU;
		goto out;
	}
	if (elf_getshdrstrndx(e, &shstrndx) != 0)
		goto out;
	while ((scn = elf_nextscn(e, scn))) {
		size_t noff = 0, name_off, desc_off;
		const char *name;
		GElf_Shdr sh;
		GElf_Nhdr nh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".note.go.buildid") != 0 || !(d = elf_getdata(scn, NULL)))
			continue;
		while ((noff = gelf_getnote(d, noff, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type != 4 || nh.n_namesz < 3 ||
			    memcmp((const char *)d->d_buf + name_off, "Go", 3) != 0)
				continue;
			m->build_id_len = (uint8_t)(nh.n_descsz > SA_BUILD_ID_MAX ? SA_BUILD_ID_MAX
										 : nh.n_descsz);
			memcpy(m->build_id, (const char *)d->d_buf + desc_off, m->build_id_len);
			m->build_id_kind = SA_BUILD_ID_GO;
			goto out;
		}
	}
out:
	if (e)
		elf_end(e);
	close(fd);
}

static void module_append(struct tr_table *t, const struct sa_module *src)
{
	uint32_t i = t->hdr->modules_used;
	uint64_t off = t->hdr->modules_off + (uint64_t)i * sizeof(struct sa_module);
	struct sa_module *m;

	if (i >= t->hdr->nmodules || !back(t, off, sizeof(*m))) {
		__atomic_fetch_add(&t->hdr->counters.overflow_module, 1, __ATOMIC_RELAXED);
		return;
	}
	m = (struct sa_module *)(t->base + off);
	memcpy((uint8_t *)m + sizeof(m->state), (const uint8_t *)src + sizeof(src->state),
	       sizeof(*m) - sizeof(m->state));
	__atomic_store_n(&m->state, SA_ENTRY_READY, __ATOMIC_RELEASE);
	t->hdr->modules_used = i + 1;
}

/* One entry per file: its consecutive mappings (any other line ends a run). */
struct modules_walk {
	struct tr_table *t;
	struct sa_module cur;
	uint64_t off0;
	unsigned n;
	bool have;
};

static void modules_flush(struct modules_walk *w)
{
	if (!w->have)
		return;
	module_identity(w->cur.path, w->off0, &w->cur);
	w->cur.generation = w->t->hdr->generation;
	module_append(w->t, &w->cur);
	w->n++;
	w->have = false;
}

static int modules_add(const struct proc_map *m, void *arg)
{
	struct modules_walk *w = arg;

	if (w->have && strcmp(m->path, w->cur.path) != 0)
		modules_flush(w);
	if (m->path[0] != '/' || strlen(m->path) >= SA_PATH_MAX)
		return 0;
	if (!w->have) {
		memset(&w->cur, 0, sizeof(w->cur));
		snprintf(w->cur.path, sizeof(w->cur.path), "%s", m->path);
		w->cur.start = m->start;
		w->off0 = m->start;
		w->have = true;
	}
	if (m->offset == 0)
		w->off0 = m->start;
	w->cur.end = m->end;
	return 0;
}

unsigned tr_table_modules(struct tr_table *t, pid_t pid)
{
	struct modules_walk w = { .t = t };

	proc_maps_each(pid, modules_add, &w);
	modules_flush(&w);
	return w.n;
}

bool tr_table_module_file(struct tr_table *t, const char *path)
{
	struct sa_module m;
	size_t nph = 0;
	GElf_Ehdr eh;
	bool ok = false;
	Elf *e;
	int fd;

	if (strlen(path) >= SA_PATH_MAX || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	memset(&m, 0, sizeof(m));
	m.start = UINT64_MAX;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e && gelf_getehdr(e, &eh) && eh.e_type == ET_EXEC && elf_getphdrnum(e, &nph) == 0) {
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;

			if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
				continue;
			if (ph.p_vaddr < m.start)
				m.start = ph.p_vaddr & ~(uint64_t)4095;
			if (ph.p_vaddr + ph.p_memsz > m.end)
				m.end = ph.p_vaddr + ph.p_memsz;
		}
		ok = m.end > m.start;
	}
	if (e)
		elf_end(e);
	close(fd);
	if (!ok)
		return false;
	snprintf(m.path, sizeof(m.path), "%s", path);
	module_identity(path, m.start, &m);
	m.generation = t->hdr->generation;
	module_append(t, &m);
	return true;
}
