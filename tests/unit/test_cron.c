/* lib/cron.c: parsing five-field expressions and finding the next minute they match. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cron.h"

/* Seconds since the epoch for a UTC calendar time. */
static time_t
utc(int year, int mon, int mday, int hour, int min, int sec)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = mday;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	return timegm(&tm);
}

static struct cu_cron
parse_ok(const char *s)
{
	struct cu_cron c;
	char err[128];

	if (cu_cron_parse(&c, s, err, sizeof(err)) != 0)
		fail_msg("\"%s\" did not parse: %s", s, err);
	return c;
}

static time_t
next_of(const char *s, time_t after)
{
	struct cu_cron c = parse_ok(s);

	return cu_cron_next(&c, after);
}

/* Shows both times readably when they differ. */
static void
expect_time(const char *what, time_t got, time_t want)
{
	struct tm tm;
	char g[32] = "-1", w[32] = "-1";

	if (got == want)
		return;
	if (got != (time_t)-1 && gmtime_r(&got, &tm) != NULL)
		strftime(g, sizeof(g), "%Y-%m-%d %H:%M:%S", &tm);
	if (want != (time_t)-1 && gmtime_r(&want, &tm) != NULL)
		strftime(w, sizeof(w), "%Y-%m-%d %H:%M:%S", &tm);
	fail_msg("%s: got %s, want %s", what, g, w);
}

struct schedule_case {
	const char *sc_expr;
	int sc_after[6]; /* year month day hour minute second */
	int sc_want[5];  /* year month day hour minute; year 0 for "none" */
};

static void
run_cases(const struct schedule_case *cases, size_t n)
{
	const int *a, *w;
	time_t after, want;
	char what[160];
	size_t i;

	for (i = 0; i < n; i++) {
		a = cases[i].sc_after;
		w = cases[i].sc_want;
		after = utc(a[0], a[1], a[2], a[3], a[4], a[5]);
		want = w[0] == 0 ? (time_t)-1 : utc(w[0], w[1], w[2], w[3], w[4], 0);
		(void)snprintf(what, sizeof(what), "\"%s\" after %04d-%02d-%02d %02d:%02d:%02d",
		               cases[i].sc_expr, a[0], a[1], a[2], a[3], a[4], a[5]);
		expect_time(what, next_of(cases[i].sc_expr, after), want);
	}
}

#define NCASES(a) (sizeof(a) / sizeof((a)[0]))

/* The schedules authentik ships with. */
static void
test_authentik_schedules(void **state)
{
	static const struct schedule_case cases[] = {
	    {"2-59/5 * * * *", {2026, 1, 1, 0, 0, 0}, {2026, 1, 1, 0, 2}},
	    {"2-59/5 * * * *", {2026, 1, 1, 0, 2, 0}, {2026, 1, 1, 0, 7}},
	    {"2-59/5 * * * *", {2026, 1, 1, 0, 57, 0}, {2026, 1, 1, 1, 2}},
	    {"9-59/5 * * * *", {2026, 1, 1, 0, 0, 0}, {2026, 1, 1, 0, 9}},
	    {"9-59/5 * * * *", {2026, 1, 1, 0, 55, 10}, {2026, 1, 1, 0, 59}},
	    {"9-59/5 * * * *", {2026, 1, 1, 0, 59, 0}, {2026, 1, 1, 1, 9}},
	    {"0 * * * *", {2026, 1, 1, 10, 0, 0}, {2026, 1, 1, 11, 0}},
	    {"0 * * * *", {2026, 1, 1, 10, 30, 0}, {2026, 1, 1, 11, 0}},
	    {"0 * * * *", {2026, 1, 1, 23, 59, 59}, {2026, 1, 2, 0, 0}},
	    {"3-59/15 * * * *", {2026, 1, 1, 10, 3, 0}, {2026, 1, 1, 10, 18}},
	    {"3-59/15 * * * *", {2026, 1, 1, 10, 48, 0}, {2026, 1, 1, 11, 3}},
	    {"0 */4 * * *", {2026, 1, 1, 1, 0, 0}, {2026, 1, 1, 4, 0}},
	    {"0 */4 * * *", {2026, 1, 1, 20, 0, 0}, {2026, 1, 2, 0, 0}},
	    /* 2026-01-01 is a Thursday; the Sunday after is the 4th. */
	    {"0 0 * * 0", {2026, 1, 1, 0, 0, 0}, {2026, 1, 4, 0, 0}},
	    {"0 0 * * 0", {2026, 1, 4, 0, 0, 0}, {2026, 1, 11, 0, 0}},
	};

	(void)state;
	run_cases(cases, NCASES(cases));
}

static void
test_calendar(void **state)
{
	static const struct schedule_case cases[] = {
	    /* Weekday and month names, any case. */
	    {"30 9 * * mon-fri", {2026, 1, 2, 10, 0, 0}, {2026, 1, 5, 9, 30}},
	    {"30 9 * * MON-Fri", {2026, 1, 5, 9, 0, 0}, {2026, 1, 5, 9, 30}},
	    {"0 12 * * sat,sun", {2026, 1, 1, 0, 0, 0}, {2026, 1, 3, 12, 0}},
	    {"0 0 1 jan *", {2026, 1, 1, 0, 0, 0}, {2027, 1, 1, 0, 0}},
	    {"0 0 1 jun-aug/2 *", {2026, 6, 1, 0, 0, 0}, {2026, 8, 1, 0, 0}},
	    /* 7 is Sunday as well as 0. */
	    {"0 0 * * 7", {2026, 1, 1, 0, 0, 0}, {2026, 1, 4, 0, 0}},
	    {"0 0 * * 5-7", {2026, 1, 3, 0, 0, 0}, {2026, 1, 4, 0, 0}},
	    /* Month boundaries: the 31st skips short months. */
	    {"0 0 31 * *", {2026, 1, 31, 0, 0, 0}, {2026, 3, 31, 0, 0}},
	    {"0 0 31 * *", {2026, 4, 1, 0, 0, 0}, {2026, 5, 31, 0, 0}},
	    {"59 23 * * *", {2026, 1, 31, 23, 59, 0}, {2026, 2, 1, 23, 59}},
	    {"0 0 30 * *", {2026, 2, 1, 0, 0, 0}, {2026, 3, 30, 0, 0}},
	    /* Leap years; 2100 is not one. */
	    {"0 0 29 2 *", {2026, 3, 1, 0, 0, 0}, {2028, 2, 29, 0, 0}},
	    {"0 0 29 2 *", {2024, 2, 28, 23, 59, 59}, {2024, 2, 29, 0, 0}},
	    {"0 0 29 2 *", {2096, 3, 1, 0, 0, 0}, {0, 0, 0, 0, 0}},
	    /* The horizon is five calendar years after `after`, to the second. */
	    {"0 0 29 2 *", {2099, 2, 28, 23, 59, 0}, {0, 0, 0, 0, 0}},
	    {"0 0 29 2 *", {2099, 3, 1, 0, 0, 0}, {2104, 2, 29, 0, 0}},
	    {"0 0 29 2 *", {2098, 3, 1, 0, 0, 0}, {0, 0, 0, 0, 0}},
	    {"0 0 * 2 *", {2028, 2, 28, 12, 0, 0}, {2028, 2, 29, 0, 0}},
	    {"0 0 * 2 *", {2027, 2, 28, 12, 0, 0}, {2028, 2, 1, 0, 0}},
	    /* Both day fields restricted: either one fires. */
	    {"0 0 1 * mon", {2026, 1, 1, 0, 0, 0}, {2026, 1, 5, 0, 0}},
	    {"0 0 1 * mon", {2026, 1, 26, 0, 0, 0}, {2026, 2, 1, 0, 0}},
	    {"0 0 1 * mon", {2026, 2, 1, 0, 0, 0}, {2026, 2, 2, 0, 0}},
	    /* One restricted: only that one counts. */
	    {"0 0 * * mon", {2026, 1, 26, 0, 0, 0}, {2026, 2, 2, 0, 0}},
	    {"0 0 1 * *", {2026, 1, 1, 0, 0, 0}, {2026, 2, 1, 0, 0}},
	    {"0 0 1 * *,mon", {2026, 1, 1, 0, 0, 0}, {2026, 1, 2, 0, 0}},
	    /* Year rollover. */
	    {"0 0 1 1 *", {2026, 12, 31, 23, 59, 30}, {2027, 1, 1, 0, 0}},
	    {"* * * * *", {2026, 12, 31, 23, 59, 0}, {2027, 1, 1, 0, 0}},
	    {"0 0 * dec *", {2026, 12, 31, 0, 0, 0}, {2027, 12, 1, 0, 0}},
	    /* Strictly after: a matching `after` gives the following match. */
	    {"0 12 * * *", {2026, 5, 5, 12, 0, 0}, {2026, 5, 6, 12, 0}},
	    {"* * * * *", {2026, 5, 5, 12, 0, 0}, {2026, 5, 5, 12, 1}},
	    /* Seconds are dropped, then the next minute is taken. */
	    {"* * * * *", {2026, 5, 5, 12, 0, 30}, {2026, 5, 5, 12, 1}},
	    {"0 12 * * *", {2026, 5, 5, 11, 59, 59}, {2026, 5, 5, 12, 0}},
	    /* Impossible dates. */
	    {"0 0 31 2 *", {2026, 1, 1, 0, 0, 0}, {0, 0, 0, 0, 0}},
	    {"0 0 30 2 *", {2026, 1, 1, 0, 0, 0}, {0, 0, 0, 0, 0}},
	    {"0 0 31 4,6,9,11 *", {2026, 1, 1, 0, 0, 0}, {0, 0, 0, 0, 0}},
	    /* Before the epoch. */
	    {"* * * * *", {1969, 12, 31, 23, 59, 59}, {1970, 1, 1, 0, 0}},
	};

	(void)state;
	run_cases(cases, NCASES(cases));
}

static void
test_fields(void **state)
{
	struct cu_cron a, b, c;

	(void)state;
	a = parse_ok("* * * * *");
	assert_true(a.cr_minutes == (UINT64_C(1) << 60) - 1);
	assert_int_equal(a.cr_hours, (1u << 24) - 1);
	assert_int_equal(a.cr_mdays, 0xfffffffeu);
	assert_int_equal(a.cr_months, 0x1ffe);
	assert_int_equal(a.cr_wdays, 0x7f);
	assert_true(a.cr_mday_star && a.cr_wday_star);

	/* 7, 0 and sun are the same day. */
	a = parse_ok("0 0 * * 7");
	b = parse_ok("0 0 * * 0");
	c = parse_ok("0 0 * * SUN");
	assert_memory_equal(&a, &b, sizeof(a));
	assert_memory_equal(&a, &c, sizeof(a));
	assert_int_equal(a.cr_wdays, 1);
	assert_int_equal(parse_ok("* * * * 0-7").cr_wdays, 0x7f);
	assert_int_equal(parse_ok("* * * * 5-7").cr_wdays, 0x61);

	a = parse_ok("1,2-4,10-20/5,*/30 */6 1-31/10 */5 mon,wed-fri");
	assert_true(a.cr_minutes ==
	            ((UINT64_C(1) << 1) | (UINT64_C(0x7) << 2) | (UINT64_C(1) << 10) |
	             (UINT64_C(1) << 15) | (UINT64_C(1) << 20) | (UINT64_C(1) << 0) |
	             (UINT64_C(1) << 30)));
	assert_int_equal(a.cr_hours, (1u << 0) | (1u << 6) | (1u << 12) | (1u << 18));
	assert_int_equal(a.cr_mdays, (1u << 1) | (1u << 11) | (1u << 21) | (1u << 31));
	assert_int_equal(a.cr_months, (1u << 1) | (1u << 6) | (1u << 11));
	assert_int_equal(a.cr_wdays, (1u << 1) | (1u << 3) | (1u << 4) | (1u << 5));
	assert_false(a.cr_mday_star);
	assert_false(a.cr_wday_star);

	/* Only a lone "*" counts as unrestricted for the day rule. */
	assert_true(parse_ok("0 0 * * 1").cr_mday_star);
	assert_false(parse_ok("0 0 */1 * 1").cr_mday_star);
	assert_false(parse_ok("0 0 *,1 * 1").cr_mday_star);
	assert_false(parse_ok("0 0 1 * 1").cr_mday_star);

	/* Tabs and runs of blanks separate fields; two-digit numbers may be zero-padded. */
	a = parse_ok("05\t \t*  *\t* *");
	assert_true(a.cr_minutes == UINT64_C(1) << 5);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
	    "",
	    "* * * *",
	    "* * * * * *",
	    "60 * * * *",
	    "*/0 * * * *",
	    "5-1 * * * *",
	    "a * * * *",
	    "1,,2 * * * *",
	    "* * 0 * *",
	    "* * * 13 *",
	    "* * * * 8",
	    "* 24 * * *",
	    "* * 32 * *",
	    "* * * 0 *",
	    "100 * * * *",
	    "001 * * * *",
	    "*/100 * * * *",
	    "5/10 * * * *",
	    "*-5 * * * *",
	    "1- * * * *",
	    "-1 * * * *",
	    "1, * * * *",
	    ",1 * * * *",
	    "* * * * mon-sun",
	    "* * * * fri-mon",
	    "* * * * monday",
	    "* * * janu *",
	    "* * * * jan",
	    "* * * mon *",
	    "jan * * * *",
	    "** * * * *",
	    "*/ * * * *",
	    "*/5/5 * * * *",
	    "1-2-3 * * * *",
	    " * * * * *",
	    "* * * * * ",
	    "* * * * *\n",
	    "*\n* * * *",
	    "* * * * *x",
	    "* * * * 1;",
	    "  ",
	    "*",
	};
	struct cu_cron c;
	char err[128];
	size_t i;

	(void)state;
	for (i = 0; i < NCASES(bad); i++) {
		memset(err, 0, sizeof(err));
		memset(&c, 0xa5, sizeof(c));
		if (cu_cron_parse(&c, bad[i], err, sizeof(err)) != -1)
			fail_msg("\"%s\" parsed", bad[i]);
		if (err[0] == '\0')
			fail_msg("\"%s\": no reason given", bad[i]);
		/* A failed parse leaves nothing that could match. */
		assert_true(c.cr_minutes == 0);
		assert_int_equal(cu_cron_next(&c, utc(2026, 1, 1, 0, 0, 0)), -1);
	}
	assert_int_equal(cu_cron_parse(&c, NULL, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
}

static void
test_length_and_err(void **state)
{
	char s[400], err[128], tiny[8];
	struct cu_cron c;
	size_t n;

	(void)state;
	/* Exactly 256 bytes parse; 257 do not, even though the extra byte is only a blank. */
	memset(s, ' ', sizeof(s));
	memcpy(s, "* * * *", 7);
	s[255] = '*';
	s[256] = '\0';
	assert_int_equal(strlen(s), 256);
	assert_int_equal(cu_cron_parse(&c, s, err, sizeof(err)), 0);
	memset(s, ' ', sizeof(s));
	memcpy(s, "* * * *", 7);
	s[256] = '*';
	s[257] = '\0';
	err[0] = '\0';
	assert_int_equal(cu_cron_parse(&c, s, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	/* A long run of digits is rejected, not accumulated. */
	memset(s, '9', 300);
	s[300] = '\0';
	assert_int_equal(cu_cron_parse(&c, s, err, sizeof(err)), -1);
	memcpy(s + 250, " * * * *", 8);
	s[258] = '\0';
	assert_int_equal(cu_cron_parse(&c, s, err, sizeof(err)), -1);

	/* The reason is truncated to the buffer, never written past it. */
	memset(tiny, 'x', sizeof(tiny));
	assert_int_equal(cu_cron_parse(&c, "* * * * 9", tiny, 4), -1);
	n = strlen(tiny);
	assert_int_equal(n, 3);
	assert_int_equal(tiny[4], 'x');
	/* No buffer at all is allowed. */
	assert_int_equal(cu_cron_parse(&c, "* * * * 9", NULL, 0), -1);
	assert_int_equal(cu_cron_parse(&c, "* * * * 6", NULL, 0), 0);
}

static void
test_limits(void **state)
{
	struct cu_cron c = parse_ok("* * * * *"), none;
	clock_t t0;
	time_t t;
	int i;

	(void)state;
	/* Far outside the calendar: no answer rather than overflow. */
	assert_int_equal(cu_cron_next(&c, (time_t)INT64_MAX), -1);
	assert_int_equal(cu_cron_next(&c, (time_t)INT64_MIN), -1);
	/* A hand-built structure with an empty set never matches. */
	memset(&none, 0, sizeof(none));
	assert_int_equal(cu_cron_next(&none, 0), -1);
	none = c;
	none.cr_mday_star = 0;
	none.cr_wday_star = 0;
	none.cr_mdays = 0;
	none.cr_wdays = 0;
	assert_int_equal(cu_cron_next(&none, 0), -1);

	/*
	 * Whole months and days are skipped, not walked minute by minute: a schedule that never
	 * fires is settled in a few thousand steps, so many of them finish at once.
	 */
	c = parse_ok("59 23 31 2 *");
	t0 = clock();
	for (i = 0; i < 200; i++) {
		t = cu_cron_next(&c, utc(2000 + i % 50, 1 + i % 12, 1, 0, 0, 0));
		assert_int_equal(t, -1);
	}
	assert_true(clock() - t0 < 10 * CLOCKS_PER_SEC);
}

/* A fixed-seed xorshift64, so that every run checks the same cases. */
static uint64_t xs_state = UINT64_C(0x2545f4914f6cdd1d);

static uint64_t
xs_next(void)
{
	xs_state ^= xs_state << 13;
	xs_state ^= xs_state >> 7;
	xs_state ^= xs_state << 17;
	return xs_state;
}

static unsigned
xs_below(unsigned n)
{
	return (unsigned)(xs_next() % n);
}

struct gen_field {
	unsigned gf_min;
	unsigned gf_max;
	const char *const *gf_names; /* for gf_min, gf_min + 1, ... */
	unsigned gf_nnames;
};

static const char *const gen_months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                         "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const gen_wdays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static const struct gen_field gen_fields[5] = {
    {0, 59, NULL, 0},        {0, 23, NULL, 0},     {1, 31, NULL, 0},
    {1, 12, gen_months, 12}, {0, 7, gen_wdays, 7},
};

static void
gen_put(char *out, size_t outlen, size_t *used, const char *s)
{
	size_t n = strlen(s);

	assert_true(*used + n < outlen);
	memcpy(out + *used, s, n + 1);
	*used += n;
}

static void
gen_value(char *out, size_t outlen, size_t *used, const struct gen_field *f, unsigned v)
{
	char tmp[8];

	if (f->gf_names != NULL && v - f->gf_min < f->gf_nnames && xs_below(3) == 0) {
		memcpy(tmp, f->gf_names[v - f->gf_min], 4);
		if (xs_below(2) == 0)
			tmp[0] = (char)(tmp[0] - 'a' + 'A');
	} else {
		(void)snprintf(tmp, sizeof(tmp), xs_below(4) == 0 ? "%02u" : "%u", v);
	}
	gen_put(out, outlen, used, tmp);
}

/* Appends one random field and returns the set it means, worked out here independently. */
static uint64_t
gen_one(char *out, size_t outlen, size_t *used, const struct gen_field *f, int wday, int *star)
{
	unsigned items, i, kind, lo, hi, step, v, span = f->gf_max - f->gf_min + 1;
	uint64_t bits = 0;
	char tmp[8];

	items = xs_below(10) < 6 ? 1 : 2 + xs_below(2);
	*star = 0;
	for (i = 0; i < items; i++) {
		if (i > 0)
			gen_put(out, outlen, used, ",");
		kind = xs_below(6);
		lo = f->gf_min + xs_below(span);
		hi = f->gf_min + xs_below(span);
		if (lo > hi) {
			v = lo;
			lo = hi;
			hi = v;
		}
		step = 1 + xs_below(span < 12 ? span : 12);
		switch (kind) {
		case 0:
			gen_put(out, outlen, used, "*");
			lo = f->gf_min;
			hi = f->gf_max;
			step = 1;
			*star = items == 1;
			break;
		case 1:
		case 2:
			gen_value(out, outlen, used, f, lo);
			hi = lo;
			step = 1;
			break;
		case 3:
			gen_value(out, outlen, used, f, lo);
			gen_put(out, outlen, used, "-");
			gen_value(out, outlen, used, f, hi);
			step = 1;
			break;
		case 4:
			gen_put(out, outlen, used, "*/");
			lo = f->gf_min;
			hi = f->gf_max;
			(void)snprintf(tmp, sizeof(tmp), "%u", step);
			gen_put(out, outlen, used, tmp);
			break;
		default:
			gen_value(out, outlen, used, f, lo);
			gen_put(out, outlen, used, "-");
			gen_value(out, outlen, used, f, hi);
			(void)snprintf(tmp, sizeof(tmp), "/%u", step);
			gen_put(out, outlen, used, tmp);
			break;
		}
		for (v = lo; v <= hi; v += step)
			bits |= UINT64_C(1) << (wday && v == 7 ? 0 : v);
	}
	return bits;
}

/* The reference: every minute in turn up to the same five-year horizon, with cron's day rule. */
static time_t
brute_next(const struct cu_cron *c, time_t after)
{
	struct tm tm;
	time_t t, limit, day = -1, sod;
	int day_ok = 0, dom, dow, hour, min;

	assert_non_null(gmtime_r(&after, &tm));
	tm.tm_year += 5;
	limit = timegm(&tm);
	t = after - ((after % 60) + 60) % 60 + 60;
	for (; t <= limit; t += 60) {
		sod = t - ((t % 86400) + 86400) % 86400;
		if (sod != day) {
			day = sod;
			assert_non_null(gmtime_r(&t, &tm));
			dom = (int)((c->cr_mdays >> tm.tm_mday) & 1);
			dow = (int)((c->cr_wdays >> tm.tm_wday) & 1);
			day_ok = (int)((c->cr_months >> (tm.tm_mon + 1)) & 1) &&
			         (c->cr_mday_star || c->cr_wday_star ? dom && dow : dom || dow);
		}
		if (!day_ok)
			continue;
		hour = (int)((t - sod) / 3600);
		min = (int)((t - sod) / 60 % 60);
		if (((c->cr_hours >> hour) & 1) && ((c->cr_minutes >> min) & 1))
			return t;
	}
	return (time_t)-1;
}

static void
test_against_brute_force(void **state)
{
	uint64_t want[5];
	int star[5], k, f, matched = 0, none = 0;
	char expr[256], what[320], err[128];
	struct cu_cron c;
	time_t after, got;
	size_t used;

	(void)state;
	for (k = 0; k < 400; k++) {
		used = 0;
		expr[0] = '\0';
		for (f = 0; f < 5; f++) {
			if (f > 0)
				gen_put(expr, sizeof(expr), &used, xs_below(5) == 0 ? " \t" : " ");
			want[f] =
			    gen_one(expr, sizeof(expr), &used, &gen_fields[f], f == 4, &star[f]);
		}
		if (k % 10 == 0) {
			/* Month ends: rare, leap-year-only or impossible days. */
			want[0] = UINT64_C(1) << xs_below(60);
			want[1] = UINT64_C(1) << xs_below(24);
			want[2] = UINT64_C(1) << (29 + xs_below(3));
			want[3] = UINT64_C(1) << (1 + xs_below(12));
			want[4] = 0x7f;
			star[2] = 0;
			star[4] = 1;
			(void)snprintf(expr, sizeof(expr), "%d %d %d %d *",
			               __builtin_ctzll(want[0]), __builtin_ctzll(want[1]),
			               __builtin_ctzll(want[2]), __builtin_ctzll(want[3]));
		}
		if (cu_cron_parse(&c, expr, err, sizeof(err)) != 0)
			fail_msg("\"%s\": %s", expr, err);
		if (c.cr_minutes != want[0] || c.cr_hours != want[1] || c.cr_mdays != want[2] ||
		    c.cr_months != want[3] || c.cr_wdays != want[4] || c.cr_mday_star != star[2] ||
		    c.cr_wday_star != star[4])
			fail_msg("\"%s\": parsed to other sets", expr);

		/* Anywhere from 1970 to about 2106, any second; then from the answer itself. */
		after = (time_t)(xs_next() % UINT64_C(4294967296));
		/* Around 2100, which is not a leap year, so Feb 29 may be out of reach. */
		if (k % 5 == 0)
			after =
			    utc(2094 + xs_below(10), 1 + xs_below(12), 1 + xs_below(28), 0, 0, 0) -
			    xs_below(2);
		for (f = 0; f < 3; f++) {
			got = cu_cron_next(&c, after);
			(void)snprintf(what, sizeof(what), "\"%s\" after %lld", expr,
			               (long long)after);
			expect_time(what, got, brute_next(&c, after));
			if (got == (time_t)-1) {
				none++;
				break;
			}
			matched++;
			assert_true(got > after && got % 60 == 0);
			after = got + (time_t)xs_below(2);
		}
	}
	/* The generator must exercise both outcomes. */
	assert_true(matched > 400);
	assert_true(none > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_authentik_schedules),
	    cmocka_unit_test(test_calendar),
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_length_and_err),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_against_brute_force),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
