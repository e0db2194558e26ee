/* findings: at the end, one struct report per process (post-mortem
 * symbolization from its module log, group_build), merged into run groups
 * by stack identity; suppressions, baseline and --fail-on decide which
 * groups fail. */
#pragma once

#include "run/baseline.h"
#include "run/model.h"
#include "run/suppress.h"

struct supp_set;
struct baseline;
void run_findings_build(struct run_state *rs, const struct supp_set *supp,
			const struct baseline *base);
void run_findings_finish(struct run_state *rs);
