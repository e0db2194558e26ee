/* A small Go pc-line table made from scratch, in the layout of Go 1.18 (118)
 * or of Go 1.20 (120), for the unit test (tests/cli/test-gopclntab.c), the
 * fuzz target's seeds (fuzz/mkseeds.c) and the fuzz input format
 * (fuzz/fuzz-gopclntab.c).
 *
 * An input is a 4-byte little-endian split, then the bytes of two segments:
 * [4, 4 + split) at GS_SEG0 (the table at its start, then go:func.*), the
 * rest at GS_SEG1 (the runtime's moduledata). The table has three
 * functions from GS_TEXT:
 *   main.outer  [0x00, 0x40)  /src/main.go 10, 11 (inlined: main.inner at
 *               /src/inner.go 20 over [0x10, 0x20), called at pc 0x08), 12
 *   main.leaf   [0x40, 0x48)  /src/main.go 30
 *   runtime.runfinq [0x48, 0x60) /src/mfinal.go 100
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GS_SEG0 0x10000u
#define GS_SEG1 0x40000u
#define GS_TEXT 0x401000u

struct gs_buf {
	uint8_t *p;
	size_t n, cap;
};

static inline void gs_put(struct gs_buf *b, const void *d, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->n + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static inline void gs_u8(struct gs_buf *b, uint8_t v)
{
	gs_put(b, &v, 1);
}

static inline void gs_u32(struct gs_buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	gs_put(b, x, 4);
}

static inline void gs_u64(struct gs_buf *b, uint64_t v)
{
	gs_u32(b, (uint32_t)v);
	gs_u32(b, (uint32_t)(v >> 32));
}

static inline void gs_set32(struct gs_buf *b, size_t off, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	memcpy(b->p + off, x, 4);
}

static inline void gs_set64(struct gs_buf *b, size_t off, uint64_t v)
{
	gs_set32(b, off, (uint32_t)v);
	gs_set32(b, off + 4, (uint32_t)(v >> 32));
}

static inline void gs_uvarint(struct gs_buf *b, uint32_t v)
{
	while (v >= 0x80) {
		gs_u8(b, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	gs_u8(b, (uint8_t)v);
}

/* A pc-value table: n (value, end offset) steps from value -1 at offset 0. */
static inline uint32_t gs_pcvalue(struct gs_buf *b, size_t pctab, const int32_t *vals,
				  const uint32_t *ends, size_t n)
{
	uint32_t off = (uint32_t)(b->n - pctab), prevpc = 0;
	int32_t prev = -1;

	for (size_t i = 0; i < n; i++) {
		int32_t d = vals[i] - prev;

		gs_uvarint(b, d < 0 ? ((uint32_t)(-(d + 1)) << 1) | 1 : (uint32_t)d << 1);
		gs_uvarint(b, ends[i] - prevpc);
		prev = vals[i];
		prevpc = ends[i];
	}
	gs_u8(b, 0);
	return off;
}

static inline void gs_align(struct gs_buf *b, size_t a)
{
	while (b->n % a)
		gs_u8(b, 0);
}

/* The whole input (see the top), malloc'd; *len its size. */
static inline uint8_t *gs_make(int version, size_t *len)
{
	static const char *const fnames[] = { "main.outer", "main.inner", "main.leaf",
					     "runtime.runfinq" };
	static const char *const files[] = { "/src/main.go", "/src/inner.go", "/src/mfinal.go" };
	struct gs_buf t = { 0 }, in = { 0 }, md = { 0 };
	uint32_t nameoff[4], fileoff[3], pcfile[3], pcln[3], inlix, funcoff[3];
	size_t names, cutab, filetab, pctab, pcln_off, gofunc;
	unsigned fsz = version >= 120 ? 44 : 40;

	gs_u32(&t, version >= 120 ? 0xfffffff1u : 0xfffffff0u);
	gs_u8(&t, 0);
	gs_u8(&t, 0);
	gs_u8(&t, 1);
	gs_u8(&t, 8);
	for (int i = 0; i < 8; i++)
		gs_u64(&t, 0);
	names = t.n;
	for (int i = 0; i < 4; i++) {
		nameoff[i] = (uint32_t)(t.n - names);
		gs_put(&t, fnames[i], strlen(fnames[i]) + 1);
	}
	gs_align(&t, 4);
	cutab = t.n;
	for (int i = 0; i < 3; i++)
		gs_u32(&t, 0);
	filetab = t.n;
	for (int i = 0; i < 3; i++) {
		fileoff[i] = (uint32_t)(t.n - filetab);
		gs_set32(&t, cutab + 4 * (size_t)i, fileoff[i]);
		gs_put(&t, files[i], strlen(files[i]) + 1);
	}
	pctab = t.n;
	gs_u8(&t, 0);   /* offset 0 is "no table" */
	{
		const int32_t f0file[] = { 0, 1, 0 }, f0line[] = { 10, 20, 12 }, f0inl[] = { -1, 0, -1 };
		const uint32_t f0ends[] = { 0x10, 0x20, 0x40 };
		const int32_t f1file[] = { 0 }, f1line[] = { 30 };
		const uint32_t f1ends[] = { 0x08 };
		const int32_t f2line[] = { 100 };
		const uint32_t f2ends[] = { 0x18 };
		const int32_t f2f[] = { 2 };

		pcfile[0] = gs_pcvalue(&t, pctab, f0file, f0ends, 3);
		pcln[0] = gs_pcvalue(&t, pctab, f0line, f0ends, 3);
		inlix = gs_pcvalue(&t, pctab, f0inl, f0ends, 3);
		pcfile[1] = gs_pcvalue(&t, pctab, f1file, f1ends, 1);
		pcln[1] = gs_pcvalue(&t, pctab, f1line, f1ends, 1);
		pcfile[2] = gs_pcvalue(&t, pctab, f2f, f2ends, 1);
		pcln[2] = gs_pcvalue(&t, pctab, f2line, f2ends, 1);
	}
	gs_align(&t, 8);
	pcln_off = t.n;
	{
		const uint32_t entry[] = { 0x00, 0x40, 0x48, 0x60 };
		const uint32_t nm[] = { nameoff[0], nameoff[2], nameoff[3] };

		for (int i = 0; i < 4; i++) {
			gs_u32(&t, entry[i]);
			gs_u32(&t, 0);
		}
		for (int i = 0; i < 3; i++) {
			uint32_t npcdata = i == 0 ? 3 : 0, nfuncdata = i == 0 ? 4 : 0;

			funcoff[i] = (uint32_t)(t.n - pcln_off);
			gs_set32(&t, pcln_off + 8 * (size_t)i + 4, funcoff[i]);
			gs_u32(&t, entry[i]);
			gs_u32(&t, nm[i]);
			gs_u32(&t, 0);            /* args */
			gs_u32(&t, 0);            /* deferreturn */
			gs_u32(&t, 0);            /* pcsp */
			gs_u32(&t, pcfile[i]);
			gs_u32(&t, pcln[i]);
			gs_u32(&t, npcdata);
			gs_u32(&t, 0);            /* cu offset */
			if (fsz == 44)
				gs_u32(&t, 1);    /* start line */
			gs_u8(&t, 0);
			gs_u8(&t, 0);
			gs_u8(&t, 0);
			gs_u8(&t, (uint8_t)nfuncdata);
			if (i == 0) {
				gs_u32(&t, 0);
				gs_u32(&t, 0);
				gs_u32(&t, inlix);
				for (int k = 0; k < 3; k++)
					gs_u32(&t, UINT32_MAX);
				gs_u32(&t, 0);    /* the inline tree at go:func.* + 0 */
			}
		}
	}
	gs_align(&t, 8);
	gofunc = t.n;
	if (version >= 120) {
		gs_u32(&t, 0);                   /* funcID, pad */
		gs_u32(&t, nameoff[1]);
		gs_u32(&t, 0x08);                /* parent pc */
		gs_u32(&t, 19);                  /* start line */
	} else {
		gs_u32(&t, 0xffff);              /* parent -1, funcID, pad */
		gs_u32(&t, 0);                   /* file */
		gs_u32(&t, 10);                  /* line */
		gs_u32(&t, nameoff[1]);
		gs_u32(&t, 0x08);                /* parent pc */
	}
	gs_set64(&t, 8, 3);
	gs_set64(&t, 16, 3);
	gs_set64(&t, 24, GS_TEXT);
	gs_set64(&t, 32, names);
	gs_set64(&t, 40, cutab);
	gs_set64(&t, 48, filetab);
	gs_set64(&t, 56, pctab);
	gs_set64(&t, 64, pcln_off);

	for (int i = 0; i < 42; i++)
		gs_u64(&md, 0);
	gs_set64(&md, 0, GS_SEG0);
	gs_set64(&md, 8, GS_SEG0 + names);
	gs_set64(&md, 22 * 8, GS_TEXT);
	gs_set64(&md, (version >= 120 ? 40 : 38) * 8, GS_SEG0 + gofunc);

	gs_u32(&in, (uint32_t)t.n);
	gs_put(&in, t.p, t.n);
	gs_put(&in, md.p, md.n);
	free(t.p);
	free(md.p);
	*len = in.n;
	return in.p;
}

/* An input's two segments (see the top); false when it has no split. */
static inline bool gs_split(const uint8_t *in, size_t len, const uint8_t **d0, size_t *n0,
			    const uint8_t **d1, size_t *n1)
{
	uint32_t split;

	if (len < 4)
		return false;
	split = (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 |
		(uint32_t)in[3] << 24;
	len -= 4;
	if (split > len)
		split = (uint32_t)len;
	*d0 = in + 4;
	*n0 = split;
	*d1 = in + 4 + split;
	*n1 = len - split;
	return true;
}
