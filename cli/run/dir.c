/* dir: see dir.h. Names are parsed strictly: whatever else sits in
 * a directory that others can write to is never taken for ours. */
#include "run/dir.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

bool run_dir_name_ok(const char *name)
{
	size_t plen = sizeof(RUN_DIR_PREFIX) - 1;

	if (strncmp(name, RUN_DIR_PREFIX, plen) != 0 || strlen(name) != plen + RUN_DIR_ID_LEN)
		return false;
	for (const char *s = name + plen; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

int run_owner_name(char *buf, size_t len, pid_t pid, uint64_t starttime)
{
	int n = snprintf(buf, len, "owner.%d.%" PRIu64, (int)pid, starttime);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Decimal digits without sign or leading zero, at most max; the end. */
static const char *digits(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9' || (*s == '0' && s[1] >= '0' && s[1] <= '9'))
		return NULL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return NULL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return s;
}

int run_owner_parse(const char *name, int32_t *pid, uint64_t *starttime)
{
	uint64_t p, st;
	const char *s;

	if (strncmp(name, "owner.", 6) != 0)
		return -1;
	s = digits(name + 6, INT32_MAX, &p);
	if (!s || p == 0 || *s++ != '.')
		return -1;
	s = digits(s, UINT64_MAX, &st);
	if (!s || *s != '\0')
		return -1;
	*pid = (int32_t)p;
	*starttime = st;
	return 0;
}
