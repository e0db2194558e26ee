/* suppress: parse, match and generate suppression entries (see suppress.h
 * and docs/ci.md). Line-based on purpose: an entry is easy to write by hand,
 * to diff in review, and to generate. */
#include "run/suppress.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "run/kind.h"
#include "util/util.h"

struct parser {
	struct supp_set *set;
	const char *name;
	unsigned line;
	char *err;
	size_t errlen;
	bool open;
	struct supp_entry cur;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, p->line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static void frame_free(struct supp_frame *f)
{
	free(f->fun);
	free(f->file);
	free(f->module);
	memset(f, 0, sizeof(*f));
}

static void entry_free(struct supp_entry *e)
{
	free(e->name);
	free(e->command);
	frame_free(&e->top);
	for (size_t i = 0; i < e->nframes; i++)
		frame_free(&e->frames[i]);
	free(e->frames);
	memset(e, 0, sizeof(*e));
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* "fun=GLOB file=GLOB module=GLOB", at least one, each at most once. */
static int parse_frame(struct parser *p, char *v, struct supp_frame *f)
{
	char *save = NULL, *tok;

	memset(f, 0, sizeof(*f));
	for (tok = strtok_r(v, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '='), **slot;

		if (!eq || eq == tok || !eq[1])
			return fail(p, "expected fun=GLOB, file=GLOB or module=GLOB, got '%s'", tok);
		*eq = '\0';
		if (strcmp(tok, "fun") == 0)
			slot = &f->fun;
		else if (strcmp(tok, "file") == 0)
			slot = &f->file;
		else if (strcmp(tok, "module") == 0)
			slot = &f->module;
		else
			return fail(p, "unknown frame key '%s' (fun, file or module)", tok);
		if (*slot)
			return fail(p, "'%s' given twice", tok);
		*slot = xstrdup(eq + 1);
	}
	if (!f->fun && !f->file && !f->module)
		return fail(p, "empty frame pattern");
	return 0;
}

static int entry_line(struct parser *p, char *line)
{
	struct supp_entry *e = &p->cur;
	char *colon = strchr(line, ':'), *key, *v;
	struct supp_frame f;

	if (!colon)
		return fail(p, "expected 'key: value' or '}'");
	*colon = '\0';
	key = trim(line);
	v = trim(colon + 1);
	if (!*v)
		return fail(p, "'%s' has no value", key);
	if (strcmp(key, "name") == 0) {
		if (e->name)
			return fail(p, "a second name");
		e->name = xstrdup(v);
	} else if (strcmp(key, "kind") == 0) {
		if (run_kind_list_parse(v, &e->kinds, true) < 0 || !e->kinds)
			return fail(p, "bad kind '%s' (close-wait, idle, at-exit or *)", v);
	} else if (strcmp(key, "command") == 0) {
		if (e->command)
			return fail(p, "a second command");
		e->command = xstrdup(v);
	} else if (strcmp(key, "top") == 0) {
		if (e->has_top)
			return fail(p, "a second top");
		if (parse_frame(p, v, &e->top) < 0)
			return -1;
		e->has_top = true;
	} else if (strcmp(key, "frame") == 0) {
		if (parse_frame(p, v, &f) < 0)
			return -1;
		e->frames = xrealloc(e->frames, (e->nframes + 1) * sizeof(e->frames[0]));
		e->frames[e->nframes++] = f;
	} else {
		return fail(p, "unknown key '%s' (name, kind, command, top, frame)", key);
	}
	return 0;
}

static int close_entry(struct parser *p)
{
	struct supp_set *s = p->set;

	if (!p->cur.name)
		return fail(p, "entry without a name");
	/* An entry without frame patterns would silence every leak of a kind. */
	if (!p->cur.has_top && !p->cur.nframes)
		return fail(p, "entry '%s' has no top: or frame: pattern", p->cur.name);
	if (!p->cur.kinds)
		p->cur.kinds = (1u << RUN_KIND_MAX) - 1;
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(s->v[0]));
	s->v[s->n++] = p->cur;
	memset(&p->cur, 0, sizeof(p->cur));
	p->open = false;
	return 0;
}

int supp_load_text(struct supp_set *s, const char *name, const char *text, char *err,
		   size_t errlen)
{
	struct parser p = { .set = s, .name = name, .err = err, .errlen = errlen };
	_cleanup_free_ char *copy = xstrdup(text);
	char *save = NULL, *raw;
	int rc = 0;

	/* strtok_r would skip empty lines and lose the count: split by hand. */
	for (raw = copy; raw; raw = save) {
		char *line;

		save = strchr(raw, '\n');
		if (save)
			*save++ = '\0';
		p.line++;
		line = trim(raw);
		if (!*line || *line == '#')
			continue;
		if (strcmp(line, "{") == 0) {
			if (p.open) {
				rc = fail(&p, "'{' inside an entry (missing '}')");
				break;
			}
			p.open = true;
			snprintf(p.cur.where, sizeof(p.cur.where), "%s:%u", name, p.line);
			continue;
		}
		if (strcmp(line, "}") == 0) {
			if (!p.open) {
				rc = fail(&p, "'}' without '{'");
				break;
			}
			if ((rc = close_entry(&p)) < 0)
				break;
			continue;
		}
		if (!p.open) {
			rc = fail(&p, "expected '{' to open an entry");
			break;
		}
		if ((rc = entry_line(&p, line)) < 0)
			break;
	}
	if (!rc && p.open)
		rc = fail(&p, "entry opened at %s is not closed", p.cur.where);
	entry_free(&p.cur);
	return rc;
}

int supp_load_file(struct supp_set *s, const char *path, char *err, size_t errlen)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	do {
		if (len + 4096 + 1 > cap) {
			cap = (len + 4096 + 1) * 2;
			buf = xrealloc(buf, cap);
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf = xrealloc(buf, len + 1);
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		snprintf(err, errlen, "%s: not a text file", path);
		return -1;
	}
	return supp_load_text(s, path, buf, err, errlen);
}

void supp_set_finish(struct supp_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		entry_free(&s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static const char *base_of(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/* A path glob with a '/' is matched against the whole path, one without
 * against the basename: "client.c" and "*\/src/client.c" both work. */
static bool path_match(const char *glob, const char *path)
{
	if (!path)
		return false;
	if (strchr(glob, '/'))
		return fnmatch(glob, path, 0) == 0;
	return fnmatch(glob, base_of(path), 0) == 0;
}

bool supp_frame_match(const struct supp_frame *p, const struct sym_frame *f)
{
	/* The readable name, or the linkage name of a C++ or Rust frame (what
	 * valgrind's suppressions name). */
	if (p->fun && (!f->function || fnmatch(p->fun, f->function, 0) != 0) &&
	    (!f->linkage || fnmatch(p->fun, f->linkage, 0) != 0))
		return false;
	if (p->file && !path_match(p->file, f->file))
		return false;
	if (p->module && !path_match(p->module, f->module))
		return false;
	return true;
}

static bool entry_match(const struct supp_entry *e, unsigned kind, const char *const *commands,
			size_t ncommands, const struct sym_frame *frames, size_t nframes)
{
	if (!(e->kinds & (1u << kind)))
		return false;
	if (e->command) {
		bool any = false;

		for (size_t i = 0; i < ncommands && !any; i++)
			any = fnmatch(e->command, commands[i], 0) == 0;
		if (!any)
			return false;
	}
	if (e->has_top && (!nframes || !supp_frame_match(&e->top, &frames[0])))
		return false;
	for (size_t i = 0; i < e->nframes; i++) {
		bool any = false;

		for (size_t k = 0; k < nframes && !any; k++)
			any = supp_frame_match(&e->frames[i], &frames[k]);
		if (!any)
			return false;
	}
	return true;
}

const struct supp_entry *supp_match(const struct supp_set *s, unsigned kind,
				    const char *const *commands, size_t ncommands,
				    const struct sym_frame *frames, size_t nframes)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (entry_match(&s->v[i], kind, commands, ncommands, frames, nframes))
			return &s->v[i];
	return NULL;
}

/* libc and the dynamic loader sit below main in every stack: naming them
 * adds nothing and ties the entry to one libc. */
static bool system_frame(const struct sym_frame *f)
{
	const char *b = f->module ? base_of(f->module) : "";

	return strncmp(b, "libc.so", 7) == 0 || strncmp(b, "ld-linux", 8) == 0;
}

/* Globs treat * ? [ specially: escape them in names taken literally. */
static void put_glob(FILE *out, const char *key, const char *s)
{
	fprintf(out, " %s=", key);
	for (; *s; s++) {
		if (*s == '*' || *s == '?' || *s == '[' || *s == '\\')
			fputc('\\', out);
		/* A space would end the pattern: match it with '?'. */
		fputc(isspace((unsigned char)*s) ? '?' : *s, out);
	}
}

static void put_frame(FILE *out, const char *key, const struct sym_frame *f)
{
	fprintf(out, "   %s:", key);
	if (f->function)
		put_glob(out, "fun", f->function);
	if (f->file)
		put_glob(out, "file", base_of(f->file));
	if (!f->function && f->module)
		put_glob(out, "module", base_of(f->module));
	fputc('\n', out);
}

#define SUPP_GEN_FRAMES 6

void supp_print(FILE *out, const char *name, const char *kind, const struct sym_frame *frames,
		size_t nframes)
{
	size_t shown = 0;

	if (!nframes) {
		fprintf(out, "# %s has no stack: it cannot be suppressed by frames\n", name);
		return;
	}
	fprintf(out, "{\n   name: %s\n   kind: %s\n", name, kind);
	put_frame(out, "top", &frames[0]);
	for (size_t i = 1; i < nframes && shown < SUPP_GEN_FRAMES - 1; i++) {
		if (system_frame(&frames[i]) || (!frames[i].function && !frames[i].module))
			continue;
		put_frame(out, "frame", &frames[i]);
		shown++;
	}
	fputs("}\n", out);
}
