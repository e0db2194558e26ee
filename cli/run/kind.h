/* kind: the finding kinds of a run, which are also SARIF rule ids and
 * --fail-on names. Pure. */
#pragma once

#include <stdbool.h>

/* Finding kinds of a run, also rule ids (SARIF) and --fail-on names. */
enum run_kind {
	RUN_KIND_CLOSE_WAIT = 0,   /* CLOSE_WAIT past --close-wait while running */
	RUN_KIND_IDLE,             /* ESTABLISHED idle past --idle while running */
	RUN_KIND_AT_EXIT,          /* still open when its process exited */
	RUN_KIND_RESCUED,          /* dropped by a Go program, closed by its garbage collector */
	RUN_KIND_MAX,
};

#define RUN_KIND_BIT(k)    (1u << (k))
/* "close-wait", "idle", "at-exit", "rescued" */
const char *run_kind_name(enum run_kind k);
int run_kind_parse(const char *s, enum run_kind *k);
/* "close-wait,idle" (and "*" when star_ok) into RUN_KIND_BIT()s; 0 or -1.
 * An empty list gives 0 bits. */
int run_kind_list_parse(const char *list, unsigned *bits, bool star_ok);
