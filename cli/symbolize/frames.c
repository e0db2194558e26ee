// SPDX-License-Identifier: MIT
/* One address in one module -> frames, innermost first: the DWARF scopes
 * (inlined instances, then the subprogram) with the line table's location,
 * else Go's own pc-line table, else the symbol table's name. The session
 * around it (which module, the cache) is symbolize.c's. */
#include "symbolize/symbolize-private.h"
#include "symbolize/demangle.h"
#include "symbolize/gopclntab.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdlib.h>
#include <string.h>

/* The CUs of one module by address range. Only built for a module where
 * libdw cannot map an address to its CU itself: libdw 0.188 knows CUs only
 * through .debug_aranges, which clang/LLVM do not emit by default, so without
 * this every clang-built module would have neither lines nor inline frames.
 * Modules without DWARF get an empty index, so it is never retried. */
struct sym_curange {
	Dwarf_Addr lo, hi;
	Dwarf_Die cudie;
};

struct sym_cuidx {
	Dwfl_Module *mod;
	Dwarf_Addr dwbias;
	struct sym_curange *v;   /* sorted by lo */
	size_t n;
	UT_hash_handle hh;
};

/* A module's Go pc-line table, looked for once: g is NULL when the module
 * has none (not Go, or DWARF answered for it). */
struct sym_goidx {
	Dwfl_Module *mod;
	struct gopcln_elf *g;
	GElf_Addr bias;
	UT_hash_handle hh;
};

void sym_vec_init(struct sym_vec *v)
{
	v->v = v->buf;
	v->n = 0;
	v->cap = SYM_VEC_INLINE;
}

void sym_vec_release(struct sym_vec *v)
{
	if (v->v != v->buf)
		free(v->v);
	sym_vec_init(v);
}

struct sym_frame *sym_vec_push(struct sym_vec *v)
{
	struct sym_frame *nv;

	if (v->n == v->cap) {
		size_t cap = v->cap * 2;

		if (v->v == v->buf) {
			nv = malloc(cap * sizeof(*nv));
			if (nv)
				memcpy(nv, v->buf, sizeof(v->buf));
		} else {
			nv = realloc(v->v, cap * sizeof(*nv));
		}
		if (!nv)
			return NULL;
		v->v = nv;
		v->cap = cap;
	}
	memset(&v->v[v->n], 0, sizeof(v->v[v->n]));
	return &v->v[v->n++];
}

/* The source-level name of a subprogram or inlined instance, following
 * DW_AT_abstract_origin and DW_AT_specification (dwarf_attr_integrate), which
 * is where an inlined instance or an out-of-line clone keeps its name. A
 * mangled C++ or Rust linkage name wins (sym_name() demangles it: it says
 * the namespace, type and, for C++, the overload where DW_AT_name is the bare
 * "open"); any other linkage name is an asm label (glibc's __GI_lfind for
 * lfind) and the DW_AT_name is what the source says. */
static const char *sym_die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *link, *name;

	link = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!link)
		link = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	if (sym_is_mangled(link))
		return link;
	name = dwarf_diename(die);
	return name ? name : link;
}

/* Where an inlined instance was called from, in its caller. A call line
 * without a call file is not a location: both stay unknown then. */
static void sym_call_site(struct symbolizer *s, Dwarf_Die *inl, Dwarf_Files *files,
			  const char **file, int *line)
{
	Dwarf_Attribute attr;
	Dwarf_Word idx, ln;

	*file = NULL;
	*line = 0;
	if (!files || dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &attr), &idx) != 0)
		return;
	*file = sym_intern(s, dwarf_filesrc(files, idx, NULL, NULL));
	if (*file && dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &attr), &ln) == 0)
		*line = (int)ln;
}

/* Function-like scopes containing one pc, outermost first: the subprogram,
 * then each inlined instance nested in it. Deeper inline nesting than this is
 * not produced by compilers; such DWARF is treated as broken. */
#define SYM_MAX_SCOPES 64

struct sym_scopes {
	Dwarf_Die v[SYM_MAX_SCOPES];
	int n;
};

static bool sym_is_function(int tag)
{
	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_entry_point;
}

/* One descent from `parent` through the children whose ranges hold pc. Only
 * DIEs that can carry code are tested, and only the matching one is entered:
 * this visits the CU's top-level DIEs once plus the path to pc, where
 * dwarf_getscopes() + dwarf_getscopes_die() walk the CU up to three times
 * (measured: ~65 of ~70 us per address on a small CU). Namespaces and
 * classes, which own code without having ranges themselves, are searched.
 * Returns 1 when a function-like scope was found, 0 when not, -1 on error. */
static int sym_descend(Dwarf_Die *parent, Dwarf_Addr pc, struct sym_scopes *sc, int depth)
{
	Dwarf_Die child;
	int r;

	if (depth >= SYM_MAX_SCOPES)
		return -1;
	r = dwarf_child(parent, &child);
	if (r != 0)
		return r < 0 ? -1 : 0;
	do {
		int tag = dwarf_tag(&child);

		switch (tag) {
		case DW_TAG_subprogram:
		case DW_TAG_inlined_subroutine:
		case DW_TAG_entry_point:
		case DW_TAG_lexical_block:
		case DW_TAG_try_block:
		case DW_TAG_catch_block:
		case DW_TAG_with_stmt:
			/* Declarations and abstract instances have no
			 * ranges: dwarf_haspc says no (or -1). */
			if (dwarf_haspc(&child, pc) <= 0)
				break;
			if (sym_is_function(tag)) {
				if (sc->n == SYM_MAX_SCOPES)
					return -1;
				sc->v[sc->n++] = child;
			}
			/* The innermost matching scope has no matching
			 * children: that is the end of the descent. */
			r = sym_descend(&child, pc, sc, depth + 1);
			if (r < 0)
				return -1;
			return sc->n > 0;
		case DW_TAG_namespace:
		case DW_TAG_module:
		case DW_TAG_class_type:
		case DW_TAG_structure_type:
		case DW_TAG_union_type:
			r = sym_descend(&child, pc, sc, depth + 1);
			if (r != 0)
				return r;
			break;
		default:
			break;
		}
	} while ((r = dwarf_siblingof(&child, &child)) == 0);
	return r < 0 ? -1 : 0;
}

/* libdw's walk, for what sym_descend() does not know (imported partial
 * units, for one). Past an inlined instance dwarf_getscopes() continues with
 * its abstract origin's scopes (that is for variable lookup); the physical
 * nesting, which is the call chain, is dwarf_getscopes_die() of the
 * innermost scope. */
static int sym_scopes_libdw(Dwarf_Die *cudie, Dwarf_Addr pc, struct sym_scopes *sc)
{
	Dwarf_Die *scopes = NULL, innermost;
	int i, n;

	n = dwarf_getscopes(cudie, pc, &scopes);
	if (n <= 0)
		goto out;
	innermost = scopes[0];
	free(scopes);
	scopes = NULL;
	n = dwarf_getscopes_die(&innermost, &scopes);
	/* Innermost first there, outermost first here. */
	for (i = n - 1; i >= 0; i--) {
		if (!sym_is_function(dwarf_tag(&scopes[i])))
			continue;
		if (sc->n == SYM_MAX_SCOPES) {
			sc->n = 0;
			break;
		}
		sc->v[sc->n++] = scopes[i];
	}
out:
	free(scopes);
	return sc->n > 0;
}

static const char *sym_symtab_name(struct symbolizer *s, Dwfl_Module *mod, uint64_t pc)
{
	GElf_Off off;
	GElf_Sym sym;

	return sym_intern(s, dwfl_module_addrinfo(mod, pc, &off, &sym, NULL, NULL, NULL));
}

/* Inline chain at pc: one frame per DW_TAG_inlined_subroutine, innermost
 * first, then the enclosing subprogram. The innermost frame's location is the
 * line table's; each outer frame's location is the call site recorded on the
 * inlined instance it contains. Returns false when DWARF has no scope for pc
 * (no debug info, or code outside any subprogram), leaving v empty. */
static bool sym_inline_chain(struct symbolizer *s, Dwfl_Module *mod, uint64_t pc,
			     Dwarf_Die *cudie, Dwarf_Addr dwpc,
			     const struct sym_frame *proto, struct sym_vec *v)
{
	struct sym_scopes sc = { .n = 0 };
	Dwarf_Files *files = NULL;
	const char *file = proto->file;
	int line = proto->line;
	struct sym_frame *f;
	Dwarf_Die cu;
	int i;

	if (sym_descend(cudie, dwpc, &sc, 0) <= 0) {
		sc.n = 0;
		if (!sym_scopes_libdw(cudie, dwpc, &sc))
			return false;
	}
	/* No file table only costs the call sites, not the names. */
	if (!dwarf_diecu(&sc.v[0], &cu, NULL, NULL) || dwarf_getsrcfiles(&cu, &files, NULL) != 0)
		files = NULL;

	for (i = sc.n - 1; i >= 0; i--) {
		int tag = dwarf_tag(&sc.v[i]);

		f = sym_vec_push(v);
		if (!f)
			goto oom;
		*f = *proto;
		f->file = file;
		f->line = line;
		f->function = sym_intern(s, sym_die_name(&sc.v[i]));
		if (tag != DW_TAG_inlined_subroutine) {
			/* An anonymous subprogram DIE is rare; the symbol
			 * table still knows the function. */
			if (!f->function)
				f->function = sym_symtab_name(s, mod, pc);
			return true;
		}
		f->inlined = true;
		sym_call_site(s, &sc.v[i], files, &file, &line);
	}
	/* Inlined instances with no enclosing subprogram (broken or partial
	 * DWARF): the real frame is still due, from the symbol table at the
	 * last call site. */
	f = sym_vec_push(v);
	if (!f)
		goto oom;
	*f = *proto;
	f->file = file;
	f->line = line;
	f->function = sym_symtab_name(s, mod, pc);
	return true;
oom:
	v->n = 0;
	return false;
}

static int sym_curange_cmp(const void *a, const void *b)
{
	const struct sym_curange *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* A CU whose ranges cannot be read is left out: it is only as unknown as
 * libdw would have left it. Out of memory keeps what was indexed so far. */
static void sym_cuidx_fill(struct sym_cuidx *idx, Dwarf *dw)
{
	Dwarf_Addr base, lo, hi;
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	size_t cap = 0;

	while (dwarf_get_units(dw, cu, &cu, NULL, NULL, &cudie, NULL) == 0) {
		ptrdiff_t off = 0;

		while ((off = dwarf_ranges(&cudie, off, &base, &lo, &hi)) > 0) {
			if (lo >= hi)
				continue;
			if (idx->n == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				struct sym_curange *nv = realloc(idx->v, ncap * sizeof(*nv));

				if (!nv)
					goto sort;
				idx->v = nv;
				cap = ncap;
			}
			idx->v[idx->n++] = (struct sym_curange){ lo, hi, cudie };
		}
	}
sort:
	qsort(idx->v, idx->n, sizeof(*idx->v), sym_curange_cmp);
}

/* The CU holding pc when dwfl_module_addrdie() found none. */
static Dwarf_Die *sym_cu_fallback(struct symbolizer *s, Dwfl_Module *mod, uint64_t pc,
				  Dwarf_Addr *dwbias)
{
	struct sym_cuidx *idx;
	size_t lo = 0, hi;
	Dwarf *dw;

	HASH_FIND(hh, s->cuidx, &mod, sizeof(mod), idx);
	if (!idx) {
		idx = calloc(1, sizeof(*idx));
		if (!idx)
			return NULL;
		idx->mod = mod;
		dw = dwfl_module_getdwarf(mod, &idx->dwbias);
		if (dw)
			sym_cuidx_fill(idx, dw);
		HASH_ADD(hh, s->cuidx, mod, sizeof(idx->mod), idx);
		if (!idx->hh.tbl) {
			free(idx->v);
			free(idx);
			return NULL;
		}
	}
	if (pc < idx->dwbias)
		return NULL;
	pc -= idx->dwbias;
	/* Last range starting at or below pc. */
	hi = idx->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (idx->v[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || pc >= idx->v[lo - 1].hi)
		return NULL;
	*dwbias = idx->dwbias;
	return &idx->v[lo - 1].cudie;
}

/* The Go table of a module, read at its first use; NULL when none. */
static const struct sym_goidx *sym_go_table(struct symbolizer *s, Dwfl_Module *mod)
{
	struct sym_goidx *gi;
	const char *why;
	Elf *elf;

	HASH_FIND(hh, s->goidx, &mod, sizeof(mod), gi);
	if (gi)
		return gi->g ? gi : NULL;
	gi = calloc(1, sizeof(*gi));
	if (!gi)
		return NULL;
	gi->mod = mod;
	elf = dwfl_module_getelf(mod, &gi->bias);
	gi->g = elf ? malloc(sizeof(*gi->g)) : NULL;
	/* A table that cannot be read is as good as none: the frame stays
	 * module+offset, as for any binary without symbols. */
	if (gi->g && gopcln_elf_open(elf, gi->g, &why) != 0) {
		free(gi->g);
		gi->g = NULL;
	}
	HASH_ADD(hh, s->goidx, mod, sizeof(gi->mod), gi);
	if (!gi->hh.tbl) {
		free(gi->g);
		free(gi);
		return NULL;
	}
	return gi->g ? gi : NULL;
}

/* Frames for pc from the module's Go pc-line table (a Go binary without
 * DWARF: -ldflags='-s -w', strip), inlined calls first. False when the
 * module has no such table or pc is in none of its functions. */
static bool sym_go_frames(struct symbolizer *s, Dwfl_Module *mod, uint64_t pc,
			  const struct sym_frame *proto, struct sym_vec *v)
{
	const struct sym_goidx *gi = sym_go_table(s, mod);
	struct gopcln_frame fr[GOPCLN_MAX_FRAMES];
	size_t n;

	if (!gi || pc < gi->bias)
		return false;
	n = gopcln_lookup(&gi->g->t, pc - gi->bias, fr, GOPCLN_MAX_FRAMES);
	if (!n)
		return false;
	v->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct sym_frame *f = sym_vec_push(v);

		if (!f) {
			v->n = 0;
			return false;
		}
		*f = *proto;
		f->function = sym_intern(s, fr[i].function);
		f->file = sym_intern(s, fr[i].file);
		f->line = f->file ? fr[i].line : 0;
		f->inlined = fr[i].inlined;
	}
	return true;
}

/* All frames for pc in a module libdwfl can read. The symbol table is only a
 * fallback: dwfl_module_addrinfo() scans it linearly (measured 140 us per
 * address in libc's full .symtab), and DWARF's name is the source's. */
void sym_module_frames(struct symbolizer *s, Dwfl_Module *mod, uint64_t addr, uint64_t pc,
		       const char *path, struct sym_vec *v)
{
	struct sym_frame proto = { .addr = addr, .module = path };
	GElf_Addr bias, start = 0;
	Dwarf_Addr dwbias = 0;
	Dwarf_Die *cudie;

	/* Without an Elf there is no bias; for the usual ET_DYN whose first
	 * segment is at vaddr 0 the start of the module is the same thing. */
	dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
	if (!dwfl_module_getelf(mod, &bias))
		bias = start;
	proto.module_offset = addr - bias;

	cudie = dwfl_module_addrdie(mod, pc, &dwbias);
	if (!cudie)
		cudie = sym_cu_fallback(s, mod, pc, &dwbias);
	if (cudie) {
		/* The CU's own line table: dwfl_module_getsrc() would look
		 * the CU up through .debug_aranges again. */
		Dwarf_Line *dl = dwarf_getsrc_die(cudie, pc - dwbias);
		int ln;

		if (dl && dwarf_lineno(dl, &ln) == 0) {
			proto.file = sym_intern(s, dwarf_linesrc(dl, NULL, NULL));
			proto.line = proto.file ? ln : 0;
		}
		if (sym_inline_chain(s, mod, pc, cudie, pc - dwbias, &proto, v))
			return;
	}

	/* No DWARF for pc: a Go binary still has its own table. */
	if (sym_go_frames(s, mod, pc, &proto, v))
		return;
	/* No scopes: one frame from the symbol table and the line table. */
	proto.function = sym_symtab_name(s, mod, pc);
	v->n = 0;
	v->v[v->n++] = proto;
}

void sym_module_caches_free(struct symbolizer *s)
{
	struct sym_cuidx *idx, *itmp;
	struct sym_goidx *gi, *gtmp;

	HASH_ITER(hh, s->cuidx, idx, itmp) {
		HASH_DEL(s->cuidx, idx);
		free(idx->v);
		free(idx);
	}
	HASH_ITER(hh, s->goidx, gi, gtmp) {
		HASH_DEL(s->goidx, gi);
		free(gi->g);
		free(gi);
	}
}
