/* list: `sockaudit list` as a table or as "sockaudit.list/1". */
#include "render/render.h"

#include "config.h"
#include "util/util.h"

void render_list_text(FILE *out, const struct list_result *l, bool color)
{
	const char *red = color ? "\033[1;31m" : "", *dim = color ? "\033[2m" : "";
	const char *reset = color ? "\033[0m" : "";
	char cw[32], idle[32];
	size_t dead = 0;

	format_duration(l->close_wait_ms, cw, sizeof(cw));
	format_duration(l->idle_ms, idle, sizeof(idle));
	bool any_ns = false;

	for (size_t i = 0; i < l->n; i++)
		any_ns = any_ns || l->v[i].other_ns;
	/* A pid namespace's own pid beside ours, only when some process has
	 * one: the usual list stays as it was. */
	if (any_ns)
		fprintf(out, "%-8s %-6s ", "PID", "NSPID");
	else
		fprintf(out, "%-8s ", "PID");
	fprintf(out, "%-6s %8s %10s %8s %6s  %s\n", "STATE", "TRACKED", "UNTRACKED",
		"FLAGGED", "STALE", "COMMAND");
	for (size_t i = 0; i < l->n; i++) {
		const struct list_entry *e = &l->v[i];

		fprintf(out, "%-8d ", e->pid);
		if (any_ns)
			fprintf(out, "%-6d ", e->ns_pid);
		if (!e->alive)
			dead++;
		if (!e->readable) {
			fprintf(out, "%-6s %s%s%s\n", e->alive ? "alive" : "gone", dim, e->error,
				reset);
		} else if (!e->alive) {
			fprintf(out, "%-6s %8zu %10s %8s %6s  %s\n", "gone", e->tracked, "-", "-",
				"-", e->command);
		} else {
			fprintf(out, "%-6s %8zu %10zu %s%8zu%s %6zu  %s\n", "alive", e->tracked,
				e->untracked, e->flagged ? red : "", e->flagged,
				e->flagged ? reset : "", e->stale, e->command);
		}
		if (e->container[0])
			fprintf(out, "         %scontainer %s%s\n", dim, e->container, reset);
		else if (e->other_ns)
			fprintf(out, "         %sin another namespace, table %s%s\n", dim, e->path,
				reset);
		if (e->removed)
			fprintf(out, "         %sremoved %s%s\n", dim, e->path, reset);
		else if (e->remove_error[0])
			fprintf(out, "         %snot removed: %s%s\n", dim, e->remove_error, reset);
	}
	for (size_t i = 0; i < l->nrun_dirs; i++) {
		const struct list_run_dir *d = &l->run_dirs[i];

		if (d->removed)
			fprintf(out, "%sremoved %s: its run and every process in it are gone%s\n",
				dim, d->path, reset);
		else
			fprintf(out, "%snot removed: %s: %s%s\n", dim, d->path, d->remove_error,
				reset);
	}
	fprintf(out, "%s%zu audited %s in %s; flagged: CLOSE_WAIT >= %s, idle >= %s%s\n", dim, l->n,
		l->n == 1 ? "process" : "processes", l->dir, cw, idle, reset);
	if (dead && !l->gc)
		fprintf(out, "%s%zu %s left by processes that are gone: sockaudit list --gc "
			"removes them%s\n", dim, dead, dead == 1 ? "table" : "tables", reset);
}

json_object *render_list_json(const struct list_result *l)
{
	json_object *root = json_object_new_object(), *a = json_object_new_array(), *o;

	json_object_object_add(root, "schema", json_object_new_string(RENDER_LIST_SCHEMA));
	json_object_object_add(root, "version", json_object_new_string(SOCKAUDIT_VERSION));
	json_object_object_add(root, "dir", json_object_new_string(l->dir));
	o = json_object_new_object();
	json_object_object_add(o, "close_wait_ms", json_object_new_uint64(l->close_wait_ms));
	json_object_object_add(o, "idle_ms", json_object_new_uint64(l->idle_ms));
	json_object_object_add(o, "gc", json_object_new_boolean(l->gc));
	json_object_object_add(root, "options", o);
	for (size_t i = 0; i < l->n; i++) {
		const struct list_entry *e = &l->v[i];
		bool counted = e->readable;

		o = json_object_new_object();
		json_object_object_add(o, "pid", json_object_new_int(e->pid));
		json_object_object_add(o, "ns_pid", json_object_new_int(e->ns_pid));
		json_object_object_add(o, "other_namespace", json_object_new_boolean(e->other_ns));
		json_object_object_add(o, "container", e->container[0]
				       ? json_object_new_string(e->container) : json_object_new_null());
		json_object_object_add(o, "starttime", json_object_new_uint64(e->starttime));
		json_object_object_add(o, "table", json_object_new_string(e->path));
		json_object_object_add(o, "command", json_object_new_string(e->command));
		json_object_object_add(o, "alive", json_object_new_boolean(e->alive));
		json_object_object_add(o, "readable", json_object_new_boolean(e->readable));
		json_object_object_add(o, "error", e->readable ? json_object_new_null()
							      : json_object_new_string(e->error));
		json_object_object_add(o, "tracked", counted ? json_object_new_uint64(e->tracked)
							    : json_object_new_null());
		counted = counted && e->alive;
		json_object_object_add(o, "untracked", counted ? json_object_new_uint64(e->untracked)
							      : json_object_new_null());
		json_object_object_add(o, "flagged", counted ? json_object_new_uint64(e->flagged)
							    : json_object_new_null());
		json_object_object_add(o, "stale", counted ? json_object_new_uint64(e->stale)
							  : json_object_new_null());
		json_object_object_add(o, "removed", json_object_new_boolean(e->removed));
		json_object_object_add(o, "remove_error",
				       e->remove_error[0] ? json_object_new_string(e->remove_error)
							  : json_object_new_null());
		json_object_array_add(a, o);
	}
	json_object_object_add(root, "processes", a);
	json_object_object_add(root, "removed", json_object_new_uint64(l->removed));
	a = json_object_new_array();
	for (size_t i = 0; i < l->nrun_dirs; i++) {
		const struct list_run_dir *d = &l->run_dirs[i];

		o = json_object_new_object();
		json_object_object_add(o, "path", json_object_new_string(d->path));
		json_object_object_add(o, "removed", json_object_new_boolean(d->removed));
		json_object_object_add(o, "remove_error",
				       d->removed ? json_object_new_null()
						  : json_object_new_string(d->remove_error));
		json_object_array_add(a, o);
	}
	json_object_object_add(root, "run_dirs", a);
	return root;
}
