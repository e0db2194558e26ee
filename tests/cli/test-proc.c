/* util/proc: the /proc readers every engine shares, checked against what
 * the process knows of itself and of a child it made: its parent, name,
 * command line, start time, euid, mappings and executable. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "util/proc.h"

struct maps_seen {
	char exe[PATH_MAX];
	unsigned lines, exe_maps, anon;
	uint64_t last_start;
	bool ordered, have_text;
	uintptr_t text;
};

static int see_map(const struct proc_map *m, void *arg)
{
	struct maps_seen *w = arg;

	w->lines++;
	if (m->start < w->last_start)
		w->ordered = false;
	w->last_start = m->start;
	if (!m->path[0])
		w->anon++;
	if (strcmp(m->path, w->exe) == 0) {
		w->exe_maps++;
		if (m->start <= w->text && w->text < m->end)
			w->have_text = true;
	}
	return 0;
}

static int stop_at_third(const struct proc_map *m, void *arg)
{
	(void)m;
	return ++*(int *)arg == 3 ? 42 : 0;
}

int main(void)
{
	struct maps_seen w = { .ordered = true, .text = (uintptr_t)main };
	struct proc_exe_facts f;
	char buf[64], cmd[256];
	uint64_t st, st2;
	uint32_t uid;
	int calls = 0, p[2], rc;
	ssize_t n;
	pid_t child;

	ok(proc_read_ppid(getpid()) == getppid(), "ppid: our parent, from /proc/<pid>/stat");
	ok(proc_read_ppid(-1) == 0, "ppid: 0 for no such process");
	ok(proc_read_starttime(getpid(), &st) && proc_read_starttime(getpid(), &st2) && st == st2 &&
	   st > 0, "starttime: read, and the same twice");
	ok(proc_read_euid(getpid(), &uid) && uid == geteuid(), "euid: ours");

	/* A child with a name with a space and a parenthesis, and a command
	 * line with a newline: what the readers must not be confused by. */
	if (pipe(p) < 0)
		bail("pipe");
	child = fork();
	if (child == 0) {
		prctl(PR_SET_NAME, "a (b) c", 0, 0, 0);
		dup2(p[0], 0);
		close(p[1]);
		execl("/bin/sh", "sh", "-c", "read x\necho", "two words", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	/* Wait for the exec, polling with a deadline (2 s). */
	for (int i = 0; i < 200; i++) {
		proc_read_cmdline(child, cmd, sizeof(cmd));
		if (strncmp(cmd, "sh ", 3) == 0)
			break;
		usleep(10000);
	}
	ok(strcmp(cmd, "sh -c read x echo two words") == 0,
	   "cmdline: argv joined by spaces, the newline shown as one (%s)", cmd);
	proc_read_cmdline(child, cmd, 8);
	ok(strcmp(cmd, "sh -c r") == 0, "cmdline: truncated to len - 1 (%s)", cmd);
	proc_read_comm(child, buf, sizeof(buf));
	ok(strcmp(buf, "sh") == 0, "comm: the exec'd name, no newline (%s)", buf);
	ok(proc_read_ppid(child) == getpid(), "ppid: the child's is us");
	close(p[1]);
	waitpid(child, NULL, 0);
	proc_read_comm(child, buf, sizeof(buf));
	proc_read_cmdline(child, cmd, sizeof(cmd));
	ok(!buf[0] && !cmd[0], "comm and cmdline: empty once the process is gone");

	prctl(PR_SET_NAME, "x) y", 0, 0, 0);
	ok(proc_read_ppid(getpid()) == getppid(), "ppid: right after a comm with \") \"");
	proc_read_comm(getpid(), buf, sizeof(buf));
	ok(strcmp(buf, "x) y") == 0, "comm: ours as set (%s)", buf);

	n = readlink("/proc/self/exe", w.exe, sizeof(w.exe) - 1);
	if (n <= 0)
		bail("readlink /proc/self/exe");
	w.exe[n] = '\0';
	rc = proc_maps_each(getpid(), see_map, &w);
	ok(rc == 0 && w.lines > 3 && w.ordered, "maps: every line, by address (%u)", w.lines);
	ok(w.exe_maps >= 2 && w.have_text, "maps: our executable's mappings, main in one (%u)",
	   w.exe_maps);
	ok(proc_maps_each(getpid(), stop_at_third, &calls) == 42 && calls == 3,
	   "maps: a callback's non-zero ends the walk and is returned");
	ok(proc_maps_each(-1, see_map, &w) == -ENOENT, "maps: -ENOENT for no such process");

	ok(proc_exe_facts("/proc/self/exe", &f) == 0 && f.interp && !f.go_note && !f.go_buildinfo,
	   "exe facts: this test is dynamic and not Go");
	ok(proc_exe_facts("/nonexistent/exe", &f) == -ENOENT, "exe facts: -ENOENT for no file");
	ok(proc_exe_facts("/proc/self/cmdline", &f) == -ENOEXEC && !f.interp,
	   "exe facts: -ENOEXEC for what is not an ELF");
	return tap_done();
}
