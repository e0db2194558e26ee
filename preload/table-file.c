/* Creating the table file, or adopting the one an earlier image of this
 * process (before execve) left. Never write a file we did not create or
 * validate as ours: a planted symlink, FIFO, foreign or loose-mode file makes
 * the process run unrecorded. */
#include "table-file.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint32_t table_slots(void)
{
	struct rlimit rl;
	uint64_t n = 65536;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		n = rl.rlim_max == RLIM_INFINITY ? SA_MAX_SLOTS : rl.rlim_max;
	if (n > SA_MAX_SLOTS)
		n = SA_MAX_SLOTS;
	if (n < 1024)
		n = 1024;
	return (uint32_t)n;
}

/* <dir>/sockaudit.<uid>.<pid>.<starttime> into out (sizeof(shim.path)). */
static void make_path(char *out, uint32_t uid)
{
	char name[96];
	size_t dl = strnlen(shim.dir, sizeof(shim.dir) - 1);

	sa_table_name(name, sizeof(name), uid, shim.pid, shim.starttime);
	memcpy(out, shim.dir, dl);
	out[dl] = '/';
	memcpy(out + dl + 1, name, strlen(name) + 1);
}

static void set_path(void)
{
	make_path(shim.path, shim.uid);
}

/* Point the globals at a new mapping. In a forked child they pointed at
 * the parent's table until now, and a signal handler's close() may run in
 * between: the backed-page bits go first, so that it finds no page backed
 * (and writes nothing) until the new table is wholly in place. */
static void map_globals(uint8_t *base, uint64_t size, const struct stat *st)
{
	const struct sa_header *h = (const struct sa_header *)base;

	for (unsigned i = 0; i < SHIM_MAX_CHUNKS / 64; i++)
		atomic_store_explicit(&shim.reserved[i], 0, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
	shim.base = base;
	shim.size = size;
	shim.table_dev = (uint64_t)st->st_dev;
	shim.table_ino = (uint64_t)st->st_ino;
	shim.modules = (struct sa_module *)(base + h->modules_off);
	shim.stacks = (struct sa_stack *)(base + h->stacks_off);
	shim.lframes = (struct sa_lframe *)(base + h->lframes_off);
	/* An earlier image's table from before the sharded counts (abi 2 or
	 * 3) is adopted as it is: its records stay, nothing is counted. A
	 * block is one page when the region is page-aligned (writer.h,
	 * shim_count_ready): sa_layout makes it so. */
	if (h->abi_version >= SA_ABI_SHARDED && h->counts_off &&
	    h->counts_off % SA_COUNT_BLOCK_SIZE == 0) {
		shim.counts = (struct sa_count *)(base + h->counts_off);
		shim.ncounts = h->ncounts;
		shim.counts_chunk = (uint32_t)(h->counts_off >> SHIM_CHUNK_SHIFT);
	} else {
		shim.counts = NULL;
		shim.ncounts = 0;
		shim.counts_chunk = 0;
	}
	shim.slots = (struct sa_slot *)(base + h->slots_off);
	shim.slots_chunk = h->slots_off % (1u << SHIM_CHUNK_SHIFT) == 0 &&
				   h->slots_off >> SHIM_CHUNK_SHIFT < SHIM_MAX_CHUNKS
			   ? (uint32_t)(h->slots_off >> SHIM_CHUNK_SHIFT) : UINT32_MAX;
	shim.nslots = h->nslots;
	shim.hdr = (struct sa_header *)base;
	atomic_signal_fence(memory_order_seq_cst);
}

/* Mark the chunks lying wholly inside [off, off + len) as backed: a chunk
 * only partly backed must go through shim_reserve() before it is written,
 * or a full /dev/shm turns that write into SIGBUS. */
static void mark_reserved(uint64_t off, uint64_t len)
{
	uint64_t chunk = 1ull << SHIM_CHUNK_SHIFT;
	uint64_t first = (off + chunk - 1) >> SHIM_CHUNK_SHIFT;
	uint64_t end = (off + len) >> SHIM_CHUNK_SHIFT;   /* exclusive */

	if (off + len >= shim.size && shim.size % chunk)
		end = (shim.size + chunk - 1) >> SHIM_CHUNK_SHIFT;   /* the short last chunk */
	for (uint64_t c = first; c < end && c < SHIM_MAX_CHUNKS; c++)
		atomic_fetch_or_explicit(&shim.reserved[c >> 6], 1ull << (c & 63),
					 memory_order_relaxed);
}

static void read_cmdline(char *out, size_t len)
{
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = 0;

	out[0] = '\0';
	if (fd < 0)
		return;
	n = read(fd, out, len - 1);
	shim_sys(SYS_close, fd);
	if (n <= 0) {
		out[0] = '\0';
		return;
	}
	while (n > 0 && out[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (out[i] == '\0')
			out[i] = ' ';
	out[n] = '\0';
}

static int table_fresh(void)
{
	struct sa_header layout = { 0 };
	uint64_t size = sa_layout(&layout, table_slots()), backed;
	struct sa_header *h;
	struct stat st;
	void *base;
	int fd, err;

	fd = open(shim.path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* The umask may have narrowed the mode; 0600 exactly is part of the ABI. */
	if (fchmod(fd, 0600) < 0 || fstat(fd, &st) < 0 || ftruncate(fd, (off_t)size) < 0)
		goto fail;
	/* The header is written at once: back its page now. The module log,
	 * stacks and slots are backed page by page on first use. */
	backed = 1ull << SHIM_CHUNK_SHIFT;
	if (backed > size)
		backed = size;
	if (shim_sys(SYS_fallocate, fd, 0, (off_t)0, (off_t)backed) != 0)
		goto fail;
	base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		goto fail;
	shim_sys(SYS_close, fd);

	h = base;
	sa_header_init(h, &layout, &(struct sa_writer_id){
		.uid = shim.uid, .depth = shim.depth, .pid = shim.pid, .ppid = getppid(),
		.starttime = shim.starttime, .created_ns = shim_now_ns(),
		.flags = (shim.under_run ? SA_HDR_UNDER_RUN : 0) | (shim.forked ? SA_HDR_FORKED : 0),
	});
	memcpy(h->run_id, shim.run_id, sizeof(h->run_id));
	read_cmdline(h->cmdline, sizeof(h->cmdline));
	map_globals(base, size, &st);
	mark_reserved(0, backed);
	return 0;

fail:
	err = errno;
	unlink(shim.path);
	shim_sys(SYS_close, fd);
	return -err;
}

/* EEXIST: an earlier image of this very process (same uid, pid and start
 * time: execve keeps them) left its table. Adopt it only if it is provably
 * ours; a stale table of ours in another format is replaced. */
static int table_adopt(void)
{
	struct sa_header h;
	struct stat st;
	void *base;
	int fd;

	fd = open(shim.path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != shim.uid ||
	    (st.st_mode & 07777) != 0600 || st.st_nlink != 1) {
		shim_sys(SYS_close, fd);
		return -EPERM;
	}
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    sa_header_check(&h, (uint64_t)st.st_size) != NULL || h.uid != shim.uid ||
	    h.pid != shim.pid || h.starttime != shim.starttime || (h.flags & SA_HDR_RECORDER)) {
		/* Ours by name, owner and mode but not a table we can read:
		 * an older sockaudit's. Replace it. Also replaced: the table
		 * `sockaudit trace` wrote for an earlier image the shim did
		 * not run in; a new file, so that the recorder, which checks
		 * the name still leads to its file, stops writing it and two
		 * writers never share one table. */
		shim_sys(SYS_close, fd);
		if (unlink(shim.path) < 0)
			return -EPERM;
		return table_fresh();
	}
	base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		shim_sys(SYS_close, fd);
		return -ENOMEM;
	}
	map_globals(base, (uint64_t)st.st_size, &st);
	/* Pages the earlier image backed are data; holes were never touched. */
	for (off_t pos = 0; pos < st.st_size;) {
		off_t d = lseek(fd, pos, SEEK_DATA), e;
		if (d < 0)
			break;
		e = lseek(fd, d, SEEK_HOLE);
		if (e <= d)
			e = st.st_size;
		mark_reserved((uint64_t)d, (uint64_t)(e - d));
		pos = e;
	}
	shim_sys(SYS_close, fd);
	shim.hdr->generation++;
	shim.hdr->flags &= ~(uint32_t)SA_HDR_EXITED;
	shim.hdr->depth = shim.depth > shim.hdr->depth ? shim.hdr->depth : shim.depth;
	shim.depth = shim.hdr->depth;
	read_cmdline(shim.hdr->cmdline, sizeof(shim.hdr->cmdline));
	return 1;
}

static int table_make(bool adopt_existing)
{
	int rc;

	set_path();
	rc = table_fresh();
	if (rc == -EEXIST && adopt_existing)
		rc = table_adopt();
	return rc;
}

/* Under `sockaudit run`, shim.dir is the run's private directory,
 * <table dir>/sockaudit-run.<id>. A process of the tree that entered its own
 * mount namespace (a private /dev/shm) or runs as a user who may not enter
 * that directory cannot reach it: its table goes to <table dir> as its own
 * namespaces show it, where `run` finds it by the process (docs/design.md,
 * "run: descendants in their own namespaces"); the header's run id tells
 * the run its own tables from others'. Only the parent of a run directory,
 * only for "not there" or "not allowed", and the table is made there by the
 * usual rules (O_EXCL, O_NOFOLLOW, adoption only of a file provably ours).
 * No allocation: it may run in a forked child from a signal handler. */
static bool run_dir_fallback(int rc)
{
	size_t len = strnlen(shim.dir, sizeof(shim.dir) - 1);
	char *slash;

	if (!shim.under_run || (rc != -ENOENT && rc != -ENOTDIR && rc != -EACCES))
		return false;
	slash = memrchr(shim.dir, '/', len);
	if (!slash || slash == shim.dir ||
	    strncmp(slash + 1, SA_RUN_DIR_PREFIX, sizeof(SA_RUN_DIR_PREFIX) - 1) != 0)
		return false;
	*slash = '\0';
	return true;
}

/* Returns 0 for a new table, 1 for an adopted one, or -errno. */
int shim_table_create(bool adopt_existing)
{
	int rc;

	/* The file is made with the process's identity now: a forked child
	 * of a parent that changed its euid by a path no wrapper saw (a raw
	 * system call) still names it as the CLI will look for it. */
	shim.uid = (uint32_t)geteuid();
	rc = table_make(adopt_existing);
	if (rc < 0 && run_dir_fallback(rc))
		rc = table_make(adopt_existing);
	return rc;
}

/* A process that drops privileges (setuid from root) gives its table to the
 * new user while it still may: owner, then name, then header, so that it
 * can still back pages (writer.c reopens the file), remove the table at
 * exit (a sticky /dev/shm lets only the owner unlink), and the CLI finds it
 * under the process's euid with the owner it expects. Async-signal-safe
 * calls only: it runs in a set*uid() wrapper, maybe in a signal handler. */
int shim_table_give(uint32_t uid)
{
	char path[sizeof(shim.path)];
	struct stat st;
	int fd, err = 0;

	if (uid == shim.uid)
		return 0;
	fd = (int)shim_sys(SYS_openat, AT_FDCWD, shim.path,
			  O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	/* The very file we mapped, still ours: never chown anything else. */
	if (shim_fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != shim.uid ||
	    st.st_dev != shim.table_dev || st.st_ino != shim.table_ino) {
		shim_sys(SYS_close, fd);
		return -EPERM;
	}
	make_path(path, uid);
	if (fchown(fd, uid, (gid_t)-1) != 0) {
		err = errno;
	} else if (rename(shim.path, path) != 0) {
		/* Something in the way at the new name (a directory): keep
		 * the table as it was. A file there is replaced: we are still
		 * privileged, and the name is ours by pid and start time. */
		err = errno;
		if (fchown(fd, shim.uid, (gid_t)-1) != 0) {
			/* we held the right a moment ago: nothing else to try */
		}
	}
	shim_sys(SYS_close, fd);
	if (err)
		return -err;
	shim.hdr->uid = uid;
	shim.uid = uid;
	memcpy(shim.path, path, sizeof(path));
	return 0;
}
