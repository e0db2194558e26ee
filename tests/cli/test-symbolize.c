// SPDX-License-Identifier: MIT
/* test-symbolize: cli/symbolize.c against this very binary, a helper process
 * (sym-child, path in argv[1]) and libc.
 *
 * Built with -g. Every function whose name or line is asserted is noinline
 * (and noipa where the compiler knows it) so -O2 keeps the calls and names
 * the test reasons about; a result used after a call keeps it from being a
 * tail call, which would make __builtin_return_address point elsewhere.
 */
#include "symbolize/symbolize.h"
#include "../tap.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <sched.h>
#include <search.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_attribute)
#if __has_attribute(noipa)
#define SYM_NOIPA __attribute__((noinline, noipa))
#endif
#endif
#ifndef SYM_NOIPA
#define SYM_NOIPA __attribute__((noinline))
#endif

#define SYM_TEST_FILE "test-symbolize.c"
#define SYM_TIMEOUT_MS 10000

/* Addresses captured by the cases, reused by the post-mortem comparison. */
struct sym_site {
	uint64_t ra;
	int line;        /* line of the call in the real frame */
	int inl_line;    /* line of the call inside the inlined frame, or 0 */
};

static struct sym_site site_outer, site_inline;
static uint64_t libc_ra;

/* ---- helpers ----------------------------------------------------------- */

static const char *sym_base(const char *path)
{
	const char *p;

	if (!path)
		return NULL;
	p = strrchr(path, '/');
	return p ? p + 1 : path;
}

static bool sym_streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static void sym_dump(const char *what, const struct sym_frame *f, size_t n)
{
	size_t i;

	diag("%s: %zu frame(s)", what, n);
	for (i = 0; i < n; i++)
		diag("  #%zu %#" PRIx64 " %s%s at %s:%d in %s+%#" PRIx64, i, f[i].addr,
		     f[i].function ? f[i].function : "??", f[i].inlined ? " (inlined)" : "",
		     f[i].file ? f[i].file : "??", f[i].line,
		     f[i].module ? f[i].module : "??", f[i].module_offset);
}

/* One frame against expectations; prints the whole answer on mismatch. */
static bool sym_check(const char *what, const struct sym_frame *all, size_t n, size_t i,
		      const char *function, const char *file_base, int line, bool inlined)
{
	const struct sym_frame *f = i < n ? &all[i] : NULL;
	bool good;

	good = f && sym_streq(f->function, function) &&
	       sym_streq(sym_base(f->file), file_base) && f->line == line &&
	       f->inlined == inlined;
	if (!ok(good, "%s: frame %zu is %s%s at %s:%d", what, i, function,
		inlined ? " (inlined)" : "", file_base, line))
		sym_dump(what, all, n);
	return good;
}

static int64_t sym_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int sym_count_fds(void)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* ---- probes ------------------------------------------------------------ */

static SYM_NOIPA uint64_t sym_probe_outer(void)
{
	return (uint64_t)(uintptr_t)__builtin_return_address(0);
}

static SYM_NOIPA uint64_t sym_probe_leaf(void)
{
	return (uint64_t)(uintptr_t)__builtin_return_address(0);
}

/* The call to sym_probe_leaf() sits in the inlined body: its return address
 * is inside the inlined range of sym_inline_body within sym_inline_host. */
static inline __attribute__((always_inline)) uint64_t sym_inline_body(int *line)
{
	uint64_t ra = sym_probe_leaf(); *line = __LINE__;

	return ra;
}

static SYM_NOIPA uint64_t sym_inline_host(int *inl_line, int *call_line)
{
	uint64_t ra = sym_inline_body(inl_line); *call_line = __LINE__;

	return ra;
}

/* Called by libc's lfind(): the return address is in libc, inside an
 * exported function. (qsort's comparator is called from msort_with_tmp,
 * which is static: without libc's separate debug info only .dynsym is left,
 * and it has no name for it.) */
static int sym_cmp_capture(const void *a, const void *b)
{
	const int *x = a, *y = b;

	libc_ra = (uint64_t)(uintptr_t)__builtin_return_address(0);
	return *x != *y;
}

/* ---- 1. live self ------------------------------------------------------ */

static SYM_NOIPA void case_live_self(void)
{
	const struct sym_frame *f;
	struct symbolizer *s;
	size_t n;

	site_outer.ra = sym_probe_outer(); site_outer.line = __LINE__;

	s = sym_create_pid(getpid());
	if (!ok(s != NULL, "live self: sym_create_pid(getpid())"))
		bail("sym_create_pid: %s", strerror(errno));
	sym_resolve(s, site_outer.ra, &f, &n);
	ok(n == 1, "live self: one frame (nothing inlined), got %zu", n);
	sym_check("live self", f, n, n - 1, "case_live_self", SYM_TEST_FILE, site_outer.line,
		  false);
	ok(f[n - 1].module && strstr(f[n - 1].module, "test-symbolize"),
	   "live self: module is the test binary (%s)", f[n - 1].module ? f[n - 1].module : "NULL");
	ok(f[n - 1].addr == site_outer.ra, "live self: addr is the raw address asked for");
	sym_destroy(s);
}

/* ---- 2. live other process --------------------------------------------- */

/* Reads one line into buf within the deadline; false on timeout/EOF/error. */
static bool sym_read_line(int fd, char *buf, size_t size, int64_t deadline_ns)
{
	size_t len = 0;

	while (len + 1 < size) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left_ms = (deadline_ns - sym_now_ns()) / 1000000;
		ssize_t r;

		if (left_ms <= 0)
			return false;
		r = poll(&pfd, 1, (int)left_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		r = read(fd, buf + len, size - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		len += (size_t)r;
		buf[len] = '\0';
		if (strchr(buf, '\n'))
			return true;
	}
	return false;
}

/* Kill and reap the child; false when it does not go away in time. */
static bool sym_reap(pid_t pid, int *status)
{
	int pidfd;

	kill(pid, SIGKILL);
#ifdef SYS_pidfd_open
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#else
	pidfd = -1;
#endif
	if (pidfd >= 0) {
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
		int r;

		do
			r = poll(&pfd, 1, SYM_TIMEOUT_MS);
		while (r < 0 && errno == EINTR);
		close(pidfd);
		if (r != 1)
			return false;
	}
	/* Without pidfd (old kernel or headers), SIGKILL still cannot be
	 * ignored: a blocking wait ends. */
	return waitpid(pid, status, 0) == pid;
}

/* In the forked child, before exec: a private mount namespace in which
 * `over` is the helper, so the path in its /proc/<pid>/maps names another
 * file in ours. Unprivileged, a user namespace grants the mount. */
static const char *sym_disguise(const char *helper, const char *over)
{
	if (unshare(CLONE_NEWNS) != 0 &&
	    (errno != EPERM || unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0))
		return "unshare";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return "mount private";
	if (mount(helper, over, NULL, MS_BIND, NULL) != 0)
		return "bind mount";
	return NULL;
}

/* Runs the helper (as `disguise` in its own mount namespace when not NULL)
 * and symbolizes the address it reports through its pid. */
static void case_live_other(const char *what, const char *helper, const char *disguise)
{
	int to_child[2], from_child[2], status = 0, line = 0;
	const struct sym_frame *f;
	struct symbolizer *s;
	uint64_t ra = 0;
	char buf[128];
	pid_t parent = getpid(), pid;
	size_t n;

	if (pipe2(to_child, O_CLOEXEC) || pipe2(from_child, O_CLOEXEC))
		bail("pipe2: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bail("fork: %s", strerror(errno));
	if (pid == 0) {
		const char *exe = disguise ? disguise : helper, *fail;

		/* Never outlive the test, even if it dies before killing us. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if (dup2(to_child[0], STDIN_FILENO) < 0 || dup2(from_child[1], STDOUT_FILENO) < 0)
			_exit(127);
		if (disguise && (fail = sym_disguise(helper, disguise))) {
			/* Not allowed here: the parent reports a skip. */
			printf("skip %s: %s\n", fail, strerror(errno));
			fflush(stdout);
			_exit(0);
		}
		execl(exe, exe, (char *)NULL);
		_exit(127);
	}
	close(to_child[0]);
	close(from_child[1]);

	if (!sym_read_line(from_child[0], buf, sizeof(buf),
			   sym_now_ns() + (int64_t)SYM_TIMEOUT_MS * 1000000)) {
		ok(0, "%s: helper reported its return address in time", what);
	} else if (disguise && strncmp(buf, "skip ", 5) == 0) {
		buf[strcspn(buf, "\n")] = '\0';
		ok(1, "%s # SKIP %s", what, buf + 5);
		close(to_child[1]);
		close(from_child[0]);
		waitpid(pid, &status, 0);
		return;
	} else if (ok(sscanf(buf, "%" SCNx64 " %d", &ra, &line) == 2,
		      "%s: helper reported its return address in time", what)) {
		const char *want_module = disguise ? disguise : helper;

		s = sym_create_pid(pid);
		ok(s != NULL, "%s: sym_create_pid(%d)", what, (int)pid);
		if (s) {
			sym_resolve(s, ra, &f, &n);
			sym_check(what, f, n, n - 1, "sym_child_site", "sym-child.c", line, false);
			ok(sym_streq(sym_base(f[n - 1].module), sym_base(want_module)),
			   "%s: module is %s (%s)", what, sym_base(want_module),
			   f[n - 1].module ? f[n - 1].module : "NULL");
			sym_destroy(s);
		}
	}
	ok(sym_reap(pid, &status) && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	   "%s: helper killed and reaped in time", what);
	close(to_child[1]);
	close(from_child[0]);
}

/* ---- 3. inline --------------------------------------------------------- */

static void case_inline(void)
{
	const struct sym_frame *f;
	struct symbolizer *s;
	size_t n;

	site_inline.ra = sym_inline_host(&site_inline.inl_line, &site_inline.line);

	s = sym_create_pid(getpid());
	if (!s)
		bail("sym_create_pid: %s", strerror(errno));
	sym_resolve(s, site_inline.ra, &f, &n);
	ok(n == 2, "inline: two frames (inlined + real), got %zu", n);
	if (n == 2) {
		sym_check("inline", f, n, 0, "sym_inline_body", SYM_TEST_FILE,
			  site_inline.inl_line, true);
		sym_check("inline", f, n, 1, "sym_inline_host", SYM_TEST_FILE,
			  site_inline.line, false);
		ok(f[0].module_offset == f[1].module_offset && sym_streq(f[0].module, f[1].module),
		   "inline: both frames carry the same module+offset");
	} else {
		sym_dump("inline", f, n);
	}
	sym_destroy(s);
}

/* ---- 4. post-mortem ---------------------------------------------------- */

#define SYM_MAX_MODS 64
#define SYM_MAX_ID 64

struct sym_log {
	struct sym_module mods[SYM_MAX_MODS];
	char *paths[SYM_MAX_MODS];
	uint8_t ids[SYM_MAX_MODS][SYM_MAX_ID];
	uint64_t xstart[SYM_MAX_MODS], xend[SYM_MAX_MODS];  /* executable segment */
	size_t n;
};

/* The path /proc/self/maps shows for the mapping containing addr. */
static char *sym_maps_path(uint64_t addr)
{
	char *line = NULL, *path = NULL;
	size_t cap = 0;
	FILE *fp;

	fp = fopen("/proc/self/maps", "re");
	if (!fp)
		return NULL;
	while (!path && getline(&line, &cap, fp) > 0) {
		uint64_t lo, hi;
		int off = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %*s %*s %*s %n", &lo, &hi, &off) < 2 ||
		    !off || addr < lo || addr >= hi)
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (line[off])
			path = strdup(line + off);
	}
	free(line);
	fclose(fp);
	return path;
}

/* NT_GNU_BUILD_ID from one loaded PT_NOTE segment; 0 when absent. */
static size_t sym_note_build_id(const char *p, size_t size, size_t align, uint8_t *out)
{
	const char *end = p + size;

	align = align == 8 ? 8 : 4;
	while ((size_t)(end - p) >= sizeof(ElfW(Nhdr))) {
		const ElfW(Nhdr) *nh = (const void *)p;
		const char *name = p + sizeof(*nh);
		const char *desc = name + ((nh->n_namesz + align - 1) & ~(align - 1));

		if (desc > end || nh->n_descsz > (size_t)(end - desc))
			break;
		if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
		    memcmp(name, "GNU", 4) == 0 && nh->n_descsz <= SYM_MAX_ID) {
			memcpy(out, desc, nh->n_descsz);
			return nh->n_descsz;
		}
		p = desc + ((nh->n_descsz + align - 1) & ~(align - 1));
	}
	return 0;
}

static int sym_log_phdr(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct sym_log *log = arg;
	uint64_t lo = UINT64_MAX, hi = 0, xlo = 0, xhi = 0;
	size_t i, k = log->n, idlen = 0;
	char *path;

	if (k == SYM_MAX_MODS)
		return 1;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD) {
			uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

			if ((ph->p_vaddr & ~(page - 1)) < lo)
				lo = ph->p_vaddr & ~(page - 1);
			if (ph->p_vaddr + ph->p_memsz > hi)
				hi = ph->p_vaddr + ph->p_memsz;
			if (ph->p_flags & PF_X) {
				xlo = info->dlpi_addr + ph->p_vaddr;
				xhi = xlo + ph->p_memsz;
			}
		} else if (ph->p_type == PT_NOTE && !idlen) {
			idlen = sym_note_build_id((const char *)(info->dlpi_addr + ph->p_vaddr),
						  ph->p_memsz, ph->p_align, log->ids[k]);
		}
	}
	if (lo >= hi)
		return 0;
	path = sym_maps_path(info->dlpi_addr + lo);
	if (!path)
		return 0;
	log->paths[k] = path;
	log->xstart[k] = xlo;
	log->xend[k] = xhi;
	log->mods[k] = (struct sym_module){
		.path = path,
		.build_id = idlen ? log->ids[k] : NULL,
		.build_id_len = idlen,
		.start = info->dlpi_addr + lo,
		.end = info->dlpi_addr + hi,
		.bias = info->dlpi_addr,
	};
	log->n++;
	return 0;
}

static void sym_log_free(struct sym_log *log)
{
	size_t i;

	for (i = 0; i < log->n; i++)
		free(log->paths[i]);
	log->n = 0;
}

static const struct sym_module *sym_log_find(const struct sym_log *log, uint64_t addr, size_t *idx)
{
	size_t i;

	for (i = 0; i < log->n; i++)
		if (addr >= log->mods[i].start && addr < log->mods[i].end) {
			if (idx)
				*idx = i;
			return &log->mods[i];
		}
	return NULL;
}

static bool sym_frames_equal(const struct sym_frame *a, size_t na,
			     const struct sym_frame *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (a[i].addr != b[i].addr || a[i].line != b[i].line ||
		    a[i].inlined != b[i].inlined || a[i].module_offset != b[i].module_offset ||
		    !(a[i].function == b[i].function || sym_streq(a[i].function, b[i].function)) ||
		    !(a[i].file == b[i].file || sym_streq(a[i].file, b[i].file)) ||
		    !(a[i].module == b[i].module || sym_streq(a[i].module, b[i].module)))
			return false;
	return true;
}

/* With a wrong or missing build-id the module's frames must be module+offset
 * only: a rebuilt binary would give plausible wrong lines. */
static void sym_check_unverified(const char *what, struct sym_log *log, size_t exe)
{
	const struct sym_module *m = &log->mods[exe];
	const struct sym_frame *f, *lf;
	struct symbolizer *s;
	size_t n, ln;

	s = sym_create_modules(log->mods, log->n);
	if (!ok(s != NULL, "%s: sym_create_modules", what))
		return;
	sym_resolve(s, site_outer.ra, &f, &n);
	if (!ok(n == 1 && !f[0].file && f[0].line == 0 && !f[0].inlined &&
		sym_streq(f[0].module, m->path) && f[0].module_offset == site_outer.ra - m->bias,
		"%s: test binary frame is module+offset only (%s+%#" PRIx64 ")", what, m->path,
		site_outer.ra - m->bias))
		sym_dump(what, f, n);
	sym_resolve(s, site_inline.ra, &f, &n);
	if (!ok(n == 1 && !f[0].file && f[0].line == 0,
		"%s: no inline chain from an unverified file", what))
		sym_dump(what, f, n);
	sym_resolve(s, libc_ra, &lf, &ln);
	if (!ok(ln >= 1 && lf[ln - 1].function != NULL,
		"%s: other modules still resolve (libc: %s)", what,
		ln >= 1 && lf[ln - 1].function ? lf[ln - 1].function : "NULL"))
		sym_dump(what, lf, ln);
	sym_destroy(s);
}

static void case_post_mortem(struct sym_log *log)
{
	const uint64_t addrs[] = { site_outer.ra, site_inline.ra, libc_ra };
	const struct sym_frame *lf, *pf;
	struct symbolizer *live, *pm;
	size_t i, ln, pn, exe = 0, idlen;
	uint8_t saved;
	int fds;

	dl_iterate_phdr(sym_log_phdr, log);
	if (!ok(sym_log_find(log, site_outer.ra - 1, &exe) != NULL,
		"post-mortem: module log (%zu modules) covers the test binary", log->n))
		return;
	ok(log->mods[exe].build_id_len > 0, "post-mortem: test binary has a build-id (%zu bytes)",
	   log->mods[exe].build_id_len);

	fds = sym_count_fds();
	live = sym_create_pid(getpid());
	pm = sym_create_modules(log->mods, log->n);
	if (!ok(live && pm, "post-mortem: both symbolizers created")) {
		sym_destroy(live);
		sym_destroy(pm);
		return;
	}
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		const struct sym_module *m = sym_log_find(log, addrs[i] - 1, NULL);

		sym_resolve(live, addrs[i], &lf, &ln);
		sym_resolve(pm, addrs[i], &pf, &pn);
		ok(m && lf[ln - 1].module_offset == addrs[i] - m->bias,
		   "post-mortem: live module_offset of %#" PRIx64 " is addr - l_addr", addrs[i]);
		if (!ok(sym_frames_equal(lf, ln, pf, pn), "post-mortem: %#" PRIx64
			" resolves as live (%s)", addrs[i],
			pf[pn - 1].function ? pf[pn - 1].function : "NULL")) {
			sym_dump("live", lf, ln);
			sym_dump("post-mortem", pf, pn);
		}
	}
	sym_destroy(live);
	sym_destroy(pm);
	ok(sym_count_fds() == fds, "post-mortem: no descriptor left open after destroy");

	/* The binary "rebuilt since": same path, another build-id. */
	saved = log->ids[exe][0];
	log->ids[exe][0] ^= 0xff;
	sym_check_unverified("wrong build-id", log, exe);
	log->ids[exe][0] = saved;

	/* No build-id in the log cannot be verified either. */
	idlen = log->mods[exe].build_id_len;
	log->mods[exe].build_id_len = 0;
	sym_check_unverified("no logged build-id", log, exe);
	log->mods[exe].build_id_len = idlen;
}

/* ---- 5. libc ----------------------------------------------------------- */

static void case_libc(void)
{
	int v[] = { 3, 1, 2 }, key = 2;
	size_t nv = sizeof(v) / sizeof(v[0]);
	const struct sym_frame *f;
	struct symbolizer *s;
	size_t n;

	if (!ok(lfind(&key, v, &nv, sizeof(v[0]), sym_cmp_capture) == &v[2] && libc_ra != 0,
		"libc: lfind called the comparator"))
		return;
	s = sym_create_pid(getpid());
	if (!s)
		bail("sym_create_pid: %s", strerror(errno));
	sym_resolve(s, libc_ra, &f, &n);
	if (!ok(f[n - 1].module && strstr(f[n - 1].module, "libc.so"),
		"libc: module is libc (%s)", f[n - 1].module ? f[n - 1].module : "NULL"))
		sym_dump("libc", f, n);
	/* From .dynsym alone, or from DWARF when libc's debug info is
	 * installed: the same name either way. */
	if (!ok(sym_streq(f[n - 1].function, "lfind"), "libc: function is lfind (%s)",
		f[n - 1].function ? f[n - 1].function : "NULL"))
		sym_dump("libc", f, n);
	sym_destroy(s);
}

/* ---- 5b. module and symbol without debug information -------------------- */

extern char _start[];

static void case_locate(struct sym_log *log)
{
	/* A return address just past _start's first instruction. */
	uint64_t start_ra = (uint64_t)(uintptr_t)_start + 1;
	struct symbolizer *live = sym_create_pid(getpid());
	struct symbolizer *pm = log->n ? sym_create_modules(log->mods, log->n) : NULL;
	const char *m;

	if (!live)
		bail("sym_create_pid: %s", strerror(errno));
	for (int i = 0; i < 2; i++) {
		struct symbolizer *s = i ? pm : live;
		const char *what = i ? "post-mortem" : "live";

		if (!s) {
			ok(false, "locate %s: no symbolizer", what);
			continue;
		}
		m = sym_module_of(s, libc_ra);
		ok(m && strstr(m, "libc.so"), "locate %s: libc's module (%s)", what, m ? m : "NULL");
		ok(sym_at_entry(s, start_ra) && sym_at_entry(s, start_ra + 0x20),
		   "locate %s: a return address in _start is at the entry point", what);
		ok(!sym_at_entry(s, site_outer.ra) && !sym_at_entry(s, libc_ra),
		   "locate %s: the program's own code and libc's are not", what);
		m = sym_module_of(s, site_outer.ra);
		ok(m && strstr(m, "test-symbolize"), "locate %s: the test binary's module (%s)", what,
		   m ? m : "NULL");
		ok(!sym_module_of(s, 0x10) && !sym_at_entry(s, 0x10) && !sym_module_of(s, 0),
		   "locate %s: an unmapped address has neither", what);
	}
	sym_destroy(live);
	sym_destroy(pm);
}

/* ---- 6. unmapped + cache ----------------------------------------------- */

static void case_unmapped(void)
{
	const struct sym_frame *f, *g;
	struct symbolizer *s;
	size_t n, m;

	s = sym_create_pid(getpid());
	if (!s)
		bail("sym_create_pid: %s", strerror(errno));
	sym_resolve(s, 0x10, &f, &n);
	ok(n == 1 && f[0].addr == 0x10 && !f[0].module && !f[0].function && !f[0].file &&
	   f[0].line == 0 && f[0].module_offset == 0 && !f[0].inlined,
	   "unmapped: 0x10 has no module, function, file or line");
	sym_resolve(s, 0x10, &g, &m);
	ok(g == f && m == n, "unmapped: second lookup returns the cached frames");
	sym_resolve(s, site_outer.ra, &f, &n);
	sym_resolve(s, site_outer.ra, &g, &m);
	ok(g == f && m == n && f[0].function == g[0].function,
	   "cache: a resolved address comes back as the same pointer");
	sym_resolve(s, 0, &f, &n);
	ok(n == 1 && !f[0].module, "unmapped: address 0 does not underflow into a module");
	sym_destroy(s);
	{
		/* In a child: were NULL dereferenced, the child dies of the
		 * signal and the point fails, while this process carries on. */
		pid_t pid = fork();
		int st = -1;

		if (pid == 0) {
			sym_destroy(NULL);
			_exit(0);
		}
		ok(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		   WEXITSTATUS(st) == 0,
		   "sym_destroy(NULL) is a no-op (child status %#x)", st);
	}
}

/* ---- 7. a library in a gap --------------------------------------------- */

/* A library loaded after the symbolizer read the maps may land in a hole
 * just above a module libdwfl knows: libdwfl's address lookup gave such a
 * hole to the module below it when that module starts exactly where the
 * previous one ends, so a frame in the new library was attributed to its
 * neighbour instead of to no module (which makes report retry). Built here
 * at fixed offsets inside one reservation, in pages:
 *   0 reserved | 1 gap-a | 2 gap-b | 3..8 reserved | 9 gap-c | 10..11 reserved
 * gap-b starts where gap-a ends; gap-late is mapped at page 5 afterwards. */
#define SYM_GAP_PAGES 12

static bool sym_gap_file(const char *dir, const char *name, size_t size, char *path, size_t len)
{
	int fd;
	bool good;

	snprintf(path, len, "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	good = ftruncate(fd, (off_t)size) == 0;
	close(fd);
	return good;
}

static bool sym_gap_map(const char *path, char *at, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *p;

	if (fd < 0)
		return false;
	p = mmap(at, size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
	close(fd);
	return p == at;
}

static bool sym_module_is(struct symbolizer *s, uint64_t addr, const char *name)
{
	const char *m = sym_module_of(s, addr);

	return name ? sym_streq(sym_base(m), name) : m == NULL;
}

static const char *sym_module_name(struct symbolizer *s, uint64_t addr)
{
	const char *m = s ? sym_module_of(s, addr) : "no symbolizer";

	return m ? m : "none";
}

static void case_gap(void)
{
	static const char *const names[] = { "gap-a", "gap-b", "gap-c", "gap-late" };
	static const size_t pages[] = { 1, 2, 9, 5 };
	char dir[] = "/tmp/test-symbolize.XXXXXX", path[4][PATH_MAX];
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), i;
	const struct sym_frame *f;
	struct symbolizer *before, *after;
	uint64_t a, b, late;
	char *r;
	size_t n;

	if (!mkdtemp(dir))
		bail("mkdtemp: %s", strerror(errno));
	r = mmap(NULL, SYM_GAP_PAGES * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		bail("mmap: %s", strerror(errno));
	for (i = 0; i < 4; i++)
		if (!sym_gap_file(dir, names[i], pg, path[i], sizeof(path[i])))
			bail("%s: %s", path[i], strerror(errno));
	for (i = 0; i < 3; i++)
		if (!sym_gap_map(path[i], r + pages[i] * pg, pg))
			bail("mmap %s: %s", path[i], strerror(errno));
	a = (uint64_t)(uintptr_t)r + 1 * pg;
	b = (uint64_t)(uintptr_t)r + 2 * pg;
	late = (uint64_t)(uintptr_t)r + 5 * pg;

	before = sym_create_pid(getpid());
	if (!before)
		bail("sym_create_pid: %s", strerror(errno));
	ok(sym_module_is(before, a + 0x11, "gap-a") && sym_module_is(before, b + 0x11, "gap-b"),
	   "gap: the two adjacent files are their own modules (%s, %s)",
	   sym_module_name(before, a + 0x11), sym_module_name(before, b + 0x11));
	ok(sym_module_is(before, late + 0x101, NULL),
	   "gap: an address in the hole above gap-b has no module (%s)",
	   sym_module_name(before, late + 0x101));
	ok(sym_module_is(before, b + pg + 1, NULL),
	   "gap: the first byte past gap-b is not gap-b's (%s)",
	   sym_module_name(before, b + pg + 1));

	if (!sym_gap_map(path[3], (char *)(uintptr_t)late, pg))
		bail("mmap %s: %s", path[3], strerror(errno));
	ok(sym_module_is(before, late + 0x101, NULL),
	   "gap: a file mapped into the hole later is no module of the older symbolizer (%s)",
	   sym_module_name(before, late + 0x101));
	sym_resolve(before, late + 0x101, &f, &n);
	ok(n == 1 && !f[0].module && !f[0].function && !f[0].file,
	   "gap: and its frame is unknown, not the neighbour's (%s)",
	   f[0].module ? f[0].module : "no module");
	ok(!sym_at_entry(before, late + 0x101), "gap: not at an entry point either");
	after = sym_create_pid(getpid());
	ok(after && sym_module_is(after, late + 0x101, "gap-late") &&
	   sym_module_is(after, b + 0x11, "gap-b"),
	   "gap: a symbolizer made afterwards finds the late file (%s)",
	   sym_module_name(after, late + 0x101));
	sym_destroy(after);
	sym_destroy(before);

	munmap(r, SYM_GAP_PAGES * pg);
	for (i = 0; i < 4; i++)
		unlink(path[i]);
	rmdir(dir);
}

/* ---- 8. speed ---------------------------------------------------------- */

static void case_speed(const struct sym_log *log)
{
	const struct sym_frame *f;
	struct symbolizer *s;
	uint64_t addrs[1000], step;
	int64_t t0, t1, t2, t3;
	size_t i, n, exe, named = 0;

	if (!sym_log_find(log, site_outer.ra - 1, &exe) || !log->xend[exe])
		return;
	step = (log->xend[exe] - log->xstart[exe]) / 1000;
	if (!step)
		step = 1;
	for (i = 0; i < 1000; i++)
		addrs[i] = log->xstart[exe] + 1 + i * step;

	s = sym_create_pid(getpid());
	if (!s)
		bail("sym_create_pid: %s", strerror(errno));
	t0 = sym_now_ns();
	sym_resolve(s, addrs[0], &f, &n);
	t1 = sym_now_ns();
	for (i = 1; i < 1000; i++) {
		sym_resolve(s, addrs[i], &f, &n);
		named += f[n - 1].function != NULL;
	}
	t2 = sym_now_ns();
	for (i = 0; i < 1000; i++)
		sym_resolve(s, addrs[i], &f, &n);
	t3 = sym_now_ns();
	diag("speed: first address %.1f us (loads ELF+DWARF), next 999 distinct %.2f us each "
	     "(%zu named), 1000 cached %.3f us each",
	     (double)(t1 - t0) / 1e3, (double)(t2 - t1) / 999e3, named,
	     (double)(t3 - t2) / 1000e3);
	sym_destroy(s);
}

int main(int argc, char **argv)
{
	static struct sym_log log;
	char helper[PATH_MAX], self[PATH_MAX];
	ssize_t len;

	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len < 0)
		bail("readlink /proc/self/exe: %s", strerror(errno));
	self[len] = '\0';
	if (argc > 1) {
		snprintf(helper, sizeof(helper), "%s", argv[1]);
	} else {
		/* Default: sym-child next to this binary. */
		char *slash;

		memcpy(helper, self, (size_t)len + 1);
		slash = strrchr(helper, '/');
		snprintf(slash ? slash + 1 : helper,
			 sizeof(helper) - (size_t)(slash ? slash + 1 - helper : 0), "sym-child");
	}

	case_live_self();
	case_live_other("other process", helper, NULL);
	/* Its maps name our own binary, which is the helper only in its
	 * namespace: the file must be taken from /proc/<pid>/root. */
	case_live_other("other mount namespace", helper, self);
	case_inline();
	case_libc();
	case_post_mortem(&log);
	case_locate(&log);
	case_unmapped();
	case_gap();
	case_speed(&log);
	sym_log_free(&log);
	return tap_done();
}
