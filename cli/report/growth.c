/* growth: per-site counts on groups, the pace of held sockets, and the time
 * left until RLIMIT_NOFILE (see growth.h). */
#include "report/growth.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/join.h"
#include "util/util.h"

int growth_nofile_parse(const char *text, uint64_t *soft)
{
	static const char key[] = "Max open files";
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, key, sizeof(key) - 1) == 0) {
			const char *v = p + sizeof(key) - 1;
			char *end;
			unsigned long long n;

			while (*v == ' ' || *v == '\t')
				v++;
			if (strncmp(v, "unlimited", 9) == 0 && (v[9] == ' ' || v[9] == '\t')) {
				*soft = UINT64_MAX;
				return 0;
			}
			if (*v < '0' || *v > '9')
				return -1;
			errno = 0;
			n = strtoull(v, &end, 10);
			if (errno || (*end != ' ' && *end != '\t'))
				return -1;
			*soft = n;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

int growth_nofile(pid_t pid, uint64_t *soft)
{
	char path[64], buf[4096];
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	return growth_nofile_parse(buf, soft) < 0 ? -EINVAL : 0;
}

void growth_of(const uint64_t *ages_ms, size_t n, uint64_t open_fds, uint64_t soft,
	       struct growth *out)
{
	uint64_t window = 0;
	size_t late = 0;
	double per_s;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		if (ages_ms[i] > window)
			window = ages_ms[i];
	/* Three sockets at least over a second at least: fewer says nothing. */
	if (n < 3 || window < 1000)
		return;
	for (size_t i = 0; i < n; i++)
		if (ages_ms[i] * 2 <= window)
			late++;
	/* A pile that kept growing: a quarter of it opened in the later half. */
	if (late * 4 < n)
		return;
	per_s = (double)n / ((double)window / 1000.0);
	out->growing = true;
	out->per_hour = per_s * 3600.0;
	if (soft && soft != UINT64_MAX && open_fds) {
		uint64_t left = soft > open_fds ? soft - open_fds : 0;

		out->exhaust_known = true;
		out->exhaust_s = (uint64_t)((double)left / per_s);
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void growth_fill_groups(struct group_set *gs, const struct sa_count *counts, size_t ncounts,
			uint64_t open_fds, uint64_t soft)
{
	for (size_t gi = 0; gi < gs->n; gi++) {
		struct group *g = &gs->v[gi];
		uint32_t *ids = xcalloc(g->n ? g->n : 1, sizeof(*ids));
		uint64_t *ages = xcalloc(g->n ? g->n : 1, sizeof(*ages));
		size_t nids = 0, nages = 0;
		struct growth gr;

		for (size_t i = 0; i < g->n; i++) {
			const struct report_sock *s = g->socks[i];

			if (!s->tracked)
				continue;
			if (s->rec.open_stack && s->rec.open_stack <= ncounts)
				ids[nids++] = s->rec.open_stack;
			if (s->open_age_known && s->held)
				ages[nages++] = s->open_age_ms;
		}
		qsort(ids, nids, sizeof(*ids), cmp_u32);
		g->opened_total = g->closed_total = g->collected_total = 0;
		for (size_t i = 0; i < nids; i++) {
			if (i && ids[i] == ids[i - 1])
				continue;
			g->opened_total += counts[ids[i] - 1].opened;
			g->closed_total += counts[ids[i] - 1].closed;
			g->collected_total += counts[ids[i] - 1].collected;
		}
		/* Nothing counted at these sites: inherited records (counted in
		 * another process or image) or a table without counts. */
		g->counts_known = g->opened_total > 0;
		growth_of(ages, nages, open_fds, soft, &gr);
		g->growing = gr.growing;
		g->growth_per_hour = gr.per_hour;
		g->exhaust_known = gr.exhaust_known;
		g->exhaust_s = gr.exhaust_s;
		free(ids);
		free(ages);
	}
}

void growth_format_count(uint64_t v, char *buf, size_t len)
{
	char tmp[32], out[48];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v), o = 0;

	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = tmp[i];
	}
	out[o] = '\0';
	snprintf(buf, len, "%s", out);
}

void growth_format_eta(uint64_t s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "under a minute");
	else if (s < 3600)
		snprintf(buf, len, "about %llu min", (unsigned long long)((s + 30) / 60));
	else if (s < 48 * 3600)
		snprintf(buf, len, "about %llu h", (unsigned long long)((s + 1800) / 3600));
	else
		snprintf(buf, len, "about %llu days", (unsigned long long)((s + 43200) / 86400));
}

void growth_format_counts(uint64_t opened, uint64_t closed, uint64_t collected, char *buf,
			  size_t len)
{
	char o[32], c[32], h[32], g[32];
	uint64_t held = opened > closed ? opened - closed : 0;
	int n;

	growth_format_count(opened, o, sizeof(o));
	growth_format_count(closed, c, sizeof(c));
	growth_format_count(held, h, sizeof(h));
	if (collected) {
		/* The collector's closes are leaks it hid: say them apart. */
		if (collected > closed)
			collected = closed;   /* two loads, not one snapshot */
		growth_format_count(closed - collected, c, sizeof(c));
		growth_format_count(collected, g, sizeof(g));
		n = snprintf(buf, len, "opened %s, closed by the program %s, by the garbage "
			     "collector %s, held %s", o, c, g, h);
		if (held && n > 0 && (size_t)n < len)
			snprintf(buf + n, len - (size_t)n, ": 1 in %llu never closed",
				 (unsigned long long)((opened + held / 2) / held));
		return;
	}
	if (held == 0)
		snprintf(buf, len, "opened %s, closed %s, held 0", o, c);
	else if (closed == 0)
		snprintf(buf, len, "opened %s, closed %s, held %s: none closed", o, c, h);
	else
		snprintf(buf, len, "opened %s, closed %s, held %s: 1 in %llu never closed", o, c, h,
			 (unsigned long long)((opened + held / 2) / held));
}
