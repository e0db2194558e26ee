/* Language frames: a runtime hook (lang-python.c) runs on the thread that
 * is about to open or connect a socket, with the runtime's own lock held,
 * and leaves the language stack here, in thread-local storage; the wrapper
 * that records the socket on the same thread takes it and stores it in
 * front of the native frames (docs/design.md, "Language frames"). Sockets
 * the runtime wraps after the fact (accept, socketpair) are noted here by
 * the wrapper and named by the hook when the runtime makes its object.
 * Thread-local memory and the table only: no locks, no allocation. */
#include "lang.h"

#include "gate.h"
#include "util.h"
#include "writer.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool shim_lang_on;

#define LANG_NOTED 2   /* socketpair() makes two */

struct lang_tls {
	int32_t pid;                    /* the table the entries belong to */
	uint8_t op;                     /* enum shim_lang_op; NONE: nothing pending */
	uint32_t n;
	uint64_t frames[SA_MAX_FRAMES];
	uint32_t nnoted;
	int32_t noted_fd[LANG_NOTED];
	uint64_t noted_ns[LANG_NOTED];
};

static __thread struct lang_tls lt __attribute__((tls_model("initial-exec")));

/* A forked child inherits our thread's TLS, but its table is another one:
 * entries of the parent's table mean nothing there. */
static bool lt_mine(void)
{
	if (lt.pid == shim.pid)
		return true;
	lt.op = SHIM_LANG_NONE;
	lt.nnoted = 0;
	lt.pid = shim.pid;
	return false;
}

void shim_lang_pending(unsigned op, const uint64_t *lf, uint32_t n)
{
	lt_mine();
	if (n > SA_MAX_FRAMES)
		n = SA_MAX_FRAMES;
	memcpy(lt.frames, lf, n * sizeof(*lf));
	lt.n = n;
	lt.op = n ? (uint8_t)op : SHIM_LANG_NONE;
}

uint32_t shim_lang_merge(unsigned op, uint64_t *frames, uint32_t n, uint32_t max)
{
	uint64_t native[SA_MAX_FRAMES];
	uint32_t m, k;

	if (likely(lt.op == SHIM_LANG_NONE) || !lt_mine() || lt.op != op)
		return n;
	lt.op = SHIM_LANG_NONE;
	if (max > SA_MAX_FRAMES)
		max = SA_MAX_FRAMES;
	m = lt.n < max ? lt.n : max;
	k = n < max - m ? n : max - m;
	memcpy(native, frames, k * sizeof(*frames));
	memcpy(frames, lt.frames, m * sizeof(*frames));
	memcpy(frames + m, native, k * sizeof(*frames));
	return m + k;
}

uint32_t shim_lang_native_max(unsigned op, uint32_t max)
{
	if (likely(lt.op == SHIM_LANG_NONE) || lt.op != op || lt.pid != shim.pid)
		return max;
	return max < SHIM_LANG_NATIVE ? max : SHIM_LANG_NATIVE;
}

void shim_lang_done(unsigned op)
{
	if (unlikely(lt.op == op))
		lt.op = SHIM_LANG_NONE;
}

void shim_lang_note(int fd, unsigned origin, uint64_t open_ns)
{
	lt_mine();
	if (origin != SA_ORIGIN_ACCEPT && origin != SA_ORIGIN_SOCKETPAIR) {
		lt.nnoted = 0;
		return;
	}
	if (origin == SA_ORIGIN_ACCEPT || lt.nnoted == LANG_NOTED)
		lt.nnoted = 0;
	lt.noted_fd[lt.nnoted] = fd;
	lt.noted_ns[lt.nnoted] = open_ns;
	lt.nnoted++;
}

bool shim_lang_noted(void)
{
	return lt_mine() && lt.nnoted > 0;
}

/* Put lf in front of the native frames of fd's open stack (connect false)
 * or connect stack. `ns`, when not 0, must be the record's open time: the
 * very record the wrapper made. A stack that has language frames already
 * keeps them: the first to name a socket wins. */
static void attach(int fd, uint64_t ns, bool connect, const uint64_t *lf, uint32_t n)
{
	uint64_t frames[SA_MAX_FRAMES];
	struct sa_slot rec;
	uint32_t depth = 0, m, id;

	if (shim_busy || !shim_writable() || !shim_slot_used(fd) ||
	    !sa_slot_read(&shim.slots[fd], &rec, SHIM_SLOT_SPINS) || !rec.used ||
	    (ns && rec.open_ns != ns))
		return;
	connect = connect && (rec.flags & SA_SLOT_CONNECTED);
	id = connect ? rec.connect_stack : rec.open_stack;
	shim_busy++;
	m = n < shim.depth ? n : shim.depth;
	memcpy(frames, lf, m * sizeof(*lf));
	if (id && id <= shim.hdr->nstacks) {
		const struct sa_stack *st = &shim.stacks[id - 1];

		/* Our own entry, published before the record that names it. */
		if (__atomic_load_n(&st->state, __ATOMIC_ACQUIRE) != SA_ENTRY_READY ||
		    st->depth > SA_MAX_FRAMES || (st->depth && sa_frame_is_lang(st->frames[0])))
			goto out;
		depth = st->depth < shim.depth - m ? st->depth : shim.depth - m;
		memcpy(frames + m, st->frames, depth * sizeof(*frames));
	}
	id = shim_stack_intern(frames, m + depth);
	if (connect) {
		rec.connect_stack = id;
	} else {
		/* The open moves to the new site: writing the record counts a
		 * close of the old one, so count the open here, or not at all. */
		rec.open_stack = id;
		if (rec.flags & SA_SLOT_COUNTED) {
			if (shim_count_ready(id))
				shim_count_open(id);
			else
				rec.flags &= ~SA_SLOT_COUNTED;
		}
	}
	shim_slot_write(fd, &rec);
out:
	shim_busy--;
}

bool shim_lang_attach(const uint64_t *lf, uint32_t n)
{
	uint64_t ns;
	int fd;

	if (!lt_mine() || !lt.nnoted)
		return false;
	fd = lt.noted_fd[0];
	ns = lt.noted_ns[0];
	lt.nnoted--;
	memmove(lt.noted_fd, lt.noted_fd + 1, lt.nnoted * sizeof(lt.noted_fd[0]));
	memmove(lt.noted_ns, lt.noted_ns + 1, lt.nnoted * sizeof(lt.noted_ns[0]));
	attach(fd, ns, false, lf, n);
	return true;
}

static uintptr_t collector[SHIM_COLLECTOR_RANGES][2];
static _Atomic unsigned ncollector;
static _Atomic bool collector_set;

void shim_lang_collector(const uintptr_t ranges[][2], unsigned n)
{
	bool no = false;

	if (!atomic_compare_exchange_strong(&collector_set, &no, true))
		return;
	if (n > SHIM_COLLECTOR_RANGES)
		n = SHIM_COLLECTOR_RANGES;
	memcpy(collector, ranges, n * sizeof(collector[0]));
	atomic_store_explicit(&ncollector, n, memory_order_release);
}

bool shim_lang_closing(int fd, const void *ret)
{
	unsigned n = atomic_load_explicit(&ncollector, memory_order_acquire), i;
	uintptr_t r = (uintptr_t)ret;
	struct sa_slot rec;
	bool rescued;
	int saved;

	for (i = 0; i < n; i++)
		if (r >= collector[i][0] && r < collector[i][1])
			break;
	if (likely(i == n))
		return false;
	saved = errno;
	rescued = shim_writable() && shim_slot_used(fd) &&
		  sa_slot_read(&shim.slots[fd], &rec, SHIM_SLOT_SPINS) && rec.used;
	if (rescued)
		sa_rescued_put(shim.hdr, &rec, shim_now_ns());
	errno = saved;
	return rescued;
}

/* A decimal of at most 9 digits at *p, then `end`; -1 when not. */
static long num(const char **p, char end)
{
	long v = 0;
	int k = 0;

	while (**p >= '0' && **p <= '9' && k < 9) {
		v = v * 10 + (**p - '0');
		(*p)++;
		k++;
	}
	if (!k || **p != end)
		return -1;
	(*p)++;
	return v;
}

/* "<fd>/c/" then frames "<line>\t<column>\t<function>\t<file>\n",
 * innermost first (sockaudit-node.js). Read up to the NUL, at most
 * PATH_MAX bytes; anything malformed ends the list there. */
void shim_lang_node(const char *path)
{
	const char *p = path + sizeof(SHIM_NODE_PREFIX) - 1, *end = path + 4096;
	uint64_t lf[SA_MAX_FRAMES];
	uint32_t n = 0;
	long fd;
	bool connect;

	if ((fd = num(&p, '/')) < 0 || (p[0] != 'c' && p[0] != 'o') || p[1] != '/')
		return;
	connect = p[0] == 'c';
	p += 2;
	while (n < SA_MAX_FRAMES && p < end && *p) {
		const char *func, *file;
		size_t func_len, file_len;
		long line, col;
		uint64_t e;

		if ((line = num(&p, '\t')) < 0 || (col = num(&p, '\t')) < 0)
			break;
		func = p;
		while (p < end && *p && *p != '\t')
			p++;
		if (p >= end || *p != '\t')
			break;
		func_len = (size_t)(p++ - func);
		file = p;
		while (p < end && *p && *p != '\n')
			p++;
		if (p >= end || *p != '\n')
			break;
		file_len = (size_t)(p++ - file);
		e = shim_lframe_intern(SA_LANG_NODE, file, file_len, func, func_len,
				       (uint32_t)line, (uint32_t)col);
		if (e)
			lf[n++] = e;
	}
	if (n)
		attach((int)fd, 0, connect, lf, n);
}

/* Node.js, with nothing but LD_PRELOAD: node reads NODE_OPTIONS in main(),
 * after this constructor, so `--require=<our dir>/sockaudit-node.js` is put
 * in front of it here, and the program's own value (or its absence) is
 * kept in SOCKAUDIT_NODE_OPTIONS ("+value", or "-" for none), which the
 * script puts back as its first act, before any of the program's code
 * runs (docs/design.md, "Language frames: Node.js"). Only in a process
 * whose image is node (its name, and N-API exported), when the script is
 * beside the library, its path needs no quoting and NODE_OPTIONS does not
 * name it already (set by hand). Start-up only: getenv, setenv and malloc
 * are allowed here. */
static void shim_node_init(void)
{
	char exe[512], js[600], *opts;
	const char *old = getenv("NODE_OPTIONS"), *base, *self, *slash;
	struct dl_find_object fo;
	ssize_t n;
	int saved = errno;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		goto out;
	exe[n] = '\0';
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	if ((strcmp(base, "node") != 0 && strcmp(base, "nodejs") != 0) ||
	    !dlsym(RTLD_DEFAULT, "napi_module_register"))
		goto out;
	if (old && strstr(old, "sockaudit-node.js"))
		goto out;
	if (_dl_find_object((void *)shim_node_init, &fo) != 0 || !fo.dlfo_link_map ||
	    !(self = fo.dlfo_link_map->l_name) || !(slash = strrchr(self, '/')))
		goto out;
	if (snprintf(js, sizeof(js), "%.*s/sockaudit-node.js", (int)(slash - self), self) >=
	    (int)sizeof(js) || js[0] != '/' || strpbrk(js, " \t\n\"'\\") || access(js, R_OK) != 0)
		goto out;
	if (asprintf(&opts, "%c%s", old ? '+' : '-', old ? old : "") < 0)
		goto out;
	if (setenv("SOCKAUDIT_NODE_OPTIONS", opts, 1) == 0) {
		free(opts);
		if (asprintf(&opts, "--require=%s%s%s", js, old && *old ? " " : "", old ? old : "") < 0) {
			unsetenv("SOCKAUDIT_NODE_OPTIONS");
			goto out;
		}
		if (setenv("NODE_OPTIONS", opts, 1) != 0)
			unsetenv("SOCKAUDIT_NODE_OPTIONS");
	}
	free(opts);
out:
	errno = saved;
}

void shim_lang_init(void)
{
	shim_python_init();
	shim_node_init();
}
