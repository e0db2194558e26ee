// SPDX-License-Identifier: MIT
/* demangle: linkage names -> source names through libiberty (see demangle.h).
 *
 * libiberty's cplus_demangle() with DMGL_AUTO tries Rust first (legacy Rust
 * names are valid Itanium names too: "_ZN4core3fmt5write17h..E") and then
 * the GNU v3 (Itanium) scheme; v0 Rust names start with "_R". libstdc++'s
 * __cxa_demangle knows C++ only and would pull the C++ runtime into a C
 * program. The demangler bounds its own recursion (DMGL_NO_RECURSE_LIMIT is
 * not passed); the input and output lengths are bounded here.
 */
#include "symbolize/demangle.h"

#include <stdlib.h>
#include <string.h>

#include <libiberty/demangle.h>

bool sym_is_mangled(const char *name)
{
	return name && name[0] == '_' && (name[1] == 'Z' || name[1] == 'R');
}

char *sym_demangle(const char *name)
{
	char *out;

	if (!sym_is_mangled(name) || strnlen(name, SYM_DEMANGLE_MAX + 1) > SYM_DEMANGLE_MAX)
		return NULL;
	out = cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
	if (out && (!out[0] || strnlen(out, SYM_DEMANGLE_OUT_MAX + 1) > SYM_DEMANGLE_OUT_MAX)) {
		free(out);
		out = NULL;
	}
	return out;
}
