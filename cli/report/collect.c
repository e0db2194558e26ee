/* collect: every audited process the caller may read, one at a time (see
 * collect.h). */
#include "report/collect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kernel/peer.h"
#include "report/peer.h"
#include "util/util.h"

struct collector {
	struct report_symcache *syms;
};

struct collector *collector_create(void)
{
	struct collector *c = xcalloc(1, sizeof(*c));

	c->syms = report_symcache_create();
	return c;
}

void collector_destroy(struct collector *c)
{
	if (!c)
		return;
	report_symcache_destroy(c->syms);
	free(c);
}

struct report_symcache *collector_symbols(struct collector *c)
{
	return c ? c->syms : NULL;
}

/* Every table stays open from its read to its build (its reader keeps the
 * descriptor): room for a descriptor per process and some, up to the hard
 * limit. A process beyond what is left is listed unreadable with EMFILE. */
static void room_for(size_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= (rlim_t)n + 64)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= (rlim_t)n + 64
			      ? (rlim_t)n + 64 : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

int collect_run(struct collector *c, const struct collect_opts *o, collect_ok_fn *ok,
		collect_bad_fn *bad, void *arg, struct collect_stats *st)
{
	struct ks_views views = { 0 };
	struct ks_owner_map *owners = o->lean ? NULL : ks_owner_map_create();
	struct report_build *b;
	struct target *t;
	char err[600];
	size_t n = 0;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	if (o->only > 0) {
		t = xcalloc(1, sizeof(*t));
		if (!target_lookup(t, o->only)) {
			rc = t->alive ? -ENOENT : -ESRCH;
			if (rc == -ESRCH)
				snprintf(err, sizeof(err), "pid %d is not running", (int)o->only);
			else
				snprintf(err, sizeof(err), "pid %d has no table (not started with "
					 "libsockaudit.so?)", (int)o->only);
			bad(t, rc, err, arg);
			free(t);
			ks_owner_map_destroy(owners);
			return rc;
		}
		n = 1;
	} else {
		t = target_walk(&n, geteuid() == 0);
	}
	st->processes = n;
	room_for(n);
	/* Every view first, each indexed for the other ends once: a
	 * namespace is dumped once, whichever of its processes comes first. */
	for (size_t i = 0; i < n; i++) {
		const struct ks_table *ks = ks_views_get(&views, t[i].pid);

		if (!o->lean)
			report_peers_prepare(ks);
	}
	st->netns = views.n;
	/* Every process read before any is built: the other end of a
	 * connection is named from the fds of all of them. */
	b = xcalloc(n ? n : 1, sizeof(*b));
	for (size_t i = 0; i < n; i++) {
		b[i].rep.opts = o->report;
		b[i].rep.tgt = t[i];
		b[i].sh.ks = (struct ks_table *)ks_views_get(&views, t[i].pid);
		b[i].sh.symcache = c->syms;
		b[i].sh.owners = owners;
		b[i].sh.lean = o->lean;
		rc = report_build_read(&b[i], err, sizeof(err));
		if (rc < 0) {
			bad(&t[i], rc, err, arg);
			report_build_finish(&b[i]);
			b[i].skip = true;
			st->failed++;
			continue;
		}
		rc = 0;
		ks_owner_map_add(owners, t[i].pid, t[i].comm, &b[i].fds);
	}
	for (size_t i = 0; i < n; i++) {
		if (b[i].skip)
			continue;
		report_build_make(&b[i]);
		ok(&b[i], arg);
		report_build_finish(&b[i]);
		st->read++;
	}
	if (o->only > 0 && st->failed)
		rc = rc ? rc : -EIO;
	else
		rc = 0;
	free(b);
	free(t);
	report_peers_forget();
	ks_owner_map_destroy(owners);
	ks_views_finish(&views);
	report_symcache_sweep(c->syms);
	return rc;
}
