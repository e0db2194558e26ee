#include "dt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"

const char *dt_sockaudit;
char dt_dir[PATH_MAX];
static const char *host_exe;

void dt_init(int argc, char **argv)
{
	if (argc != 5)
		bail("usage: %s SOCKAUDIT DUMP-HOST LIBSOCKAUDIT BUILD-DIR",
		     argc ? argv[0] : "test-dump");
	dt_sockaudit = argv[1];
	host_exe = argv[2];
	if (access(dt_sockaudit, X_OK) < 0 || access(host_exe, X_OK) < 0 ||
	    access(argv[3], R_OK) < 0)
		bail("sockaudit, dump-host or the shim is missing: %s", strerror(errno));
	tlib_set_cli(dt_sockaudit);
	tlib_cli_ms = DT_DEADLINE_MS;
	setenv("SOCKAUDIT_SHIM", argv[3], 1);
	snprintf(dt_dir, sizeof(dt_dir), "%s", tlib_case_dir(argv[4], "dump"));
	/* Error messages are matched in English. */
	setenv("LC_ALL", "C", 1);
	/* A host that died must fail a test point, not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
}

int dt_finish(int tap_status)
{
	return tlib_finish(tap_status);
}

/* In dump-host before exec: nslots follows the hard limit, so keep the
 * table (and every copy of it) small whatever the machine's limit. */
static void small_nofile(void *arg)
{
	struct rlimit rl;

	(void)arg;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_max > DT_HOST_NOFILE)
			rl.rlim_max = DT_HOST_NOFILE;
		if (rl.rlim_cur > rl.rlim_max)
			rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

bool dt_host_start(struct dt_host *h, bool shim)
{
	const struct tlib_spawn how = {
		.shim = shim, .ready = "ready", .setup = small_nofile, .name = "dump-host",
	};
	char *argv[] = { (char *)host_exe, NULL };

	memset(h, 0, sizeof(*h));
	h->pid = -1;
	if (!tlib_host_start(&h->h, &how, argv))
		return false;
	h->pid = h->h.pid;
	if (sscanf(h->h.ready, "ready pid=%*d listen=%d port=%d client=%d client_port=%d "
			       "accept=%d dup=%d pair=%d,%d",
		   &h->listen, &h->port, &h->client, &h->client_port, &h->accepted, &h->dup,
		   &h->pair[0], &h->pair[1]) != 8) {
		diag("dump-host: unexpected line \"%s\"", h->h.ready);
		dt_host_stop(h);
		return false;
	}
	if (!tlib_starttime(h->pid, &h->starttime)) {
		diag("dump-host %d: no start time", (int)h->pid);
		dt_host_stop(h);
		return false;
	}
	if (shim) {
		dt_table_path(h->table, sizeof(h->table), h->pid, h->starttime);
		if (access(h->table, F_OK) < 0) {
			diag("dump-host %d under the shim has no table at %s", (int)h->pid,
			     h->table);
			dt_host_stop(h);
			return false;
		}
	}
	return true;
}

int dt_host_stop(struct dt_host *h)
{
	int rc = tlib_host_stop(&h->h, 0, DT_DEADLINE_MS);

	tlib_host_free(&h->h);
	return rc;
}

bool dt_expect_error(const char *needle, const char *const *args)
{
	struct trun r;
	bool good;

	tlib_cli(&r, args);
	good = tlib_cli_error(&r, needle);
	if (!good)
		diag("command: sockaudit %s", tlib_argstr(args));
	trun_free(&r);
	return good;
}

void dt_table_path(char *buf, size_t len, pid_t pid, uint64_t starttime)
{
	tlib_table_path(buf, len, dt_dir, pid, starttime);
}

static bool copy_range(int in, int out, off_t from, off_t to)
{
	char chunk[65536];

	while (from < to) {
		size_t want = (size_t)(to - from) < sizeof(chunk) ? (size_t)(to - from)
								  : sizeof(chunk);
		ssize_t r = pread(in, chunk, want, from);

		if (r <= 0 || pwrite(out, chunk, (size_t)r, from) != r)
			return false;
		from += r;
	}
	return true;
}

bool dt_copy(const char *src, const char *dst, mode_t mode)
{
	struct stat st;
	int in, out;
	bool good = false;
	off_t pos = 0;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		diag("open %s: %s", src, strerror(errno));
		return false;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		diag("create %s: %s", dst, strerror(errno));
		close(in);
		return false;
	}
	if (fstat(in, &st) < 0 || ftruncate(out, st.st_size) < 0)
		goto out;
	while (pos < st.st_size) {
		off_t d = lseek(in, pos, SEEK_DATA), e;

		if (d < 0 && errno == ENXIO)
			break;          /* only a hole is left */
		if (d < 0) {            /* no SEEK_DATA here: copy it all */
			if (!copy_range(in, out, pos, st.st_size))
				goto out;
			break;
		}
		e = lseek(in, d, SEEK_HOLE);
		if (e < 0 || e > st.st_size)
			e = st.st_size;
		if (!copy_range(in, out, d, e))
			goto out;
		pos = e;
	}
	good = fchmod(out, mode) == 0;
out:
	if (!good)
		diag("copy %s to %s: %s", src, dst, strerror(errno));
	close(in);
	close(out);
	return good;
}

bool dt_read_at(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool good = fd >= 0 && pread(fd, buf, len, (off_t)off) == (ssize_t)len;

	if (!good)
		diag("read %zu bytes at %" PRIu64 " of %s failed", len, off, path);
	if (fd >= 0)
		close(fd);
	return good;
}

bool dt_write_at(const char *path, uint64_t off, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool good = fd >= 0 && pwrite(fd, buf, len, (off_t)off) == (ssize_t)len;

	if (!good)
		diag("write %zu bytes at %" PRIu64 " of %s failed", len, off, path);
	if (fd >= 0)
		close(fd);
	return good;
}

bool dt_read_header(const char *path, struct sa_header *h)
{
	return dt_read_at(path, 0, h, sizeof(*h));
}

bool dt_write_header(const char *path, const struct sa_header *h)
{
	return dt_write_at(path, 0, h, sizeof(*h));
}

int dt_proc_sockets(pid_t pid, int *fds, uint64_t *inodes, int max)
{
	char dir[64], path[64 + 256], link[128];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((e = readdir(d)) && n < max) {
		unsigned long long ino;
		ssize_t l;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		l = readlink(path, link, sizeof(link) - 1);
		if (l <= 0)
			continue;
		link[l] = '\0';
		if (sscanf(link, "socket:[%llu]", &ino) != 1)
			continue;
		fds[n] = atoi(e->d_name);
		inodes[n] = ino;
		n++;
	}
	closedir(d);
	return n;
}

json_object *dt_json_parse(const char *text)
{
	enum json_tokener_error jerr;
	json_object *o = json_tokener_parse_verbose(text, &jerr);

	if (!o)
		diag("not JSON (%s): %s", json_tokener_error_desc(jerr), tlib_oneline(text));
	else if (!json_object_is_type(o, json_type_object)) {
		diag("JSON is not an object: %s", tlib_oneline(text));
		json_object_put(o);
		o = NULL;
	}
	return o;
}

json_object *dt_json_record(json_object *root, int fd)
{
	json_object *recs, *r;
	int64_t v;

	if (!json_object_object_get_ex(root, "records", &recs) ||
	    !json_object_is_type(recs, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(recs); i++) {
		r = json_object_array_get_idx(recs, i);
		if (dt_json_int(r, "fd", &v) && v == fd)
			return r;
	}
	return NULL;
}

const char *dt_json_str(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

bool dt_json_int(json_object *o, const char *key, int64_t *out)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}
