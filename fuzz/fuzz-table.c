/* fuzz-table: the table reader (common/table-reader.c) on hostile files, along
 * the path `sockaudit report` and `dump` take: sa_reader_open with the owner
 * expected, sa_reader_snapshot, sa_reader_stack on every record's open and
 * connect stacks, sa_reader_modules, sa_reader_counts, then sa_snapshot_finish/sa_reader_close.
 *
 * The reader wants a real file (it opens a path with O_NOFOLLOW, checks owner
 * and mode, mmaps it and walks the slots with SEEK_DATA/SEEK_HOLE), so every
 * input is written to one private 0600 file, rewritten in place each time.
 *
 * Input, by the low two bits of the first byte:
 *   0  raw: the rest is the file. With bit 2 set the header's uid becomes
 *      ours, so stored real tables stay readable whoever runs the fuzzer.
 *   1  name: the rest is a file name for sa_table_name_parse, which must
 *      round-trip through sa_table_name (and back).
 *   2  built: a parameter block describes a valid compact layout (counts,
 *      region order, spacing), a few byte patches go over the header, and the
 *      rest of the input is laid over the regions from offset SA_HEADER_SIZE:
 *      most inputs get past sa_header_check into the slot/stack/module loops.
 *   3  built and sparse: as 2, but all-zero pages are left as holes.
 * Modules are read into room for SA_NMODULES, as the CLI does, except that a
 * built input may offer room for 1 to 3 only, to reach the cap cheaply.
 * A built input may also change the file after sa_reader_open, as the writer
 * or an attacker may: rewrite header bytes, truncate the file. Reads must then
 * stay on the validated layout, or be caught by the reader's SIGBUS guard.
 *
 * Every answer of the reader is checked against the bytes of the file.
 */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "table-reader.h"
#include "table.h"

/* Under ASan (gcc or clang), clean up on a sanitizer report too. */
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_SANITIZER_DEATH_CALLBACK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_SANITIZER_DEATH_CALLBACK 1
#endif
#endif
#ifdef HAVE_SANITIZER_DEATH_CALLBACK
#include <sanitizer/common_interface_defs.h>
#endif

enum {
	MODE_RAW = 0,
	MODE_NAME = 1,
	MODE_BUILT = 2,
	MODE_BUILT_SPARSE = 3,
};
#define MODE_RAW_OWN_UID 0x04u

#define PAGE 4096u

/* Built inputs: the parameter block after the mode byte, 6 bytes:
 *   p[0]  nmodules
 *   p[1]  bits 0-2 log2(nstacks), bits 5-7 region order (mod 6)
 *   p[2]  nslots - 1, low 8 bits
 *   p[3]  bits 0-1 nslots - 1, high bits; bits 4-5 spacing; bit 6 header
 *         patches after open; bit 7 truncation after open
 *   p[4]  depth - 1 (low 5 bits)
 *   p[5]  bits 0-1 header patches before open; bits 2-3 patches after open
 *         - 1; bits 4-5 room for modules (0: SA_NMODULES)
 * then the patches before open, those after open, the 2-byte truncation
 * size (in 64-byte units, modulo the file size), and the body. A patch is a
 * 2-byte offset into the header page, a length byte (1 + n % 8), the bytes. */
struct built_params {
	uint32_t nmodules;      /* 0..255 */
	uint32_t nstacks;       /* 1..128, a power of two */
	uint32_t nslots;        /* 1..1024 */
	uint32_t depth;         /* 1..SA_MAX_FRAMES */
	unsigned order;         /* permutation of the three regions */
	unsigned spacing;       /* how regions are placed, see region_start() */
	unsigned npatch;        /* header patches before open */
	unsigned npost;         /* header patches after open */
	bool truncate;          /* truncate the file after open */
	size_t mod_room;        /* entries offered to sa_reader_modules */
};
#define BUILT_PARAMS_LEN 6u

static char tmp_dir[256], tmp_path[300];
static int tmp_fd = -1;
static bool verbose;    /* SOCKAUDIT_FUZZ_VERBOSE: one line per input on stderr */
static struct sa_module mods_out[SA_NMODULES];

static void tmp_cleanup(void)
{
	if (tmp_fd >= 0)
		close(tmp_fd);
	tmp_fd = -1;
	unlink(tmp_path);
	rmdir(tmp_dir);
}

/* Crashes skip atexit: a failed check or a sanitizer report cleans up
 * first (a libFuzzer timeout or a deadly signal still leaves the directory). */
void fuzz_cleanup(void)
{
	if (tmp_dir[0])
		tmp_cleanup();
}

/* One private directory and file per fuzzing process: tmpfs when there is
 * one (what the shim uses, and fast), else TMPDIR. */
static void tmp_setup(void)
{
	const char *base = getenv("SOCKAUDIT_FUZZ_TMPDIR");

	if (tmp_fd >= 0)
		return;
	verbose = getenv("SOCKAUDIT_FUZZ_VERBOSE") != NULL;
	if (!base || !*base)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/sockaudit-fuzz.XXXXXX", base);
	if (!mkdtemp(tmp_dir)) {
		fprintf(stderr, "fuzz-table: mkdtemp %s: %s\n", tmp_dir, strerror(errno));
		abort();
	}
	snprintf(tmp_path, sizeof(tmp_path), "%s/table", tmp_dir);
	tmp_fd = open(tmp_path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (tmp_fd < 0 || fchmod(tmp_fd, 0600) < 0) {
		fprintf(stderr, "fuzz-table: %s: %s\n", tmp_path, strerror(errno));
		abort();
	}
	atexit(tmp_cleanup);
#ifdef HAVE_SANITIZER_DEATH_CALLBACK
	__sanitizer_set_death_callback(fuzz_cleanup);
#endif
}

static void pwrite_all(const uint8_t *p, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(tmp_fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		FUZZ_CHECK(n > 0, "pwrite %s: %s", tmp_path, strerror(errno));
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
}

/* memcmp, not a loop: the fuzzer's comparison tracing would cost a call
 * per byte. */
static bool page_is_zero(const uint8_t *img, size_t len, size_t off)
{
	static const uint8_t zero[PAGE];

	return memcmp(img + off, zero, len - off < PAGE ? len - off : PAGE) == 0;
}

/* Replace the file's contents with img; sparse leaves zero pages as holes. */
static void write_file(const uint8_t *img, size_t len, bool sparse)
{
	size_t off = 0, run;

	FUZZ_CHECK(ftruncate(tmp_fd, 0) == 0, "ftruncate: %s", strerror(errno));
	if (!sparse) {
		pwrite_all(img, len, 0);
		return;
	}
	while (off < len) {
		if (page_is_zero(img, len, off)) {
			off += PAGE;
			continue;
		}
		for (run = off + PAGE; run < len && !page_is_zero(img, len, run); run += PAGE)
			;
		if (run > len)
			run = len;
		pwrite_all(img + off, run - off, off);
		off = run;
	}
	FUZZ_CHECK(ftruncate(tmp_fd, (off_t)len) == 0, "ftruncate: %s", strerror(errno));
}

/* The lowest free fd: the same before and after a reader's life, or it leaked one. */
static int lowest_free_fd(void)
{
	int fd = fcntl(tmp_fd, F_DUPFD_CLOEXEC, 0);

	FUZZ_CHECK(fd >= 0, "F_DUPFD: %s", strerror(errno));
	close(fd);
	return fd;
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* ---- mode 1: table names ------------------------------------------------ */

static void fuzz_name(const uint8_t *data, size_t size)
{
	char name[128], back[128];
	size_t n = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
	uint32_t uid;
	int32_t pid;
	uint64_t st;

	memcpy(name, data, n);
	name[n] = '\0';
	if (sa_table_name_parse(name, &uid, &pid, &st) == 0) {
		FUZZ_CHECK(pid > 0, "parsed pid %d", pid);
		FUZZ_CHECK(sa_table_name(back, sizeof(back), uid, pid, st) == 0, "%s", name);
		FUZZ_CHECK(strcmp(back, name) == 0, "'%s' parses, prints back as '%s'", name, back);
	}

	/* The other way: any (uid, pid, starttime) in any buffer size. */
	if (size >= 17) {
		unsigned len = data[16] % 64;
		char *buf = malloc(len ? len : 1);
		uint32_t u2;
		int32_t p2;
		uint64_t s2;
		int rc;

		uid = get_le32(data);
		pid = (int32_t)get_le32(data + 4);
		st = get_le64(data + 8);
		FUZZ_CHECK(buf, "out of memory");
		rc = sa_table_name(buf, len, uid, pid, st);
		if (rc == 0) {
			FUZZ_CHECK(pid > 0 && strnlen(buf, len) < len, "pid %d len %u", pid, len);
			FUZZ_CHECK(sa_table_name_parse(buf, &u2, &p2, &s2) == 0 &&
				   u2 == uid && p2 == pid && s2 == st, "'%s' does not parse back", buf);
		}
		rc = sa_table_name(back, sizeof(back), uid, pid, st);
		FUZZ_CHECK((rc == 0) == (pid > 0), "pid %d: rc %d with room to spare", pid, rc);
		free(buf);
	}
}

/* ---- the oracle: what a reader must answer for the file's bytes ---------- */

struct file_view {
	const uint8_t *img;     /* the file's bytes as the reader sees them */
	size_t len;
	bool exact;             /* nothing happened that makes answers partial */
};

static void check_header_copy(const struct sa_reader *r, const struct sa_snapshot *s,
			      const struct file_view *v)
{
	struct sa_header want;

	memcpy(&want, v->img, sizeof(want));
	want.nslots = r->hdr.nslots;
	want.nstacks = r->hdr.nstacks;
	want.nmodules = r->hdr.nmodules;
	want.run_id[SA_RUN_ID_MAX - 1] = '\0';
	want.cmdline[SA_CMDLINE_MAX - 1] = '\0';
	FUZZ_CHECK(memcmp(&want, &s->hdr, sizeof(want)) == 0, "snapshot header differs from the file");
}

static void check_records(const struct sa_reader *r, const struct sa_snapshot *s,
			  const struct file_view *v)
{
	size_t k = 0, nunknown = 0;

	FUZZ_CHECK(s->nrecs <= r->hdr.nslots, "%zu records, %u slots", s->nrecs, r->hdr.nslots);
	for (size_t i = 0; i < s->nrecs; i++) {
		const struct sa_record *rec = &s->recs[i];

		FUZZ_CHECK(rec->status == SA_REC_OK || rec->status == SA_REC_UNKNOWN,
			   "status %d", (int)rec->status);
		FUZZ_CHECK(rec->slot.fd >= 0 && (uint32_t)rec->slot.fd < r->hdr.nslots,
			   "record fd %d", rec->slot.fd);
		FUZZ_CHECK(i == 0 || rec->slot.fd > s->recs[i - 1].slot.fd, "fds out of order");
		FUZZ_CHECK(rec->slot.origin < SA_ORIGIN_MAX, "origin %u", rec->slot.origin);
		nunknown += rec->status == SA_REC_UNKNOWN;
	}
	FUZZ_CHECK(nunknown == s->nunknown, "%zu unknown records, nunknown %zu", nunknown,
		   s->nunknown);
	if (!v->exact)
		return;

	/* Slot i of the file: skipped when never written (seq 0) or free,
	 * unknown when left mid-update (odd seq), else copied as fd i. */
	for (uint32_t i = 0; i < r->hdr.nslots; i++) {
		struct sa_slot want;

		memcpy(&want, v->img + r->hdr.slots_off + (uint64_t)i * sizeof(want), sizeof(want));
		if (want.seq == 0 || (!(want.seq & 1) && !want.used))
			continue;
		if (want.seq & 1) {
			memset(&want, 0, sizeof(want));
			want.fd = (int32_t)i;
		} else {
			want.fd = (int32_t)i;
			if (want.origin >= SA_ORIGIN_MAX)
				want.origin = SA_ORIGIN_NONE;
		}
		FUZZ_CHECK(k < s->nrecs, "slot %u missing from the snapshot (%zu records)", i,
			   s->nrecs);
		FUZZ_CHECK(memcmp(&want, &s->recs[k].slot, sizeof(want)) == 0,
			   "slot %u differs from the file", i);
		FUZZ_CHECK((s->recs[k].status == SA_REC_UNKNOWN) == !!(v->img[r->hdr.slots_off +
			   (uint64_t)i * sizeof(want)] & 1), "slot %u status", i);
		k++;
	}
	FUZZ_CHECK(k == s->nrecs, "snapshot has %zu records, the file %zu", s->nrecs, k);
}

static void check_stack(struct sa_reader *r, uint32_t id, const struct file_view *v)
{
	uint64_t frames[SA_MAX_FRAMES];
	uint32_t depth = sa_reader_stack(r, id, frames);
	uint32_t want = 0;
	struct sa_stack st;

	FUZZ_CHECK(depth <= SA_MAX_FRAMES && depth <= r->hdr.depth, "stack %u depth %u", id, depth);
	if (id == 0 || id > r->hdr.nstacks) {
		FUZZ_CHECK(depth == 0, "stack id %u out of range read with depth %u", id, depth);
		return;
	}
	if (!v->exact)
		return;
	memcpy(&st, v->img + r->hdr.stacks_off + (uint64_t)(id - 1) * sizeof(st), sizeof(st));
	if (st.state == SA_ENTRY_READY && st.depth <= SA_MAX_FRAMES && st.depth <= r->hdr.depth)
		want = st.depth;
	FUZZ_CHECK(depth == want, "stack %u: depth %u, the file says %u", id, depth, want);
	FUZZ_CHECK(memcmp(frames, st.frames, depth * sizeof(frames[0])) == 0,
		   "stack %u frames differ", id);
}

/* The counts read as the file holds them, within the validated region. */
static void check_counts(struct sa_reader *r, const struct file_view *v)
{
	static struct sa_count out[1024];
	size_t room = r->hdr.nstacks <= 1024 ? r->hdr.nstacks : 1024;
	size_t n = sa_reader_counts(r, out, room);

	if (r->hdr.abi_version < SA_ABI_COUNTS) {
		FUZZ_CHECK(n == 0, "a table without counts gave %zu", n);
		return;
	}
	FUZZ_CHECK(n == room && n <= r->hdr.ncounts, "%zu counts for room %zu", n, room);
	if (!v->exact)
		return;
	for (size_t i = 0; i < n; i++) {
		struct sa_count want = { 0 };

		if (r->hdr.abi_version < SA_ABI_SHARDED) {
			struct sa_count_v3 e;

			memcpy(&e, v->img + r->hdr.counts_off + i * sizeof(e), sizeof(e));
			want.opened = e.opened;
			want.closed = e.closed;
		} else {
			/* The sum of the stack's cells in every shard. */
			for (uint32_t s = 0; s < SA_COUNT_SHARDS; s++) {
				struct sa_count e;

				memcpy(&e, v->img + r->hdr.counts_off +
					   sa_count_cell_off((uint32_t)i + 1, s), sizeof(e));
				want.opened += e.opened;
				want.closed += e.closed;
				want.collected += e.collected;
			}
		}
		FUZZ_CHECK(want.opened == out[i].opened && want.closed == out[i].closed &&
			   want.collected == out[i].collected, "count %zu differs", i);
	}
}

static void check_modules(struct sa_reader *r, const struct file_view *v, size_t room)
{
	size_t n = sa_reader_modules(r, mods_out, room), k = 0;

	FUZZ_CHECK(n <= room, "%zu modules in room for %zu", n, room);
	if (verbose)
		fprintf(stderr, "fuzz-table: %zu modules\n", n);
	for (size_t i = 0; i < n; i++) {
		const struct sa_module *m = &mods_out[i];

		FUZZ_CHECK(m->state == SA_ENTRY_READY, "module %zu state %u", i, m->state);
		FUZZ_CHECK(memchr(m->path, '\0', sizeof(m->path)), "module %zu path unterminated", i);
		FUZZ_CHECK(m->build_id_len <= SA_BUILD_ID_MAX, "module %zu build-id length %u", i,
			   m->build_id_len);
		FUZZ_CHECK(m->end >= m->start, "module %zu ends before it starts", i);
	}
	if (!v->exact)
		return;

	/* The log in file order: every claimed entry (modules_used as the file
	 * has it now, for the writer appends after open; at most the validated
	 * nmodules), keep the published ones whose range is sane, up to the
	 * caller's room; an empty entry is a gap, not the end. */
	uint32_t used;

	memcpy(&used, v->img + offsetof(struct sa_header, modules_used), sizeof(used));
	if (used > r->hdr.nmodules)
		used = r->hdr.nmodules;

	for (uint32_t i = 0; i < used && k < room; i++) {
		struct sa_module want;

		memcpy(&want, v->img + r->hdr.modules_off + (uint64_t)i * sizeof(want), sizeof(want));
		if (want.state != SA_ENTRY_READY || want.end < want.start)
			continue;
		want.path[SA_PATH_MAX - 1] = '\0';
		if (want.build_id_len > SA_BUILD_ID_MAX)
			want.build_id_len = 0;
		FUZZ_CHECK(k < n, "module entry %u missing (%zu read)", i, n);
		FUZZ_CHECK(memcmp(&want, &mods_out[k], sizeof(want)) == 0,
			   "module entry %u differs from the file", i);
		k++;
	}
	FUZZ_CHECK(k == n, "%zu modules read, the file has %zu", n, k);
}

/* What report and dump do with an opened table; they offer room for
 * SA_NMODULES modules. */
static void read_table(struct sa_reader *r, const struct file_view *v, size_t mod_room)
{
	struct sa_snapshot s;
	char err[512] = "";
	int rc;

	rc = sa_reader_snapshot(r, &s, err, sizeof(err));
	if (rc < 0) {
		/* Only a file changed under the reader may fail a snapshot. */
		FUZZ_CHECK(!v->exact, "snapshot failed on a steady file: %s", err);
		FUZZ_CHECK(rc == -EFAULT && s.truncated && err[0], "snapshot rc %d: %s", rc, err);
	} else {
		FUZZ_CHECK(rc == 0 && !s.truncated, "snapshot rc %d", rc);
		FUZZ_CHECK(s.hdr.nslots == r->hdr.nslots && s.hdr.nstacks == r->hdr.nstacks &&
			   s.hdr.nmodules == r->hdr.nmodules, "snapshot bounds are not the validated ones");
		FUZZ_CHECK(memchr(s.hdr.run_id, '\0', sizeof(s.hdr.run_id)) &&
			   memchr(s.hdr.cmdline, '\0', sizeof(s.hdr.cmdline)),
			   "snapshot header strings unterminated");
		if (v->exact)
			check_header_copy(r, &s, v);
		check_records(r, &s, v);
		for (size_t i = 0; i < s.nrecs; i++) {
			if (s.recs[i].status != SA_REC_OK)
				continue;
			/* dump prints it, report labels with it: never "unknown". */
			FUZZ_CHECK(strcmp(sa_origin_name(s.recs[i].slot.origin), "unknown") != 0,
				   "origin %u has no name", s.recs[i].slot.origin);
			check_stack(r, s.recs[i].slot.open_stack, v);
			check_stack(r, s.recs[i].slot.connect_stack, v);
		}
	}
	/* Ids a forged slot may hold, and with few stacks every one of them. */
	check_stack(r, 0, v);
	check_stack(r, r->hdr.nstacks, v);
	check_stack(r, r->hdr.nstacks + 1, v);
	check_stack(r, UINT32_MAX, v);
	if (r->hdr.nstacks <= 128)
		for (uint32_t id = 1; id <= r->hdr.nstacks; id++)
			check_stack(r, id, v);
	check_modules(r, v, mod_room);
	check_counts(r, v);
	if (verbose)
		fprintf(stderr, "fuzz-table: snapshot %s: %zu records (%zu unknown)%s\n",
			rc ? err : "ok", s.nrecs, s.nunknown, v->exact ? "" : ", file changed");
	sa_snapshot_finish(&s);
	FUZZ_CHECK(s.recs == NULL && s.nrecs == 0, "sa_snapshot_finish left records");
}

/* Open the file as the CLI does; returns the reader's answer. */
static int open_table(struct sa_reader *r, char *err, size_t errlen)
{
	int rc = sa_reader_open(r, tmp_path, geteuid(), err, errlen);

	if (verbose)
		fprintf(stderr, "fuzz-table: open: %s\n", rc ? err : "ok");
	if (rc < 0) {
		FUZZ_CHECK(err[0] && memchr(err, '\0', errlen), "open failed without a reason");
		FUZZ_CHECK(r->map == NULL && r->fd < 0, "failed open kept a mapping or an fd");
	} else {
		FUZZ_CHECK(rc == 0 && r->map && r->fd >= 0, "open rc %d", rc);
		FUZZ_CHECK(sa_header_check(&r->hdr, r->map_len) == NULL, "accepted an invalid header");
		FUZZ_CHECK(r->hdr.uid == geteuid(), "accepted a table of uid %u", r->hdr.uid);
	}
	return rc;
}

/* ---- mode 0: a raw file -------------------------------------------------- */

static void fuzz_raw(const uint8_t *data, size_t size, bool own_uid)
{
	struct file_view v = { .img = data, .len = size, .exact = true };
	uint8_t *copy = NULL;
	struct sa_reader r;
	char err[512] = "";
	int low = lowest_free_fd();

	if (own_uid && size >= sizeof(struct sa_header)) {
		uint32_t uid = (uint32_t)geteuid();

		copy = malloc(size);
		FUZZ_CHECK(copy, "out of memory");
		memcpy(copy, data, size);
		memcpy(copy + offsetof(struct sa_header, uid), &uid, sizeof(uid));
		v.img = copy;
	}
	write_file(v.img, v.len, false);
	if (open_table(&r, err, sizeof(err)) == 0) {
		FUZZ_CHECK(memcmp(&r.hdr, v.img, sizeof(r.hdr)) == 0, "validated header is not the file's");
		read_table(&r, &v, SA_NMODULES);
	}
	sa_reader_close(&r);
	FUZZ_CHECK(lowest_free_fd() == low, "the reader leaked an fd");
	free(copy);
}

/* ---- modes 2 and 3: a valid layout, patched ------------------------------ */

static const uint8_t *take(const uint8_t **p, size_t *left, size_t n)
{
	const uint8_t *q = *p;

	if (*left < n)
		return NULL;
	*p += n;
	*left -= n;
	return q;
}

/* Patches: offset (2 bytes, within the header page), length 1..8, bytes. */
static const uint8_t *take_patch(const uint8_t **p, size_t *left, uint32_t *off, size_t *len)
{
	const uint8_t *h = take(p, left, 3);

	if (!h)
		return NULL;
	*off = (uint32_t)(h[0] | h[1] << 8) % SA_HEADER_SIZE;
	*len = (size_t)(h[2] % 8) + 1;
	if (*off + *len > SA_HEADER_SIZE)
		*len = SA_HEADER_SIZE - *off;
	return take(p, left, *len);
}

static uint64_t align(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* Spacing 0: packed on 8 bytes; 1: page-aligned, as sa_layout does; 2: an
 * 8-byte gap; 3: 8 bytes past a page boundary, so slots straddle pages. */
static uint64_t region_start(uint64_t end, unsigned spacing)
{
	switch (spacing) {
	case 0: return align(end, 8);
	case 1: return align(end, PAGE);
	case 2: return align(end, 8) + 8;
	default: return align(end, PAGE) + 8;
	}
}

static void parse_params(const uint8_t *p, struct built_params *bp)
{
	static const unsigned nperm = 6;

	bp->nmodules = p[0];
	bp->nstacks = 1u << (p[1] & 7);
	bp->order = (unsigned)(p[1] >> 5) % nperm;
	bp->nslots = 1 + (p[2] | (uint32_t)(p[3] & 3) << 8);
	bp->spacing = (p[3] >> 4) & 3;
	bp->truncate = p[3] & 0x80;
	bp->depth = 1 + (p[4] & 31);
	bp->npatch = p[5] & 3;
	bp->npost = (p[3] & 0x40) ? 1 + ((p[5] >> 2) & 3) : 0;
	/* Mostly the CLI's room; little room shows the cap without 512 entries. */
	bp->mod_room = (p[5] >> 4) & 3 ? (p[5] >> 4) & 3 : SA_NMODULES;
}

static uint64_t build_header(struct sa_header *h, const struct built_params *bp)
{
	/* Region k of the order: 0 modules, 1 stacks, 2 slots. */
	static const uint8_t perms[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	uint64_t sizes[3] = {
		(uint64_t)bp->nmodules * sizeof(struct sa_module),
		(uint64_t)bp->nstacks * sizeof(struct sa_stack),
		(uint64_t)bp->nslots * sizeof(struct sa_slot),
	};
	uint64_t offs[3], end = SA_HEADER_SIZE;

	for (int i = 0; i < 3; i++) {
		int k = perms[bp->order][i];

		offs[k] = region_start(end, bp->spacing);
		end = offs[k] + sizes[k];
	}
	/* The language frame set, one entry, after the three. */
	h->lframes_off = region_start(end, bp->spacing);
	end = h->lframes_off + sizeof(struct sa_lframe);
	/* The counts (one per stack) after the three, however they lie. */
	uint64_t counts_off = region_start(end, bp->spacing);

	end = counts_off + sa_counts_len(bp->nstacks);   /* whole blocks of every shard */
	if (bp->spacing == 1)
		end = align(end, PAGE);

	{
		uint64_t lframes_off = h->lframes_off;

		memset(h, 0, sizeof(*h));
		sa_layout(h, 1);        /* magic, versions and record sizes */
		h->lframes_off = lframes_off;
	}
	h->nlframes = 1;
	h->modules_off = offs[0];
	h->stacks_off = offs[1];
	h->slots_off = offs[2];
	h->counts_off = counts_off;
	h->nmodules = bp->nmodules;
	h->nstacks = bp->nstacks;
	h->ncounts = bp->nstacks;
	h->nslots = bp->nslots;
	h->depth = bp->depth;
	h->file_size = end;
	h->uid = (uint32_t)geteuid();
	h->pid = 4242;
	h->ppid = 1;
	h->starttime = 123456;
	h->generation = 1;
	h->flags = SA_HDR_UNDER_RUN;
	h->exit_status = -1;
	h->created_ns = 1700000000000000000ull;
	snprintf(h->run_id, sizeof(h->run_id), "fuzz");
	snprintf(h->cmdline, sizeof(h->cmdline), "fuzz-table");
	return end;
}

static void fuzz_built(const uint8_t *data, size_t size, bool sparse)
{
	const uint8_t *p = data, *params, *bytes, *post, *trunc = NULL;
	struct file_view v = { .exact = true };
	struct built_params bp;
	struct sa_header h;
	struct sa_reader r;
	char err[512] = "";
	size_t left = size, post_left, len;
	uint64_t file_size;
	uint8_t *img;
	uint32_t off;
	int low, rc;

	if (!(params = take(&p, &left, BUILT_PARAMS_LEN)))
		return;
	parse_params(params, &bp);
	file_size = build_header(&h, &bp);
	img = calloc(1, file_size);
	FUZZ_CHECK(img, "out of memory");
	memcpy(img, &h, sizeof(h));
	for (unsigned i = 0; i < bp.npatch; i++) {
		if (!(bytes = take_patch(&p, &left, &off, &len)))
			goto out;
		memcpy(img + off, bytes, len);
	}
	/* The post-open patches and truncation come next; the rest is the body. */
	post = p;
	post_left = left;
	for (unsigned i = 0; i < bp.npost; i++)
		if (!take_patch(&p, &left, &off, &len))
			goto out;
	if (bp.truncate && !(trunc = take(&p, &left, 2)))
		goto out;
	len = left < file_size - SA_HEADER_SIZE ? left : file_size - SA_HEADER_SIZE;
	memcpy(img + SA_HEADER_SIZE, p, len);

	low = lowest_free_fd();
	write_file(img, file_size, sparse);
	v.img = img;
	v.len = file_size;
	rc = open_table(&r, err, sizeof(err));
	/* Every layout build_header makes is valid: only patches may spoil it. */
	FUZZ_CHECK(rc == 0 || bp.npatch, "valid layout refused: %s", err);
	if (rc == 0) {
		FUZZ_CHECK(memcmp(&r.hdr, img, sizeof(r.hdr)) == 0, "validated header is not the file's");
		for (unsigned i = 0; i < bp.npost; i++) {
			bytes = take_patch(&post, &post_left, &off, &len);
			memcpy(img + off, bytes, len);
			pwrite_all(bytes, len, off);
		}
		if (trunc) {
			uint64_t nsize = ((uint64_t)(trunc[0] | trunc[1] << 8) * 64) % file_size;

			FUZZ_CHECK(ftruncate(tmp_fd, (off_t)nsize) == 0, "ftruncate: %s", strerror(errno));
			v.len = nsize;
			v.exact = false;
		}
		read_table(&r, &v, bp.mod_room);
	}
	sa_reader_close(&r);
	FUZZ_CHECK(lowest_free_fd() == low, "the reader leaked an fd");
out:
	free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	tmp_setup();
	switch (data[0] & 3) {
	case MODE_RAW:
		fuzz_raw(data + 1, size - 1, data[0] & MODE_RAW_OWN_UID);
		break;
	case MODE_NAME:
		fuzz_name(data + 1, size - 1);
		break;
	case MODE_BUILT:
	case MODE_BUILT_SPARSE:
		fuzz_built(data + 1, size - 1, (data[0] & 3) == MODE_BUILT_SPARSE);
		break;
	}
	return 0;
}
