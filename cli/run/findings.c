/* findings: what the polls saw, as groups a person (and CI) can act on.
 *
 * Per process, its findings become a struct report of a process that is
 * gone: the sockets as report_sock (with the verdict the run reached over
 * time), grouped by group_build() one kind at a time (a CLOSE_WAIT leak and
 * an at-exit leak from the same line are different findings), stacks read
 * by report_stacks_read() and symbolized post mortem from the table's
 * module log by report_symbols_resolve(). Then groups of every process that
 * share a kind and a stack identity (ident.c) become one run group: a
 * test suite of 50 processes leaking at one line is one finding, naming
 * each process. Last, suppressions, the baseline and --fail-on decide
 * which groups fail the gate.
 */
#include "run/findings.h"
#include "report/stacks.h"
#include "run/ident.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "run/baseline.h"
#include "run/suppress.h"
#include "util/util.h"

static bool sock_kind(const struct run_sock *s, enum run_kind *k)
{
	if (s->flag_cw)
		*k = RUN_KIND_CLOSE_WAIT;
	else if (s->flag_idle)
		*k = RUN_KIND_IDLE;
	else if (s->rescued)
		*k = RUN_KIND_RESCUED;
	else if (s->at_exit)
		*k = RUN_KIND_AT_EXIT;
	else
		return false;
	return true;
}

static uint64_t ms_between(uint64_t from_ns, uint64_t to_ns)
{
	return to_ns > from_ns ? (to_ns - from_ns) / 1000000 : 0;
}

static void fill_sock(const struct run_state *rs, struct run_proc *p, struct run_sock *src,
		      enum run_kind kind, struct report_sock *s)
{
	uint64_t end_ns = p->hdr.exited_ns ? p->hdr.exited_ns : rs->started_ns +
			  (rs->ended_ms - rs->started_ms) * 1000000;

	/* Held from its open until the collector closed it. */
	if (kind == RUN_KIND_RESCUED)
		end_ns = src->rescued_close_ns;

	memset(s, 0, sizeof(*s));
	s->inode = src->inode;
	s->nfds = src->nfds;
	s->fds = xcalloc(src->nfds ? src->nfds : 1, sizeof(s->fds[0]));
	memcpy(s->fds, src->fds, src->nfds * sizeof(s->fds[0]));
	s->tracked = src->tracked;
	s->rec = src->rec;
	s->label = src->label;
	/* A rescued socket is closed: no state to show (the last poll's
	 * would be stale); its peer comes from the record. */
	if (src->have_ks && kind != RUN_KIND_RESCUED) {
		/* An at-exit finding shows the state the socket was left in. */
		if (kind == RUN_KIND_AT_EXIT && src->exit_state_known)
			src->ks.state = src->exit_state;
		s->ks = &src->ks;
	}
	s->verdict.is_tcp = true;
	switch (kind) {
	case RUN_KIND_CLOSE_WAIT:
		s->verdict.kind = LEAK_CLOSE_WAIT;
		s->verdict.flagged = true;
		s->verdict.close_wait_known = true;
		s->verdict.close_wait_ms = src->cw_ms;
		s->verdict.close_wait_max_ms = src->cw_ms;
		s->age_known = true;
		s->age_ms = src->cw_ms;
		break;
	case RUN_KIND_IDLE:
		s->verdict.kind = LEAK_IDLE;
		s->verdict.flagged = true;
		s->verdict.idle_known = true;
		s->verdict.idle_ms = src->idle_ms;
		s->age_known = true;
		s->age_ms = src->idle_ms;
		break;
	default:
		s->verdict.is_tcp = src->have_ks && src->ks.protocol == IPPROTO_TCP;
		break;
	}
	if (src->tracked && src->rec.open_ns) {
		s->open_age_known = true;
		s->open_age_ms = ms_between(src->rec.open_ns, end_ns);
		if (!s->age_known) {
			s->age_known = true;
			s->age_ms = s->open_age_ms;
		}
	}
}

struct finding {
	enum run_kind k;
	struct run_sock *s;
};

static int finding_cmp(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;
	int fx = x->s->nfds ? x->s->fds[0] : 0, fy = y->s->nfds ? y->s->fds[0] : 0;

	if (x->k != y->k)
		return x->k < y->k ? -1 : 1;
	return (fx > fy) - (fx < fy);
}

static void proc_nostack(struct report *rep, const char *why)
{
	const struct group_stack *st = report_stack_none(&rep->join, "%s", why);

	for (size_t i = 0; i < rep->join.nsocks; i++)
		rep->join.socks[i].stack = st;
}

/* One process: its findings as a report of a gone process. */
static void proc_report(struct run_state *rs, struct run_proc *p)
{
	struct finding *f = NULL;
	struct report *rep = &p->rep;
	struct sa_reader reader = { .fd = -1 };
	struct run_sock *s, *tmp;
	char path[4400], err[512];
	bool have_reader = false;
	struct sa_reader *rd;
	size_t n = 0;

	HASH_ITER(hh, p->socks, s, tmp) {
		enum run_kind k;

		if (!sock_kind(s, &k))
			continue;
		f = xrealloc(f, (n + 1) * sizeof(f[0]));
		f[n].k = k;
		f[n].s = s;
		n++;
	}
	if (!n)
		return;
	if (n)
		qsort(f, n, sizeof(f[0]), finding_cmp);

	memset(rep, 0, sizeof(*rep));
	rep->opts = rs->opts.rep;
	rep->opts.all = true;
	rep->tgt.pid = p->pid;
	rep->tgt.starttime = p->starttime;
	rep->tgt.uid = (uint32_t)geteuid();
	procns_read_none(&rep->tgt.ns, p->pid, rep->tgt.uid);
	rep->tgt.ns.ns_pid = p->ns_pid;
	rep->tgt.ns.other_pidns = p->ns_pid != p->pid;
	snprintf(rep->tgt.cmdline, sizeof(rep->tgt.cmdline), "%.*s",
		 (int)sizeof(rep->tgt.cmdline) - 1, p->hdr.cmdline);
	snprintf(rep->tgt.table, sizeof(rep->tgt.table), "%.4100s", p->path);
	rep->alive = false;
	rep->instrumented = true;
	rep->hdr = p->hdr;
	rep->join.socks = xcalloc(n, sizeof(rep->join.socks[0]));
	rep->join.nsocks = n;
	p->kind_of = xcalloc(n, sizeof(p->kind_of[0]));
	p->src_of = xcalloc(n, sizeof(p->src_of[0]));
	for (size_t i = 0; i < n; i++) {
		fill_sock(rs, p, f[i].s, f[i].k, &rep->join.socks[i]);
		p->kind_of[i] = f[i].k;
		p->src_of[i] = f[i].s;
	}

	if (p->in_ns) {
		/* Kept open by poll.c: its mount namespace may be gone. */
		rd = p->reader_open ? &p->reader : NULL;
	} else {
		snprintf(path, sizeof(path), "%s/%s", rs->dir, p->name);
		have_reader = sa_reader_open(&reader, path, geteuid(), err, sizeof(err)) == 0;
		rd = have_reader ? &reader : NULL;
	}
	if (rd)
		report_stacks_read(&rep->join, rd, &rep->hdr, true);
	else
		proc_nostack(rep, "table unreadable");

	/* group_build per kind, the sets concatenated: a group never mixes kinds. */
	for (size_t lo = 0; lo < n;) {
		struct group_set gs;
		size_t hi = lo;

		while (hi < n && f[hi].k == f[lo].k)
			hi++;
		group_build(&gs, rep->join.socks + lo, hi - lo, true);
		rep->groups.v = xrealloc(rep->groups.v,
					 (rep->groups.n + gs.n) * sizeof(rep->groups.v[0]));
		memcpy(rep->groups.v + rep->groups.n, gs.v, gs.n * sizeof(gs.v[0]));
		rep->groups.n += gs.n;
		free(gs.v);
		lo = hi;
	}
	rep->syms = report_symbols_resolve(&rep->groups, &(struct report_symbols_in){
			.pid = rep->tgt.pid,
			.alive = rep->alive,
			.generation = rep->hdr.generation,
			.reader = rd,
			.notes = &rep->notes,
		});
	if (have_reader)
		sa_reader_close(&reader);
	p->have_rep = true;
	free(f);
}

static enum run_kind group_kind(const struct run_proc *p, const struct group *g)
{
	return p->kind_of[g->socks[0] - p->rep.join.socks];
}

static struct run_group *rgroup_get(struct run_state *rs, enum run_kind kind, char *id)
{
	struct run_group *g;

	for (size_t i = 0; i < rs->ngroups; i++)
		if (rs->groups[i].kind == kind && strcmp(rs->groups[i].stack_id, id) == 0) {
			free(id);
			return &rs->groups[i];
		}
	rs->groups = xrealloc(rs->groups, (rs->ngroups + 1) * sizeof(rs->groups[0]));
	g = &rs->groups[rs->ngroups++];
	memset(g, 0, sizeof(*g));
	g->kind = kind;
	g->stack_id = id;
	run_stack_hash(id, g->hash);
	return g;
}

static int rgroup_cmp(const void *a, const void *b)
{
	const struct run_group *x = a, *y = b;

	if (x->failing != y->failing)
		return x->failing ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return (x->m[0].p->pid > y->m[0].p->pid) - (x->m[0].p->pid < y->m[0].p->pid);
}

static void decide(struct run_state *rs, struct run_group *g, const struct supp_set *supp,
		   const struct baseline *base)
{
	const struct group *first = g->m[0].g;
	const char **cmds = xcalloc(g->nm, sizeof(cmds[0]));

	for (size_t i = 0; i < g->nm; i++)
		cmds[i] = g->m[i].p->hdr.cmdline;
	g->supp = supp_match(supp, g->kind, cmds, g->nm, first->frames, first->nframes);
	free(cmds);
	g->baselined = baseline_has(base, g->stack_id);
	g->failing = (rs->opts.fail_on & RUN_KIND_BIT(g->kind)) && !g->supp && !g->baselined;
	if (g->failing)
		rs->nfailing++;
	if (g->supp)
		rs->nsuppressed++;
	else if (g->baselined)
		rs->nbaselined++;
	rs->by_kind[g->kind] += g->count;
}

void run_findings_build(struct run_state *rs, const struct supp_set *supp,
			const struct baseline *base)
{
	for (size_t i = 0; i < rs->nprocs; i++) {
		struct run_proc *p = rs->procs[i];

		/* The last status reaped under its pid (pids of a long run recycle). */
		for (size_t k = 0; k < rs->nreaped; k++)
			if (rs->reaped[k].pid == p->pid) {
				p->status_known = true;
				p->status = rs->reaped[k].status;
			}
		if (p->table_error[0] && !p->have_hdr)
			notes_add(&rs->notes, "pid %d: its table could not be read: %s", p->pid,
				 p->table_error);
		proc_report(rs, p);
		if (p->rescued_missed)
			notes_add(&rs->notes, "pid %d (%s): %llu more sockets closed by Go's garbage "
				  "collector between two polls than the table keeps (%u): counted, "
				  "not listed", p->pid, p->hdr.cmdline,
				  (unsigned long long)p->rescued_missed, SA_RESCUED_MAX);
		if (!p->have_rep)
			continue;
		if (!p->ran_exit_path)
			notes_add(&rs->notes, "pid %d (%s) ended without running the shim's exit path "
				 "(killed, or a raw exit system call): the states of the sockets it "
				 "left open are those of the last poll", p->pid, p->hdr.cmdline);
		for (size_t k = 0; k < p->rep.groups.n; k++) {
			struct group *g = &p->rep.groups.v[k];
			struct run_group *rg = rgroup_get(rs, group_kind(p, g), run_stack_id(g));

			rg->m = xrealloc(rg->m, (rg->nm + 1) * sizeof(rg->m[0]));
			rg->m[rg->nm].p = p;
			rg->m[rg->nm].g = g;
			rg->nm++;
			rg->count += g->n;
		}
	}
	for (size_t i = 0; i < rs->ngroups; i++)
		decide(rs, &rs->groups[i], supp, base);
	if (rs->ngroups)   /* qsort(NULL, 0, ...) is undefined */
		qsort(rs->groups, rs->ngroups, sizeof(rs->groups[0]), rgroup_cmp);
	for (size_t i = 0; i < rs->ngroups; i++)
		rs->groups[i].id = i + 1;
}

void run_findings_finish(struct run_state *rs)
{
	for (size_t i = 0; i < rs->ngroups; i++) {
		free(rs->groups[i].stack_id);
		free(rs->groups[i].m);
	}
	free(rs->groups);
	rs->groups = NULL;
	rs->ngroups = 0;
	for (size_t i = 0; i < rs->nprocs; i++) {
		struct run_proc *p = rs->procs[i];

		if (p->have_rep)
			report_finish(&p->rep);
		free(p->kind_of);
		free(p->src_of);
		p->kind_of = NULL;
		p->src_of = NULL;
		p->have_rep = false;
	}
}
