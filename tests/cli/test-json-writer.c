/* json-writer against json-c: every document written with jw_* must be
 * byte for byte what json-c prints for the same tree with the flags the
 * tool uses (the report's layout did not change when it stopped building
 * a tree), and parse back to the same values. */
#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "util/json-writer.h"

#define JC_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Compare a memory writer's document with json-c's text of `want`
 * (released here). */
static void same_as_jsonc(struct jw *w, json_object *want, const char *what)
{
	char *got = jw_take(w);
	const char *exp = json_object_to_json_string_ext(want, JC_FLAGS);
	json_object *back = json_tokener_parse(got);

	if (!ok(strcmp(got, exp) == 0, "%s: the text json-c prints", what))
		diag("got:\n%s\nexpected:\n%s", got, exp);
	ok(back && json_object_equal(back, want), "%s: parses back to the same values", what);
	json_object_put(back);
	json_object_put(want);
	free(got);
}

static void test_strings(void)
{
	static const struct {
		const char *s;
		const char *what;
	} cases[] = {
		{ "", "empty" },
		{ "plain text", "plain" },
		{ "say \"hi\"", "double quote" },
		{ "C:\\path\\", "backslash" },
		{ "a/b/c", "slash kept (NOSLASHESCAPE)" },
		{ "\b\f\n\r\t", "short escapes" },
		{ "\x01\x02\x1f", "other control characters as \\u00XX" },
		{ "del\x7f", "DEL passed through" },
		{ "caf\xc3\xa9 \xe2\x86\x92", "UTF-8 passed through" },
		{ "\xff\xfe", "bytes that are not UTF-8 passed through, as json-c does" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jw w;
		json_object *o = json_object_new_object();

		jw_init(&w, NULL);
		jw_object_begin(&w);
		jw_key(&w, cases[i].s);
		jw_string(&w, cases[i].s);
		jw_object_end(&w);
		json_object_object_add(o, cases[i].s, json_object_new_string(cases[i].s));
		same_as_jsonc(&w, o, cases[i].what);
	}
}

static void test_scalars(void)
{
	struct jw w;
	json_object *a = json_object_new_array();

	jw_init(&w, NULL);
	jw_array_begin(&w);
	jw_uint(&w, 0);
	jw_uint(&w, UINT64_MAX);
	jw_int(&w, -1);
	jw_int(&w, INT64_MIN);
	jw_int(&w, INT64_MAX);
	jw_bool(&w, true);
	jw_bool(&w, false);
	jw_null(&w);
	jw_string(&w, NULL);
	jw_hex(&w, 0);
	jw_hex(&w, UINT64_MAX);
	jw_array_end(&w);
	json_object_array_add(a, json_object_new_uint64(0));
	json_object_array_add(a, json_object_new_uint64(UINT64_MAX));
	json_object_array_add(a, json_object_new_int64(-1));
	json_object_array_add(a, json_object_new_int64(INT64_MIN));
	json_object_array_add(a, json_object_new_int64(INT64_MAX));
	json_object_array_add(a, json_object_new_boolean(1));
	json_object_array_add(a, json_object_new_boolean(0));
	json_object_array_add(a, NULL);
	json_object_array_add(a, NULL);
	json_object_array_add(a, json_object_new_string("0x0"));
	json_object_array_add(a, json_object_new_string("0xffffffffffffffff"));
	same_as_jsonc(&w, a, "numbers at their limits, booleans, null, hex");
}

static void test_nesting(void)
{
	struct jw w;
	json_object *root = json_object_new_object(), *a = json_object_new_array(), *o;

	jw_init(&w, NULL);
	jw_object_begin(&w);
	jw_key(&w, "empty_array");
	jw_array_begin(&w);
	jw_array_end(&w);
	jw_key(&w, "empty_object");
	jw_object_begin(&w);
	jw_object_end(&w);
	jw_key(&w, "list");
	jw_array_begin(&w);
	for (int i = 0; i < 3; i++) {
		jw_object_begin(&w);
		jw_key(&w, "i");
		jw_int(&w, i);
		jw_key(&w, "inner");
		jw_array_begin(&w);
		jw_array_begin(&w);
		jw_array_end(&w);
		jw_array_end(&w);
		jw_object_end(&w);
	}
	jw_array_end(&w);
	jw_object_end(&w);

	json_object_object_add(root, "empty_array", json_object_new_array());
	json_object_object_add(root, "empty_object", json_object_new_object());
	for (int i = 0; i < 3; i++) {
		json_object *inner = json_object_new_array();

		o = json_object_new_object();
		json_object_object_add(o, "i", json_object_new_int(i));
		json_object_array_add(inner, json_object_new_array());
		json_object_object_add(o, "inner", inner);
		json_object_array_add(a, o);
	}
	json_object_object_add(root, "list", a);
	same_as_jsonc(&w, root, "nested and empty containers");
}

/* A document larger than the writer's buffer goes out in pieces. */
static void test_file(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_object *a = json_object_new_array();
	struct jw w;
	int rc;

	if (!ok(f != NULL, "open_memstream"))
		return;
	jw_init(&w, f);
	jw_array_begin(&w);
	for (int i = 0; i < 20000; i++) {
		jw_string(&w, "a string of some length, to pass 64 KiB");
		json_object_array_add(a, json_object_new_string("a string of some length, to pass 64 KiB"));
	}
	jw_array_end(&w);
	rc = jw_finish(&w);
	fclose(f);
	ok(rc == 0 && len > 256 * 1024, "FILE writer: %zu bytes, finish %d", len, rc);
	ok(text && strcmp(text, json_object_to_json_string_ext(a, JC_FLAGS)) == 0,
	   "FILE writer: the same text as json-c");
	json_object_put(a);
	free(text);
}

static void test_write_error(void)
{
	FILE *f = fopen("/dev/full", "w");
	struct jw w;
	int rc;

	if (!ok(f != NULL, "open /dev/full"))
		return;
	setvbuf(f, NULL, _IONBF, 0);
	jw_init(&w, f);
	jw_array_begin(&w);
	jw_uint(&w, 1);
	jw_array_end(&w);
	rc = jw_finish(&w);
	ok(rc == -EIO && ferror(f), "a failed write is reported by jw_finish (%d)", rc);
	fclose(f);
}

int main(void)
{
	test_strings();
	test_scalars();
	test_nesting();
	test_file();
	test_write_error();
	return tap_done();
}
