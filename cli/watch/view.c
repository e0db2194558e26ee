/* watch: the ncurses screen and the plain lines. */
#include "watch/watch.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <string.h>
#include <time.h>

#include "report/growth.h"

#define SPARK_MAX 40

static bool screen_on;
static bool utf8;

static void counts_text(const struct scrape_group *g, char *buf, size_t len)
{
	char o[32], c[32];

	if (!g->counts_known) {
		snprintf(buf, len, "%10s %10s", "-", "-");
		return;
	}
	growth_format_count(g->opened, o, sizeof(o));
	growth_format_count(g->closed, c, sizeof(c));
	snprintf(buf, len, "%10s %10s", o, c);
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
		char spark[SPARK_MAX * 4 + 1] = "", counts[72];

		if (s)
			watch_sparkline(s->v, s->n, 20, false, spark, sizeof(spark));
		counts_text(gr, counts, sizeof(counts));
		fprintf(out, "  held %zu flagged %zu opened/closed %s [%s] %s\n", gr->held,
			gr->flagged, counts, spark, gr->site);
	}
	if (p->ngroups > 10)
		fprintf(out, "  ... and %zu more groups\n", p->ngroups - 10);
	fflush(out);
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
	int rows = LINES, cols = COLS, y = 0;
	size_t held, flagged = total_flagged(p, &held);
	/* Numbers take 38 columns and the site what its longest needs: the
	 * sparkline gets what is left, or nothing when that is too little. */
	int spark_w = cols - 38 - 2 - (int)longest_site(p);
	char line[1024], tbuf[16];
	time_t now = time(NULL);
	struct tm tm;

	if (spark_w > SPARK_MAX)
		spark_w = SPARK_MAX;
	if (spark_w < 8)
		spark_w = 0;
	localtime_r(&now, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	erase();
	snprintf(line, sizeof(line), "sockaudit watch %d (%s)  every %.1fs  q: quit", (int)p->pid,
		 p->comm, (double)interval_ms / 1000.0);
	attron(A_BOLD);
	mvaddnstr(y, 0, line, cols);
	attroff(A_BOLD);
	if (cols > (int)strlen(line) + 10)
		mvaddstr(y, cols - 8, tbuf);
	y++;
	snprintf(line, sizeof(line), "%zu sockets, %zu flagged, %zu groups", held, flagged,
		 p->ngroups);
	mvaddnstr(y++, 0, line, cols);
	y++;
	snprintf(line, sizeof(line), "%6s %7s %10s %10s  %-*s  %s", "HELD", "FLAGGED", "OPENED",
		 "CLOSED", spark_w, spark_w ? "HELD OVER TIME" : "", "SITE");
	attron(A_UNDERLINE);
	mvaddnstr(y++, 0, line, cols);
	attroff(A_UNDERLINE);
	for (size_t g = 0; g < p->ngroups && y < rows - 1; g++) {
		const struct scrape_group *gr = &p->groups[g];
		const struct watch_series *s = watch_history_find(h, gr->site);
		char spark[SPARK_MAX * 4 + 1] = "", counts[72];
		int x;

		if (s && spark_w)
			watch_sparkline(s->v, s->n, (size_t)spark_w, utf8, spark, sizeof(spark));
		counts_text(gr, counts, sizeof(counts));
		snprintf(line, sizeof(line), "%6zu %7zu %s  ", gr->held, gr->flagged, counts);
		if (gr->flagged)
			attron(A_BOLD);
		mvaddnstr(y, 0, line, cols);
		x = (int)strlen(line);
		if (spark_w && x < cols) {
			mvaddstr(y, x, spark);
			x += spark_w + 2;
		}
		if (x < cols)
			mvaddnstr(y, x, gr->site, cols - x);
		if (gr->flagged)
			attroff(A_BOLD);
		y++;
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
