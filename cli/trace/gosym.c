/* trace/gosym: a function of the executable, relocated (see gosym.h). */
#include "trace/gosym.h"
#include "symbolize/gopclntab.h"

#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/proc.h"
#include "util/util.h"

struct bias_walk {
	const char *exe;
	uint64_t start;
};

static int exe_first_map(const struct proc_map *m, void *arg)
{
	struct bias_walk *w = arg;

	if (m->offset != 0 || strcmp(m->path, w->exe) != 0)
		return 0;
	w->start = m->start;
	return 1;
}

/* The load bias of a position-independent executable: where its first
 * segment (file offset 0) is mapped, less the address it was linked at. */
static bool exe_bias(pid_t pid, Elf *e, uint64_t *bias)
{
	char path[64], exe[4096];
	struct bias_walk w = { exe, 0 };
	uint64_t vaddr = UINT64_MAX;
	size_t nph = 0;
	ssize_t n;

	if (elf_getphdrnum(e, &nph) != 0)
		return false;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_offset == 0)
			vaddr = ph.p_vaddr;
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0 || vaddr == UINT64_MAX)
		return false;
	exe[n] = '\0';
	if (proc_maps_each(pid, exe_first_map, &w) != 1)
		return false;
	*bias = w.start - (vaddr & ~(uint64_t)4095);
	return true;
}

bool tr_gosym_range(pid_t pid, const char *name, uint64_t *lo, uint64_t *hi)
{
	char path[64];
	bool found = false;
	uint64_t bias = 0;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	Elf *e;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || !gelf_getehdr(e, &eh) || (eh.e_type == ET_DYN && !exe_bias(pid, e, &bias)))
		goto out;
	while (!found && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *nm;

			if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC)
				continue;
			nm = elf_strptr(e, sh.sh_link, sym.st_name);
			if (nm && strcmp(nm, name) == 0) {
				*lo = sym.st_value + bias;
				*hi = *lo + (sym.st_size ? sym.st_size : 1);
				found = true;
				break;
			}
		}
	}
	if (!found) {
		/* Stripped: Go's own table still names every function. */
		struct gopcln_elf g;
		const char *why;

		found = gopcln_elf_open(e, &g, &why) == 0 && gopcln_func_range(&g.t, name, lo, hi);
		if (found) {
			*lo += bias;
			*hi += bias;
		}
	}
out:
	if (e)
		elf_end(e);
	close(fd);
	return found;
}
