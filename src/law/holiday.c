/*
 * holiday.c — reading the holiday calendar and moving a date past the
 * administrative holidays (see holiday.h).  Every key is checked and every
 * error names file, line and key: a holiday silently lost would make a
 * deadline a day early, one silently added a day late.
 */
#include "holiday.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const WEEKDAY_EN[7] = {"sunday", "monday", "tuesday", "wednesday",
                                          "thursday", "friday", "saturday"};
static const char *const WEEKDAY_NAME_EN[7] = {"Sunday", "Monday", "Tuesday", "Wednesday",
                                               "Thursday", "Friday", "Saturday"};
static const char *const WEEKDAY_NAME_JA[7] = {"日曜日", "月曜日", "火曜日", "水曜日",
                                               "木曜日", "金曜日", "土曜日"};

/* 0 = Sunday; 1970-01-01 was a Thursday. */
static int weekday(int64_t days)
{
    return (int)(((days % 7) + 11) % 7);
}

static int fail(jiko_error *err, const char *path, const conf_entry *e, const char *msg,
                const char *value)
{
    if (value)
        error_set(err, JIKO_ERR_CONFIG, path, e->line, e->key, "%s, got '%s'", msg, value);
    else
        error_set(err, JIKO_ERR_CONFIG, path, e->line, e->key, "%s", msg);
    return -1;
}

/* "12-29" -> 1229 */
static bool parse_month_day(const char *s, size_t n, int *out)
{
    if (n != 5 || s[2] != '-')
        return false;
    for (size_t i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return false;
    int m = (s[0] - '0') * 10 + (s[1] - '0'), d = (s[3] - '0') * 10 + (s[4] - '0');
    if (m < 1 || m > 12 || d < 1 || d > jst_days_in_month(2000, m))
        return false;
    *out = m * 100 + d;
    return true;
}

static bool parse_year(const char *s, int *out)
{
    if (strlen(s) != 4)
        return false;
    int y = 0;
    for (int i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        y = y * 10 + (s[i] - '0');
    }
    if (y < 1948) /* 国民の祝日に関する法律 (昭和23年) */
        return false;
    *out = y;
    return true;
}

static int calendar_key(holiday_calendar *c, const char *path, const conf_entry *e,
                        jiko_error *err)
{
    if (strcmp(e->key, "first_year") == 0 || strcmp(e->key, "last_year") == 0) {
        int *dst = e->key[0] == 'f' ? &c->first_year : &c->last_year;
        if (*dst)
            return fail(err, path, e, "given twice", NULL);
        if (!parse_year(e->value, dst))
            return fail(err, path, e, "expected a four-digit year from 1948", e->value);
    } else if (strcmp(e->key, "weekend") == 0) {
        char buf[128];
        snprintf(buf, sizeof buf, "%s", e->value);
        char *save = NULL;
        for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
            int k = 0;
            while (k < 7 && strcmp(w, WEEKDAY_EN[k]) != 0)
                k++;
            if (k == 7)
                return fail(err, path, e, "expected weekday names such as 'saturday sunday'", w);
            c->weekend_mask |= 1u << k;
        }
        if (!c->weekend_mask)
            return fail(err, path, e, "expected weekday names such as 'saturday sunday'", e->value);
    } else if (strcmp(e->key, "year_end") == 0) {
        const char *v = e->value, *sp = strchr(v, ' ');
        if (!sp || !parse_month_day(v, (size_t)(sp - v), &c->year_end_from) ||
            !parse_month_day(sp + 1, strlen(sp + 1), &c->year_end_to) ||
            c->year_end_from < 1201 || c->year_end_to > 131)
            return fail(err, path, e,
                        "expected the closure's first and last day as 'MM-DD MM-DD' in December "
                        "and January, e.g. '12-29 01-03'",
                        e->value);
    } else if (strcmp(e->key, "source") == 0) {
        if (c->source)
            return fail(err, path, e, "given twice", NULL);
        if (!(c->source = strdup(e->value))) {
            error_nomem(err, "reading the holiday calendar");
            return -1;
        }
    } else if (strcmp(e->key, "name.ja") != 0 && strcmp(e->key, "name.en") != 0) {
        return fail(err, path, e,
                    "unknown key in [calendar]; expected first_year, last_year, weekend, year_end, "
                    "source, name.ja, name.en",
                    NULL);
    }
    return 0;
}

/* "2021-07-22 海の日 | Marine Day" */
static int holiday_line(holiday_calendar *c, const char *path, const conf_entry *e, int year,
                        jiko_error *err)
{
    const char *v = e->value;
    char date[11];
    jst_date d;
    size_t vl = strlen(v);
    const char *bar = strstr(v, " | ");
    if (vl < 12 || v[10] != ' ' || !bar || bar < v + 11)
        return fail(err, path, e, "expected 'YYYY-MM-DD 名称 | English name'", v);
    memcpy(date, v, 10);
    date[10] = '\0';
    if (!jst_parse_date(date, &d))
        return fail(err, path, e, "expected a valid date YYYY-MM-DD", date);
    if (d.y != year)
        return fail(err, path, e, "the date is not in the year of its [year] section", date);
    const char *ja = v + 11, *en = bar + 3;
    if (ja == bar || !*en)
        return fail(err, path, e, "expected both names: 'YYYY-MM-DD 名称 | English name'", v);
    holiday_day *p = realloc(c->days, (c->n_days + 1) * sizeof *p);
    if (!p) {
        error_nomem(err, "reading the holiday calendar");
        return -1;
    }
    c->days = p;
    holiday_day *h = &p[c->n_days];
    int64_t dn = jst_days_from_civil(d);
    if (c->n_days && dn <= p[c->n_days - 1].day)
        return fail(err, path, e, "holidays must be listed in date order, each once", date);
    h->day = (int32_t)dn;
    h->line = e->line;
    h->name_ja = strndup(ja, (size_t)(bar - ja));
    h->name_en = strdup(en);
    c->n_days++;
    if (!h->name_ja || !h->name_en) {
        error_nomem(err, "reading the holiday calendar");
        return -1;
    }
    return 0;
}

int holiday_from_conf(holiday_calendar *c, const conf_file *f, jiko_error *err)
{
    memset(c, 0, sizeof *c);
    if (!(c->path = strdup(f->path))) {
        error_nomem(err, "reading the holiday calendar");
        return -1;
    }
    if (!f->n_sections || strcmp(f->sections[0].type, "calendar") != 0 ||
        f->sections[0].name[0]) {
        error_set(err, JIKO_ERR_CONFIG, f->path, f->n_sections ? f->sections[0].line : 1, NULL,
                  "a holiday calendar must start with a [calendar] section");
        goto fail;
    }
    const conf_section *h = &f->sections[0];
    for (size_t i = 0; i < h->n_entries; i++)
        if (calendar_key(c, f->path, &h->entries[i], err))
            goto fail;
    const char *missing = !c->first_year ? "first_year" : !c->last_year ? "last_year"
                        : !c->weekend_mask ? "weekend" : !c->year_end_from ? "year_end"
                        : !c->source ? "source" : NULL;
    if (missing) {
        error_set(err, JIKO_ERR_CONFIG, f->path, h->line, missing, "missing in [calendar]");
        goto fail;
    }
    if (c->last_year < c->first_year) {
        error_set(err, JIKO_ERR_CONFIG, f->path, h->line, "last_year", "earlier than first_year");
        goto fail;
    }
    int want = c->first_year;
    for (size_t s = 1; s < f->n_sections; s++) {
        const conf_section *sec = &f->sections[s];
        int y;
        if (strcmp(sec->type, "year") != 0 || !parse_year(sec->name, &y)) {
            error_set(err, JIKO_ERR_CONFIG, f->path, sec->line, NULL,
                      "expected a [year YYYY] section, got [%s%s%s]", sec->type,
                      sec->name[0] ? " " : "", sec->name);
            goto fail;
        }
        if (y != want) {
            error_set(err, JIKO_ERR_CONFIG, f->path, sec->line, NULL,
                      "expected [year %d]: the years from first_year to last_year, each once and "
                      "in order, got [year %d]",
                      want, y);
            goto fail;
        }
        want++;
        for (size_t i = 0; i < sec->n_entries; i++) {
            const conf_entry *e = &sec->entries[i];
            if (strcmp(e->key, "holiday") != 0) {
                fail(err, f->path, e, "unknown key in [year]; expected 'holiday'", NULL);
                goto fail;
            }
            if (holiday_line(c, f->path, e, y, err))
                goto fail;
        }
    }
    if (want != c->last_year + 1) {
        error_set(err, JIKO_ERR_CONFIG, f->path, h->line, "last_year",
                  "the calendar says it covers %d to %d but has no [year %d]", c->first_year,
                  c->last_year, want);
        goto fail;
    }
    /* A run of closed days longer than any real one means a broken file
     * (e.g. every weekday a weekend), not a long holiday; refusing it here
     * also bounds holiday_next_open. */
    jst_date d = {c->first_year, 1, 1};
    for (int run = 0; d.y <= c->last_year; d = jst_add_days(d, 1)) {
        run = holiday_kind_of(c, d, NULL) == HOLIDAY_OPEN ? 0 : run + 1;
        if (run > HOLIDAY_MAX_RUN) {
            error_set(err, JIKO_ERR_CONFIG, f->path, h->line, NULL,
                      "more than %d administrative holidays in a row up to %d-%02d-%02d: "
                      "check weekend, year_end and the holidays",
                      HOLIDAY_MAX_RUN, d.y, d.m, d.d);
            goto fail;
        }
    }
    return 0;
fail:
    holiday_free(c);
    return -1;
}

int holiday_load(holiday_calendar *c, const char *path, jiko_error *err)
{
    conf_file f;
    memset(c, 0, sizeof *c);
    if (conf_load(path, &f, err))
        return -1;
    int rc = holiday_from_conf(c, &f, err);
    conf_free(&f);
    return rc;
}

void holiday_free(holiday_calendar *c)
{
    for (size_t i = 0; i < c->n_days; i++) {
        free(c->days[i].name_ja);
        free(c->days[i].name_en);
    }
    free(c->days);
    free(c->source);
    free(c->path);
    memset(c, 0, sizeof *c);
}

bool holiday_covers(const holiday_calendar *c, jst_date d)
{
    return c->first_year && d.y >= c->first_year && d.y <= c->last_year;
}

static const holiday_day *find_day(const holiday_calendar *c, int64_t dn)
{
    size_t lo = 0, hi = c->n_days;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->days[mid].day == dn)
            return &c->days[mid];
        if (c->days[mid].day < dn)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

holiday_kind holiday_kind_of(const holiday_calendar *c, jst_date d, const holiday_day **named)
{
    int64_t dn = jst_days_from_civil(d);
    const holiday_day *h = find_day(c, dn);
    if (named)
        *named = h;
    if (h)
        return HOLIDAY_NATIONAL;
    int md = d.m * 100 + d.d;
    if (c->year_end_from && (md >= c->year_end_from || md <= c->year_end_to))
        return HOLIDAY_YEAR_END;
    if (c->weekend_mask & (1u << weekday(dn)))
        return HOLIDAY_WEEKEND;
    return HOLIDAY_OPEN;
}

int holiday_next_open(const holiday_calendar *c, jst_date d, jst_date *out, int *missing_year)
{
    /* Bounded: each step either finds an open day or leaves the covered
     * years within HOLIDAY_MAX_RUN + 1 steps (checked at load). */
    for (int step = 0; step <= HOLIDAY_MAX_RUN + 1; step++, d = jst_add_days(d, 1)) {
        if (!holiday_covers(c, d)) {
            *missing_year = d.y;
            return -1;
        }
        if (holiday_kind_of(c, d, NULL) == HOLIDAY_OPEN) {
            *out = d;
            return 0;
        }
    }
    *missing_year = d.y;
    return -1;
}

const char *holiday_why(const holiday_calendar *c, jst_date d, bool ja)
{
    const holiday_day *h;
    switch (holiday_kind_of(c, d, &h)) {
    case HOLIDAY_NATIONAL: return ja ? h->name_ja : h->name_en;
    case HOLIDAY_YEAR_END: return ja ? "年末年始" : "year-end closure";
    case HOLIDAY_WEEKEND: {
        int w = weekday(jst_days_from_civil(d));
        return ja ? WEEKDAY_NAME_JA[w] : WEEKDAY_NAME_EN[w];
    }
    case HOLIDAY_OPEN: break;
    }
    return ja ? "開庁日" : "a working day";
}
