/* exec: the new image adopts the table (same uid, pid and start time),
 * keeps the record of a socket that survived (not CLOEXEC) as
 * inherited-exec with its old stack, and drops the CLOEXEC one. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"

static int after_exec(int keep, int gone)
{
	struct th_table t;
	const struct sa_slot *k;

	if (!ok(th_load(&t, getpid()), "new image found its table"))
		return tap_done();
	k = th_find(&t, keep);
	ok(t.s.hdr.generation == 2, "generation is 2 after one exec (got %u)", t.s.hdr.generation);
	ok(k && k->origin == SA_ORIGIN_INHERIT_EXEC, "non-CLOEXEC socket: inherited-exec");
	ok(k && k->open_stack != 0 && k->generation == 1,
	   "its open stack is kept, resolvable with generation 1's modules");
	ok(th_find(&t, gone) == NULL, "CLOEXEC socket: no record");
	{
		struct sa_module mods[64];
		size_t n = sa_reader_modules(&t.r, mods, 64);
		bool g1 = false, g2 = false;
		for (size_t i = 0; i < n; i++) {
			g1 |= mods[i].generation == 1;
			g2 |= mods[i].generation == 2;
		}
		ok(g1 && g2, "module log holds both images' modules");
	}
	th_unload(&t);
	ok(th_exact(getpid()), "table exact after exec");
	return tap_done();
}

int main(int argc, char **argv)
{
	int keep, gone;
	char a[16], b[16], c[16];

	if (argc == 5 && strcmp(argv[1], "--after-exec") == 0) {
		tap_count = atoi(argv[4]);   /* TAP numbering goes on across exec */
		return after_exec(atoi(argv[2]), atoi(argv[3]));
	}
	keep = socket(AF_INET, SOCK_STREAM, 0);
	gone = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok(th_exact(getpid()), "before exec: table exact");
	snprintf(a, sizeof(a), "%d", keep);
	snprintf(b, sizeof(b), "%d", gone);
	snprintf(c, sizeof(c), "%d", tap_count);
	fflush(stdout);
	execl("/proc/self/exe", argv[0], "--after-exec", a, b, c, (char *)NULL);
	bail("exec failed");
}
