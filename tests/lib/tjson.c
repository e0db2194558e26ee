/* tjson: see tjson.h. */
#include "tjson.h"

#include <stdio.h>
#include <string.h>

#include "../tap.h"

json_object *tj_get(json_object *o, const char *path)
{
	char key[128];

	while (o && *path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(key) || !json_object_is_type(o, json_type_object))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		path += n + (path[n] == '.');
	}
	return o;
}

int64_t tj_int(json_object *o, const char *path, int64_t dflt)
{
	json_object *v = tj_get(o, path);

	return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : dflt;
}

bool tj_bool(json_object *o, const char *path)
{
	json_object *v = tj_get(o, path);

	return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

const char *tj_str(json_object *o, const char *path)
{
	json_object *v = tj_get(o, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

bool tj_str_is(json_object *o, const char *path, const char *want)
{
	const char *v = tj_str(o, path);

	return v && strcmp(v, want) == 0;
}

size_t tj_len(json_object *o, const char *path)
{
	json_object *a = tj_get(o, path);

	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

bool tj_first_frame(json_object *group, const char **function, const char **file_base,
		    long *line)
{
	json_object *f;
	const char *path, *base;

	if (!tj_len(group, "frames"))
		return false;
	f = json_object_array_get_idx(tj_get(group, "frames"), 0);
	*function = tj_str(f, "function");
	path = tj_str(f, "file");
	base = path ? strrchr(path, '/') : NULL;
	*file_base = base ? base + 1 : path;
	*line = (long)tj_int(f, "line", -1);
	return true;
}

json_object *tj_sock_with_fd(json_object *socks, int fd)
{
	size_t n;

	if (!socks || !json_object_is_type(socks, json_type_array))
		return NULL;
	n = json_object_array_length(socks);
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(socks, i);
		json_object *fds = tj_get(s, "fds");
		size_t m = tj_len(s, "fds");

		for (size_t k = 0; k < m; k++)
			if (json_object_get_int(json_object_array_get_idx(fds, k)) == fd)
				return s;
	}
	return NULL;
}

json_object *tj_group_with_fd(json_object *root, int fd)
{
	json_object *groups = tj_get(root, "groups");
	size_t n = tj_len(root, "groups");

	for (size_t i = 0; i < n; i++) {
		json_object *g = json_object_array_get_idx(groups, i);

		if (tj_sock_with_fd(tj_get(g, "sockets"), fd))
			return g;
	}
	return NULL;
}

json_object *tj_grouped_sock(json_object *root, int fd)
{
	json_object *g = tj_group_with_fd(root, fd);

	return g ? tj_sock_with_fd(tj_get(g, "sockets"), fd) : NULL;
}

bool tj_frame_is(json_object *group, const char *func, const char *file, long line)
{
	const char *fn, *base;
	long l;

	if (!tj_first_frame(group, &fn, &base, &l)) {
		diag("group has no frames");
		return false;
	}
	if (fn && base && strcmp(fn, func) == 0 && strcmp(base, file) == 0 && l == line)
		return true;
	diag("first frame: %s at %s:%ld, expected %s at %s:%ld", fn ? fn : "??",
	     base ? base : "?", l, func, file, line);
	return false;
}

bool tj_last_frame_is(json_object *group, const char *func, int64_t min_below)
{
	json_object *frames = tj_get(group, "frames");
	size_t n = tj_len(group, "frames");
	const char *fn = n ? tj_str(json_object_array_get_idx(frames, n - 1), "function") : NULL;
	int64_t below = tj_int(group, "frames_trimmed_below", -1);

	if (fn && strcmp(fn, func) == 0 && below >= min_below)
		return true;
	diag("last frame: %s, frames_trimmed_below %lld; expected %s and at least %lld",
	     fn ? fn : "??", (long long)below, func, (long long)min_below);
	return false;
}
