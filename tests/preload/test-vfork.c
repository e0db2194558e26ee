/* vfork() and clone(CLONE_VM) through the shim's trampolines (preload/vfork.c):
 * a child sharing our memory never writes our table nor runs our exit path,
 * vfork and clone still behave as libc's, and a process that never made such
 * a child pays no getpid for the check. The getpid counts are taken with
 * ptrace on a fresh image of this program (`--count MODE N`): the shim's
 * "has vforked" flag is sticky for the life of an image. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"

#if defined(__x86_64__) || defined(__aarch64__)
#define HAVE_TRAMPOLINES 1
#else
#define HAVE_TRAMPOLINES 0
#endif

#define PAIRS 200

/* Written by children that share our memory. */
static volatile pid_t child_saw_pid;
static volatile int child_fd = -1;
static volatile int clone_arg_seen;
static char clone_stack[256 * 1024] __attribute__((aligned(16)));

/* Our table still exists (no exit path ran on it), still records `fd` as
 * the socket() we made, and matches /proc/self/fd exactly. */
static void check_intact(int fd, const char *what)
{
	struct th_table t;
	const struct sa_slot *s;

	if (!ok(th_load(&t, getpid()), "%s: parent's table still exists", what))
		return;
	s = th_find(&t, fd);
	ok(s && s->origin == SA_ORIGIN_SOCKET, "%s: parent still records fd %d", what, fd);
	ok(!(t.s.hdr.flags & SA_HDR_EXITED), "%s: no exit path ran on the parent's table", what);
	th_unload(&t);
	ok(th_exact(getpid()), "%s: parent's table exact", what);
}

static void case_bound(void)
{
	static const char *const names[] = { "vfork", "clone" };

	for (int i = 0; i < 2; i++) {
		Dl_info info;
		void *p = dlsym(RTLD_DEFAULT, names[i]);

		if (!HAVE_TRAMPOLINES) {
			ok(1, "# SKIP no %s trampoline on this architecture", names[i]);
			continue;
		}
		ok(p && dladdr(p, &info) && info.dli_fname && strstr(info.dli_fname, "libsockaudit"),
		   "%s() resolves to the shim's trampoline", names[i]);
	}
}

static void case_vfork_close_exit(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	pid_t pid = vfork();

	if (pid == 0) {
		/* Shares our memory and guard page: its close and its _exit must
		 * leave our record and our table alone. */
		close(s);
		_exit(0);
	}
	ok(pid > 0 && th_wait_child(pid, 10000) == 0, "vfork, close, _exit: child exited 0");
	check_intact(s, "vfork, close, _exit");
	close(s);
}

static void case_vfork_close_exec(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	pid_t pid = vfork();

	if (pid == 0) {
		close(s);
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	ok(pid > 0 && th_wait_child(pid, 10000) == 0, "vfork, close, exec /bin/true: child exited 0");
	check_intact(s, "vfork, close, exec");
	close(s);
}

static void case_vfork_opens(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0), hold;
	pid_t pid;
	struct th_table t;

	child_fd = -1;
	pid = vfork();
	if (pid == 0) {
		/* Its socket and dup live in its own fd table, gone at _exit. */
		child_fd = socket(AF_INET, SOCK_DGRAM, 0);
		dup2(s, 200);
		_exit(0);
	}
	ok(pid > 0 && th_wait_child(pid, 10000) == 0, "vfork, socket, dup2: child exited 0");
	/* Hold the child's number: the reader's own open and close of the
	 * table would otherwise take it and clear a wrong record. */
	hold = open("/dev/null", O_RDONLY);
	ok(child_fd >= 0 && hold == child_fd && th_load(&t, getpid()) && !th_find(&t, child_fd) &&
	   !th_find(&t, 200),
	   "vfork child's socket() (fd %d) and dup2() left no record in the parent's table",
	   child_fd);
	th_unload(&t);
	check_intact(s, "vfork, socket, dup2");
	close(hold);
	close(s);
}

static int clone_close(void *arg)
{
	int *fd = arg;

	clone_arg_seen = *fd;
	close(*fd);
	return 0;   /* glibc's clone then exits with a raw syscall */
}

static int clone_close_exit(void *arg)
{
	int *fd = arg;

	close(*fd);
	_exit(5);
}

static void case_clone(int (*fn)(void *), int want, const char *what)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	pid_t ptid = 0, ctid = 0;
	pid_t pid;

	clone_arg_seen = -1;
	/* PARENT_SETTID and CHILD_SETTID check that the 5th and the 7th
	 * argument (on the stack on x86_64) reach the kernel. */
	pid = clone(fn, clone_stack + sizeof(clone_stack),
		    CLONE_VM | CLONE_VFORK | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | SIGCHLD,
		    &s, &ptid, NULL, &ctid);
	ok(pid > 0 && ptid == pid && ctid == pid,
	   "%s: clone returned the child (%d), tids written through ptid (%d) and ctid (%d)",
	   what, (int)pid, (int)ptid, (int)ctid);
	ok(pid > 0 && th_wait_child(pid, 10000) == want, "%s: child's status %d reached waitpid",
	   what, want);
	if (fn == clone_close)
		ok(clone_arg_seen == s, "%s: fn got its argument", what);
	check_intact(s, what);
	close(s);
}

static int pipes[4];   /* done[2], go[2] for case_clone_copy */

static int clone_copy_child(void *arg)
{
	char c;

	close(*(int *)arg);
	write(pipes[1], "x", 1);
	read(pipes[2], &c, 1);   /* stay alive while the parent checks */
	_exit(0);
}

/* clone() without CLONE_VM is a fork that runs no atfork handler: the
 * guard page must still give the child a table of its own. */
static void case_clone_copy(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	char c;
	pid_t pid;

	if (pipe(pipes) < 0 || pipe(pipes + 2) < 0)
		bail("pipe: %s", strerror(errno));
	pid = clone(clone_copy_child, clone_stack + sizeof(clone_stack), SIGCHLD, &s);
	ok(pid > 0 && read(pipes[0], &c, 1) == 1, "clone without CLONE_VM: child closed a socket");
	check_intact(s, "clone without CLONE_VM");
	ok(pid > 0 && th_exact(pid), "clone without CLONE_VM: child's own table exact");
	write(pipes[3], "x", 1);
	ok(pid > 0 && th_wait_child(pid, 10000) == 0, "clone without CLONE_VM: child exited");
	for (int i = 0; i < 4; i++)
		close(pipes[i]);
	close(s);
}

static void case_vfork_result(void)
{
	pid_t pid;
	int err;

	child_saw_pid = 0;
	errno = 4242;
	pid = vfork();
	if (pid == 0) {
		child_saw_pid = getpid();
		_exit(42);
	}
	err = errno;
	ok(pid > 0 && pid == child_saw_pid, "vfork returned the child's pid (%d, child saw %d)",
	   (int)pid, (int)child_saw_pid);
	ok(err == 4242, "vfork left errno alone on success (%d)", err);
	ok(th_wait_child(pid, 10000) == 42, "vfork child's exit status 42 reached waitpid");
}

/* A vfork that fails: one process over RLIMIT_NPROC 0 (as nobody when we are
 * root, whom the limit does not bind). Run in a _Fork() child that calls no
 * wrapper, so it makes no table of its own. Exit status: vfork's errno,
 * 100 when it succeeded, 120 when the limit could not be set up. */
static void case_vfork_errno(void)
{
	struct rlimit zero = { 0, 0 };
	pid_t pid = _Fork();
	int rc;

	if (pid == 0) {
		pid_t r;

		if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
				       setresuid(65534, 65534, 65534) < 0))
			_exit(120);
		if (setrlimit(RLIMIT_NPROC, &zero) < 0)
			_exit(120);
		errno = 0;
		r = vfork();
		if (r == 0)
			_exit(0);
		_exit(r < 0 ? (errno & 0x7f) : 100);
	}
	rc = th_wait_child(pid, 10000);
	if (rc == 120 || rc == 100)
		ok(1, "# SKIP RLIMIT_NPROC does not bind here (status %d)", rc);
	else
		ok(rc == EAGAIN, "failed vfork returned -1 with errno EAGAIN (status %d)", rc);
}

/* --count MODE N: make (or not) a child sharing our memory, then N
 * socket()+close() pairs of tracked sockets between two getppid markers. */
static int count_main(const char *mode, int n)
{
	struct th_table t;
	bool tracked;
	pid_t pid = 0;
	int s;

	if (strcmp(mode, "vfork") == 0) {
		pid = vfork();
		if (pid == 0)
			_exit(0);
	} else if (strcmp(mode, "clone-vm") == 0) {
		pid = clone(clone_close, clone_stack + sizeof(clone_stack),
			    CLONE_VM | CLONE_VFORK | SIGCHLD, &(int){ -1 });
	} else if (strcmp(mode, "clone-copy") == 0) {
		/* No CLONE_VM: a forked child, told by the guard page. */
		pid = clone(clone_close, clone_stack + sizeof(clone_stack), SIGCHLD,
			    &(int){ -1 });
	} else if (strcmp(mode, "none") != 0) {
		return 2;
	}
	if (pid < 0 || (pid > 0 && th_wait_child(pid, 10000) != 0))
		return 4;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	tracked = th_load(&t, getpid()) && th_find(&t, s);
	th_unload(&t);
	close(s);
	syscall(SYS_getppid);
	for (int i = 0; i < n; i++) {
		s = socket(AF_INET, SOCK_DGRAM, 0);
		close(s);
	}
	syscall(SYS_getppid);
	return tracked ? 0 : 3;
}

struct counts {
	int markers;
	long getpid, socket, close;
	int status;
};

static volatile pid_t tracee;

static void on_alarm(int sig)
{
	(void)sig;
	if (tracee > 0)
		kill(tracee, SIGKILL);
}

/* Run `--count mode n` in a fresh image under ptrace and count the syscalls
 * it enters between its markers. 1: counted; 0: tracing not possible here
 * (*why says so); -1: the run failed. */
static int trace_count(const char *mode, int n, struct counts *c, const char **why)
{
	char nbuf[16];
	int st, sig = 0;
	pid_t pid;

	memset(c, 0, sizeof(*c));
	snprintf(nbuf, sizeof(nbuf), "%d", n);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
			_exit(120);
		execl("/proc/self/exe", "test-vfork", "--count", mode, nbuf, (char *)NULL);
		_exit(127);
	}
	tracee = pid;
	signal(SIGALRM, on_alarm);
	alarm(60);   /* the deadline: a hung tracee is killed and fails the case */
	if (waitpid(pid, &st, 0) != pid)
		goto fail;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 120) {
		*why = "ptrace not permitted here";
		alarm(0);
		return 0;
	}
	if (!WIFSTOPPED(st) ||
	    ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACESYSGOOD |
								  PTRACE_O_EXITKILL)) < 0)
		goto fail;
	for (;;) {
		if (ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig) < 0 ||
		    waitpid(pid, &st, 0) != pid)
			goto fail;
		sig = 0;
		if (WIFEXITED(st) || WIFSIGNALED(st))
			break;
		if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
			struct __ptrace_syscall_info info;

			if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info) <= 0) {
				*why = "PTRACE_GET_SYSCALL_INFO not supported";
				kill(pid, SIGKILL);
				waitpid(pid, &st, 0);
				alarm(0);
				return 0;
			}
			if (info.op != PTRACE_SYSCALL_INFO_ENTRY)
				continue;
			if (info.entry.nr == SYS_getppid)
				c->markers++;
			else if (c->markers == 1 && info.entry.nr == SYS_getpid)
				c->getpid++;
			else if (c->markers == 1 && info.entry.nr == SYS_socket)
				c->socket++;
			else if (c->markers == 1 && info.entry.nr == SYS_close)
				c->close++;
		} else if (WSTOPSIG(st) != SIGTRAP) {
			sig = WSTOPSIG(st);   /* a real signal (SIGCHLD): deliver it */
		}
	}
	alarm(0);
	tracee = 0;
	c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 1;
fail:
	alarm(0);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	tracee = 0;
	return -1;
}

static void case_count(const char *mode, bool pays)
{
	struct counts c;
	const char *why = "";
	int r;

	if (!HAVE_TRAMPOLINES) {
		ok(1, "# SKIP %s: no trampolines here, every check asks for the pid", mode);
		return;
	}
	r = trace_count(mode, PAIRS, &c, &why);
	if (r == 0) {
		ok(1, "# SKIP %s: %s", mode, why);
		return;
	}
	/* The shim may close a descriptor of its own (backing a new chunk). */
	if (!ok(r == 1 && c.status == 0 && c.markers == 2 && c.socket == PAIRS &&
		c.close >= PAIRS,
		"%s: %d tracked socket()+close() pairs traced (status %d, markers %d, "
		"socket %ld, close %ld)", mode, PAIRS, c.status, c.markers, c.socket, c.close))
		return;
	if (pays)
		ok(c.getpid >= PAIRS, "%s: the vfork check asks for the pid (%ld getpid for %d pairs)",
		   mode, c.getpid, PAIRS);
	else
		ok(c.getpid == 0, "%s: no getpid at all (%ld for %d pairs)", mode, c.getpid, PAIRS);
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--count") == 0)
		return count_main(argv[2], atoi(argv[3]));
	case_count("none", false);
	case_count("clone-copy", false);
	case_count("vfork", true);
	case_count("clone-vm", true);
	case_bound();
	case_clone_copy();
	case_vfork_result();
	case_vfork_errno();
	case_vfork_close_exit();
	case_vfork_close_exec();
	case_vfork_opens();
	case_clone(clone_close, 0, "clone(CLONE_VM|CLONE_VFORK), close, return");
	case_clone(clone_close_exit, 5, "clone(CLONE_VM|CLONE_VFORK), close, _exit");
	return tap_done();
}
