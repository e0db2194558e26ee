/* dir: the private directory of a `sockaudit run`,
 * "sockaudit-run.<16 hex digits>" in the table directory, and the file in it
 * that names the run that made it, "owner.<pid>.<starttime>": once that
 * process and every process with a table inside are gone, `list --gc` may
 * remove the directory (a run killed with SIGKILL cannot). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "table.h"

#define RUN_DIR_PREFIX SA_RUN_DIR_PREFIX
#define RUN_DIR_ID_LEN 16

bool run_dir_name_ok(const char *name);
/* Returns 0, or -1 when buf is too small. */
int run_owner_name(char *buf, size_t len, pid_t pid, uint64_t starttime);
/* Returns 0, or -1 when name is not an owner marker. */
int run_owner_parse(const char *name, int32_t *pid, uint64_t *starttime);
