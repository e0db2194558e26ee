/* Minimal TAP producer for the unit and scenario tests (meson protocol: 'tap').
 *
 * ok(cond, fmt, ...)  one test point; returns cond so callers can bail out early
 * tap_plan(n)         optional up-front plan; tap_done() prints the trailing plan
 * tap_done()          returns the exit status: 0 when every point passed
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_count, tap_failed, tap_planned;

__attribute__((unused)) static void tap_plan(int n)
{
	tap_planned = 1;
	printf("1..%d\n", n);
	fflush(stdout);
}

__attribute__((format(printf, 2, 3), unused))
static bool ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

__attribute__((format(printf, 1, 2), unused))
static void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Stop the whole test now: the remaining points cannot be evaluated. */
__attribute__((format(printf, 1, 2), noreturn, unused))
static void bail(const char *fmt, ...)
{
	va_list ap;

	fputs("Bail out! ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(1);
}

__attribute__((unused)) static int tap_done(void)
{
	if (!tap_planned)
		printf("1..%d\n", tap_count);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}
