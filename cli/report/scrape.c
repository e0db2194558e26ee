/* scrape: every audited process the caller may read, reduced to metrics (see
 * scrape.h). */
#include "report/scrape.h"

#include "report/collect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report/format.h"
#include "report/group.h"
#include "report/join.h"
#include "report/symbols.h"
#include "table-reader.h"
#include "util/notes.h"
#include "util/util.h"

/* How many of a process's counted stacks get a name before the rest go to
 * "other" unnamed: naming is the costly part (the symbolizer). */
#define SCRAPE_NAME_FACTOR 4

struct cache_key {
	int32_t pid;
	uint32_t id;
	uint64_t starttime;
	uint32_t generation;         /* the image whose modules the stack's addresses are in */
	uint32_t pad;                /* hashed as bytes: always zero */
};

struct cache_entry {
	struct cache_key key;
	char site[SCRAPE_SITE_MAX];
	uint64_t seen;               /* the collection that last used it */
	UT_hash_handle hh;
};

struct scrape_cache {
	struct cache_entry *by_key;
	uint64_t collection;
	struct collector *collector;   /* the host collector, its module files kept */
};

struct scrape_cache *scrape_cache_create(void)
{
	struct scrape_cache *c = xcalloc(1, sizeof(struct scrape_cache));

	c->collector = collector_create();
	return c;
}

/* uthash's Jenkins hash falls through its switch on purpose. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
static void cache_clear(struct scrape_cache *c)
{
	struct cache_entry *e, *tmp;

	HASH_ITER(hh, c->by_key, e, tmp) {
		HASH_DEL(c->by_key, e);
		free(e);
	}
}

void scrape_cache_destroy(struct scrape_cache *c)
{
	if (!c)
		return;
	cache_clear(c);
	collector_destroy(c->collector);
	free(c);
}

static struct cache_entry *cache_find(struct scrape_cache *c, const struct cache_key *k)
{
	struct cache_entry *e = NULL;

	if (c)
		HASH_FIND(hh, c->by_key, k, sizeof(*k), e);
	if (e)
		e->seen = c->collection;
	return e;
}

static void cache_put(struct scrape_cache *c, const struct cache_key *k, const char *site)
{
	struct cache_entry *e;

	if (!c)
		return;
	e = xcalloc(1, sizeof(*e));
	e->key = *k;
	e->seen = c->collection;
	snprintf(e->site, sizeof(e->site), "%s", site);
	HASH_ADD(hh, c->by_key, key, sizeof(e->key), e);
}

/* Processes not seen in this collection are gone: forget their names, so
 * the cache is bounded by what runs now. */
static void cache_sweep(struct scrape_cache *c)
{
	struct cache_entry *e, *tmp;

	if (!c)
		return;
	HASH_ITER(hh, c->by_key, e, tmp) {
		if (e->seen != c->collection) {
			HASH_DEL(c->by_key, e);
			free(e);
		}
	}
}
#pragma GCC diagnostic pop

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* The site of a resolved stack: its first frame after trimming. */
static void site_of(const struct group *g, char *buf, size_t len)
{
	const struct sym_frame *f = g->nframes ? &g->frames[0] : NULL;

	if (!f)
		snprintf(buf, len, "??");
	else if (f->function && f->file)
		snprintf(buf, len, "%s %s:%d", f->function, base_name(f->file), f->line);
	else if (f->function)
		snprintf(buf, len, "%s", f->function);
	else if (f->module)
		snprintf(buf, len, "%s+0x%llx", base_name(f->module),
			 (unsigned long long)f->module_offset);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)f->addr);
}

struct naming {
	struct scrape_cache *cache;
	struct scrape_cache local;     /* without a shared cache: this process only */
	pid_t pid;
	uint64_t starttime;
	uint32_t generation;
	struct sa_reader *reader;
	struct report_symcache *syms;  /* the collection's module files */
};

/* Names for stack ids ids[0..n) of image generation gen into out[i]
 * (SCRAPE_SITE_MAX each): from the cache, the rest resolved in one pass of
 * the symbolizer. */
static void name_stacks(struct naming *nm, uint32_t gen, const uint32_t *ids, size_t n,
			char (*out)[SCRAPE_SITE_MAX])
{
	struct scrape_cache *c = nm->cache ? nm->cache : &nm->local;
	struct group_set gs = { 0 };
	struct group_stack *st;
	size_t *slot_of;
	struct notes notes = { 0 };
	struct report_symbols *rs;
	struct report_symbols_in in = {
		.pid = nm->pid, .alive = true, .generation = gen,
		.reader = nm->reader, .notes = &notes, .shared = nm->syms,
	};

	st = xcalloc(n ? n : 1, sizeof(*st));
	slot_of = xcalloc(n ? n : 1, sizeof(*slot_of));
	gs.v = xcalloc(n ? n : 1, sizeof(*gs.v));
	for (size_t i = 0; i < n; i++) {
		struct cache_key k = { .pid = nm->pid, .id = ids[i], .starttime = nm->starttime,
				       .generation = gen };
		struct cache_entry *e = cache_find(c, &k);

		if (e) {
			snprintf(out[i], SCRAPE_SITE_MAX, "%s", e->site);
			continue;
		}
		st[gs.n].depth = sa_reader_stack(nm->reader, ids[i], st[gs.n].frames);
		st[gs.n].generation = gen;
		st[gs.n].kind = "open";
		if (!st[gs.n].depth) {
			snprintf(out[i], SCRAPE_SITE_MAX, "??");
			continue;
		}
		gs.v[gs.n].stack = &st[gs.n];
		slot_of[gs.n++] = i;
	}
	if (gs.n) {
		rs = report_symbols_resolve(&gs, &in);
		for (size_t g = 0; g < gs.n; g++) {
			struct cache_key k = { .pid = nm->pid, .id = ids[slot_of[g]],
					       .starttime = nm->starttime, .generation = gen };

			site_of(&gs.v[g], out[slot_of[g]], SCRAPE_SITE_MAX);
			cache_put(c, &k, out[slot_of[g]]);
		}
		report_symbols_destroy(rs);
	}
	group_set_finish(&gs);
	notes_finish(&notes);
	free(st);
	free(slot_of);
}

static int site_cmp(const void *a, const void *b)
{
	const struct scrape_site *x = a, *y = b;

	if (x->opened != y->opened)
		return x->opened < y->opened ? 1 : -1;
	return strcmp(x->site, y->site);
}

static int flag_cmp(const void *a, const void *b)
{
	const struct scrape_flag *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	if (strcmp(x->kind, y->kind))
		return strcmp(x->kind, y->kind);
	return strcmp(x->site, y->site);
}

void scrape_sites_cap(struct scrape_site *v, size_t *n, size_t top)
{
	struct scrape_site other = { .site = SCRAPE_OTHER };
	bool any = false;

	if (*n <= top)
		return;
	for (size_t i = top; i < *n; i++) {
		other.opened += v[i].opened;
		other.closed += v[i].closed;
		other.collected += v[i].collected;
		any = true;
	}
	*n = top;
	if (any)
		v[(*n)++] = other;
}

void scrape_flags_cap(struct scrape_flag *v, size_t *n, size_t top)
{
	struct scrape_flag other[LEAK_KIND_MAX];
	size_t nother = 0;

	if (*n <= top)
		return;
	/* One "other" per kind: the kind stays a label of its own. Summed
	 * apart first: they are written over the entries being summed. */
	for (size_t i = top; i < *n; i++) {
		size_t k;

		for (k = 0; k < nother; k++)
			if (strcmp(other[k].kind, v[i].kind) == 0)
				break;
		if (k == nother && nother == LEAK_KIND_MAX) {
			k = nother - 1;   /* more kinds than exist: never, but stay in bounds */
		} else if (k == nother) {
			nother++;
			other[k].kind = v[i].kind;
			snprintf(other[k].site, sizeof(other[k].site), "%s", SCRAPE_OTHER);
			other[k].n = 0;
		}
		other[k].n += v[i].n;
	}
	memcpy(&v[top], other, nother * sizeof(other[0]));
	*n = top + nother;
}

/* Add n sockets of kind at site, merging equal (kind, site) pairs. */
static void flag_add(struct scrape_proc *p, size_t *cap, const char *kind, const char *site,
		     size_t n)
{
	for (size_t i = 0; i < p->nflags; i++) {
		if (p->flags[i].kind == kind && strcmp(p->flags[i].site, site) == 0) {
			p->flags[i].n += n;
			return;
		}
	}
	if (p->nflags == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		p->flags = xrealloc(p->flags, *cap * sizeof(p->flags[0]));
	}
	p->flags[p->nflags].kind = kind;
	snprintf(p->flags[p->nflags].site, sizeof(p->flags[0].site), "%s", site);
	p->flags[p->nflags++].n = n;
}

static void states_of(struct scrape_proc *p, const struct report_join *j)
{
	p->states = xcalloc(j->nsocks ? j->nsocks : 1, sizeof(p->states[0]));
	for (size_t i = 0; i < j->nsocks; i++) {
		const char *name = report_sock_state(&j->socks[i]);
		size_t k;

		for (k = 0; k < p->nstates; k++)
			if (strcmp(p->states[k].name, name) == 0)
				break;
		if (k == p->nstates) {
			p->states[k].name = name;
			p->nstates++;
		}
		p->states[k].n++;
	}
}

/* The stack id that names a group: the one its identity was taken from. */
static uint32_t group_stack_id(const struct group *g)
{
	const struct report_sock *s = g->n ? g->socks[0] : NULL;

	if (!s || !s->tracked || !g->stack->depth)
		return 0;
	return group_stack_kind_same(g->stack->kind, "connect") ? s->rec.connect_stack
								  : s->rec.open_stack;
}

/* Each group's site: its first frame, named by its stack id through the
 * cache (the lean build resolves nothing), with the group's generation: a
 * record of an earlier image has that image's addresses. */
static char (*group_sites(const struct group_set *gs, struct naming *nm))[SCRAPE_SITE_MAX]
{
	char (*names)[SCRAPE_SITE_MAX] = xcalloc(gs->n ? gs->n : 1, sizeof(*names));

	for (size_t g = 0; g < gs->n; g++) {
		uint32_t id = group_stack_id(&gs->v[g]);

		if (id)
			name_stacks(nm, gs->v[g].stack->generation, &id, 1, &names[g]);
		else
			group_title_nostack(&gs->v[g], names[g], SCRAPE_SITE_MAX);
	}
	return names;
}

static void flags_of(struct scrape_proc *p, const struct group_set *gs,
		     char (*names)[SCRAPE_SITE_MAX], size_t top)
{
	size_t cap = 0;

	for (size_t g = 0; g < gs->n; g++)
		for (size_t i = 0; i < gs->v[g].n; i++)
			if (gs->v[g].socks[i]->verdict.flagged)
				flag_add(p, &cap, leak_kind_name(gs->v[g].socks[i]->verdict.kind),
					 names[g], 1);
	if (p->nflags)
		qsort(p->flags, p->nflags, sizeof(p->flags[0]), flag_cmp);
	scrape_flags_cap(p->flags, &p->nflags, top);
}

/* Every group, with its site, held and flagged counts and its sites' counts. */
static void groups_of(struct scrape_proc *p, const struct group_set *gs,
		      char (*names)[SCRAPE_SITE_MAX])
{
	p->groups = xcalloc(gs->n ? gs->n : 1, sizeof(p->groups[0]));
	for (size_t g = 0; g < gs->n; g++) {
		struct scrape_group *hg = &p->groups[p->ngroups++];

		snprintf(hg->site, sizeof(hg->site), "%s", names[g]);
		hg->held = gs->v[g].n;
		hg->flagged = gs->v[g].flagged;
		hg->counts_known = gs->v[g].counts_known;
		hg->opened = gs->v[g].opened_total;
		hg->closed = gs->v[g].closed_total;
		hg->collected = gs->v[g].collected_total;
	}
}

struct id_count {
	uint32_t id;
	uint64_t opened, closed, collected;
};

static int id_count_cmp(const void *a, const void *b)
{
	const struct id_count *x = a, *y = b;

	if (x->opened != y->opened)
		return x->opened < y->opened ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void sites_of(struct scrape_proc *p, struct naming *nm, size_t top)
{
	static struct sa_count counts[SA_NSTACKS];
	size_t n = sa_reader_counts_used(nm->reader, counts, SA_NSTACKS), nids = 0, named;
	struct id_count *ids;
	uint32_t *want;
	char (*names)[SCRAPE_SITE_MAX];
	struct scrape_site other = { .site = SCRAPE_OTHER };

	p->counts_known = sa_reader_has_counts(nm->reader);
	if (!n)
		return;
	/* Sized by the stacks counted, not by the table's capacity. */
	for (size_t i = 0; i < n; i++)
		nids += counts[i].opened != 0;
	ids = xcalloc(nids ? nids : 1, sizeof(*ids));
	nids = 0;
	for (size_t i = 0; i < n; i++)
		if (counts[i].opened)
			ids[nids++] = (struct id_count){ (uint32_t)i + 1, counts[i].opened,
							 counts[i].closed, counts[i].collected };
	qsort(ids, nids, sizeof(*ids), id_count_cmp);
	named = nids < top * SCRAPE_NAME_FACTOR ? nids : top * SCRAPE_NAME_FACTOR;
	want = xcalloc(named ? named : 1, sizeof(*want));
	names = xcalloc(named ? named : 1, sizeof(*names));
	for (size_t i = 0; i < named; i++)
		want[i] = ids[i].id;
	name_stacks(nm, nm->generation, want, named, names);
	p->sites = xcalloc(named + 1, sizeof(p->sites[0]));
	/* Stacks with the same first frame are one site. */
	for (size_t i = 0; i < named; i++) {
		size_t k;

		for (k = 0; k < p->nsites; k++)
			if (strcmp(p->sites[k].site, names[i]) == 0)
				break;
		if (k == p->nsites)
			snprintf(p->sites[p->nsites++].site, SCRAPE_SITE_MAX, "%s", names[i]);
		p->sites[k].opened += ids[i].opened;
		p->sites[k].closed += ids[i].closed;
		p->sites[k].collected += ids[i].collected;
	}
	qsort(p->sites, p->nsites, sizeof(p->sites[0]), site_cmp);
	scrape_sites_cap(p->sites, &p->nsites, top);
	/* The stacks never named go to "other" as they are. */
	for (size_t i = named; i < nids; i++) {
		other.opened += ids[i].opened;
		other.closed += ids[i].closed;
		other.collected += ids[i].collected;
	}
	if (nids > named) {
		if (p->nsites && strcmp(p->sites[p->nsites - 1].site, SCRAPE_OTHER) == 0) {
			p->sites[p->nsites - 1].opened += other.opened;
			p->sites[p->nsites - 1].closed += other.closed;
			p->sites[p->nsites - 1].collected += other.collected;
		} else {
			p->sites = xrealloc(p->sites, (p->nsites + 1) * sizeof(p->sites[0]));
			p->sites[p->nsites++] = other;
		}
	}
	free(ids);
	free(want);
	free(names);
}

static int proc_cmp(const void *a, const void *b)
{
	const struct scrape_proc *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static void proc_free(struct scrape_proc *p)
{
	free(p->states);
	free(p->flags);
	free(p->sites);
	free(p->groups);
}

void scrape_proc_finish(struct scrape_proc *p)
{
	proc_free(p);
	memset(p, 0, sizeof(*p));
}

/* One process's report, built by the host collector, reduced. */
static void reduce(struct scrape_proc *p, struct report_build *b, const struct scrape_opts *o,
		   struct scrape_cache *cache)
{
	const struct report *rep = &b->rep;
	struct naming nm = {
		.cache = cache, .pid = rep->tgt.pid, .starttime = rep->tgt.starttime,
		.generation = rep->hdr.generation, .reader = &b->reader,
		.syms = cache ? collector_symbols(cache->collector) : NULL,
	};
	char (*names)[SCRAPE_SITE_MAX];

	names = group_sites(&rep->groups, &nm);
	memset(p, 0, sizeof(*p));
	p->pid = rep->tgt.pid;
	p->starttime = rep->tgt.starttime;
	snprintf(p->comm, sizeof(p->comm), "%s", rep->tgt.comm);
	states_of(p, &rep->join);
	flags_of(p, &rep->groups, names, o->top_sites);
	sites_of(p, &nm, o->top_sites);
	if (o->groups)
		groups_of(p, &rep->groups, names);
	free(names);
	cache_clear(&nm.local);   /* names kept for this process only */
}

struct gather {
	struct scrape_report *h;
	struct scrape_proc *one;       /* scrape_collect_pid */
	const struct scrape_opts *o;
	struct scrape_cache *cache;
	size_t cap;
	char *err;
	size_t errlen;
};

static void gather_ok(struct report_build *b, void *arg)
{
	struct gather *g = arg;
	struct scrape_report *h = g->h;

	if (g->one) {
		reduce(g->one, b, g->o, g->cache);
		return;
	}
	if (h->nprocs == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		h->procs = xrealloc(h->procs, g->cap * sizeof(h->procs[0]));
	}
	reduce(&h->procs[h->nprocs++], b, g->o, g->cache);
}

static void gather_bad(const struct target *t, int rc, const char *err, void *arg)
{
	struct gather *g = arg;

	(void)t;
	if (g->err)
		snprintf(g->err, g->errlen, "%s", err);
	/* Gone between the walk and the read: not running, not unreadable. */
	if (g->h && rc != -ESRCH)
		g->h->unreadable++;
}

static struct collect_opts collect_opts_of(const struct scrape_opts *o, pid_t only)
{
	struct collect_opts co;

	memset(&co, 0, sizeof(co));
	report_opts_init(&co.report);
	co.report.leak = o->leak;
	co.report.all = o->groups;       /* every group for watch; the flagged for serve */
	co.only = only;
	co.lean = true;
	return co;
}

int scrape_collect_pid(struct scrape_proc *p, pid_t pid, const struct scrape_opts *o,
		     struct scrape_cache *cache, char *err, size_t errlen)
{
	struct scrape_cache *own = cache ? NULL : scrape_cache_create();
	struct gather g = { .one = p, .o = o, .cache = cache ? cache : own, .err = err,
			    .errlen = errlen };
	struct collect_opts co = collect_opts_of(o, pid);
	struct collect_stats st;
	int rc;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	g.cache->collection++;
	rc = collect_run(g.cache->collector, &co, gather_ok, gather_bad, &g, &st);
	cache_sweep(g.cache);
	scrape_cache_destroy(own);
	return rc < 0 && rc != -ESRCH && rc != -ENOENT ? -EACCES : rc;
}

void scrape_collect(struct scrape_report *h, const struct scrape_opts *o, struct scrape_cache *cache)
{
	struct scrape_cache *own = cache ? NULL : scrape_cache_create();
	struct gather g = { .h = h, .o = o, .cache = cache ? cache : own };
	struct collect_opts co = collect_opts_of(o, 0);
	struct collect_stats st;
	struct timespec t0, t1;

	memset(h, 0, sizeof(*h));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	g.cache->collection++;
	collect_run(g.cache->collector, &co, gather_ok, gather_bad, &g, &st);
	cache_sweep(g.cache);
	scrape_cache_destroy(own);
	if (h->nprocs)
		qsort(h->procs, h->nprocs, sizeof(h->procs[0]), proc_cmp);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	h->duration_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

void scrape_report_finish(struct scrape_report *h)
{
	for (size_t i = 0; i < h->nprocs; i++)
		proc_free(&h->procs[i]);
	free(h->procs);
	memset(h, 0, sizeof(*h));
}
