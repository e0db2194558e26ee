/* demangle: C++ and Rust (legacy, v0) linkage names through libiberty, and
 * what is left alone: plain names, malformed and overlong input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "symbolize/demangle.h"

static const struct {
	const char *in, *out;   /* out NULL: not demangled */
} cases[] = {
	{ "_ZN4feed6Client4openEi", "feed::Client::open(int)" },
	{ "_ZN4feed9reconnectIlEEiRK11sockaddr_inT_",
	  "int feed::reconnect<long>(sockaddr_in const&, long)" },
	{ "_Z4dialv", "dial()" },
	{ "_ZN4leak4feed6Client4open17h0123456789abcdefE", "leak::feed::Client::open" },
	{ "_ZN3std2rt10lang_start28_$u7b$$u7b$closure$u7d$$u7d$17h0123456789abcdefE",
	  "std::rt::lang_start::{{closure}}" },
	{ "_RNvCs1234_7mycrate4leak", "mycrate::leak" },
	{ "_RNvMNtCs1234_4leak4feedNtB2_6Client4open", "<leak::feed::Client>::open" },
	{ "main", NULL },
	{ "connect", NULL },
	{ "__libc_start_main", NULL },
	{ "_", NULL },
	{ "", NULL },
	{ "_Z", NULL },
	{ "_ZZZZ", NULL },
	{ "_R", NULL },
	{ "_RNvC", NULL },
};

int main(void)
{
	char *big;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *d = sym_demangle(cases[i].in);

		if (cases[i].out)
			ok(d && strcmp(d, cases[i].out) == 0, "%s -> %s (got %s)", cases[i].in,
			   cases[i].out, d ? d : "NULL");
		else
			ok(!d, "%s is left alone (got %s)", cases[i].in, d ? d : "NULL");
		free(d);
	}
	ok(!sym_demangle(NULL), "NULL is left alone");

	/* Long names: "_ZN" k x "5abcde" "Ev" is abcde::...::abcde() (7k
	 * bytes), 6k + 5 bytes long. A 605-byte one is demangled; one past the
	 * bound is left alone (libiberty itself refuses nesting much deeper than
	 * 100 levels, so this shows that nothing breaks, not which limit
	 * held). */
	big = malloc(SYM_DEMANGLE_MAX + 16);
	if (!big)
		return 1;
	const size_t ks[] = { 100, (SYM_DEMANGLE_MAX - 5) / 6 + 1 };

	for (size_t j = 0; j < 2; j++) {
		size_t k = ks[j];
		char *d;

		strcpy(big, "_ZN");
		for (size_t i = 0; i < k; i++)
			memcpy(big + 3 + 6 * i, "5abcde", 6);
		strcpy(big + 3 + 6 * k, "Ev");
		d = sym_demangle(big);
		if (k == 100)
			ok(d && strlen(d) == 7 * k, "a %zu-byte name is demangled", strlen(big));
		else
			ok(!d, "a %zu-byte name is left alone", strlen(big));
		free(d);
	}
	free(big);
	return tap_done();
}
