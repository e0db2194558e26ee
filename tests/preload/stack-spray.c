/* A host whose sockets are opened from many distinct call stacks: the path
 * down a 10-level recursion is chosen by the bits of a counter, two
 * functions per level, so every socket() has its own stack and the shim
 * interns up to 1024 of them all over its stack set. On a table directory
 * that is nearly full, that makes the shim back some stack pages and fail
 * on their neighbours: an entry that straddles the two must never be
 * written (issue 13, item 6: SIGBUS). Every 8th socket is kept open, so a
 * forked child or an exec'd image has records with stacks to take over.
 *
 *   stack-spray            1024 sockets; prints "spray 1024", exits 0
 *   stack-spray exec       then execs itself ("stack-spray again"): the new
 *                          image adopts the table and sprays once more
 *   stack-spray fork       then forks; the child copies the table into its
 *                          own and sprays once more; prints "child 0"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define LEVELS 10

static int opened;
static unsigned kept_every = 8;

static int down_a(unsigned path, int level);
static int down_b(unsigned path, int level);

static __attribute__((noinline)) int leaf(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		return 0;
	if (++opened % kept_every)
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

static int spray(void)
{
	int ok = 0;

	for (unsigned i = 0; i < 1u << LEVELS; i++)
		ok += step(i, 0);
	return ok;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int ok = spray(), st;
	pid_t pid;

	printf("spray %d\n", ok);
	fflush(stdout);
	if (ok != 1 << LEVELS)
		return 1;
	if (strcmp(mode, "exec") == 0) {
		execl(argv[0], argv[0], "again", (char *)NULL);
		return 126;
	}
	if (strcmp(mode, "fork") == 0) {
		pid = fork();
		if (pid == 0) {
			alarm(20);
			_exit(spray() == 1 << LEVELS ? 0 : 1);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid)
			return 2;
		printf("child %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
	}
	return 0;
}
