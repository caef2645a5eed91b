/*
 * lib/cron.c: five-field cron expressions and the next minute one matches.
 *
 * The parser is a bounded cursor over at most CRON_MAX_LEN bytes; every field becomes a bit set.
 * cu_cron_next walks the calendar from the largest unit down and jumps a whole month, day, hour
 * or run of minutes whenever that unit cannot match, so even a schedule that fires once every
 * four years costs a few thousand steps, not millions of minutes.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cron.h"

#define CRON_MAX_LEN 256      /* bytes of expression, as cron.h promises */
#define CRON_MAX_DIGITS 2     /* every value and step fits in two digits */
#define CRON_FIELDS 5         /* minute hour day-of-month month day-of-week */
#define CRON_HORIZON_YEARS 5  /* cu_cron_next gives up past this */
#define CRON_MAX_STEPS 100000 /* a backstop: the walk needs a few thousand at most */

/* The calendar gmtime_r and timegm handle without int overflow in tm_year. */
#define CRON_TIME_MIN ((time_t)-62135596800LL) /* 0001-01-01T00:00:00Z */
#define CRON_TIME_MAX ((time_t)253402300799LL) /* 9999-12-31T23:59:59Z */

_Static_assert(sizeof(time_t) >= 8, "cron needs a 64-bit time_t");

enum cron_field { CRON_MINUTE, CRON_HOUR, CRON_MDAY, CRON_MONTH, CRON_WDAY, CRON__MAX };

struct cron_spec {
	const char *cs_name;
	unsigned cs_min;
	unsigned cs_max;
	const char *const *cs_names; /* three-letter names for cs_min, cs_min + 1, ... or NULL */
	unsigned cs_nnames;
};

static const char *const cron_month_names[] = {
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
};

static const char *const cron_wday_names[] = {
    "sun", "mon", "tue", "wed", "thu", "fri", "sat",
};

static const struct cron_spec cron_specs[CRON__MAX] = {
    [CRON_MINUTE] = {"minute", 0, 59, NULL, 0},
    [CRON_HOUR] = {"hour", 0, 23, NULL, 0},
    [CRON_MDAY] = {"day-of-month", 1, 31, NULL, 0},
    [CRON_MONTH] = {"month", 1, 12, cron_month_names, 12},
    [CRON_WDAY] = {"day-of-week", 0, 7, cron_wday_names, 7},
};

#define CRON_MASK_MINUTES ((UINT64_C(1) << 60) - 1)
#define CRON_MASK_HOURS ((UINT32_C(1) << 24) - 1)
#define CRON_MASK_MDAYS (((UINT32_C(1) << 31) - 1) << 1)
#define CRON_MASK_MONTHS ((uint16_t)(((1u << 12) - 1) << 1))
#define CRON_MASK_WDAYS ((uint8_t)0x7f)

static void cron_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
cron_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int
cron_is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static int
cron_is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static char
cron_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* What the cursor points at, for error messages: a character or "end of input". */
static const char *
cron_where(const char *p, const char *end, char *tmp, size_t tmplen)
{
	unsigned char ch;

	if (p >= end)
		return "end of input";
	ch = (unsigned char)*p;
	if (ch >= 0x20 && ch < 0x7f)
		(void)snprintf(tmp, tmplen, "'%c'", ch);
	else
		(void)snprintf(tmp, tmplen, "byte 0x%02x", ch);
	return tmp;
}

/* One to CRON_MAX_DIGITS decimal digits; advances *sp past them. */
static int
cron_parse_number(const char **sp, const char *end, unsigned *out)
{
	const char *p = *sp;
	unsigned v = 0, n = 0;

	while (p < end && cron_is_digit(*p)) {
		if (++n > CRON_MAX_DIGITS)
			return -1;
		v = v * 10 + (unsigned)(*p - '0');
		p++;
	}
	if (n == 0)
		return -1;
	*sp = p;
	*out = v;
	return 0;
}

/* A number or, where the field has them, a three-letter name; in range for the field. */
static int
cron_parse_value(const char **sp, const char *end, const struct cron_spec *cs, unsigned *out,
                 char *err, size_t errlen)
{
	const char *p = *sp;
	char tmp[16];
	unsigned i, v;

	if (p < end && cron_is_digit(*p)) {
		if (cron_parse_number(&p, end, &v) == -1) {
			cron_err(err, errlen, "%s: a number has at most %d digits", cs->cs_name,
			         CRON_MAX_DIGITS);
			return -1;
		}
		if (v < cs->cs_min || v > cs->cs_max) {
			cron_err(err, errlen, "%s: %u is outside %u-%u", cs->cs_name, v, cs->cs_min,
			         cs->cs_max);
			return -1;
		}
		*sp = p;
		*out = v;
		return 0;
	}
	if (cs->cs_names != NULL && end - p >= 3) {
		for (i = 0; i < cs->cs_nnames; i++) {
			if (cron_lower(p[0]) == cs->cs_names[i][0] &&
			    cron_lower(p[1]) == cs->cs_names[i][1] &&
			    cron_lower(p[2]) == cs->cs_names[i][2]) {
				*sp = p + 3;
				*out = cs->cs_min + i;
				return 0;
			}
		}
	}
	cron_err(err, errlen, "%s: expected a %s at %s", cs->cs_name,
	         cs->cs_names != NULL ? "number or name" : "number",
	         cron_where(p, end, tmp, sizeof(tmp)));
	return -1;
}

/*
 * One list item: "*", "a", "a-b", "*\/n" or "a-b/n". Sets its bits in *bits (day-of-week 7
 * becomes 0) and tells whether it was a bare "*" (not "*\/1", as in cron).
 */
static int
cron_parse_item(const char **sp, const char *end, const struct cron_spec *cs, uint64_t *bits,
                int *bare_star, char *err, size_t errlen)
{
	const char *p = *sp;
	unsigned lo, hi, step = 1, v;
	int star = 0, ranged = 0, stepped = 0;

	if (p < end && *p == '*') {
		p++;
		lo = cs->cs_min;
		hi = cs->cs_max;
		star = 1;
	} else {
		if (cron_parse_value(&p, end, cs, &lo, err, errlen) == -1)
			return -1;
		hi = lo;
		if (p < end && *p == '-') {
			p++;
			if (cron_parse_value(&p, end, cs, &hi, err, errlen) == -1)
				return -1;
			if (lo > hi) {
				cron_err(err, errlen, "%s: range %u-%u runs backwards", cs->cs_name,
				         lo, hi);
				return -1;
			}
			ranged = 1;
		}
	}
	if (p < end && *p == '/') {
		if (!star && !ranged) {
			cron_err(err, errlen, "%s: a step follows \"*\" or a range, not %u",
			         cs->cs_name, lo);
			return -1;
		}
		p++;
		stepped = 1;
		if (cron_parse_number(&p, end, &step) == -1 || step < 1) {
			cron_err(err, errlen, "%s: a step is a number from 1 to 99", cs->cs_name);
			return -1;
		}
	}
	for (v = lo; v <= hi; v += step)
		*bits |= UINT64_C(1) << (cs == &cron_specs[CRON_WDAY] && v == 7 ? 0 : v);
	*bare_star = star && !stepped;
	*sp = p;
	return 0;
}

/* A comma list of items, ending at a blank or the end of input. */
static int
cron_parse_field(const char **sp, const char *end, const struct cron_spec *cs, uint64_t *bits,
                 int *is_star, char *err, size_t errlen)
{
	const char *p = *sp;
	char tmp[16];
	int bare_star, items = 0, stars = 0;

	*bits = 0;
	for (;;) {
		if (cron_parse_item(&p, end, cs, bits, &bare_star, err, errlen) == -1)
			return -1;
		items++;
		stars += bare_star;
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		break;
	}
	if (p < end && !cron_is_blank(*p)) {
		cron_err(err, errlen, "%s: unexpected %s", cs->cs_name,
		         cron_where(p, end, tmp, sizeof(tmp)));
		return -1;
	}
	/* Only a lone "*" leaves the day rule to the other day field, as in cron. */
	*is_star = items == 1 && stars == 1;
	*sp = p;
	return 0;
}

int
cu_cron_parse(struct cu_cron *c, const char *s, char *err, size_t errlen)
{
	const char *p, *end;
	uint64_t bits[CRON__MAX];
	int star[CRON__MAX];
	size_t len;
	unsigned i;

	memset(c, 0, sizeof(*c));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (s == NULL) {
		cron_err(err, errlen, "no expression");
		return -1;
	}
	len = strnlen(s, CRON_MAX_LEN + 1);
	if (len > CRON_MAX_LEN) {
		cron_err(err, errlen, "longer than %d bytes", CRON_MAX_LEN);
		return -1;
	}
	if (len == 0) {
		cron_err(err, errlen, "empty expression");
		return -1;
	}
	p = s;
	end = s + len;
	if (cron_is_blank(*p)) {
		cron_err(err, errlen, "leading whitespace");
		return -1;
	}
	for (i = 0; i < CRON__MAX; i++) {
		if (i > 0) {
			/* The previous field stopped at a blank or the end. */
			while (p < end && cron_is_blank(*p))
				p++;
			if (p == end) {
				cron_err(err, errlen, "%u fields, expected %d (no %s field)", i,
				         CRON_FIELDS, cron_specs[i].cs_name);
				return -1;
			}
		}
		if (cron_parse_field(&p, end, &cron_specs[i], &bits[i], &star[i], err, errlen) ==
		    -1)
			return -1;
	}
	if (p != end) {
		while (p < end && cron_is_blank(*p))
			p++;
		if (p == end)
			cron_err(err, errlen, "trailing whitespace");
		else
			cron_err(err, errlen, "more than %d fields", CRON_FIELDS);
		return -1;
	}
	c->cr_minutes = bits[CRON_MINUTE] & CRON_MASK_MINUTES;
	c->cr_hours = (uint32_t)bits[CRON_HOUR] & CRON_MASK_HOURS;
	c->cr_mdays = (uint32_t)bits[CRON_MDAY] & CRON_MASK_MDAYS;
	c->cr_months = (uint16_t)(bits[CRON_MONTH] & CRON_MASK_MONTHS);
	c->cr_wdays = (uint8_t)(bits[CRON_WDAY] & CRON_MASK_WDAYS);
	c->cr_mday_star = (uint8_t)star[CRON_MDAY];
	c->cr_wday_star = (uint8_t)star[CRON_WDAY];
	return 0;
}

/* The smallest member of set in [from, to], or -1. */
static int
cron_next_bit(uint64_t set, int from, int to)
{
	int b;

	for (b = from; b <= to; b++)
		if (set & (UINT64_C(1) << b))
			return b;
	return -1;
}

/* cron's day rule: a restricted day field alone decides; two restricted fields, either one. */
static int
cron_day_matches(const struct cu_cron *c, int mday, int wday)
{
	int dom = (c->cr_mdays >> mday) & 1, dow = (c->cr_wdays >> wday) & 1;

	if (c->cr_mday_star && c->cr_wday_star)
		return 1;
	if (c->cr_mday_star)
		return dow;
	if (c->cr_wday_star)
		return dom;
	return dom || dow;
}

/* False when a set is empty, so that no walk is started that cannot end in a match. */
static int
cron_can_match(const struct cu_cron *c)
{
	int days;

	if (c->cr_mday_star && c->cr_wday_star)
		days = 1;
	else if (c->cr_mday_star)
		days = (c->cr_wdays & CRON_MASK_WDAYS) != 0;
	else if (c->cr_wday_star)
		days = (c->cr_mdays & CRON_MASK_MDAYS) != 0;
	else
		days = (c->cr_mdays & CRON_MASK_MDAYS) != 0 || (c->cr_wdays & CRON_MASK_WDAYS) != 0;
	return days && (c->cr_minutes & CRON_MASK_MINUTES) != 0 &&
	       (c->cr_hours & CRON_MASK_HOURS) != 0 && (c->cr_months & CRON_MASK_MONTHS) != 0;
}

time_t
cu_cron_next(const struct cu_cron *c, time_t after)
{
	struct tm tm;
	time_t t, limit, rem;
	int n, steps;

	if (c == NULL || !cron_can_match(c) || after < CRON_TIME_MIN || after > CRON_TIME_MAX)
		return (time_t)-1;
	if (gmtime_r(&after, &tm) == NULL)
		return (time_t)-1;
	tm.tm_year += CRON_HORIZON_YEARS;
	limit = timegm(&tm);
	rem = after % 60;
	if (rem < 0)
		rem += 60;
	t = after - rem + 60;
	if (gmtime_r(&t, &tm) == NULL)
		return (time_t)-1;
	/*
	 * Each step either returns or moves tm forward to the first instant the failing unit could
	 * match, with every smaller unit reset; timegm then normalises days past the end of a
	 * month and hours past 23 into the next month or day.
	 */
	for (steps = 0; steps < CRON_MAX_STEPS; steps++) {
		t = timegm(&tm);
		if (t == (time_t)-1 || t > limit)
			return (time_t)-1;
		if (!((c->cr_months >> (tm.tm_mon + 1)) & 1)) {
			n = cron_next_bit(c->cr_months, tm.tm_mon + 2, 12);
			if (n == -1) {
				tm.tm_year++;
				n = cron_next_bit(c->cr_months, 1, 12);
			}
			tm.tm_mon = n - 1;
			tm.tm_mday = 1;
			tm.tm_hour = 0;
			tm.tm_min = 0;
			continue;
		}
		if (!cron_day_matches(c, tm.tm_mday, tm.tm_wday)) {
			tm.tm_mday++;
			tm.tm_hour = 0;
			tm.tm_min = 0;
			continue;
		}
		if (!((c->cr_hours >> tm.tm_hour) & 1)) {
			n = cron_next_bit(c->cr_hours, tm.tm_hour + 1, 23);
			if (n == -1) {
				tm.tm_mday++;
				n = 0;
			}
			tm.tm_hour = n;
			tm.tm_min = 0;
			continue;
		}
		if (!((c->cr_minutes >> tm.tm_min) & 1)) {
			n = cron_next_bit(c->cr_minutes, tm.tm_min + 1, 59);
			if (n == -1) {
				tm.tm_hour++;
				n = 0;
			}
			tm.tm_min = n;
			continue;
		}
		return t;
	}
	return (time_t)-1;
}
