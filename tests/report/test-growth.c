/* Unit tests of report/growth.c: the /proc/<pid>/limits parse, the growth
 * rule, and the count and time strings, from tables of cases. */
#include <stdint.h>
#include <string.h>

#include "../tap.h"
#include "report/growth.h"

#define LIMITS_HEAD "Limit                     Soft Limit           Hard Limit           Units     \n" \
	"Max cpu time              unlimited            unlimited            seconds   \n"

static void test_nofile(void)
{
	static const struct {
		const char *text;
		int rc;
		uint64_t soft;
	} cases[] = {
		{ LIMITS_HEAD "Max open files            1024                 524288               files     \n", 0, 1024 },
		{ LIMITS_HEAD "Max open files            unlimited            unlimited            files     \n", 0, UINT64_MAX },
		{ "Max open files 65536 65536 files\n", 0, 65536 },
		{ LIMITS_HEAD, -1, 0 },
		{ "", -1, 0 },
		{ "Max open files            -1                   1                    files\n", -1, 0 },
		{ "Max open files            12x                  1                    files\n", -1, 0 },
		{ "Max open files            99999999999999999999999 1                 files\n", -1, 0 },
		{ "Max open filesystems      10                   10                   files\n", -1, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t soft = 0;
		int rc = growth_nofile_parse(cases[i].text, &soft);

		ok(rc == cases[i].rc && (rc || soft == cases[i].soft),
		   "limits case %zu: rc %d soft %llu", i, rc, (unsigned long long)soft);
	}
}

static void test_growth(void)
{
	/* 20 opened over 2 s, evenly: 10 a second. */
	uint64_t even[20], burst[20], recent[3] = { 0, 10, 20 }, two[2] = { 0, 5000 };
	struct growth g;

	for (int i = 0; i < 20; i++) {
		even[i] = (uint64_t)i * 100 + 100;
		burst[i] = 60000 + (uint64_t)i;   /* all a minute ago, in 20 ms */
	}
	growth_of(even, 20, 24, 1024, &g);
	ok(g.growing && g.per_hour > 35000 && g.per_hour < 37000,
	   "even over 2 s: growing, 36,000 an hour (%.0f)", g.per_hour);
	ok(g.exhaust_known && g.exhaust_s == 100, "(1024 - 24) / 10 a second: 100 s (%llu)",
	   (unsigned long long)g.exhaust_s);
	growth_of(even, 20, 24, UINT64_MAX, &g);
	ok(g.growing && !g.exhaust_known, "unlimited: growing, no time to the limit");
	growth_of(even, 20, 24, 0, &g);
	ok(g.growing && !g.exhaust_known, "limit unknown: no time to the limit");
	growth_of(even, 20, 2000, 1024, &g);
	ok(g.exhaust_known && g.exhaust_s == 0, "already past the limit: 0 s");
	growth_of(burst, 20, 24, 1024, &g);
	ok(!g.growing, "a pool filled in one burst a minute ago is not growing");
	growth_of(recent, 3, 24, 1024, &g);
	ok(!g.growing, "three within 20 ms: too short a window to say");
	growth_of(two, 2, 24, 1024, &g);
	ok(!g.growing, "two sockets say nothing");
	growth_of(NULL, 0, 24, 1024, &g);
	ok(!g.growing, "none");
}

static void test_format(void)
{
	static const struct {
		uint64_t opened, closed, collected;
		const char *want;
	} counts[] = {
		{ 1204, 1192, 0, "opened 1,204, closed 1,192, held 12: 1 in 100 never closed" },
		{ 100, 99, 0, "opened 100, closed 99, held 1: 1 in 100 never closed" },
		{ 5, 0, 0, "opened 5, closed 0, held 5: none closed" },
		{ 7, 7, 0, "opened 7, closed 7, held 0" },
		{ 1234567, 1, 0, "opened 1,234,567, closed 1, held 1,234,566: 1 in 1 never closed" },
		{ 3, 5, 0, "opened 3, closed 5, held 0" },
		{ 3600, 3600, 3594,
		  "opened 3,600, closed by the program 6, by the garbage collector 3,594, held 0" },
		{ 100, 99, 99,
		  "opened 100, closed by the program 0, by the garbage collector 99, held 1: "
		  "1 in 100 never closed" },
		/* Loaded apart, collected may pass closed for an instant: capped. */
		{ 10, 4, 5, "opened 10, closed by the program 0, by the garbage collector 4, held 6: "
			    "1 in 2 never closed" },
	};
	static const struct {
		uint64_t s;
		const char *want;
	} etas[] = {
		{ 0, "under a minute" }, { 59, "under a minute" }, { 60, "about 1 min" },
		{ 100, "about 2 min" }, { 3599, "about 60 min" }, { 3600, "about 1 h" },
		{ 10800, "about 3 h" }, { 48 * 3600, "about 2 days" },
	};
	char buf[200];

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		growth_format_counts(counts[i].opened, counts[i].closed, counts[i].collected, buf,
				     sizeof(buf));
		ok(strcmp(buf, counts[i].want) == 0, "counts %llu/%llu: \"%s\"",
		   (unsigned long long)counts[i].opened, (unsigned long long)counts[i].closed, buf);
	}
	for (size_t i = 0; i < sizeof(etas) / sizeof(etas[0]); i++) {
		growth_format_eta(etas[i].s, buf, sizeof(buf));
		ok(strcmp(buf, etas[i].want) == 0, "eta %llu s: \"%s\"",
		   (unsigned long long)etas[i].s, buf);
	}
	growth_format_count(0, buf, sizeof(buf));
	ok(strcmp(buf, "0") == 0, "count 0");
	growth_format_count(UINT64_MAX, buf, sizeof(buf));
	ok(strcmp(buf, "18,446,744,073,709,551,615") == 0, "count UINT64_MAX: %s", buf);
}

int main(void)
{
	test_nofile();
	test_growth();
	test_format();
	return tap_done();
}
