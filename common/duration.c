/* Duration parser: pure, no locale, no floating point. */
#include "duration.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* Fraction digits beyond this cannot change a result in milliseconds. */
#define DUR_FRAC_DIGITS	9

static int64_t dur_unit_ms(const char **p)
{
	const char *s = *p;

	if (s[0] == 'm' && s[1] == 's') {
		*p = s + 2;
		return 1;
	}
	switch (s[0]) {
	case 's':
		*p = s + 1;
		return 1000;
	case 'm':
		*p = s + 1;
		return 60 * 1000;
	case 'h':
		*p = s + 1;
		return 60 * 60 * 1000;
	}
	return 0;
}

static bool dur_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

int sa_parse_duration_ms(const char *s, bool bare_ms, int64_t *ms)
{
	int64_t total = 0;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (bare_ms && s[strspn(s, "0123456789")] == '\0') {
		for (; *p; p++) {
			if (total > (INT64_MAX - 9) / 10)
				return -ERANGE;
			total = total * 10 + (*p - '0');
		}
		*ms = total;
		return 0;
	}
	while (*p) {
		int64_t whole = 0, frac = 0, scale = 1, unit, part;
		bool digits = false;
		int nfrac = 0;

		for (; dur_isdigit(*p); p++) {
			if (whole > (INT64_MAX - 9) / 10)
				return -ERANGE;
			whole = whole * 10 + (*p - '0');
			digits = true;
		}
		if (*p == '.') {
			for (p++; dur_isdigit(*p); p++) {
				digits = true;
				if (nfrac == DUR_FRAC_DIGITS)
					continue;
				frac = frac * 10 + (*p - '0');
				scale *= 10;
				nfrac++;
			}
		}
		if (!digits)
			return -EINVAL;
		unit = dur_unit_ms(&p);
		if (!unit)
			return -EINVAL;
		if (whole > INT64_MAX / unit)
			return -ERANGE;
		/* frac < 10^9 and unit <= 3.6e6: the product fits easily. */
		part = whole * unit + frac * unit / scale;
		if (part > INT64_MAX - total)
			return -ERANGE;
		total += part;
	}
	*ms = total;
	return 0;
}
