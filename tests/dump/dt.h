/* The dump suite's layer on the shared harness (tests/lib/tlib.h): start
 * dump-host with or without the shim and read its ready line, run the
 * sockaudit binary under a deadline, and prepare table files (sparse
 * copies, header and slot patches) and read dump's records.
 *
 * Every test is run by meson as
 *   test-dump-X <sockaudit> <dump-host> <libsockaudit.so> <build dir>
 * and works in its own fresh directory under the build dir, which is also
 * SOCKAUDIT_DIR for everything it starts. Nothing here prints TAP points:
 * the helpers return what they saw and explain failures with diag(). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "table.h"
#include "tlib.h"

/* Deadline for one sockaudit run, for dump-host's ready line and for its
 * exit: far below the 60 s meson timeout, far above what any of it needs. */
#define DT_DEADLINE_MS 10000

/* dump-host's hard RLIMIT_NOFILE, hence its table's nslots. */
#define DT_HOST_NOFILE 4096

struct dt_host {
	struct tlib_host h;
	pid_t pid;               /* kept after it is reaped */
	uint64_t starttime;
	/* from its ready line */
	int listen, port, client, client_port, accepted, dup, pair[2];
	char table[4200];        /* its table (under the shim), else "" */
};

extern const char *dt_sockaudit;
extern char dt_dir[];

/* Parse argv, make the test directory, set SOCKAUDIT_DIR. Bails on error. */
void dt_init(int argc, char **argv);
/* Remove the test directory when every point passed, else keep it and say
 * where it is. Returns tap_done()'s status. */
int dt_finish(int tap_status);

/* Start dump-host (under the shim when `shim`), wait for its ready line. */
bool dt_host_start(struct dt_host *h, bool shim);
/* Close its stdin and reap it. Returns its exit status, -1 when it had to
 * be killed at the deadline. */
int dt_host_stop(struct dt_host *h);

/* The sockaudit binary runs with tlib_cli(), DT_DEADLINE_MS at most.
 * Run it, then tlib_cli_error(): exit 2, one "sockaudit: " line with
 * needle. */
bool dt_expect_error(const char *needle, const char *const *args);

/* "<dt_dir>/sockaudit.<euid>.<pid>.<starttime>" */
void dt_table_path(char *buf, size_t len, pid_t pid, uint64_t starttime);
/* Copy a (sparse) file, holes kept, to a new file of the given mode. */
bool dt_copy(const char *src, const char *dst, mode_t mode);
bool dt_read_at(const char *path, uint64_t off, void *buf, size_t len);
bool dt_write_at(const char *path, uint64_t off, const void *buf, size_t len);
bool dt_read_header(const char *path, struct sa_header *h);
bool dt_write_header(const char *path, const struct sa_header *h);

/* Sockets in /proc/<pid>/fd: fds and inodes, up to max. Returns the count
 * or -1. */
int dt_proc_sockets(pid_t pid, int *fds, uint64_t *inodes, int max);

/* JSON: parse an object (NULL with a diag), records[] entry for fd, typed
 * members. */
json_object *dt_json_parse(const char *text);
json_object *dt_json_record(json_object *root, int fd);
const char *dt_json_str(json_object *o, const char *key);
bool dt_json_int(json_object *o, const char *key, int64_t *v);
