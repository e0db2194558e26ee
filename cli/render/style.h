/* Terminal styling shared by the text renderers (report, run). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct style {
	bool color;
};

static inline const char *sgr(const struct style *st, const char *code)
{
	return st->color ? code : "";
}

#define BOLD(st)   sgr(st, "\033[1m")
#define RED(st)    sgr(st, "\033[1;31m")
#define YELLOW(st) sgr(st, "\033[33m")
#define GREEN(st)  sgr(st, "\033[32m")
#define CYAN(st)   sgr(st, "\033[36m")
#define DIM(st)    sgr(st, "\033[2m")
#define RESET(st)  sgr(st, "\033[0m")

static inline const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}
