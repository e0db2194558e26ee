/* For test-lang's java-sites: which walk the shim's Java records took.
 * Preloaded after the shim, this is the AsyncGetCallTrace that the shim's
 * dlsym(RTLD_DEFAULT) finds; each call is passed on to libjvm.so's and
 * counted, and at exit "calls N walked M" (M: the calls that gave frames)
 * is written to $LANG_AGCT_OUT. With LANG_AGCT_POISON=1 each frame but the
 * outermost is moved to bytecode index 0 (its method's first line): a
 * record that shows it took AsyncGetCallTrace's frames. */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

struct agct_frame {
	int lineno;
	void *method;
};

struct agct_trace {
	void *jni;
	int num_frames;
	struct agct_frame *frames;
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
	if (t->num_frames > 0) {
		const char *poison = getenv("LANG_AGCT_POISON");

		walked++;
		for (int i = 0; poison && *poison == '1' && i < t->num_frames - 1; i++)
			if (t->frames[i].lineno > 0)
				t->frames[i].lineno = 0;
	}
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
