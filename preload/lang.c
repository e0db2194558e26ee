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
#include "writer.h"

#include <string.h>

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

bool shim_lang_attach(const uint64_t *lf, uint32_t n)
{
	uint64_t frames[SA_MAX_FRAMES];
	struct sa_slot rec;
	uint32_t depth = 0, m;
	uint64_t ns;
	int fd;

	if (!lt_mine() || !lt.nnoted)
		return false;
	fd = lt.noted_fd[0];
	ns = lt.noted_ns[0];
	lt.nnoted--;
	memmove(lt.noted_fd, lt.noted_fd + 1, lt.nnoted * sizeof(lt.noted_fd[0]));
	memmove(lt.noted_ns, lt.noted_ns + 1, lt.nnoted * sizeof(lt.noted_ns[0]));
	/* The very record the wrapper made: same fd, same open time. */
	if (shim_busy || !shim_writable() || !shim_slot_used(fd) ||
	    !sa_slot_read(&shim.slots[fd], &rec, SHIM_SLOT_SPINS) || !rec.used ||
	    rec.open_ns != ns)
		return true;
	shim_busy++;
	m = n < shim.depth ? n : shim.depth;
	memcpy(frames, lf, m * sizeof(*lf));
	if (rec.open_stack && rec.open_stack <= shim.hdr->nstacks) {
		const struct sa_stack *st = &shim.stacks[rec.open_stack - 1];

		/* Our own entry, published before the record that names it. */
		if (__atomic_load_n(&st->state, __ATOMIC_ACQUIRE) == SA_ENTRY_READY &&
		    st->depth <= SA_MAX_FRAMES && !(st->depth && sa_frame_is_lang(st->frames[0])))
			depth = st->depth < shim.depth - m ? st->depth : shim.depth - m;
		memcpy(frames + m, st->frames, depth * sizeof(*frames));
	}
	rec.open_stack = shim_stack_intern(frames, m + depth);
	shim_slot_write(fd, &rec);
	shim_busy--;
	return true;
}

void shim_lang_init(void)
{
	shim_python_init();
}
