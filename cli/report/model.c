/* model: the lifetime of a struct report (tearing down what report.c
 * built), shared with `list`, `run` and the tests. */
#include "report/model.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

void report_finish(struct report *r)
{
	if (!r)
		return;
	report_symbols_destroy(r->syms);
	r->syms = NULL;
	report_rescued_finish(&r->rescued);
	group_set_finish(&r->groups);
	report_join_finish(&r->join);
	notes_finish(&r->notes);
	free(r->peers);
	r->peers = NULL;
	r->npeers = 0;
}
