// SPDX-License-Identifier: MIT
/* test-gopclntab: cli/symbolize/gopclntab.c, Go's pc-line table.
 *
 *   test-gopclntab SRC DWARF STRIP [OTHER...]
 *
 * From tables of cases: the varint and pc-value decoders. On tables made
 * from scratch in the layouts of Go 1.18 and Go 1.20 (fuzz/gopcln-synth.h):
 * names, files, lines, the inlined frame, refusals, every truncation. On
 * the real leaky program (SRC its main.go, DWARF the plain build, STRIP the
 * same after `strip`, OTHER more stripped builds): the open sites' lines as
 * the source marks them, the inlined dialVia, the table found by scanning
 * in a copy without section headers, and every frame of several functions
 * as DWARF says it (the stripped file has the same addresses).
 */
#include "symbolize/gopclntab.h"
#include "symbolize/symbolize.h"
#include "../tap.h"
#include "tlib.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../fuzz/gopcln-synth.h"

/* ---- decoders ------------------------------------------------------------ */

static void case_uvarint(void)
{
	static const struct {
		uint8_t b[8];
		size_t len;
		bool ok;
		uint32_t v;
		size_t used;
	} cases[] = {
		{ { 0x00 }, 1, true, 0, 1 },
		{ { 0x7f }, 1, true, 127, 1 },
		{ { 0x80, 0x01 }, 2, true, 128, 2 },
		{ { 0xe5, 0x8e, 0x26 }, 3, true, 624485, 3 },
		{ { 0xff, 0xff, 0xff, 0xff, 0x0f }, 5, true, UINT32_MAX, 5 },
		{ { 0x01, 0x55 }, 2, true, 1, 1 },                      /* stops at its end */
		{ { 0xff, 0xff, 0xff, 0xff, 0x10 }, 5, false, 0, 0 },   /* past 32 bits */
		{ { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }, 6, false, 0, 0 }, /* too long */
		{ { 0x80 }, 1, false, 0, 0 },                           /* truncated */
		{ { 0 }, 0, false, 0, 0 },                              /* empty */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t pos = 0;
		uint32_t v = 0xdead;
		bool r = gopcln_uvarint(cases[i].b, cases[i].len, &pos, &v);

		ok(r == cases[i].ok && (!r || (v == cases[i].v && pos == cases[i].used)),
		   "uvarint case %zu: %s %u after %zu bytes", i, r ? "read" : "refused", v, pos);
	}
}

static void case_pcvalue(void)
{
	/* Value 10 over [0x100, 0x104), 12 over [0x104, 0x10c), 11 over
	 * [0x10c, 0x110) at quantum 1; the same table at quantum 4 spans four
	 * times as much. Zig-zag: +11 is 22, +2 is 4, -1 is 1. */
	static const uint8_t tab[] = { 22, 4, 4, 8, 1, 4, 0 };
	static const uint8_t neg_first[] = { 0, 2, 6, 2, 0 };  /* -1 for 2, then +3 for 2 */
	static const uint8_t big[] = { 0x80, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0 };
	/* +0x7fffffff then +8: the sum wraps as Go's int32 does (found by
	 * fuzz-gopclntab as a signed overflow). */
	static const uint8_t wraps[] = { 0xfe, 0xff, 0xff, 0xff, 0x0f, 1, 16, 1, 0 };
	static const uint8_t unterminated[] = { 22, 4 };
	static const uint8_t broken_varint[] = { 22, 0x80 };
	static const struct {
		const uint8_t *p;
		size_t len;
		unsigned quantum;
		uint64_t target;
		int rc;
		int32_t v;
	} cases[] = {
		{ tab, sizeof(tab), 1, 0x100, 0, 10 },
		{ tab, sizeof(tab), 1, 0x103, 0, 10 },
		{ tab, sizeof(tab), 1, 0x104, 0, 12 },
		{ tab, sizeof(tab), 1, 0x10b, 0, 12 },
		{ tab, sizeof(tab), 1, 0x10c, 0, 11 },
		{ tab, sizeof(tab), 1, 0x10f, 0, 11 },
		{ tab, sizeof(tab), 1, 0x110, -ENOENT, 0 },
		{ tab, sizeof(tab), 1, 0xff, -ENOENT, 0 },
		{ tab, sizeof(tab), 4, 0x10f, 0, 10 },
		{ tab, sizeof(tab), 4, 0x110, 0, 12 },
		{ tab, sizeof(tab), 4, 0x13f, 0, 11 },
		{ neg_first, sizeof(neg_first), 1, 0x100, 0, -1 },
		{ neg_first, sizeof(neg_first), 1, 0x101, 0, -1 },
		{ neg_first, sizeof(neg_first), 1, 0x102, 0, 2 },
		{ neg_first, sizeof(neg_first), 1, 0x104, -ENOENT, 0 },
		{ big, sizeof(big), 1, 0x100 + 0xfffffffeull, 0, 63 },
		{ big, sizeof(big), 1, 0x100 + 0xffffffffull, -ENOENT, 0 },
		{ wraps, sizeof(wraps), 1, 0x100, 0, 0x7ffffffe },
		{ wraps, sizeof(wraps), 1, 0x101, 0, -0x7ffffffa },
		{ unterminated, sizeof(unterminated), 1, 0x104, -EINVAL, 0 },
		{ broken_varint, sizeof(broken_varint), 1, 0x100, -EINVAL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int32_t v = 0x7777;
		int rc = gopcln_pcvalue(cases[i].p, cases[i].len, cases[i].quantum, 0x100,
					cases[i].target, &v);

		ok(rc == cases[i].rc && (rc != 0 || v == cases[i].v),
		   "pcvalue case %zu: pc %#" PRIx64 " gives %d (value %d)", i, cases[i].target, rc,
		   rc == 0 ? v : 0);
	}
}

/* ---- synthetic tables ---------------------------------------------------- */

static bool frame_is(const struct gopcln_frame *f, const char *func, const char *file, int line,
		     bool inlined)
{
	return f->function && strcmp(f->function, func) == 0 && f->file &&
	       strcmp(f->file, file) == 0 && f->line == line && f->inlined == inlined;
}

static void case_synth(int version)
{
	size_t len, n0 = 0, n1 = 0;
	uint8_t *in = gs_make(version, &len);
	const uint8_t *d0 = NULL, *d1 = NULL;
	struct gopcln_seg segs[2];
	struct gopcln_frame fr[GOPCLN_MAX_FRAMES];
	struct gopcln t, t2;
	const char *why = NULL;
	uint64_t lo = 0, hi = 0;
	size_t n;

	if (!ok(gs_split(in, len, &d0, &n0, &d1, &n1), "go%d: a table made", version))
		goto out;
	segs[0] = (struct gopcln_seg){ GS_SEG0, d0, n0 };
	segs[1] = (struct gopcln_seg){ GS_SEG1, d1, n1 };
	if (!ok(gopcln_parse(segs, 2, GS_SEG0, &t, &why) == 0 && t.version == version,
		"go%d table parses (%s)", version, why ? why : "ok"))
		goto out;
	ok(t.gofunc != 0 && t.nfunc == 3 && t.text == GS_TEXT,
	   "go%d: 3 functions from text %#" PRIx64 ", go:func.* from the moduledata", version,
	   t.text);
	n = gopcln_lookup(&t, GS_TEXT + 0x04, fr, GOPCLN_MAX_FRAMES);
	ok(n == 1 && frame_is(&fr[0], "main.outer", "/src/main.go", 10, false),
	   "go%d: main.outer main.go:10 at +4", version);
	n = gopcln_lookup(&t, GS_TEXT + 0x14, fr, GOPCLN_MAX_FRAMES);
	ok(n == 2 && frame_is(&fr[0], "main.inner", "/src/inner.go", 20, true) &&
	   frame_is(&fr[1], "main.outer", "/src/main.go", 10, false),
	   "go%d: +0x14 is main.inner inner.go:20 inlined into main.outer main.go:10", version);
	n = gopcln_lookup(&t, GS_TEXT + 0x14, fr, 1);
	ok(n == 1 && frame_is(&fr[0], "main.outer", "/src/main.go", 10, false),
	   "go%d: with room for one frame, the real one at its call site", version);
	n = gopcln_lookup(&t, GS_TEXT + 0x3f, fr, GOPCLN_MAX_FRAMES);
	ok(n == 1 && frame_is(&fr[0], "main.outer", "/src/main.go", 12, false),
	   "go%d: main.outer main.go:12 at its last byte", version);
	n = gopcln_lookup(&t, GS_TEXT + 0x40, fr, GOPCLN_MAX_FRAMES);
	ok(n == 1 && frame_is(&fr[0], "main.leaf", "/src/main.go", 30, false),
	   "go%d: main.leaf main.go:30", version);
	n = gopcln_lookup(&t, GS_TEXT + 0x50, fr, GOPCLN_MAX_FRAMES);
	ok(n == 1 && frame_is(&fr[0], "runtime.runfinq", "/src/mfinal.go", 100, false),
	   "go%d: runtime.runfinq mfinal.go:100", version);
	ok(gopcln_lookup(&t, GS_TEXT + 0x60, fr, GOPCLN_MAX_FRAMES) == 0 &&
	   gopcln_lookup(&t, GS_TEXT - 1, fr, GOPCLN_MAX_FRAMES) == 0,
	   "go%d: nothing below text or past the last function", version);
	ok(gopcln_func_range(&t, "runtime.runfinq", &lo, &hi) && lo == GS_TEXT + 0x48 &&
	   hi == GS_TEXT + 0x60, "go%d: runtime.runfinq is [+0x48, +0x60)", version);
	ok(!gopcln_func_range(&t, "main.inner", &lo, &hi),
	   "go%d: an inlined-only function has no range", version);
	ok(gopcln_scan(segs, 2, &t2) == 0 && t2.tab_vaddr == GS_SEG0 && t2.gofunc == t.gofunc,
	   "go%d: found by scanning too", version);

	/* Without the moduledata: names and lines, no inlined frame. */
	if (gopcln_parse(segs, 1, GS_SEG0, &t2, &why) == 0) {
		n = gopcln_lookup(&t2, GS_TEXT + 0x14, fr, GOPCLN_MAX_FRAMES);
		ok(t2.gofunc == 0 && n == 1 && frame_is(&fr[0], "main.outer", "/src/inner.go", 20,
							false),
		   "go%d: without the moduledata, the real frame only", version);
	} else {
		ok(false, "go%d: parses without the moduledata", version);
	}

	/* Every truncation of the table's segment: parsed or refused with a
	 * reason, and every lookup stays inside (ASan builds check that). */
	{
		bool all = true;

		for (size_t cut = 0; cut < n0; cut++) {
			struct gopcln_seg s2[2] = { { GS_SEG0, d0, cut }, segs[1] };
			uint8_t *copy = malloc(cut + 1);

			memcpy(copy, d0, cut);
			s2[0].data = copy;
			if (gopcln_parse(s2, 2, GS_SEG0, &t2, &why) == 0) {
				for (uint64_t pc = GS_TEXT; pc < GS_TEXT + 0x60; pc++)
					gopcln_lookup(&t2, pc, fr, GOPCLN_MAX_FRAMES);
			} else if (!why) {
				all = false;
			}
			free(copy);
		}
		ok(all, "go%d: each of %zu truncations parses or is refused with a reason",
		   version, n0);
	}

	/* Older tables are refused, saying why. */
	{
		uint8_t *copy = malloc(n0);
		struct gopcln_seg s2 = { GS_SEG0, copy, n0 };

		memcpy(copy, d0, n0);
		int rc;

		copy[0] = 0xfa;   /* Go 1.16's magic */
		rc = gopcln_parse(&s2, 1, GS_SEG0, &t2, &why);
		ok(rc == -EINVAL && why && strstr(why, "older than Go 1.18"),
		   "go%d: a Go 1.16 table is refused: %s", version, why ? why : "");
		copy[0] = 0xfb;   /* Go 1.2 */
		rc = gopcln_parse(&s2, 1, GS_SEG0, &t2, &why);
		ok(rc == -EINVAL && why && strstr(why, "older than Go 1.18"),
		   "go%d: a Go 1.2 table is refused", version);
		copy[0] = 0xf0;
		copy[6] = 3;      /* no such pc quantum */
		rc = gopcln_parse(&s2, 1, GS_SEG0, &t2, &why);
		ok(rc == -EINVAL && why && strstr(why, "header"), "go%d: a bad header is refused: %s",
		   version, why ? why : "");
		free(copy);
	}
out:
	free(in);
}

/* ---- the real program ---------------------------------------------------- */

static bool ends_with(const char *s, const char *tail)
{
	size_t a = s ? strlen(s) : 0, b = strlen(tail);

	return s && a >= b && strcmp(s + a - b, tail) == 0;
}

struct gofile {
	int fd;
	Elf *e;
	struct gopcln_elf g;
	int rc;
	const char *why;
};

static bool gofile_open(struct gofile *f, const char *path)
{
	memset(f, 0, sizeof(*f));
	f->rc = -ENOENT;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return false;
	f->e = elf_begin(f->fd, ELF_C_READ_MMAP, NULL);
	if (!f->e)
		return false;
	f->rc = gopcln_elf_open(f->e, &f->g, &f->why);
	return f->rc == 0;
}

static void gofile_close(struct gofile *f)
{
	if (f->e)
		elf_end(f->e);
	if (f->fd > 0)
		close(f->fd);
}

/* The open sites of the stripped builds: each function's lines include
 * the line the source marks, and dialVia shows as inlined into
 * dialInlined. */
static void case_real(const char *src, const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	static const char *const sites[] = { "main.dialHold", "main.dialAndDrop" };
	struct gopcln_frame fr[GOPCLN_MAX_FRAMES];
	int via = (int)tlib_source_line(src, "// open site: dialVia");
	int inl = (int)tlib_source_line(src, "// open site: dialInlined");
	bool seen_inline = false;
	struct gofile f;
	uint64_t lo, hi;

	bool opened = gofile_open(&f, path);

	if (!ok(opened, "%s: its Go table is read (%s)", base, f.why ? f.why : strerror(-f.rc))) {
		gofile_close(&f);
		return;
	}
	ok(f.g.t.version == 118 && f.g.t.gofunc != 0 && f.g.t.nfunc > 1000,
	   "%s: Go 1.18 layout, %u functions, go:func.* at %#" PRIx64, base, f.g.t.nfunc,
	   f.g.t.gofunc);
	for (size_t i = 0; i < sizeof(sites) / sizeof(sites[0]); i++) {
		char marker[64];
		int want, seen = 0;
		bool named = true;

		snprintf(marker, sizeof(marker), "// open site: %s", sites[i] + 5);
		want = (int)tlib_source_line(src, marker);
		if (!ok(want > 0 && gopcln_func_range(&f.g.t, sites[i], &lo, &hi),
			"%s: %s found (source line %d)", base, sites[i], want))
			continue;
		for (uint64_t pc = lo; pc < hi; pc++) {
			size_t n = gopcln_lookup(&f.g.t, pc, fr, GOPCLN_MAX_FRAMES);

			named = named && n >= 1 && strcmp(fr[n - 1].function, sites[i]) == 0;
			if (n >= 1 && fr[n - 1].line == want && ends_with(fr[n - 1].file, "/main.go"))
				seen = 1;
		}
		ok(named && seen, "%s: every pc of %s is named so, one is main.go:%d", base,
		   sites[i], want);
	}
	if (ok(via > 0 && inl > 0 && gopcln_func_range(&f.g.t, "main.dialInlined", &lo, &hi),
	       "%s: main.dialInlined found", base)) {
		for (uint64_t pc = lo; pc < hi && !seen_inline; pc++) {
			size_t n = gopcln_lookup(&f.g.t, pc, fr, GOPCLN_MAX_FRAMES);

			seen_inline = n == 2 && fr[0].inlined && strcmp(fr[0].function,
									"main.dialVia") == 0 &&
				      fr[0].line == via && ends_with(fr[0].file, "/main.go") &&
				      strcmp(fr[1].function, "main.dialInlined") == 0 &&
				      fr[1].line == inl && !fr[1].inlined;
		}
		ok(seen_inline, "%s: main.dialVia main.go:%d inlined into main.dialInlined "
		   "main.go:%d", base, via, inl);
	}
	gofile_close(&f);
}

/* A copy of path without section headers: the table is found by its
 * header and the moduledata, at the same place. */
static void case_no_sections(const char *path)
{
	char tmp[] = "/tmp/sockaudit-gopcln.XXXXXX";
	struct gofile a, b;
	int in = open(path, O_RDONLY | O_CLOEXEC), out = mkstemp(tmp);
	struct stat st;
	uint8_t *buf = NULL;
	bool copied = false;

	if (in >= 0 && out >= 0 && fstat(in, &st) == 0 && (buf = malloc((size_t)st.st_size)) &&
	    read(in, buf, (size_t)st.st_size) == st.st_size) {
		Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;

		eh->e_shoff = 0;
		eh->e_shnum = 0;
		eh->e_shstrndx = 0;
		copied = write(out, buf, (size_t)st.st_size) == st.st_size;
	}
	free(buf);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (!ok(copied, "a copy without section headers is written")) {
		unlink(tmp);
		return;
	}
	gofile_open(&a, path);
	gofile_open(&b, tmp);
	ok(a.rc == 0 && b.rc == 0 && a.g.t.tab_vaddr == b.g.t.tab_vaddr &&
	   a.g.t.gofunc == b.g.t.gofunc && b.g.t.gofunc,
	   "without section headers the table is found by scanning, at %#" PRIx64,
	   b.g.t.tab_vaddr);
	gofile_close(&a);
	gofile_close(&b);
	unlink(tmp);
}

/* The module description symbolize wants for a fixed-address Go binary. */
static bool go_module(const char *path, struct sym_module *m, uint8_t id[32])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *e = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
	size_t nph = 0;
	Elf_Scn *scn = NULL;
	bool have_id = false;

	memset(m, 0, sizeof(*m));
	/* The module log holds absolute paths only. */
	m->path = realpath(path, NULL);
	m->start = UINT64_MAX;
	if (e && elf_getphdrnum(e, &nph) == 0)
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;

			if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
				continue;
			if (ph.p_vaddr < m->start)
				m->start = ph.p_vaddr;
			if (ph.p_vaddr + ph.p_memsz > m->end)
				m->end = ph.p_vaddr + ph.p_memsz;
		}
	while (e && !have_id && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		GElf_Nhdr nh;
		size_t off = 0, no, doff;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE || !(d = elf_getdata(scn, NULL)))
			continue;
		while (!have_id && (off = gelf_getnote(d, off, &nh, &no, &doff)) > 0)
			if (nh.n_type == 4 && nh.n_namesz >= 3 && nh.n_descsz >= 32 &&
			    memcmp((char *)d->d_buf + no, "Go", 3) == 0) {
				memcpy(id, (char *)d->d_buf + doff, 32);
				have_id = true;
			}
	}
	if (e)
		elf_end(e);
	if (fd >= 0)
		close(fd);
	m->build_id = id;
	m->build_id_len = 32;
	m->go_build_id = true;
	return have_id && m->path && m->start < m->end;
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Every pc of these functions through the symbolizer: DWARF of the plain
 * build against .gopclntab of the stripped one, frame by frame. */
static void case_against_dwarf(const char *dwarf, const char *strip)
{
	static const char *const funcs[] = {
		"main.dialHold", "main.dialInlined", "main.dialAndDrop", "main.gcCase",
		"main.main", "main.churnCase.func2", "net.(*Dialer).DialContext",
		"net.(*netFD).connect", "runtime.runfinq", "runtime.mallocgc",
	};
	uint8_t ida[32], idb[32];
	struct sym_module ma, mb;
	struct symbolizer *sa = NULL, *sb = NULL;
	struct gofile f;
	size_t pcs = 0, frames = 0, inl = 0, bad = 0;

	bool described = go_module(dwarf, &ma, ida) & go_module(strip, &mb, idb);

	if (!ok(described && gofile_open(&f, strip), "both builds described")) {
		free((char *)ma.path);
		free((char *)mb.path);
		return;
	}
	sa = sym_create_modules(&ma, 1);
	sb = sym_create_modules(&mb, 1);
	if (!ok(sa && sb, "symbolizers for both")) {
		sym_destroy(sa);
		sym_destroy(sb);
		gofile_close(&f);
		free((char *)ma.path);
		free((char *)mb.path);
		return;
	}
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		uint64_t lo, hi;

		if (!ok(gopcln_func_range(&f.g.t, funcs[i], &lo, &hi), "%s found", funcs[i]))
			continue;
		for (uint64_t pc = lo; pc < hi; pc++) {
			const struct sym_frame *a, *b;
			size_t na, nb;
			bool eq;

			/* sym_resolve takes return addresses: pc + 1. */
			sym_resolve(sa, pc + 1, &a, &na);
			sym_resolve(sb, pc + 1, &b, &nb);
			eq = na == nb;
			for (size_t k = 0; eq && k < na; k++)
				eq = same(a[k].function, b[k].function) && same(a[k].file, b[k].file) &&
				     a[k].line == b[k].line && a[k].inlined == b[k].inlined;
			pcs++;
			frames += nb;
			inl += nb - 1;
			if (!eq && bad++ < 5)
				diag("%s+%#" PRIx64 ": DWARF %s %s:%d (%zu frames), table %s %s:%d "
				     "(%zu frames)", funcs[i], pc - lo, a[0].function, a[0].file,
				     a[0].line, na, b[0].function, b[0].file, b[0].line, nb);
		}
	}
	{
		const struct sym_frame *a, *b;
		size_t na, nb;
		uint64_t lo = 0, hi;

		gopcln_func_range(&f.g.t, "main.dialHold", &lo, &hi);
		sym_resolve(sa, lo + 1, &a, &na);
		sym_resolve(sb, lo + 1, &b, &nb);
		ok(na == 1 && nb == 1 && same(a[0].function, "main.dialHold") &&
		   same(b[0].function, "main.dialHold"),
		   "main.dialHold's entry is named so by both (%s, %s)", a[0].function,
		   b[0].function);
	}
	ok(bad == 0 && pcs > 1000 && inl > 0,
	   "%zu pcs, %zu frames (%zu inlined): the table gives what DWARF gives (%zu differ)",
	   pcs, frames, inl, bad);
	sym_destroy(sa);
	sym_destroy(sb);
	free((char *)ma.path);
	free((char *)mb.path);
	gofile_close(&f);
}

int main(int argc, char **argv)
{
	elf_version(EV_CURRENT);
	case_uvarint();
	case_pcvalue();
	case_synth(118);
	case_synth(120);
	if (argc < 4) {
		ok(false, "the Go builds are given (usage: %s SRC DWARF STRIP [OTHER...]; "
		   "install golang-go)", argv[0]);
		return tap_done();
	}
	for (int i = 3; i < argc; i++)
		case_real(argv[1], argv[i]);
	case_no_sections(argv[3]);
	case_against_dwarf(argv[2], argv[3]);
	return tap_done();
}
