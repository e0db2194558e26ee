/* `sockaudit dump` on bad input. Every case must end, within the deadline
 * (a FIFO must not hang it), in exit status 2 with exactly one
 * "sockaudit: " line on stderr naming the reason, and nothing on stdout:
 * bad arguments; bad files given with --table; files planted at the table
 * name of a live process that has none; pids that are gone. Controls show
 * the same files unbroken are read, so each refusal is for the reason
 * given. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "dt.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct dt_host a;        /* under the shim: has a table */
static struct dt_host b;        /* without it: has none */
static char apid[16], bpid[16];
static char real[PATH_MAX];     /* a copy of a's table, 0600 */

/* ---- arguments --------------------------------------------------------- */

static const struct arg_case {
	const char *what;
	const char *args[4];
	const char *needle;
} arg_cases[] = {
	{ "no pid", { "dump", NULL }, "expected one pid" },
	{ "--json and no pid", { "dump", "--json", NULL }, "expected one pid" },
	{ "pid abc", { "dump", "abc", NULL }, "expected one pid" },
	{ "pid 0", { "dump", "0", NULL }, "expected one pid" },
	{ "pid -5", { "dump", "-5", NULL }, "bad option" },
	{ "pid 99999999", { "dump", "99999999", NULL }, "no such process" },
	{ "pid 2^31", { "dump", "2147483648", NULL }, "expected one pid" },
	{ "pid 12abc", { "dump", "12abc", NULL }, "expected one pid" },
	{ "empty pid", { "dump", "", NULL }, "expected one pid" },
	{ "two pids", { "dump", "1", "2", NULL }, "expected one pid" },
	{ "--bogus", { "dump", "--bogus", NULL }, "bad option" },
	{ "--bogus before a pid", { "dump", "--bogus", "1", NULL }, "bad option" },
	{ "-x", { "dump", "-x", NULL }, "bad option" },
	{ "--table without its FILE", { "dump", "--table", NULL }, "needs an argument" },
};

static void test_args(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(arg_cases); i++)
		ok(dt_expect_error(arg_cases[i].needle, arg_cases[i].args),
		   "dump %s: exit 2, one line (%s)", arg_cases[i].what, arg_cases[i].needle);
}

/* ---- files given with --table ------------------------------------------ */

enum prep {
	PREP_MISSING,
	PREP_EMPTY,
	PREP_TRUNC_100,
	PREP_TRUNC_HALF,
	PREP_GARBAGE,
	PREP_MODE_0644,
	PREP_SYMLINK,
	PREP_FIFO,
	PREP_DIR,
	PREP_MAGIC,
	PREP_COMPAT,
	PREP_NSLOTS_PAST_EOF,
	PREP_NSLOTS_MAX,
	PREP_SIZE_MORE,
	PREP_SIZE_LESS,
	PREP_UID,
	PREP_PID_0,
};

static const struct file_case {
	const char *what;
	enum prep prep;
	const char *needle;
} file_cases[] = {
	{ "a missing file", PREP_MISSING, "No such file" },
	{ "an empty file", PREP_EMPTY, "truncated table" },
	{ "a table truncated to 100 bytes", PREP_TRUNC_100, "truncated table" },
	{ "a table truncated to half", PREP_TRUNC_HALF, "file size does not match" },
	{ "1 MiB of random bytes, mode 0600", PREP_GARBAGE, "bad magic" },
	{ "a table with mode 0644", PREP_MODE_0644, "mode 0644" },
	{ "a symlink to a table", PREP_SYMLINK, "symbolic link" },
	{ "a FIFO", PREP_FIFO, "not a regular file" },
	{ "a directory", PREP_DIR, "not a regular file" },
	{ "a table with its magic flipped", PREP_MAGIC, "bad magic" },
	{ "a table with compat_version bumped", PREP_COMPAT, "newer, incompatible" },
	{ "a table whose nslots runs past EOF", PREP_NSLOTS_PAST_EOF, "slot region out of bounds" },
	{ "a table with nslots UINT32_MAX", PREP_NSLOTS_MAX, "slot count out of range" },
	{ "a table whose file_size is too big", PREP_SIZE_MORE, "file size does not match" },
	{ "a table whose file_size is too small", PREP_SIZE_LESS, "file size does not match" },
	{ "a table naming another uid than its owner", PREP_UID, "header names uid" },
	{ "a table with pid 0", PREP_PID_0, "bad pid" },
};

static bool write_random(const char *path, size_t len)
{
	static uint8_t buf[1 << 20];
	size_t n = 0;
	uint64_t magic = SA_MAGIC;
	bool good;
	int fd;

	while (n < len) {
		ssize_t r = getrandom(buf + n, len - n, 0);

		if (r < 0 && errno != EINTR)
			return false;
		if (r > 0)
			n += (size_t)r;
	}
	if (memcmp(buf, &magic, sizeof(magic)) == 0)
		buf[0] ^= 0xff;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	good = write(fd, buf, len) == (ssize_t)len && fchmod(fd, 0600) == 0;
	close(fd);
	return good;
}

static bool patch_header(const char *path, enum prep prep)
{
	struct sa_header h;

	if (!dt_read_header(path, &h))
		return false;
	switch (prep) {
	case PREP_MAGIC:
		h.magic ^= 0xff;
		break;
	case PREP_COMPAT:
		h.compat_version = SA_ABI_COMPAT + 1;
		break;
	case PREP_NSLOTS_PAST_EOF:
		if (h.nslots >= SA_MAX_SLOTS)
			bail("dump-host's table has %u slots: cannot grow it past EOF", h.nslots);
		h.nslots = SA_MAX_SLOTS;
		break;
	case PREP_NSLOTS_MAX:
		h.nslots = UINT32_MAX;
		break;
	case PREP_SIZE_MORE:
		h.file_size += 4096;
		break;
	case PREP_SIZE_LESS:
		h.file_size -= 4096;
		break;
	case PREP_UID:
		h.uid = (uint32_t)geteuid() + 1;
		break;
	case PREP_PID_0:
		h.pid = 0;
		break;
	default:
		bail("no header patch for case %d", (int)prep);
	}
	return dt_write_header(path, &h);
}

static bool prepare(const char *path, enum prep prep)
{
	struct stat st;
	int fd;

	switch (prep) {
	case PREP_MISSING:
		return true;
	case PREP_EMPTY:
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || fchmod(fd, 0600) < 0)
			return false;
		close(fd);
		return true;
	case PREP_TRUNC_100:
		return dt_copy(real, path, 0600) && truncate(path, 100) == 0;
	case PREP_TRUNC_HALF:
		return stat(real, &st) == 0 && dt_copy(real, path, 0600) &&
		       truncate(path, st.st_size / 2) == 0;
	case PREP_GARBAGE:
		return write_random(path, 1 << 20);
	case PREP_MODE_0644:
		return dt_copy(real, path, 0644);
	case PREP_SYMLINK:
		return symlink(real, path) == 0;
	case PREP_FIFO:
		return mkfifo(path, 0600) == 0;
	case PREP_DIR:
		return mkdir(path, 0700) == 0;
	default:
		return dt_copy(real, path, 0600) && patch_header(path, prep);
	}
}

static void test_files(void)
{
	const char *ok_args[] = { "dump", "--table", real, NULL };
	const char *ok_json[] = { "dump", "--json", "--table", real, NULL };
	const char *ok_pid[] = { "dump", "--table", real, apid, NULL };
	struct trun r;
	json_object *root;
	int64_t v;

	/* Controls: the unbroken copy is read, with or without the pid. */
	tlib_cli(&r, ok_args);
	ok(r.status == 0 && r.nerr == 0 && strstr(r.out, "FD "),
	   "control: dump --table COPY reads it (status %d)", r.status);
	trun_free(&r);
	tlib_cli(&r, ok_json);
	root = r.status == 0 ? dt_json_parse(r.out) : NULL;
	ok(root && dt_json_int(root, "pid", &v) && v == a.pid,
	   "control: dump --json --table COPY says pid %d", (int)a.pid);
	if (root)
		json_object_put(root);
	trun_free(&r);
	tlib_cli(&r, ok_pid);
	ok(r.status == 0 && r.nerr == 0, "control: dump --table COPY <its pid> reads it (%s)",
	   tlib_oneline(r.err));
	trun_free(&r);

	for (size_t i = 0; i < ARRAY_SIZE(file_cases); i++) {
		const struct file_case *c = &file_cases[i];
		char path[PATH_MAX];
		const char *plain[] = { "dump", "--table", path, NULL };
		const char *json[] = { "dump", "--json", "--table", path, NULL };
		const char *bypid[] = { "dump", "--table", path, bpid, NULL };

		snprintf(path, sizeof(path), "%s/case-%zu", dt_dir, i);
		if (!ok(prepare(path, c->prep), "prepare %s", c->what)) {
			diag("%s: %s", path, strerror(errno));
			continue;
		}
		ok(dt_expect_error(c->needle, plain), "dump --table (%s): exit 2, one line (%s)",
		   c->what, c->needle);
		ok(dt_expect_error(c->needle, json), "dump --json --table (%s): exit 2, one line",
		   c->what);
		ok(dt_expect_error(c->needle, bypid), "dump --table (%s) <pid>: exit 2, one line",
		   c->what);
	}
	{
		const char *bypid[] = { "dump", "--table", real, bpid, NULL };

		ok(dt_expect_error("belongs to pid", bypid),
		   "dump --table COPY <another live pid>: exit 2, the table is not that pid's");
	}
}

/* ---- planted at the name of a live process without a table ------------- */

enum plant {
	PLANT_NONE,
	PLANT_OWN,
	PLANT_FOREIGN,
	PLANT_OTHER_PID,
	PLANT_OTHER_START,
	PLANT_SYMLINK,
	PLANT_FIFO,
	PLANT_LOOSE,
	PLANT_DIR,
};

static const struct plant_case {
	const char *what;
	enum plant plant;
	bool root;               /* needs root (chown) */
	const char *needle;      /* NULL: must be read (a control) */
} plant_cases[] = {
	{ "nothing (started without the shim)", PLANT_NONE, false, "has no table" },
	{ "a table made out to it (control)", PLANT_OWN, false, NULL },
	{ "that table chowned to uid 65534", PLANT_FOREIGN, true, "owned by uid 65534" },
	{ "another live pid's table", PLANT_OTHER_PID, false, "belongs to pid" },
	{ "its pid with another start time", PLANT_OTHER_START, false, "belongs to pid" },
	{ "a symlink to a table made out to it", PLANT_SYMLINK, false, "symbolic link" },
	{ "a FIFO", PLANT_FIFO, false, "not a regular file" },
	{ "a table made out to it, mode 0644", PLANT_LOOSE, false, "mode 0644" },
	{ "a directory", PLANT_DIR, false, "not a regular file" },
};

/* A copy of a's table rewritten to claim to be b's. */
static bool made_out_to_b(const char *path, mode_t mode, uint32_t uid, uint64_t start_delta)
{
	struct sa_header h;

	if (!dt_copy(real, path, mode) || !dt_read_header(path, &h))
		return false;
	h.pid = b.pid;
	h.starttime = b.starttime + start_delta;
	h.uid = uid;
	return dt_write_header(path, &h);
}

static bool plant(const char *path, enum plant what)
{
	char own[PATH_MAX];

	snprintf(own, sizeof(own), "%s/made-out-to-b", dt_dir);
	switch (what) {
	case PLANT_NONE:
		return true;
	case PLANT_OWN:
		return made_out_to_b(path, 0600, (uint32_t)geteuid(), 0);
	case PLANT_FOREIGN:
		return made_out_to_b(path, 0600, 65534, 0) && chown(path, 65534, 65534) == 0;
	case PLANT_OTHER_PID:
		return dt_copy(real, path, 0600);
	case PLANT_OTHER_START:
		return made_out_to_b(path, 0600, (uint32_t)geteuid(), 1);
	case PLANT_SYMLINK:
		unlink(own);
		return made_out_to_b(own, 0600, (uint32_t)geteuid(), 0) && symlink(own, path) == 0;
	case PLANT_FIFO:
		return mkfifo(path, 0600) == 0;
	case PLANT_LOOSE:
		return made_out_to_b(path, 0644, (uint32_t)geteuid(), 0);
	case PLANT_DIR:
		return mkdir(path, 0700) == 0;
	}
	return false;
}

static void test_planted(void)
{
	char path[PATH_MAX];
	const char *plain[] = { "dump", bpid, NULL };
	const char *json[] = { "dump", "--json", bpid, NULL };

	dt_table_path(path, sizeof(path), b.pid, b.starttime);
	for (size_t i = 0; i < ARRAY_SIZE(plant_cases); i++) {
		const struct plant_case *c = &plant_cases[i];

		if (unlink(path) < 0 && errno == EISDIR)
			rmdir(path);
		if (c->root && geteuid() != 0) {
			tap_skip_env("dump <pid> with %s: needs root", c->what);
			continue;
		}
		if (!ok(plant(path, c->plant), "plant %s", c->what)) {
			diag("%s: %s", path, strerror(errno));
			continue;
		}
		if (c->needle) {
			ok(dt_expect_error(c->needle, plain), "dump <pid> with %s: exit 2, one line (%s)",
			   c->what, c->needle);
			ok(dt_expect_error(c->needle, json), "dump --json <pid> with %s: exit 2, one line",
			   c->what);
		} else {
			struct trun r;
			json_object *root;
			int64_t v;

			tlib_cli(&r, json);
			root = r.status == 0 ? dt_json_parse(r.out) : NULL;
			ok(root && dt_json_int(root, "pid", &v) && v == b.pid,
			   "dump --json <pid> with %s: read, pid %d (status %d %s)", c->what,
			   (int)b.pid, r.status, tlib_oneline(r.err));
			if (root)
				json_object_put(root);
			trun_free(&r);
		}
	}
	if (unlink(path) < 0 && errno == EISDIR)
		rmdir(path);
}

/* ---- pids that are gone ------------------------------------------------- */

static void test_gone(void)
{
	char path[PATH_MAX], other[PATH_MAX], gone[16];
	const char *plain[] = { "dump", apid, NULL };
	const char *json[] = { "dump", "--json", apid, NULL };
	const char *gone_args[] = { "dump", gone, NULL };
	const char *with_real[] = { "dump", "--table", real, apid, NULL };
	const char *with_other[] = { "dump", "--table", other, apid, NULL };
	struct sa_header h = { 0 };
	struct trun r;
	json_object *root;
	int64_t v;
	pid_t child;
	int st;

	ok(dt_host_stop(&a) == 0, "dump-host under the shim exits 0 at stdin EOF");
	ok(access(a.table, F_OK) < 0 && errno == ENOENT, "precondition: its table is gone");
	ok(dt_expect_error("no such process", plain),
	   "dump <pid that exited, no table>: exit 2, one line");

	child = fork();
	if (child == 0)
		_exit(0);
	if (child < 0 || waitpid(child, &st, 0) != child)
		bail("fork/waitpid: %s", strerror(errno));
	snprintf(gone, sizeof(gone), "%d", (int)child);
	ok(dt_expect_error("no such process", gone_args),
	   "dump <reaped child, never had a table>: exit 2, one line");

	/* A table left at a dead pid's name is read when it is that pid's ... */
	dt_table_path(path, sizeof(path), a.pid, a.starttime);
	ok(dt_copy(real, path, 0600), "plant a's table back at its name");
	tlib_cli(&r, json);
	root = r.status == 0 ? dt_json_parse(r.out) : NULL;
	ok(root && dt_json_int(root, "pid", &v) && v == a.pid,
	   "control: dump --json <dead pid> reads the table it left (status %d %s)", r.status,
	   tlib_oneline(r.err));
	if (root)
		json_object_put(root);
	trun_free(&r);
	tlib_cli(&r, with_real);
	ok(r.status == 0 && r.nerr == 0, "control: dump --table COPY <dead pid> reads it (%s)",
	   tlib_oneline(r.err));
	trun_free(&r);

	/* ... and refused when it claims another pid. */
	if (dt_read_header(path, &h))
		h.pid = b.pid;
	ok(h.pid == b.pid && dt_write_header(path, &h), "rewrite it to claim pid %d", (int)b.pid);
	ok(dt_expect_error("belongs to pid", plain),
	   "dump <dead pid> with another pid's table at its name: exit 2, one line");
	snprintf(other, sizeof(other), "%s/claims-b", dt_dir);
	ok(dt_copy(path, other, 0600), "copy it");
	ok(dt_expect_error("belongs to pid", with_other),
	   "dump --table OTHER <dead pid>: exit 2, one line");
	unlink(path);
}

int main(int argc, char **argv)
{
	dt_init(argc, argv);
	if (!dt_host_start(&a, true))
		bail("dump-host did not start under the shim");
	if (!dt_host_start(&b, false))
		bail("dump-host did not start without the shim");
	snprintf(apid, sizeof(apid), "%d", (int)a.pid);
	snprintf(bpid, sizeof(bpid), "%d", (int)b.pid);
	snprintf(real, sizeof(real), "%s/real", dt_dir);
	if (!dt_copy(a.table, real, 0600))
		bail("cannot copy %s", a.table);
	diag("with table: %d (%s); without: %d", (int)a.pid, a.table, (int)b.pid);

	test_args();
	test_files();
	test_planted();
	test_gone();

	ok(dt_host_stop(&b) == 0, "dump-host without the shim exits 0 at stdin EOF");
	return dt_finish(tap_done());
}
