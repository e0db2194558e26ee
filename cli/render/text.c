/* text: the report for a person at a terminal. Most important first:
 * who, the one-line summary, the flagged groups with the code that made the
 * sockets; then what the shim could not see (untracked, stale). */
#include "render/render.h"
#include "render/style.h"

#include <string.h>

#include "report/format.h"
#include "report/growth.h"
#include "report/model.h"
#include "report/peer.h"
#include "util/util.h"

/* Sockets and lines listed per group/section before "and N more". */
#define RENDER_MAX_SOCKS    10
#define RENDER_MAX_LINES    20


static const char *basename_of(const char *path)
{
	const char *b = path ? strrchr(path, '/') : NULL;

	return b ? b + 1 : path;
}

/* DWARF names files relative to the build directory ("../src/x.c"): drop
 * the climb, keep the rest of the path. */
/* Rust's standard library as its DWARF names it: "/rustc/<commit>/library/
 * std/src/net/tcp.rs" (rustup's toolchains) or "/usr/src/rustc-1.63.0/
 * library/..." (Debian's): shown from "library/", as the library's own
 * path, which Debian's rustc already gives some frames. */
static const char *rust_std_file(const char *file)
{
	const char *rest, *slash;

	if (strncmp(file, "/rustc/", 7) == 0)
		rest = file + 7;
	else if (strncmp(file, "/usr/src/rustc-", 15) == 0)
		rest = file + 15;
	else
		return file;
	/* Only the commit or the version sits between the prefix and library/. */
	slash = strchr(rest, '/');
	if (!slash || slash == rest || strncmp(slash, "/library/", 9) != 0)
		return file;
	return slash + 1;
}

static const char *short_file(const char *file)
{
	if (file)
		file = rust_std_file(file);
	while (file && strncmp(file, "../", 3) == 0)
		file += 3;
	while (file && strncmp(file, "./", 2) == 0)
		file += 2;
	return file;
}

static void render_header(FILE *out, const struct report *rep, const struct style *st)
{
	const struct target *t = &rep->tgt;
	const char *cmd = t->cmdline[0] ? t->cmdline : rep->hdr.cmdline;
	char cw[32], idle[32];

	fprintf(out, "%ssockaudit report: pid %d%s", BOLD(st), (int)t->pid, RESET(st));
	if (t->comm[0])
		fprintf(out, " (%s)", t->comm);
	if (cmd[0])
		fprintf(out, "  %s", cmd);
	fputc('\n', out);
	if (t->ns.other_pidns || t->ns.other_userns || t->ns.other_root || t->container.runtime[0]) {
		fprintf(out, "  in its namespaces: pid %d, uid %u%s", (int)t->ns.ns_pid,
			(unsigned)t->ns.ns_euid, t->ns.other_root ? ", its own root" : "");
		if (t->container.runtime[0])
			fprintf(out, "; %s container %.12s", t->container.runtime, t->container.id);
		fputc('\n', out);
	}
	if (!rep->alive)
		fprintf(out, "  %sprocess is gone%s: this is what its table held when it stopped "
			"(not verified against the kernel)\n", YELLOW(st), RESET(st));
	if (rep->instrumented)
		fprintf(out, "  table %s (image generation %u)\n", t->table,
			(unsigned)rep->hdr.generation);
	else
		fprintf(out, "  %snot instrumented%s: %s\n", YELLOW(st), RESET(st), t->why);
	format_duration(rep->opts.leak.close_wait_ms, cw, sizeof(cw));
	format_duration(rep->opts.leak.idle_ms, idle, sizeof(idle));
	fprintf(out, "  leak rule: CLOSE_WAIT >= %s, ESTABLISHED idle >= %s\n", cw, idle);
}

static void render_summary(FILE *out, const struct report *rep, const struct style *st)
{
	const struct report_summary *s = &rep->join.sum;
	const struct sa_counters *c = &rep->hdr.counters;
	bool first = true;

	fprintf(out, "\n%s%zu %s held%s", BOLD(st), s->sockets, plural(s->sockets, "socket", "sockets"),
		RESET(st));
	if (s->fds != s->sockets)
		fprintf(out, " (%zu fds)", s->fds);
	fprintf(out, ": %zu tracked, %zu untracked", s->tracked, s->untracked);
	for (int l = REPORT_LABEL_NONE + 1; l < REPORT_LABEL_MAX; l++) {
		if (!s->untracked_by_label[l])
			continue;
		fprintf(out, "%s%zu %s", first ? " (" : ", ", s->untracked_by_label[l],
			report_label_name((enum report_label)l));
		first = false;
	}
	if (!first)
		fputc(')', out);
	fprintf(out, "; %s%zu flagged%s", s->flagged ? RED(st) : GREEN(st), s->flagged, RESET(st));
	if (s->suspect)
		fprintf(out, ", %s%zu close-wait of unknown age%s", YELLOW(st), s->suspect, RESET(st));
	fprintf(out, "; %zu stale %s", s->stale, plural(s->stale, "record", "records"));
	if (s->unknown_slots)
		fprintf(out, "; %zu unknown %s", s->unknown_slots,
			plural(s->unknown_slots, "slot", "slots"));
	if (s->vanished)
		fprintf(out, "; %zu closed while read, left out", s->vanished);
	fputc('\n', out);
	if (!rep->instrumented)
		return;
	/* Counters say what the table could not hold: only worth a line when
	 * something was lost. */
	if (c->overflow_fd || c->overflow_stack || c->overflow_module || c->missed ||
	    c->reserve_failed)
		fprintf(out, "%stable lost records%s: overflow fd %llu, stack %llu, module %llu; "
			"missed %llu; reserve failed %llu\n", YELLOW(st), RESET(st),
			(unsigned long long)c->overflow_fd, (unsigned long long)c->overflow_stack,
			(unsigned long long)c->overflow_module, (unsigned long long)c->missed,
			(unsigned long long)c->reserve_failed);
}

static void render_kinds(FILE *out, const struct group *g)
{
	bool first = true;

	for (int k = LEAK_NONE + 1; k < LEAK_KIND_MAX; k++) {
		if (!(g->kinds & (1u << k)))
			continue;
		fprintf(out, "%s%s", first ? "" : ",", leak_kind_name((enum leak_kind)k));
		first = false;
	}
	if (first)
		fprintf(out, "not flagged");
}

static void render_frame(FILE *out, const struct sym_frame *f, const struct style *st)
{
	char loc[512];
	const char *file = short_file(f->file);

	if (file && f->column)
		snprintf(loc, sizeof(loc), "%s:%d:%d", file, f->line, f->column);
	else if (file)
		snprintf(loc, sizeof(loc), "%s:%d", file, f->line);
	else if (f->module)
		snprintf(loc, sizeof(loc), "%s+0x%llx", basename_of(f->module),
			 (unsigned long long)f->module_offset);
	else
		snprintf(loc, sizeof(loc), "0x%llx", (unsigned long long)f->addr);
	fprintf(out, "      %s%-28s%s %s", CYAN(st), f->function ? f->function : "??", RESET(st), loc);
	if (f->module && file)
		fprintf(out, "  %s%s%s", DIM(st), basename_of(f->module), RESET(st));
	if (f->language)
		fprintf(out, "  %s[%s]%s", DIM(st), f->language, RESET(st));
	if (f->inlined)
		fprintf(out, "  %s(inlined)%s", DIM(st), RESET(st));
	fputc('\n', out);
}

void render_text_frame(FILE *out, const struct sym_frame *f, bool color)
{
	const struct style st = { .color = color };

	render_frame(out, f, &st);
}

/* The other end, when it is on this host: who holds it, or that nobody
 * does any more. */
static void render_peer_line(FILE *out, const struct report_peer *p, const char *indent,
			     const struct style *st)
{
	if (!p)
		return;
	fprintf(out, "%s  %sother end:%s ", indent, DIM(st), RESET(st));
	if (p->held)
		fprintf(out, "pid %d (%s) fd %d  %s  %s", (int)p->pid, p->comm, p->fd, p->state,
			p->local);
	else
		fprintf(out, "%s  %s, held by no process (closed, kept by the kernel)", p->state,
			p->local);
	if (p->other_netns)
		fputs(", in another network namespace", out);
	if (!p->held && p->listener_pid)
		fprintf(out, "; pid %d (%s) listens on that port", (int)p->listener_pid,
			p->listener_comm);
	fputc('\n', out);
	if (p->have_frame) {
		fprintf(out, "%s    %s stack: %s", indent, p->stack, p->function);
		if (p->file[0])
			fprintf(out, "  %s:%d", short_file(p->file), p->line);
		fputc('\n', out);
	}
}

static void render_sock_line(FILE *out, const struct report *rep, const struct report_sock *s,
			     const char *indent, const struct style *st)
{
	char local[160], peer[160], proto[32], reason[200], age[32];

	report_sock_local(s, local, sizeof(local));
	report_sock_peer(s, peer, sizeof(peer));
	report_sock_proto(s, proto, sizeof(proto));
	fprintf(out, "%sfd %d", indent, s->fds[0]);
	for (size_t i = 1; i < s->nfds; i++)
		fprintf(out, ",%d", s->fds[i]);
	fprintf(out, "  %s %s  %s -> %s", proto, report_sock_state(s), local, peer);
	if (!s->tracked)
		fprintf(out, "  [%s]", report_label_name(s->label));
	report_sock_reason(s, &rep->opts.leak, reason, sizeof(reason));
	if (reason[0]) {
		fprintf(out, "  %s%s%s", s->verdict.flagged ? RED(st) : YELLOW(st), reason, RESET(st));
	} else if (s->age_known) {
		format_duration(s->age_ms, age, sizeof(age));
		fprintf(out, "  %s%s%s", DIM(st), age, RESET(st));
	}
	fputc('\n', out);
	render_peer_line(out, s->peer, indent, st);
}

static void render_group(FILE *out, const struct report *rep, const struct group *g,
			 const struct style *st)
{
	char age[32], title[128];

	if (g->flagged)
		fprintf(out, "\n%s#%zu FLAGGED%s ", RED(st), g->id, RESET(st));
	else if (g->suspect)
		fprintf(out, "\n%s#%zu SUSPECT%s ", YELLOW(st), g->id, RESET(st));
	else
		fprintf(out, "\n%s#%zu%s ", BOLD(st), g->id, RESET(st));
	render_kinds(out, g);
	fprintf(out, "  %s%zu %s%s", BOLD(st), g->n, plural(g->n, "socket", "sockets"), RESET(st));
	for (size_t i = 0; i < g->nstates; i++) {
		fprintf(out, "%s%s %zu", i ? ", " : "  ", g->states[i].name, g->states[i].count);
		if (g->states[i].oldest_known) {
			format_duration(g->states[i].oldest_age_ms, age, sizeof(age));
			fprintf(out, " (oldest %s)", age);
		}
	}
	fputc('\n', out);
	if (g->counts_known || g->growing) {
		char line[200], eta[48];

		fprintf(out, "    ");
		if (g->counts_known) {
			growth_format_counts(g->opened_total, g->closed_total, g->collected_total,
					     line, sizeof(line));
			fprintf(out, "%s", line);
		}
		if (g->growing) {
			char rate[32];

			growth_format_count((uint64_t)(g->growth_per_hour + 0.5), rate, sizeof(rate));
			fprintf(out, "%sgrowing by %s an hour", g->counts_known ? "; " : "", rate);
			if (g->exhaust_known) {
				growth_format_eta(g->exhaust_s, eta, sizeof(eta));
				fprintf(out, ": %sat this rate it runs out of descriptors in %s%s",
					RED(st), eta, RESET(st));
			}
		}
		fputc('\n', out);
	}
	if (g->npeers) {
		fprintf(out, "    peers");
		for (size_t i = 0; i < g->npeers; i++)
			fprintf(out, "%s%s x%zu", i ? ", " : " ", g->peers[i].peer, g->peers[i].count);
		if (g->distinct_peers > g->npeers)
			fprintf(out, ", %zu more", g->distinct_peers - g->npeers);
		fputc('\n', out);
	}
	group_title_nostack(g, title, sizeof(title));
	if (title[0]) {
		fprintf(out, "    %s%s%s\n", DIM(st), title, RESET(st));
	} else {
		fprintf(out, "    %s stack:\n", g->stack->kind);
		for (size_t i = 0; i < g->nframes; i++)
			render_frame(out, &g->frames[i], st);
		if (g->trimmed)
			fprintf(out, "      %s(%zu %s of %s left out)%s\n", DIM(st),
				g->trimmed, plural(g->trimmed, "frame", "frames"),
				g->trimmed_go ? "Go's runtime, syscall and net"
					      : "libc, the shim or a language runtime",
				RESET(st));
	}
	for (size_t i = 0; i < g->n && i < RENDER_MAX_SOCKS; i++)
		render_sock_line(out, rep, g->socks[i], "    ", st);
	if (g->n > RENDER_MAX_SOCKS)
		fprintf(out, "    ... and %zu more (--json lists every socket)\n",
			g->n - RENDER_MAX_SOCKS);
}

/* Was this socket already printed in a group? */
static bool in_a_group(const struct report *rep, const struct report_sock *s)
{
	return rep->opts.all || !rep->alive || s->verdict.kind != LEAK_NONE;
}

static void render_untracked(FILE *out, const struct report *rep, const struct style *st)
{
	const struct report_join *j = &rep->join;
	size_t shown = 0, above = 0;

	if (!j->sum.untracked)
		return;
	for (size_t i = 0; i < j->nsocks; i++)
		if (!j->socks[i].tracked && in_a_group(rep, &j->socks[i]))
			above++;
	if (rep->instrumented)
		fprintf(out, "\n%suntracked sockets%s (%zu): held, but opened where the shim could not "
			"see it", BOLD(st), RESET(st), j->sum.untracked);
	else
		fprintf(out, "\n%ssockets held%s (%zu), all untracked: no table", BOLD(st), RESET(st),
			j->sum.untracked);
	if (above)
		fprintf(out, " (%zu listed above)", above);
	fputc('\n', out);
	for (size_t i = 0; i < j->nsocks; i++) {
		if (j->socks[i].tracked || in_a_group(rep, &j->socks[i]))
			continue;
		if (shown++ == RENDER_MAX_LINES) {
			fprintf(out, "  ... and %zu more (--json lists them all)\n",
				j->sum.untracked - above - RENDER_MAX_LINES);
			break;
		}
		render_sock_line(out, rep, &j->socks[i], "  ", st);
	}
}

static bool same_stack(const struct group_stack *a, const struct group_stack *b)
{
	return a->depth == b->depth && a->generation == b->generation &&
	       memcmp(a->frames, b->frames, a->depth * sizeof(a->frames[0])) == 0;
}

/* Sockets a garbage collector closed (Go's finalizer, CPython's socket
 * finalizer; finding kind `rescued`): one
 * block per open stack, the frames once, then each socket. */
static void render_rescued(FILE *out, const struct report *rep, const struct style *st)
{
	const struct report_rescued_set *rs = &rep->rescued;
	uint64_t now = now_realtime_ns();
	bool shown[SA_RESCUED_MAX] = { false };

	if (!rs->total)
		return;
	fprintf(out, "\n%s%sFLAGGED rescued%s  %llu %s closed by the garbage collector, not by "
		"the program (dropped without a close; a finalizer closed %s)",
		BOLD(st), RED(st), RESET(st), (unsigned long long)rs->total,
		plural((size_t)rs->total, "socket", "sockets"), rs->total == 1 ? "it" : "them");
	if (rs->total > rs->n)
		fprintf(out, "; the last %zu:", rs->n);
	fputc('\n', out);
	for (size_t i = 0; i < rs->n; i++) {
		const struct group *g = &rs->groups.v[i];
		size_t count = 0;

		if (shown[i])
			continue;
		for (size_t k = i; k < rs->n; k++)
			count += same_stack(&rs->v[k].stack, &rs->v[i].stack);
		if (!g->stack->depth) {
			fprintf(out, "  %s(no stack: %s)%s\n", DIM(st), g->stack->nostack, RESET(st));
		} else {
			fprintf(out, "  %zu %s, open stack:\n", count, plural(count, "socket", "sockets"));
			for (size_t f = 0; f < g->nframes; f++)
				render_frame(out, &g->frames[f], st);
		}
		if (rs->v[i].counts_known) {
			char line[200];

			growth_format_counts(rs->v[i].opened, rs->v[i].closed, rs->v[i].collected,
					     line, sizeof(line));
			fprintf(out, "    this site: %s\n", line);
		}
		for (size_t k = i; k < rs->n; k++) {
			const struct sa_rescued *e = &rs->v[k].e;
			char peer[160], held[32], ago[32];

			if (!same_stack(&rs->v[k].stack, &rs->v[i].stack))
				continue;
			shown[k] = true;
			report_slot_peer(&e->slot, peer, sizeof(peer));
			format_duration(e->close_ns > e->slot.open_ns ?
					(e->close_ns - e->slot.open_ns) / 1000000 : 0, held, sizeof(held));
			format_duration(now > e->close_ns ? (now - e->close_ns) / 1000000 : 0, ago,
					sizeof(ago));
			fprintf(out, "    fd %d  -> %s  held %s, closed %s ago\n", e->slot.fd, peer, held,
				ago);
		}
	}
}

static void render_stale(FILE *out, const struct report *rep, const struct style *st)
{
	const struct report_join *j = &rep->join;
	char age[32];

	if (!j->nstale)
		return;
	fprintf(out, "\n%sstale records%s (%zu): recorded, but the fd no longer holds that socket\n",
		BOLD(st), RESET(st), j->nstale);
	for (size_t i = 0; i < j->nstale && i < RENDER_MAX_LINES; i++) {
		const struct report_stale *s = &j->stale[i];

		if (s->rec.inode)
			fprintf(out, "  fd %d  socket %llu (%s)", s->rec.fd,
				(unsigned long long)s->rec.inode, sa_origin_name(s->rec.origin));
		else
			fprintf(out, "  fd %d  (%s)", s->rec.fd, sa_origin_name(s->rec.origin));
		if (s->open_age_known) {
			format_duration(s->open_age_ms, age, sizeof(age));
			fprintf(out, " opened %s ago", age);
		}
		fprintf(out, ": fd now %s\n", s->now[0] ? s->now : "closed");
	}
	if (j->nstale > RENDER_MAX_LINES)
		fprintf(out, "  ... and %zu more\n", j->nstale - RENDER_MAX_LINES);
}

void render_text(FILE *out, const struct report *rep, bool color)
{
	const struct style st = { .color = color };
	const struct report_summary *s = &rep->join.sum;

	render_header(out, rep, &st);
	render_summary(out, rep, &st);
	for (size_t i = 0; i < rep->groups.n; i++)
		render_group(out, rep, &rep->groups.v[i], &st);
	render_rescued(out, rep, &st);
	render_untracked(out, rep, &st);
	render_stale(out, rep, &st);
	if (rep->join.nunknown) {
		fprintf(out, "\n%sunknown slots%s (left mid-update, writer busy or dead): fd",
			BOLD(&st), RESET(&st));
		for (size_t i = 0; i < rep->join.nunknown; i++)
			fprintf(out, " %d", rep->join.unknown_fds[i]);
		fputc('\n', out);
	}
	if (rep->notes.n)
		fputc('\n', out);
	for (size_t i = 0; i < rep->notes.n; i++)
		fprintf(out, "%snote:%s %s\n", YELLOW(&st), RESET(&st), rep->notes.v[i]);
	if (rep->rescued.total)
		fprintf(out, "\n%s%zu %s flagged, %llu rescued by the garbage collector%s\n",
			RED(&st), s->flagged, plural(s->flagged, "socket", "sockets"),
			(unsigned long long)rep->rescued.total, RESET(&st));
	else if (s->flagged)
		fprintf(out, "\n%s%zu %s flagged%s\n", RED(&st), s->flagged,
			plural(s->flagged, "socket", "sockets"), RESET(&st));
	else
		fprintf(out, "\n%sno leak flagged%s\n", GREEN(&st), RESET(&st));
}
