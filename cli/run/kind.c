/* kind: the names of a run's finding kinds, shared by --fail-on,
 * suppression files, JSON and SARIF rule ids. */
#include "run/kind.h"

#include <stdio.h>

#include <string.h>

static const char *const names[RUN_KIND_MAX] = {
	[RUN_KIND_CLOSE_WAIT] = "close-wait",
	[RUN_KIND_IDLE] = "idle",
	[RUN_KIND_AT_EXIT] = "at-exit",
	[RUN_KIND_RESCUED] = "rescued",
};

const char *run_kind_name(enum run_kind k)
{
	return k < RUN_KIND_MAX ? names[k] : "none";
}

int run_kind_parse(const char *s, enum run_kind *k)
{
	for (int i = 0; i < RUN_KIND_MAX; i++)
		if (strcmp(s, names[i]) == 0) {
			*k = (enum run_kind)i;
			return 0;
		}
	return -1;
}

int run_kind_list_parse(const char *list, unsigned *bits, bool star_ok)
{
	char buf[256], *save = NULL, *tok;

	if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf))
		return -1;
	*bits = 0;
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		enum run_kind k;

		if (star_ok && strcmp(tok, "*") == 0) {
			*bits |= (1u << RUN_KIND_MAX) - 1;
			continue;
		}
		if (run_kind_parse(tok, &k) < 0)
			return -1;
		*bits |= RUN_KIND_BIT(k);
	}
	return 0;
}
