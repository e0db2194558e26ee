/* A host whose sockets are opened from many distinct call stacks: the path
 * down a 10-level recursion is chosen by the bits of a counter, two
 * functions per level, so every socket() has its own stack and the shim
 * interns up to 1024 of them all over its stack set. On a table directory
 * that is nearly full, that makes the shim back some stack pages and fail
 * on their neighbours: an entry that straddles the two must never be
 * written (issue 13, item 6: SIGBUS). Prints "spray N" and exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define LEVELS 10

static int opened;

static int down_a(unsigned path, int level);
static int down_b(unsigned path, int level);

static __attribute__((noinline)) int leaf(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		return 0;
	opened++;
	close(fd);
	return 1;
}

static __attribute__((noinline)) int step(unsigned path, int level)
{
	if (level == LEVELS)
		return leaf();
	if ((path >> level) & 1)
		return down_b(path, level + 1);
	return down_a(path, level + 1);
}

/* Two functions per level, told apart by their own counters (identical
 * bodies would be folded into one by the compiler); the empty asm uses the
 * result after the call, so it is a real call with its own return address,
 * never a tail call. */
static volatile unsigned calls_a, calls_b;

static __attribute__((noinline)) int down_a(unsigned path, int level)
{
	int r = step(path, level);

	__asm__ __volatile__("" : "+r"(r));
	calls_a++;
	return r;
}

static __attribute__((noinline)) int down_b(unsigned path, int level)
{
	int r = step(path, level);

	__asm__ __volatile__("" : "+r"(r));
	calls_b += 2;
	return r;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 1u << LEVELS;
	int ok = 0;

	for (unsigned i = 0; i < n; i++)
		ok += step(i, 0);
	printf("spray %d\n", ok);
	return ok == (int)n ? 0 : 1;
}
