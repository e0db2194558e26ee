/* proc: what /proc/<pid> says about a process, read one way for every
 * engine: its start time, owner, parent, names, mappings, and what its
 * executable's ELF says. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

bool proc_read_starttime(pid_t pid, uint64_t *starttime);
bool proc_read_euid(pid_t pid, uint32_t *uid);
/* The parent pid (the field after the state in /proc/<pid>/stat), 0 when
 * it cannot be read. */
pid_t proc_read_ppid(pid_t pid);
/* argv joined by spaces (NUL and newline shown as a space), "" when
 * unreadable; truncated to len - 1 bytes. */
void proc_read_cmdline(pid_t pid, char *buf, size_t len);
/* /proc/<pid>/comm without its newline, "" when unreadable. */
void proc_read_comm(pid_t pid, char *buf, size_t len);

/* One line of /proc/<pid>/maps. path is "" for an anonymous mapping and
 * may end in " (deleted)"; it is valid during the callback only. */
struct proc_map {
	uint64_t start, end, offset;
	unsigned dev_major, dev_minor;
	uint64_t inode;
	const char *path;
};
/* Calls fn for every line of /proc/<pid>/maps, in address order, until fn
 * returns non-zero; lines that do not parse are skipped. Returns fn's
 * non-zero value, 0 at the end, or -errno when the file cannot be opened
 * (or read: -EIO without errno). */
int proc_maps_each(pid_t pid, int (*fn)(const struct proc_map *m, void *arg), void *arg);

/* What an executable's ELF says. */
struct proc_exe_facts {
	bool interp;          /* a PT_INTERP: the dynamic loader runs (and LD_PRELOAD) */
	bool go_note;         /* a .note.go.buildid section */
	bool go_buildinfo;    /* a .go.buildinfo section */
};
/* Returns 0, -errno when path cannot be opened, -ENOEXEC when it is not an
 * ELF whose program headers could be read (*f all false then). */
int proc_exe_facts(const char *path, struct proc_exe_facts *f);
