/* Durations on the command line: "0", "100ms", "2s", "1m30s", "1.5h". */
#pragma once

#include <stdint.h>

/*
 * Parse a sequence of <number><unit> (unit ms, s, m or h; the number may
 * have a decimal fraction) into whole milliseconds, rounding down.  A bare
 * "0" is allowed; any other number needs a unit, as in Go's durations.
 * Returns 0, -EINVAL for a malformed string, -ERANGE on overflow.
 */
int rpc_parse_duration_ms(const char *s, int64_t *ms);
