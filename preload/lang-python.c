/* CPython: the .py file, line and function of the code that opens or
 * connects a socket, through CPython's public C API looked up at run time
 * (never linked): an audit hook (PEP 578) on "socket.__new__" and
 * "socket.connect", and the frame API. docs/design.md ("Language frames:
 * Python") gives the rules this relies on; in short:
 *
 *   - The hook is registered from our constructor, before the interpreter
 *     is initialized (PySys_AddAuditHook allows it), and only when the raw
 *     allocator that will free its entry at finalization is malloc: a debug
 *     allocator (PYTHONMALLOC=*debug, -X dev, PYTHONDEVMODE, a debug build)
 *     aborts the interpreter at exit on an entry malloc'ed before it was
 *     set (measured with Debian's 3.11). Then there is no hook.
 *   - CPython calls the hook with the GIL held, from the thread raising the
 *     event, and stops calling it once finalization clears the hooks.
 *   - The hook returns 0, never raises, and leaves no exception behind: it
 *     does nothing when one is already set (not ours), and clears only what
 *     its own calls set. It calls no Python code: the frame API, attribute
 *     reads of code objects (a type user code cannot subclass) and UTF-8
 *     views of str objects. Each new reference is released, but for the
 *     code objects the frame cache keeps, which are never released.
 *   - Re-entry (a garbage collection run by an allocation below, running a
 *     finalizer that makes a socket) returns at once.
 *   - It takes no lock and writes only thread-local memory and the table.
 *   - Sockets the collector closes: at the first "socket.__new__" the hook
 *     reads the socket type's tp_finalize (PyType_GetSlot), and the close()
 *     wrapper reports a close called from that function as rescued.
 */
#include "lang.h"

#include "gate.h"
#include "writer.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define PY_MAX_FRAMES SA_MAX_FRAMES

typedef void PyObject;   /* never dereferenced here */
typedef int (*py_hook_fn)(const char *event, PyObject *args, void *data);

struct py_allocator {    /* PyMemAllocatorEx */
	void *ctx;
	void *(*malloc)(void *, size_t);
	void *(*calloc)(void *, size_t, size_t);
	void *(*realloc)(void *, void *, size_t);
	void (*free)(void *, void *);
};

static struct {
	int (*add_audit_hook)(py_hook_fn, void *);
	void *(*thread_state)(void);                /* current tstate or NULL, no checks */
	PyObject *(*get_frame)(void);               /* borrowed */
	PyObject *(*frame_back)(PyObject *);        /* new reference */
	PyObject *(*frame_code)(PyObject *);        /* new reference */
	int (*frame_line)(PyObject *);
	PyObject *(*getattr)(PyObject *, const char *);   /* new reference */
	const char *(*utf8)(PyObject *, ssize_t *);
	void (*decref)(PyObject *);
	PyObject *(*err_occurred)(void);
	void (*err_clear)(void);
	/* Optional: the frame cache (3.11+; without them every walk reads). */
	int (*frame_lasti)(PyObject *);             /* PyFrame_GetLasti */
	void *(*interp_get)(void);                  /* PyInterpreterState_Get */
	void *(*interp_main)(void);                 /* PyInterpreterState_Main */
	/* Optional: the collector's close (none of them: not looked for). */
	void *(*type_slot)(PyObject *, int);        /* PyType_GetSlot, borrowed */
	PyObject *(*object_type)(PyObject *);       /* PyObject_Type, new reference */
	ssize_t (*tuple_size)(PyObject *);
	PyObject *(*tuple_item)(PyObject *, ssize_t);   /* borrowed */
	PyObject *base_object;                      /* &PyBaseObject_Type */
	bool no_qualname;                           /* before 3.11: co_name */
	bool finalize_sought;
} py;

#define PY_TP_BASE 48        /* typeslots.h: Py_tp_base */
#define PY_TP_FINALIZE 80    /* Py_tp_finalize */

/* The function holding addr, from its object's .eh_frame_hdr search table
 * (version 1, a 4-byte eh_frame pointer, a udata4 count, datarel sdata4
 * pairs sorted by start): [its start, the next function's start).
 * Stripped binaries keep this table: unwinding needs it. */
static bool func_range(uintptr_t addr, uintptr_t *start, uintptr_t *end)
{
	struct dl_find_object fo;
	const uint8_t *hdr;
	uint32_t count, lo = 0, hi;
	int32_t pair[2];

	if (_dl_find_object((void *)addr, &fo) != 0 || !(hdr = fo.dlfo_eh_frame))
		return false;
	if (hdr[0] != 1 || ((hdr[1] & 0x0f) != 0x03 && (hdr[1] & 0x0f) != 0x0b) ||
	    hdr[2] != 0x03 || hdr[3] != 0x3b)
		return false;
	memcpy(&count, hdr + 8, sizeof(count));
	if (!count)
		return false;
	hi = count;
	/* The last entry whose start is <= addr. */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		memcpy(pair, hdr + 12 + (size_t)mid * 8, sizeof(pair));
		if ((uintptr_t)(hdr + pair[0]) <= addr)
			lo = mid;
		else
			hi = mid;
	}
	memcpy(pair, hdr + 12 + (size_t)lo * 8, sizeof(pair));
	if ((uintptr_t)(hdr + pair[0]) > addr)
		return false;
	*start = (uintptr_t)(hdr + pair[0]);
	*end = (uintptr_t)fo.dlfo_map_end;
	if (lo + 1 < count) {
		memcpy(pair, hdr + 12 + (size_t)(lo + 1) * 8, sizeof(pair));
		*end = (uintptr_t)(hdr + pair[0]);
	}
	return *end > *start;
}

/* The code of the function at ranges[0]: where it jumps to the start of
 * another function's unwind entry outside itself (a part the compiler
 * split out, GCC's "sock_finalize.cold", or a tail call), that range too.
 * x86_64's near jumps (e9, 0f 80-8f, rel32), looked for at every byte: a
 * chance match can only add a function that does not close sockets (no
 * effect) or, with odds of one exact 32-bit match, one that does. */
static unsigned split_parts(uintptr_t ranges[][2], unsigned n)
{
#if defined(__x86_64__)
	const uint8_t *p = (const uint8_t *)ranges[0][0], *end = (const uint8_t *)ranges[0][1];

	for (; p + 5 <= end && n < SHIM_COLLECTOR_RANGES; p++) {
		const uint8_t *op = NULL;
		uintptr_t target, s, e;
		int32_t rel;
		unsigned k;

		if (p[0] == 0xe9)
			op = p + 1;
		else if (p[0] == 0x0f && (p[1] & 0xf0) == 0x80 && p + 6 <= end)
			op = p + 2;
		if (!op)
			continue;
		memcpy(&rel, op, sizeof(rel));
		target = (uintptr_t)(op + 4) + (uintptr_t)(intptr_t)rel;
		if (target >= ranges[0][0] && target < ranges[0][1])
			continue;
		if (!func_range(target, &s, &e) || s != target || e - s > 4096)
			continue;
		for (k = 0; k < n && ranges[k][0] != s; k++)
			;
		if (k == n) {
			ranges[n][0] = s;
			ranges[n][1] = e;
			n++;
		}
	}
#endif
	return n;
}

/* Once: the tp_finalize of the C socket type under the event's socket
 * object (the type whose base is object), whose close() is the collector's:
 * a dropped socket is closed there, by a deallocation or a garbage
 * collection. A Python subclass with __del__ has another finalizer, and its
 * sockets are not seen as rescued. */
static void find_finalize(PyObject *args)
{
	PyObject *self, *type, *t, *base;
	uintptr_t ranges[SHIM_COLLECTOR_RANGES][2], start, end;
	void *fin;

	py.finalize_sought = true;
	if (!py.type_slot || !py.object_type || !py.tuple_size || !py.tuple_item ||
	    !py.base_object || py.tuple_size(args) < 1 || !(self = py.tuple_item(args, 0)) ||
	    !(type = py.object_type(self))) {
		py.err_clear();
		return;
	}
	for (t = type; (base = py.type_slot(t, PY_TP_BASE)) && base != py.base_object;)
		t = base;
	fin = py.type_slot(t, PY_TP_FINALIZE);
	py.err_clear();
	py.decref(type);
	if (fin && func_range((uintptr_t)fin, &start, &end) && start == (uintptr_t)fin &&
	    end - start <= 4096) {
		ranges[0][0] = start;
		ranges[0][1] = end;
		shim_lang_collector((const uintptr_t (*)[2])ranges, split_parts(ranges, 1));
	}
}

static __thread int py_in_hook __attribute__((tls_model("initial-exec")));

/* A str attribute of a code object as UTF-8; NULL (no exception left) when
 * it cannot be had. *obj holds the reference to release. */
static const char *code_str(PyObject *code, const char *attr, PyObject **obj, size_t *len)
{
	ssize_t n = 0;
	const char *s;

	*obj = py.getattr(code, attr);
	if (!*obj) {
		py.err_clear();
		return NULL;
	}
	s = py.utf8(*obj, &n);
	if (!s || n < 0) {
		py.err_clear();
		return NULL;
	}
	*len = (size_t)n;
	return s;
}

/* The frame cache: (code object, instruction offset) -> the interned
 * frame, so that a frame seen before costs neither CPython's line table
 * decoding nor the attribute reads and the interning. A code object's
 * address would be reused once it is freed, so a slot keeps one reference
 * to its code object and never gives it back: dropping a reference can run
 * Python code (a weakref callback of the code object), which the hook must
 * never do (docs/design.md, "Language frames: Python", the frame cache).
 * Hence no eviction: a key whose probe run is full is not cached, and at
 * most PY_CACHE_SIZE code objects are kept alive. Main interpreter only
 * (a subinterpreter's objects die with it). Slots are claimed by a compare
 * and swap and written under a sequence count, as the hook may run on
 * several threads at once in a build without the GIL. */
#define PY_CACHE_SIZE 1024u   /* a power of two */
#define PY_CACHE_PROBE 8u

struct py_cache_slot {
	_Atomic uint32_t seq;      /* 0: free; odd while written */
	_Atomic int32_t pid;       /* the table the entry belongs to */
	_Atomic uintptr_t code;    /* holds a reference, never released */
	_Atomic int32_t lasti;
	_Atomic uint8_t accept;
	_Atomic uint64_t entry;
};

static struct py_cache_slot py_cache[PY_CACHE_SIZE];

static unsigned py_cache_index(uintptr_t code, int lasti)
{
	uint64_t h = (uint64_t)code * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uint32_t)lasti;

	return (unsigned)(h ^ (h >> 29)) & (PY_CACHE_SIZE - 1);
}

/* The slot of (code, lasti), or the free one its entry would take (then
 * *found is false), or NULL. On a hit with this table's entry, *e is it. */
static struct py_cache_slot *py_cache_find(uintptr_t code, int lasti, bool *found, uint64_t *e,
					   bool *accept)
{
	unsigned i = py_cache_index(code, lasti);

	*found = false;
	*e = 0;
	for (unsigned k = 0; k < PY_CACHE_PROBE; k++) {
		struct py_cache_slot *s = &py_cache[(i + k) & (PY_CACHE_SIZE - 1)];
		uint32_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
		uintptr_t sc;
		int32_t sl, pid;
		uint64_t se;
		bool sa;

		if (seq == 0)
			return s;
		if (seq & 1)
			continue;   /* being written: not this walk's */
		sc = atomic_load_explicit(&s->code, memory_order_relaxed);
		sl = atomic_load_explicit(&s->lasti, memory_order_relaxed);
		se = atomic_load_explicit(&s->entry, memory_order_relaxed);
		pid = atomic_load_explicit(&s->pid, memory_order_relaxed);
		sa = atomic_load_explicit(&s->accept, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&s->seq, memory_order_relaxed) != seq)
			continue;
		if (sc != code || sl != lasti)
			continue;
		*found = true;
		if (pid == shim.pid) {
			*e = se;
			*accept = sa;
		}
		return s;
	}
	return NULL;
}

/* Fill s with (code, lasti) -> e. A free slot takes the caller's reference
 * to code (true: the caller must not release it); a slot of the same key
 * (a forked child's first walk) is given this table's entry. */
static bool py_cache_put(struct py_cache_slot *s, bool found, uintptr_t code, int lasti,
			 uint64_t e, bool accept)
{
	uint32_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);

	if ((seq & 1) || (found != (seq != 0)) ||
	    !atomic_compare_exchange_strong_explicit(&s->seq, &seq, seq + 1,
						     memory_order_acquire, memory_order_relaxed))
		return false;
	atomic_thread_fence(memory_order_release);
	if (!found) {
		atomic_store_explicit(&s->code, code, memory_order_relaxed);
		atomic_store_explicit(&s->lasti, lasti, memory_order_relaxed);
	}
	atomic_store_explicit(&s->entry, e, memory_order_relaxed);
	atomic_store_explicit(&s->accept, accept, memory_order_relaxed);
	atomic_store_explicit(&s->pid, shim.pid, memory_order_relaxed);
	atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
	return !found;
}

static uint64_t frame_entry(PyObject *frame, bool *is_accept)
{
	PyObject *code = py.frame_code(frame), *file_obj = NULL, *func_obj = NULL;
	struct py_cache_slot *slot = NULL;
	const char *file, *func = NULL;
	size_t file_len = 0, func_len = 0;
	bool found = false, accept = false;
	int line, lasti = -1;
	uint64_t e;

	if (!code) {
		py.err_clear();
		return 0;
	}
	if (py.frame_lasti && py.interp_get() == py.interp_main()) {
		lasti = py.frame_lasti(frame);
		if (lasti >= 0)
			slot = py_cache_find((uintptr_t)code, lasti, &found, &e, &accept);
		if (found && e) {
			*is_accept |= accept;
			py.decref(code);
			return e;
		}
	}
	line = py.frame_line(frame);
	file = code_str(code, "co_filename", &file_obj, &file_len);
	if (!py.no_qualname) {
		func = code_str(code, "co_qualname", &func_obj, &func_len);
		if (!func && !func_obj)
			py.no_qualname = true;
	}
	if (!func) {
		py.decref(func_obj);
		func = code_str(code, "co_name", &func_obj, &func_len);
	}
	/* socket.accept() and socketpair() of socket.py wrap an fd the C
	 * call made before the event. */
	if (func && ((func_len == 13 && memcmp(func, "socket.accept", 13) == 0) ||
		     (func_len == 10 && memcmp(func, "socketpair", 10) == 0)))
		accept = true;
	*is_accept |= accept;
	e = shim_lframe_intern(SA_LANG_PYTHON, file ? file : "?", file ? file_len : 1,
			       func ? func : "?", func ? func_len : 1,
			       line > 0 ? (uint32_t)line : 0, 0);
	py.decref(func_obj);
	py.decref(file_obj);
	/* A full table interns nothing (e == 0): nothing to cache then. */
	if (!(slot && e && py_cache_put(slot, found, (uintptr_t)code, lasti, e, accept)))
		py.decref(code);
	return e;
}

static int py_hook(const char *event, PyObject *args, void *data)
{
	uint64_t lf[PY_MAX_FRAMES];
	PyObject *frame, *owned = NULL;
	unsigned op;
	uint32_t n = 0, max;
	bool is_accept = false;
	int saved_errno;

	(void)data;
	if (event[0] != 's' || strncmp(event, "socket.", 7) != 0)
		return 0;
	if (strcmp(event + 7, "__new__") == 0)
		op = SHIM_LANG_OPEN;
	else if (strcmp(event + 7, "connect") == 0)
		op = SHIM_LANG_CONNECT;
	else
		return 0;
	if (py_in_hook || shim_busy || !shim_writable_open() || !py.thread_state() ||
	    py.err_occurred())
		return 0;
	py_in_hook = 1;
	/* The table's pages may be backed on the way (syscalls): Python's
	 * errno is the program's, as around any wrapper. */
	saved_errno = errno;
	if (op == SHIM_LANG_OPEN && !py.finalize_sought)
		find_finalize(args);
	max = shim.depth < PY_MAX_FRAMES ? shim.depth : PY_MAX_FRAMES;
	frame = py.get_frame();
	while (frame && n < max) {
		uint64_t e = frame_entry(frame, &is_accept);
		PyObject *back;

		if (e)
			lf[n++] = e;
		back = py.frame_back(frame);
		py.decref(owned);
		owned = frame = back;
	}
	py.decref(owned);
	/* What the frame API may have set (an allocation failure) is ours. */
	if (py.err_occurred())
		py.err_clear();
	if (n) {
		if (op == SHIM_LANG_OPEN && is_accept && shim_lang_noted())
			shim_lang_attach(lf, n);
		else
			shim_lang_pending(op, lf, n);
	}
	errno = saved_errno;
	py_in_hook = 0;
	return 0;
}

/* Would the interpreter free the hook's entry with a debug allocator? Its
 * own rules (Python/preconfig.c): PYTHONMALLOC naming a debug allocator,
 * PYTHONDEVMODE, -X dev, or a debug build. Read from the environment and
 * the command line (argv as the table's header holds it); an embedding
 * program that asks for a debug allocator in its PyConfig is not seen. */
static bool py_debug_allocator(void)
{
	const char *m = getenv("PYTHONMALLOC"), *dev = getenv("PYTHONDEVMODE");
	const char *cmd = shim.hdr ? shim.hdr->cmdline : "";

	if ((m && strstr(m, "debug")) || (dev && *dev))
		return true;
	if (strstr(cmd, "-Xdev") || strstr(cmd, "-X dev") || strstr(cmd, "-X=dev"))
		return true;
	/* Only a debug build (Py_DEBUG) exports its reference total. */
	return dlsym(RTLD_DEFAULT, "_Py_RefTotal") != NULL;
}

#define PY_SYM(field, name) \
	((*(void **)&py.field = dlsym(RTLD_DEFAULT, name)) != NULL)

void shim_python_init(void)
{
	struct py_allocator raw;
	void (*get_allocator)(int, struct py_allocator *);
	int (*initialized)(void);

	if (!PY_SYM(add_audit_hook, "PySys_AddAuditHook"))
		return;
	if (!PY_SYM(thread_state, "_PyThreadState_UncheckedGet") &&
	    !PY_SYM(thread_state, "PyThreadState_GetUnchecked"))
		return;
	if (!PY_SYM(get_frame, "PyEval_GetFrame") || !PY_SYM(frame_back, "PyFrame_GetBack") ||
	    !PY_SYM(frame_code, "PyFrame_GetCode") || !PY_SYM(frame_line, "PyFrame_GetLineNumber") ||
	    !PY_SYM(getattr, "PyObject_GetAttrString") || !PY_SYM(utf8, "PyUnicode_AsUTF8AndSize") ||
	    !PY_SYM(decref, "Py_DecRef") || !PY_SYM(err_occurred, "PyErr_Occurred") ||
	    !PY_SYM(err_clear, "PyErr_Clear"))
		return;
	(void)PY_SYM(type_slot, "PyType_GetSlot");
	(void)PY_SYM(object_type, "PyObject_Type");
	(void)PY_SYM(tuple_size, "PyTuple_Size");
	(void)PY_SYM(tuple_item, "PyTuple_GetItem");
	(void)PY_SYM(base_object, "PyBaseObject_Type");
	if (!PY_SYM(frame_lasti, "PyFrame_GetLasti") || !PY_SYM(interp_get, "PyInterpreterState_Get") ||
	    !PY_SYM(interp_main, "PyInterpreterState_Main"))
		py.frame_lasti = NULL;
	*(void **)&initialized = dlsym(RTLD_DEFAULT, "Py_IsInitialized");
	*(void **)&get_allocator = dlsym(RTLD_DEFAULT, "PyMem_GetAllocator");
	/* Registered after initialization, the entry would be allocated by the
	 * interpreter's own allocator, but a hook added then is not ours to add
	 * without its lock: we run from a constructor, so this is only a
	 * library loaded into a running interpreter, which we leave alone. */
	if (!initialized || initialized() || !get_allocator)
		return;
	get_allocator(0 /* PYMEM_DOMAIN_RAW */, &raw);
	if (raw.malloc == NULL || py_debug_allocator())
		return;
	if (py.add_audit_hook(py_hook, NULL) == 0)
		shim_lang_on = true;
}
