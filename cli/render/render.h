/* render: a built report (or list) as text for people or JSON for tools.
 * Renderers only turn the model into strings; every decision (what is
 * flagged, how groups sort) was made before. The JSON layout is versioned
 * and documented in docs/report-json.md. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct report;

#define RENDER_REPORT_SCHEMA "sockaudit.report/1"
#define RENDER_LIST_SCHEMA   "sockaudit.list/1"
#define RENDER_HOST_SCHEMA   "sockaudit.host/1"

void render_text(FILE *out, const struct report *rep, bool color);
/* Writes the report's JSON document and a newline; write errors show in
 * ferror(out). */
void render_json(FILE *out, const struct report *rep);
/* Print a json-c document (pretty, slashes unescaped) and release it. */
void render_json_print(FILE *out, json_object *root);

/* Pieces of the report renderers that `run` reuses for its own layout. */
struct report_sock;
struct sym_frame;
void render_text_frame(FILE *out, const struct sym_frame *f, bool color);
json_object *render_json_frame(const struct sym_frame *f);
json_object *render_json_sock(const struct report *rep, const struct report_sock *s);

/* `sockaudit report -A`: every process's report and the host's summary. */
struct report_host;
void render_host_text(FILE *out, const struct report_host *h, bool color);
void render_host_json(FILE *out, const struct report_host *h);
/* A socket's other end as its "peer_process" (NULL: null). */
struct jw;
struct report_peer;
void render_json_peer(struct jw *w, const struct report_peer *p);

/* `sockaudit list`: one row per audited process. */
struct list_entry {
	int pid;                        /* as we see it */
	int ns_pid;                     /* as it sees itself (its pid namespace) */
	bool other_ns;                  /* found by the namespace walk (list as root) */
	char container[160];            /* "runtime id", "" when none */
	uint64_t starttime;
	char path[4200];
	char command[1024];        /* == SA_CMDLINE_MAX */
	bool alive;
	bool readable;                  /* the table opened and validated */
	char error[512];                /* why not readable */
	size_t tracked, untracked, flagged, stale;
	bool removed;                   /* --gc removed it */
	char remove_error[200];         /* --gc wanted to, and could not */
};

/* `list --gc`: a run directory whose run and processes are all gone. */
struct list_run_dir {
	char path[4200];
	bool removed;
	char remove_error[200];         /* why it was not */
};

struct list_result {
	const char *dir;
	struct list_entry *v;
	size_t n;
	bool gc;
	size_t removed;
	struct list_run_dir *run_dirs;
	size_t nrun_dirs;
	uint64_t close_wait_ms, idle_ms;
};

void render_list_text(FILE *out, const struct list_result *l, bool color);
json_object *render_list_json(const struct list_result *l);
