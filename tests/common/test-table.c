/* Unit tests of common/table.c, the pure helpers over the table ABI: file
 * names, the layout, header validation, the stack hash, origin names, the
 * /proc/<pid>/stat start-time parse and the seqlock slot read.
 * Table-driven: every case names what it checks. */
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"
#include "table.h"
#include "table-reader.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- sa_table_name / sa_table_name_parse ---------------------------- */

static const struct name_case {
	uint32_t uid;
	int32_t pid;
	uint64_t starttime;
	const char *name;
} good_names[] = {
	{ 0, 1, 0, "sockaudit.0.1.0" },
	{ 1000, 4242, 123456, "sockaudit.1000.4242.123456" },
	{ 65534, 2, 1, "sockaudit.65534.2.1" },
	{ 10, 100, 1000, "sockaudit.10.100.1000" },
	{ UINT32_MAX, INT32_MAX, UINT64_MAX,
	  "sockaudit.4294967295.2147483647.18446744073709551615" },
};

static const struct bad_name {
	const char *name;
	const char *why;
} bad_names[] = {
	{ "", "empty" },
	{ "sockaudit", "prefix without its dot" },
	{ "sockaudit.", "prefix only" },
	{ "sockaudit.1", "uid only" },
	{ "sockaudit.1.", "pid missing" },
	{ "sockaudit.1.2", "starttime missing" },
	{ "sockaudit.1.2.", "starttime empty" },
	{ "sockaudit..2.3", "uid empty" },
	{ "sockaudit.1..3", "pid empty" },
	{ "sockaudit.01.2.3", "uid with a leading zero" },
	{ "sockaudit.00.2.3", "uid 00" },
	{ "sockaudit.1.02.3", "pid with a leading zero" },
	{ "sockaudit.1.2.03", "starttime with a leading zero" },
	{ "sockaudit.1.2.00", "starttime 00" },
	{ "sockaudit.4294967296.2.3", "uid 2^32" },
	{ "sockaudit.99999999999999999999.2.3", "uid beyond 2^64" },
	{ "sockaudit.1.2147483648.3", "pid INT32_MAX + 1" },
	{ "sockaudit.1.4294967298.3", "pid wrapping to 2 in 32 bits" },
	{ "sockaudit.1.0.3", "pid 0" },
	{ "sockaudit.1.-2.3", "negative pid" },
	{ "sockaudit.-1.2.3", "negative uid" },
	{ "sockaudit.+1.2.3", "uid with a plus sign" },
	{ "sockaudit. 1.2.3", "uid with a leading space" },
	{ "sockaudit.0x1.2.3", "hex uid" },
	{ "sockaudit.1.2.18446744073709551616", "starttime 2^64" },
	{ "sockaudit.1.2.3x", "trailing letter" },
	{ "sockaudit.1.2.3.4", "a fourth number" },
	{ "sockaudit.1.2.3.tmp", "a suffix" },
	{ "sockaudit.1.2.3 ", "trailing space" },
	{ "sockaudit.1.2.3\n", "trailing newline" },
	{ "Sockaudit.1.2.3", "capitalised prefix" },
	{ "sockaudi.1.2.3", "short prefix" },
	{ "xsockaudit.1.2.3", "text before the prefix" },
	{ "sockaudit_1.2.3", "prefix with another separator" },
	{ "sockaudit.1,2,3", "commas" },
};

static void test_names(void)
{
	char buf[128];

	for (size_t i = 0; i < ARRAY_SIZE(good_names); i++) {
		const struct name_case *c = &good_names[i];
		size_t len = strlen(c->name);
		uint32_t uid = 7;
		int32_t pid = 7;
		uint64_t st = 7;

		ok(sa_table_name(buf, sizeof(buf), c->uid, c->pid, c->starttime) == 0 &&
		   strcmp(buf, c->name) == 0, "name %s is formatted", c->name);
		ok(sa_table_name_parse(c->name, &uid, &pid, &st) == 0 && uid == c->uid &&
		   pid == c->pid && st == c->starttime, "name %s parses back", c->name);

		/* Exactly len + 1 bytes fit; one fewer, or any smaller, fails
		 * and writes nothing at or beyond buf[size]. */
		memset(buf, 'Z', sizeof(buf));
		ok(sa_table_name(buf, (unsigned)len + 1, c->uid, c->pid, c->starttime) == 0 &&
		   strcmp(buf, c->name) == 0 && buf[len + 1] == 'Z',
		   "name %s fits in %zu bytes exactly", c->name, len + 1);
		bool small_ok = true;
		for (size_t sz = 0; sz <= len; sz++) {
			memset(buf, 'Z', sizeof(buf));
			if (sa_table_name(buf, (unsigned)sz, c->uid, c->pid, c->starttime) != -1)
				small_ok = false;
			for (size_t k = sz; k < sizeof(buf); k++)
				if (buf[k] != 'Z')
					small_ok = false;
			if (!small_ok) {
				diag("buffer of %zu bytes", sz);
				break;
			}
		}
		ok(small_ok, "name %s: every buffer of 0..%zu bytes is refused, no overrun",
		   c->name, len);
	}

	static const int32_t bad_pids[] = { 0, -1, INT32_MIN };
	for (size_t i = 0; i < ARRAY_SIZE(bad_pids); i++)
		ok(sa_table_name(buf, sizeof(buf), 1000, bad_pids[i], 1) == -1,
		   "sa_table_name refuses pid %" PRId32, bad_pids[i]);

	for (size_t i = 0; i < ARRAY_SIZE(bad_names); i++) {
		uint32_t uid;
		int32_t pid;
		uint64_t st;

		ok(sa_table_name_parse(bad_names[i].name, &uid, &pid, &st) == -1,
		   "parse rejects %s", bad_names[i].why);
	}
}

/* ---- sa_layout ------------------------------------------------------- */

#define PAGE 4096u

static uint64_t region_len(uint32_t n, uint32_t size)
{
	return (uint64_t)n * size;
}

/* A fresh layout as the shim makes it: sa_layout() over a header full of
 * garbage, then the per-process fields and empty strings. */
static uint64_t fresh(struct sa_header *h, uint32_t nslots)
{
	uint64_t size;

	memset(h, 0xa5, sizeof(*h));
	size = sa_layout(h, nslots);
	h->depth = SA_MAX_FRAMES;
	h->pid = 4242;
	h->uid = 1000;
	memset(h->run_id, 0, sizeof(h->run_id));
	memset(h->cmdline, 0, sizeof(h->cmdline));
	return size;
}

static void test_layout(void)
{
	static const uint32_t counts[] = { 1, 2, 31, 1023, 1024, 4096, 20000, 65536, SA_MAX_SLOTS };

	for (size_t i = 0; i < ARRAY_SIZE(counts); i++) {
		struct sa_header h;
		uint32_t n = counts[i];
		uint64_t size = fresh(&h, n);
		uint64_t mend = h.modules_off + region_len(h.nmodules, h.module_size);
		uint64_t send = h.stacks_off + region_len(h.nstacks, h.stack_size);
		uint64_t cend = h.counts_off + sa_counts_len(h.ncounts);
		uint64_t tend = h.slots_off + region_len(h.nslots, h.slot_size);
		const char *why;

		ok(size == h.file_size, "layout(%u): returns file_size", n);
		ok(h.magic == SA_MAGIC && h.abi_version == SA_ABI_VERSION &&
		   h.compat_version == SA_ABI_COMPAT && h.header_size == SA_HEADER_SIZE &&
		   h.slot_size == sizeof(struct sa_slot) && h.stack_size == sizeof(struct sa_stack) &&
		   h.module_size == sizeof(struct sa_module),
		   "layout(%u): magic, versions and record sizes", n);
		ok(h.nslots == n && h.nstacks == SA_NSTACKS && h.nmodules == SA_NMODULES,
		   "layout(%u): counts", n);
		ok(h.ncounts == h.nstacks && h.count_size == sizeof(struct sa_count) &&
		   h.count_shards == SA_COUNT_SHARDS && h.count_block == SA_COUNT_BLOCK,
		   "layout(%u): one count per stack, in shards and blocks", n);
		ok(h.modules_off >= SA_HEADER_SIZE && h.modules_off < h.stacks_off &&
		   h.stacks_off < h.counts_off && h.counts_off < h.slots_off,
		   "layout(%u): header, modules, stacks, counts, slots in order", n);
		ok(h.modules_off % PAGE == 0 && h.stacks_off % PAGE == 0 && h.counts_off % PAGE == 0 &&
		   h.slots_off % PAGE == 0 && h.file_size % PAGE == 0,
		   "layout(%u): offsets and size 4096-aligned", n);
		ok(mend <= h.stacks_off && send <= h.counts_off && cend <= h.slots_off,
		   "layout(%u): regions disjoint", n);
		ok(tend <= h.file_size && h.file_size - tend < PAGE,
		   "layout(%u): file_size covers the slots, rounded up to a page", n);
		why = sa_header_check(&h, size);
		ok(why == NULL, "layout(%u): sa_header_check accepts it", n);
		if (why)
			diag("rejected: %s", why);
	}
}

/* ---- sa_header_check: one corruption at a time ----------------------- */

#define BASE_SLOTS 4096u

#define R_SHORT    "file shorter than a header"
#define R_MAGIC    "bad magic (not a sockaudit table)"
#define R_NEWER    "table written by a newer, incompatible sockaudit"
#define R_OLDER    "table written by an older, incompatible sockaudit"
#define R_SIZES    "record sizes do not match this sockaudit"
#define R_FSIZE    "file size does not match its header"
#define R_NSLOTS   "slot count out of range"
#define R_NSTACKS  "stack count out of range"
#define R_NMODULES "module count out of range"
#define R_DEPTH    "stack depth out of range"
#define R_PID      "bad pid"
#define R_MODREG   "module region out of bounds"
#define R_STKREG   "stack region out of bounds"
#define R_SLOTREG  "slot region out of bounds"
#define R_OVERLAP  "regions overlap"
#define R_CNTSET   "count region does not match the stack set"
#define R_CNTREG   "count region out of bounds"
#define R_ALIGN    "misaligned region"
#define R_STRING   "unterminated string in header"
#define R_NLFR     "language frame count out of range"
#define R_LFRREG   "language frame region out of bounds"

/* Hooks: corruptions that depend on the layout or touch more than a field.
 * `size` is the file size the check is given. */
#define HOOK(name) static void name(struct sa_header *h, uint64_t *size)

HOOK(hdr_size_grows) { h->file_size += PAGE; }
HOOK(hdr_size_shrinks) { h->file_size -= 1; }
HOOK(file_grows) { *size += PAGE; }
HOOK(file_empty) { *size = 0; }
HOOK(file_100) { *size = h->file_size = 100; }
HOOK(file_header_less_1) { *size = h->file_size = SA_HEADER_SIZE - 1; }
HOOK(file_header_only) { *size = h->file_size = SA_HEADER_SIZE; }
HOOK(nstacks_double) { h->nstacks = SA_NSTACKS * 8; }
HOOK(lfr_at_eof) { h->lframes_off = h->file_size; }
HOOK(lfr_wraps) { h->lframes_off = UINT64_MAX - region_len(h->nlframes, h->lframe_size) + 1; }
HOOK(lfr_on_stk) { h->lframes_off = h->stacks_off; }
HOOK(lfr_on_slot) { h->slots_off = h->lframes_off; }
HOOK(lfr_on_mod) { h->lframes_off = h->modules_off; }
HOOK(lfr_plus_4) { h->nlframes /= 2; h->lframes_off += 4; }
HOOK(mod_at_eof) { h->modules_off = h->file_size; }
HOOK(mod_past_eof) { h->modules_off = h->file_size - 8; }
HOOK(mod_wraps) { h->modules_off = UINT64_MAX - region_len(h->nmodules, h->module_size) + 1; }
HOOK(stk_at_eof) { h->stacks_off = h->file_size; }
HOOK(stk_past_eof) { h->stacks_off = h->file_size - 8; }
HOOK(stk_wraps) { h->stacks_off = UINT64_MAX - region_len(h->nstacks, h->stack_size) + 1; }
HOOK(slot_at_eof) { h->slots_off = h->file_size; }
HOOK(slot_past_eof) { h->slots_off = h->file_size - 8; }
HOOK(slot_wraps) { h->slots_off = UINT64_MAX - region_len(h->nslots, h->slot_size) + 1; }
HOOK(stk_on_mod) { h->stacks_off = h->modules_off; }
HOOK(slot_on_stk) { h->slots_off = h->stacks_off; }
HOOK(mod_on_slot) { h->modules_off = h->slots_off; }
HOOK(stk_into_mod) { h->stacks_off = h->modules_off + PAGE; }
HOOK(slot_into_stk_8) { h->slots_off = h->stacks_off + region_len(h->nstacks, h->stack_size) - 8; }
/* 500 modules end at a non-page, 8-aligned offset: the stacks may start
 * right there, not one byte earlier. */
HOOK(stk_adjacent) { h->nmodules = 500; h->stacks_off = h->modules_off + region_len(500, h->module_size); }
HOOK(stk_adjacent_less_8) { h->nmodules = 500; h->stacks_off = h->modules_off + region_len(500, h->module_size) - 8; }
HOOK(slot_plus_4) { h->nslots -= 1; h->slots_off += 4; }
HOOK(slot_plus_1) { h->nslots -= 1; h->slots_off += 1; }
HOOK(slot_plus_8) { h->nslots -= 1; h->slots_off += 8; }
HOOK(mod_plus_4) { h->nmodules -= 1; h->modules_off += 4; }
/* The counts follow the stack set: a change of nstacks takes ncounts along. */
HOOK(nstacks_half) { h->nstacks = h->ncounts = SA_NSTACKS / 2; }
HOOK(nstacks_one) { h->nstacks = h->ncounts = 1; }
HOOK(stk_plus_4_counts) { h->nstacks /= 2; h->ncounts = h->nstacks; h->stacks_off += 4; }
HOOK(cnt_at_eof) { h->counts_off = h->file_size; }
HOOK(cnt_wraps) { h->counts_off = UINT64_MAX - region_len(h->ncounts, h->count_size) + 1; }
HOOK(cnt_on_stk) { h->counts_off = h->stacks_off; }
HOOK(cnt_on_slot) { h->counts_off += PAGE; }   /* its last page on the slots' first */
HOOK(cnt_into_stk_8) { h->counts_off = h->stacks_off + region_len(h->nstacks, h->stack_size) - 8; }
HOOK(cnt_plus_4) { h->nstacks = h->ncounts = SA_NSTACKS / 2; h->counts_off += 4; }
/* A table of abi 2 has no counts: whatever the header holds there (zeros
 * in a real one) is not looked at. */
HOOK(abi2_garbage_counts) { h->abi_version = 2; h->counts_off = UINT64_MAX; h->ncounts = 3; h->count_size = 1; }
/* abi 3: one flat 16-byte entry per stack, no shards (still read). */
HOOK(abi3_flat) { h->abi_version = 3; h->count_size = 16; h->count_shards = 0; h->count_block = 0; }
HOOK(abi3_sharded_size) { h->abi_version = 3; h->count_shards = 0; h->count_block = 0; }
HOOK(run_id_full) { memset(h->run_id, 'x', sizeof(h->run_id)); }
HOOK(cmdline_full) { memset(h->cmdline, 'x', sizeof(h->cmdline)); }
HOOK(run_id_last_nul) { memset(h->run_id, 'x', sizeof(h->run_id) - 1); }
HOOK(cmdline_last_nul) { memset(h->cmdline, 'x', sizeof(h->cmdline) - 1); }

#define FIELD(f) .off = offsetof(struct sa_header, f), .width = sizeof(((struct sa_header *)0)->f)
#define SET(f, v) FIELD(f), .val = (uint64_t)(v)

static const struct mutation {
	const char *what;
	size_t off, width;      /* set this field to val ... */
	uint64_t val;
	void (*hook)(struct sa_header *h, uint64_t *size);  /* ... or run this */
	const char *reason;     /* NULL: still a sound table */
} mutations[] = {
	{ "magic, one bit flipped", SET(magic, SA_MAGIC ^ 1), .reason = R_MAGIC },
	{ "magic zero", SET(magic, 0), .reason = R_MAGIC },
	{ "magic byte-swapped", SET(magic, __builtin_bswap64(SA_MAGIC)), .reason = R_MAGIC },
	{ "compat newer", SET(compat_version, SA_ABI_COMPAT + 1), .reason = R_NEWER },
	{ "compat UINT32_MAX", SET(compat_version, UINT32_MAX), .reason = R_NEWER },
	{ "abi older than the oldest read", SET(abi_version, SA_ABI_OLDEST - 1), .reason = R_OLDER },
	{ "abi 0", SET(abi_version, 0), .reason = R_OLDER },
	{ "abi newer, still compatible", SET(abi_version, SA_ABI_VERSION + 1), .reason = NULL },
	{ "header_size - 1", SET(header_size, SA_HEADER_SIZE - 1), .reason = R_SIZES },
	{ "header_size doubled", SET(header_size, SA_HEADER_SIZE * 2), .reason = R_SIZES },
	{ "slot_size 127", SET(slot_size, 127), .reason = R_SIZES },
	{ "slot_size 129", SET(slot_size, 129), .reason = R_SIZES },
	{ "slot_size 0", SET(slot_size, 0), .reason = R_SIZES },
	{ "stack_size 279", SET(stack_size, 279), .reason = R_SIZES },
	{ "stack_size 281", SET(stack_size, 281), .reason = R_SIZES },
	{ "module_size 311", SET(module_size, 311), .reason = R_SIZES },
	{ "module_size 313", SET(module_size, 313), .reason = R_SIZES },
	{ "header file_size a page too big", .hook = hdr_size_grows, .reason = R_FSIZE },
	{ "header file_size a byte short", .hook = hdr_size_shrinks, .reason = R_FSIZE },
	{ "file a page longer than its header says", .hook = file_grows, .reason = R_FSIZE },
	{ "nslots 0", SET(nslots, 0), .reason = R_NSLOTS },
	{ "nslots SA_MAX_SLOTS + 1", SET(nslots, SA_MAX_SLOTS + 1), .reason = R_NSLOTS },
	{ "nslots UINT32_MAX", SET(nslots, UINT32_MAX), .reason = R_NSLOTS },
	{ "nslots SA_MAX_SLOTS, beyond the file", SET(nslots, SA_MAX_SLOTS), .reason = R_SLOTREG },
	{ "nslots one fewer", SET(nslots, BASE_SLOTS - 1), .reason = NULL },
	{ "nstacks 0", SET(nstacks, 0), .reason = R_NSTACKS },
	{ "nstacks 3", SET(nstacks, 3), .reason = R_NSTACKS },
	{ "nstacks 4095", SET(nstacks, SA_NSTACKS - 1), .reason = R_NSTACKS },
	{ "nstacks 4097", SET(nstacks, SA_NSTACKS + 1), .reason = R_NSTACKS },
	{ "nstacks 2^21", SET(nstacks, 1u << 21), .reason = R_NSTACKS },
	{ "nstacks UINT32_MAX", SET(nstacks, UINT32_MAX), .reason = R_NSTACKS },
	{ "nstacks 2048 (ncounts along)", .hook = nstacks_half, .reason = NULL },
	{ "nstacks 1 (ncounts along)", .hook = nstacks_one, .reason = NULL },
	{ "nstacks 2048, ncounts not", SET(nstacks, SA_NSTACKS / 2), .reason = R_CNTSET },
	{ "ncounts 0", SET(ncounts, 0), .reason = R_CNTSET },
	{ "ncounts doubled", SET(ncounts, SA_NSTACKS * 2), .reason = R_CNTSET },
	{ "count_size 15", SET(count_size, 15), .reason = R_CNTSET },
	{ "count_size 0", SET(count_size, 0), .reason = R_CNTSET },
	{ "counts_off 0", SET(counts_off, 0), .reason = R_CNTREG },
	{ "counts_off at EOF", .hook = cnt_at_eof, .reason = R_CNTREG },
	{ "counts_off UINT64_MAX", SET(counts_off, UINT64_MAX), .reason = R_CNTREG },
	{ "counts_off + length wraps to 0", .hook = cnt_wraps, .reason = R_CNTREG },
	{ "counts on the stacks", .hook = cnt_on_stk, .reason = R_OVERLAP },
	{ "counts run into the slots", .hook = cnt_on_slot, .reason = R_OVERLAP },
	{ "count_shards 4", SET(count_shards, 4), .reason = R_CNTSET },
	{ "count_shards 0", SET(count_shards, 0), .reason = R_CNTSET },
	{ "count_block 32", SET(count_block, 32), .reason = R_CNTSET },
	{ "count_size 16 in abi 4", SET(count_size, 16), .reason = R_CNTSET },
	{ "abi 3: flat counts of 16 bytes", .hook = abi3_flat, .reason = NULL },
	{ "abi 3 with a 32-byte count size", .hook = abi3_sharded_size, .reason = R_CNTSET },
	{ "counts 8 bytes into the stacks", .hook = cnt_into_stk_8, .reason = R_OVERLAP },
	{ "counts_off + 4", .hook = cnt_plus_4, .reason = R_ALIGN },
	{ "abi 2: the count fields are not read", .hook = abi2_garbage_counts, .reason = NULL },
	{ "nstacks x8, beyond the file", .hook = nstacks_double, .reason = R_STKREG },
	{ "lframe_size 255", SET(lframe_size, 255), .reason = R_SIZES },
	{ "nlframes 0", SET(nlframes, 0), .reason = R_NLFR },
	{ "nlframes 4095", SET(nlframes, SA_NLFRAMES - 1), .reason = R_NLFR },
	{ "nlframes 2^21", SET(nlframes, 1u << 21), .reason = R_NLFR },
	{ "nlframes 2048", SET(nlframes, SA_NLFRAMES / 2), .reason = NULL },
	{ "lframes_off 0", SET(lframes_off, 0), .reason = R_LFRREG },
	{ "lframes_off at EOF", .hook = lfr_at_eof, .reason = R_LFRREG },
	{ "lframes_off wraps", .hook = lfr_wraps, .reason = R_LFRREG },
	{ "lframes_off + 4", .hook = lfr_plus_4, .reason = R_ALIGN },
	{ "lframes on the stacks", .hook = lfr_on_stk, .reason = R_OVERLAP },
	{ "slots on the lframes", .hook = lfr_on_slot, .reason = R_OVERLAP },
	{ "lframes on the modules", .hook = lfr_on_mod, .reason = R_OVERLAP },
	{ "nmodules 2^16 + 1", SET(nmodules, (1u << 16) + 1), .reason = R_NMODULES },
	{ "nmodules 0", SET(nmodules, 0), .reason = NULL },
	{ "depth 0", SET(depth, 0), .reason = R_DEPTH },
	{ "depth 33", SET(depth, SA_MAX_FRAMES + 1), .reason = R_DEPTH },
	{ "depth UINT32_MAX", SET(depth, UINT32_MAX), .reason = R_DEPTH },
	{ "depth 1", SET(depth, 1), .reason = NULL },
	{ "pid 0", SET(pid, 0), .reason = R_PID },
	{ "pid -1", SET(pid, (uint32_t)-1), .reason = R_PID },
	{ "pid INT32_MIN", SET(pid, (uint32_t)INT32_MIN), .reason = R_PID },
	{ "modules_off 0", SET(modules_off, 0), .reason = R_MODREG },
	{ "modules_off inside the header", SET(modules_off, SA_HEADER_SIZE - 8), .reason = R_MODREG },
	{ "modules_off at EOF", .hook = mod_at_eof, .reason = R_MODREG },
	{ "modules_off 8 bytes before EOF", .hook = mod_past_eof, .reason = R_MODREG },
	{ "modules_off UINT64_MAX", SET(modules_off, UINT64_MAX), .reason = R_MODREG },
	{ "modules_off UINT64_MAX - 4095", SET(modules_off, UINT64_MAX - 4095), .reason = R_MODREG },
	{ "modules_off + length wraps to 0", .hook = mod_wraps, .reason = R_MODREG },
	{ "stacks_off 0", SET(stacks_off, 0), .reason = R_STKREG },
	{ "stacks_off inside the header", SET(stacks_off, SA_HEADER_SIZE - 8), .reason = R_STKREG },
	{ "stacks_off at EOF", .hook = stk_at_eof, .reason = R_STKREG },
	{ "stacks_off 8 bytes before EOF", .hook = stk_past_eof, .reason = R_STKREG },
	{ "stacks_off UINT64_MAX", SET(stacks_off, UINT64_MAX), .reason = R_STKREG },
	{ "stacks_off UINT64_MAX - 4095", SET(stacks_off, UINT64_MAX - 4095), .reason = R_STKREG },
	{ "stacks_off + length wraps to 0", .hook = stk_wraps, .reason = R_STKREG },
	{ "slots_off 0", SET(slots_off, 0), .reason = R_SLOTREG },
	{ "slots_off inside the header", SET(slots_off, SA_HEADER_SIZE - 8), .reason = R_SLOTREG },
	{ "slots_off at EOF", .hook = slot_at_eof, .reason = R_SLOTREG },
	{ "slots_off 8 bytes before EOF", .hook = slot_past_eof, .reason = R_SLOTREG },
	{ "slots_off UINT64_MAX", SET(slots_off, UINT64_MAX), .reason = R_SLOTREG },
	{ "slots_off UINT64_MAX - 4095", SET(slots_off, UINT64_MAX - 4095), .reason = R_SLOTREG },
	{ "slots_off + length wraps to 0", .hook = slot_wraps, .reason = R_SLOTREG },
	{ "stacks on the modules", .hook = stk_on_mod, .reason = R_OVERLAP },
	{ "slots on the stacks", .hook = slot_on_stk, .reason = R_OVERLAP },
	{ "modules on the slots", .hook = mod_on_slot, .reason = R_OVERLAP },
	{ "stacks a page into the modules", .hook = stk_into_mod, .reason = R_OVERLAP },
	{ "slots 8 bytes into the stacks", .hook = slot_into_stk_8, .reason = R_OVERLAP },
	{ "stacks 8 bytes into 500 modules", .hook = stk_adjacent_less_8, .reason = R_OVERLAP },
	{ "stacks right after 500 modules", .hook = stk_adjacent, .reason = NULL },
	{ "slots_off + 4", .hook = slot_plus_4, .reason = R_ALIGN },
	{ "slots_off + 1", .hook = slot_plus_1, .reason = R_ALIGN },
	{ "modules_off + 4", .hook = mod_plus_4, .reason = R_ALIGN },
	{ "stacks_off + 4", .hook = stk_plus_4_counts, .reason = R_ALIGN },
	{ "slots_off + 8", .hook = slot_plus_8, .reason = NULL },
	{ "run_id unterminated", .hook = run_id_full, .reason = R_STRING },
	{ "cmdline unterminated", .hook = cmdline_full, .reason = R_STRING },
	{ "run_id full, NUL in its last byte", .hook = run_id_last_nul, .reason = NULL },
	{ "cmdline full, NUL in its last byte", .hook = cmdline_last_nul, .reason = NULL },
	{ "empty file", .hook = file_empty, .reason = R_SHORT },
	{ "100-byte file", .hook = file_100, .reason = R_SHORT },
	{ "file one byte shorter than a header", .hook = file_header_less_1, .reason = R_SHORT },
	{ "header-only file", .hook = file_header_only, .reason = R_MODREG },
};

static void set_field(struct sa_header *h, size_t off, size_t width, uint64_t val)
{
	uint8_t *p = (uint8_t *)h + off;
	uint32_t v32 = (uint32_t)val;

	if (width == sizeof(v32))
		memcpy(p, &v32, sizeof(v32));
	else if (width == sizeof(val))
		memcpy(p, &val, sizeof(val));
	else
		bail("field at %zu: width %zu", off, width);
}

static void test_header_check(void)
{
	struct sa_header base;
	uint64_t base_size = fresh(&base, BASE_SLOTS);

	if (!ok(sa_header_check(&base, base_size) == NULL, "base layout (%u slots) is sound",
		BASE_SLOTS))
		bail("the base layout must be accepted before it is corrupted");

	for (size_t i = 0; i < ARRAY_SIZE(mutations); i++) {
		const struct mutation *m = &mutations[i];
		struct sa_header h = base, before;
		uint64_t size = base_size;
		const char *got;
		bool same;

		if (m->hook)
			m->hook(&h, &size);
		else
			set_field(&h, m->off, m->width, m->val);
		before = h;
		got = sa_header_check(&h, size);
		if (m->reason)
			same = got && strcmp(got, m->reason) == 0;
		else
			same = got == NULL;
		ok(same, "%s: %s", m->what, m->reason ? m->reason : "accepted");
		if (!same)
			diag("got: %s", got ? got : "(accepted)");
		ok(memcmp(&before, &h, sizeof(h)) == 0, "%s: the header is left untouched", m->what);
	}
}

/* ---- sa_stack_hash ----------------------------------------------------- */

/* One round of the hash as table.c documents it (FNV-1a over words, then
 * an xorshift): used only to build inputs whose raw hash is 0. Were the
 * function to change, these stay ordinary inputs and the checks still hold. */
static uint64_t hash_round(uint64_t h, uint64_t frame)
{
	h ^= frame;
	h *= 0x100000001b3ULL;
	h ^= h >> 29;
	return h;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static void test_stack_hash(void)
{
	uint64_t frames[SA_MAX_FRAMES], copy[SA_MAX_FRAMES], by_depth[SA_MAX_FRAMES + 1];
	bool never_zero = true, distinct = true, same = true;

	for (unsigned i = 0; i < SA_MAX_FRAMES; i++)
		frames[i] = 0x400000 + 0x10 * i;

	ok(sa_stack_hash(frames, 0) != 0, "hash of an empty stack is not 0");

	/* Inputs whose last word cancels the running hash. */
	for (uint32_t d = 1; d <= SA_MAX_FRAMES; d++) {
		uint64_t in[SA_MAX_FRAMES], h = 0xcbf29ce484222325ULL ^ d;

		for (uint32_t i = 0; i + 1 < d; i++) {
			in[i] = frames[i];
			h = hash_round(h, in[i]);
		}
		in[d - 1] = h;
		if (sa_stack_hash(in, d) == 0) {
			diag("depth %u: 0", d);
			never_zero = false;
		}
	}
	ok(never_zero, "hash never 0, even where the rounds cancel out (depth 1..%u)",
	   SA_MAX_FRAMES);

	never_zero = true;
	for (int n = 0; n < 100000 && never_zero; n++) {
		uint32_t d = (uint32_t)(rng() % (SA_MAX_FRAMES + 1));

		for (uint32_t i = 0; i < d; i++)
			copy[i] = rng() & (n & 1 ? 0xffff : UINT64_MAX);
		never_zero = sa_stack_hash(copy, d) != 0;
	}
	ok(never_zero, "hash never 0 over 100000 random stacks");

	/* Same frames, every depth: all different. */
	for (uint32_t d = 0; d <= SA_MAX_FRAMES; d++)
		by_depth[d] = sa_stack_hash(frames, d);
	for (uint32_t a = 0; a <= SA_MAX_FRAMES; a++)
		for (uint32_t b = a + 1; b <= SA_MAX_FRAMES; b++)
			if (by_depth[a] == by_depth[b]) {
				diag("depth %u and %u collide", a, b);
				distinct = false;
			}
	ok(distinct, "same frames at depths 0..%u hash differently", SA_MAX_FRAMES);

	/* Depth is hashed, not only implied by the number of rounds: a depth-2
	 * stack built so that its rounds, unseeded, end where a depth-1
	 * stack's do, must still hash differently. */
	{
		const uint64_t basis = 0xcbf29ce484222325ULL, one = 0x401000, first = 0x402000;
		const uint64_t crafted[2] = { first, hash_round(basis, first) ^ basis ^ one };

		ok(sa_stack_hash(crafted, 2) != sa_stack_hash(&one, 1),
		   "depth is part of the hash (crafted depth-1/depth-2 pair differs)");
	}

	memset(copy, 0, sizeof(copy));
	distinct = true;
	for (uint32_t d = 0; d <= SA_MAX_FRAMES; d++)
		by_depth[d] = sa_stack_hash(copy, d);
	for (uint32_t a = 0; a <= SA_MAX_FRAMES; a++)
		for (uint32_t b = a + 1; b <= SA_MAX_FRAMES; b++)
			if (by_depth[a] == by_depth[b])
				distinct = false;
	ok(distinct, "all-zero frames at depths 0..%u hash differently", SA_MAX_FRAMES);

	/* Same input, same hash: two other buffers whose words past depth
	 * differ from each other and from frames' (complemented, zero). */
	for (uint32_t d = 0; d <= SA_MAX_FRAMES; d++) {
		uint64_t zeroed[SA_MAX_FRAMES] = { 0 };

		for (uint32_t i = 0; i < SA_MAX_FRAMES; i++)
			copy[i] = i < d ? frames[i] : ~frames[i];
		memcpy(zeroed, frames, d * sizeof(frames[0]));
		if (sa_stack_hash(frames, d) != sa_stack_hash(copy, d) ||
		    sa_stack_hash(copy, d) != sa_stack_hash(zeroed, d)) {
			diag("depth %u: %#llx %#llx %#llx", d,
			     (unsigned long long)sa_stack_hash(frames, d),
			     (unsigned long long)sa_stack_hash(copy, d),
			     (unsigned long long)sa_stack_hash(zeroed, d));
			same = false;
		}
	}
	ok(same, "equal frames hash equal at every depth; words past depth are ignored");

	/* Every frame counts, in its low and high bits. */
	distinct = true;
	for (uint32_t i = 0; i < SA_MAX_FRAMES; i++) {
		static const uint64_t bits[] = { 1, 1ull << 12, 1ull << 63 };

		for (size_t b = 0; b < ARRAY_SIZE(bits); b++) {
			memcpy(copy, frames, sizeof(copy));
			copy[i] ^= bits[b];
			if (sa_stack_hash(copy, SA_MAX_FRAMES) == sa_stack_hash(frames, SA_MAX_FRAMES)) {
				diag("frame %u bit %#llx ignored", i, (unsigned long long)bits[b]);
				distinct = false;
			}
		}
	}
	ok(distinct, "flipping any one frame's bit 0, 12 or 63 changes the hash");

	memcpy(copy, frames, sizeof(copy));
	copy[0] = frames[1];
	copy[1] = frames[0];
	ok(sa_stack_hash(copy, SA_MAX_FRAMES) != sa_stack_hash(frames, SA_MAX_FRAMES),
	   "frame order matters");
}

/* ---- sa_origin_name ---------------------------------------------------- */

static void test_origin_names(void)
{
	static const struct {
		unsigned origin;
		const char *name;
	} names[] = {
		{ SA_ORIGIN_NONE, "none" },
		{ SA_ORIGIN_SOCKET, "socket" },
		{ SA_ORIGIN_ACCEPT, "accept" },
		{ SA_ORIGIN_SOCKETPAIR, "socketpair" },
		{ SA_ORIGIN_DUP, "dup" },
		{ SA_ORIGIN_RECEIVED, "received" },
		{ SA_ORIGIN_INHERIT_START, "inherited-start" },
		{ SA_ORIGIN_INHERIT_EXEC, "inherited-exec" },
		{ SA_ORIGIN_INHERIT_FORK, "inherited-fork" },
	};
	static const unsigned out_of_range[] = {
		SA_ORIGIN_MAX, SA_ORIGIN_MAX + 1, 255, 256, UINT_MAX,
	};

	ok(ARRAY_SIZE(names) == SA_ORIGIN_MAX, "every origin below SA_ORIGIN_MAX has a case here");
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		const char *got = sa_origin_name(names[i].origin);

		ok(got && strcmp(got, names[i].name) == 0, "origin %u is \"%s\"", names[i].origin,
		   names[i].name);
	}
	for (size_t i = 0; i < ARRAY_SIZE(out_of_range); i++) {
		const char *got = sa_origin_name(out_of_range[i]);

		ok(got && strcmp(got, "unknown") == 0, "origin %u is \"unknown\"", out_of_range[i]);
	}
}


/* ---- sa_stat_starttime ----------------------------------------------- */

/* Lines shaped as proc_pid_stat(5) documents them: pid (comm) state, then
 * fields 4..52 separated by single spaces; field 22 is starttime. `st22`
 * builds one with the given comm and starttime. */
#define STAT_HEAD(comm) "4242 (" comm ") S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
#define STAT_TAIL " 12345678 512 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"

static const struct stat_case {
	const char *line;
	int rc;
	uint64_t starttime;
	const char *why;
} stat_cases[] = {
	{ STAT_HEAD("sleep") "987654" STAT_TAIL, 0, 987654, "plain comm" },
	{ STAT_HEAD("a b c") "11" STAT_TAIL, 0, 11, "comm with spaces" },
	{ STAT_HEAD("x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20") "77" STAT_TAIL, 0,
	  77, "comm holding ') ' and a fake field list: the last ')' counts" },
	{ STAT_HEAD("))") "5" STAT_TAIL, 0, 5, "comm of two ')'" },
	{ STAT_HEAD("(") "6" STAT_TAIL, 0, 6, "comm of one '('" },
	{ STAT_HEAD("") "0" STAT_TAIL, 0, 0, "empty comm, starttime 0" },
	{ STAT_HEAD("t") "18446744073709551615" STAT_TAIL, 0, UINT64_MAX, "starttime 2^64-1" },
	{ STAT_HEAD("t") "18446744073709551616" STAT_TAIL, -1, 0, "starttime 2^64 overflows" },
	{ STAT_HEAD("t") "42", 0, 42, "line ending at field 22" },
	{ STAT_HEAD("t") "42\n", 0, 42, "line ending at field 22 with a newline" },
	{ STAT_HEAD("t"), -1, 0, "cut before field 22" },
	{ "4242 (t) S 1 2 3\n", -1, 0, "too few fields" },
	{ STAT_HEAD("t") "x42" STAT_TAIL, -1, 0, "field 22 not a number" },
	{ STAT_HEAD("t") "42x" STAT_TAIL, -1, 0, "field 22 with a trailing letter" },
	{ STAT_HEAD("t") "-42" STAT_TAIL, -1, 0, "negative field 22" },
	{ "4242 t S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20\n", -1, 0, "no ')' at all" },
	{ "", -1, 0, "empty" },
};

static void test_stat_starttime(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(stat_cases); i++) {
		const struct stat_case *c = &stat_cases[i];
		uint64_t v = 0xdead;
		int rc = sa_stat_starttime(c->line, strlen(c->line), &v);

		ok(rc == c->rc && (rc < 0 ? v == 0xdead : v == c->starttime),
		   "stat starttime: %s (rc %d, %" PRIu64 ")", c->why, rc, v);
	}
	/* The length bounds the parse: no NUL needed, none read past it. */
	{
		static const char line[] = STAT_HEAD("t") "123" STAT_TAIL;
		char buf[sizeof(line) - 1];
		uint64_t v = 0;

		memcpy(buf, line, sizeof(buf));
		ok(sa_stat_starttime(buf, sizeof(buf), &v) == 0 && v == 123,
		   "stat starttime: buffer without NUL, parsed within its length");
		ok(sa_stat_starttime(buf, (size_t)(strstr(line, "123") - line) + 2, &v) == 0 &&
		   v == 12, "stat starttime: a length cutting field 22 stops there");
	}
}

/* ---- sa_slot_read ------------------------------------------------------ */

/* A fresh header: the layout, the writer's identity, generation 1 and an
 * exit status not known; nothing left of what was in the page before. */
static void test_header_init(void)
{
	struct sa_header layout = { 0 }, h;
	const struct sa_writer_id id = {
		.uid = 1000, .depth = 7, .flags = SA_HDR_RECORDER, .pid = 4242, .ppid = 1,
		.starttime = 123456, .created_ns = 42,
	};

	sa_layout(&layout, 1024);
	memset(&h, 0xa5, sizeof(h));
	sa_header_init(&h, &layout, &id);
	ok(h.magic == SA_MAGIC && h.nslots == 1024 && h.slots_off == layout.slots_off &&
	   h.file_size == layout.file_size, "header_init: the layout");
	ok(h.uid == 1000 && h.depth == 7 && h.flags == SA_HDR_RECORDER && h.pid == 4242 &&
	   h.ppid == 1 && h.starttime == 123456 && h.created_ns == 42,
	   "header_init: the writer's identity");
	ok(h.generation == 1 && h.exit_status == -1 && h.exited_ns == 0 && h.modules_used == 0 &&
	   h.counters.records == 0 && h.cmdline[0] == '\0' && h.run_id[0] == '\0',
	   "header_init: generation 1, exit status unknown, the rest zero");
	ok(sa_header_check(&h, h.file_size) == NULL, "header_init: passes the reader's check");
}

/* ---- sa_reader_modules ------------------------------------------------- */

/* A module entry claimed but never written (its page could not be backed)
 * stays empty for good: the reader must not stop there and lose the
 * modules logged after it. A real file: entries 0 and 2 ready, 1 empty. */
static void test_reader_modules_gap(void)
{
	char path[] = "/tmp/sockaudit-test-modules.XXXXXX", err[512];
	struct sa_header layout = { 0 }, h;
	const struct sa_writer_id id = { .uid = (uint32_t)geteuid(), .depth = 8, .pid = 1,
					  .starttime = 1 };
	struct sa_module m[3], out[4];
	struct sa_reader r;
	size_t n;
	int fd = mkstemp(path);

	if (!ok(fd >= 0, "modules gap: a temporary table file"))
		return;
	sa_layout(&layout, 64);
	sa_header_init(&h, &layout, &id);
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 3; i += 2) {
		m[i].state = SA_ENTRY_READY;
		m[i].generation = 1;
		m[i].start = 0x1000u * (uint64_t)(i + 1);
		m[i].end = m[i].start + 0x800;
		snprintf(m[i].path, sizeof(m[i].path), "/lib/mod%d.so", i);
	}
	h.modules_used = 3;
	ok(fchmod(fd, 0600) == 0 && ftruncate(fd, (off_t)h.file_size) == 0 &&
	   pwrite(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
	   pwrite(fd, m, sizeof(m), (off_t)h.modules_off) == (ssize_t)sizeof(m),
	   "modules gap: header and three module entries written");
	close(fd);
	if (!ok(sa_reader_open(&r, path, geteuid(), err, sizeof(err)) == 0,
		"modules gap: the reader opens it (%s)", err)) {
		unlink(path);
		return;
	}
	n = sa_reader_modules(&r, out, 4);
	ok(n == 2 && strcmp(out[0].path, "/lib/mod0.so") == 0 &&
	   strcmp(out[1].path, "/lib/mod2.so") == 0,
	   "modules gap: both ready entries read past the empty one (%zu read)", n);
	sa_reader_close(&r);
	unlink(path);
}

static void test_slot_read(void)
{
	struct sa_slot src = { 0 }, dst;

	src.seq = 4;
	src.used = 1;
	src.fd = 7;
	src.inode = 99;
	memset(&dst, 0xff, sizeof(dst));
	ok(sa_slot_read(&src, &dst, 1) && dst.seq == 4 && dst.used == 1 && dst.fd == 7 &&
	   dst.inode == 99, "slot read: an even seq copies the record and its seq");
	src.seq = 5;
	ok(!sa_slot_read(&src, &dst, 1000), "slot read: an odd seq never settles: false");
	ok(!sa_slot_read(&src, &dst, 0), "slot read: zero tries: false");
}

int main(void)
{
	test_names();
	test_layout();
	test_header_init();
	test_header_check();
	test_stack_hash();
	test_origin_names();
	test_stat_starttime();
	test_slot_read();
	test_reader_modules_gap();
	return tap_done();
}
