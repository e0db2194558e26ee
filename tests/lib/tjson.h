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
