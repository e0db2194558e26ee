/* Creating the table file or adopting an earlier image's (table-file.c). */
#pragma once

#include "shim.h"

/* Returns 0 for a new table, 1 for an adopted one, or -errno. */
int shim_table_create(bool adopt_existing) SHIM_HIDDEN;
