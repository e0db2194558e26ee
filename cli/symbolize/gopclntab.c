// SPDX-License-Identifier: MIT
/* symbolize/gopclntab: Go's pc-line table, read (see gopclntab.h and
 * docs/design.md, "Go symbols without DWARF").
 *
 * Layout relied on (Go 1.18 and later, little-endian):
 *   header: magic u32, two zero bytes, pc quantum u8, pointer size u8, then
 *     pointer-sized words: nfunc, nfiles, text start, and the offsets from
 *     the header of the function names, the CU file index table, the file
 *     names, the pc-value tables and the function table, in that order;
 *   function table: nfunc + 1 pairs of u32 (entry offset from text start,
 *     offset of the function's record from the function table); the last
 *     entry offset is the end of the last function;
 *   function record: entry u32, name offset i32, args, deferreturn, then the
 *     pc-value table offsets of pcsp, pcfile, pcln (u32), npcdata u32, CU
 *     offset u32, [1.20+: start line i32], funcID, flag, pad, nfuncdata (u8),
 *     followed by npcdata u32 pc-value offsets and nfuncdata u32 offsets
 *     from go:func.* (0xffffffff: none);
 *   pc-value table: pairs of varints, value delta (zig-zag) then pc delta (in
 *     quanta), from value -1 at the entry, ended by a zero value delta;
 *   inline tree (funcdata 3, indexed by pcdata 2): 1.18: parent i16, funcID,
 *     pad, file i32, line i32, name offset i32, parent pc i32 (20 bytes);
 *     1.20: funcID, 3 pad, name offset i32, parent pc i32, start line i32
 *     (16 bytes). The caller's position is the pcfile/pcln value at the
 *     parent pc, so both layouts resolve the same way.
 * The funcdata base (go:func.*) is only in the runtime's moduledata, found
 * as the words that point at this table and its name table.
 */
#include "symbolize/gopclntab.h"

#include <errno.h>
#include <gelf.h>
#include <string.h>

#define MAGIC_116 0xfffffffau
#define MAGIC_12 0xfffffffbu
#define MAGIC_118 0xfffffff0u
#define MAGIC_120 0xfffffff1u

#define FUNCDATA_INLTREE 3
#define PCDATA_INLTREEINDEX 2

/* moduledata, in words: 0 the header, 1 the name table's data pointer, 22
 * text; go:func.* at 38 (1.18, 1.19) or 40 (1.20+: covctrs came before). */
#define MD_TEXT 22
#define MD_GOFUNC_118 38
#define MD_GOFUNC_120 40
#define MD_WORDS 41

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t leword(const uint8_t *p, unsigned ptrsize)
{
	uint64_t v = le32(p);

	if (ptrsize == 8)
		v |= (uint64_t)le32(p + 4) << 32;
	return v;
}

/* [vaddr, vaddr + len) inside one segment's file bytes, else NULL. */
static const uint8_t *img_at(const struct gopcln_seg *segs, size_t n, uint64_t vaddr, uint64_t len)
{
	for (size_t i = 0; i < n; i++) {
		const struct gopcln_seg *s = &segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr <= s->size &&
		    len <= s->size - (vaddr - s->vaddr))
			return s->data + (vaddr - s->vaddr);
	}
	return NULL;
}

bool gopcln_uvarint(const uint8_t *p, size_t len, size_t *pos, uint32_t *v)
{
	uint32_t r = 0;

	for (unsigned shift = 0; shift < 35; shift += 7) {
		uint8_t b;

		if (*pos >= len)
			return false;
		b = p[(*pos)++];
		/* The fifth byte may hold the top 4 bits only. */
		if (shift == 28 && (b & 0xf0))
			return false;
		r |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return true;
		}
	}
	return false;
}

int gopcln_pcvalue(const uint8_t *p, size_t len, unsigned quantum, uint64_t entry, uint64_t target,
		   int32_t *val)
{
	uint64_t pc = entry;
	int32_t v = -1;
	size_t pos = 0;
	bool first = true;

	if (target < entry)
		return -ENOENT;
	for (;;) {
		uint32_t uv, pcd;

		if (!gopcln_uvarint(p, len, &pos, &uv))
			return -EINVAL;
		if (uv == 0 && !first)
			return -ENOENT;
		first = false;
		/* Zig-zag: the low bit says negative. The sum wraps, as the
		 * runtime's int32 does: a forged table cannot overflow it. */
		v = (int32_t)((uint32_t)v + ((uv & 1) ? ~(uv >> 1) : (uv >> 1)));
		if (!gopcln_uvarint(p, len, &pos, &pcd))
			return -EINVAL;
		pc += (uint64_t)pcd * quantum;
		if (target < pc) {
			*val = v;
			return 0;
		}
	}
}

/* A NUL-terminated string at off in tab[lo, hi), or NULL. */
static const char *tab_str(const struct gopcln *t, uint64_t lo, uint64_t hi, int64_t off)
{
	const uint8_t *s, *end;

	if (off < 0 || (uint64_t)off >= hi - lo)
		return NULL;
	s = t->tab + lo + (uint64_t)off;
	end = memchr(s, 0, hi - lo - (uint64_t)off);
	return end && end > s ? (const char *)s : NULL;
}

static const char *func_name(const struct gopcln *t, int32_t nameoff)
{
	return tab_str(t, t->names, t->cutab, nameoff);
}

/* One function's record, checked to lie in the function table region. */
struct gofunc {
	const uint8_t *rec;       /* the record */
	uint64_t rec_off;         /* its offset in tab */
	uint64_t entry, end;      /* [entry, end) */
	uint32_t npcdata, nfuncdata;
};

static unsigned func_size(const struct gopcln *t)
{
	return t->version >= 120 ? 44 : 40;
}

static bool func_at(const struct gopcln *t, uint32_t i, struct gofunc *f)
{
	const uint8_t *ft = t->tab + t->pcln;
	uint64_t funcoff = le32(ft + (uint64_t)i * 8 + 4);
	unsigned sz = func_size(t);

	if (funcoff > t->tab_size - t->pcln || sz > t->tab_size - t->pcln - funcoff)
		return false;
	f->rec_off = t->pcln + funcoff;
	f->rec = t->tab + f->rec_off;
	f->entry = t->text + le32(ft + (uint64_t)i * 8);
	f->end = t->text + le32(ft + ((uint64_t)i + 1) * 8);
	f->npcdata = le32(f->rec + 28);
	f->nfuncdata = f->rec[sz - 1];
	return true;
}

/* The u32 at index idx of the arrays after the record, or false. */
static bool func_u32(const struct gopcln *t, const struct gofunc *f, uint64_t idx, uint32_t *v)
{
	uint64_t off = f->rec_off + func_size(t) + idx * 4;

	if (off > t->tab_size || 4 > t->tab_size - off)
		return false;
	*v = le32(t->tab + off);
	return true;
}

/* The value of the pc-value table at pctab offset `off` for pc; -1 when
 * there is none or it cannot be read (the runtime's answer for none). */
static int32_t func_value(const struct gopcln *t, const struct gofunc *f, uint32_t off, uint64_t pc)
{
	int32_t v;

	if (off == 0 || off >= t->pcln - t->pctab)
		return -1;
	if (gopcln_pcvalue(t->tab + t->pctab + off, t->pcln - t->pctab - off, t->quantum, f->entry,
			   pc, &v) != 0)
		return -1;
	return v;
}

static void func_pos(const struct gopcln *t, const struct gofunc *f, uint64_t pc,
		     const char **file, int *line)
{
	int32_t fileno = func_value(t, f, le32(f->rec + 20), pc);
	int32_t ln = func_value(t, f, le32(f->rec + 24), pc);
	uint64_t cu = le32(f->rec + 32);

	*file = NULL;
	*line = 0;
	if (fileno >= 0) {
		uint64_t idx = (cu + (uint64_t)fileno) * 4;

		if (idx < t->filetab - t->cutab && 4 <= t->filetab - t->cutab - idx) {
			uint32_t off = le32(t->tab + t->cutab + idx);

			if (off != UINT32_MAX)
				*file = tab_str(t, t->filetab, t->pctab, off);
		}
	}
	if (*file && ln > 0)
		*line = ln;
}

/* Index of the function holding pc, or -1. */
static int64_t func_find(const struct gopcln *t, uint64_t pc)
{
	const uint8_t *ft = t->tab + t->pcln;
	uint64_t off;
	uint32_t lo = 0, hi = t->nfunc;

	if (pc < t->text || pc - t->text > UINT32_MAX)
		return -1;
	off = pc - t->text;
	if (off < le32(ft) || off >= le32(ft + (uint64_t)t->nfunc * 8))
		return -1;
	/* Last entry at or below off. A table that is not sorted gives some
	 * function; every read after is checked all the same. */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (le32(ft + (uint64_t)mid * 8) <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

size_t gopcln_lookup(const struct gopcln *t, uint64_t pc, struct gopcln_frame *out, size_t max)
{
	struct gopcln_frame chain[GOPCLN_MAX_FRAMES];
	const uint8_t *inl = NULL;
	struct gofunc f;
	int64_t i = func_find(t, pc);
	uint32_t inloff, esz = t->version >= 120 ? 16 : 20;
	size_t n = 0;

	if (i < 0 || !max || !func_at(t, (uint32_t)i, &f) || pc < f.entry || pc >= f.end)
		return 0;
	if (t->gofunc && f.nfuncdata > FUNCDATA_INLTREE &&
	    func_u32(t, &f, (uint64_t)f.npcdata + FUNCDATA_INLTREE, &inloff) && inloff != UINT32_MAX)
		inl = img_at(t->segs, t->nsegs, t->gofunc + inloff, esz);
	/* The whole chain (up to the limit), so that a caller with less room
	 * gets the outer frames: the real one at its call site first of all. */
	while (inl && n + 1 < GOPCLN_MAX_FRAMES && f.npcdata > PCDATA_INLTREEINDEX) {
		uint32_t off;
		int32_t ix, nameoff, parent;
		const uint8_t *e;

		if (!func_u32(t, &f, PCDATA_INLTREEINDEX, &off))
			break;
		ix = func_value(t, &f, off, pc);
		if (ix < 0)
			break;
		e = img_at(t->segs, t->nsegs, t->gofunc + inloff + (uint64_t)ix * esz, esz);
		if (!e)
			break;
		nameoff = (int32_t)le32(e + (t->version >= 120 ? 4 : 12));
		parent = (int32_t)le32(e + (t->version >= 120 ? 8 : 16));
		chain[n].function = func_name(t, nameoff);
		func_pos(t, &f, pc, &chain[n].file, &chain[n].line);
		chain[n].inlined = true;
		n++;
		/* Back to an instruction whose position is the call site. */
		if (parent < 0 || (uint64_t)parent >= f.end - f.entry)
			break;
		pc = f.entry + (uint64_t)parent;
	}
	chain[n].function = func_name(t, (int32_t)le32(f.rec + 4));
	func_pos(t, &f, pc, &chain[n].file, &chain[n].line);
	chain[n].inlined = false;
	n++;
	if (n > max) {
		memcpy(out, chain + (n - max), max * sizeof(*out));
		return max;
	}
	memcpy(out, chain, n * sizeof(*out));
	return n;
}

bool gopcln_func_range(const struct gopcln *t, const char *name, uint64_t *lo, uint64_t *hi)
{
	for (uint32_t i = 0; i < t->nfunc; i++) {
		struct gofunc f;
		const char *nm;

		if (!func_at(t, i, &f))
			continue;
		nm = func_name(t, (int32_t)le32(f.rec + 4));
		if (nm && strcmp(nm, name) == 0 && f.end > f.entry) {
			*lo = f.entry;
			*hi = f.end;
			return true;
		}
	}
	return false;
}

/* go:func.* from the runtime's moduledata: the words pointing at this
 * table, at its name table, and at its text start. 0 when not found. */
static uint64_t find_gofunc(const struct gopcln *t, unsigned ps)
{
	for (size_t i = 0; i < t->nsegs; i++) {
		const struct gopcln_seg *s = &t->segs[i];
		uint64_t need = (uint64_t)MD_WORDS * ps;

		if (s->size < need)
			continue;
		for (uint64_t off = (-s->vaddr) & (ps - 1); off <= s->size - need; off += ps) {
			const uint8_t *w = s->data + off;
			uint64_t gofunc;

			if (leword(w, ps) != t->tab_vaddr ||
			    leword(w + ps, ps) != t->tab_vaddr + t->names ||
			    leword(w + (uint64_t)MD_TEXT * ps, ps) != t->text)
				continue;
			gofunc = leword(w + (uint64_t)(t->version >= 120 ? MD_GOFUNC_120 :
						       MD_GOFUNC_118) * ps, ps);
			if (gofunc && img_at(t->segs, t->nsegs, gofunc, 1))
				return gofunc;
		}
	}
	return 0;
}

int gopcln_parse(const struct gopcln_seg *segs, size_t nsegs, uint64_t tab_vaddr,
		 struct gopcln *t, const char **why)
{
	uint64_t w[8], prev = 0, size = 0;
	const uint8_t *h = NULL;
	unsigned ps;
	uint32_t magic;

	*why = NULL;
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < nsegs; i++)
		if (tab_vaddr >= segs[i].vaddr && tab_vaddr - segs[i].vaddr < segs[i].size) {
			h = segs[i].data + (tab_vaddr - segs[i].vaddr);
			size = segs[i].size - (tab_vaddr - segs[i].vaddr);
			break;
		}
	if (!h || size < 8) {
		*why = "the Go table lies outside the file's loaded segments";
		return -EINVAL;
	}
	magic = le32(h);
	if (magic == MAGIC_12 || magic == MAGIC_116) {
		*why = "the Go table is older than Go 1.18 (not read: rebuild with Go 1.18 or later)";
		return -EINVAL;
	}
	if (magic != MAGIC_118 && magic != MAGIC_120) {
		*why = "not a Go pc-line table (bad magic)";
		return -EINVAL;
	}
	ps = h[7];
	if (h[4] || h[5] || (h[6] != 1 && h[6] != 2 && h[6] != 4) || (ps != 4 && ps != 8) ||
	    size < 8 + 8 * (uint64_t)ps) {
		*why = "malformed Go table header";
		return -EINVAL;
	}
	for (int i = 0; i < 8; i++)
		w[i] = leword(h + 8 + i * ps, ps);
	t->segs = segs;
	t->nsegs = nsegs;
	t->tab = h;
	t->tab_vaddr = tab_vaddr;
	t->tab_size = size;
	t->version = magic == MAGIC_120 ? 120 : 118;
	t->quantum = h[6];
	t->text = w[2];
	t->names = w[3];
	t->cutab = w[4];
	t->filetab = w[5];
	t->pctab = w[6];
	t->pcln = w[7];
	/* The sub-tables follow the header in this order; each ends where
	 * the next starts, which is what bounds every read in them. */
	prev = 8 + 8 * (uint64_t)ps;
	for (int i = 3; i < 8; i++) {
		if (w[i] < prev || w[i] > size) {
			*why = "Go table offsets out of order or past its end";
			return -EINVAL;
		}
		prev = w[i];
	}
	if (w[0] == 0 || w[0] >= UINT32_MAX || (w[0] + 1) * 8 > size - t->pcln) {
		*why = "Go function table count out of range";
		return -EINVAL;
	}
	t->nfunc = (uint32_t)w[0];
	t->gofunc = find_gofunc(t, ps);
	return 0;
}

int gopcln_scan(const struct gopcln_seg *segs, size_t nsegs, struct gopcln *t)
{
	for (size_t i = 0; i < nsegs; i++) {
		const struct gopcln_seg *s = &segs[i];

		for (uint64_t off = (-s->vaddr) & 7; s->size >= 16 && off <= s->size - 16; off += 8) {
			const uint8_t *p = s->data + off;
			const char *why;
			uint32_t m = le32(p);

			if ((m != MAGIC_118 && m != MAGIC_120) || p[4] || p[5])
				continue;
			if (gopcln_parse(segs, nsegs, s->vaddr + off, t, &why) == 0)
				return 0;
		}
	}
	return -ENOENT;
}

static const char *const section_names[] = {
	".gopclntab",
	".data.rel.ro.gopclntab",   /* -buildmode=pie with the external linker */
};

int gopcln_elf_open(Elf *e, struct gopcln_elf *g, const char **why)
{
	size_t size = 0, nph = 0, nsh = 0, shstrndx;
	const uint8_t *raw;
	Elf_Scn *scn = NULL;

	*why = NULL;
	memset(g, 0, sizeof(*g));
	raw = (const uint8_t *)elf_rawfile(e, &size);
	if (!raw || elf_getphdrnum(e, &nph) != 0)
		return -ENOENT;
	for (size_t i = 0; i < nph && g->nsegs < sizeof(g->segs) / sizeof(g->segs[0]); i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD || !ph.p_filesz ||
		    ph.p_offset > size || ph.p_filesz > size - ph.p_offset)
			continue;
		g->segs[g->nsegs++] = (struct gopcln_seg){ ph.p_vaddr, raw + ph.p_offset,
							   ph.p_filesz };
	}
	if (elf_getshdrnum(e, &nsh) != 0 || nsh == 0 || elf_getshdrstrndx(e, &shstrndx) != 0)
		return gopcln_scan(g->segs, g->nsegs, &g->t) == 0 ? 0 : -ENOENT;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(name = elf_strptr(e, shstrndx, sh.sh_name)))
			continue;
		for (size_t i = 0; i < sizeof(section_names) / sizeof(section_names[0]); i++)
			if (strcmp(name, section_names[i]) == 0)
				return gopcln_parse(g->segs, g->nsegs, sh.sh_addr, &g->t, why);
	}
	return -ENOENT;
}
