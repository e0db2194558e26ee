/* report-symbols' fallback: a symbolizer prepared ahead of time (while the
 * scan runs) read the process's maps before a library was loaded; a frame
 * in that library must still resolve, by a symbolizer made afresh. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"
#include "report/model.h"
#include "symbolize/symbolize.h"

int main(int argc, char **argv)
{
	struct group_stack st;
	struct symbolizer *before;
	struct report rep;
	struct group g;
	struct report_symbols *prep;
	void *(*here)(void);
	const char *m;
	uint64_t addr;
	void *h;

	if (argc != 2) {
		fprintf(stderr, "usage: %s LIBDLO\n", argv[0]);
		return 2;
	}
	/* Prepared now, as report's worker does, with nothing to resolve yet. */
	prep = report_symbols_prepare(getpid(), 1, NULL, NULL, 0, NULL);
	if (!ok(prep != NULL, "a symbolizer prepared for this process"))
		return tap_done();
	before = sym_create_pid(getpid());
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!ok(h != NULL, "dlopen %s%s%s", argv[1], h ? "" : ": ", h ? "" : dlerror()))
		return tap_done();
	*(void **)&here = dlsym(h, "dlo_here");
	if (!ok(here != NULL, "dlsym dlo_here"))
		return tap_done();
	addr = (uint64_t)(uintptr_t)here();
	m = before ? sym_module_of(before, addr) : NULL;
	ok(before && !m, "a symbolizer made before the dlopen has no module for it (%s)",
	   m ? m : "none");
	sym_destroy(before);

	memset(&rep, 0, sizeof(rep));
	memset(&st, 0, sizeof(st));
	memset(&g, 0, sizeof(g));
	rep.alive = true;
	rep.tgt.pid = getpid();
	rep.hdr.generation = 1;
	st.depth = 1;
	st.generation = 1;
	st.kind = "open";
	st.frames[0] = addr;
	g.stack = &st;
	rep.groups.v = &g;
	rep.groups.n = 1;
	rep.syms = report_symbols_resolve_prepared(&rep.groups, &(struct report_symbols_in){
			.pid = rep.tgt.pid,
			.alive = rep.alive,
			.generation = rep.hdr.generation,
			.notes = &rep.notes,
		}, prep);
	ok(g.nframes == 1 && g.frames[0].function && strcmp(g.frames[0].function, "dlo_here") == 0,
	   "the frame resolves to dlo_here (%s)",
	   g.nframes && g.frames[0].function ? g.frames[0].function : "nothing");
	ok(g.nframes == 1 && g.frames[0].module && strstr(g.frames[0].module, "dlo"),
	   "in the dlopen()ed library (%s)",
	   g.nframes && g.frames[0].module ? g.frames[0].module : "no module");
	report_symbols_destroy(rep.syms);
	free(g.frames);
	dlclose(h);
	return tap_done();
}
