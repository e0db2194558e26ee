/* Unit tests of watch's pure pieces: sparklines and the per-group history. */
#include <string.h>

#include "../tap.h"
#include "watch/watch.h"

static void test_sparkline(void)
{
	static const struct {
		size_t v[8];
		size_t n, width;
		const char *ascii;
	} cases[] = {
		{ { 0, 1, 2, 3, 4, 5, 6, 7 }, 8, 8, " .:-=+*#" },
		{ { 0, 0, 0 }, 3, 8, "   " },
		{ { 5, 5, 5 }, 3, 8, "###" },
		{ { 1, 100 }, 2, 8, ".#" },
		{ { 0, 1, 2, 3, 4, 5, 6, 7 }, 8, 3, "+*#" },   /* the last 3 */
		{ { 0 }, 0, 8, "" },
	};
	char out[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		watch_sparkline(cases[i].v, cases[i].n, cases[i].width, false, out, sizeof(out));
		ok(strcmp(out, cases[i].ascii) == 0, "ascii case %zu: \"%s\"", i, out);
	}
	{
		size_t v[2] = { 0, 8 };

		watch_sparkline(v, 2, 8, true, out, sizeof(out));
		ok(strcmp(out, "\u2581\u2588") == 0, "UTF-8 blocks: lowest and highest");
		watch_sparkline(v, 2, 8, true, out, 4);
		ok(strcmp(out, "\u2581") == 0, "a short buffer takes whole characters only");
	}
}

static void test_history(void)
{
	struct scrape_group g1[2] = { { .site = "a x.c:1", .held = 3 }, { .site = "b y.c:2", .held = 1 } };
	struct scrape_group g2[2] = { { .site = "a x.c:1", .held = 2 }, { .site = "a x.c:1", .held = 4 } };
	struct scrape_proc p = { .groups = g1, .ngroups = 2 };
	struct watch_history h = { 0 };
	const struct watch_series *a, *b;

	watch_history_add(&h, &p);
	p.groups = g2;
	watch_history_add(&h, &p);
	a = watch_history_find(&h, "a x.c:1");
	b = watch_history_find(&h, "b y.c:2");
	ok(a && a->n == 2 && a->v[0] == 3 && a->v[1] == 6, "two groups with one site sum (3, 6)");
	ok(b && b->n == 2 && b->v[1] == 0, "a group gone samples 0");
	p.ngroups = 0;
	for (int i = 0; i < WATCH_HISTORY + 5; i++)
		watch_history_add(&h, &p);
	ok(h.n == 0, "a group gone for a whole history is forgotten");
	p.groups = g1;
	p.ngroups = 1;
	for (int i = 0; i < WATCH_HISTORY + 5; i++)
		watch_history_add(&h, &p);
	a = watch_history_find(&h, "a x.c:1");
	ok(a && a->n == WATCH_HISTORY, "a series keeps %d samples", WATCH_HISTORY);
	watch_history_finish(&h);
}

int main(void)
{
	test_sparkline();
	test_history();
	return tap_done();
}
