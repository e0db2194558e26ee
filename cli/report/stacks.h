/* stacks: each socket's stack identity, read from the table. */
#pragma once

#include <stdbool.h>

#include "report/join.h"
#include "table-reader.h"

/* Fill each socket's stack identity from the table. */
void report_stacks_read(struct report_join *j, struct sa_reader *r, const struct sa_header *hdr,
			bool instrumented);
