/* poll: every --interval, the tables of the run joined with the kernel
 * (report_join_build), each (pid, inode) tracked across polls; a process
 * that ends leaves its at-exit set. */
#pragma once

#include <stdbool.h>

#include "run/model.h"

void run_poll(struct run_state *rs, bool final);
void run_proc_destroy(struct run_proc *p);
