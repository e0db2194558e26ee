#include "table-reader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Slot reads retry this often before the slot is reported as unknown. */
#define SEQ_RETRIES 10000

static __thread sigjmp_buf *guard_jb;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (guard_jb)
		siglongjmp(*guard_jb, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void guard_install(void)
{
	static bool installed;
	struct sigaction sa = { 0 };

	if (installed)
		return;
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	installed = true;
}

__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t len, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return code;
}

const char *sa_table_dir(void)
{
	const char *d = getenv("SOCKAUDIT_DIR");

	return d && *d ? d : "/dev/shm";
}

int sa_reader_open(struct sa_reader *r, const char *path, uid_t expect_uid,
		   char *err, size_t errlen)
{
	int fd;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	/* O_NONBLOCK: a FIFO planted at the name must not hang us. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ELOOP)
			return fail(err, errlen, -EPERM, "%s: is a symbolic link, refusing it", path);
		return fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
	}
	return sa_reader_open_fd(r, fd, path, expect_uid, (uid_t)-1, err, errlen);
}

int sa_reader_open_fd(struct sa_reader *r, int fd, const char *path, uid_t expect_uid,
		      uid_t hdr_uid, char *err, size_t errlen)
{
	struct stat st;
	const char *why;
	int rc;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	snprintf(r->path, sizeof(r->path), "%s", path);
	if (fstat(fd, &st) < 0) {
		rc = fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = fail(err, errlen, -EPERM, "%s: not a regular file, refusing it", path);
		goto out_close;
	}
	if (expect_uid != (uid_t)-1 && st.st_uid != expect_uid) {
		rc = fail(err, errlen, -EPERM, "%s: owned by uid %u, not by the process's uid %u: refusing it",
			  path, (unsigned)st.st_uid, (unsigned)expect_uid);
		goto out_close;
	}
	if ((st.st_mode & 07777) != 0600) {
		rc = fail(err, errlen, -EPERM, "%s: mode %04o, tables are 0600: refusing it",
			  path, (unsigned)(st.st_mode & 07777));
		goto out_close;
	}
	n = pread(fd, &r->hdr, sizeof(r->hdr), 0);
	if (n != (ssize_t)sizeof(r->hdr)) {
		rc = fail(err, errlen, -EINVAL, "%s: truncated table (%lld bytes)", path,
			  (long long)st.st_size);
		goto out_close;
	}
	why = sa_header_check(&r->hdr, (uint64_t)st.st_size);
	if (why) {
		rc = fail(err, errlen, -EINVAL, "%s: invalid table: %s", path, why);
		goto out_close;
	}
	if (hdr_uid == (uid_t)-1 && st.st_uid != r->hdr.uid) {
		rc = fail(err, errlen, -EPERM, "%s: header names uid %u but the file is owned by %u",
			  path, r->hdr.uid, (unsigned)st.st_uid);
		goto out_close;
	}
	if (hdr_uid != (uid_t)-1 && r->hdr.uid != hdr_uid) {
		rc = fail(err, errlen, -EPERM, "%s: header names uid %u, but the process is uid %u "
			  "in its user namespace", path, r->hdr.uid, (unsigned)hdr_uid);
		goto out_close;
	}
	r->map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		rc = fail(err, errlen, -errno, "%s: mmap: %s", path, strerror(errno));
		goto out_close;
	}
	r->map_len = (size_t)st.st_size;
	r->fd = fd;
	guard_install();
	return 0;

out_close:
	close(fd);
	return rc;
}

static int push_record(struct sa_snapshot *s, size_t *cap, const struct sa_slot *slot,
		       enum sa_rec_status st)
{
	if (s->nrecs == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct sa_record *v = realloc(s->recs, ncap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->recs = v;
		*cap = ncap;
	}
	s->recs[s->nrecs].slot = *slot;
	s->recs[s->nrecs].status = st;
	s->nrecs++;
	return 0;
}

int sa_reader_snapshot(struct sa_reader *r, struct sa_snapshot *s, char *err, size_t errlen)
{
	sigjmp_buf jb;
	const struct sa_slot *slots = (const void *)(r->map + r->hdr.slots_off);
	uint32_t nslots = r->hdr.nslots;
	uint64_t pos, end = r->hdr.slots_off + (uint64_t)nslots * sizeof(struct sa_slot);
	volatile uint64_t done = 0;     /* slots below it are read (volatile: sigsetjmp) */
	size_t cap = 0;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	if (sigsetjmp(jb, 1)) {
		guard_jb = NULL;
		sa_snapshot_finish(s);   /* a failed snapshot owns nothing */
		s->truncated = true;
		return fail(err, errlen, -EFAULT, "%s: table truncated while being read", r->path);
	}
	guard_jb = &jb;
	memcpy(&s->hdr, r->map, sizeof(s->hdr));
	/* Fields that bound our reads must stay those we validated. */
	s->hdr.nslots = r->hdr.nslots;
	s->hdr.nstacks = r->hdr.nstacks;
	s->hdr.nmodules = r->hdr.nmodules;
	s->hdr.run_id[SA_RUN_ID_MAX - 1] = '\0';
	s->hdr.cmdline[SA_CMDLINE_MAX - 1] = '\0';

	/* Unreserved slot pages are holes: SEEK_DATA skips them, so a table
	 * sized for a million fds costs what its used pages cost. */
	pos = r->hdr.slots_off;
	while (pos < end) {
		off_t d = lseek(r->fd, (off_t)pos, SEEK_DATA), h;
		if (d < 0 || (uint64_t)d >= end)
			break;
		h = lseek(r->fd, d, SEEK_HOLE);
		if (h < 0 || (uint64_t)h > end)
			h = (off_t)end;
		uint64_t first = ((uint64_t)d - r->hdr.slots_off) / sizeof(struct sa_slot);
		uint64_t last = ((uint64_t)h - r->hdr.slots_off + sizeof(struct sa_slot) - 1) /
				sizeof(struct sa_slot);
		if (last > nslots)
			last = nslots;
		/* A slot straddling the end of the previous data range was read
		 * with it; reading it through the mapping may have made the next
		 * page data (tmpfs allocates on fault), so the range may start
		 * inside it: never read a slot twice. */
		if (first < done)
			first = done;
		for (uint64_t i = first; i < last; i++) {
			struct sa_slot copy;
			const _Atomic uint32_t *seqp = (const _Atomic uint32_t *)&slots[i].seq;

			if (atomic_load_explicit(seqp, memory_order_relaxed) == 0)
				continue;   /* never written */
			if (!sa_slot_read(&slots[i], &copy, SEQ_RETRIES)) {
				memset(&copy, 0, sizeof(copy));
				copy.fd = (int32_t)i;
				s->nunknown++;
				if ((rc = push_record(s, &cap, &copy, SA_REC_UNKNOWN)))
					goto out;
				continue;
			}
			if (!copy.used)
				continue;
			/* A record at slot i describes fd i; anything else is forged. */
			copy.fd = (int32_t)i;
			if (copy.origin >= SA_ORIGIN_MAX)
				copy.origin = SA_ORIGIN_NONE;
			if ((rc = push_record(s, &cap, &copy, SA_REC_OK)))
				goto out;
		}
		if (last > done)
			done = last;
		pos = (uint64_t)h;
	}
out:
	guard_jb = NULL;
	if (rc) {
		sa_snapshot_finish(s);
		return fail(err, errlen, rc, "%s: out of memory", r->path);
	}
	return 0;
}

uint32_t sa_reader_stack(struct sa_reader *r, uint32_t id, uint64_t frames[SA_MAX_FRAMES])
{
	sigjmp_buf jb;
	const struct sa_stack *st;
	uint32_t depth = 0, state;

	if (id == 0 || id > r->hdr.nstacks)
		return 0;
	st = (const void *)(r->map + r->hdr.stacks_off + (uint64_t)(id - 1) * sizeof(*st));
	if (sigsetjmp(jb, 1)) {
		guard_jb = NULL;
		return 0;
	}
	guard_jb = &jb;
	state = atomic_load_explicit((const _Atomic uint32_t *)&st->state, memory_order_acquire);
	if (state == SA_ENTRY_READY) {
		depth = st->depth;
		if (depth > SA_MAX_FRAMES || depth > r->hdr.depth)
			depth = 0;
		memcpy(frames, (const void *)st->frames, depth * sizeof(uint64_t));
	}
	guard_jb = NULL;
	return depth;
}

bool sa_reader_lframe(struct sa_reader *r, uint64_t entry, struct sa_lframe *out)
{
	sigjmp_buf jb;
	const struct sa_lframe *e;
	uint64_t idx = entry & ~SA_FRAME_LANG;
	volatile bool ok = false;

	if (!sa_frame_is_lang(entry) || idx >= r->hdr.nlframes)
		return false;
	e = (const void *)(r->map + r->hdr.lframes_off + idx * sizeof(*e));
	if (sigsetjmp(jb, 1)) {
		guard_jb = NULL;
		return false;
	}
	guard_jb = &jb;
	if (atomic_load_explicit((const _Atomic uint32_t *)&e->state, memory_order_acquire) ==
	    SA_ENTRY_READY) {
		memcpy(out, (const void *)e, sizeof(*out));
		ok = true;
	}
	guard_jb = NULL;
	return ok && out->file_len <= SA_LFRAME_FILE_MAX && out->func_len <= SA_LFRAME_FUNC_MAX &&
	       sa_lang_name(out->lang) != NULL;
}

size_t sa_reader_rescued(struct sa_reader *r, struct sa_rescued *out, size_t max,
			 uint64_t *total)
{
	const struct sa_header *h = (const void *)r->map;
	sigjmp_buf jb;
	volatile size_t n = 0;
	uint64_t count;

	*total = 0;
	if (sigsetjmp(jb, 1)) {
		guard_jb = NULL;
		return n;
	}
	guard_jb = &jb;
	count = atomic_load_explicit((const _Atomic uint64_t *)&h->counters.rescued,
				     memory_order_acquire);
	*total = count;
	for (uint64_t k = 0; k < SA_RESCUED_MAX && k < count && n < max; k++) {
		const struct sa_rescued *e = &h->rescued[(count - 1 - k) % SA_RESCUED_MAX];
		const _Atomic uint32_t *seqp = (const _Atomic uint32_t *)&e->slot.seq;

		for (int tries = 0; tries < 64; tries++) {
			uint32_t s1 = atomic_load_explicit(seqp, memory_order_acquire);

			if (s1 == 0 || (s1 & 1))
				continue;
			memcpy(&out[n], (const void *)e, sizeof(out[n]));
			atomic_thread_fence(memory_order_acquire);
			if (atomic_load_explicit(seqp, memory_order_relaxed) == s1) {
				n++;
				break;
			}
		}
	}
	guard_jb = NULL;
	return n;
}

/* pread all of [off, off + len), or less at the end of the file (zeros). */
static void pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t k = pread(fd, (uint8_t *)buf + got, len - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	/* A file cut short reads as zeros past its end. */
	memset((uint8_t *)buf + got, 0, len - got);
}

/* abi 3: a flat array of sa_count_v3, one per stack. */
static void counts_v3(struct sa_reader *r, struct sa_count *out, size_t want)
{
	struct sa_count_v3 buf[256];

	for (size_t i = 0; i < want; i += 256) {
		size_t k = want - i < 256 ? want - i : 256;

		pread_full(r->fd, buf, k * sizeof(buf[0]),
			   r->hdr.counts_off + (uint64_t)i * sizeof(buf[0]));
		for (size_t j = 0; j < k; j++)
			out[i + j] = (struct sa_count){ buf[j].opened, buf[j].closed, 0, 0 };
	}
}

/* abi >= 4: blocks of every shard's cells; only blocks holding data are
 * read (SEEK_DATA skips the holes of a sparse table, most of the region).
 * Returns how many entries are filled: want, or with trim only up to the
 * last block holding data (the rest are zeros, not written). */
static size_t counts_sharded(struct sa_reader *r, struct sa_count *out, size_t want, bool trim)
{
	struct sa_count blk[SA_COUNT_SHARDS][SA_COUNT_BLOCK];   /* one page */
	uint64_t base = r->hdr.counts_off;
	size_t nblocks = (want + SA_COUNT_BLOCK - 1) / SA_COUNT_BLOCK, filled = 0;

	for (size_t b = 0; b < nblocks; b++) {
		off_t d = lseek(r->fd, (off_t)(base + (uint64_t)b * SA_COUNT_BLOCK_SIZE), SEEK_DATA);
		size_t start;

		if (d < 0 && errno == ENXIO)
			break;          /* no data from here to the end of the file */
		if (d >= 0) {
			/* Next data: the block that holds it (a block may start
			 * in a hole and end in data: then it is read). */
			uint64_t nb = ((uint64_t)d - base) / SA_COUNT_BLOCK_SIZE;

			if (nb >= nblocks)
				break;
			if (nb > b)
				b = nb;
		}
		start = b * SA_COUNT_BLOCK;
		if (start > filled)
			memset(out + filled, 0, (start - filled) * sizeof(*out));
		pread_full(r->fd, blk, sizeof(blk), base + (uint64_t)b * SA_COUNT_BLOCK_SIZE);
		for (size_t j = 0; j < SA_COUNT_BLOCK && start + j < want; j++) {
			struct sa_count *o = &out[start + j];

			memset(o, 0, sizeof(*o));
			for (unsigned s = 0; s < SA_COUNT_SHARDS; s++) {
				o->opened += blk[s][j].opened;
				o->closed += blk[s][j].closed;
				o->collected += blk[s][j].collected;
			}
		}
		filled = start + SA_COUNT_BLOCK < want ? start + SA_COUNT_BLOCK : want;
	}
	if (trim)
		return filled;
	if (want > filled)
		memset(out + filled, 0, (want - filled) * sizeof(*out));
	return want;
}

bool sa_reader_has_counts(const struct sa_reader *r)
{
	return r->hdr.abi_version >= SA_ABI_COUNTS && r->fd >= 0 && r->hdr.ncounts > 0;
}

static size_t counts_read(struct sa_reader *r, struct sa_count *out, size_t n, bool trim)
{
	size_t want;

	if (r->hdr.abi_version < SA_ABI_COUNTS || r->fd < 0)
		return 0;
	want = n < r->hdr.ncounts ? n : r->hdr.ncounts;
	if (r->hdr.abi_version < SA_ABI_SHARDED) {
		counts_v3(r, out, want);
		return want;
	}
	return counts_sharded(r, out, want, trim);
}

size_t sa_reader_counts(struct sa_reader *r, struct sa_count *out, size_t n)
{
	return counts_read(r, out, n, false);
}

size_t sa_reader_counts_used(struct sa_reader *r, struct sa_count *out, size_t n)
{
	return counts_read(r, out, n, true);
}

size_t sa_reader_modules(struct sa_reader *r, struct sa_module *out, size_t max)
{
	sigjmp_buf jb;
	const struct sa_module *m = (const void *)(r->map + r->hdr.modules_off);
	volatile size_t n = 0;
	uint32_t used;

	if (sigsetjmp(jb, 1)) {
		guard_jb = NULL;
		return n;
	}
	guard_jb = &jb;
	/* Entries are claimed in order but written in any order, and one
	 * whose page could not be backed stays empty for good: read every
	 * claimed entry and skip what is not ready, never stop at a gap. */
	used = atomic_load_explicit((const _Atomic uint32_t *)(r->map +
							      offsetof(struct sa_header, modules_used)),
				    memory_order_acquire);
	if (used > r->hdr.nmodules)
		used = r->hdr.nmodules;
	for (uint32_t i = 0; i < used && n < max; i++) {
		uint32_t state = atomic_load_explicit((const _Atomic uint32_t *)&m[i].state,
						      memory_order_acquire);
		if (state != SA_ENTRY_READY)
			continue;
		out[n] = m[i];
		out[n].path[SA_PATH_MAX - 1] = '\0';
		if (out[n].build_id_len > SA_BUILD_ID_MAX)
			out[n].build_id_len = 0;
		if (out[n].end < out[n].start)
			continue;
		n++;
	}
	guard_jb = NULL;
	return n;
}

void sa_snapshot_finish(struct sa_snapshot *s)
{
	if (!s)
		return;
	free(s->recs);
	s->recs = NULL;
	s->nrecs = 0;
}

void sa_reader_close(struct sa_reader *r)
{
	if (!r)
		return;
	if (r->map)
		munmap((void *)r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	r->map = NULL;
	r->fd = -1;
}

int sa_table_find(const char *dir, uint32_t uid, int32_t pid, uint64_t starttime,
		  char *path, size_t len)
{
	DIR *d;
	struct dirent *e;
	struct stat lst;
	uint64_t best = 0;
	bool found = false;
	char name[128];

	if (starttime) {
		if (sa_table_name(name, sizeof(name), uid, pid, starttime) < 0)
			return -EINVAL;
		snprintf(path, len, "%s/%s", dir, name);
		/* lstat: something planted at the name (a dangling symlink
		 * included) is for the opener to refuse, not "no table". */
		return lstat(path, &lst) == 0 || errno != ENOENT ? 0 : -ENOENT;
	}
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		uint32_t u;
		int32_t p;
		uint64_t st;

		if (sa_table_name_parse(e->d_name, &u, &p, &st) < 0 || u != uid || p != pid)
			continue;
		if (!found || st > best) {
			best = st;
			found = true;
		}
	}
	closedir(d);
	if (!found)
		return -ENOENT;
	sa_table_name(name, sizeof(name), uid, pid, best);
	snprintf(path, len, "%s/%s", dir, name);
	return 0;
}
