/* symbols: each group's stack as function, file:line, module.
 *
 * Which address space the addresses belong to:
 *   - the live process, for records of the image running now
 *     (sym_create_pid: /proc/<pid>/maps);
 *   - the table's module log, for a process that is gone and for records
 *     from before an execve() (their generation is not the table's), one
 *     symbolizer per generation (sym_create_modules: build-id checked).
 * The symbolizer caches each address, so a frame shared by many groups is
 * resolved once. Leading frames of the shim and of libc's wrappers, and of
 * the Go packages that make a Go program's system calls, are trimmed: the
 * first frame shown is the caller's own code; so are the frames below it
 * that start the program, the thread (below_count) or the goroutine.
 */
#include "report/symbols.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uthash.h>

#include "report/lframe.h"
#include "util/procns.h"
#include "util/util.h"

/* A module file by its build-id. */
struct symcache_key {
	uint8_t kind, len;
	uint8_t id[SA_BUILD_ID_MAX];
};

struct symcache_file {
	struct symcache_key key;
	struct symbolizer *s;
	bool used;                      /* since the last sweep */
	UT_hash_handle hh;
};

struct report_symcache {
	struct symcache_file *by_id;
	size_t n;
};

/* A module of the live image, as the log gives it, and its shared file. */
struct live_mod {
	const struct sa_module *m;
	struct symbolizer *file;        /* NULL: not tried yet, or failed */
	bool tried;
};

struct report_symbols {
	pid_t live_pid;                 /* 0: not alive */
	uint32_t cur_generation;
	struct sa_reader *r;            /* the module log; NULL without a table */
	bool live_tried;
	struct symbolizer *live;
	/* live came from report_symbols_prepare(), so it read the process's
	 * maps earlier than it would have here: a frame it finds in no module
	 * may be in one mapped since, and then everything is resolved again
	 * with a symbolizer made now (live_missed). */
	bool live_early;
	bool live_missed;
	struct sa_module *mods;         /* the module log, read once */
	size_t nmods;
	bool mods_read;
	struct {
		uint32_t generation;
		struct symbolizer *s;
	} *pm;
	size_t npm;
	bool noted_pm;
	struct report_lframe **lf;      /* language frames the groups point into */
	size_t nlf;
	struct report_symcache *shared;
	struct live_mod *lm;            /* shared: the live image's logged modules, by start */
	size_t nlm;
	bool lm_read;
	char *map_files;                /* "start-end\n" names of /proc/<pid>/map_files */
	bool map_files_read;
	struct sym_frame *tmp;          /* a shared frame set, with the process's addresses */
	size_t ntmp;
	bool no_live;                   /* preparing with shared files: no live symbolizer yet */
};

static const char *src_module_of(struct report_symbols *rs, struct notes *notes,
				 uint32_t generation, uint64_t addr);
static bool src_at_entry(struct report_symbols *rs, struct notes *notes, uint32_t generation,
			 uint64_t addr);

static bool module_is(const char *module, const char *name)
{
	const char *base;

	if (!module)
		return false;
	base = strrchr(module, '/');
	base = base ? base + 1 : module;
	return strstr(base, name) != NULL;
}

/* Frames of the shim (it skips its own, but a copy loaded twice would not
 * be) and of libc's entry points (socket, connect, accept, __libc_*): the
 * shim's capture starts at the caller of the wrapped function, which for a
 * call made inside libc is libc itself. */
static bool trim_module(const char *module)
{
	return module_is(module, "libsockaudit") || module_is(module, "libc.so");
}

/* How many of the outermost frames are below the program's own code:
 * libc's start-up and thread entry (__libc_start_call_main,
 * __libc_start_main, start_thread, clone3) and the executable's _start.
 * They are not shown, as valgrind does not show them by default
 * (--show-below-main=no), and they are found from the module and the ELF
 * header alone: libc's debug information, whose compressed DWARF costs
 * tens of milliseconds to read, is never opened for them. None when that
 * would be every frame. */
static uint32_t below_count(struct report_symbols *rs, struct notes *notes, uint32_t generation,
			    const uint64_t *frames, uint32_t depth)
{
	uint32_t n = depth;

	if (n && src_at_entry(rs, notes, generation, frames[n - 1]) &&
	    !module_is(src_module_of(rs, notes, generation, frames[n - 1]), "libc.so"))
		n--;
	while (n && module_is(src_module_of(rs, notes, generation, frames[n - 1]), "libc.so"))
		n--;
	return n ? depth - n : 0;
}

bool report_go_syscall_frame(const char *fn)
{
	static const char *const exact[] = { "runtime", "syscall", "net", "os",
					     "golang.org/x/sys/unix" };
	const char *slash, *dot;
	size_t len;

	if (!fn)
		return false;
	/* The package path ends at the first '.' after its last '/'. */
	slash = strrchr(fn, '/');
	dot = strchr(slash ? slash : fn, '.');
	if (!dot || dot == fn)
		return false;
	len = (size_t)(dot - fn);
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strlen(exact[i]) == len && strncmp(fn, exact[i], len) == 0)
			return true;
	return strncmp(fn, "runtime/internal/", 17) == 0 || strncmp(fn, "internal/", 9) == 0;
}

size_t report_go_below_count(const struct sym_frame *f, size_t n)
{
	size_t k = 0;

	while (k < n && f[n - 1 - k].function &&
	       (strcmp(f[n - 1 - k].function, "runtime.goexit") == 0 ||
		strcmp(f[n - 1 - k].function, "runtime.main") == 0 ||
		strcmp(f[n - 1 - k].function, "runtime.mstart") == 0))
		k++;
	return k == n ? 0 : k;
}

size_t report_trim_count(const struct sym_frame *f, size_t n)
{
	size_t i = 0;

	while (i < n && (trim_module(f[i].module) || report_go_syscall_frame(f[i].function)))
		i++;
	/* A stack made entirely of libc (a callback from inside it): showing
	 * libc beats showing nothing. */
	return i == n ? 0 : i;
}

static void read_modules(struct report_symbols *rs)
{
	if (rs->mods_read)
		return;
	rs->mods_read = true;
	if (!rs->r)
		return;
	rs->mods = xcalloc(SA_NMODULES, sizeof(rs->mods[0]));
	rs->nmods = sa_reader_modules(rs->r, rs->mods, SA_NMODULES);
}

static struct symbolizer *pm_symbolizer(struct notes *notes, struct report_symbols *rs,
					uint32_t generation)
{
	struct sym_module *sm;
	struct symbolizer *s;
	size_t n = 0;

	for (size_t i = 0; i < rs->npm; i++)
		if (rs->pm[i].generation == generation)
			return rs->pm[i].s;
	read_modules(rs);
	sm = xcalloc(rs->nmods ? rs->nmods : 1, sizeof(*sm));
	for (size_t i = 0; i < rs->nmods; i++) {
		const struct sa_module *m = &rs->mods[i];

		if (m->generation != generation)
			continue;
		sm[n].path = m->path;
		sm[n].build_id = m->build_id;
		sm[n].build_id_len = m->build_id_len;
		sm[n].go_build_id = m->build_id_kind == SA_BUILD_ID_GO;
		sm[n].start = m->start;
		sm[n].end = m->end;
		sm[n].bias = m->bias;
		n++;
	}
	s = sym_create_modules(sm, n);
	free(sm);
	if (!s)
		notes_add(notes, "cannot load the module log of image generation %u: %s",
			    (unsigned)generation, strerror(errno));
	else if (!rs->noted_pm && rs->live_pid)
		notes_add(notes, "stacks recorded before an execve() are resolved from the table's "
			    "module log (files checked by build-id)");
	rs->noted_pm = rs->noted_pm || (s && rs->live_pid);
	rs->pm = xrealloc(rs->pm, (rs->npm + 1) * sizeof(rs->pm[0]));
	rs->pm[rs->npm].generation = generation;
	rs->pm[rs->npm].s = s;
	rs->npm++;
	return s;
}

static struct symbolizer *symbolizer_for(struct notes *notes, struct report_symbols *rs,
					 uint32_t generation)
{
	if (rs->no_live)
		return NULL;
	if (rs->live_pid && generation == rs->cur_generation) {
		if (!rs->live_tried) {
			rs->live_tried = true;
			rs->live = sym_create_pid(rs->live_pid);
			if (!rs->live)
				notes_add(notes, "cannot read the address space of pid %d (%s): "
					    "stacks resolved from the table's module log",
					    (int)rs->live_pid, strerror(errno));
		}
		if (rs->live)
			return rs->live;
	}
	return pm_symbolizer(notes, rs, generation);
}

/* uthash's Jenkins hash falls through its switch on purpose. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
struct report_symcache *report_symcache_create(void)
{
	return xcalloc(1, sizeof(struct report_symcache));
}

static void symcache_drop(struct report_symcache *c, struct symcache_file *f)
{
	HASH_DEL(c->by_id, f);
	sym_destroy(f->s);
	free(f);
	c->n--;
}

void report_symcache_sweep(struct report_symcache *c)
{
	struct symcache_file *f, *tmp;

	if (!c)
		return;
	HASH_ITER(hh, c->by_id, f, tmp) {
		if (!f->used)
			symcache_drop(c, f);
		else
			f->used = false;
	}
}

void report_symcache_destroy(struct report_symcache *c)
{
	struct symcache_file *f, *tmp;

	if (!c)
		return;
	HASH_ITER(hh, c->by_id, f, tmp)
		symcache_drop(c, f);
	free(c);
}

size_t report_symcache_files(const struct report_symcache *c)
{
	return c ? c->n : 0;
}

static struct symcache_file *symcache_find(struct report_symcache *c, const struct symcache_key *k)
{
	struct symcache_file *f = NULL;

	HASH_FIND(hh, c->by_id, k, sizeof(*k), f);
	return f;
}

static void symcache_put(struct report_symcache *c, const struct symcache_key *k,
			 struct symbolizer *s)
{
	struct symcache_file *f = xcalloc(1, sizeof(*f));

	f->key = *k;
	f->s = s;
	f->used = true;
	HASH_ADD(hh, c->by_id, key, sizeof(f->key), f);
	c->n++;
}
#pragma GCC diagnostic pop

static int live_mod_cmp(const void *a, const void *b)
{
	const struct live_mod *x = a, *y = b;

	return x->m->start < y->m->start ? -1 : x->m->start > y->m->start;
}

static void read_modules(struct report_symbols *rs);

/* The logged modules of the image running now, by start. */
static void read_live_mods(struct report_symbols *rs)
{
	if (rs->lm_read)
		return;
	rs->lm_read = true;
	read_modules(rs);
	rs->lm = xcalloc(rs->nmods ? rs->nmods : 1, sizeof(rs->lm[0]));
	for (size_t i = 0; i < rs->nmods; i++) {
		const struct sa_module *m = &rs->mods[i];

		if (m->generation == rs->cur_generation && m->end > m->start && m->start >= m->bias &&
		    m->path[0] == '/' && m->build_id_len && m->build_id_len <= SA_BUILD_ID_MAX)
			rs->lm[rs->nlm++].m = m;
	}
	qsort(rs->lm, rs->nlm, sizeof(rs->lm[0]), live_mod_cmp);
}

static struct live_mod *live_mod_at(struct report_symbols *rs, uint64_t pc)
{
	size_t lo = 0, hi;

	read_live_mods(rs);
	hi = rs->nlm;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pc < rs->lm[mid].m->start)
			hi = mid;
		else if (pc >= rs->lm[mid].m->end)
			lo = mid + 1;
		else
			return &rs->lm[mid];
	}
	return NULL;
}

/* The file of a module as the process mapped it: its entry in
 * /proc/<pid>/map_files that starts where the log says the module does
 * (the very file, even replaced or in another mount namespace; root
 * only), else the path inside the process's root, never leaving it. A
 * regular file only: a FIFO or device planted at the path cannot block
 * us. The build-id check (sym_create_file) decides whether it is used. */
static int open_module(struct report_symbols *rs, const struct sa_module *m)
{
	char want[48], path[96];
	const char *line;
	struct stat st;
	int fd = -1;

	if (!rs->map_files_read) {
		char dpath[64];
		struct dirent *d;
		size_t len = 0, cap = 0;
		DIR *dp;

		rs->map_files_read = true;
		snprintf(dpath, sizeof(dpath), "/proc/%d/map_files", (int)rs->live_pid);
		dp = opendir(dpath);
		while (dp && (d = readdir(dp))) {
			size_t k = strlen(d->d_name);

			if (d->d_name[0] == '.')
				continue;
			if (len + k + 2 > cap) {
				cap = (len + k + 2) * 2;
				rs->map_files = xrealloc(rs->map_files, cap);
			}
			memcpy(rs->map_files + len, d->d_name, k);
			len += k;
			rs->map_files[len++] = '\n';
			rs->map_files[len] = '\0';
		}
		if (dp)
			closedir(dp);
	}
	snprintf(want, sizeof(want), "%llx-", (unsigned long long)m->start);
	for (line = rs->map_files; line && *line; line = strchr(line, '\n') + 1) {
		if (strncmp(line, want, strlen(want)) == 0) {
			snprintf(path, sizeof(path), "/proc/%d/map_files/%.*s", (int)rs->live_pid,
				 (int)strcspn(line, "\n"), line);
			fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
			break;
		}
	}
	if (fd < 0)
		fd = procns_open_in_root(rs->live_pid, m->path,
					 O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The shared file symbolizer of pc's module; NULL: none (not logged, not
 * verified): the process's own symbolizer answers then. */
static struct symbolizer *shared_file(struct report_symbols *rs, uint64_t pc, uint64_t *bias)
{
	struct live_mod *lm = live_mod_at(rs, pc);
	struct symcache_key k;
	struct symcache_file *f;
	struct sym_module sm;

	if (!lm)
		return NULL;
	*bias = lm->m->bias;
	if (lm->tried)
		return lm->file;
	lm->tried = true;
	memset(&k, 0, sizeof(k));
	k.kind = lm->m->build_id_kind;
	k.len = lm->m->build_id_len;
	memcpy(k.id, lm->m->build_id, k.len);
	f = symcache_find(rs->shared, &k);
	if (f) {
		f->used = true;
		lm->file = f->s;
		return lm->file;
	}
	memset(&sm, 0, sizeof(sm));
	sm.path = lm->m->path;
	sm.build_id = lm->m->build_id;
	sm.build_id_len = lm->m->build_id_len;
	sm.go_build_id = lm->m->build_id_kind == SA_BUILD_ID_GO;
	sm.start = lm->m->start;
	sm.end = lm->m->end;
	sm.bias = lm->m->bias;
	{
		int fd = open_module(rs, lm->m);

		lm->file = fd >= 0 ? sym_create_file(fd, &sm) : NULL;
	}
	/* A file not verified here may be in another process (a container's
	 * own copy): only successes are shared. */
	if (lm->file)
		symcache_put(rs->shared, &k, lm->file);
	return lm->file;
}

static bool use_shared(const struct report_symbols *rs, uint32_t generation)
{
	return rs->shared && rs->live_pid && rs->r && generation == rs->cur_generation;
}

static struct symbolizer *symbolizer_for(struct notes *notes, struct report_symbols *rs,
					 uint32_t generation);

/* The three questions a stack asks of a symbolizer, answered by the shared
 * file where there is one, else by s (the process's own, or NULL). */
static const char *src_module_of(struct report_symbols *rs, struct notes *notes,
				 uint32_t generation, uint64_t addr)
{
	uint64_t bias;
	struct symbolizer *s;

	if (use_shared(rs, generation) && shared_file(rs, addr ? addr - 1 : 0, &bias))
		return live_mod_at(rs, addr ? addr - 1 : 0)->m->path;
	s = symbolizer_for(notes, rs, generation);
	return s ? sym_module_of(s, addr) : NULL;
}

static bool src_at_entry(struct report_symbols *rs, struct notes *notes, uint32_t generation,
			 uint64_t addr)
{
	uint64_t bias;
	struct symbolizer *f, *s;

	if (use_shared(rs, generation) && (f = shared_file(rs, addr ? addr - 1 : 0, &bias)))
		return sym_at_entry(f, addr - bias);
	s = symbolizer_for(notes, rs, generation);
	return s && sym_at_entry(s, addr);
}

static size_t src_resolve(struct report_symbols *rs, struct notes *notes, uint32_t generation,
			  uint64_t addr, const struct sym_frame **out)
{
	uint64_t bias;
	struct symbolizer *f, *s;
	size_t k;

	if (use_shared(rs, generation) && (f = shared_file(rs, addr ? addr - 1 : 0, &bias))) {
		const struct sym_frame *fr;

		sym_resolve(f, addr - bias, &fr, &k);
		if (k > rs->ntmp) {
			rs->tmp = xrealloc(rs->tmp, k * sizeof(rs->tmp[0]));
			rs->ntmp = k;
		}
		memcpy(rs->tmp, fr, k * sizeof(fr[0]));
		/* The file's frames, at this process's addresses. */
		for (size_t i = 0; i < k; i++)
			rs->tmp[i].addr = addr;
		*out = rs->tmp;
		return k;
	}
	s = symbolizer_for(notes, rs, generation);
	if (!s)
		return 0;
	sym_resolve(s, addr, out, &k);
	return k;
}

static void push_frames(struct sym_frame **all, size_t *n, size_t *cap,
			const struct sym_frame *f, size_t k)
{
	if (*n + k > *cap) {
		*cap = (*n + k) * 2;
		*all = xrealloc(*all, *cap * sizeof((*all)[0]));
	}
	memcpy(&(*all)[*n], f, k * sizeof((*all)[0]));
	*n += k;
}

/* A language frame of the table as a frame; its strings live in rs. */
static struct sym_frame lang_frame(struct report_symbols *rs, uint64_t entry)
{
	struct sym_frame f = { .addr = entry };
	struct report_lframe *lf = xcalloc(1, sizeof(*lf));

	if (!rs->r || !report_lframe_read(rs->r, entry, lf)) {
		free(lf);
		return f;
	}
	rs->lf = xrealloc(rs->lf, (rs->nlf + 1) * sizeof(rs->lf[0]));
	rs->lf[rs->nlf++] = lf;
	f.language = lf->language;
	f.function = lf->function[0] ? lf->function : NULL;
	f.file = lf->file[0] ? lf->file : NULL;
	f.line = lf->line;
	f.column = lf->column;
	return f;
}

/* A Java frame of the JDK's own packages (java.base's and the JDK's
 * modules: java.*, javax.*, sun.*, jdk.*, com.sun.*). */
static bool jdk_frame(const char *function)
{
	static const char *const pkgs[] = { "java.", "javax.", "sun.", "jdk.", "com.sun." };

	for (size_t i = 0; i < sizeof(pkgs) / sizeof(pkgs[0]); i++)
		if (strncmp(function, pkgs[i], strlen(pkgs[i])) == 0)
			return true;
	return false;
}

/* A runtime's own library at the innermost end of a language stack: a
 * Python frame of the standard library (".../lib/python3.11/socket.py",
 * not ".../dist-packages/..."), a Java frame of the JDK's, the way libc's
 * entry points are trimmed from a native stack: the first frame shown is
 * then the program's. */
static bool runtime_frame(const struct sym_frame *f)
{
	if (!f->language)
		return false;
	if (strcmp(f->language, "java") == 0)
		return f->function && jdk_frame(f->function);
	return strcmp(f->language, "python") == 0 && f->file &&
	       strstr(f->file, "/lib/python3") && !strstr(f->file, "-packages/");
}

/* A stack is its language frames (a runtime's, innermost first), then the
 * native ones: the language frames are all shown; the native part is
 * trimmed of the shim's and libc's leading frames and of those below the
 * program's own code, as a native stack is. */
static void resolve_group(struct notes *notes, struct report_symbols *rs, struct group *g)
{
	const struct group_stack *st = g->stack;
	struct sym_frame *all = NULL, *native = NULL;
	size_t n = 0, cap = 0, nn = 0, ncap = 0, trim, ltrim = 0, go_below;
	uint32_t nlang = 0, below;

	while (nlang < st->depth && sa_frame_is_lang(st->frames[nlang]))
		nlang++;
	below = below_count(rs, notes, st->generation, st->frames + nlang, st->depth - nlang);
	for (uint32_t i = 0; i < nlang; i++) {
		struct sym_frame f = lang_frame(rs, st->frames[i]);

		push_frames(&all, &n, &cap, &f, 1);
	}
	while (ltrim < n && runtime_frame(&all[ltrim]))
		ltrim++;
	if (ltrim == n)
		ltrim = 0;   /* the runtime's code alone: show it */
	for (uint32_t i = nlang; i < st->depth - below; i++) {
		const struct sym_frame *out;
		struct sym_frame raw = { .addr = st->frames[i] };
		size_t k = 1;

		if (sa_frame_is_lang(st->frames[i]) ||
		    !(k = src_resolve(rs, notes, st->generation, st->frames[i], &out))) {
			out = &raw;
			k = 1;
		}
		if (!use_shared(rs, st->generation) && rs->live && rs->live_early &&
		    st->generation == rs->cur_generation && !out[k - 1].module &&
		    !sa_frame_is_lang(st->frames[i]))
			rs->live_missed = true;
		push_frames(&native, &nn, &ncap, out, k);
	}
	trim = report_trim_count(native, nn);
	/* Go's goroutine start is found by name, once resolved. */
	go_below = report_go_below_count(native + trim, nn - trim);
	if (nn > trim + go_below)
		push_frames(&all, &n, &cap, native + trim, nn - trim - go_below);
	g->trimmed_go = trim && report_go_syscall_frame(native[0].function);
	free(native);
	g->trimmed = trim + ltrim;
	g->trimmed_below = below + go_below;
	g->nframes = n - ltrim;
	g->frames = xcalloc(g->nframes ? g->nframes : 1, sizeof(g->frames[0]));
	if (g->nframes)
		memcpy(g->frames, all + ltrim, g->nframes * sizeof(g->frames[0]));
	free(all);
}

/* The frames of these stacks into the live symbolizer's cache. */
static void prepare_stacks(struct report_symbols *rs, struct sa_reader *r,
			   const uint32_t *stack_ids, size_t n)
{
	uint64_t frames[SA_MAX_FRAMES];
	struct notes none = { 0 };

	for (size_t i = 0; i < n; i++) {
		uint32_t depth = sa_reader_stack(r, stack_ids[i], frames);

		uint32_t f = 0;

		while (f < depth && sa_frame_is_lang(frames[f]))
			f++;
		depth -= below_count(rs, &none, rs->cur_generation, frames + f, depth - f);
		for (; f < depth; f++) {
			const struct sym_frame *out;
			size_t k;

			if (!sa_frame_is_lang(frames[f]))
				sym_resolve(rs->live, frames[f], &out, &k);
		}
	}
	notes_finish(&none);
}

/* The frames of these stacks into the shared files' caches; an address of
 * no logged module is left for the resolve. */
static void prepare_shared(struct report_symbols *rs, struct sa_reader *r,
			   const uint32_t *stack_ids, size_t n)
{
	uint64_t frames[SA_MAX_FRAMES];
	struct notes none = { 0 };

	rs->no_live = true;
	for (size_t i = 0; i < n; i++) {
		uint32_t depth = sa_reader_stack(r, stack_ids[i], frames), f = 0;

		while (f < depth && sa_frame_is_lang(frames[f]))
			f++;
		depth -= below_count(rs, &none, rs->cur_generation, frames + f, depth - f);
		for (; f < depth; f++) {
			const struct sym_frame *out;

			if (!sa_frame_is_lang(frames[f]))
				src_resolve(rs, &none, rs->cur_generation, frames[f], &out);
		}
	}
	rs->no_live = false;
	notes_finish(&none);
}

struct report_symbols *report_symbols_prepare(pid_t pid, uint32_t generation, struct sa_reader *r,
					     const uint32_t *stack_ids, size_t n,
					     struct report_symcache *shared)
{
	struct report_symbols *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return NULL;
	rs->live_pid = pid;
	rs->cur_generation = generation;
	if (shared && r) {
		rs->shared = shared;
		rs->r = r;
		prepare_shared(rs, r, stack_ids, n);
		return rs;
	}
	rs->live = sym_create_pid(pid);
	if (!rs->live) {
		/* Tried again when needed, with the note it deserves then. */
		free(rs);
		return NULL;
	}
	rs->live_tried = true;
	rs->live_early = true;
	prepare_stacks(rs, r, stack_ids, n);
	return rs;
}

static void resolve_all(struct group_set *gs, struct notes *notes, struct report_symbols *rs)
{
	for (size_t i = 0; i < gs->n; i++)
		if (gs->v[i].stack->depth)
			resolve_group(notes, rs, &gs->v[i]);
}

struct report_symbols *report_symbols_resolve_prepared(struct group_set *gs,
						       const struct report_symbols_in *in,
						       struct report_symbols *prep)
{
	struct report_symbols *rs = prep;

	/* Prepared for another image (an execve() since) or process: unused. */
	if (rs && (!in->alive || rs->live_pid != in->pid ||
		   rs->cur_generation != in->generation)) {
		report_symbols_destroy(rs);
		rs = NULL;
	}
	if (!rs) {
		rs = xcalloc(1, sizeof(*rs));
		rs->live_pid = in->alive ? in->pid : 0;
		rs->cur_generation = in->generation;
	}
	rs->r = in->reader;
	rs->shared = in->shared;
	resolve_all(gs, in->notes, rs);
	if (rs->live_missed) {
		for (size_t i = 0; i < gs->n; i++) {
			free(gs->v[i].frames);
			gs->v[i].frames = NULL;
			gs->v[i].nframes = 0;
			gs->v[i].trimmed = 0;
			gs->v[i].trimmed_go = false;
			gs->v[i].trimmed_below = 0;
		}
		sym_destroy(rs->live);
		rs->live = NULL;
		rs->live_tried = false;
		rs->live_early = false;
		rs->live_missed = false;
		resolve_all(gs, in->notes, rs);
	}
	/* Addresses are all resolved: the module log copy is not needed, the
	 * symbolizers are (they own the strings the frames point to). */
	free(rs->lm);
	rs->lm = NULL;
	rs->nlm = 0;
	rs->lm_read = false;
	free(rs->mods);
	rs->mods = NULL;
	rs->mods_read = false;
	rs->r = NULL;
	return rs;
}

struct report_symbols *report_symbols_open(const struct report_symbols_in *in)
{
	struct report_symbols *rs = xcalloc(1, sizeof(*rs));

	rs->live_pid = in->alive ? in->pid : 0;
	rs->cur_generation = in->generation;
	rs->r = in->reader;
	rs->shared = in->shared;
	return rs;
}

size_t report_symbols_addr(struct report_symbols *rs, struct notes *notes, uint32_t generation,
			   uint64_t addr, const struct sym_frame **out)
{
	return src_resolve(rs, notes, generation, addr, out);
}

struct report_symbols *report_symbols_resolve(struct group_set *gs,
					      const struct report_symbols_in *in)
{
	return report_symbols_resolve_prepared(gs, in, NULL);
}

void report_symbols_destroy(struct report_symbols *rs)
{
	if (!rs)
		return;
	sym_destroy(rs->live);
	for (size_t i = 0; i < rs->npm; i++)
		sym_destroy(rs->pm[i].s);
	free(rs->pm);
	free(rs->mods);
	free(rs->lm);
	free(rs->map_files);
	free(rs->tmp);
	for (size_t i = 0; i < rs->nlf; i++)
		free(rs->lf[i]);
	free(rs->lf);
	free(rs);
}
