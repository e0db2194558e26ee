/* baseline: the stack identities of an earlier `sockaudit run --json`
 * report. A run given --baseline fails only on groups whose identity the
 * old report does not have: known leaks are tolerated, new ones are not. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct baseline {
	char **ids;          /* sorted, unique */
	size_t n;
};

/* Read a sockaudit.run/1 document with json-c. Returns 0, or -1 with one
 * line in err. */
int baseline_load(struct baseline *b, const char *path, char *err, size_t errlen);
bool baseline_has(const struct baseline *b, const char *stack_id);
void baseline_finish(struct baseline *b);
