/* lframe: a language frame's bytes from the table are hostile; what is
 * printed is well-formed UTF-8 without control characters, cut at the
 * buffer without splitting a character. */
#include <string.h>

#include "../tap.h"
#include "report/lframe.h"

static const struct {
	const char *in;
	size_t len;      /* 0: strlen(in) */
	size_t outlen;
	const char *out;
} cases[] = {
	{ "/srv/app.py", 0, 64, "/srv/app.py" },
	{ "Client.open", 0, 64, "Client.open" },
	{ "caf\xc3\xa9.py", 0, 64, "caf\xc3\xa9.py" },             /* U+00E9 kept */
	{ "\xe2\x82\xac", 0, 64, "\xe2\x82\xac" },                 /* U+20AC */
	{ "\xf0\x9f\x90\x8d.py", 0, 64, "\xf0\x9f\x90\x8d.py" },   /* U+1F40D */
	{ "a\x1b[31mb", 0, 64, "a?[31mb" },                          /* ESC */
	{ "a\nb\rc\td\x7f", 0, 64, "a?b?c?d?" },
	{ "a\0b", 3, 64, "a?b" },                                   /* NUL inside */
	{ "\xc3", 0, 64, "?" },                                     /* cut sequence */
	{ "\xc0\xaf", 0, 64, "??" },                                 /* overlong '/' */
	{ "\xe0\x80\xaf", 0, 64, "???" },                            /* overlong */
	{ "\xed\xa0\x80", 0, 64, "???" },                            /* surrogate */
	{ "\xf4\x90\x80\x80", 0, 64, "????" },                       /* > U+10FFFF */
	{ "\xff\xfe", 0, 64, "??" },
	{ "abcdef", 0, 4, "abc" },                                  /* cut at the buffer */
	{ "ab\xc3\xa9", 0, 4, "ab" },                               /* not mid-character */
	{ "", 0, 64, "" },
};

int main(void)
{
	char out[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);

		memset(out, 'Z', sizeof(out));
		report_lframe_clean(cases[i].in, len, out, cases[i].outlen);
		ok(strcmp(out, cases[i].out) == 0 && strlen(out) < cases[i].outlen,
		   "case %zu: cleaned as expected (got %zu bytes)", i, strlen(out));
	}
	return tap_done();
}
