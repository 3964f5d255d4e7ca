/* kpi_csv.c — KPI series as CSV text (see kpi_csv.h). */
#include "kpi_csv.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "jst.h"

/* NAB's "YYYY-MM-DD HH:MM:SS": 19 characters, perhaps with a fraction; the
 * date ends at 4 and 10.  Longer texts are not such times. */
#define SPACED_TIME_MIN 19
#define SPACED_TIME_MAX 40
/* Unix times are numbers of at most this many characters ... */
#define UNIX_TEXT_MAX 31
/* ... below this value; above UNIX_MS_FROM they are milliseconds (1e11 s is
 * the year 5138, 1e11 ms is 1973). */
#define UNIX_TIME_MAX 1e14
#define UNIX_MS_FROM 1e11

bool kpi_parse_time(const char *s, size_t n, int64_t *ms)
{
    const char *why;
    if (jst_parse_rfc3339(s, n, ms, &why))
        return true;
    /* NAB's "YYYY-MM-DD HH:MM:SS", taken as UTC */
    if (n >= SPACED_TIME_MIN && n <= SPACED_TIME_MAX && s[4] == '-' && s[10] == ' ') {
        char buf[SPACED_TIME_MAX + 2];
        memcpy(buf, s, n);
        strcpy(buf + n, "Z");
        return jst_parse_rfc3339(buf, n + 1, ms, &why);
    }
    /* Unix seconds, or milliseconds when too large to be seconds */
    char buf[UNIX_TEXT_MAX + 1], *end;
    if (n == 0 || n > UNIX_TEXT_MAX)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    double v = strtod(buf, &end);
    if (*end || !(v >= 0) || v > UNIX_TIME_MAX)
        return false;
    *ms = v > UNIX_MS_FROM ? (int64_t)v : (int64_t)(v * 1000.0);
    return true;
}

void kpi_csv_open(kpi_csv *r, FILE *fp, const char *source, kpi_csv_layout layout)
{
    memset(r, 0, sizeof *r);
    r->fp = fp;
    r->source = source;
    r->layout = layout;
    lines_init(&r->in, fp, source);
}

void kpi_csv_close(kpi_csv *r)
{
    lines_free(&r->in);
}

int kpi_csv_columns(const kpi_csv *r)
{
    return r->layout == KPI_CSV_SERIES ? r->columns : 2;
}

/* parse_*: a line that holds no data (blank, comment, header). */
#define LINE_SKIPPED 2

/* Reject the current line: the message names the file and line. */
#define REJECT(r, err, field, ...)                                                               \
    (error_set(err, JIKO_ERR_INVALID, (r)->source, (r)->line, field, __VA_ARGS__),              \
     KPI_CSV_REJECTED)

/* KPI_CSV_SERIES: 'timestamp,value' or 'series,timestamp,value', the count
 * fixed by the first data line (which may be a header).  Returns
 * KPI_CSV_ROW, KPI_CSV_REJECTED or LINE_SKIPPED. */
static int parse_series(kpi_csv *r, char *line, size_t len, kpi_row *row, jiko_error *err)
{
    if (!len || line[0] == '#')
        return LINE_SKIPPED;
    char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    int ncol = !c1 ? 1 : !c2 ? 2 : 3;
    if (!r->columns) {
        if (ncol < 2)
            return REJECT(r, err, NULL, "expected 'timestamp,value' or 'series,timestamp,value'");
        r->columns = ncol;
        if (strncmp(line, "timestamp,", 10) == 0 || strncmp(line, "series,", 7) == 0)
            return LINE_SKIPPED; /* header */
    }
    if (ncol != r->columns || (r->columns == 3 && strchr(c2 + 1, ',')))
        return REJECT(r, err, NULL, "expected %d comma-separated columns", r->columns);
    const char *ts_end = r->columns == 2 ? c1 : c2;
    row->series = r->columns == 3 ? line : NULL;
    row->series_len = r->columns == 3 ? (size_t)(c1 - line) : 0;
    row->time = r->columns == 2 ? line : c1 + 1;
    row->time_len = (size_t)(ts_end - row->time);
    row->value_text = ts_end + 1;
    if (!kpi_parse_time(row->time, row->time_len, &row->t_ms))
        return REJECT(r, err, "timestamp",
                      "expected RFC 3339, 'YYYY-MM-DD HH:MM:SS' or Unix time, got '%.*s'",
                      (int)(row->time_len > KPI_EXCERPT_MAX ? KPI_EXCERPT_MAX : row->time_len),
                      row->time);
    char *end;
    row->value = strtod(row->value_text, &end);
    if (end == row->value_text || *end)
        return REJECT(r, err, "value", "expected a number, got '%.*s'", KPI_EXCERPT_MAX,
                      row->value_text);
    row->value_len = strlen(row->value_text);
    return KPI_CSV_ROW;
}

/* KPI_CSV_GAUGE and KPI_CSV_NAB: 'timestamp,value', split at the first
 * comma; the gauge's value is a number and nothing else, NAB's value is the
 * number that starts the rest of the line. */
static int parse_pair(kpi_csv *r, char *line, size_t len, kpi_row *row, jiko_error *err)
{
    bool gauge = r->layout == KPI_CSV_GAUGE;
    if (!len || (gauge && line[0] == '#') ||
        (r->line == 1 && strncmp(line, "timestamp", 9) == 0))
        return LINE_SKIPPED;
    char *comma = strchr(line, ','), *end = NULL;
    row->value = comma ? strtod(comma + 1, &end) : 0;
    if (!comma || !kpi_parse_time(line, (size_t)(comma - line), &row->t_ms) ||
        end == comma + 1 || (gauge && *end))
        return REJECT(r, err, NULL, gauge ? "expected 'timestamp,value' with a time and a number"
                                          : "expected 'timestamp,value'");
    row->series = NULL;
    row->series_len = 0;
    row->time = line;
    row->time_len = (size_t)(comma - line);
    row->value_text = comma + 1;
    row->value_len = strlen(comma + 1);
    return KPI_CSV_ROW;
}

int kpi_csv_next(kpi_csv *r, kpi_row *row, jiko_error *err)
{
    char *buf;
    size_t len;
    int got;
    while ((got = lines_next(&r->in, &buf, &len, err)) > 0) {
        r->line = r->in.lineno;
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            len--;
        buf[len] = '\0';
        row->line = r->line;
        int rc = r->layout == KPI_CSV_SERIES ? parse_series(r, buf, len, row, err)
                                             : parse_pair(r, buf, len, row, err);
        if (rc != LINE_SKIPPED)
            return rc;
    }
    return got < 0 ? KPI_CSV_FAILED : KPI_CSV_END;
}
