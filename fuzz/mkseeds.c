/* mkseeds: writes the seed corpora of the fuzz targets (tests/fuzz-corpus/).
 *
 *   mkseeds table DIR [TABLE...]   synthetic inputs for fuzz-table, plus each
 *                                  real TABLE compacted to a few KB
 *   mkseeds frame DIR              frames for fuzz-frame
 *   mkseeds gopclntab DIR          Go pc-line tables for fuzz-gopclntab
 *
 * Input formats are described at the top of fuzz-table.c, fuzz-frame.c and
 * gopcln-synth.h.
 * The stored corpus is the output of this program: rerun it when a format
 * or the table ABI changes (docs/fuzzing.md).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "price.h"
#include "table.h"
#include "wire.h"

#include "../tests/repro/thrift-vectors.h"
#include "gopcln-synth.h"

static const char *outdir;

static void put_file(const char *name, const void *a, size_t alen, const void *b, size_t blen)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(a, 1, alen, f) != alen || (blen && fwrite(b, 1, blen, f) != blen) ||
	    fclose(f) != 0) {
		fprintf(stderr, "mkseeds: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* ---- fuzz-table ----------------------------------------------------------- */

#define MODE_RAW_OWN_UID 0x04
#define MODE_NAME 0x01
#define MODE_BUILT 0x02
#define MODE_BUILT_SPARSE 0x03

struct image {
	uint8_t *b;
	size_t len;
	struct sa_header *h;
};

static uint64_t align8(uint64_t v)
{
	return (v + 7) & ~7ull;
}

/* A packed, valid table: header, modules, stacks, counts, slots. */
static void image_init(struct image *im, uint32_t nmodules, uint32_t nstacks, uint32_t nslots,
		       uint32_t depth)
{
	struct sa_header h;

	memset(&h, 0, sizeof(h));
	sa_layout(&h, 1);
	h.nmodules = nmodules;
	h.nstacks = nstacks;
	h.nslots = nslots;
	h.depth = depth;
	h.modules_off = SA_HEADER_SIZE;
	h.stacks_off = align8(h.modules_off + (uint64_t)nmodules * sizeof(struct sa_module));
	h.counts_off = align8(h.stacks_off + (uint64_t)nstacks * sizeof(struct sa_stack));
	h.ncounts = nstacks;
	h.slots_off = align8(h.counts_off + sa_counts_len(nstacks));
	h.file_size = h.slots_off + (uint64_t)nslots * sizeof(struct sa_slot);
	h.uid = 0;
	h.pid = 4242;
	h.ppid = 1;
	h.starttime = 123456;
	h.generation = 1;
	h.flags = SA_HDR_UNDER_RUN | SA_HDR_EXITED;
	h.exit_status = 0;
	h.created_ns = 1700000000000000000ull;
	h.exited_ns = 1700000001000000000ull;
	snprintf(h.run_id, sizeof(h.run_id), "seed");
	snprintf(h.cmdline, sizeof(h.cmdline), "./server --port 9090");
	im->len = h.file_size;
	im->b = calloc(1, im->len);
	if (!im->b)
		abort();
	memcpy(im->b, &h, sizeof(h));
	im->h = (struct sa_header *)im->b;
}

static struct sa_module *mod_at(struct image *im, uint32_t i)
{
	return (struct sa_module *)(im->b + im->h->modules_off) + i;
}

static struct sa_stack *stack_at(struct image *im, uint32_t i)
{
	return (struct sa_stack *)(im->b + im->h->stacks_off) + i;
}

static struct sa_slot *slot_at(struct image *im, uint32_t i)
{
	return (struct sa_slot *)(im->b + im->h->slots_off) + i;
}

static void set_module(struct sa_module *m, uint32_t state, uint32_t gen, uint64_t start,
		       uint64_t end, const char *path, uint8_t build_id_len)
{
	m->state = state;
	m->generation = gen;
	m->start = start;
	m->end = end;
	m->bias = start;
	m->build_id_len = build_id_len;
	for (unsigned i = 0; i < SA_BUILD_ID_MAX; i++)
		m->build_id[i] = (uint8_t)(0x11 * i + start);
	snprintf(m->path, sizeof(m->path), "%s", path);
}

static void set_stack(struct sa_stack *s, uint32_t state, uint32_t depth, uint64_t base)
{
	s->state = state;
	s->depth = depth;
	s->generation = 1;
	for (uint32_t i = 0; i < depth && i < SA_MAX_FRAMES; i++)
		s->frames[i] = base + 0x40 * i;
	s->hash = sa_stack_hash(s->frames, depth < SA_MAX_FRAMES ? depth : SA_MAX_FRAMES);
}

static void set_slot(struct sa_slot *s, uint32_t seq, uint8_t origin, uint32_t open_stack,
		     uint32_t connect_stack)
{
	static const uint8_t sin[16] = { 2, 0, 0x23, 0x82, 127, 0, 0, 1 };

	s->seq = seq;
	s->used = 1;
	s->origin = origin;
	s->inode = 3827508 + seq;
	s->family = 2;
	s->type = 1;
	s->dup_of = -1;
	s->tid = 4242;
	s->open_stack = open_stack;
	s->connect_stack = connect_stack;
	s->generation = 1;
	s->open_ns = 1700000000500000000ull;
	if (connect_stack) {
		s->flags = SA_SLOT_CONNECTED;
		s->connect_ns = s->open_ns + 1000;
		s->peer_len = sizeof(sin);
		memcpy(s->peer, sin, sizeof(sin));
	}
}

/* The synthetic table every seed below starts from: one of each case the
 * reader distinguishes. */
static void example_table(struct image *im)
{
	image_init(im, 5, 8, 16, 8);
	set_module(mod_at(im, 0), SA_ENTRY_READY, 1, 0x555555554000, 0x555555560000, "", 20);
	set_module(mod_at(im, 1), SA_ENTRY_READY, 1, 0x7ffff7d80000, 0x7ffff7f90000,
		   "/usr/lib/x86_64-linux-gnu/libc.so.6", 20);
	set_module(mod_at(im, 2), SA_ENTRY_BUSY, 1, 0x7ffff7fa0000, 0x7ffff7fb0000,
		   "/half/published.so", 0);
	set_module(mod_at(im, 3), SA_ENTRY_READY, 2, 0x7ffff7fc0000, 0x7ffff7fb0000,
		   "/ends/before/start.so", 40);
	set_module(mod_at(im, 4), SA_ENTRY_READY, 2, 0x7ffff7fc0000, 0x7ffff7fd0000,
		   "/usr/lib/libsockaudit.so", 20);
	set_stack(stack_at(im, 0), SA_ENTRY_READY, 6, 0x555555555100);
	set_stack(stack_at(im, 1), SA_ENTRY_READY, 8, 0x7ffff7d81000);
	set_stack(stack_at(im, 2), SA_ENTRY_BUSY, 3, 0x555555555200);
	set_stack(stack_at(im, 3), SA_ENTRY_READY, 12, 0x555555555300);   /* deeper than depth */
	set_stack(stack_at(im, 5), SA_ENTRY_READY, 1, 0x555555555400);
	set_slot(slot_at(im, 3), 2, SA_ORIGIN_SOCKET, 1, 0);
	set_slot(slot_at(im, 4), 4, SA_ORIGIN_SOCKET, 1, 2);
	set_slot(slot_at(im, 5), 2, SA_ORIGIN_ACCEPT, 6, 0);
	set_slot(slot_at(im, 6), 6, SA_ORIGIN_DUP, 1, 2);
	slot_at(im, 6)->dup_of = 4;
	set_slot(slot_at(im, 7), 7, SA_ORIGIN_SOCKET, 1, 0);               /* mid-update */
	set_slot(slot_at(im, 8), 8, SA_ORIGIN_SOCKET, 3, 4);               /* busy, too deep */
	set_slot(slot_at(im, 9), 2, 200, 9, 0xffffffffu);                  /* forged */
	slot_at(im, 9)->fd = 1234;
	set_slot(slot_at(im, 10), 2, SA_ORIGIN_INHERIT_START, 0, 0);
	set_slot(slot_at(im, 11), 4, SA_ORIGIN_SOCKET, 1, 0);
	slot_at(im, 11)->used = 0;                                          /* closed */
	set_slot(slot_at(im, 15), 2, SA_ORIGIN_RECEIVED, 2, 0);
}

static void put_raw(const char *name, const struct image *im)
{
	uint8_t mode = MODE_RAW_OWN_UID;

	put_file(name, &mode, 1, im->b, im->len);
}

/* A built input: parameters, header patches, post-open patches, truncation,
 * then the body laid from SA_HEADER_SIZE. */
struct built {
	uint8_t buf[256 * 1024];
	size_t len;
};

static void b_put(struct built *b, const void *p, size_t n)
{
	if (b->len + n > sizeof(b->buf))
		abort();
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static void b_params(struct built *b, bool sparse, uint32_t nmodules, unsigned log2_stacks,
		     unsigned order, uint32_t nslots, unsigned spacing, bool post, bool trunc,
		     uint32_t depth, unsigned npatch, unsigned npost, unsigned mod_room)
{
	uint8_t p[7];

	if (nmodules > 255 || nslots < 1 || nslots > 1024)
		abort();

	p[0] = sparse ? MODE_BUILT_SPARSE : MODE_BUILT;
	p[1] = (uint8_t)nmodules;
	p[2] = (uint8_t)(log2_stacks | order << 5);
	p[3] = (uint8_t)(nslots - 1);
	p[4] = (uint8_t)(((nslots - 1) >> 8) | spacing << 4 | post << 6 | trunc << 7);
	p[5] = (uint8_t)(depth - 1);
	p[6] = (uint8_t)(npatch | (npost ? npost - 1 : 0) << 2 | mod_room << 4);
	b->len = 0;
	b_put(b, p, sizeof(p));
}

static void b_patch(struct built *b, uint32_t off, const void *bytes, uint8_t len)
{
	uint8_t h[3] = { (uint8_t)off, (uint8_t)(off >> 8), (uint8_t)(len - 1) };

	b_put(b, h, sizeof(h));
	b_put(b, bytes, len);
}

#define HOFF(field) ((uint32_t)offsetof(struct sa_header, field))

/* Region order 5 (slots, stacks, modules), packed: the body starts with slots. */
static void built_slots_first(struct built *b, struct image *ex, uint32_t nslots)
{
	for (uint32_t i = 0; i < nslots; i++)
		b_put(b, slot_at(ex, i), sizeof(struct sa_slot));
	for (uint32_t i = 0; i < 8; i++)
		b_put(b, stack_at(ex, i), sizeof(struct sa_stack));
	for (uint32_t i = 0; i < 5; i++)
		b_put(b, mod_at(ex, i), sizeof(struct sa_module));
}

static void table_seeds(int argc, char **argv)
{
	static const char *const names[] = {
		"sockaudit.0.1.1",
		"sockaudit.1000.4242.123456",
		"sockaudit.4294967295.2147483647.18446744073709551615",
		"sockaudit.4294967296.1.1",
		"sockaudit.01.2.3",
		"sockaudit.0.0.1",
		"sockaudit.0.1.1.tmp",
	};
	static struct built b;
	struct image ex, im;
	uint32_t v32;
	char name[64];

	example_table(&ex);
	put_raw("raw-example", &ex);
	/* The same as an abi-3 table: flat, unsharded 16-byte counts, still
	 * read (its counts fit in the region laid out for the sharded ones). */
	{
		struct sa_header keep = *ex.h;
		struct sa_count_v3 *c = (struct sa_count_v3 *)(ex.b + ex.h->counts_off);

		ex.h->abi_version = 3;
		ex.h->compat_version = 2;
		ex.h->count_size = sizeof(struct sa_count_v3);
		ex.h->count_shards = 0;
		ex.h->count_block = 0;
		c[0] = (struct sa_count_v3){ 100, 99 };
		put_raw("raw-example-abi3", &ex);
		memset(c, 0, sizeof(*c));
		*ex.h = keep;
	}

	/* The smallest valid table, and single-field breakages of the example. */
	image_init(&im, 0, 1, 1, 1);
	put_raw("raw-minimal", &im);
	free(im.b);
	{
		uint8_t mode = 0x00;    /* raw, uid left alone: refused unless root */

		put_file("raw-example-root-uid", &mode, 1, ex.b, ex.len);
	}
	struct { const char *name; uint32_t off; uint32_t val; } bad[] = {
		{ "raw-bad-magic", HOFF(magic), 0x41414141 },
		{ "raw-bad-compat", HOFF(compat_version), 2 },
		{ "raw-bad-slot-size", HOFF(slot_size), 64 },
		{ "raw-bad-nstacks", HOFF(nstacks), 6 },
		{ "raw-bad-depth", HOFF(depth), 33 },
		{ "raw-bad-pid", HOFF(pid), 0 },
		{ "raw-overlap", HOFF(stacks_off), SA_HEADER_SIZE + 8 },
		{ "raw-misaligned", HOFF(modules_off), 0 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		im.len = ex.len;
		im.b = malloc(ex.len);
		memcpy(im.b, ex.b, ex.len);
		im.h = (struct sa_header *)im.b;
		if (bad[i].off == HOFF(modules_off)) {
			im.h->nmodules--;       /* room for the shift: no overlap */
			im.h->modules_off += 4;
		} else
			memcpy(im.b + bad[i].off, &bad[i].val, 4);
		put_raw(bad[i].name, &im);
		free(im.b);
	}
	im.len = ex.len;
	im.b = malloc(ex.len);
	memcpy(im.b, ex.b, ex.len);
	im.h = (struct sa_header *)im.b;
	memset(im.h->cmdline, 'x', sizeof(im.h->cmdline));
	put_raw("raw-unterminated-cmdline", &im);
	put_raw("raw-short", &(struct image){ .b = ex.b, .len = 4000 });
	free(im.b);

	/* Built: the example's records, slots first. */
	b_params(&b, false, 5, 3, 5, 16, 0, false, false, 8, 0, 0, 0);
	built_slots_first(&b, &ex, 16);
	put_file("built-slots-first", b.buf, b.len, NULL, 0);

	/* Built, page-aligned like sa_layout, sparse: a few records, then holes. */
	b_params(&b, true, 5, 3, 5, 1024, 1, false, false, 8, 0, 0, 0);
	built_slots_first(&b, &ex, 16);
	put_file("built-sparse-pages", b.buf, b.len, NULL, 0);

	/* Slots straddling page boundaries, sparse. */
	b_params(&b, true, 5, 3, 5, 600, 3, false, false, 8, 0, 0, 0);
	built_slots_first(&b, &ex, 16);
	put_file("built-sparse-straddle", b.buf, b.len, NULL, 0);

	/* Modules first, read into room for two. */
	b_params(&b, false, 5, 3, 0, 16, 0, false, false, 8, 0, 0, 2);
	for (uint32_t i = 0; i < 5; i++)
		b_put(&b, mod_at(&ex, i), sizeof(struct sa_module));
	put_file("built-module-room", b.buf, b.len, NULL, 0);

	/* Header patches: a wrong uid, a file size off by one. */
	b_params(&b, false, 5, 3, 5, 16, 0, false, false, 8, 1, 0, 0);
	v32 = 12345;
	b_patch(&b, HOFF(uid), &v32, 4);
	built_slots_first(&b, &ex, 16);
	put_file("built-patch-uid", b.buf, b.len, NULL, 0);
	b_params(&b, false, 5, 3, 5, 16, 0, false, false, 8, 1, 0, 0);
	v32 = 1;
	b_patch(&b, HOFF(file_size), &v32, 1);
	built_slots_first(&b, &ex, 16);
	put_file("built-patch-size", b.buf, b.len, NULL, 0);

	/* After open: the header grows its counts and loses its terminators. */
	b_params(&b, false, 5, 3, 5, 16, 0, true, false, 8, 0, 3, 0);
	v32 = SA_MAX_SLOTS;
	b_patch(&b, HOFF(nslots), &v32, 4);
	v32 = 0x41414141;
	b_patch(&b, HOFF(run_id) + SA_RUN_ID_MAX - 4, &v32, 4);
	b_patch(&b, HOFF(cmdline) + SA_CMDLINE_MAX - 4, &v32, 4);
	built_slots_first(&b, &ex, 16);
	put_file("built-post-patch", b.buf, b.len, NULL, 0);

	/* After open: the file is cut inside the stacks, then inside the slots. */
	for (int i = 0; i < 2; i++) {
		uint16_t cut = i == 0 ? (SA_HEADER_SIZE + 16 * 128 + 300) / 64 : (SA_HEADER_SIZE + 512) / 64;
		uint8_t c[2] = { (uint8_t)cut, (uint8_t)(cut >> 8) };

		b_params(&b, false, 5, 3, 5, 16, 0, false, true, 8, 0, 0, 0);
		b_put(&b, c, 2);
		built_slots_first(&b, &ex, 16);
		put_file(i == 0 ? "built-truncate-stacks" : "built-truncate-slots", b.buf, b.len,
			 NULL, 0);
	}

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint8_t mode = MODE_NAME;

		snprintf(name, sizeof(name), "name-%zu", i);
		put_file(name, &mode, 1, names[i], strlen(names[i]));
	}

	/* Real tables, compacted: their modules, the slots up to the last used
	 * one, and the stacks those slots name, renumbered. */
	for (int a = 0; a < argc; a++) {
		FILE *f = fopen(argv[a], "rb");
		struct sa_header h;
		struct stat st;
		uint8_t *src;
		uint32_t nmod = 0, nslot = 0, nref = 0, nst = 1, map[2 * 256];
		const char *base = strrchr(argv[a], '/');

		if (!f || fstat(fileno(f), &st) < 0) {
			fprintf(stderr, "mkseeds: %s: %s\n", argv[a], strerror(errno));
			exit(1);
		}
		src = malloc((size_t)st.st_size);
		if (!src || fread(src, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
			abort();
		fclose(f);
		memcpy(&h, src, sizeof(h));
		if (sa_header_check(&h, (uint64_t)st.st_size)) {
			fprintf(stderr, "mkseeds: %s: %s\n", argv[a],
				sa_header_check(&h, (uint64_t)st.st_size));
			exit(1);
		}
		const struct sa_module *sm = (const void *)(src + h.modules_off);
		const struct sa_stack *ss = (const void *)(src + h.stacks_off);
		const struct sa_slot *sl = (const void *)(src + h.slots_off);

		while (nmod < h.nmodules && nmod < 64 && sm[nmod].state != SA_ENTRY_EMPTY)
			nmod++;
		for (uint32_t i = 0; i < h.nslots && i < 256; i++)
			if (sl[i].seq)
				nslot = i + 1;
		if (nslot == 0)
			nslot = 1;
		for (uint32_t i = 0; i < nslot; i++) {
			uint32_t ids[2] = { sl[i].open_stack, sl[i].connect_stack };

			for (int k = 0; k < 2; k++) {
				uint32_t j;

				if (!ids[k] || ids[k] > h.nstacks)
					continue;
				for (j = 0; j < nref && map[j] != ids[k]; j++)
					;
				if (j == nref)
					map[nref++] = ids[k];
			}
		}
		while (nst < nref)
			nst *= 2;
		image_init(&im, nmod, nst, nslot, h.depth);
		{
			struct sa_header keep = h;

			keep.nmodules = im.h->nmodules;
			keep.nstacks = im.h->nstacks;
			keep.nslots = im.h->nslots;
			keep.modules_off = im.h->modules_off;
			keep.stacks_off = im.h->stacks_off;
			keep.slots_off = im.h->slots_off;
			keep.file_size = im.h->file_size;
			memcpy(im.b, &keep, sizeof(keep));
		}
		memcpy(mod_at(&im, 0), sm, nmod * sizeof(*sm));
		for (uint32_t j = 0; j < nref; j++)
			*stack_at(&im, j) = ss[map[j] - 1];
		for (uint32_t i = 0; i < nslot; i++) {
			struct sa_slot *d = slot_at(&im, i);

			*d = sl[i];
			for (uint32_t j = 0; j < nref; j++) {
				if (sl[i].open_stack == map[j])
					d->open_stack = j + 1;
				if (sl[i].connect_stack == map[j])
					d->connect_stack = j + 1;
			}
		}
		snprintf(name, sizeof(name), "real-%s", base ? base + 1 : argv[a]);
		put_raw(name, &im);
		fprintf(stderr, "%s: %u modules, %u stacks, %u slots, %zu bytes\n", name, nmod, nref,
			nslot, im.len + 1);
		free(im.b);
		free(src);
	}
	free(ex.b);
}

/* ---- fuzz-frame ----------------------------------------------------------- */

struct bytes {
	uint8_t b[64 * 1024];
	size_t n;
};

static void hex(struct bytes *o, const char *s)
{
	for (; *s; s++) {
		unsigned v;

		if (*s == ' ')
			continue;
		if (sscanf(s, "%2x", &v) != 1)
			abort();
		o->b[o->n++] = (uint8_t)v;
		s++;
	}
}

static void put_frame_hex(const char *name, const char *h)
{
	struct bytes o = { .n = 0 };

	hex(&o, h);
	put_file(name, o.b, o.n, NULL, 0);
}

/* Frame a payload given in hex. */
static void put_payload_hex(const char *name, const char *h)
{
	struct bytes o = { .n = 4 };

	hex(&o, h);
	tw_frame_put_len(o.b, (uint32_t)(o.n - 4));
	put_file(name, o.b, o.n, NULL, 0);
}

static void frame_seeds(void)
{
	struct bytes o;
	uint8_t buf[4096];
	struct tw_writer w;
	struct rpc_price_req req = { .area = -7, .has_area = true };

	put_frame_hex("call-price", call_hex);
	put_frame_hex("reply-price", reply_hex);
	put_frame_hex("exception-unknown-method", exc_hex);
	put_payload_hex("exception-no-type",
			"80010003 00000005 5072696365 00000001"
			"0b 0001 00000016 556e6b6e6f776e2066756e6374696f6e205072696365 00");

	/* A connection carrying two calls, then a reply and an exception. */
	o.n = 0;
	hex(&o, call_hex);
	hex(&o, call_hex);
	put_file("two-calls", o.b, o.n, NULL, 0);
	o.n = 0;
	hex(&o, reply_hex);
	hex(&o, exc_hex);
	put_file("reply-then-exception", o.b, o.n, NULL, 0);

	tw_writer_init(&w, buf, sizeof(buf));
	rpc_encode_price_call(&w, 99, &req);
	put_file("call-area-only", w.buf, w.len, NULL, 0);

	put_payload_hex("call-unknown-method", "80010001 00000004 4e6f7065 00000007 00");
	put_payload_hex("oneway-price", "80010004 00000005 5072696365 00000002 00");
	put_payload_hex("call-empty-name", "80010001 00000000 00000003 00");
	put_payload_hex("reply-missing-result", "80010002 00000005 5072696365 00000001 00");
	put_payload_hex("reply-success-as-i32",
			"80010002 00000005 5072696365 00000001 08 0000 00000001 00");
	put_payload_hex("call-wrong-types",
			"80010001 00000005 5072696365 00000001"
			"0c 0001 0a 0001 0000000000000001 0c 0002 08 0001 00000001 00 00 00");
	/* Unknown fields of every kind, skipped around and inside req. */
	put_payload_hex("call-unknown-fields",
			"80010001 00000005 5072696365 00000005"
			"0d 0063 0b 08 00000002 00000001 61 00000001 00000001 62 00000002"
			"0c 0001 0f 0063 0f 00000002 08 00000001 00000009 08 00000000"
			"0e 0064 0d 00000001 03 02 00000001 05 01"
			"02 0065 01 03 0066 7f 06 0067 0102 04 0068 4000000000000000"
			"08 0001 00000001 00 00");

	/* Nesting: 63 levels under the args struct pass, 64 do not. */
	for (int levels = 63; levels <= 64; levels++) {
		o.n = 4;
		hex(&o, "80010001 00000005 5072696365 00000001 0c 0063");
		for (int i = 1; i < levels; i++)
			hex(&o, "0c 0001");
		for (int i = 0; i < levels; i++)
			hex(&o, "00");
		hex(&o, "00");
		tw_frame_put_len(o.b, (uint32_t)(o.n - 4));
		put_file(levels == 63 ? "call-nested-64" : "call-nested-65", o.b, o.n, NULL, 0);
	}
	o.n = 4;
	hex(&o, "80010001 00000003 466f6f 00000001 0f 0063");
	for (int i = 1; i < 64; i++)
		hex(&o, "0f 00000001");
	hex(&o, "08 00000000 00");
	tw_frame_put_len(o.b, (uint32_t)(o.n - 4));
	put_file("call-nested-lists", o.b, o.n, NULL, 0);

	/* Broken frames and messages. */
	put_frame_hex("frame-negative", "80000000 80010001");
	put_frame_hex("frame-oversize", "00fa0001 80010001");
	put_frame_hex("frame-max", "00fa0000 80010001");
	put_frame_hex("frame-truncated", "00000039 80010001 00000005 5072696365");
	put_frame_hex("frame-empty", "00000000");
	put_payload_hex("bad-version", "00010001 00000005 5072696365 00000001 00");
	put_payload_hex("negative-name", "80010001 ffffffff 00000001 00");
	put_payload_hex("trailing-byte", "80010001 00000005 5072696365 00000001 00 00");
	put_payload_hex("map-huge-count", "80010001 00000001 78 00000001 0d 0001 08 08 7fffffff 00");
	put_payload_hex("list-bad-type", "80010001 00000001 78 00000001 0f 0001 63 00000001 00");
	put_payload_hex("negative-list", "80010001 00000001 78 00000001 0f 0001 08 80000000 00");
	put_payload_hex("bad-field-type", "80010002 00000005 5072696365 00000001 09 0001 00");
}

/* ---- fuzz-gopclntab ------------------------------------------------------ */

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* The synthetic tables of gopcln-synth.h, and the ways they break. Offsets
 * past the 4-byte split: the table's header is at 4. */
static void gopclntab_seeds(void)
{
	size_t len, n0;
	uint8_t *in = gs_make(118, &len), *b;

	put_file("go118", in, len, NULL, 0);
	n0 = (size_t)in[0] | (size_t)in[1] << 8 | (size_t)in[2] << 16 | (size_t)in[3] << 24;
	b = malloc(len + 8);
	if (!b)
		exit(1);

	/* No moduledata: names and lines without the inlined frame. */
	memcpy(b, in, len);
	put_le32(b, (uint32_t)len);
	put_file("go118-no-moduledata", b, len, NULL, 0);
	/* Each older magic, refused. */
	memcpy(b, in, len);
	b[4] = 0xfa;
	put_file("go116-magic", b, len, NULL, 0);
	b[4] = 0xfb;
	put_file("go12-magic", b, len, NULL, 0);
	/* The inlined call's parent pc inside its own range: a loop the frame
	 * limit must end. */
	memcpy(b, in, len);
	put_le32(b + 4 + n0 - 4, 0x14);
	put_file("go118-inline-loop", b, len, NULL, 0);
	/* nfunc past the table, and offsets out of order. */
	memcpy(b, in, len);
	put_le32(b + 4 + 8, 0xffffffffu);
	put_file("go118-nfunc-huge", b, len, NULL, 0);
	memcpy(b, in, len);
	put_le32(b + 4 + 40, 0xffff);
	put_file("go118-offsets-order", b, len, NULL, 0);
	/* The table 8 bytes into its segment: only the scan finds it. */
	put_le32(b, (uint32_t)n0 + 8);
	memset(b + 4, 0x5a, 8);
	memcpy(b + 12, in + 4, len - 4);
	put_file("go118-shifted", b, len + 8, NULL, 0);
	/* Cut short in the header, the names, the pc-value tables. */
	put_file("go118-cut-header", in, 40, NULL, 0);
	put_file("go118-cut-half", in, 4 + n0 / 2, NULL, 0);
	free(in);
	free(b);

	in = gs_make(120, &len);
	put_file("go120", in, len, NULL, 0);
	free(in);
}

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[1], "table") != 0 && strcmp(argv[1], "frame") != 0 &&
			 strcmp(argv[1], "gopclntab") != 0)) {
		fprintf(stderr, "usage: mkseeds table DIR [TABLE...] | mkseeds frame DIR | "
			"mkseeds gopclntab DIR\n");
		return 2;
	}
	outdir = argv[2];
	if (mkdir(outdir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "mkseeds: %s: %s\n", outdir, strerror(errno));
		return 1;
	}
	if (strcmp(argv[1], "table") == 0)
		table_seeds(argc - 3, argv + 3);
	else if (strcmp(argv[1], "gopclntab") == 0)
		gopclntab_seeds();
	else
		frame_seeds();
	return 0;
}
