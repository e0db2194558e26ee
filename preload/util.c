/* Small helpers every unit of the shim uses (util.h). They read the shim's
 * state but call nothing else of preload/. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int32_t shim_getpid(void)
{
	/* glibc no longer caches the pid, and a vfork child shares our memory:
	 * ask the kernel. */
	return (int32_t)shim_sys(SYS_getpid);
}

uint64_t shim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static size_t put(char *buf, size_t at, size_t len, const char *s)
{
	while (*s && at + 1 < len)
		buf[at++] = *s++;
	buf[at] = '\0';
	return at;
}

static void write_line(const char *line, size_t n)
{
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nothing to do: the host's stderr is closed */
	}
}

/* One line on stderr, once per process image, unless SOCKAUDIT_QUIET=1. */
void shim_warn(const char *what, int err)
{
	static _Atomic int warned;
	char line[900];
	size_t n = 0;
	int saved = errno;

	if (shim.quiet || atomic_exchange(&warned, 1))
		return;
	n = put(line, n, sizeof(line), "sockaudit: ");
	n = put(line, n, sizeof(line), what);
	if (shim.path[0]) {
		n = put(line, n, sizeof(line), " ");
		n = put(line, n, sizeof(line), shim.path);
	}
	if (err) {
		n = put(line, n, sizeof(line), ": ");
		n = put(line, n, sizeof(line), strerrorname_np(err) ? strerrorname_np(err) : "error");
	}
	n = put(line, n, sizeof(line), "; this process runs unrecorded\n");
	write_line(line, n);
	errno = saved;
}

void shim_say(const char *a, const char *b, const char *c)
{
	char line[300];
	size_t n = 0;
	int saved = errno;

	if (shim.quiet)
		return;
	n = put(line, n, sizeof(line), "sockaudit: ");
	n = put(line, n, sizeof(line), a);
	/* b may be anything from the environment: keep the line one line. */
	for (const char *p = b; *p && n + 1 < sizeof(line) - 80; p++)
		line[n++] = *p == '\n' ? ' ' : *p;
	line[n] = '\0';
	n = put(line, n, sizeof(line), c);
	n = put(line, n, sizeof(line), "\n");
	write_line(line, n);
	errno = saved;
}

uint64_t shim_read_starttime(void)
{
	char buf[1024];
	uint64_t v = 0;
	ssize_t n;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	shim_sys(SYS_close, fd);
	if (n <= 0 || sa_stat_starttime(buf, (size_t)n, &v) < 0)
		return 0;
	return v;
}

int shim_fstat(int fd, struct stat *st)
{
#if defined(__x86_64__) || defined(__aarch64__)
	/* The kernel's struct stat is glibc's on these: skip the detour. */
	return (int)shim_sys(SYS_fstat, fd, st);
#else
	return fstat(fd, st);
#endif
}

bool shim_probe_readable(const void *addr)
{
	return shim_sys(SYS_rt_sigprocmask, -1, addr, NULL, sizeof(uint64_t)) < 0 &&
	       errno == EINVAL;
}

static bool page_readable(uintptr_t page)
{
	return page >= 4096 && shim_probe_readable((const void *)page);
}

size_t shim_read_str_more(char *dst, const char *src, size_t max, uintptr_t proven)
{
	uintptr_t p = (uintptr_t)src;
	size_t n = 0;
	int saved = errno;

	while (n < max) {
		uintptr_t page = p & ~(uintptr_t)4095, stop = page + 4096;

		if ((!proven || page != proven) && !page_readable(page))
			break;
		for (; p < stop && n < max; p++) {
			dst[n++] = *(const char *)p;
			if (!dst[n - 1]) {
				errno = saved;
				return n;
			}
		}
	}
	errno = saved;
	return n;
}

size_t shim_read_str(char *dst, const char *src, size_t max)
{
	return shim_read_str_more(dst, src, max, 0);
}
