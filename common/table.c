/* Pure helpers over the table ABI: layout, names, header validation. They
 * run in the shim (layout, names, hash) and in the CLI (everything), so they
 * use no allocation, no stdio and no locale. */
#include "table.h"

#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

uint64_t sa_layout(struct sa_header *h, uint32_t nslots)
{
	uint64_t off = SA_HEADER_SIZE;

	h->magic = SA_MAGIC;
	h->abi_version = SA_ABI_VERSION;
	h->compat_version = SA_ABI_COMPAT;
	h->header_size = SA_HEADER_SIZE;
	h->slot_size = sizeof(struct sa_slot);
	h->stack_size = sizeof(struct sa_stack);
	h->module_size = sizeof(struct sa_module);
	h->lframe_size = sizeof(struct sa_lframe);
	h->nlframes = SA_NLFRAMES;
	h->nmodules = SA_NMODULES;
	h->nstacks = SA_NSTACKS;
	h->nslots = nslots;

	h->modules_off = off;
	off = align_up(off + (uint64_t)SA_NMODULES * sizeof(struct sa_module), 4096);
	h->stacks_off = off;
	off = align_up(off + (uint64_t)SA_NSTACKS * sizeof(struct sa_stack), 4096);
	h->lframes_off = off;
	off = align_up(off + (uint64_t)SA_NLFRAMES * sizeof(struct sa_lframe), 4096);
	h->counts_off = off;
	h->ncounts = SA_NSTACKS;
	h->count_size = sizeof(struct sa_count);
	h->count_shards = SA_COUNT_SHARDS;
	h->count_block = SA_COUNT_BLOCK;
	off = align_up(off + sa_counts_len(SA_NSTACKS), 4096);
	h->slots_off = off;
	off = align_up(off + (uint64_t)nslots * sizeof(struct sa_slot), 4096);
	h->file_size = off;
	return off;
}

void sa_header_init(struct sa_header *h, const struct sa_header *layout,
		    const struct sa_writer_id *id)
{
	*h = *layout;
	h->depth = id->depth;
	h->uid = id->uid;
	h->pid = id->pid;
	h->ppid = id->ppid;
	h->starttime = id->starttime;
	h->generation = 1;
	h->flags = id->flags;
	h->exit_status = -1;
	h->created_ns = id->created_ns;
}

/* Decimal without stdio: the shim calls this. */
static char *put_u64(char *p, char *end, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && p < end)
		*p++ = tmp[--n];
	return n ? NULL : p;
}

static char *put_str(char *p, char *end, const char *s)
{
	while (*s && p < end)
		*p++ = *s++;
	return *s ? NULL : p;
}

int sa_table_name(char *buf, unsigned len, uint32_t uid, int32_t pid, uint64_t starttime)
{
	char *p = buf, *end;

	if (len == 0 || pid <= 0)
		return -1;
	end = buf + len - 1;
	if (!(p = put_str(p, end, "sockaudit.")) || !(p = put_u64(p, end, uid)) ||
	    !(p = put_str(p, end, ".")) || !(p = put_u64(p, end, (uint64_t)pid)) ||
	    !(p = put_str(p, end, ".")) || !(p = put_u64(p, end, starttime)))
		return -1;
	*p = '\0';
	return 0;
}

static const char *get_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
		return NULL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return NULL;
		v = v * 10 + d;
	}
	*out = v;
	return s;
}

int sa_table_name_parse(const char *name, uint32_t *uid, int32_t *pid, uint64_t *starttime)
{
	static const char prefix[] = "sockaudit.";
	uint64_t u, p, st;
	const char *s = name;

	if (strncmp(s, prefix, sizeof(prefix) - 1) != 0)
		return -1;
	s += sizeof(prefix) - 1;
	if (!(s = get_u64(s, UINT32_MAX, &u)) || *s++ != '.')
		return -1;
	if (!(s = get_u64(s, INT32_MAX, &p)) || p == 0 || *s++ != '.')
		return -1;
	if (!(s = get_u64(s, UINT64_MAX, &st)) || *s != '\0')
		return -1;
	*uid = (uint32_t)u;
	*pid = (int32_t)p;
	*starttime = st;
	return 0;
}

/* [off, off + n * size) lies inside [SA_HEADER_SIZE, file_size) without overflow. */
static int region_ok(uint64_t off, uint64_t n, uint64_t size, uint64_t file_size)
{
	uint64_t bytes;

	if (off < SA_HEADER_SIZE || off > file_size)
		return 0;
	if (n && size > UINT64_MAX / n)
		return 0;
	bytes = n * size;
	return bytes <= file_size - off;
}

static int regions_disjoint(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a + alen <= b || b + blen <= a;
}

const char *sa_header_check(const struct sa_header *h, uint64_t file_size)
{
	uint64_t mlen, slen, tlen, llen;

	if (file_size < SA_HEADER_SIZE)
		return "file shorter than a header";
	if (h->magic != SA_MAGIC)
		return "bad magic (not a sockaudit table)";
	if (h->compat_version > SA_ABI_VERSION)
		return "table written by a newer, incompatible sockaudit";
	if (h->abi_version < SA_ABI_OLDEST)
		return "table written by an older, incompatible sockaudit";
	if (h->header_size != SA_HEADER_SIZE || h->slot_size != sizeof(struct sa_slot) ||
	    h->stack_size != sizeof(struct sa_stack) || h->module_size != sizeof(struct sa_module) ||
	    h->lframe_size != sizeof(struct sa_lframe))
		return "record sizes do not match this sockaudit";
	if (h->file_size != file_size)
		return "file size does not match its header";
	if (h->nslots == 0 || h->nslots > SA_MAX_SLOTS)
		return "slot count out of range";
	if (h->nstacks == 0 || h->nstacks > 1u << 20 || (h->nstacks & (h->nstacks - 1)))
		return "stack count out of range";
	if (h->nmodules > 1u << 16)
		return "module count out of range";
	if (h->nlframes == 0 || h->nlframes > 1u << 20 || (h->nlframes & (h->nlframes - 1)))
		return "language frame count out of range";
	if (h->depth == 0 || h->depth > SA_MAX_FRAMES)
		return "stack depth out of range";
	if (h->pid <= 0)
		return "bad pid";
	if (!region_ok(h->modules_off, h->nmodules, h->module_size, file_size))
		return "module region out of bounds";
	if (!region_ok(h->stacks_off, h->nstacks, h->stack_size, file_size))
		return "stack region out of bounds";
	if (!region_ok(h->slots_off, h->nslots, h->slot_size, file_size))
		return "slot region out of bounds";
	if (!region_ok(h->lframes_off, h->nlframes, h->lframe_size, file_size))
		return "language frame region out of bounds";
	mlen = (uint64_t)h->nmodules * h->module_size;
	slen = (uint64_t)h->nstacks * h->stack_size;
	tlen = (uint64_t)h->nslots * h->slot_size;
	llen = (uint64_t)h->nlframes * h->lframe_size;
	if (!regions_disjoint(h->modules_off, mlen, h->stacks_off, slen) ||
	    !regions_disjoint(h->modules_off, mlen, h->slots_off, tlen) ||
	    !regions_disjoint(h->stacks_off, slen, h->slots_off, tlen) ||
	    !regions_disjoint(h->lframes_off, llen, h->modules_off, mlen) ||
	    !regions_disjoint(h->lframes_off, llen, h->stacks_off, slen) ||
	    !regions_disjoint(h->lframes_off, llen, h->slots_off, tlen))
		return "regions overlap";
	if (h->modules_off % 8 || h->stacks_off % 8 || h->slots_off % 8 || h->lframes_off % 8)
		return "misaligned region";
	if (h->abi_version >= SA_ABI_COUNTS) {
		bool sharded = h->abi_version >= SA_ABI_SHARDED;
		uint64_t clen = sharded ? sa_counts_len(h->nstacks)
					: (uint64_t)h->ncounts * h->count_size;

		if (h->count_size != (sharded ? sizeof(struct sa_count) : sizeof(struct sa_count_v3)) ||
		    h->ncounts != h->nstacks ||
		    (sharded && (h->count_shards != SA_COUNT_SHARDS ||
				 h->count_block != SA_COUNT_BLOCK)))
			return "count region does not match the stack set";
		if (!region_ok(h->counts_off, 1, clen, file_size))
			return "count region out of bounds";
		if (!regions_disjoint(h->counts_off, clen, h->modules_off, mlen) ||
		    !regions_disjoint(h->counts_off, clen, h->stacks_off, slen) ||
		    !regions_disjoint(h->counts_off, clen, h->slots_off, tlen) ||
		    !regions_disjoint(h->counts_off, clen, h->lframes_off, llen))
			return "regions overlap";
		if (h->counts_off % 8)
			return "misaligned region";
	}
	if (memchr(h->run_id, '\0', sizeof(h->run_id)) == NULL ||
	    memchr(h->cmdline, '\0', sizeof(h->cmdline)) == NULL)
		return "unterminated string in header";
	return NULL;
}

uint64_t sa_stack_hash(const uint64_t *frames, uint32_t depth)
{
	/* FNV-1a over the words: cheap, and good enough to spread return
	 * addresses that differ in their low bits. */
	uint64_t h = 0xcbf29ce484222325ULL ^ depth;

	for (uint32_t i = 0; i < depth; i++) {
		h ^= frames[i];
		h *= 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h ? h : 1;
}

uint32_t sa_lframe_hash(unsigned lang, uint32_t line, uint32_t column, const char *file,
			size_t file_len, const char *func, size_t func_len)
{
	uint32_t h = 0x811c9dc5u ^ lang;   /* FNV-1a, 32 bits */

	h = (h ^ line) * 0x01000193u;
	h = (h ^ column) * 0x01000193u;
	for (size_t i = 0; i < file_len; i++)
		h = (h ^ (uint8_t)file[i]) * 0x01000193u;
	h = (h ^ 0xffu) * 0x01000193u;   /* "a" "bc" differs from "ab" "c" */
	for (size_t i = 0; i < func_len; i++)
		h = (h ^ (uint8_t)func[i]) * 0x01000193u;
	return h ? h : 1;
}

const char *sa_lang_name(unsigned lang)
{
	switch (lang) {
	case SA_LANG_PYTHON: return "python";
	case SA_LANG_NODE: return "node";
	case SA_LANG_JAVA: return "java";
	default: return NULL;
	}
}

const char *sa_origin_name(unsigned origin)
{
	static const char *const names[SA_ORIGIN_MAX] = {
		[SA_ORIGIN_NONE] = "none",
		[SA_ORIGIN_SOCKET] = "socket",
		[SA_ORIGIN_ACCEPT] = "accept",
		[SA_ORIGIN_SOCKETPAIR] = "socketpair",
		[SA_ORIGIN_DUP] = "dup",
		[SA_ORIGIN_RECEIVED] = "received",
		[SA_ORIGIN_INHERIT_START] = "inherited-start",
		[SA_ORIGIN_INHERIT_EXEC] = "inherited-exec",
		[SA_ORIGIN_INHERIT_FORK] = "inherited-fork",
	};

	return origin < SA_ORIGIN_MAX ? names[origin] : "unknown";
}

const char *const sa_counter_names[SA_NCOUNTERS] = {
	"records", "overflow_fd", "overflow_stack", "overflow_module", "missed",
	"reserve_failed", "stale_cleared", "overflow_lframe", "rescued",
};
_Static_assert(offsetof(struct sa_counters, reserved) == SA_NCOUNTERS * sizeof(uint64_t),
	       "sa_counter_names names every counter before the reserved ones");
_Static_assert(offsetof(struct sa_counters, rescued) == 8 * sizeof(uint64_t),
	       "sa_counter_names is in struct order");

bool sa_slot_read(const struct sa_slot *src, struct sa_slot *dst, unsigned tries)
{
	const _Atomic uint32_t *seqp = (const _Atomic uint32_t *)&src->seq;

	for (unsigned i = 0; i < tries; i++) {
		uint32_t s1 = atomic_load_explicit(seqp, memory_order_acquire);
		if (s1 & 1)
			continue;
		memcpy(dst, (const void *)src, sizeof(*dst));
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(seqp, memory_order_relaxed) == s1) {
			dst->seq = s1;
			return true;
		}
	}
	return false;
}

/* The n-th close takes entry n % SA_RESCUED_MAX: a writer owns it by
 * making its seq odd, and writes only if the count is still n once it owns
 * it. The count goes to n + 1 before the entry's seq is even again, so a
 * writer that read n late finds the count moved and leaves the entry. */
bool sa_rescued_put(struct sa_header *h, const struct sa_slot *rec, uint64_t close_ns)
{
	_Atomic uint64_t *count = (_Atomic uint64_t *)&h->counters.rescued;

	for (int tries = 0; tries < 8; tries++) {
		uint64_t n = atomic_load_explicit(count, memory_order_acquire);
		struct sa_rescued *e = &h->rescued[n % SA_RESCUED_MAX];
		_Atomic uint32_t *seqp = (_Atomic uint32_t *)&e->slot.seq;
		uint32_t seq = atomic_load_explicit(seqp, memory_order_relaxed);

		if ((seq & 1) || !atomic_compare_exchange_strong_explicit(
					 seqp, &seq, seq + 1, memory_order_acquire,
					 memory_order_relaxed))
			continue;
		if (atomic_load_explicit(count, memory_order_acquire) != n) {
			atomic_store_explicit(seqp, seq, memory_order_release);
			continue;
		}
		atomic_thread_fence(memory_order_release);
		memcpy((uint8_t *)&e->slot + sizeof(e->slot.seq),
		       (const uint8_t *)rec + sizeof(rec->seq), sizeof(e->slot) - sizeof(e->slot.seq));
		e->close_ns = close_ns;
		atomic_store_explicit(count, n + 1, memory_order_release);
		atomic_store_explicit(seqp, seq + 2, memory_order_release);
		return true;
	}
	return false;
}

int sa_stat_starttime(const char *buf, size_t len, uint64_t *starttime)
{
	const char *p = NULL, *end = buf + len;
	uint64_t v = 0;
	int field = 2;

	for (const char *q = buf; q < end; q++)
		if (*q == ')')
			p = q;
	if (!p)
		return -1;
	/* After comm: " S ppid ...": each single space starts the next field. */
	for (p++; p < end && field < 22; p++) {
		if (*p == ' ')
			field++;
		else if (*p == '\0' || *p == '\n')
			return -1;
	}
	if (field != 22 || p >= end || *p < '0' || *p > '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (p < end && *p != ' ' && *p != '\n' && *p != '\0')
		return -1;
	*starttime = v;
	return 0;
}
