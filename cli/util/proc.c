/* proc: the /proc/<pid> readers every engine shares (util/proc.h). */
#include "util/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "table.h"
#include "util/util.h"

/* Reads at most len bytes of /proc/<pid>/<name>; -1 when unreadable. */
static ssize_t read_proc_file(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	return read(fd, buf, len);
}

bool proc_read_starttime(pid_t pid, uint64_t *starttime)
{
	char buf[1024];
	ssize_t n = read_proc_file(pid, "stat", buf, sizeof(buf));

	return n > 0 && sa_stat_starttime(buf, (size_t)n, starttime) == 0;
}

pid_t proc_read_ppid(pid_t pid)
{
	char buf[1024], *p;
	ssize_t n = read_proc_file(pid, "stat", buf, sizeof(buf) - 1);
	int ppid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "pid (comm) state ppid": comm may hold spaces and parentheses. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}

bool proc_read_euid(pid_t pid, uint32_t *uid)
{
	char path[64], line[256];
	_cleanup_fclose_ FILE *f = NULL;
	unsigned r, e;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %u %u", &r, &e) == 2) {
			*uid = e;
			return true;
		}
	return false;
}

void proc_read_cmdline(pid_t pid, char *buf, size_t len)
{
	ssize_t n = read_proc_file(pid, "cmdline", buf, len - 1);

	if (n <= 0) {
		buf[0] = '\0';
		return;
	}
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0' || buf[i] == '\n')
			buf[i] = ' ';
	buf[n] = '\0';
}

void proc_read_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	_cleanup_fclose_ FILE *f = NULL;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (f && fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
}

int proc_maps_each(pid_t pid, int (*fn)(const struct proc_map *m, void *arg), void *arg)
{
	char *line = NULL, fname[64];
	size_t linesz = 0;
	ssize_t len;
	FILE *f;
	int rc = 0;

	snprintf(fname, sizeof(fname), "/proc/%d/maps", (int)pid);
	f = fopen(fname, "re");
	if (!f)
		return -errno;
	while (!rc && (len = getline(&line, &linesz, f)) > 0) {
		unsigned long long start, end, off, ino;
		struct proc_map m;
		int pos = -1;

		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (sscanf(line, "%llx-%llx %*s %llx %x:%x %llu %n", &start, &end, &off,
			   &m.dev_major, &m.dev_minor, &ino, &pos) < 6 || pos <= 0 || end <= start)
			continue;
		m.start = start;
		m.end = end;
		m.offset = off;
		m.inode = ino;
		m.path = line + pos + strspn(line + pos, " \t");
		rc = fn(&m, arg);
	}
	if (!rc && ferror(f))
		rc = errno ? -errno : -EIO;
	free(line);
	fclose(f);
	return rc;
}

int proc_exe_facts(const char *path, struct proc_exe_facts *f)
{
	_cleanup_close_ int fd = -1;
	Elf_Scn *scn = NULL;
	size_t nph = 0, shstrndx;
	int rc = 0;
	Elf *e;

	memset(f, 0, sizeof(*f));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &nph) != 0) {
		rc = -ENOEXEC;
		goto out;
	}
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_INTERP)
			f->interp = true;
	}
	if (elf_getshdrstrndx(e, &shstrndx) == 0)
		while ((scn = elf_nextscn(e, scn))) {
			GElf_Shdr sh;
			const char *name;

			if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(e, shstrndx, sh.sh_name)))
				continue;
			if (strcmp(name, ".note.go.buildid") == 0)
				f->go_note = true;
			else if (strcmp(name, ".go.buildinfo") == 0)
				f->go_buildinfo = true;
		}
out:
	if (e)
		elf_end(e);
	return rc;
}
