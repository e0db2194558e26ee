/* tjson: reading the JSON documents the tests get from sockaudit, by dotted
 * path ("summary.flagged", "states.CLOSE_WAIT.count"). Missing keys and
 * values of another type read as NULL, false, 0-length or the default. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

json_object *tj_get(json_object *o, const char *path);
int64_t tj_int(json_object *o, const char *path, int64_t dflt);
bool tj_bool(json_object *o, const char *path);
const char *tj_str(json_object *o, const char *path);
bool tj_str_is(json_object *o, const char *path, const char *want);
/* Elements of the array at path, 0 when it is not an array. */
size_t tj_len(json_object *o, const char *path);
/* A report group's first frame: its function, the basename of its file,
 * its line (-1 when unknown). False when the group has no frame. */
bool tj_first_frame(json_object *group, const char **function, const char **file_base,
		    long *line);

/* sockaudit.report/1 documents. The socket with that fd in a socket array,
 * or NULL. */
json_object *tj_sock_with_fd(json_object *socks, int fd);
/* The group whose sockets include fd, or NULL. */
json_object *tj_group_with_fd(json_object *root, int fd);
/* groups[].sockets[] entry for fd, anywhere; NULL when not in any group. */
json_object *tj_grouped_sock(json_object *root, int fd);
/* A group's first frame is func in file (basename) at line; a mismatch is
 * explained with a TAP diagnostic. */
bool tj_frame_is(json_object *group, const char *func, const char *file, long line);
/* The outermost frame shown is func, and at least min_below frames below
 * it (libc's start-up or thread entry, _start) were left out. */
bool tj_last_frame_is(json_object *group, const char *func, int64_t min_below);
