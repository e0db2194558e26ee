/* ident: a group's stack identity, the key of baselines and of SARIF's
 * partialFingerprints. Raw addresses change with every build and with ASLR,
 * lines move whenever code above them changes: the identity keeps only what
 * survives a rebuild that does not touch the call path, which is each
 * frame's function name, source file basename and module basename, innermost
 * first, of the frames shown (report-symbols.c trims the shim's and libc's
 * leading frames and those below the program's code).
 *
 *   "leak_client (client.c, myprog) | main (main.c, myprog) | ..."
 */
#include "run/ident.h"

#include <stdio.h>
#include <string.h>

#include "util/util.h"

static const char *base_of(const char *path)
{
	const char *b = path ? strrchr(path, '/') : NULL;

	return b ? b + 1 : (path ? path : "");
}

char *run_stack_id(const struct group *g)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!g->stack->depth || !g->nframes) {
		char title[160];

		group_title_nostack(g, title, sizeof(title));
		return xstrdup(title[0] ? title : "(no stack)");
	}
	f = open_memstream(&buf, &len);
	if (!f)
		die("out of memory");
	for (size_t i = 0; i < g->nframes; i++) {
		const struct sym_frame *fr = &g->frames[i];

		fprintf(f, "%s%s (%s, %s)", i ? " | " : "", fr->function ? fr->function : "??",
			base_of(fr->file), base_of(fr->module));
	}
	if (fclose(f) != 0)
		die("out of memory");
	return buf;
}

void run_stack_hash(const char *id, char hex[17])
{
	uint64_t h = 0xcbf29ce484222325ull;   /* FNV-1a 64 */

	for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	snprintf(hex, 17, "%016llx", (unsigned long long)h);
}
