/* metrics: a host report (report/scrape.h) as a Prometheus text exposition
 * page (version 0.0.4) or as OpenMetrics 1.0.0. docs/monitoring.md says
 * what each metric means. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "report/scrape.h"

#define RENDER_METRICS_TYPE_PROM "text/plain; version=0.0.4; charset=utf-8"
#define RENDER_METRICS_TYPE_OM   "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* The page, NUL-terminated, malloc'ed (*len bytes without the NUL). */
char *render_metrics(const struct scrape_report *h, bool openmetrics, size_t *len);
/* Does an Accept header ask for OpenMetrics (before the text format)? NULL:
 * no. Pure. */
bool render_metrics_wants_openmetrics(const char *accept);
