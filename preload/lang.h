/* Language frames (lang.c): what a language runtime's hook (lang-python.c)
 * hands to the records the wrappers make on the same thread. */
#pragma once

#include "shim.h"

/* What a runtime hook says the thread is about to do. */
enum shim_lang_op {
	SHIM_LANG_NONE = 0,
	SHIM_LANG_OPEN,      /* socket() */
	SHIM_LANG_CONNECT,   /* connect() */
};

/* The runtime hook: lf[0..n) (SA_FRAME_LANG entries, innermost first) are
 * the language stack of the `op` this thread is about to make. */
void shim_lang_pending(unsigned op, const uint64_t *lf, uint32_t n) SHIM_HIDDEN;
/* The runtime hook, for a socket object made around an fd the thread has
 * just accepted (or got from socketpair()): put lf in front of that
 * record's open stack. False when the thread has no such fd. */
bool shim_lang_attach(const uint64_t *lf, uint32_t n) SHIM_HIDDEN;
/* Whether the thread has such an fd (the hook then decides). */
bool shim_lang_noted(void) SHIM_HIDDEN;

/* Node.js: the path of a stat() that sockaudit-node.js makes to hand over
 * the JavaScript frames of a connected socket (wrap-syscall.c sees it). */
#define SHIM_NODE_PREFIX "/.sockaudit-frames/1/"
void shim_lang_node(const char *path) SHIM_HIDDEN;

/* record.c: the native stack frames[0..n) of an `op` becomes the pending
 * language frames followed by as many native frames as fit in max; returns
 * the new depth. Costs one thread-local load when nothing is pending. */
uint32_t shim_lang_merge(unsigned op, uint64_t *frames, uint32_t n, uint32_t max) SHIM_HIDDEN;
/* How many native frames the record of `op` should capture: when language
 * frames are pending for it, only the few next to the call (the runtime's
 * code that made it), SHIM_LANG_NATIVE; else max. A thread-local load. */
#define SHIM_LANG_NATIVE 4
uint32_t shim_lang_native_max(unsigned op, uint32_t max) SHIM_HIDDEN;
/* The wrapper of `op`, after the call: pending frames of that op that no
 * record took (the call failed, the fd is not tracked, the recorder was
 * busy) are dropped, not left for the thread's next call. A TLS compare. */
void shim_lang_done(unsigned op) SHIM_HIDDEN;
/* record.c: fd was just recorded by accept() or socketpair(); every other
 * record forgets such fds. */
void shim_lang_note(int fd, unsigned origin, uint64_t open_ns) SHIM_HIDDEN;

/* A runtime's collector closes sockets from the code at ranges[0..n)
 * (CPython's sock_finalize, and the parts the compiler moved out of it): a
 * close called from there is a socket the program dropped without closing
 * it. Once per process (the first call wins); lang-python.c makes it. */
#define SHIM_COLLECTOR_RANGES 4
void shim_lang_collector(const uintptr_t ranges[][2], unsigned n) SHIM_HIDDEN;
/* close(fd), called from `ret`: when ret is in the collector's code and fd
 * has a record, the record goes to the table's rescued ring and true says
 * so (the caller then forgets it as collected). Runs before the record is
 * forgotten; async-signal-safe. */
bool shim_lang_closing(int fd, const void *ret) SHIM_HIDDEN;

/* Start-up: find the runtimes loaded in this process and hook them. */
void shim_lang_init(void) SHIM_HIDDEN;
/* True once a runtime hook is installed: only then does record.c ask. */
extern bool shim_lang_on SHIM_HIDDEN;

/* lang-python.c */
void shim_python_init(void) SHIM_HIDDEN;

/* lang-java.c: when frames[0] (the wrapped call's caller) is the JDK's JNI
 * code, the Java stack of the current thread goes in front of the native
 * frames[0..n), as many as fit in max; returns the new depth. Any other
 * caller costs a range check (a lock-free _dl_find_object the first time
 * each object calls). */
uint32_t shim_java_merge_slow(uint64_t *frames, uint32_t n, uint32_t max) SHIM_HIDDEN;
/* The mapping of the object lang-java.c last found not to be the JDK's:
 * the caller of every record in a program without Java, most often. */
extern _Atomic uintptr_t shim_java_other_start SHIM_HIDDEN, shim_java_other_end SHIM_HIDDEN;

/* A jvmtiEnv is made (the VM is live): from then on records may take a
 * short capture first (record.c, capture_merged). */
extern _Atomic bool shim_java_ready SHIM_HIDDEN;
/* shim_java_merge for a short capture frames[0..n). True, with *depth,
 * when the caller is the JDK's, the capture holds every native frame a
 * merge keeps (the JDK's run of frames ends inside it: a frame of another
 * object follows) and the Java frames were found: the stack a full capture
 * and shim_java_merge would have made. False: capture all and merge. */
bool shim_java_merge_short(uint64_t *frames, uint32_t n, uint32_t max,
			   uint32_t *depth) SHIM_HIDDEN;

/* Inline, that common answer: a call and a frame of ~1 KiB of arrays less
 * on every record of a program without Java. */
static inline uint32_t shim_java_merge(uint64_t *frames, uint32_t n, uint32_t max)
{
	if (!n || (frames[0] >= atomic_load_explicit(&shim_java_other_start, memory_order_relaxed) &&
		   frames[0] < atomic_load_explicit(&shim_java_other_end, memory_order_relaxed)))
		return n;
	return shim_java_merge_slow(frames, n, max);
}
