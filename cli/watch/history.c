/* watch: the held sockets of each group over the watch, and sparklines. */
#include "watch/watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static void push(struct watch_series *s, size_t v)
{
	if (s->n == WATCH_HISTORY) {
		memmove(s->v, s->v + 1, (WATCH_HISTORY - 1) * sizeof(s->v[0]));
		s->n--;
	}
	s->v[s->n++] = v;
}

void watch_history_add(struct watch_history *h, const struct scrape_proc *p)
{
	size_t out = 0;

	h->tick++;
	for (size_t g = 0; g < p->ngroups; g++) {
		struct watch_series *s = (struct watch_series *)watch_history_find(h, p->groups[g].site);

		if (!s) {
			h->s = xrealloc(h->s, (h->n + 1) * sizeof(h->s[0]));
			s = &h->s[h->n++];
			memset(s, 0, sizeof(*s));
			snprintf(s->site, sizeof(s->site), "%s", p->groups[g].site);
		}
		if (s->seen == h->tick) {
			/* Two groups with one site (different stacks, same first
			 * frame): one series, their sum. */
			s->v[s->n - 1] += p->groups[g].held;
			continue;
		}
		s->seen = h->tick;
		push(s, p->groups[g].held);
	}
	for (size_t i = 0; i < h->n; i++) {
		struct watch_series *s = &h->s[i];

		if (s->seen != h->tick) {
			if (h->tick - s->seen >= WATCH_HISTORY)
				continue;   /* forgotten */
			push(s, 0);
		}
		h->s[out++] = *s;
	}
	h->n = out;
}

void watch_host_key(const struct scrape_proc *p, char *buf, size_t len)
{
	snprintf(buf, len, "%d:%llu", (int)p->pid, (unsigned long long)p->starttime);
}

void watch_host_row(const struct scrape_proc *p, size_t *held, size_t *flagged,
		    const char **site)
{
	const struct scrape_group *best = NULL;

	*held = *flagged = 0;
	for (size_t g = 0; g < p->ngroups; g++) {
		const struct scrape_group *gr = &p->groups[g];

		*held += gr->held;
		*flagged += gr->flagged;
		if (!best || (gr->flagged != 0) > (best->flagged != 0) ||
		    ((gr->flagged != 0) == (best->flagged != 0) &&
		     (gr->flagged > best->flagged ||
		      (gr->flagged == best->flagged && gr->held > best->held))))
			best = gr;
	}
	*site = best ? best->site : "";
}

void watch_history_add_host(struct watch_history *h, const struct scrape_report *r)
{
	struct scrape_proc fake;
	struct scrape_group *rows = xcalloc(r->nprocs ? r->nprocs : 1, sizeof(rows[0]));

	/* Each process is one "group" keyed by its identity. */
	memset(&fake, 0, sizeof(fake));
	for (size_t i = 0; i < r->nprocs; i++) {
		size_t held, flagged;
		const char *site;

		watch_host_row(&r->procs[i], &held, &flagged, &site);
		watch_host_key(&r->procs[i], rows[i].site, sizeof(rows[i].site));
		rows[i].held = held;
	}
	fake.groups = rows;
	fake.ngroups = r->nprocs;
	watch_history_add(h, &fake);
	free(rows);
}

const struct watch_series *watch_history_find(const struct watch_history *h, const char *site)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->s[i].site, site) == 0)
			return &h->s[i];
	return NULL;
}

void watch_history_finish(struct watch_history *h)
{
	free(h->s);
	memset(h, 0, sizeof(*h));
}

void watch_sparkline(const size_t *v, size_t n, size_t width, bool utf8, char *out, size_t len)
{
	static const char *const blocks[8] = { "\u2581", "\u2582", "\u2583", "\u2584",
					       "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[] = " .:-=+*#";
	size_t first = n > width ? n - width : 0, max = 0, o = 0;

	if (!len)
		return;
	for (size_t i = first; i < n; i++)
		if (v[i] > max)
			max = v[i];
	for (size_t i = first; i < n; i++) {
		size_t level = max ? (v[i] * 7 + max - 1) / max : 0;
		const char *c = utf8 ? blocks[level] : (const char[]){ ascii[level], 0 };
		size_t cl = strlen(c);

		if (o + cl + 1 > len)
			break;
		memcpy(out + o, c, cl);
		o += cl;
	}
	out[o] = '\0';
}
