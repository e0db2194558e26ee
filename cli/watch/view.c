/* watch: the ncurses screen and the plain lines. */
#include "watch/watch.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/growth.h"

#define SPARK_MAX 40

static bool screen_on;
static bool utf8;

static void counts_text(const struct scrape_group *g, char *buf, size_t len)
{
	char o[32], c[32], k[32];

	if (!g->counts_known) {
		snprintf(buf, len, "%10s %10s %8s", "-", "-", "-");
		return;
	}
	growth_format_count(g->opened, o, sizeof(o));
	growth_format_count(g->closed, c, sizeof(c));
	growth_format_count(g->collected, k, sizeof(k));
	snprintf(buf, len, "%10s %10s %8s", o, c, k);
}

static size_t total_flagged(const struct scrape_proc *p, size_t *held)
{
	size_t f = 0;

	*held = 0;
	for (size_t g = 0; g < p->ngroups; g++) {
		f += p->groups[g].flagged;
		*held += p->groups[g].held;
	}
	return f;
}

void watch_print_plain(FILE *out, const struct scrape_proc *p, const struct watch_history *h,
		       const char *when)
{
	size_t held, flagged = total_flagged(p, &held);

	fprintf(out, "%s pid %d (%s): %zu sockets, %zu flagged, %zu groups\n", when, (int)p->pid,
		p->comm, held, flagged, p->ngroups);
	for (size_t g = 0; g < p->ngroups && g < 10; g++) {
		const struct scrape_group *gr = &p->groups[g];
		const struct watch_series *s = watch_history_find(h, gr->site);
		char spark[SPARK_MAX * 4 + 1] = "", counts[3 * 32 + 4];

		if (s)
			watch_sparkline(s->v, s->n, 20, false, spark, sizeof(spark));
		counts_text(gr, counts, sizeof(counts));
		fprintf(out, "  held %zu flagged %zu opened/closed/by-gc %s [%s] %s\n", gr->held,
			gr->flagged, counts, spark, gr->site);
	}
	if (p->ngroups > 10)
		fprintf(out, "  ... and %zu more groups\n", p->ngroups - 10);
	fflush(out);
}

/* Processes in the order shown: flagged first (most flagged sockets),
 * then by held sockets, then by pid. */
struct host_row {
	const struct scrape_proc *p;
	size_t held, flagged;
	const char *site;
};

static int host_row_cmp(const void *a, const void *b)
{
	const struct host_row *x = a, *y = b;

	if (x->flagged != y->flagged)
		return x->flagged < y->flagged ? 1 : -1;
	if (x->held != y->held)
		return x->held < y->held ? 1 : -1;
	return x->p->pid < y->p->pid ? -1 : x->p->pid > y->p->pid;
}

static struct host_row *host_rows(const struct scrape_report *r, size_t *held, size_t *flagged)
{
	struct host_row *v = calloc(r->nprocs ? r->nprocs : 1, sizeof(*v));

	*held = *flagged = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < r->nprocs; i++) {
		v[i].p = &r->procs[i];
		watch_host_row(v[i].p, &v[i].held, &v[i].flagged, &v[i].site);
		*held += v[i].held;
		*flagged += v[i].flagged;
	}
	qsort(v, r->nprocs, sizeof(v[0]), host_row_cmp);
	return v;
}

static void host_spark(const struct watch_history *h, const struct scrape_proc *p, size_t width,
		       bool blocks, char *out, size_t len)
{
	char key[SCRAPE_SITE_MAX];
	const struct watch_series *s;

	out[0] = '\0';
	watch_host_key(p, key, sizeof(key));
	s = watch_history_find(h, key);
	if (s)
		watch_sparkline(s->v, s->n, width, blocks, out, len);
}

#define HOST_PLAIN_ROWS 20

void watch_print_plain_host(FILE *out, const struct scrape_report *r,
			    const struct watch_history *h, const char *when)
{
	size_t held, flagged;
	struct host_row *v = host_rows(r, &held, &flagged);

	fprintf(out, "%s host: %zu audited %s, %zu sockets, %zu flagged\n", when, r->nprocs,
		r->nprocs == 1 ? "process" : "processes", held, flagged);
	for (size_t i = 0; v && i < r->nprocs && i < HOST_PLAIN_ROWS; i++) {
		char spark[SPARK_MAX * 4 + 1];

		host_spark(h, v[i].p, 20, false, spark, sizeof(spark));
		fprintf(out, "  pid %d (%s) held %zu flagged %zu [%s] %s\n", (int)v[i].p->pid,
			v[i].p->comm, v[i].held, v[i].flagged, spark, v[i].site);
	}
	if (r->nprocs > HOST_PLAIN_ROWS)
		fprintf(out, "  ... and %zu more processes\n", r->nprocs - HOST_PLAIN_ROWS);
	fflush(out);
	free(v);
}

/* Columns for the sparkline when the numbers take `numbers` and the
 * longest site `site`: what is left, up to SPARK_MAX; 0 when under 8. */
static int spark_width(int cols, int numbers, size_t site)
{
	int w = cols - numbers - 2 - (int)site;

	if (w > SPARK_MAX)
		w = SPARK_MAX;
	return w < 8 ? 0 : w;
}

/* The first line: the title in bold, the time of day on the right. */
static void draw_title(const char *title, int cols)
{
	char tbuf[16];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	attron(A_BOLD);
	mvaddnstr(0, 0, title, cols);
	attroff(A_BOLD);
	if (cols > (int)strlen(title) + 10)
		mvaddstr(0, cols - 8, tbuf);
}

static void draw_header(int y, const char *line, int cols)
{
	attron(A_UNDERLINE);
	mvaddnstr(y, 0, line, cols);
	attroff(A_UNDERLINE);
}

/* One row: its numbers, its sparkline (spark_w columns, none when 0), its
 * site; bold when it has flagged sockets. */
static void draw_row(int y, int cols, const char *numbers, const char *spark, int spark_w,
		     const char *site, bool flagged)
{
	int x;

	if (flagged)
		attron(A_BOLD);
	mvaddnstr(y, 0, numbers, cols);
	x = (int)strlen(numbers);
	if (spark_w && x < cols) {
		mvaddstr(y, x, spark);
		x += spark_w + 2;
	}
	if (x < cols)
		mvaddnstr(y, x, site, cols - x);
	if (flagged)
		attroff(A_BOLD);
}

void watch_screen_draw_host(const struct scrape_report *r, const struct watch_history *h,
			    uint64_t interval_ms)
{
	int rows = LINES, cols = COLS, y = 1;
	size_t held, flagged;
	struct host_row *v = host_rows(r, &held, &flagged);
	/* pid, command and numbers take 43 columns and the site what its
	 * longest needs (at least 24): the sparkline gets what is left. */
	size_t longest = 24;
	int spark_w;
	char line[1024];

	for (size_t i = 0; v && i < r->nprocs; i++)
		if (strlen(v[i].site) > longest)
			longest = strlen(v[i].site);
	spark_w = spark_width(cols, 43, longest);
	erase();
	snprintf(line, sizeof(line), "sockaudit watch -A  every %.1fs  q: quit",
		 (double)interval_ms / 1000.0);
	draw_title(line, cols);
	snprintf(line, sizeof(line), "%zu audited %s, %zu sockets, %zu flagged", r->nprocs,
		 r->nprocs == 1 ? "process" : "processes", held, flagged);
	mvaddnstr(y++, 0, line, cols);
	y++;
	snprintf(line, sizeof(line), "%7s %-15s %8s %8s  %-*s  %s", "PID", "COMMAND", "HELD",
		 "FLAGGED", spark_w, spark_w ? "HELD OVER TIME" : "", "SITE");
	draw_header(y++, line, cols);
	for (size_t i = 0; v && i < r->nprocs && y < rows - 1; i++) {
		char spark[SPARK_MAX * 4 + 1] = "";

		if (spark_w)
			host_spark(h, v[i].p, (size_t)spark_w, utf8, spark, sizeof(spark));
		snprintf(line, sizeof(line), "%7d %-15.15s %8zu %8zu  ", (int)v[i].p->pid,
			 v[i].p->comm, v[i].held, v[i].flagged);
		draw_row(y++, cols, line, spark, spark_w, v[i].site, v[i].flagged);
	}
	refresh();
	free(v);
}

bool watch_screen_start(void)
{
	const char *cs;

	setlocale(LC_ALL, "");
	cs = nl_langinfo(CODESET);
	utf8 = cs && strcmp(cs, "UTF-8") == 0;
	if (!initscr())
		return false;
	screen_on = true;
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	return true;
}

void watch_screen_stop(void)
{
	if (!screen_on)
		return;
	screen_on = false;
	endwin();
}

static size_t longest_site(const struct scrape_proc *p)
{
	size_t m = 0;

	for (size_t g = 0; g < p->ngroups; g++)
		if (strlen(p->groups[g].site) > m)
			m = strlen(p->groups[g].site);
	return m < 24 ? 24 : m;
}

void watch_screen_draw(const struct scrape_proc *p, const struct watch_history *h, uint64_t interval_ms,
		       const char *status)
{
	int rows = LINES, cols = COLS, y = 1;
	size_t held, flagged = total_flagged(p, &held);
	/* Numbers take 47 columns and the site what its longest needs: the
	 * sparkline gets what is left, or nothing when that is too little. */
	int spark_w = spark_width(cols, 47, longest_site(p));
	char line[1024];

	erase();
	snprintf(line, sizeof(line), "sockaudit watch %d (%s)  every %.1fs  q: quit", (int)p->pid,
		 p->comm, (double)interval_ms / 1000.0);
	draw_title(line, cols);
	snprintf(line, sizeof(line), "%zu sockets, %zu flagged, %zu groups", held, flagged,
		 p->ngroups);
	mvaddnstr(y++, 0, line, cols);
	y++;
	snprintf(line, sizeof(line), "%6s %7s %10s %10s %8s  %-*s  %s", "HELD", "FLAGGED",
		 "OPENED", "CLOSED", "BY GC", spark_w, spark_w ? "HELD OVER TIME" : "", "SITE");
	draw_header(y++, line, cols);
	for (size_t g = 0; g < p->ngroups && y < rows - 1; g++) {
		const struct scrape_group *gr = &p->groups[g];
		const struct watch_series *s = watch_history_find(h, gr->site);
		char spark[SPARK_MAX * 4 + 1] = "", counts[3 * 32 + 4];

		if (s && spark_w)
			watch_sparkline(s->v, s->n, (size_t)spark_w, utf8, spark, sizeof(spark));
		counts_text(gr, counts, sizeof(counts));
		snprintf(line, sizeof(line), "%6zu %7zu %s  ", gr->held, gr->flagged, counts);
		draw_row(y++, cols, line, spark, spark_w, gr->site, gr->flagged);
	}
	if (status)
		mvaddnstr(rows - 1, 0, status, cols);
	refresh();
}

enum watch_key watch_screen_wait(uint64_t ms)
{
	int c;

	timeout(ms > 60000 ? 60000 : (int)ms);
	c = getch();
	if (c == 'q' || c == 'Q')
		return WATCH_KEY_QUIT;
	if (c == KEY_RESIZE)
		return WATCH_KEY_RESIZE;
	return WATCH_KEY_NONE;
}
