/* For test-lang's java-sites: which walk the shim's Java records took.
 * Preloaded after the shim, this is the AsyncGetCallTrace that the shim's
 * dlsym(RTLD_DEFAULT) finds; each call is passed on to libjvm.so's and
 * counted, and at exit "calls N walked M" (M: the calls that gave frames)
 * is written to $LANG_AGCT_OUT. */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

struct agct_trace {
	void *jni;
	int num_frames;
	void *frames;
};

typedef void (*agct_fn)(struct agct_trace *, int, void *);

static _Atomic long calls, walked;

__attribute__((visibility("default")))
void AsyncGetCallTrace(struct agct_trace *t, int depth, void *ucontext);

void AsyncGetCallTrace(struct agct_trace *t, int depth, void *ucontext)
{
	agct_fn real;

	*(void **)&real = dlsym(RTLD_NEXT, "AsyncGetCallTrace");
	if (!real) {
		t->num_frames = -1;
		return;
	}
	real(t, depth, ucontext);
	calls++;
	if (t->num_frames > 0)
		walked++;
}

__attribute__((destructor)) static void agct_count_done(void)
{
	const char *out = getenv("LANG_AGCT_OUT");
	FILE *f;

	if (out && (f = fopen(out, "w"))) {
		fprintf(f, "calls %ld walked %ld\n", (long)calls, (long)walked);
		fclose(f);
	}
}
