/* scrape: every audited process the caller may read, reduced to metrics (see
 * scrape.h). */
#include "report/scrape.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernel/kstate.h"
#include "kernel/procfd.h"
#include "report/format.h"
#include "report/group.h"
#include "report/growth.h"
#include "report/join.h"
#include "report/stacks.h"
#include "report/symbols.h"
#include "table-reader.h"
#include "util/notes.h"
#include "util/target.h"
#include "util/util.h"

/* How many of a process's counted stacks get a name before the rest go to
 * "other" unnamed: naming is the costly part (the symbolizer). */
#define SCRAPE_NAME_FACTOR 4

struct cache_key {
	int32_t pid;
	uint32_t id;
	uint64_t starttime;
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
};

struct scrape_cache *scrape_cache_create(void)
{
	return xcalloc(1, sizeof(struct scrape_cache));
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
};

/* Names for stack ids ids[0..n) into out[i] (SCRAPE_SITE_MAX each): from the
 * cache, the rest resolved in one pass of the symbolizer. */
static void name_stacks(struct naming *nm, const uint32_t *ids, size_t n, char (*out)[SCRAPE_SITE_MAX])
{
	struct scrape_cache *c = nm->cache ? nm->cache : &nm->local;
	struct group_set gs = { 0 };
	struct group_stack *st;
	size_t *slot_of;
	struct notes notes = { 0 };
	struct report_symbols *rs;
	struct report_symbols_in in = {
		.pid = nm->pid, .alive = true, .generation = nm->generation,
		.reader = nm->reader, .notes = &notes,
	};

	st = xcalloc(n ? n : 1, sizeof(*st));
	slot_of = xcalloc(n ? n : 1, sizeof(*slot_of));
	gs.v = xcalloc(n ? n : 1, sizeof(*gs.v));
	for (size_t i = 0; i < n; i++) {
		struct cache_key k = { .pid = nm->pid, .id = ids[i], .starttime = nm->starttime };
		struct cache_entry *e = cache_find(c, &k);

		if (e) {
			snprintf(out[i], SCRAPE_SITE_MAX, "%s", e->site);
			continue;
		}
		st[gs.n].depth = sa_reader_stack(nm->reader, ids[i], st[gs.n].frames);
		st[gs.n].generation = nm->generation;
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
					       .starttime = nm->starttime };

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

static void flags_of(struct scrape_proc *p, struct naming *nm, const struct report_join *j,
		     size_t top)
{
	struct group_set gs = { 0 };
	size_t cap = 0;
	uint32_t *ids;
	char (*names)[SCRAPE_SITE_MAX];

	group_build(&gs, j->socks, j->nsocks, false);
	ids = xcalloc(gs.n ? gs.n : 1, sizeof(*ids));
	names = xcalloc(gs.n ? gs.n : 1, sizeof(*names));
	for (size_t g = 0; g < gs.n; g++)
		ids[g] = group_stack_id(&gs.v[g]);
	{
		/* Name only the groups with a stack id. */
		uint32_t *want = xcalloc(gs.n ? gs.n : 1, sizeof(*want));
		char (*got)[SCRAPE_SITE_MAX] = xcalloc(gs.n ? gs.n : 1, sizeof(*got));
		size_t nw = 0;

		for (size_t g = 0; g < gs.n; g++)
			if (ids[g])
				want[nw++] = ids[g];
		name_stacks(nm, want, nw, got);
		nw = 0;
		for (size_t g = 0; g < gs.n; g++) {
			if (ids[g])
				snprintf(names[g], SCRAPE_SITE_MAX, "%s", got[nw++]);
			else
				group_title_nostack(&gs.v[g], names[g], SCRAPE_SITE_MAX);
		}
		free(want);
		free(got);
	}
	for (size_t g = 0; g < gs.n; g++)
		for (size_t i = 0; i < gs.v[g].n; i++)
			if (gs.v[g].socks[i]->verdict.flagged)
				flag_add(p, &cap, leak_kind_name(gs.v[g].socks[i]->verdict.kind),
					 names[g], 1);
	if (p->nflags)
		qsort(p->flags, p->nflags, sizeof(p->flags[0]), flag_cmp);
	scrape_flags_cap(p->flags, &p->nflags, top);
	free(ids);
	free(names);
	group_set_finish(&gs);
}

/* Every group, with its site, held and flagged counts and its sites' counts. */
static void groups_of(struct scrape_proc *p, struct naming *nm, const struct report_join *j)
{
	static struct sa_count counts[SA_NSTACKS];
	struct group_set gs = { 0 };
	size_t nc = sa_reader_counts(nm->reader, counts, SA_NSTACKS), nw = 0;
	uint32_t *want;
	char (*got)[SCRAPE_SITE_MAX];

	group_build(&gs, j->socks, j->nsocks, true);
	growth_fill_groups(&gs, counts, nc, 0, 0);
	want = xcalloc(gs.n ? gs.n : 1, sizeof(*want));
	got = xcalloc(gs.n ? gs.n : 1, sizeof(*got));
	for (size_t g = 0; g < gs.n; g++)
		if ((want[nw] = group_stack_id(&gs.v[g])))
			nw++;
	name_stacks(nm, want, nw, got);
	p->groups = xcalloc(gs.n ? gs.n : 1, sizeof(p->groups[0]));
	nw = 0;
	for (size_t g = 0; g < gs.n; g++) {
		struct scrape_group *hg = &p->groups[p->ngroups++];

		if (group_stack_id(&gs.v[g]))
			snprintf(hg->site, sizeof(hg->site), "%s", got[nw++]);
		else
			group_title_nostack(&gs.v[g], hg->site, sizeof(hg->site));
		hg->held = gs.v[g].n;
		hg->flagged = gs.v[g].flagged;
		hg->counts_known = gs.v[g].counts_known;
		hg->opened = gs.v[g].opened_total;
		hg->closed = gs.v[g].closed_total;
	}
	free(want);
	free(got);
	group_set_finish(&gs);
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
	size_t n = sa_reader_counts(nm->reader, counts, SA_NSTACKS), nids = 0, named;
	struct id_count *ids;
	uint32_t *want;
	char (*names)[SCRAPE_SITE_MAX];
	struct scrape_site other = { .site = SCRAPE_OTHER };

	p->counts_known = n > 0;
	if (!n)
		return;
	ids = xcalloc(n, sizeof(*ids));
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
	name_stacks(nm, want, named, names);
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

static void read_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	buf[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static bool running(pid_t pid, uint64_t starttime)
{
	uint64_t st;

	return proc_read_starttime(pid, &st) && st == starttime && !target_proc_exited(pid);
}

/* One process; false when it could not be read. */
static bool collect_one(struct scrape_proc *p, const char *path, uint32_t uid,
			const struct scrape_opts *o, struct scrape_cache *cache, struct ks_views *views)
{
	struct sa_reader r;
	struct sa_snapshot s1, s2;
	struct procfd_list fds = { 0 };
	struct report_join j;
	struct report_join_in in = { .leak = &o->leak };
	struct naming nm = { .cache = cache, .pid = p->pid, .starttime = p->starttime };
	char err[512];
	bool ok = false;

	memset(&s1, 0, sizeof(s1));
	memset(&s2, 0, sizeof(s2));
	if (sa_reader_open(&r, path, uid, err, sizeof(err)) < 0)
		return false;
	if (r.hdr.pid != p->pid || r.hdr.starttime != p->starttime ||
	    sa_reader_snapshot(&r, &s1, err, sizeof(err)) < 0)
		goto out;
	if (procfd_scan(p->pid, &fds) < 0)
		goto out;
	if (sa_reader_snapshot(&r, &s2, err, sizeof(err)) < 0 || !running(p->pid, p->starttime))
		goto out;
	read_comm(p->pid, p->comm, sizeof(p->comm));
	in.first = &s1;
	in.second = &s2;
	in.fds = &fds;
	in.ks = fds.n ? ks_views_get(views, p->pid) : NULL;
	in.now_ns = now_realtime_ns();
	in.still_holds = procfd_holds;
	in.still_holds_arg = &p->pid;
	report_join_build(&j, &in);
	report_stacks_read(&j, &r, &s2.hdr, true);
	nm.generation = s2.hdr.generation;
	nm.reader = &r;
	states_of(p, &j);
	flags_of(p, &nm, &j, o->top_sites);
	sites_of(p, &nm, o->top_sites);
	if (o->groups)
		groups_of(p, &nm, &j);
	report_join_finish(&j);
	ok = true;
out:
	cache_clear(&nm.local);   /* names kept for this process only */
	procfd_finish(&fds);
	sa_snapshot_finish(&s1);
	sa_snapshot_finish(&s2);
	sa_reader_close(&r);
	return ok;
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

int scrape_collect_pid(struct scrape_proc *p, pid_t pid, const struct scrape_opts *o,
		     struct scrape_cache *cache, char *err, size_t errlen)
{
	struct ks_views views = { 0 };
	char path[4400];
	uint32_t uid;
	bool ok;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	if (!proc_read_starttime(pid, &p->starttime) || target_proc_exited(pid) ||
	    !proc_read_euid(pid, &uid)) {
		snprintf(err, errlen, "pid %d is not running", (int)pid);
		return -ESRCH;
	}
	if (sa_table_find(o->dir, uid, pid, p->starttime, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "pid %d has no table in %s (not started with "
			 "libsockaudit.so?)", (int)pid, o->dir);
		return -ENOENT;
	}
	if (cache)
		cache->collection++;
	ok = collect_one(p, path, uid, o, cache, &views);
	ks_views_finish(&views);
	cache_sweep(cache);
	if (!ok) {
		if (!running(pid, p->starttime)) {
			snprintf(err, errlen, "pid %d exited", (int)pid);
			return -ESRCH;
		}
		snprintf(err, errlen, "pid %d: cannot read its table or /proc/%d/fd "
			 "(run as its user or as root)", (int)pid, (int)pid);
		return -EACCES;
	}
	return 0;
}

void scrape_collect(struct scrape_report *h, const struct scrape_opts *o, struct scrape_cache *cache)
{
	struct ks_views views = { 0 };
	struct timespec t0, t1;
	uid_t euid = geteuid();
	struct dirent *d;
	size_t cap = 0;
	DIR *dp;

	memset(h, 0, sizeof(*h));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (cache)
		cache->collection++;
	dp = opendir(o->dir);
	while (dp && (d = readdir(dp))) {
		char path[4400];
		struct scrape_proc p = { 0 };
		uint32_t uid, peuid;
		int32_t pid;
		uint64_t starttime;

		if (sa_table_name_parse(d->d_name, &uid, &pid, &starttime) < 0)
			continue;
		/* Another user's tables are root's to read, nobody else's. */
		if (euid != 0 && uid != euid)
			continue;
		if (!running(pid, starttime))
			continue;
		/* Named for another uid than the process runs as: not its table
		 * (another user may have planted it for a pid of root's), or the
		 * process is visiting another euid; report refuses it too. */
		if (!proc_read_euid(pid, &peuid) || peuid != uid) {
			h->unreadable++;
			continue;
		}
		p.pid = pid;
		p.starttime = starttime;
		snprintf(path, sizeof(path), "%s/%s", o->dir, d->d_name);
		if (!collect_one(&p, path, uid, o, cache, &views)) {
			proc_free(&p);
			h->unreadable++;
			continue;
		}
		if (h->nprocs == cap) {
			cap = cap ? cap * 2 : 16;
			h->procs = xrealloc(h->procs, cap * sizeof(h->procs[0]));
		}
		h->procs[h->nprocs++] = p;
	}
	if (dp)
		closedir(dp);
	ks_views_finish(&views);
	cache_sweep(cache);
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
