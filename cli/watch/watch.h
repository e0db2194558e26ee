/* watch: a live view of one process's groups, refreshed every interval:
 * held and flagged sockets per group, its site's counts, and a sparkline
 * of its held sockets over the watch; or (-A) of every audited process,
 * one row each with its held and flagged sockets, a sparkline of its held
 * sockets and the site of its largest flagged group. A terminal gets an ncurses screen
 * (q or Ctrl-C quits and restores it); anything else, or NO_COLOR, gets
 * plain lines, one block per interval. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report/scrape.h"

#define WATCH_HISTORY 120   /* samples kept per group */

struct watch_series {
	char site[SCRAPE_SITE_MAX];
	size_t v[WATCH_HISTORY];     /* oldest first */
	size_t n;
	uint64_t seen;               /* the last tick it was in */
};

struct watch_history {
	struct watch_series *s;
	size_t n;
	uint64_t tick;
};

/* One sample per group of p (a group that went away samples 0; one gone
 * for a whole history is forgotten). Pure. */
void watch_history_add(struct watch_history *h, const struct scrape_proc *p);
/* One sample per process of r, keyed by pid and start time (a pid reused
 * is another series). Pure. */
void watch_history_add_host(struct watch_history *h, const struct scrape_report *r);
/* The key of a process's series. */
void watch_host_key(const struct scrape_proc *p, char *buf, size_t len);
/* The row of a process: held and flagged sockets over its groups, and the
 * site to show (its largest flagged group's, else its largest group's;
 * "" without groups). Pure. */
void watch_host_row(const struct scrape_proc *p, size_t *held, size_t *flagged,
		    const char **site);
const struct watch_series *watch_history_find(const struct watch_history *h, const char *site);
void watch_history_finish(struct watch_history *h);

/* The last `width` samples of v[0..n) as a sparkline: 8 levels from 0 to
 * their maximum, UTF-8 blocks or ASCII (" .:-=+*#"). Pure. */
void watch_sparkline(const size_t *v, size_t n, size_t width, bool utf8, char *out, size_t len);

/* Plain lines for one tick. */
void watch_print_plain(FILE *out, const struct scrape_proc *p, const struct watch_history *h,
		       const char *when);

/* Plain lines for one tick of -A: the host's totals, then one line per
 * process, flagged ones first. */
void watch_print_plain_host(FILE *out, const struct scrape_report *r,
			    const struct watch_history *h, const char *when);

/* The ncurses screen. watch_screen_start() returns false when the terminal
 * cannot be used (then use plain lines). */
bool watch_screen_start(void);
/* Draw one tick; `status` is a line for the bottom ("pid 12 exited"), or NULL. */
void watch_screen_draw(const struct scrape_proc *p, const struct watch_history *h, uint64_t interval_ms,
		       const char *status);
/* Wait up to ms for a key: 'q' (or 'Q') returns true; a resize redraws. */
void watch_screen_draw_host(const struct scrape_report *r, const struct watch_history *h,
			    uint64_t interval_ms);
enum watch_key { WATCH_KEY_NONE = 0, WATCH_KEY_QUIT, WATCH_KEY_RESIZE };
enum watch_key watch_screen_wait(uint64_t ms);
void watch_screen_stop(void);   /* restores the terminal; safe to call twice */
