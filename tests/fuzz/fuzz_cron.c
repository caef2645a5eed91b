/*
 * cu_cron_parse on arbitrary bytes (the bytes are the expression; a NUL ends it early). When
 * it parses, cu_cron_next from a fixed time must give no answer or a later whole minute that
 * the expression matches, and the next answer after that one must be later again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define START ((time_t)1767225600) /* 2026-01-01T00:00:00Z */
#define MAX_INPUT 1024             /* past the parser's own 256-byte limit, to reach it */

/* Whether t is a minute the expression names, by cron's day rule. */
static int
matches(const struct cu_cron *c, time_t t)
{
	struct tm tm;
	int dom, dow, day;

	if (t % 60 != 0 || gmtime_r(&t, &tm) == NULL)
		return 0;
	dom = (c->cr_mdays >> tm.tm_mday) & 1;
	dow = (c->cr_wdays >> tm.tm_wday) & 1;
	day = c->cr_mday_star || c->cr_wday_star ? dom && dow : dom || dow;
	return day && ((c->cr_minutes >> tm.tm_min) & 1) && ((c->cr_hours >> tm.tm_hour) & 1) &&
	       ((c->cr_months >> (tm.tm_mon + 1)) & 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[MAX_INPUT + 1], err[128];
	struct cu_cron c;
	time_t t, u;

	if (size > MAX_INPUT)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	memset(err, 0, sizeof(err));
	if (cu_cron_parse(&c, buf, err, sizeof(err)) != 0) {
		/* Every rejection says why. */
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		return 0;
	}
	if (strlen(buf) > 256 || c.cr_minutes >> 60 != 0 || c.cr_hours >> 24 != 0 ||
	    (c.cr_mdays & 1) != 0 || (c.cr_months & 0xe001) != 0 || (c.cr_wdays & 0x80) != 0)
		abort();
	t = cu_cron_next(&c, START);
	if (t == (time_t)-1)
		return 0;
	if (t <= START || t % 60 != 0 || !matches(&c, t))
		abort();
	u = cu_cron_next(&c, t);
	if (u != (time_t)-1 && (u <= t || u % 60 != 0 || !matches(&c, u)))
		abort();
	return 0;
}
