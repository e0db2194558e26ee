/* symbolize: return addresses -> function, file:line, module, with inline
 * frames, via elfutils libdwfl. Each unique address is resolved once and
 * cached; modules are looked up once.
 *
 * Addresses given here are raw return addresses as stored in the table: the
 * symbolizer subtracts 1 itself before lookup (the call instruction).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "symbolize/frame.h"

/* A module seen in a process, for post-mortem symbolization. */
struct sym_module {
	const char *path;
	const uint8_t *build_id;
	size_t build_id_len;
	bool go_build_id;      /* build_id is the start of Go's build ID, not a GNU one */
	uint64_t start, end;   /* the mapped address range (end exclusive) */
	uint64_t bias;         /* load bias (l_addr) */
};

struct symbolizer;

/* Live process: modules from /proc/<pid>/maps (dwfl_linux_proc_report),
 * read once. An address outside every mapping of a file then (a library
 * loaded since) has no module: make a new symbolizer for it. */
struct symbolizer *sym_create_pid(pid_t pid);
/* Dead or exec'd process: modules from a module log; files are found by path
 * and checked against the build-id (a mismatch leaves those frames as
 * module+offset). */
struct symbolizer *sym_create_modules(const struct sym_module *mods, size_t n);
/* One module file opened by the caller (fd, taken over either way), placed
 * at bias 0: addresses given are file-relative (addr - m->bias), so one
 * such symbolizer serves every process that maps the file, keyed by its
 * build-id. The build-id (m's) is checked on fd; NULL (errno ENOENT) when
 * the file is not the one it names, or m has none. */
struct symbolizer *sym_create_file(int fd, const struct sym_module *m);
/* Resolve one address; *out points to `*n` frames (innermost inline first,
 * the real frame last) owned by the symbolizer and valid until destroy.
 * Always succeeds with at least one frame (possibly all-unknown). */
void sym_resolve(struct symbolizer *s, uint64_t addr, const struct sym_frame **out, size_t *n);
/* Without reading symbols or debug information (cheap where sym_resolve()
 * may have to decompress a library's DWARF): the path of the module mapping
 * addr as sym_resolve() would give it, NULL when none; and whether addr is
 * a return address just past its module's ELF entry point, i.e. in the
 * executable's _start (a stripped binary included). */
const char *sym_module_of(struct symbolizer *s, uint64_t addr);
bool sym_at_entry(struct symbolizer *s, uint64_t addr);
void sym_destroy(struct symbolizer *s);   /* accepts NULL */
