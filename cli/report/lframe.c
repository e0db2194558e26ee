/* lframe: language frames of the table as printable text (see lframe.h). */
#include "report/lframe.h"

#include <string.h>

/* Length of the well-formed UTF-8 sequence at p (at most n bytes), 0 when
 * there is none (RFC 3629: no overlongs, no surrogates, up to U+10FFFF). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t k;
	unsigned lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		k = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		k = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		k = 4;
	else
		return 0;
	if (n < k)
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < k; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return k;
}

void report_lframe_clean(const char *in, size_t len, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;

	if (!outlen)
		return;
	for (size_t i = 0; i < len;) {
		size_t k = utf8_len(p + i, len - i);

		if (k == 1 && (p[i] < 0x20 || p[i] == 0x7f))
			k = 0;
		if (!k) {
			if (o + 1 >= outlen)
				break;
			out[o++] = '?';
			i++;
			continue;
		}
		if (o + k >= outlen)
			break;
		memcpy(out + o, p + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
}

bool report_lframe_read(struct sa_reader *r, uint64_t entry, struct report_lframe *out)
{
	struct sa_lframe e;
	size_t off = 0;

	if (!sa_reader_lframe(r, entry, &e))
		return false;
	out->language = sa_lang_name(e.lang);
	if (e.flags & SA_LFRAME_FILE_TRUNC) {
		memcpy(out->file, "...", 3);
		off = 3;
	}
	report_lframe_clean(e.file, e.file_len, out->file + off, sizeof(out->file) - off);
	report_lframe_clean(e.func, e.func_len, out->function, sizeof(out->function) - 3);
	if (e.flags & SA_LFRAME_FUNC_TRUNC)
		strcat(out->function, "...");
	out->line = (int)(e.line > 0x7fffffff ? 0 : e.line);
	out->column = e.column;
	return true;
}
