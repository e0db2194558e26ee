/* tjson: see tjson.h. */
#include "tjson.h"

#include <string.h>

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
