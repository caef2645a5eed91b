/*
 * Cron expressions, as authentik's schedules use them: five fields (minute hour day-of-month
 * month day-of-week). Each field is a star, a number, a range a-b, a step (a star or a range
 * followed by a slash and n), or a comma list of those; month and weekday names (jan, mon)
 * are accepted; 0 and 7 are Sunday. When both day fields are restricted, a day matching either
 * runs (cron's rule). All times are UTC.
 */
#ifndef CU_CRON_H
#define CU_CRON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct cu_cron {
	uint64_t cr_minutes;  /* bit m for minute m, 0-59 */
	uint32_t cr_hours;    /* 0-23 */
	uint32_t cr_mdays;    /* bit d for day d, 1-31 */
	uint16_t cr_months;   /* bit m for month m, 1-12 */
	uint8_t cr_wdays;     /* bit w for weekday w, 0-6, Sunday 0 */
	uint8_t cr_mday_star; /* the day-of-month field was "*" */
	uint8_t cr_wday_star; /* the day-of-week field was "*" */
};

/* Parses s (at most 256 bytes); -1 with a reason in err on anything malformed or out of range. */
int cu_cron_parse(struct cu_cron *c, const char *s, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The first whole minute strictly after `after` that c matches; (time_t)-1 when none within
 * five years (e.g. "0 0 31 2 *"). */
time_t cu_cron_next(const struct cu_cron *c, time_t after);

#endif
