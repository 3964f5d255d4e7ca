/*
 * jst.c — RFC 3339 parsing and JST calendar arithmetic (see jst.h).
 *
 * Civil-date conversion uses Howard Hinnant's days_from_civil algorithm, which
 * is exact over the whole proleptic Gregorian calendar and needs no tables or
 * libc time zone state (timegm/localtime are neither portable nor thread-safe
 * with respect to TZ).
 */
#include "jst.h"

/* Callers size their buffers by these: jst_format needs 32 bytes (jst.h),
 * jst_format_date 11. */
_Static_assert(JST_TEXT_MAX >= 32, "jst_format needs 32 bytes");
_Static_assert(JST_DATE_TEXT_MAX >= 11, "jst_format_date needs 11 bytes");

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t jst_days_from_civil(jst_date dt)
{
    int64_t y = dt.y;
    unsigned m = (unsigned)dt.m, d = (unsigned)dt.d;
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

jst_date jst_civil_from_days(int64_t z)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t y = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    jst_date r = {(int)(y + (m <= 2)), (int)m, (int)d};
    return r;
}

int jst_days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dim[m - 1];
}

static int digits(const char *s, size_t len, size_t at, size_t n)
{
    int v = 0;
    if (at + n > len)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = s[at + i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    return v;
}

bool jst_parse_date(const char *s, jst_date *out)
{
    size_t len = strlen(s);
    if (len != 10 || s[4] != '-' || s[7] != '-')
        return false;
    int y = digits(s, len, 0, 4), m = digits(s, len, 5, 2), d = digits(s, len, 8, 2);
    if (y < 0 || m < 1 || m > 12 || d < 1 || d > jst_days_in_month(y, m))
        return false;
    out->y = y;
    out->m = m;
    out->d = d;
    return true;
}

#define FAIL(msg)                                                                  \
    do {                                                                           \
        if (why)                                                                   \
            *why = msg;                                                            \
        return false;                                                              \
    } while (0)

bool jst_parse_rfc3339(const char *s, size_t len, int64_t *ms_out, const char **why)
{
    static const char *shape =
        "expected an RFC 3339 date-time like \"2021-08-03T15:00:00+09:00\"";
    if (len < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':')
        FAIL(shape);
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        FAIL(shape);
    int y = digits(s, len, 0, 4), mo = digits(s, len, 5, 2), d = digits(s, len, 8, 2);
    int h = digits(s, len, 11, 2), mi = digits(s, len, 14, 2), se = digits(s, len, 17, 2);
    if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0)
        FAIL(shape);
    if (y < 1900)
        FAIL("year before 1900 is not plausible for an incident");
    if (mo < 1 || mo > 12)
        FAIL("month must be 01-12");
    if (d < 1 || d > jst_days_in_month(y, mo))
        FAIL("day does not exist in that month");
    if (h > 23)
        FAIL("hour must be 00-23");
    if (mi > 59)
        FAIL("minute must be 00-59");
    if (se > 59)
        FAIL("second must be 00-59 (leap seconds are not accepted)");
    size_t i = 19;
    int frac_ms = 0;
    if (i < len && s[i] == '.') {
        i++;
        size_t start = i, scale = 100;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            /* Keep milliseconds; finer digits are truncated. */
            if (scale > 0) {
                frac_ms += (s[i] - '0') * (int)scale;
                scale /= 10;
            }
            i++;
        }
        if (i == start || i - start > 9)
            FAIL("fraction of a second must have 1 to 9 digits");
    }
    int offset_min = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1;
        int oh = digits(s, len, i + 1, 2), om = digits(s, len, i + 4, 2);
        if (oh < 0 || om < 0 || s[i + 3] != ':')
            FAIL("time zone offset must be Z or +HH:MM / -HH:MM");
        if (oh > 23 || om > 59)
            FAIL("time zone offset out of range");
        offset_min = sign * (oh * 60 + om);
        i += 6;
    } else {
        FAIL("a time zone is required: Z or an offset like +09:00");
    }
    if (i != len)
        FAIL("unexpected characters after the time zone");
    jst_date dt = {y, mo, d};
    int64_t days = jst_days_from_civil(dt);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - (int64_t)offset_min * 60;
    int64_t ms = secs * 1000 + frac_ms;
    /* an offset can carry the instant across the year bounds: judge the JST
     * date, which is what every statutory date and every output uses */
    if (ms < JST_MIN_MS || ms > JST_MAX_MS)
        FAIL("outside the supported range: 1900-01-01T00:00:00+09:00 to "
             "9999-12-31T23:59:59.999+09:00");
    *ms_out = ms;
    return true;
}

jst_date jst_date_of(int64_t ms)
{
    int64_t local = ms + JST_OFFSET_MS;
    int64_t days = local >= 0 ? local / JST_MS_PER_DAY : -((-local + JST_MS_PER_DAY - 1) / JST_MS_PER_DAY);
    return jst_civil_from_days(days);
}

int64_t jst_ms_into_day(int64_t ms)
{
    int64_t local = ms + JST_OFFSET_MS;
    int64_t r = local % JST_MS_PER_DAY;
    return r < 0 ? r + JST_MS_PER_DAY : r;
}

int64_t jst_midnight(jst_date d)
{
    return jst_days_from_civil(d) * JST_MS_PER_DAY - JST_OFFSET_MS;
}

/* Two decimal digits of v (0..99) at p; the byte after them. */
static char *put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

char *jst_format(int64_t ms, char *buf, size_t size)
{
    jst_date d = jst_date_of(ms);
    int64_t into = jst_ms_into_day(ms);
    int h = (int)(into / 3600000), mi = (int)(into / 60000 % 60), se = (int)(into / 1000 % 60);
    int frac = (int)(into % 1000);
    if (d.y >= 0 && d.y <= 9999 && size >= 30) {
        /* by hand: servers write several per answer, and snprintf with
         * seven numbers was a twentieth of one (docs/serve-performance.md) */
        char *p = jst_format_date(d, buf, size) + 10;
        *p++ = 'T';
        p = put2(p, h);
        *p++ = ':';
        p = put2(p, mi);
        *p++ = ':';
        p = put2(p, se);
        if (frac) {
            *p++ = '.';
            *p++ = (char)('0' + frac / 100);
            p = put2(p, frac % 100);
        }
        memcpy(p, "+09:00", 7);
        return buf;
    }
    if (frac)
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+09:00", d.y, d.m, d.d, h, mi, se, frac);
    else
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d+09:00", d.y, d.m, d.d, h, mi, se);
    return buf;
}

char *jst_format_date(jst_date d, char *buf, size_t size)
{
    /* by hand in the common case: every reason of a classification names a
     * date, and snprintf was most of that */
    if (size >= 11 && d.y >= 0 && d.y <= 9999 && d.m >= 0 && d.m <= 99 && d.d >= 0 &&
        d.d <= 99) {
        char *p = put2(put2(buf, d.y / 100), d.y % 100);
        *p++ = '-';
        p = put2(p, d.m);
        *p++ = '-';
        p = put2(p, d.d);
        *p = '\0';
        return buf;
    }
    snprintf(buf, size, "%04d-%02d-%02d", d.y, d.m, d.d);
    return buf;
}

/* The eras and their first days (改元): 明治 counted from the adoption of the
 * Gregorian calendar (明治6年1月1日 = 1873-01-01). */
static const struct {
    const char *name;
    int y, m, d; /* first day */
} ERAS[] = {
    {"令和", 2019, 5, 1}, {"平成", 1989, 1, 8}, {"昭和", 1926, 12, 25},
    {"大正", 1912, 7, 30}, {"明治", 1868, 10, 23},
};

/* The era of a date and its year in that era; -1 before 1873. */
static int era_of(jst_date d, int *era_year)
{
    if (d.y < 1873)
        return -1;
    for (int i = 0; i < (int)(sizeof ERAS / sizeof ERAS[0]); i++) {
        jst_date first = {ERAS[i].y, ERAS[i].m, ERAS[i].d};
        if (jst_compare_dates(d, first) >= 0) {
            *era_year = d.y - ERAS[i].y + 1;
            return i;
        }
    }
    return -1;
}

/* "令和3年" or "令和元年" */
static int era_year_text(int era, int n, char *buf, size_t size)
{
    if (n == 1)
        return snprintf(buf, size, "%s元年", ERAS[era].name);
    return snprintf(buf, size, "%s%d年", ERAS[era].name, n);
}

char *jst_format_wareki_date(jst_date d, char *buf, size_t size)
{
    int n, era = era_of(d, &n);
    if (era < 0) {
        snprintf(buf, size, "%d年%d月%d日", d.y, d.m, d.d);
        return buf;
    }
    int k = era_year_text(era, n, buf, size);
    if (k >= 0 && (size_t)k < size)
        snprintf(buf + k, size - (size_t)k, "%d月%d日", d.m, d.d);
    return buf;
}

char *jst_format_wareki(int64_t ms, char *buf, size_t size)
{
    jst_format_wareki_date(jst_date_of(ms), buf, size);
    size_t k = strlen(buf);
    int64_t min = jst_ms_into_day(ms) / 60000;
    snprintf(buf + k, size - k, " %d時%02d分", (int)(min / 60), (int)(min % 60));
    return buf;
}

char *jst_format_wareki_fy(int fiscal_year, char *buf, size_t size)
{
    jst_date may = {fiscal_year, 5, 1};
    int n, era = era_of(may, &n);
    if (era < 0) {
        snprintf(buf, size, "%d年度", fiscal_year);
        return buf;
    }
    int k = era_year_text(era, n, buf, size);
    if (k >= 0 && (size_t)k < size)
        snprintf(buf + k, size - (size_t)k, "度"); /* 令和3年 -> 令和3年度 */
    return buf;
}

jst_date jst_add_days(jst_date d, int64_t days)
{
    return jst_civil_from_days(jst_days_from_civil(d) + days);
}

int jst_compare_dates(jst_date a, jst_date b)
{
    if (a.y != b.y)
        return a.y < b.y ? -1 : 1;
    if (a.m != b.m)
        return a.m < b.m ? -1 : 1;
    if (a.d != b.d)
        return a.d < b.d ? -1 : 1;
    return 0;
}

int jst_fiscal_year(jst_date d)
{
    return d.m >= 4 ? d.y : d.y - 1;
}

int jst_fiscal_quarter(jst_date d)
{
    return d.m >= 4 ? (d.m - 4) / 3 + 1 : 4;
}

jst_date jst_quarter_end(int fy, int q)
{
    /* Q1 ends 30 June, Q2 30 September, Q3 31 December of fy; Q4 31 March of fy+1. */
    int y = q == 4 ? fy + 1 : fy;
    int m = q == 4 ? 3 : 3 + 3 * q;
    jst_date r = {y, m, jst_days_in_month(y, m)};
    return r;
}

jst_date jst_end_of_month_after(jst_date d, int months)
{
    int idx = d.y * 12 + (d.m - 1) + months;
    int y = idx / 12, m = idx % 12 + 1;
    jst_date r = {y, m, jst_days_in_month(y, m)};
    return r;
}

char *jst_format_duration(int64_t ms, char *buf, size_t size)
{
    if (ms < 0)
        ms = 0;
    int64_t s = ms / 1000;
    int64_t h = s / 3600, m = s / 60 % 60, sec = s % 60;
    int n = 0;
    buf[0] = '\0';
    if (h)
        n += snprintf(buf + n, size - (size_t)n, "%lldh", (long long)h);
    if (m && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, "%lldm", (long long)m);
    if ((sec || n == 0) && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, "%llds", (long long)sec);
    return buf;
}

int64_t jst_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
