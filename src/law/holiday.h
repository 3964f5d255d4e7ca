/*
 * holiday.h — the administrative holidays (行政機関の休日) that move a deadline.
 *
 * 行政機関の休日に関する法律 第2条: a deadline for an act towards a national
 * administrative agency, set as a period by law or ordinance, that falls on an
 * administrative holiday becomes the next day that is not one.  第1条第1項
 * names those days: Saturdays and Sundays, the national holidays (祝日,
 * 振替休日, the days between two holidays, the one-off holidays of 2019) and
 * 29 December to 3 January.  The national holidays change every year (equinox
 * days, moved holidays), so they are data: catalogs/holidays.conf, one
 * [year YYYY] section per calendar year covered, made from the Cabinet
 * Office's list.  A day outside the covered years is never guessed: the
 * caller gets the year that is missing.
 */
#ifndef JIKO_HOLIDAY_H
#define JIKO_HOLIDAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "error.h"
#include "jst.h"

/* Why a day is closed; HOLIDAY_OPEN when it is a working day. */
typedef enum holiday_kind {
    HOLIDAY_OPEN = 0,
    HOLIDAY_WEEKEND,  /* 第1条第1項第1号: Saturday or Sunday (as the calendar lists) */
    HOLIDAY_NATIONAL, /* 第1条第1項第2号: a national holiday or 休日 of the year's list */
    HOLIDAY_YEAR_END, /* 第1条第1項第3号: 29 December to 3 January */
} holiday_kind;

typedef struct holiday_day {
    int32_t day; /* days since 1970-01-01 (jst_days_from_civil) */
    char *name_ja, *name_en;
    long line;
} holiday_day;

typedef struct holiday_calendar {
    int first_year, last_year; /* calendar years covered; 0 when none is loaded */
    unsigned weekend_mask;     /* bit per weekday, 0 = Sunday */
    int year_end_from, year_end_to; /* month * 100 + day; the closure wraps the new year */
    holiday_day *days;         /* sorted by day */
    size_t n_days;
    char *source, *path;
} holiday_calendar;

/* The most days one deadline can be moved: the longest run of closed days
 * (year-end closure plus weekends, or Golden Week) is well under it.  A
 * calendar that closes more days in a row is refused at load. */
#define HOLIDAY_MAX_RUN 16

/* Interpret a parsed calendar file; errors name file, line and key. */
int holiday_from_conf(holiday_calendar *c, const conf_file *f, jiko_error *err);

/* Read and interpret a calendar file. */
int holiday_load(holiday_calendar *c, const char *path, jiko_error *err);

void holiday_free(holiday_calendar *c);

/* Whether the calendar covers the calendar year of d. */
bool holiday_covers(const holiday_calendar *c, jst_date d);

/* Why d is closed (HOLIDAY_OPEN if it is not); for a national holiday *named
 * (if non-NULL) points at its entry.  d must be covered. */
holiday_kind holiday_kind_of(const holiday_calendar *c, jst_date d, const holiday_day **named);

/* The first day on or after d that is not an administrative holiday.
 * Returns 0 and sets *out; or -1 with *missing_year set to the first year
 * the calendar does not cover that the walk reached. */
int holiday_next_open(const holiday_calendar *c, jst_date d, jst_date *out, int *missing_year);

/* "Saturday" / "土曜日", the holiday's name, "year-end closure" / "年末年始":
 * why d is closed, in English or Japanese. */
const char *holiday_why(const holiday_calendar *c, jst_date d, bool ja);

#endif
