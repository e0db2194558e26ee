// SPDX-License-Identifier: MIT
/* sym-child: a separate program for test-symbolize's "other process" case.
 * It prints "<return address in hex> <line>\n", the address captured in
 * sym_child_probe() when called from sym_child_site() at that line, then
 * blocks until its stdin reaches EOF (or it is killed), so the parent can
 * symbolize it through /proc/<pid>/maps while it is alive.
 *
 * A separate exec'd image, not a fork: its layout differs from the parent's,
 * so a symbolizer that looked at the wrong process could not pass by luck.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

/* noipa (where known) also stops cloning and return-value propagation, which
 * would rename the functions or drop the call the test is about. */
#if defined(__has_attribute)
#if __has_attribute(noipa)
#define SYM_NOIPA __attribute__((noinline, noipa))
#endif
#endif
#ifndef SYM_NOIPA
#define SYM_NOIPA __attribute__((noinline))
#endif

static SYM_NOIPA uint64_t sym_child_probe(void)
{
	return (uint64_t)(uintptr_t)__builtin_return_address(0);
}

static SYM_NOIPA int sym_child_site(void)
{
	uint64_t ra = sym_child_probe(); int line = __LINE__;

	/* Using the results after the call keeps it from being a tail call. */
	return printf("%" PRIx64 " %d\n", ra, line) < 0 || fflush(stdout) != 0;
}

int main(void)
{
	char c;

	if (sym_child_site())
		return 1;
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	return 0;
}
