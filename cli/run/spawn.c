/* spawn: CMD under the shim, and the life of its process tree.
 *
 * The run's tables go to a private directory (0700, named after the run id)
 * so nothing else on the machine can add, read or remove them, and `list`
 * in the default directory never sees them; a marker in it names this
 * process, for `list --gc` to remove what a killed run left (run-dir.h). sockaudit becomes a child
 * subreaper: a daemonised grandchild whose parent exits is re-parented to
 * us rather than to init, so "waitpid says no children left" means the whole
 * tree is gone. SIGCHLD and the signals of a cancelled job arrive through
 * a signalfd, so the poll loop never races them.
 *
 * Cancelling: the first SIGINT, SIGTERM, SIGHUP or SIGQUIT is sent on to
 * every process of the tree (CMD may ignore it, a daemon may sit in another
 * process group: each is signalled by pid, found by walking /proc from us,
 * the subreaper). A second one, or --kill-after without the tree ending,
 * sends SIGKILL to the whole tree. The run then exits 128 + the first
 * signal, never 0 (docs/ci.md).
 */
#include "run/spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "run/dir.h"
#include "util/proc.h"
#include "util/target.h"
#include "util/util.h"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* The directory to remove when sockaudit exits, also through die(). */
static char cleanup_dir[4200];

static void remove_dir(void)
{
	struct dirent *d;
	struct stat st;
	DIR *dp;

	if (!cleanup_dir[0])
		return;
	dp = opendir(cleanup_dir);
	if (dp) {
		/* Only what the shim creates: regular files. The directory is
		 * ours and 0700: only our tree put them there, some under the
		 * user a process of it changed to (shim_table_give). */
		while ((d = readdir(dp)))
			if (fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISREG(st.st_mode))
				unlinkat(dirfd(dp), d->d_name, 0);
		closedir(dp);
	}
	if (rmdir(cleanup_dir) < 0 && errno != ENOENT)
		warnx_("run: cannot remove %s: %s", cleanup_dir, strerror(errno));
	cleanup_dir[0] = '\0';
}

void run_spawn_cleanup(struct run_state *rs)
{
	remove_dir();
}

static bool readable_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

/* --preload, else the build tree next to this binary (cli/sockaudit ->
 * preload/libsockaudit.so), else the installed library directory. */
static void find_shim(struct run_state *rs)
{
	char exe[PATH_MAX], cand[2][PATH_MAX + 64];
	ssize_t n;
	char *slash;

	if (rs->opts.preload) {
		if (!readable_file(rs->opts.preload))
			die("run: --preload %s: not a readable regular file", rs->opts.preload);
		if (!realpath(rs->opts.preload, rs->shim))
			die("run: --preload %s: %s", rs->opts.preload, strerror(errno));
		return;
	}
	cand[0][0] = '\0';
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(cand[0], sizeof(cand[0]), "%s/../preload/libsockaudit.so", exe);
		}
	}
	snprintf(cand[1], sizeof(cand[1]), "%s/libsockaudit.so", SOCKAUDIT_LIBDIR);
	for (int i = 0; i < 2; i++)
		if (cand[i][0] && readable_file(cand[i]) && realpath(cand[i], rs->shim))
			return;
	die("run: cannot find libsockaudit.so (looked for %s and %s; use --preload PATH)",
	    cand[0][0] ? cand[0] : "<build tree>", cand[1]);
}

/* The owner marker (run-dir.h), so that `list --gc` can tell when this
 * run is gone even if it is killed before it can clean up. */
static void mark_owner(const char *dir)
{
	char name[64];
	uint64_t start;
	int dfd, fd;

	if (!proc_read_starttime(getpid(), &start) ||
	    run_owner_name(name, sizeof(name), getpid(), start) < 0)
		die("run: cannot read our own start time");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	fd = dfd < 0 ? -1 : openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				   O_CLOEXEC, 0600);
	if (fd < 0)
		die("run: cannot create %s/%s: %s", dir, name, strerror(errno));
	close(fd);
	close(dfd);
}

void run_spawn_prepare(struct run_state *rs)
{
	char tmp[sizeof(rs->dir) + 8];
	uint8_t rnd[8];

	find_shim(rs);
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		die("run: cannot make a run id: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(rs->run_id + 2 * i, 3, "%02x", rnd[i]);
	if ((size_t)snprintf(rs->dir, sizeof(rs->dir), "%s/" RUN_DIR_PREFIX "%s", sa_table_dir(),
			     rs->run_id) >= sizeof(rs->dir))
		die("run: table directory name too long");
	/* Made under another name and renamed once it holds its owner
	 * marker: `list --gc` never sees a run directory it cannot judge. */
	snprintf(tmp, sizeof(tmp), "%s.new", rs->dir);
	if (mkdir(tmp, 0700) < 0)
		die("run: cannot create %s: %s", tmp, strerror(errno));
	snprintf(cleanup_dir, sizeof(cleanup_dir), "%s", tmp);
	atexit(remove_dir);
	/* mkdir honours the umask: make the mode exactly what we mean. */
	if (chmod(tmp, 0700) < 0)
		die("run: cannot chmod %s: %s", tmp, strerror(errno));
	mark_owner(tmp);
	if (rename(tmp, rs->dir) < 0)
		die("run: cannot rename %s to %s: %s", tmp, rs->dir, strerror(errno));
	snprintf(cleanup_dir, sizeof(cleanup_dir), "%s", rs->dir);
}

static void child_env(const struct run_state *rs)
{
	const char *old = getenv("LD_PRELOAD");
	char *pre;

	/* Ours first: its wrappers must win over another preload's. */
	if (old && *old) {
		if (asprintf(&pre, "%s:%s", rs->shim, old) < 0)
			_exit(127);
	} else {
		pre = (char *)rs->shim;
	}
	if (setenv("LD_PRELOAD", pre, 1) < 0 || setenv("SOCKAUDIT_DIR", rs->dir, 1) < 0 ||
	    setenv("SOCKAUDIT_RUN_ID", rs->run_id, 1) < 0)
		_exit(127);
}

void run_spawn_start(struct run_state *rs)
{
	sigset_t block, old;
	int errpipe[2], gate[2], child_errno = 0;
	ssize_t n;

	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&block, forwarded[i]);
	if (sigprocmask(SIG_BLOCK, &block, &old) < 0)
		die("run: sigprocmask: %s", strerror(errno));
	rs->sigfd = signalfd(-1, &block, SFD_CLOEXEC | SFD_NONBLOCK);
	if (rs->sigfd < 0)
		die("run: signalfd: %s", strerror(errno));
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		die("run: cannot become a child subreaper: %s", strerror(errno));
	if (pipe2(errpipe, O_CLOEXEC) < 0 || pipe2(gate, O_CLOEXEC) < 0)
		die("run: pipe: %s", strerror(errno));
	fflush(NULL);
	rs->started_ms = now_monotonic_ms();
	rs->started_ns = now_realtime_ns();
	rs->cmd_pid = fork();
	if (rs->cmd_pid < 0)
		die("run: fork: %s", strerror(errno));
	if (rs->cmd_pid == 0) {
		char go;

		close(errpipe[0]);
		close(gate[1]);
		/* Until the parent has done what on_child does. */
		if (rs->on_child && read(gate[0], &go, 1) != 1)
			_exit(127);
		sigprocmask(SIG_SETMASK, &old, NULL);
		child_env(rs);
		execvp(rs->opts.cmd[0], rs->opts.cmd);
		/* The exec failed: tell the parent why, through the CLOEXEC
		 * pipe a successful exec would have closed. */
		child_errno = errno;
		if (write(errpipe[1], &child_errno, sizeof(child_errno)) < 0)
			_exit(127);
		_exit(127);
	}
	close(errpipe[1]);
	close(gate[0]);
	/* Only a child that waits is told to go: one that did not may be
	 * gone already, and a write then would be SIGPIPE. */
	if (rs->on_child) {
		rs->on_child(rs->on_child_arg, rs->cmd_pid);
		if (write(gate[1], "g", 1) != 1)
			die("run: cannot start '%s': %s", rs->opts.cmd[0], strerror(errno));
	}
	close(gate[1]);
	do
		n = read(errpipe[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	close(errpipe[0]);
	if (n == (ssize_t)sizeof(child_errno)) {
		waitpid(rs->cmd_pid, NULL, 0);
		die("run: cannot run '%s': %s", rs->opts.cmd[0], strerror(child_errno));
	}
}

static void note_reaped(struct run_state *rs, pid_t pid, int st)
{
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);

	rs->reaped = xrealloc(rs->reaped, (rs->nreaped + 1) * sizeof(rs->reaped[0]));
	rs->reaped[rs->nreaped].pid = pid;
	rs->reaped[rs->nreaped].status = code;
	rs->nreaped++;
	if (pid != rs->cmd_pid)
		return;
	rs->cmd_done = true;
	rs->cmd_status = code;
	rs->cmd_signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

/* The parent and start time of pid (util/proc.h's readers); false when gone. */
static bool stat_of(pid_t pid, pid_t *ppid, uint64_t *starttime)
{
	*ppid = proc_read_ppid(pid);
	return *ppid > 0 && proc_read_starttime(pid, starttime);
}

size_t run_spawn_tree(struct run_tree_proc **out)
{
	pid_t self = getpid(), *ppid = NULL;
	struct run_tree_proc *v = NULL;
	size_t n = 0, cap = 0, k = 0;
	struct dirent *d;
	bool more = true;
	bool *mark;
	DIR *dp;

	*out = NULL;
	dp = opendir("/proc");
	if (!dp) {
		warnx_("run: cannot list /proc to find the tree: %s", strerror(errno));
		return 0;
	}
	while ((d = readdir(dp))) {
		int pid;

		if (parse_pid(d->d_name, &pid) < 0 || pid == self)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			v = xrealloc(v, cap * sizeof(*v));
			ppid = xrealloc(ppid, cap * sizeof(*ppid));
		}
		v[n].pid = (pid_t)pid;
		if (stat_of(v[n].pid, &ppid[n], &v[n].starttime))
			n++;
	}
	closedir(dp);
	mark = xcalloc(n ? n : 1, sizeof(*mark));
	/* Descendants, level by level: a process is in the tree when its
	 * parent is us or already in it. */
	while (more) {
		more = false;
		for (size_t i = 0; i < n; i++) {
			if (mark[i])
				continue;
			if (ppid[i] == self)
				mark[i] = more = true;
			for (size_t j = 0; !mark[i] && j < n; j++)
				if (mark[j] && v[j].pid == ppid[i])
					mark[i] = more = true;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (mark[i])
			v[k++] = v[i];
	free(mark);
	free(ppid);
	if (!k) {
		free(v);
		v = NULL;
	}
	*out = v;
	return k;
}

/* Send sig to every process below us (as subreaper every orphan of the tree
 * is re-parented to us). Processes that start meanwhile are caught by the
 * next call: a second signal, or the kill-after check on every wait. */
static void signal_tree(int sig)
{
	struct run_tree_proc *v;
	size_t n = run_spawn_tree(&v);

	for (size_t i = 0; i < n; i++)
		kill(v[i].pid, sig);
	free(v);
}

static void kill_tree(struct run_state *rs)
{
	rs->tree_killed = true;
	signal_tree(SIGKILL);
}

/* Drain the signalfd: the first cancel signal goes to the whole tree, a
 * second one kills it. */
static void drain_signals(struct run_state *rs)
{
	struct signalfd_siginfo si;

	while (read(rs->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		if (rs->cancel_signal) {
			kill_tree(rs);
			continue;
		}
		rs->cancel_signal = (int)si.ssi_signo;
		rs->cancel_ms = now_monotonic_ms();
		signal_tree(rs->cancel_signal);
	}
	if (rs->cancel_signal &&
	    now_monotonic_ms() - rs->cancel_ms >= rs->opts.kill_after_ms)
		kill_tree(rs);
}

bool run_spawn_wait(struct run_state *rs, uint64_t ms)
{
	struct pollfd pfd[2] = {
		{ .fd = rs->sigfd, .events = POLLIN },
		{ .fd = rs->on_ready ? rs->ready_fd : -1, .events = POLLIN },
	};
	int st;
	pid_t pid;

	/* A cancelled run looks at the clock often enough to keep --kill-after. */
	if (rs->cancel_signal && ms > 100)
		ms = 100;
	if (poll(pfd, 2, ms > INT_MAX ? INT_MAX : (int)ms) < 0 && errno != EINTR)
		die("run: poll: %s", strerror(errno));
	drain_signals(rs);
	/* Before reaping: what a process did before it exited is applied
	 * while its pid still names it. */
	if (rs->on_ready)
		rs->on_ready(rs->on_child_arg);
	for (;;) {
		pid = waitpid(-1, &st, WNOHANG);
		if (pid > 0) {
			note_reaped(rs, pid, st);
			continue;
		}
		if (pid == 0)
			return true;
		if (errno == EINTR)
			continue;
		if (errno == ECHILD)
			break;
		die("run: waitpid: %s", strerror(errno));
	}
	rs->ended_ms = now_monotonic_ms();
	return false;
}
