/* fuzz-gopclntab: cli/symbolize/gopclntab.c on hostile bytes, as a Go binary
 * from an untrusted container would give them.
 *
 * Input (fuzz/gopcln-synth.h): a 4-byte little-endian split, then two
 * segments, [0, split) at GS_SEG0 and the rest at GS_SEG1. Each segment is
 * copied to a heap block of exactly its size, so an over-read is an ASan
 * report. The table is parsed at GS_SEG0 and also looked for by scanning;
 * for each table found, every pc of the first 4 KiB of text and a few
 * beyond is looked up, and each function name is looked up by range.
 *
 * Checked besides ASan and UBSan: no more frames than asked for; every
 * frame but the last is inlined and the last is not; every string handed
 * out lies inside a segment with its NUL; lines are not negative and come
 * with a file; a function found by name covers a non-empty range. (In a
 * hostile table two functions may share a name or an entry, so a name's
 * range need not resolve back to it: tests/cli/test-gopclntab.c checks
 * that on well-formed tables.)
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "gopcln-synth.h"
#include "symbolize/gopclntab.h"

static const struct gopcln_seg *g_segs;
static size_t g_nsegs;

static bool in_image(const char *s)
{
	const uint8_t *p = (const uint8_t *)s;

	for (size_t i = 0; i < g_nsegs; i++)
		if (p >= g_segs[i].data && p < g_segs[i].data + g_segs[i].size)
			return memchr(p, 0, g_segs[i].size - (size_t)(p - g_segs[i].data)) != NULL;
	return false;
}

static void check_frames(const struct gopcln *t, uint64_t pc)
{
	struct gopcln_frame fr[GOPCLN_MAX_FRAMES];
	size_t max = 1 + pc % GOPCLN_MAX_FRAMES;
	size_t n = gopcln_lookup(t, pc, fr, max);

	FUZZ_CHECK(n <= max, "%zu frames for room %zu", n, max);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(fr[i].inlined == (i + 1 < n), "frame %zu of %zu inlined=%d", i, n,
			   fr[i].inlined);
		FUZZ_CHECK(!fr[i].function || in_image(fr[i].function), "name outside the image");
		FUZZ_CHECK(!fr[i].file || in_image(fr[i].file), "file outside the image");
		FUZZ_CHECK(fr[i].line >= 0, "line %d", fr[i].line);
		FUZZ_CHECK(fr[i].file || fr[i].line == 0, "a line without a file");
	}
	/* By name: a linear walk, so not at every pc. */
	if (n && fr[n - 1].function && pc % 64 == 0) {
		uint64_t lo, hi;

		if (gopcln_func_range(t, fr[n - 1].function, &lo, &hi))
			FUZZ_CHECK(lo < hi, "empty range for %s", fr[n - 1].function);
	}
}

static void exercise(const struct gopcln *t)
{
	uint64_t lo, hi;

	for (uint64_t off = 0; off < 4096; off++)
		check_frames(t, t->text + off);
	check_frames(t, t->text - 1);
	check_frames(t, t->text + 0xffffffffull);
	check_frames(t, UINT64_MAX);
	if (gopcln_func_range(t, "runtime.runfinq", &lo, &hi))
		FUZZ_CHECK(lo < hi, "empty runtime.runfinq");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *d0, *d1;
	size_t n0, n1;
	struct gopcln_seg segs[2];
	struct gopcln t;
	const char *why;
	uint8_t *c0, *c1;

	if (!gs_split(data, size, &d0, &n0, &d1, &n1))
		return 0;
	/* malloc(0) may give NULL: keep one byte, the segment size stays. */
	c0 = malloc(n0 + !n0);
	c1 = malloc(n1 + !n1);
	if (!c0 || !c1)
		fuzz_abort();
	memcpy(c0, d0, n0);
	memcpy(c1, d1, n1);
	segs[0] = (struct gopcln_seg){ GS_SEG0, c0, n0 };
	segs[1] = (struct gopcln_seg){ GS_SEG1, c1, n1 };
	g_segs = segs;
	g_nsegs = 2;
	if (gopcln_parse(segs, 2, GS_SEG0, &t, &why) == 0)
		exercise(&t);
	else
		FUZZ_CHECK(why != NULL, "a refusal without a reason");
	if (gopcln_scan(segs, 2, &t) == 0)
		exercise(&t);
	free(c0);
	free(c1);
	return 0;
}
