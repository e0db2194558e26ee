/* Host programs that own every descriptor they can be handed, for
 * test-unwind-fds.c: each opens its first socket from a signal handler (the
 * capture then unwinds through a signal frame it has never seen) and checks
 * that none of its own descriptors was read, written or taken. Prints "ok"
 * and exits 0 when nothing was touched; a hang or a signal is a failure the
 * driver sees. Run as `unwind-fds-host fill|raise|last`; `garbage` opens
 * sockets from a frame whose unwind info points at unreadable memory; `own`
 * (built with HOST_UNWINDS and linked with libunwind) unwinds itself. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile int handler_fd = -1;

static void on_usr1(int sig)
{
	(void)sig;
	handler_fd = socket(AF_INET, SOCK_DGRAM, 0);
}

static void open_in_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	if (handler_fd < 0) {
		printf("socket in handler: %s\n", strerror(errno));
		exit(1);
	}
}

static int pending(int fd)
{
	int n = -1;

	if (ioctl(fd, FIONREAD, &n) < 0)
		return -1;
	return n;
}

/* A daemon: close everything from 3, fill the fd table with socketpairs,
 * each holding a 4-byte request on one end, free two numbers, and open a
 * socket in a signal handler. Every request must still be there. */
static int fill(void)
{
	static int ends[2][1 << 16];
	int n = 0, sv[2];

	/* Twice, from one call site: a daemon's first connections come before
	 * its closefrom(3), and then nothing in the loop below is new to an
	 * unwinder's caches. */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < n; i++) {
			close(ends[0][i]);
			close(ends[1][i]);
		}
		n = 0;
		if (round == 1)
			closefrom(3);
		while (n < (1 << 16) && socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
			if (write(sv[1], "req!", 4) != 4)
				return printf("write: %s\n", strerror(errno)), 1;
			ends[0][n] = sv[0];
			ends[1][n] = sv[1];
			n++;
		}
	}
	if (n < 2)
		return printf("only %d socketpairs\n", n), 1;
	/* Free the two lowest numbers, for the handler's socket. */
	close(ends[0][0]);
	close(ends[1][0]);
	open_in_handler();
	for (int i = 1; i < n; i++) {
		char buf[8];

		if (pending(ends[0][i]) != 4 || pending(ends[1][i]) != 0 ||
		    read(ends[0][i], buf, sizeof(buf)) != 4 || memcmp(buf, "req!", 4) != 0) {
			printf("pair %d (fds %d, %d): %d and %d bytes pending, want 4 and 0\n",
			       i, ends[0][i], ends[1][i], pending(ends[0][i]), pending(ends[1][i]));
			return 1;
		}
	}
	/* The count too: the shim must not take numbers under the limit. */
	printf("ok %d socketpairs\n", n);
	return 0;
}

/* Started with soft < hard: raise the soft limit and put a socket with
 * waiting data on the first number above the old limit (and its peer on the
 * next). The data must arrive whole and nothing may be written to the peer. */
static int raise_limit(void)
{
	struct rlimit rl;
	char buf[16];
	int sv[2], base;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur >= rl.rlim_max)
		return printf("needs soft < hard\n"), 1;
	base = (int)rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return printf("setrlimit: %s\n", strerror(errno)), 1;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || dup2(sv[0], base) != base ||
	    dup2(sv[1], base + 1) != base + 1)
		return printf("socketpair/dup2: %s\n", strerror(errno)), 1;
	close(sv[0]);
	close(sv[1]);
	if (write(base + 1, "hello", 5) != 5)
		return printf("write: %s\n", strerror(errno)), 1;
	open_in_handler();
	if (pending(base) != 5 || pending(base + 1) != 0) {
		printf("fd %d: %d bytes pending (want 5), fd %d: %d (want 0)\n", base,
		       pending(base), base + 1, pending(base + 1));
		return 1;
	}
	if (read(base, buf, sizeof(buf)) != 5 || memcmp(buf, "hello", 5) != 0)
		return printf("data on fd %d changed\n", base), 1;
	printf("ok\n");
	return 0;
}

/* soft == hard: a socket dup2'ed onto the last number the limit allows (and
 * its peer onto the one before) must receive nothing. */
static int last(void)
{
	struct rlimit rl;
	int sv[2], top;

	getrlimit(RLIMIT_NOFILE, &rl);
	top = (int)rl.rlim_cur - 1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0 ||
	    dup2(sv[0], top) != top || dup2(sv[1], top - 1) != top - 1)
		return printf("socketpair/dup2: %s\n", strerror(errno)), 1;
	close(sv[0]);
	close(sv[1]);
	open_in_handler();
	if (pending(top) != 0 || pending(top - 1) != 0) {
		printf("fd %d: %d bytes pending, fd %d: %d (want 0 and 0)\n", top, pending(top),
		       top - 1, pending(top - 1));
		return 1;
	}
	printf("ok\n");
	return 0;
}

#if defined(__x86_64__)
/* socket(AF_INET, SOCK_DGRAM, 0) from a frame whose unwind info lies: it
 * says the caller's frame is at %rbp + 16, and %rbp holds the argument. */
int bad_cfi_socket(void *fake_rbp);
__asm__(".text\n"
	".globl bad_cfi_socket\n"
	".type bad_cfi_socket, @function\n"
	"bad_cfi_socket:\n"
	".cfi_startproc\n"
	"pushq %rbp\n"
	".cfi_def_cfa_offset 16\n"
	".cfi_offset %rbp, -16\n"
	"movq %rdi, %rbp\n"
	".cfi_def_cfa %rbp, 16\n"
	"movl $2, %edi\n"
	"movl $2, %esi\n"
	"xorl %edx, %edx\n"
	"call socket@PLT\n"
	"popq %rbp\n"
	".cfi_def_cfa %rsp, 8\n"
	"ret\n"
	".cfi_endproc\n"
	".size bad_cfi_socket, .-bad_cfi_socket\n");

/* Unwind info that sends the unwinder to an unreadable page (a PROT_NONE
 * mapping, then an address nothing maps): the capture must stop there,
 * never fault. */
static int garbage(void)
{
	char *none = mmap(NULL, 3 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *fakes[] = { none + 4096, (void *)0x10, (void *)(uintptr_t)0xdead0000dead0000 };
	int fd;

	if (none == MAP_FAILED)
		return printf("mmap: %s\n", strerror(errno)), 1;
	for (size_t i = 0; i < sizeof(fakes) / sizeof(fakes[0]); i++) {
		fd = bad_cfi_socket(fakes[i]);
		if (fd < 0)
			return printf("socket: %s\n", strerror(errno)), 1;
		close(fd);
	}
	printf("ok\n");
	return 0;
}
#else
static int garbage(void)
{
	printf("ok\n");   /* the lying unwind info is written for x86_64 */
	return 0;
}
#endif

#ifdef HOST_UNWINDS
#include <libunwind.h>

static volatile int handler_frames;

static void on_usr2(int sig)
{
	void *buf[64];

	(void)sig;
	handler_frames = unw_backtrace(buf, 64);
}

/* A host that unwinds with libunwind itself, the copy the shim uses: its
 * own backtraces, from a signal handler too (libunwind then validates with
 * its pipe), and the descriptor numbers it gets afterwards must be those
 * it gets without the shim. */
static int own(void)
{
	struct sigaction sa;
	void *buf[64];
	int n, fd;

	n = unw_backtrace(buf, 64);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	raise(SIGUSR2);
	open_in_handler();
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	printf("ok %d frames, %d in a handler, handler's socket fd %d, next fd %d\n", n,
	       handler_frames, handler_fd, fd);
	return n > 2 && handler_frames > 2 ? 0 : 1;
}
#else
static int own(void)
{
	printf("ok\n");   /* built without libunwind: nothing to compare */
	return 0;
}
#endif

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	if (strcmp(argv[1], "fill") == 0)
		return fill();
	if (strcmp(argv[1], "raise") == 0)
		return raise_limit();
	if (strcmp(argv[1], "last") == 0)
		return last();
	if (strcmp(argv[1], "garbage") == 0)
		return garbage();
	if (strcmp(argv[1], "own") == 0)
		return own();
	return 2;
}
