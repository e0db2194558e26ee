/* metrics: the host report as a Prometheus or OpenMetrics page. */
#include "render/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/util.h"

/* A label value: backslash, double quote and newline escaped (both formats). */
static void put_label(FILE *f, const char *name, const char *v)
{
	fputs(name, f);
	fputs("=\"", f);
	/* Runs that need no escape in one write: a page has tens of
	 * thousands of labels. */
	for (;;) {
		size_t run = strcspn(v, "\\\"\n");

		fwrite(v, 1, run, f);
		v += run;
		if (!*v)
			break;
		fputs(*v == '\\' ? "\\\\" : *v == '"' ? "\\\"" : "\\n", f);
		v++;
	}
	fputc('"', f);
}

static void proc_labels(FILE *f, const struct scrape_proc *p)
{
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", (int)p->pid);
	put_label(f, "pid", pid);
	fputc(',', f);
	put_label(f, "comm", p->comm);
}

/* HELP and TYPE. OpenMetrics names a counter family without "_total". */
static void family(FILE *f, bool om, const char *name, const char *type, const char *help)
{
	char fam[128];
	size_t n = strlen(name);

	snprintf(fam, sizeof(fam), "%s", name);
	if (om && strcmp(type, "counter") == 0 && n > 6 && strcmp(name + n - 6, "_total") == 0)
		fam[n - 6] = '\0';
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", fam, help, fam, type);
}

char *render_metrics(const struct scrape_report *h, bool om, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (!f)
		die("out of memory");
	family(f, om, "sockaudit_sockets", "gauge",
	       "Sockets an audited process holds, by state.");
	for (size_t i = 0; i < h->nprocs; i++) {
		const struct scrape_proc *p = &h->procs[i];

		for (size_t k = 0; k < p->nstates; k++) {
			fputs("sockaudit_sockets{", f);
			proc_labels(f, p);
			fputc(',', f);
			put_label(f, "state", p->states[k].name);
			fprintf(f, "} %zu\n", p->states[k].n);
		}
	}
	family(f, om, "sockaudit_flagged_sockets", "gauge",
	       "Sockets the leak rule flags, by kind and by the site that opened them.");
	for (size_t i = 0; i < h->nprocs; i++) {
		const struct scrape_proc *p = &h->procs[i];

		for (size_t k = 0; k < p->nflags; k++) {
			fputs("sockaudit_flagged_sockets{", f);
			proc_labels(f, p);
			fputc(',', f);
			put_label(f, "kind", p->flags[k].kind);
			fputc(',', f);
			put_label(f, "site", p->flags[k].site);
			fprintf(f, "} %zu\n", p->flags[k].n);
		}
	}
	family(f, om, "sockaudit_site_opened_total", "counter",
	       "Descriptors opened at a call site since the process started.");
	for (size_t i = 0; i < h->nprocs; i++) {
		const struct scrape_proc *p = &h->procs[i];

		for (size_t k = 0; k < p->nsites; k++) {
			fputs("sockaudit_site_opened_total{", f);
			proc_labels(f, p);
			fputc(',', f);
			put_label(f, "site", p->sites[k].site);
			fprintf(f, "} %llu\n", (unsigned long long)p->sites[k].opened);
		}
	}
	family(f, om, "sockaudit_site_closed_total", "counter",
	       "Descriptors opened at a call site and closed again.");
	for (size_t i = 0; i < h->nprocs; i++) {
		const struct scrape_proc *p = &h->procs[i];

		for (size_t k = 0; k < p->nsites; k++) {
			fputs("sockaudit_site_closed_total{", f);
			proc_labels(f, p);
			fputc(',', f);
			put_label(f, "site", p->sites[k].site);
			fprintf(f, "} %llu\n", (unsigned long long)p->sites[k].closed);
		}
	}
	family(f, om, "sockaudit_site_collected_total", "counter",
	       "Of those closed again, the ones a garbage collector or finalizer closed, not the program.");
	for (size_t i = 0; i < h->nprocs; i++) {
		const struct scrape_proc *p = &h->procs[i];

		for (size_t k = 0; k < p->nsites; k++) {
			fputs("sockaudit_site_collected_total{", f);
			proc_labels(f, p);
			fputc(',', f);
			put_label(f, "site", p->sites[k].site);
			fprintf(f, "} %llu\n", (unsigned long long)p->sites[k].collected);
		}
	}
	family(f, om, "sockaudit_processes", "gauge",
	       "Audited processes read in this scrape.");
	fprintf(f, "sockaudit_processes %zu\n", h->nprocs);
	family(f, om, "sockaudit_unreadable_processes", "gauge",
	       "Running audited processes whose table or descriptors could not be read.");
	fprintf(f, "sockaudit_unreadable_processes %zu\n", h->unreadable);
	family(f, om, "sockaudit_scrape_duration_seconds", "gauge",
	       "Time this scrape took to read every audited process.");
	fprintf(f, "sockaudit_scrape_duration_seconds %.6f\n", h->duration_s);
	if (om)
		fputs("# EOF\n", f);
	if (fclose(f) != 0)
		die("out of memory");
	*len = n;
	return buf;
}

bool render_metrics_wants_openmetrics(const char *accept)
{
	const char *om, *text;

	if (!accept)
		return false;
	om = strcasestr(accept, "application/openmetrics-text");
	if (!om)
		return false;
	/* Prometheus lists what it prefers first; q-values aside, the
	 * earlier of the two wins. */
	text = strcasestr(accept, "text/plain");
	return !text || om < text;
}
