/* Creating the table file or adopting an earlier image's (table-file.c). */
#pragma once

#include "shim.h"

/* Returns 0 for a new table, 1 for an adopted one, or -errno. */
int shim_table_create(bool adopt_existing) SHIM_HIDDEN;
/* Give the table to uid: file owner, name and header. 0 or -errno (then the
 * table is as it was). Needs the right to chown (CAP_CHOWN). */
int shim_table_give(uint32_t uid) SHIM_HIDDEN;
