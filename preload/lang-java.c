/* Java (HotSpot): the class, method, source file and line of the Java code
 * that opens, connects or accepts a socket, through JVMTI looked up at run
 * time (never linked). docs/design.md ("Language frames: Java") gives the
 * rules this relies on; in short:
 *
 *   - Only when the call's immediate caller is the JDK's own JNI code
 *     (libnio.so or libnet.so beside the loaded libjvm.so): that code runs
 *     only inside a JNI native method, so the thread is a Java thread in
 *     native state, holding no VM lock, where JNI and JVMTI calls are
 *     allowed. Never from the VM's own code (libjvm.so: the attach
 *     listener), never from a signal handler (the handler would be the
 *     caller), never on a thread that is not attached (GetEnv says so).
 *   - Only in the live phase: not while the VM starts, not once it is
 *     dying. GetStackTrace may be called in the live phase only and says
 *     JVMTI_ERROR_WRONG_PHASE in any other, which ends the walk (and so
 *     does any later function called as the phase changes).
 *   - The JVM's memory (Deallocate) and local references (DeleteLocalRef)
 *     are handed back before the wrapper returns; errno is the program's.
 *   - Each (method, bytecode index) is looked up once per process: later
 *     walks find its interned frame in a lock-free cache.
 *   - The walk is HotSpot's AsyncGetCallTrace where it is exported (x86-64)
 *     and ClassLoad events could be enabled, taken only when every frame
 *     has a jmethodID and a bytecode index and the walk ends where this
 *     thread's last JVMTI walk ended (or fills the depth); anything else is
 *     walked again by GetStackTrace.
 */
#include "lang.h"

#include "gate.h"
#include "writer.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdatomic.h>
#include <string.h>

/* JNI and JVMTI, as their headers define them (ABI-stable: functions are
 * called by their documented slot in the function tables). */
typedef int32_t jint;
typedef int64_t jlocation;
typedef void *jmethodID;
typedef void *jclass;

#define JNI_OK              0
#define JNI_VERSION_1_2     0x00010002
#define JVMTI_VERSION_1_2   0x30010200
#define JVMTI_ERROR_NONE    0
#define JVMTI_ENABLE        1
#define JVMTI_EVENT_CLASS_LOAD 55
#define JNI_DELETE_LOCAL_REF 23     /* JNINativeInterface_ slot */
#define JVM_GET_ENV          6      /* JNIInvokeInterface_ slot */

/* jvmtiInterface_1_ slots: the function's number in the spec, minus one. */
enum {
	JVMTI_SET_EVENT_NOTIFICATION_MODE = 2 - 1,
	JVMTI_DEALLOCATE = 47 - 1,
	JVMTI_GET_CLASS_SIGNATURE = 48 - 1,
	JVMTI_GET_SOURCE_FILE_NAME = 50 - 1,
	JVMTI_GET_METHOD_NAME = 64 - 1,
	JVMTI_GET_METHOD_DECLARING_CLASS = 65 - 1,
	JVMTI_GET_LINE_NUMBER_TABLE = 70 - 1,
	JVMTI_GET_STACK_TRACE = 104 - 1,
	JVMTI_SET_EVENT_CALLBACKS = 122 - 1,
	JVMTI_ADD_CAPABILITIES = 142 - 1,
};

/* jvmtiCapabilities: 128 bits; can_get_source_file_name is bit 11 and
 * can_get_line_numbers bit 12 of the first word. */
#define JVMTI_CAN_SOURCE_FILE (1u << 11)
#define JVMTI_CAN_LINE_NUMBERS (1u << 12)

struct jvmti_frame {
	jmethodID method;
	jlocation location;
};

struct jvmti_line {
	jlocation start;
	jint line;
};

/* HotSpot's AsyncGetCallTrace (prims/forte.cpp): per frame the bytecode
 * index (-3 for a native method, other negatives when unknown) and the
 * jmethodID (NULL when none was made yet); num_frames < 0 is a refusal. */
struct agct_frame {
	jint lineno;
	jmethodID method;
};

struct agct_trace {
	void *jni;          /* the current thread's JNIEnv */
	jint num_frames;
	struct agct_frame *frames;
};

#define AGCT_NATIVE (-3)

typedef void (*agct_fn)(struct agct_trace *, jint, void *);

typedef void *const *fn_table;   /* a JavaVM, JNIEnv or jvmtiEnv points to one */

#define CALL(env, slot, type, ...) \
	((type)(*(fn_table *)(env))[slot])((env), __VA_ARGS__)

enum java_state {
	JAVA_UNKNOWN = 0,   /* no JDK library seen as a caller yet */
	JAVA_FINDING,       /* one thread looks for the JVM */
	JAVA_WAITING,       /* a JVM: no jvmtiEnv yet (not live, or being made) */
	JAVA_MAKING,        /* one thread is making it */
	JAVA_READY,
	JAVA_NONE,          /* no JVM, or no JVMTI: never again */
};

static struct {
	_Atomic int state;
	void *vm;                           /* JavaVM *, set before WAITING */
	void *jvmti;                        /* jvmtiEnv *, set before READY */
	bool lines, source;                 /* capabilities granted */
	agct_fn agct;                       /* NULL: GetStackTrace only */
	/* The JDK's JNI libraries (write-once, before java.state leaves
	 * UNKNOWN): callers there run in native state. */
	_Atomic uintptr_t lib_start[2], lib_end[2];
	char home[256];                     /* libjvm.so's $JAVA_HOME/lib/ */
	size_t home_len;
} java;

/* Callers known not to be the JDK's: the last object seen (a torn pair
 * only makes a JDK caller look like another, which costs its frames). */
_Atomic uintptr_t shim_java_other_start, shim_java_other_end;
_Atomic bool shim_java_ready;

/* (method, bci) -> interned frame: 256 sets of 4 entries. A key has a
 * set, and any entry of it: two hot frames whose keys share a slot would
 * otherwise evict each other on every walk, each miss costing the five
 * JVMTI lookups again (whether depends on where the JVM put the
 * jmethodIDs: measured, two runs of bench/ConnectLoop in seven had such a
 * pair, one or two misses per connection). */
#define CACHE_WAYS 4u
#define CACHE_SETS 256u   /* a power of two */

struct cache_slot {
	_Atomic uint32_t seq;   /* odd while written */
	_Atomic int32_t pid;    /* the table the entry belongs to */
	_Atomic uintptr_t method;
	_Atomic int64_t location;
	_Atomic uint64_t entry;
};

static struct cache_slot cache[CACHE_SETS * CACHE_WAYS];
static _Atomic unsigned cache_victim;   /* which way a full set gives up */

static struct cache_slot *cache_set(jmethodID m, jlocation loc)
{
	uint64_t h = (uint64_t)(uintptr_t)m * 0x9e3779b97f4a7c15ull ^ (uint64_t)loc;

	return &cache[((unsigned)(h ^ (h >> 29)) & (CACHE_SETS - 1)) * CACHE_WAYS];
}

/* The entry of slot s when it holds (m, loc) of this table; else 0. */
static uint64_t slot_get(struct cache_slot *s, jmethodID m, jlocation loc)
{
	uint32_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
	uintptr_t sm;
	int64_t sl;
	uint64_t e;
	int32_t pid;

	if (seq & 1)
		return 0;
	sm = atomic_load_explicit(&s->method, memory_order_relaxed);
	sl = atomic_load_explicit(&s->location, memory_order_relaxed);
	e = atomic_load_explicit(&s->entry, memory_order_relaxed);
	pid = atomic_load_explicit(&s->pid, memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&s->seq, memory_order_relaxed) != seq)
		return 0;
	return sm == (uintptr_t)m && sl == loc && pid == shim.pid ? e : 0;
}

static uint64_t cache_get(jmethodID m, jlocation loc)
{
	struct cache_slot *set = cache_set(m, loc);
	uint64_t e = 0;

	for (unsigned w = 0; w < CACHE_WAYS && !e; w++)
		e = slot_get(&set[w], m, loc);
	return e;
}

/* Into the first entry of the set that is free (or another table's), else
 * into one taken in turn. A writer that finds its entry busy leaves it:
 * the next walk tries again. Two threads may store the same key twice:
 * both entries say the same. */
static void cache_put(jmethodID m, jlocation loc, uint64_t e)
{
	struct cache_slot *set = cache_set(m, loc), *s = NULL;
	uint32_t seq;

	for (unsigned w = 0; w < CACHE_WAYS && !s; w++)
		if (!atomic_load_explicit(&set[w].method, memory_order_relaxed) ||
		    atomic_load_explicit(&set[w].pid, memory_order_relaxed) != shim.pid)
			s = &set[w];
	if (!s)
		s = &set[atomic_fetch_add_explicit(&cache_victim, 1, memory_order_relaxed) %
			 CACHE_WAYS];
	seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
	if ((seq & 1) || !atomic_compare_exchange_strong_explicit(&s->seq, &seq, seq + 1,
								  memory_order_acquire,
								  memory_order_relaxed))
		return;
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&s->method, (uintptr_t)m, memory_order_relaxed);
	atomic_store_explicit(&s->location, loc, memory_order_relaxed);
	atomic_store_explicit(&s->entry, e, memory_order_relaxed);
	atomic_store_explicit(&s->pid, shim.pid, memory_order_relaxed);
	atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/* Once, at the first caller from an object named like the JDK's JNI
 * libraries: is there a JVM, where is its lib/, and is it created yet (a
 * JNI library loaded while the VM is made is asked again later). One
 * thread at a time (FINDING); the others see no Java meanwhile. */
static void java_find(void)
{
	jint (*created)(void **, jint, jint *);
	struct dl_find_object fo;
	void *vm = NULL;
	jint n = 0;
	const char *jvm, *end;
	int st = JAVA_UNKNOWN;

	if (!atomic_compare_exchange_strong(&java.state, &st, JAVA_FINDING))
		return;
	*(void **)&created = dlsym(RTLD_DEFAULT, "JNI_GetCreatedJavaVMs");
	if (!created || _dl_find_object((void *)created, &fo) != 0 || !fo.dlfo_link_map ||
	    !(jvm = fo.dlfo_link_map->l_name) || strcmp(base_name(jvm), "libjvm.so") != 0)
		goto none;
	/* $JAVA_HOME/lib/server/libjvm.so: the JNI libraries are in lib/. */
	end = base_name(jvm) - 1;
	while (end > jvm && end[-1] != '/')
		end--;
	if (end == jvm || (size_t)(end - jvm) >= sizeof(java.home))
		goto none;
	if (!java.home_len) {
		memcpy(java.home, jvm, (size_t)(end - jvm));
		java.home_len = (size_t)(end - jvm);
	}
	if (created(&vm, 1, &n) != JNI_OK || n < 1 || !vm) {
		atomic_store(&java.state, JAVA_UNKNOWN);
		return;
	}
	java.vm = vm;
	atomic_store(&java.state, JAVA_WAITING);
	return;
none:
	atomic_store(&java.state, JAVA_NONE);
}

static bool in_jdk_lib(uintptr_t ret)
{
	for (int k = 0; k < 2; k++) {
		uintptr_t end = atomic_load_explicit(&java.lib_end[k], memory_order_acquire);

		if (end && ret < end &&
		    ret >= atomic_load_explicit(&java.lib_start[k], memory_order_relaxed))
			return true;
	}
	return false;
}

/* Is `ret` (the return address in the wrapped call's caller) in the JDK's
 * libnio.so or libnet.so? _dl_find_object is lock-free and
 * async-signal-safe. */
static bool jdk_caller(uintptr_t ret)
{
	struct dl_find_object fo;
	const char *name, *base;
	uintptr_t start, end;
	int k, st;

	if (in_jdk_lib(ret))
		return true;
	if (ret >= atomic_load_explicit(&shim_java_other_start, memory_order_relaxed) &&
	    ret < atomic_load_explicit(&shim_java_other_end, memory_order_relaxed))
		return false;
	if (_dl_find_object((void *)ret, &fo) != 0)
		return false;
	start = (uintptr_t)fo.dlfo_map_start;
	end = (uintptr_t)fo.dlfo_map_end;
	name = fo.dlfo_link_map ? fo.dlfo_link_map->l_name : NULL;
	base = name ? base_name(name) : "";
	k = strcmp(base, "libnio.so") == 0 ? 0 : strcmp(base, "libnet.so") == 0 ? 1 : -1;
	if (k >= 0 && atomic_load(&java.state) == JAVA_UNKNOWN)
		java_find();
	st = atomic_load(&java.state);
	if (k >= 0 && st == JAVA_FINDING)
		return false;   /* another thread is looking: not cached */
	if (k < 0 || st == JAVA_NONE || !java.home_len ||
	    (size_t)(base - name) != java.home_len || memcmp(name, java.home, java.home_len)) {
		/* Not the JDK's, for good: the range is remembered. */
		atomic_store_explicit(&shim_java_other_start, UINTPTR_MAX, memory_order_relaxed);
		atomic_store_explicit(&shim_java_other_end, end, memory_order_relaxed);
		atomic_store_explicit(&shim_java_other_start, start, memory_order_relaxed);
		return false;
	}
	atomic_store_explicit(&java.lib_start[k], start, memory_order_relaxed);
	atomic_store_explicit(&java.lib_end[k], end, memory_order_release);
	return true;
}

/* Where the thread's last GetStackTrace that reached the bottom of its
 * stack ended (method and location of its outermost frame). */
static __thread struct {
	jmethodID method;
	jlocation location;
} java_bottom __attribute__((tls_model("initial-exec")));

/* The ClassLoad callback: nothing. Enabled only because HotSpot's
 * AsyncGetCallTrace answers while some environment has the event on. */
static void class_load_nothing(void *jvmti, void *jni, void *thread, void *klass)
{
	(void)jvmti;
	(void)jni;
	(void)thread;
	(void)klass;
}

/* HotSpot's AsyncGetCallTrace, once ClassLoad events are on for env;
 * NULL where it is not to be used. x86-64 only: a deoptimization patches
 * a frame's saved original pc before its return address, and only x86's
 * store order makes a walk on another CPU see them in that order. */
static agct_fn agct_enable(void *env)
{
#if defined(__x86_64__)
	void (*callbacks[6])(void *, void *, void *, void *) = { 0 };
	agct_fn fn;

	if (shim.java_jvmti_walk)
		return NULL;
	*(void **)&fn = dlsym(RTLD_DEFAULT, "AsyncGetCallTrace");
	if (!fn)
		return NULL;
	/* jvmtiEventCallbacks starts VMInit, VMDeath, ThreadStart,
	 * ThreadEnd, ClassFileLoadHook, ClassLoad; a shorter struct is
	 * allowed (the rest is cleared). This environment is the shim's own. */
	callbacks[5] = class_load_nothing;
	if (CALL(env, JVMTI_SET_EVENT_CALLBACKS, jint (*)(void *, const void *, jint), callbacks,
		 (jint)sizeof(callbacks)) != JVMTI_ERROR_NONE ||
	    CALL(env, JVMTI_SET_EVENT_NOTIFICATION_MODE, jint (*)(void *, int, int, void *, ...),
		 JVMTI_ENABLE, JVMTI_EVENT_CLASS_LOAD, NULL) != JVMTI_ERROR_NONE)
		return NULL;
	return fn;
#else
	(void)env;
	return NULL;
#endif
}

/* The jvmtiEnv, made once in the live phase by the first thread to get
 * here; NULL until then (and for the others while it is made). */
static void *java_jvmti(void)
{
	void *env = NULL;
	int st = atomic_load_explicit(&java.state, memory_order_acquire);

	if (st == JAVA_READY)
		return java.jvmti;
	if (st == JAVA_UNKNOWN)
		java_find();
	st = JAVA_WAITING;
	if (!atomic_compare_exchange_strong(&java.state, &st, JAVA_MAKING))
		return NULL;
	/* JNI_EDETACHED outside the live phase: try again later. */
	if (CALL(java.vm, JVM_GET_ENV, jint (*)(void *, void **, jint), &env,
		 JVMTI_VERSION_1_2) != JNI_OK || !env) {
		atomic_store(&java.state, JAVA_WAITING);
		return NULL;
	}
	/* Both are in HotSpot's "always" set, granted in the live phase too;
	 * ask for each alone so that a refusal of one keeps the other. */
	java.source = CALL(env, JVMTI_ADD_CAPABILITIES, jint (*)(void *, const void *),
			   (uint32_t[4]){ JVMTI_CAN_SOURCE_FILE }) == JVMTI_ERROR_NONE;
	java.lines = CALL(env, JVMTI_ADD_CAPABILITIES, jint (*)(void *, const void *),
			  (uint32_t[4]){ JVMTI_CAN_LINE_NUMBERS }) == JVMTI_ERROR_NONE;
	java.agct = agct_enable(env);
	java.jvmti = env;
	atomic_store_explicit(&java.state, JAVA_READY, memory_order_release);
	atomic_store_explicit(&shim_java_ready, true, memory_order_release);
	return env;
}

static void dealloc(void *jvmti, void *p)
{
	if (p)
		CALL(jvmti, JVMTI_DEALLOCATE, jint (*)(void *, void *), p);
}

/* "Lcom/example/Feed$Client;" -> "com.example.Feed$Client" into out;
 * its package as a path ("com/example/") into pkg. */
static void class_names(const char *sig, char *out, size_t outlen, char *pkg, size_t pkglen)
{
	size_t n = 0, slash = 0;

	if (*sig == 'L')
		sig++;
	for (; *sig && *sig != ';' && n + 1 < outlen; sig++) {
		out[n++] = *sig == '/' ? '.' : *sig;
		if (*sig == '/')
			slash = n;
	}
	out[n] = '\0';
	if (slash >= pkglen)
		slash = 0;
	for (size_t i = 0; i < slash; i++)
		pkg[i] = out[i] == '.' ? '/' : out[i];
	pkg[slash] = '\0';
}

/* The frame of `method` at bytecode index `loc`, interned; 0 when the JVM
 * cannot say (a phase change, a method of a class being unloaded). */
static uint64_t frame_entry(void *jvmti, void *jni, jmethodID method, jlocation loc)
{
	char *name = NULL, *csig = NULL, *src = NULL, func[256], file[256], pkg[192];
	struct jvmti_line *table = NULL;
	jclass klass = NULL;
	jint count = 0, line = 0;
	uint64_t e = 0;
	size_t flen;

	if (CALL(jvmti, JVMTI_GET_METHOD_NAME, jint (*)(void *, jmethodID, char **, char **, char **),
		 method, &name, NULL, NULL) != JVMTI_ERROR_NONE || !name)
		goto out;
	if (CALL(jvmti, JVMTI_GET_METHOD_DECLARING_CLASS, jint (*)(void *, jmethodID, jclass *),
		 method, &klass) != JVMTI_ERROR_NONE || !klass)
		goto out;
	if (CALL(jvmti, JVMTI_GET_CLASS_SIGNATURE, jint (*)(void *, jclass, char **, char **),
		 klass, &csig, NULL) != JVMTI_ERROR_NONE || !csig)
		goto out;
	if (java.source &&
	    CALL(jvmti, JVMTI_GET_SOURCE_FILE_NAME, jint (*)(void *, jclass, char **), klass,
		 &src) != JVMTI_ERROR_NONE)
		src = NULL;
	/* A native method has no table (and location -1). */
	if (java.lines && loc >= 0 &&
	    CALL(jvmti, JVMTI_GET_LINE_NUMBER_TABLE,
		 jint (*)(void *, jmethodID, jint *, struct jvmti_line **), method, &count,
		 &table) == JVMTI_ERROR_NONE && table) {
		jlocation best = -1;

		for (jint i = 0; i < count; i++)
			if (table[i].start <= loc && table[i].start > best) {
				best = table[i].start;
				line = table[i].line;
			}
	}
	class_names(csig, func, sizeof(func), pkg, sizeof(pkg));
	flen = strlen(func);
	if (flen + 1 + strlen(name) < sizeof(func)) {
		func[flen++] = '.';
		strcpy(func + flen, name);
	}
	if (src) {
		size_t p = strlen(pkg), s = strlen(src);

		if (p + s >= sizeof(file))
			p = 0;
		memcpy(file, pkg, p);
		memcpy(file + p, src, s < sizeof(file) - 1 - p ? s : sizeof(file) - 1 - p);
		file[p + (s < sizeof(file) - 1 - p ? s : sizeof(file) - 1 - p)] = '\0';
	} else {
		strcpy(file, "?");
	}
	e = shim_lframe_intern(SA_LANG_JAVA, file, strlen(file), func, strlen(func),
			       line > 0 ? (uint32_t)line : 0, 0);
out:
	dealloc(jvmti, table);
	dealloc(jvmti, src);
	dealloc(jvmti, csig);
	dealloc(jvmti, name);
	if (klass)
		CALL(jni, JNI_DELETE_LOCAL_REF, void (*)(void *, jclass), klass);
	return e;
}

/* The current thread's frames by AsyncGetCallTrace into jf[0..max): how
 * many, 0 when the walk is not to be trusted (GetStackTrace then walks).
 * Taken only when every frame has a jmethodID (HotSpot makes one as
 * GetStackTrace or a JVMTI lookup names the method) and a bytecode index,
 * and when the walk either filled max or ended at this thread's bottom:
 * AsyncGetCallTrace also ends, without saying so, at a frame whose caller
 * it does not trust (a deoptimized frame, for one), and such a walk must
 * not pass for the whole stack. */
static jint agct_frames(void *jni, struct jvmti_frame *jf, jint max)
{
	struct agct_frame af[SA_MAX_FRAMES];
	struct agct_trace t = { jni, 0, af };
	jint n;

	/* NULL context: a thread in native state is walked from its last Java
	 * frame, which the VM left walkable when it called the native method. */
	java.agct(&t, max, NULL);
	n = t.num_frames;
	if (n <= 0 || n > max)
		return 0;
	for (jint i = 0; i < n; i++) {
		if (!af[i].method || (af[i].lineno < 0 && af[i].lineno != AGCT_NATIVE))
			return 0;
		jf[i].method = af[i].method;
		/* JVMTI's location of a frame is its bytecode index in HotSpot,
		 * -1 in a native method. */
		jf[i].location = af[i].lineno == AGCT_NATIVE ? -1 : af[i].lineno;
	}
	if (n < max && (jf[n - 1].method != java_bottom.method ||
			jf[n - 1].location != java_bottom.location))
		return 0;
	return n;
}

/* The current thread's Java frames, interned, into lf[0..max): how many
 * (0 when the thread or the VM cannot say). */
static uint32_t java_frames(uint64_t *lf, uint32_t max)
{
	struct jvmti_frame jf[SA_MAX_FRAMES];
	void *jvmti, *jni = NULL;
	jint count = 0;
	uint32_t m = 0;

	/* Attached: a Java thread (the JDK's JNI code runs on no other). */
	if (!java.vm ||
	    CALL(java.vm, JVM_GET_ENV, jint (*)(void *, void **, jint), &jni, JNI_VERSION_1_2) !=
		    JNI_OK || !jni)
		return 0;
	if (!(jvmti = java_jvmti()))
		return 0;
	if (max > SA_MAX_FRAMES)
		max = SA_MAX_FRAMES;
	/* NULL: the current thread, which needs no suspension nor handshake.
	 * A live-phase function: outside the live phase it answers
	 * JVMTI_ERROR_WRONG_PHASE before it looks at anything, so it is its own
	 * phase check (no GetPhase first). */
	if (java.agct)
		count = agct_frames(jni, jf, (jint)max);
	if (!count) {
		if (CALL(jvmti, JVMTI_GET_STACK_TRACE,
			 jint (*)(void *, void *, jint, jint, struct jvmti_frame *, jint *), NULL,
			 0, (jint)max, jf, &count) != JVMTI_ERROR_NONE)
			return 0;
		if (count > 0 && count < (jint)max) {
			java_bottom.method = jf[count - 1].method;
			java_bottom.location = jf[count - 1].location;
		}
	}
	for (jint i = 0; i < count && m < max; i++) {
		uint64_t e = cache_get(jf[i].method, jf[i].location);

		if (!e && (e = frame_entry(jvmti, jni, jf[i].method, jf[i].location)))
			cache_put(jf[i].method, jf[i].location, e);
		if (e)
			lf[m++] = e;
	}
	return m;
}

/* How many of frames[0..n) are the JDK's JNI code, from the first. */
static uint32_t jdk_run(const uint64_t *frames, uint32_t n)
{
	uint32_t k = 1;

	while (k < n && in_jdk_lib((uintptr_t)frames[k]))
		k++;
	return k;
}

/* The m Java frames of lf in front of the first `run` native frames
 * (the JDK's JNI code), as many as fit in max; the new depth. Below the
 * JDK's JNI code the native stack is the interpreter's and compiled code's
 * (addresses that change as methods are compiled: one call site would be
 * several groups) and the VM's: the Java frames say it all. */
static uint32_t java_splice(uint64_t *frames, uint32_t run, const uint64_t *lf, uint32_t m,
			    uint32_t max)
{
	uint64_t native[SA_MAX_FRAMES];
	uint32_t k = run < max - m ? run : max - m;

	memcpy(native, frames, k * sizeof(*frames));
	memcpy(frames, lf, m * sizeof(*frames));
	memcpy(frames + m, native, k * sizeof(*frames));
	return m + k;
}

/* The Java frames in front of the first `run` of frames (the JDK's): the
 * new depth, 0 when the thread's Java frames could not be had. */
static uint32_t merge_run(uint64_t *frames, uint32_t run, uint32_t max)
{
	uint64_t lf[SA_MAX_FRAMES];
	int saved_errno = errno;
	uint32_t m;

	if (max > SA_MAX_FRAMES)
		max = SA_MAX_FRAMES;
	m = java_frames(lf, max);
	errno = saved_errno;
	return m ? java_splice(frames, run, lf, m, max) : 0;
}

uint32_t shim_java_merge_slow(uint64_t *frames, uint32_t n, uint32_t max)
{
	uint32_t depth;

	if (!n || atomic_load_explicit(&java.state, memory_order_relaxed) == JAVA_NONE ||
	    !jdk_caller((uintptr_t)frames[0]))
		return n;
	depth = merge_run(frames, jdk_run(frames, n), max);
	return depth ? depth : n;
}

bool shim_java_merge_short(uint64_t *frames, uint32_t n, uint32_t max, uint32_t *depth)
{
	uint32_t run;

	if (!n || !jdk_caller((uintptr_t)frames[0]))
		return false;
	run = jdk_run(frames, n);
	/* Every frame captured is the JDK's: its run may go on below (the
	 * capture stopped at its limit, or the shim had more frames of its
	 * own than the short capture allowed for). */
	if (run == n)
		return false;
	*depth = merge_run(frames, run, max);
	return *depth > 0;
}
