/* What the per-site counts' atomic adds cost when threads share the cache
 * line they add to, against lines of their own: one operation is the two
 * relaxed adds of a counted socket()+close() (opened, then closed), on
 * one 32-byte cell all threads share (COUNT_LINES=shared: the abi-3
 * layout, one entry per site) or on each thread's cell 512 bytes apart
 * (the default: abi 4's shards). No shim, no system call: run it with
 * -j 1 and -j 2 and compare ns per operation (docs/performance.md). */
#include "bench.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define SHARD_STRIDE 512   /* bytes between two shards' cells of one stack */

static _Alignas(4096) _Atomic uint64_t cells[16 * SHARD_STRIDE / sizeof(uint64_t)];
static int shared;

static void *count_setup(int id)
{
	return (void *)&cells[shared ? 0 : (size_t)id * SHARD_STRIDE / sizeof(uint64_t)];
}

static int count_op(void *ctx)
{
	_Atomic uint64_t *c = ctx;

	atomic_fetch_add_explicit(&c[0], 1, memory_order_relaxed);   /* opened */
	atomic_fetch_add_explicit(&c[1], 1, memory_order_relaxed);   /* closed */
	return 0;
}

int main(int argc, char **argv)
{
	static const struct bench_spec spec = {
		.name = "count-lines",
		.setup = count_setup,
		.op = count_op,
	};
	const char *mode = getenv("COUNT_LINES");
	struct bench_opts o;

	shared = mode && strcmp(mode, "shared") == 0;
	bench_parse(argc, argv, &o);
	return bench_main(&spec, &o);
}
