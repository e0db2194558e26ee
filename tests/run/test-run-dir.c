/* run-dir names from tables of cases: a run directory and its owner marker
 * are recognised exactly, and nothing else in a shared directory is. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../tap.h"
#include "run/dir.h"

static void test_dir_names(void)
{
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
		{ "sockaudit-run.0123456789abcdef", true },
		{ "sockaudit-run.ffffffffffffffff", true },
		{ "sockaudit-run.0123456789abcdef.new", false },   /* being made */
		{ "sockaudit-run.0123456789ABCDEF", false },
		{ "sockaudit-run.0123456789abcde", false },
		{ "sockaudit-run.0123456789abcdef0", false },
		{ "sockaudit-run.0123456789abcdeg", false },
		{ "sockaudit-run.", false },
		{ "sockaudit.0.123.456", false },
		{ "xsockaudit-run.0123456789abcdef", false },
		{ "", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(run_dir_name_ok(cases[i].name) == cases[i].ok, "run dir name '%s': %s",
		   cases[i].name, cases[i].ok ? "yes" : "no");
}

static void test_owner_names(void)
{
	static const struct {
		const char *name;
		int rc;
		int32_t pid;
		uint64_t start;
	} cases[] = {
		{ "owner.1.0", 0, 1, 0 },
		{ "owner.4242.123456789", 0, 4242, 123456789 },
		{ "owner.2147483647.18446744073709551615", 0, 2147483647, UINT64_MAX },
		{ "owner.2147483648.1", -1, 0, 0 },                /* pid past INT32_MAX */
		{ "owner.1.18446744073709551616", -1, 0, 0 },      /* starttime past 2^64-1 */
		{ "owner.0.5", -1, 0, 0 },
		{ "owner.01.5", -1, 0, 0 },
		{ "owner.-1.5", -1, 0, 0 },
		{ "owner.1.5.", -1, 0, 0 },
		{ "owner.1.5x", -1, 0, 0 },
		{ "owner.1", -1, 0, 0 },
		{ "owner..5", -1, 0, 0 },
		{ "Owner.1.5", -1, 0, 0 },
		{ "sockaudit.0.1.5", -1, 0, 0 },
	};
	char buf[64];
	int32_t pid;
	uint64_t start;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = run_owner_parse(cases[i].name, &pid, &start);

		ok(rc == cases[i].rc && (rc < 0 || (pid == cases[i].pid && start == cases[i].start)),
		   "owner marker '%s': %s", cases[i].name, cases[i].rc ? "rejected" : "parsed");
	}
	ok(run_owner_name(buf, sizeof(buf), 4242, 987654321) == 0 &&
	   strcmp(buf, "owner.4242.987654321") == 0 && run_owner_parse(buf, &pid, &start) == 0 &&
	   pid == 4242 && start == 987654321, "owner marker written and read back: %s", buf);
	ok(run_owner_name(buf, 8, 4242, 987654321) < 0, "owner marker: too small a buffer fails");
}

int main(void)
{
	test_dir_names();
	test_owner_names();
	return tap_done();
}
