/*
 * report_table.h — a small table model shared by every report renderer.
 *
 * Each cell keeps two texts: the raw value written to CSV and JSON ("6709",
 * "na", "voice") and the display text for people ("6,709", "四半期報告対象外",
 * "音声サービス").  Builders fill tables once; text, Markdown, HTML and CSV
 * writers only lay them out, so every format shows the same figures.
 */
#ifndef JIKO_REPORT_TABLE_H
#define JIKO_REPORT_TABLE_H

#include <stdbool.h>
#include <stdio.h>

enum { RTABLE_COLS_MAX = 12, RTABLE_NOTES_MAX = 24 };

typedef enum report_format {
    REPORT_TEXT = 0,
    REPORT_MD = 1,
    REPORT_HTML = 2,
    REPORT_CSV = 3,
    REPORT_JSON = 4
} report_format;

typedef struct rcell {
    char *raw, *disp; /* disp NULL = same as raw */
} rcell;

typedef struct rtable {
    const char *id;
    char *title;
    int ncols;
    const char *col_raw[RTABLE_COLS_MAX];
    char *col_label[RTABLE_COLS_MAX];
    bool numeric[RTABLE_COLS_MAX]; /* right-aligned */
    int nrows;
    rcell *cells; /* nrows * ncols */
    char *notes[RTABLE_NOTES_MAX];
    int nnotes;
    bool failed; /* out of memory somewhere: the table must not be shown */
} rtable;

void rtable_init(rtable *t, const char *id, const char *title);
void rtable_col(rtable *t, const char *raw, const char *label, bool numeric);
/* Start a new row; cells are then set left to right with rtable_cell. */
void rtable_row(rtable *t);
void rtable_cell(rtable *t, const char *raw, const char *disp);
void rtable_cellf(rtable *t, const char *disp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rtable_note(rtable *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rtable_free(rtable *t);

/* Writers.  `with_title`: CSV writes "# id" before the header. */
void rtable_write_text(FILE *out, const rtable *t);
void rtable_write_md(FILE *out, const rtable *t);
void rtable_write_csv(FILE *out, const rtable *t, bool with_title);
void rtable_write_html(FILE *out, const rtable *t);

/* HTML-escape and CSV-quote helpers for the renderers (the escape also
 * serves XML: the Atom feed). */
void report_html_escape(FILE *out, const char *s);
/* Markdown text of one table cell: pipes escaped, line ends as
 * `line_break`, and no raw HTML: a '<' that would open a tag and a '&' that
 * would start an entity are written as entities, control characters as
 * spaces. */
void report_md_escape(FILE *out, const char *s, const char *line_break);

void report_csv_field(FILE *out, const char *s);

/* "6,709": thousands separators. buf needs 32 bytes. */
char *report_group_digits(long long v, char *buf, size_t size);

/* A serious-accident category id as the release writes it in Japanese: the
 * ordinance's item number in kanji ("5" -> "五"); ids that are not a digit
 * 1-9 ("critical", "all") are returned as given. */
const char *report_category_kanji(const char *id);

/* A serious-accident clause as the ordinance words it: Japanese with the
 * item number in kanji (五：一から四までに掲げる…; the critical-facility clause
 * and jp-2008's single clause have no number), English with its id; the
 * legal source in brackets when `with_source`.  Returns buf. */
struct rules_clause;
const char *report_category_text(const struct rules_clause *cl, bool ja, bool with_source,
                                 char *buf, size_t size);

/* A public notice's channel as a release words it: web -> 自社サイト /
 * "website", press -> 報道発表 / "press release", ... */
const char *report_channel_label(const char *channel, bool ja);

/* Whether a channel is one of the contract's (web, sns, press, mail, other). */
bool report_channel_known(const char *channel);

#endif
