/* demangle: C++ (Itanium ABI) and Rust (legacy and v0) linkage names made
 * readable with libiberty's demangler, the one c++filt and addr2line use. */
#pragma once

#include <stdbool.h>

/* Longest linkage name handed to the demangler, and longest result kept
 * (a readable name is longer than its mangled form: "5abcde" becomes
 * "abcde::"): names come from the audited program's files, which are
 * hostile input. */
#define SYM_DEMANGLE_MAX 4096
#define SYM_DEMANGLE_OUT_MAX 16384

/* Whether name looks like a C++ or Rust linkage name ("_Z", "_R"). */
bool sym_is_mangled(const char *name);
/* The readable name (malloc'd, caller frees), or NULL when name is not a
 * mangled name, is too long, or the demangler refuses it. Rust legacy
 * names lose their "::h<hash>" suffix, as rustc's own demangler prints
 * them; C++ names keep their parameter list. */
char *sym_demangle(const char *name);
