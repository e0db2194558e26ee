/* baseline: stack identities of an old run report (see baseline.h). The
 * document is parsed with json-c and checked for its schema; only
 * groups[].stack_id is used, so a baseline made before a rebuild still
 * matches after it (run-ident.c says why). */
#include "run/baseline.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/model.h"
#include "util/util.h"

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int baseline_load(struct baseline *b, const char *path, char *err, size_t errlen)
{
	json_object *root, *v, *groups;
	const char *schema;
	size_t n, k = 0;
	int rc = -1;

	memset(b, 0, sizeof(*b));
	root = json_object_from_file(path);
	if (!root) {
		snprintf(err, errlen, "--baseline %s: %s", path,
			 errno == ENOENT ? strerror(errno) : json_util_get_last_err());
		return -1;
	}
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "schema", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "--baseline %s: not a sockaudit run report (no schema)", path);
		goto out;
	}
	schema = json_object_get_string(v);
	if (strcmp(schema, RUN_SCHEMA) != 0) {
		snprintf(err, errlen, "--baseline %s: schema %s, expected %s (sockaudit run --json)",
			 path, schema, RUN_SCHEMA);
		goto out;
	}
	if (!json_object_object_get_ex(root, "groups", &groups) ||
	    !json_object_is_type(groups, json_type_array)) {
		snprintf(err, errlen, "--baseline %s: no groups array", path);
		goto out;
	}
	n = json_object_array_length(groups);
	b->ids = xcalloc(n ? n : 1, sizeof(b->ids[0]));
	for (size_t i = 0; i < n; i++) {
		json_object *g = json_object_array_get_idx(groups, i), *id;

		if (!json_object_is_type(g, json_type_object) ||
		    !json_object_object_get_ex(g, "stack_id", &id) ||
		    !json_object_is_type(id, json_type_string)) {
			snprintf(err, errlen, "--baseline %s: groups[%zu] has no stack_id string",
				 path, i);
			goto out;
		}
		b->ids[b->n++] = xstrdup(json_object_get_string(id));
	}
	if (b->n)
		qsort(b->ids, b->n, sizeof(b->ids[0]), str_cmp);
	for (size_t i = 0; i < b->n; i++) {
		if (k && strcmp(b->ids[k - 1], b->ids[i]) == 0) {
			free(b->ids[i]);
			continue;
		}
		b->ids[k++] = b->ids[i];
	}
	b->n = k;
	rc = 0;
out:
	json_object_put(root);
	if (rc < 0)
		baseline_finish(b);
	return rc;
}

bool baseline_has(const struct baseline *b, const char *stack_id)
{
	if (!b || !b->n)
		return false;
	return bsearch(&stack_id, b->ids, b->n, sizeof(b->ids[0]), str_cmp) != NULL;
}

void baseline_finish(struct baseline *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		free(b->ids[i]);
	free(b->ids);
	memset(b, 0, sizeof(*b));
}
