/* Minimal TAP producer for the unit and scenario tests (meson protocol: 'tap').
 *
 * ok(cond, fmt, ...)  one test point; returns cond so callers can bail out early
 * tap_plan(n)         optional up-front plan; tap_done() prints the trailing plan
 * tap_done()          returns the exit status: 0 when every point passed
 * tap_deadline(s, w)  fail the whole test ("Bail out!") if it is still running
 *                     after s seconds: for waits that have no timeout of their own
 * tap_skip_env(...)   a skip for a missing tool or privilege; with
 *                     SOCKAUDIT_STRICT=1 (set by tools/check) it is a failure
 */
#pragma once

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* SOCKAUDIT_STRICT=1: skips that CI must not have (a tool it installs, a
 * privilege it has) are failures. */
__attribute__((unused)) static bool tap_strict(void)
{
	const char *s = getenv("SOCKAUDIT_STRICT");

	return s && strcmp(s, "1") == 0;
}

/* A test point that cannot run here for lack of a tool or a privilege:
 * "# SKIP reason" normally, "not ok ... (strict)" under SOCKAUDIT_STRICT=1. */
__attribute__((format(printf, 1, 2), unused))
static void tap_skip_env(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (tap_strict())
		ok(false, "%s (a skip is a failure under SOCKAUDIT_STRICT=1)", buf);
	else
		ok(true, "# SKIP %s", buf);
}

__attribute__((unused)) static char tap_deadline_msg[256];
__attribute__((unused)) static size_t tap_deadline_len;

__attribute__((unused)) static void tap_deadline_fire(int sig)
{
	(void)sig;
	/* async-signal-safe: write the preformatted line and leave */
	if (write(1, tap_deadline_msg, tap_deadline_len) < 0)
		_exit(1);
	_exit(1);
}

/* From now on, the test bails out if it is still running `seconds` later;
 * `what` names the wait. Uses SIGALRM: not for tests that use it otherwise.
 * tap_deadline(0, NULL) cancels. */
__attribute__((unused)) static void tap_deadline(unsigned seconds, const char *what)
{
	struct sigaction sa = { .sa_handler = tap_deadline_fire };

	if (!seconds) {
		alarm(0);
		return;
	}
	fflush(stdout);
	snprintf(tap_deadline_msg, sizeof(tap_deadline_msg),
		 "Bail out! %s did not finish within %u s\n", what, seconds);
	tap_deadline_len = strlen(tap_deadline_msg);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(seconds);
}
