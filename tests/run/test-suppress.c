/* The suppression format (cli/suppress.c, docs/ci.md) from tables of cases:
 * what parses, what is refused with which line, and what matches. */
#include <string.h>

#include "../tap.h"
#include "run/model.h"
#include "run/suppress.h"

static const struct {
	const char *text;
	int entries;          /* -1: refused */
	const char *err;      /* substring of the error */
} parse_cases[] = {
	{ "", 0, NULL },
	{ "# only a comment\n\n", 0, NULL },
	{ "{\n name: a\n top: fun=f\n}\n", 1, NULL },
	{ "{\n name: a\n kind: close-wait, idle\n frame: fun=f file=*.c module=prog\n}\n"
	  "{\n name: b\n kind: *\n command: *python*\n top: file=x.c\n frame: fun=g\n}\n", 2, NULL },
	{ "{\n name: a\n}\n", -1, ":3: entry 'a' has no top: or frame:" },
	{ "{\n top: fun=f\n}\n", -1, ":3: entry without a name" },
	{ "{\n name: a\n top: fun=f\n", -1, "is not closed" },
	{ "name: a\n", -1, ":1: expected '{'" },
	{ "{\n name: a\n kind: leaks\n top: fun=f\n}\n", -1, ":3: bad kind" },
	{ "{\n name: a\n top: fn=f\n}\n", -1, ":3: unknown frame key 'fn'" },
	{ "{\n name: a\n top: fun=f fun=g\n}\n", -1, "given twice" },
	{ "{\n name: a\n top: fun=f\n top: fun=g\n}\n", -1, ":4: a second top" },
	{ "{\n name: a\n color: red\n}\n", -1, ":3: unknown key 'color'" },
	{ "{\n{\n", -1, ":2: '{' inside an entry" },
	{ "}\n", -1, ":1: '}' without '{'" },
};

/* leak_client <- feed::Client::open(int) <- main <- __libc_start_call_main */
static const struct sym_frame stack[] = {
	{ .function = "leak_client", .file = "/src/net/client.c", .line = 10,
	  .module = "/build/prog" },
	{ .function = "feed::Client::open(int)", .linkage = "_ZN4feed6Client4openEi",
	  .file = "/src/feed.cc", .line = 20, .module = "/build/prog" },
	{ .function = "main", .file = "/src/main.c", .line = 3, .module = "/build/prog" },
	{ .function = "__libc_start_call_main", .module = "/lib/libc.so.6" },
};

static const struct {
	const char *entry;
	unsigned kind;
	bool match;
} match_cases[] = {
	{ "top: fun=leak_client", RUN_KIND_CLOSE_WAIT, true },
	{ "top: fun=leak_*", RUN_KIND_AT_EXIT, true },
	{ "top: fun=main", RUN_KIND_CLOSE_WAIT, false },              /* not the top */
	{ "frame: fun=main", RUN_KIND_CLOSE_WAIT, true },             /* anywhere */
	{ "frame: fun=main file=client.c", RUN_KIND_CLOSE_WAIT, false }, /* one frame, both */
	{ "top: file=client.c", RUN_KIND_IDLE, true },                /* basename */
	{ "top: file=*/net/client.c", RUN_KIND_IDLE, true },          /* with '/': path */
	{ "top: file=net/client.c", RUN_KIND_IDLE, false },
	{ "frame: module=libc.so*", RUN_KIND_IDLE, true },
	{ "kind: idle\n top: fun=leak_client", RUN_KIND_CLOSE_WAIT, false },
	{ "kind: idle,close-wait\n top: fun=leak_client", RUN_KIND_CLOSE_WAIT, true },
	{ "command: *prog*\n top: fun=leak_client", RUN_KIND_CLOSE_WAIT, true },
	{ "command: *python*\n top: fun=leak_client", RUN_KIND_CLOSE_WAIT, false },
	{ "frame: fun=main\n frame: fun=nothere", RUN_KIND_CLOSE_WAIT, false },
	/* C++ and Rust: the readable name or the linkage name */
	{ "frame: fun=feed::Client::open*", RUN_KIND_CLOSE_WAIT, true },
	{ "frame: fun=_ZN4feed6Client4open*", RUN_KIND_CLOSE_WAIT, true },
	{ "frame: fun=_ZN4feed6Client5close*", RUN_KIND_CLOSE_WAIT, false },
};

int main(void)
{
	const char *cmds[] = { "/build/prog --flag" };
	char err[512], text[512];

	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		struct supp_set s = { 0 };
		int rc = supp_load_text(&s, "t.supp", parse_cases[i].text, err, sizeof(err));

		if (parse_cases[i].entries < 0)
			ok(rc < 0 && strstr(err, parse_cases[i].err) && strncmp(err, "t.supp:", 7) == 0,
			   "parse case %zu refused: %s", i, rc < 0 ? err : "(accepted)");
		else
			ok(rc == 0 && s.n == (size_t)parse_cases[i].entries,
			   "parse case %zu: %d entries (%s)", i, parse_cases[i].entries,
			   rc < 0 ? err : "ok");
		supp_set_finish(&s);
	}
	for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		struct supp_set s = { 0 };
		const struct supp_entry *e;

		snprintf(text, sizeof(text), "{\n name: m%zu\n %s\n}\n", i, match_cases[i].entry);
		if (!ok(supp_load_text(&s, "m.supp", text, err, sizeof(err)) == 0, "match case %zu "
			"parses", i))
			continue;
		e = supp_match(&s, match_cases[i].kind, cmds, 1, stack, 4);
		ok((e != NULL) == match_cases[i].match, "'%s' %s %s", match_cases[i].entry,
		   match_cases[i].match ? "matches" : "does not match",
		   run_kind_name((enum run_kind)match_cases[i].kind));
		supp_set_finish(&s);
	}
	/* What --gen-suppressions prints parses back and matches its stack. */
	{
		struct supp_set s = { 0 };
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		supp_print(f, "gen", "close-wait", stack, 4);
		fclose(f);
		ok(supp_load_text(&s, "gen", buf, err, sizeof(err)) == 0 && s.n == 1 &&
		   supp_match(&s, RUN_KIND_CLOSE_WAIT, cmds, 1, stack, 4) &&
		   !supp_match(&s, RUN_KIND_IDLE, cmds, 1, stack, 4) &&
		   !supp_match(&s, RUN_KIND_CLOSE_WAIT, cmds, 1, stack + 1, 3),
		   "a generated entry round-trips and matches only its kind and stack:\n%s", buf);
		free(buf);
		supp_set_finish(&s);
	}
	return tap_done();
}
