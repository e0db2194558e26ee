/* Table memory: hold many sockets opened from a few distinct stacks, then
 * report this process's RSS and, when it runs under the shim, what its
 * table file costs.
 *
 *   bench-holder [-n SOCKETS] [-k STACKS]     (defaults: 20000 sockets, 5 stacks)
 *
 * Sockets come from socketpair(AF_UNIX), two per call; call i goes through
 * opener i % STACKS, each a separate non-inlinable function, so the shim
 * sees exactly STACKS distinct open stacks. The soft RLIMIT_NOFILE is raised
 * to the hard one; when that is too low for SOCKETS, we open what fits and
 * say so (limited=1).
 *
 * The table file's allocated size is st_blocks * 512. tmpfs reports
 * fallocate'd pages in st_blocks but neither mincore() nor SEEK_DATA sees
 * them, so to split the total by region we fallocate each region whole at
 * the very end and read how much st_blocks grew: what did not grow was
 * already allocated. That touches only our own table, just before exit.
 */
#include "bench.h"
#include "table.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_STACKS 8
#define SPARE_FDS  16   /* for stdio, the table probe, the shim's own pipe */

/* The volatile tag makes the bodies differ (no identical-code folding); the
 * empty asm after the call keeps it from becoming a tail call, which would
 * drop this frame from the stack. */
#define OPENER(n) \
	__attribute__((noinline)) static int opener_##n(int sv[2]) \
	{ \
		volatile int tag = n; \
		int rc = socketpair(AF_UNIX, SOCK_STREAM, 0, sv); \
		__asm__ volatile("" ::: "memory"); \
		(void)tag; \
		return rc; \
	}
OPENER(0)
OPENER(1)
OPENER(2)
OPENER(3)
OPENER(4)
OPENER(5)
OPENER(6)
OPENER(7)

static int (*const openers[MAX_STACKS])(int[2]) = {
	opener_0, opener_1, opener_2, opener_3, opener_4, opener_5, opener_6, opener_7,
};

/* Open up to `want` sockets, call i through opener i % nstacks. Every frame
 * above an opener must have one call site, or there would be more stacks
 * than openers: hence a function of its own, called once, and no clang
 * optimisation in it (clang duplicated main's loop along its two paths into
 * it, and peels the first iteration into a direct call of opener_0). gcc -O2
 * does neither. */
#if defined(__clang__)
__attribute__((noinline, optnone))
#else
__attribute__((noinline))
#endif
static long open_sockets(long want, int nstacks, int *limited)
{
	long have = 0;

	for (long i = 0; have + 2 <= want; i++) {
		int k = (int)(i % nstacks);
		int sv[2];

		if (openers[k](sv) != 0) {
			if (errno != EMFILE && errno != ENFILE) {
				perror("socketpair");
				exit(1);
			}
			*limited = 1;
			break;
		}
		have += 2;
	}
	return have;
}

static long status_kb(const char *key)
{
	char line[256];
	size_t kl = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			v = atol(line + kl + 1);
			break;
		}
	fclose(f);
	return v;
}

/* Our table: <dir>/sockaudit.<euid>.<pid>.<starttime>. */
static int find_table(char *path, size_t len)
{
	const char *dir = getenv("SOCKAUDIT_DIR");
	char prefix[64];
	struct dirent *e;
	DIR *d;
	int found = 0;

	if (!dir || !*dir)
		dir = "/dev/shm";
	snprintf(prefix, sizeof(prefix), "sockaudit.%u.%d.", (unsigned)geteuid(), (int)getpid());
	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
			snprintf(path, len, "%s/%s", dir, e->d_name);
			found = 1;
			break;
		}
	closedir(d);
	return found;
}

static long long allocated(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (long long)st.st_blocks * 512 : -1;
}

/* Bytes of [off, off + len) that were allocated, found by allocating the
 * rest and measuring the growth. */
static long long region_allocated(int fd, uint64_t off, uint64_t len)
{
	long long before = allocated(fd), after;

	if (len == 0)
		return 0;
	if (fallocate(fd, 0, (off_t)off, (off_t)len) != 0)
		return -1;
	after = allocated(fd);
	return (long long)len - (after - before);
}

static void report_table(long sockets)
{
	char path[600];
	struct sa_header h;
	struct stat st;
	long long total, fixed, stacks, slots;
	uint32_t nstacks_used = 0, nslots_used = 0;
	const uint8_t *map;
	const char *why;
	int fd;

	if (!find_table(path, sizeof(path))) {
		printf("table=none\n");
		return;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		perror(path);
		exit(1);
	}
	if ((why = sa_header_check(&h, (uint64_t)st.st_size)) != NULL) {
		fprintf(stderr, "%s: %s\n", path, why);
		exit(1);
	}
	total = allocated(fd);
	stacks = region_allocated(fd, h.stacks_off, h.slots_off - h.stacks_off);
	slots = region_allocated(fd, h.slots_off, h.file_size - h.slots_off);
	fixed = total - stacks - slots;
	/* Only now read the contents: a read fault on a hole of a shared tmpfs
	 * mapping allocates the page (after the probe there are no holes). */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	for (uint32_t i = 0; i < h.nstacks; i++)
		if (((const struct sa_stack *)(map + h.stacks_off))[i].state == SA_ENTRY_READY)
			nstacks_used++;
	for (uint32_t i = 0; i < h.nslots; i++)
		if (((const struct sa_slot *)(map + h.slots_off))[i].used)
			nslots_used++;
	printf("table=%s\n", path);
	printf("table_file_size=%llu\n", (unsigned long long)st.st_size);
	printf("table_nslots=%u\n", h.nslots);
	printf("table_bytes=%lld\n", total);
	printf("table_fixed_bytes=%lld\n", fixed);   /* header + module log */
	printf("table_stack_bytes=%lld\n", stacks);   /* the stack set and its counts */
	printf("table_slot_bytes=%lld\n", slots);
	printf("table_stacks_used=%u\n", nstacks_used);
	printf("table_stack_entry_bytes=%u\n", h.stack_size);
	printf("table_slots_used=%u\n", nslots_used);
	printf("table_slot_entry_bytes=%u\n", h.slot_size);
	printf("table_overflow=%llu\n", (unsigned long long)(h.counters.overflow_fd +
							    h.counters.overflow_stack +
							    h.counters.reserve_failed));
	printf("table_bytes_per_socket=%.2f\n", (double)total / (double)sockets);
	close(fd);
}

int main(int argc, char **argv)
{
	long want = 20000, have = 0, room;
	int nstacks = 5, c, limited = 0;
	struct rlimit rl;

	while ((c = getopt(argc, argv, "n:k:")) != -1) {
		switch (c) {
		case 'n': want = atol(optarg); break;
		case 'k': nstacks = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-n SOCKETS] [-k STACKS]\n", argv[0]);
			return 2;
		}
	}
	if (want < 2 || nstacks < 1 || nstacks > MAX_STACKS) {
		fprintf(stderr, "%s: need SOCKETS >= 2 and 1 <= STACKS <= %d\n", argv[0], MAX_STACKS);
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		perror("getrlimit");
		return 1;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			perror("setrlimit (continuing with the soft limit)");
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	room = rl.rlim_cur == RLIM_INFINITY ? want : (long)rl.rlim_cur - SPARE_FDS;
	if (room < want) {
		want = room & ~1L;
		limited = 1;
	}
	have = open_sockets(want, nstacks, &limited);
	printf("sockets=%ld\n", have);
	printf("sockets_wanted=%ld\n", want);
	printf("limited=%d\n", limited);
	printf("nofile_hard=%lld\n", rl.rlim_max == RLIM_INFINITY ? -1LL : (long long)rl.rlim_max);
	printf("stacks=%d\n", nstacks);
	printf("vm_rss_bytes=%ld\n", status_kb("VmRSS") * 1024);
	printf("rss_anon_bytes=%ld\n", status_kb("RssAnon") * 1024);
	printf("rss_file_bytes=%ld\n", status_kb("RssFile") * 1024);
	printf("rss_shmem_bytes=%ld\n", status_kb("RssShmem") * 1024);
	bench_print_shim_status();
	fflush(stdout);
	report_table(have);
	return 0;
}
