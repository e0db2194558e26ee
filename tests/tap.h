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
#include <string.h>

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
	char buf[4096];

	tap_count++;
	if (!cond)
		tap_failed++;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One line per test point, whatever the description holds. */
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	printf("%s %d - %s\n", cond ? "ok" : "not ok", tap_count, buf);
	fflush(stdout);
	return cond;
}

/* A diagnostic; every line of it is prefixed "# " so that text with
 * newlines (a captured stderr, a generated file) stays valid TAP. */
__attribute__((format(printf, 1, 2), unused))
static void diag(const char *fmt, ...)
{
	char buf[8192];
	const char *p = buf;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	do {
		size_t n = strcspn(p, "\n");
		printf("# %.*s\n", (int)n, p);
		p += n;
	} while (*p && *++p);
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
