/*
 * jst.h — instants, RFC 3339 text and Japan Standard Time calendar arithmetic.
 *
 * Statutory dates (fiscal years, quarters, "within 30 days of the day it
 * occurred") are taken in JST (UTC+09:00, no daylight saving), whatever offset
 * the input used.  Instants are int64 milliseconds since 1970-01-01T00:00:00Z,
 * so sub-second inputs cannot push a duration across an inclusive threshold.
 */
#ifndef JIKO_JST_H
#define JIKO_JST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JST_OFFSET_MS (9LL * 3600 * 1000)
#define JST_MS_PER_HOUR (3600LL * 1000)
#define JST_MS_PER_DAY (86400LL * 1000)
#define JST_MS_PER_WEEK (7 * JST_MS_PER_DAY)
/* Room for jst_format's text ("2021-08-03T15:00:00.123+09:00" and wider
 * years) and for jst_format_date's. */
#define JST_TEXT_MAX 40
#define JST_DATE_TEXT_MAX 16

/* The instants jiko accepts as text: 1900-01-01T00:00:00+09:00 to
 * 9999-12-31T23:59:59.999+09:00, so that every date it shows has four
 * digits in JST whatever offset the input used. */
#define JST_MIN_MS (-2209021200000LL)
#define JST_MAX_MS (253402268399999LL)

/* A calendar date (proleptic Gregorian). */
typedef struct jst_date {
    int y, m, d;
} jst_date;

/* Parse an RFC 3339 date-time ("2021-08-03T15:00:00+09:00", "…Z", optional
 * fraction; 'T', 't' or one space between date and time).  On failure returns
 * false and, if why is non-NULL, points it at a static explanation. */
bool jst_parse_rfc3339(const char *s, size_t len, int64_t *ms_out, const char **why);

/* The wall clock: milliseconds since the Unix epoch (UTC). */
int64_t jst_now_ms(void);

/* Parse "YYYY-MM-DD" (a full-date). */
bool jst_parse_date(const char *s, jst_date *out);

/* Format an instant as RFC 3339 in JST: "2021-08-03T15:00:00+09:00"
 * (milliseconds appear only when non-zero). buf needs 32 bytes. */
char *jst_format(int64_t ms, char *buf, size_t size);

/* Format a date as "YYYY-MM-DD". buf needs 11 bytes. */
char *jst_format_date(jst_date d, char *buf, size_t size);

/* The JST calendar date of an instant. */
jst_date jst_date_of(int64_t ms);

/* Milliseconds since midnight JST of the instant's day. */
int64_t jst_ms_into_day(int64_t ms);

/* The instant of 00:00 JST on a date. */
int64_t jst_midnight(jst_date d);

/* Days since 1970-01-01 for a date, and back. */
int64_t jst_days_from_civil(jst_date d);
jst_date jst_civil_from_days(int64_t days);

jst_date jst_add_days(jst_date d, int64_t days);
int jst_days_in_month(int y, int m);
int jst_compare_dates(jst_date a, jst_date b);

/* Japanese fiscal year (年度, April to March) and its quarter (1 = Apr–Jun,
 * 2 = Jul–Sep, 3 = Oct–Dec, 4 = Jan–Mar) of a date. */
int jst_fiscal_year(jst_date d);
int jst_fiscal_quarter(jst_date d);

/* Last day of the given fiscal quarter. */
jst_date jst_quarter_end(int fiscal_year, int quarter);

/* Last day of the month `months` months after the month of d. */
jst_date jst_end_of_month_after(jst_date d, int months);

/* Japanese era dates (和暦) for Japanese documents, as MIC writes them:
 * 令和3年5月30日, 令和3年5月30日 20時41分, 令和3年度.  The first year of an
 * era is 元年 (平成31年4月30日 is followed by 令和元年5月1日).  Eras from
 * 明治 (1873, the Gregorian calendar's first year in Japan) on; an earlier
 * date is written in the Gregorian calendar.  A fiscal year (April to March)
 * takes the era in force on 1 May of its first year, so FY2019 is 令和元年度
 * and FY1988 昭和63年度.  Room: JST_WAREKI_MAX bytes. */
#define JST_WAREKI_MAX 64
char *jst_format_wareki_date(jst_date d, char *buf, size_t size);
char *jst_format_wareki(int64_t ms, char *buf, size_t size);
char *jst_format_wareki_fy(int fiscal_year, char *buf, size_t size);

/* "2h25m", "34h9m", "59m59s", "0s": a compact duration for reasons. */
char *jst_format_duration(int64_t ms, char *buf, size_t size);

#endif
