/* Small helpers for a short-lived CLI: die(), cleanup attributes, parsing. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Exit codes, documented in sockaudit(1). */
#define EXIT_CLEAN   0
#define EXIT_FLAGGED 1
#define EXIT_ERROR   2

__attribute__((noreturn, format(printf, 1, 2)))
void die(const char *fmt, ...);
__attribute__((format(printf, 1, 2)))
void warnx_(const char *fmt, ...);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

static inline void cleanup_freep(void *p)
{
	free(*(void **)p);
}
static inline void cleanup_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_free_   __attribute__((cleanup(cleanup_freep)))
#define _cleanup_fclose_ __attribute__((cleanup(cleanup_fclosep)))
#define _cleanup_close_  __attribute__((cleanup(cleanup_closep)))

/* "250ms", "5s", "2m", "1h", "1m30s", "1.5s", "1500" (a bare number is ms).
 * Returns 0 or -1. (common/duration.c) */
int parse_duration_ms(const char *s, uint64_t *out);
/* Decimal pid > 0 fitting pid_t. Returns 0 or -1. */
int parse_pid(const char *s, int *out);
/* "1.5s", "3m12s", "2h05m", "45ms" */
void format_duration(uint64_t ms, char *buf, size_t len);

uint64_t now_realtime_ns(void);
uint64_t now_monotonic_ms(void);
