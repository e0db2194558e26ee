/* The libFuzzer entry point, declared for the fuzz targets (fuzz-*.c) and for
 * the corpus replay test (tests/fuzz/fuzz-replay.c), which links one target
 * without libFuzzer and calls it on every stored input. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A target that leaves files behind defines it: called before a crash. */
__attribute__((weak)) void fuzz_cleanup(void);

__attribute__((noreturn)) static inline void fuzz_abort(void)
{
	/* Through a variable: where it is defined, the weak function's address
	 * is known not to be null and compilers say so. */
	void (*volatile cleanup)(void) = fuzz_cleanup;

	if (cleanup)
		cleanup();
	abort();
}

/* A broken invariant is a finding: say which, then crash so that libFuzzer
 * keeps the input (and the replay test fails). */
#define FUZZ_CHECK(cond, ...)							\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "fuzz invariant broken at %s:%d: %s: ",	\
				__FILE__, __LINE__, #cond);			\
			fprintf(stderr, __VA_ARGS__);				\
			fputc('\n', stderr);					\
			fuzz_abort();						\
		}								\
	} while (0)
