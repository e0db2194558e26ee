// SPDX-License-Identifier: MIT
/* symbolize: return addresses -> frames via elfutils libdwfl (see symbolize.h).
 *
 * Live processes are described by /proc/<pid>/maps once, at creation: a
 * library dlopen()ed later is not seen, create a new symbolizer for that.
 * Such a library is in no module here, never in a neighbouring one: an
 * address counts as a module's only inside that file's mappings
 * (sym_live_owns).
 * Post-mortem, the module log is the only truth about the address space; a
 * logged file is used for DWARF and symbols only when its build-id proves it
 * is the very file that was mapped, because a rebuilt binary gives plausible
 * but wrong lines, which is worse than none.
 *
 * This file is the session: which module an address is in, and the cache;
 * frames.c turns an address in a module into its frames.
 *
 * Not thread-safe: libdwfl handles are not, and the cache has no lock.
 */
#include "symbolize/symbolize.h"
#include "symbolize/symbolize-private.h"
#include "symbolize/demangle.h"

#include "util/proc.h"
#include "util/procns.h"

#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* The maps lines read for path name this inode (an overlay or a bind
 * mount shows the inode the process sees, as stat() through its root does). */
static bool sym_maps_has_inode(const struct symbolizer *s, const char *name, uint64_t ino)
{
	for (size_t i = 0; i < s->nmaps; i++)
		if (strcmp(s->maps[i].path, name) == 0)
			return s->maps[i].ino == ino;
	/* Not read yet (libdwfl asks while reporting): nothing to compare. */
	return true;
}

/* dwfl_linux_proc_find_elf() opens the path from /proc/<pid>/maps in our
 * own mount namespace: for a process in a container that is another file (or
 * another build of it) and gives plausible wrong lines. The file the process
 * mapped is that path inside its root, /proc/<pid>/root, opened without
 * ever leaving that tree (a container's links are its own to plant:
 * procns_open_in_root), and only when it is the inode the maps line names
 * (a file replaced since, in the container or on the host, is not). Names
 * that are not paths ([vdso: N]) are left to libdwfl. A "(deleted)" file is
 * gone from that tree too: it stays unknown rather than resolve against a
 * namesake. The symbolizer comes in the module's userdata, set right after
 * reporting (sym_create_pid). */
static int sym_live_find_elf(Dwfl_Module *mod, void **userdata, const char *name,
			     Dwarf_Addr base, char **file_name, Elf **elfp)
{
	const struct symbolizer *s = *userdata;
	struct stat st;
	char *path;
	int fd;

	if (name[0] != '/')
		return dwfl_linux_proc_find_elf(mod, userdata, name, base, file_name, elfp);
	if (!s || asprintf(&path, "/proc/%d/root%s", (int)s->pid, name) < 0)
		return -1;
	/* O_NONBLOCK: a FIFO at the path cannot hang us; regular files only:
	 * opening a mapped device could block. */
	fd = procns_open_in_root(s->pid, name, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		goto fail;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !sym_maps_has_inode(s, name, st.st_ino))
		goto fail_close;
	*file_name = path;   /* libdwfl frees it */
	return fd;
fail_close:
	close(fd);
fail:
	free(path);
	return -1;
}

/* libdwfl keeps a pointer to its callbacks: they must outlive every Dwfl.
 * A NULL debuginfo_path means the default (":.debug:/usr/lib/debug"). */
static const Dwfl_Callbacks sym_live_callbacks = {
	.find_elf = sym_live_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

/* Post-mortem modules come with their Elf already open (dwfl_report_elf), so
 * find_elf is never consulted; it is set because libdwfl expects one. */
static const Dwfl_Callbacks sym_pm_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

const char *sym_intern(struct symbolizer *s, const char *str)
{
	struct sym_str *e;
	size_t len;

	if (!str)
		return NULL;
	len = strlen(str);
	HASH_FIND(hh, s->strs, str, len, e);
	if (e)
		return e->s;
	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	memcpy(e->s, str, len + 1);
	HASH_ADD_KEYPTR(hh, s->strs, e->s, len, e);
	if (!e->hh.tbl) {
		/* Not indexed, so nobody would free it: report "unknown". */
		free(e);
		return NULL;
	}
	return e->s;
}

static const struct sym_pm_module *sym_pm_find(const struct symbolizer *s, uint64_t pc)
{
	size_t lo = 0, hi = s->npm;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pc < s->pm[mid].start)
			hi = mid;
		else if (pc >= s->pm[mid].end)
			lo = mid + 1;
		else
			return &s->pm[mid];
	}
	return NULL;
}

static const struct sym_map *sym_map_find(const struct symbolizer *s, uint64_t pc)
{
	size_t lo = 0, hi = s->nmaps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pc < s->maps[mid].start)
			hi = mid;
		else if (pc >= s->maps[mid].end)
			lo = mid + 1;
		else
			return &s->maps[mid];
	}
	return NULL;
}

/* Does pc really lie in the live module libdwfl gave for it? libdwfl's
 * address lookup (dwfl_addrmodule) can give an unmapped hole to the module
 * below it: one that starts exactly where the previous module ends keeps
 * every address up to the next module's start (elfutils 0.188), and the
 * module's upper bound itself is its by design. A library mapped into such
 * a hole after the maps were read was named as its neighbour. So pc must be
 * in the module's own range and, for a file, in a mapping of that very
 * file as the maps read at creation show it; the [vdso] has only its
 * range. */
static bool sym_live_owns(const struct symbolizer *s, Dwfl_Module *mod, uint64_t pc)
{
	Dwarf_Addr lo = 0, hi = 0;
	const char *name = dwfl_module_info(mod, NULL, &lo, &hi, NULL, NULL, NULL, NULL);
	const struct sym_map *m;

	if (!name || pc < lo || pc >= hi)
		return false;
	if (name[0] != '/')
		return true;
	m = sym_map_find(s, pc);
	return m && strcmp(m->path, name) == 0;
}

/* The module of pc: libdwfl's, and for a post-mortem symbolizer the module
 * log's entry (*pm, NULL when the log has none). */
static Dwfl_Module *sym_module_at(struct symbolizer *s, uint64_t pc,
				  const struct sym_pm_module **pm)
{
	Dwfl_Module *mod;

	*pm = NULL;
	if (s->post_mortem) {
		*pm = sym_pm_find(s, pc);
		if (!*pm)
			return NULL;
		/* sym_module_trusted() checks libdwfl's module against
		 * the log's. */
		return dwfl_addrmodule(s->dwfl, pc);
	}
	mod = dwfl_addrmodule(s->dwfl, pc);
	return mod && sym_live_owns(s, mod, pc) ? mod : NULL;
}

/* Can libdwfl's view of the module be used (a post-mortem module whose
 * file was not verified, or is placed elsewhere than the log says, cannot)? */
static bool sym_module_trusted(const struct sym_pm_module *pm, Dwfl_Module *mod)
{
	return !pm || (pm->mod && mod == pm->mod);
}

const char *sym_module_of(struct symbolizer *s, uint64_t addr)
{
	const struct sym_pm_module *pm;
	Dwfl_Module *mod = sym_module_at(s, addr ? addr - 1 : 0, &pm);

	if (pm)
		return pm->path;
	return mod ? sym_intern(s, dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL))
		   : NULL;
}

/* _start calls __libc_start_main within its first few dozen bytes. */
#define SYM_ENTRY_SPAN 64

bool sym_at_entry(struct symbolizer *s, uint64_t addr)
{
	const struct sym_pm_module *pm;
	uint64_t pc = addr ? addr - 1 : 0;
	Dwfl_Module *mod = sym_module_at(s, pc, &pm);
	GElf_Addr bias;
	GElf_Ehdr eh;
	Elf *elf;

	if (!mod || !sym_module_trusted(pm, mod))
		return false;
	elf = dwfl_module_getelf(mod, &bias);
	if (!elf || !gelf_getehdr(elf, &eh) || !eh.e_entry || pc < bias)
		return false;
	return pc - bias >= eh.e_entry && pc - bias < eh.e_entry + SYM_ENTRY_SPAN;
}

/* Fill v (empty, with its inline buffer) with the frames for addr. */
static void sym_compute(struct symbolizer *s, uint64_t addr, struct sym_vec *v)
{
	/* A return address points after the call; the call itself may be the
	 * last instruction of a function or of an inlined range. */
	uint64_t pc = addr ? addr - 1 : 0;
	const struct sym_pm_module *pm;
	Dwfl_Module *mod;
	const char *path;

	mod = sym_module_at(s, pc, &pm);
	if (s->post_mortem && !pm)
		goto unknown;
	if (!sym_module_trusted(pm, mod)) {
		/* Unverified file, or libdwfl placed it elsewhere than the
		 * log says: only the log can be trusted. */
		v->v[0] = (struct sym_frame){
			.addr = addr,
			.module = pm->path,
			.module_offset = addr - pm->bias,
		};
		v->n = 1;
		return;
	}
	if (!mod)
		goto unknown;
	path = pm ? pm->path : sym_intern(s, dwfl_module_info(mod, NULL, NULL, NULL, NULL,
							      NULL, NULL, NULL));
	sym_module_frames(s, mod, addr, pc, path, v);
	return;
unknown:
	v->v[0] = (struct sym_frame){ .addr = addr };
	v->n = 1;
}

/* A frame named by a linkage name gets the readable name in `function` and
 * keeps the raw one in `linkage`. */
static void sym_demangle_frame(struct symbolizer *s, struct sym_frame *f)
{
	char *d = sym_demangle(f->function);

	if (!d)
		return;
	f->linkage = f->function;
	f->function = sym_intern(s, d);
	free(d);
	if (!f->function)   /* out of memory: the raw name is still a name */
		f->function = f->linkage;
}

void sym_resolve(struct symbolizer *s, uint64_t addr, const struct sym_frame **out, size_t *n)
{
	struct sym_entry *e;
	struct sym_vec v;

	HASH_FIND(hh, s->cache, &addr, sizeof(addr), e);
	if (e)
		goto found;

	sym_vec_init(&v);
	sym_compute(s, addr, &v);
	for (size_t i = 0; i < v.n; i++)
		sym_demangle_frame(s, &v.v[i]);
	e = malloc(sizeof(*e) + v.n * sizeof(e->frames[0]));
	if (!e) {
		/* Best effort without memory: the real frame alone, in a slot
		 * that the next such failure overwrites. */
		s->oom_frame = v.v[v.n - 1];
		sym_vec_release(&v);
		*out = &s->oom_frame;
		*n = 1;
		return;
	}
	e->addr = addr;
	e->n = v.n;
	memcpy(e->frames, v.v, v.n * sizeof(e->frames[0]));
	sym_vec_release(&v);
	e->next_owned = s->owned;
	s->owned = e;
	HASH_ADD(hh, s->cache, addr, sizeof(e->addr), e);
found:
	*out = e->frames;
	*n = e->n;
}

static struct symbolizer *sym_alloc(const Dwfl_Callbacks *cb)
{
	struct symbolizer *s;

	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->dwfl = dwfl_begin(cb);
	if (!s->dwfl) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

static int sym_set_userdata(Dwfl_Module *mod, void **userdata, const char *name,
			    Dwarf_Addr start, void *arg)
{
	*userdata = arg;
	return DWARF_CB_OK;
}

struct sym_maps_walk {
	struct symbolizer *s;
	size_t cap;   /* of s->maps */
};

static int sym_add_map(const struct proc_map *m, void *arg)
{
	struct sym_maps_walk *w = arg;
	struct symbolizer *s = w->s;
	const char *path;

	if (m->path[0] != '/' || (m->inode == 0 && m->dev_major == 0 && m->dev_minor == 0))
		return 0;
	path = sym_intern(s, m->path);
	if (!path)
		return 0;
	/* The kernel lists mappings by address. */
	if (s->nmaps && s->maps[s->nmaps - 1].path == path && s->maps[s->nmaps - 1].end == m->start) {
		s->maps[s->nmaps - 1].end = m->end;
		return 0;
	}
	if (s->nmaps == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 64;
		struct sym_map *nv = realloc(s->maps, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->maps = nv;
		w->cap = ncap;
	}
	s->maps[s->nmaps++] = (struct sym_map){ m->start, m->end, path, m->inode };
	return 0;
}

/* The file mappings of /proc/<pid>/maps, as libdwfl's proc_maps_report()
 * takes them (a path, and not device 0:0 with inode 0), one entry per run
 * of contiguous mappings of one file. A line that cannot be parsed, or a
 * path that cannot be stored, is left out: its addresses get no module,
 * which is what report retries on. 0 or an errno value. */
static int sym_read_maps(struct symbolizer *s)
{
	struct sym_maps_walk w = { s, 0 };

	return -proc_maps_each(s->pid, sym_add_map, &w);
}

struct symbolizer *sym_create_pid(pid_t pid)
{
	struct symbolizer *s;
	int err;

	if (pid <= 0) {
		errno = EINVAL;
		return NULL;
	}
	s = sym_alloc(&sym_live_callbacks);
	if (!s)
		return NULL;
	s->pid = pid;
	dwfl_report_begin(s->dwfl);
	/* 0, an errno value from reading /proc (ENOENT: no such process),
	 * or -1 when libdwfl itself failed. */
	err = dwfl_linux_proc_report(s->dwfl, pid);
	if (err)
		goto fail;
	if (dwfl_report_end(s->dwfl, NULL, NULL) != 0) {
		err = -1;
		goto fail;
	}
	/* Read after libdwfl's read: a mapping made or removed in between
	 * is in one of the two only, and an address counts as a module's
	 * only where both agree (sym_live_owns). */
	err = sym_read_maps(s);
	if (err)
		goto fail;
	/* Files are opened lazily, on first lookup: sym_live_find_elf()
	 * finds the pid through this. */
	dwfl_getmodules(s->dwfl, sym_set_userdata, s, 0);
	return s;
fail:
	sym_destroy(s);
	errno = err > 0 ? err : EIO;
	return NULL;
}

/* Does elf carry Go's build ID (".note.go.buildid": note "Go", type 4)
 * starting with the len bytes of id? */
static bool go_build_id_is(Elf *elf, const uint8_t *id, size_t len)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;
		const char *name;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".note.go.buildid") != 0 || !(d = elf_getdata(scn, NULL)))
			continue;
		while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type == 4 && nh.n_namesz >= 3 &&
			    memcmp((const char *)d->d_buf + name_off, "Go", 3) == 0)
				return len && nh.n_descsz >= len &&
				       memcmp((const char *)d->d_buf + desc_off, id, len) == 0;
		}
	}
	return false;
}

/* Report the logged file to libdwfl iff it is the file that was mapped.
 * The build-id is checked on the very descriptor libdwfl then reads, so a
 * file replaced in between cannot slip through. A module logged without a
 * build-id cannot be proven and is left as module+offset. */
static Dwfl_Module *sym_pm_report(Dwfl *dwfl, const struct sym_module *m, int fd)
{
	Dwfl_Module *mod = NULL;
	const unsigned char *bits;
	const void *id;
	GElf_Addr vaddr;
	ssize_t len;
	Elf *elf;

	if (!m->path || m->path[0] != '/' || !m->build_id || !m->build_id_len) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (fd < 0)
		fd = open(m->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		goto out_close;
	if (m->go_build_id) {
		/* A Go binary has no GNU build-id: its own build ID proves it,
		 * and libdwfl, which knows only the GNU one, is not asked. */
		if (!go_build_id_is(elf, m->build_id, m->build_id_len))
			goto out_end;
		mod = dwfl_report_elf(dwfl, m->path, m->path, fd, m->bias, true);
		elf_end(elf);
		if (!mod)
			close(fd);
		return mod;
	}
	len = dwelf_elf_gnu_build_id(elf, &id);
	if (len <= 0 || (size_t)len != m->build_id_len ||
	    memcmp(id, m->build_id, m->build_id_len) != 0)
		goto out_end;
	/* add_p_vaddr: `bias` is l_addr, the offset added to every p_vaddr.
	 * On success libdwfl owns fd and closes it at dwfl_end. */
	mod = dwfl_report_elf(dwfl, m->path, m->path, fd, m->bias, true);
	if (!mod)
		goto out_end;
	elf_end(elf);
	/* libdwfl's own view of the file must agree too. */
	len = dwfl_module_build_id(mod, &bits, &vaddr);
	if (len <= 0 || (size_t)len != m->build_id_len ||
	    memcmp(bits, m->build_id, m->build_id_len) != 0)
		return NULL;
	return mod;
out_end:
	elf_end(elf);
out_close:
	close(fd);
	return NULL;
}

static int sym_pm_cmp(const void *a, const void *b)
{
	const struct sym_pm_module *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

struct symbolizer *sym_create_modules(const struct sym_module *mods, size_t n)
{
	struct symbolizer *s;
	size_t i;
	int err = ENOMEM;

	if (n && !mods) {
		errno = EINVAL;
		return NULL;
	}
	if (elf_version(EV_CURRENT) == EV_NONE) {
		errno = ENOTSUP;
		return NULL;
	}
	s = sym_alloc(&sym_pm_callbacks);
	if (!s)
		return NULL;
	s->post_mortem = true;
	if (n) {
		s->pm = calloc(n, sizeof(*s->pm));
		if (!s->pm)
			goto fail;
	}
	dwfl_report_begin(s->dwfl);
	for (i = 0; i < n; i++) {
		struct sym_pm_module *p = &s->pm[s->npm];

		if (mods[i].end <= mods[i].start)
			continue;
		p->path = sym_intern(s, mods[i].path);
		p->start = mods[i].start;
		p->end = mods[i].end;
		p->bias = mods[i].bias;
		p->mod = sym_pm_report(s->dwfl, &mods[i], -1);
		s->npm++;
	}
	if (dwfl_report_end(s->dwfl, NULL, NULL) != 0) {
		err = EIO;
		goto fail;
	}
	qsort(s->pm, s->npm, sizeof(*s->pm), sym_pm_cmp);
	return s;
fail:
	sym_destroy(s);
	errno = err;
	return NULL;
}

struct symbolizer *sym_create_file(int fd, const struct sym_module *m)
{
	struct sym_module at0 = *m;
	struct symbolizer *s;

	if (fd < 0 || m->end <= m->start || m->start < m->bias) {
		if (fd >= 0)
			close(fd);
		errno = EINVAL;
		return NULL;
	}
	at0.start = m->start - m->bias;
	at0.end = m->end - m->bias;
	at0.bias = 0;
	if (elf_version(EV_CURRENT) == EV_NONE || !(s = sym_alloc(&sym_pm_callbacks))) {
		close(fd);
		errno = errno ? errno : ENOTSUP;
		return NULL;
	}
	s->post_mortem = true;
	s->pm = calloc(1, sizeof(*s->pm));
	if (!s->pm) {
		close(fd);
		goto fail;
	}
	dwfl_report_begin(s->dwfl);
	s->pm->path = sym_intern(s, at0.path);
	s->pm->start = at0.start;
	s->pm->end = at0.end;
	s->pm->mod = sym_pm_report(s->dwfl, &at0, fd);
	s->npm = 1;
	if (dwfl_report_end(s->dwfl, NULL, NULL) != 0 || !s->pm->mod)
		goto fail;
	return s;
fail:
	sym_destroy(s);
	errno = ENOENT;
	return NULL;
}

void sym_destroy(struct symbolizer *s)
{
	struct sym_str *str, *tmp;
	struct sym_entry *e;

	if (!s)
		return;
	HASH_CLEAR(hh, s->cache);
	while ((e = s->owned)) {
		s->owned = e->next_owned;
		free(e);
	}
	HASH_ITER(hh, s->strs, str, tmp) {
		HASH_DEL(s->strs, str);
		free(str);
	}
	sym_module_caches_free(s);
	free(s->pm);
	free(s->maps);
	if (s->dwfl)
		dwfl_end(s->dwfl);
	free(s);
}
