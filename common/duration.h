/* Durations on the command line: "0", "100ms", "2s", "1m30s", "1.5h". Pure. */
#pragma once

#include <stdint.h>

#include <stdbool.h>

/*
 * Parse a sequence of <number><unit> (unit ms, s, m or h; the number may
 * have a decimal fraction) into whole milliseconds, rounding down.  A bare
 * "0" is allowed; any other number needs a unit, as in Go's durations,
 * unless `bare_ms` is set: then a bare whole number is milliseconds.
 * Returns 0, -EINVAL for a malformed string, -ERANGE on overflow.
 *
 * Shared by sockaudit-rpc (Go-style, bare_ms false) and sockaudit
 * (bare_ms true).
 */
int sa_parse_duration_ms(const char *s, bool bare_ms, int64_t *ms);
