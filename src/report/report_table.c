/* report_table.c — the table model and its text, Markdown, CSV and HTML
 * writers (report_table.h). */
#include "report_table.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "rules.h"
#include "utf8.h"

void rtable_init(rtable *t, const char *id, const char *title)
{
    memset(t, 0, sizeof *t);
    t->id = id;
    t->title = strdup(title);
    t->failed = !t->title;
}

void rtable_col(rtable *t, const char *raw, const char *label, bool numeric)
{
    if (t->ncols == RTABLE_COLS_MAX) {
        t->failed = true;
        return;
    }
    t->col_raw[t->ncols] = raw;
    t->col_label[t->ncols] = strdup(label);
    t->failed |= !t->col_label[t->ncols];
    t->numeric[t->ncols++] = numeric;
}

void rtable_row(rtable *t)
{
    rcell *c = realloc(t->cells, (size_t)(t->nrows + 1) * (size_t)t->ncols * sizeof *c);
    if (!c) {
        t->failed = true;
        return;
    }
    t->cells = c;
    memset(c + (size_t)t->nrows * (size_t)t->ncols, 0, (size_t)t->ncols * sizeof *c);
    t->nrows++;
}

/* The next empty cell of the last row. */
static rcell *next_cell(rtable *t)
{
    if (!t->nrows)
        return NULL;
    rcell *row = t->cells + (size_t)(t->nrows - 1) * (size_t)t->ncols;
    for (int i = 0; i < t->ncols; i++)
        if (!row[i].raw)
            return &row[i];
    return NULL;
}

void rtable_cell(rtable *t, const char *raw, const char *disp)
{
    rcell *c = next_cell(t);
    if (!c) {
        t->failed = true;
        return;
    }
    c->raw = strdup(raw ? raw : "");
    c->disp = disp ? strdup(disp) : NULL;
    t->failed |= !c->raw || (disp && !c->disp);
}

void rtable_cellf(rtable *t, const char *disp, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    rtable_cell(t, buf, disp);
}

void rtable_note(rtable *t, const char *fmt, ...)
{
    if (t->nnotes == RTABLE_NOTES_MAX) { /* a table with more notes is a bug: never drop one */
        t->failed = true;
        return;
    }
    /* notes quoted from a release can be long (the release's 注1 is ~1.5 KB) */
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *buf = n < 0 ? NULL : malloc((size_t)n + 1);
    if (buf)
        vsnprintf(buf, (size_t)n + 1, fmt, again);
    va_end(again);
    t->notes[t->nnotes] = buf;
    t->failed |= !buf;
    t->nnotes++;
}

void rtable_free(rtable *t)
{
    free(t->title);
    for (int i = 0; i < t->ncols; i++)
        free(t->col_label[i]);
    for (size_t i = 0; i < (size_t)t->nrows * (size_t)t->ncols; i++) {
        free(t->cells[i].raw);
        free(t->cells[i].disp);
    }
    free(t->cells);
    for (int i = 0; i < t->nnotes; i++)
        free(t->notes[i]);
    memset(t, 0, sizeof *t);
}

static const char *disp(const rcell *c)
{
    return c->disp ? c->disp : c->raw ? c->raw : "";
}

static void pad(FILE *out, const char *s, size_t width, bool right)
{
    size_t w = utf8_width(s);
    if (right)
        for (; w < width; w++)
            fputc(' ', out);
    fputs(s, out);
    if (!right)
        for (; w < width; w++)
            fputc(' ', out);
}

/* Text cells wider than this wrap onto further lines of their row. */
enum { TEXT_CELL_MAX = 48 };

/* Bytes of the longest prefix of s that fits in `width` columns (at least
 * one character, so that a wide character always makes progress), and its
 * width in *w. */
static size_t fit(const char *s, size_t width, size_t *w)
{
    size_t n = 0, len;
    *w = 0;
    while (s[n]) {
        size_t cw = utf8_char_width(s + n, &len);
        if (n && *w + cw > width)
            break;
        *w += cw;
        n += len;
    }
    return n;
}

void rtable_write_text(FILE *out, const rtable *t)
{
    size_t width[RTABLE_COLS_MAX] = {0};
    for (int c = 0; c < t->ncols; c++) {
        width[c] = utf8_width(t->col_label[c]);
        for (int r = 0; r < t->nrows; r++) {
            size_t w = utf8_width(disp(&t->cells[(size_t)r * (size_t)t->ncols + (size_t)c]));
            if (w > width[c])
                width[c] = w;
        }
        if (!t->numeric[c] && width[c] > TEXT_CELL_MAX)
            width[c] = TEXT_CELL_MAX;
    }
    fprintf(out, "%s\n", t->title);
    size_t total = 0;
    for (int c = 0; c < t->ncols; c++) {
        pad(out, t->col_label[c], width[c], t->numeric[c]);
        fputs(c + 1 < t->ncols ? "  " : "\n", out);
        total += width[c] + (c + 1 < t->ncols ? 2 : 0);
    }
    for (size_t i = 0; i < total; i++)
        fputc('-', out);
    fputc('\n', out);
    for (int r = 0; r < t->nrows; r++) {
        /* what is left of each cell; a row goes on until all are written */
        const char *rest[RTABLE_COLS_MAX];
        for (int c = 0; c < t->ncols; c++)
            rest[c] = disp(&t->cells[(size_t)r * (size_t)t->ncols + (size_t)c]);
        for (bool more = true; more;) {
            more = false;
            for (int c = 0; c < t->ncols; c++) {
                size_t w, n = t->numeric[c] ? strlen(rest[c]) : fit(rest[c], width[c], &w);
                /* break Latin text between words; Japanese breaks anywhere */
                if (rest[c][n] && rest[c][n] != ' ') {
                    size_t k = n;
                    while (k && rest[c][k - 1] != ' ')
                        k--;
                    if (k > 1)
                        n = k - 1;
                }
                char piece[4 * TEXT_CELL_MAX + 64];
                if (n >= sizeof piece)
                    n = sizeof piece - 1;
                memcpy(piece, rest[c], n);
                piece[n] = '\0';
                rest[c] += n;
                while (*rest[c] == ' ')
                    rest[c]++;
                more |= *rest[c] != '\0';
                /* the last column is not padded: no trailing blanks */
                if (c + 1 < t->ncols) {
                    pad(out, piece, width[c], t->numeric[c]);
                    fputs("  ", out);
                } else {
                    pad(out, piece, t->numeric[c] ? width[c] : 0, t->numeric[c]);
                    fputc('\n', out);
                }
            }
        }
    }
    for (int i = 0; i < t->nnotes; i++)
        fprintf(out, "  %s\n", t->notes[i]);
    fputc('\n', out);
}

void report_md_escape(FILE *out, const char *s, const char *line_break)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '|')
            fputs("\\|", out);
        else if (c == '\n')
            fputs(line_break, out);
        else if (c == '<' && (isalpha((unsigned char)s[1]) || s[1] == '/' || s[1] == '!' ||
                              s[1] == '?'))
            fputs("&lt;", out); /* would open a tag, a comment or a declaration */
        else if (c == '&' && (isalnum((unsigned char)s[1]) || s[1] == '#'))
            fputs("&amp;", out); /* would start an entity */
        else if (c < 0x20 || c == 0x7f)
            fputc(' ', out);
        else
            fputc(c, out);
    }
}

static void md_text(FILE *out, const char *s) { report_md_escape(out, s, " "); }

void rtable_write_md(FILE *out, const rtable *t)
{
    fprintf(out, "## %s\n\n|", t->title);
    for (int c = 0; c < t->ncols; c++) {
        fputc(' ', out);
        md_text(out, t->col_label[c]);
        fputs(" |", out);
    }
    fputs("\n|", out);
    for (int c = 0; c < t->ncols; c++)
        fputs(t->numeric[c] ? " ---: |" : " --- |", out);
    fputc('\n', out);
    for (int r = 0; r < t->nrows; r++) {
        fputc('|', out);
        for (int c = 0; c < t->ncols; c++) {
            fputc(' ', out);
            md_text(out, disp(&t->cells[(size_t)r * (size_t)t->ncols + (size_t)c]));
            fputs(" |", out);
        }
        fputc('\n', out);
    }
    if (t->nnotes)
        fputc('\n', out);
    for (int i = 0; i < t->nnotes; i++)
        fprintf(out, "- %s\n", t->notes[i]);
    fputc('\n', out);
}

/* A text cell a spreadsheet would run as a formula: it starts with = + - @
 * (or a tab or carriage return, which some strip first), unless it is a
 * plain number such as -3 or +1.5, which stays a number. */
static bool formula_like(const char *s)
{
    if (!*s || !strchr("=+-@\t\r", *s))
        return false;
    char *end;
    (void)strtod(s, &end);
    return end == s || *end;
}

void report_csv_field(FILE *out, const char *s)
{
    bool formula = formula_like(s);
    if (!formula && !strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    if (formula)
        fputc('\'', out); /* shown as text, never evaluated (OWASP CSV injection) */
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

void rtable_write_csv(FILE *out, const rtable *t, bool with_title)
{
    if (with_title)
        fprintf(out, "# %s\n", t->id);
    for (int c = 0; c < t->ncols; c++) {
        report_csv_field(out, t->col_raw[c]);
        fputc(c + 1 < t->ncols ? ',' : '\n', out);
    }
    for (int r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols; c++) {
            const rcell *cell = &t->cells[(size_t)r * (size_t)t->ncols + (size_t)c];
            report_csv_field(out, cell->raw ? cell->raw : "");
            fputc(c + 1 < t->ncols ? ',' : '\n', out);
        }
}

void report_html_escape(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default:
            /* C0 controls other than tab and line breaks are not allowed in
             * XML (the Atom feed) and are parse errors in HTML: dropped */
            if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n' || *s == '\r')
                fputc(*s, out);
        }
    }
}

void rtable_write_html(FILE *out, const rtable *t)
{
    fprintf(out, "<table id=\"t-%s\">\n<thead><tr>", t->id);
    for (int c = 0; c < t->ncols; c++) {
        fputs(t->numeric[c] ? "<th class=\"n\">" : "<th>", out);
        report_html_escape(out, t->col_label[c]);
        fputs("</th>", out);
    }
    fputs("</tr></thead>\n<tbody>\n", out);
    for (int r = 0; r < t->nrows; r++) {
        fputs("<tr>", out);
        for (int c = 0; c < t->ncols; c++) {
            const rcell *cell = &t->cells[(size_t)r * (size_t)t->ncols + (size_t)c];
            bool na = cell->raw && strcmp(cell->raw, "na") == 0;
            fprintf(out, "<td%s data-raw=\"", na ? " class=\"na\"" : t->numeric[c] ? " class=\"n\"" : "");
            report_html_escape(out, cell->raw ? cell->raw : "");
            fputs("\">", out);
            report_html_escape(out, disp(cell));
            fputs("</td>", out);
        }
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
    for (int i = 0; i < t->nnotes; i++) {
        fputs("<p class=\"note\">", out);
        report_html_escape(out, t->notes[i]);
        fputs("</p>\n", out);
    }
}

char *report_group_digits(long long v, char *buf, size_t size)
{
    return num_group_digits(v, buf, size);
}

const char *report_category_kanji(const char *id)
{
    static const char *const kanji[] = {"一", "二", "三", "四", "五", "六", "七", "八", "九"};
    if (id && id[0] >= '1' && id[0] <= '9' && !id[1])
        return kanji[id[0] - '1'];
    return id;
}

const char *report_category_text(const rules_clause *cl, bool ja, bool with_source, char *buf,
                                 size_t size)
{
    bool numbered = cl->kind == RULES_SERIOUS && report_category_kanji(cl->id) != cl->id;
    if (ja && numbered)
        snprintf(buf, size, "%s：%s", report_category_kanji(cl->id), cl->name_ja);
    else if (ja)
        snprintf(buf, size, "%s", cl->name_ja);
    else
        snprintf(buf, size, "%s %s", cl->id, cl->name_en);
    if (with_source) {
        size_t n = strlen(buf);
        snprintf(buf + n, size - n, ja ? "［%s］" : " [%s]", cl->source);
    }
    return buf;
}

static const char *const channel_codes[] = {"web", "sns", "press", "mail", "other"};

bool report_channel_known(const char *channel)
{
    for (int i = 0; channel && i < 5; i++)
        if (strcmp(channel, channel_codes[i]) == 0)
            return true;
    return false;
}

const char *report_channel_label(const char *channel, bool ja)
{
    const char *const *codes = channel_codes;
    static const char *const jl[] = {"自社サイト", "SNS", "報道発表", "メール", "その他"};
    static const char *const el[] = {"website", "SNS", "press release", "e-mail", "other"};
    for (int i = 0; channel && i < 5; i++)
        if (strcmp(channel, codes[i]) == 0)
            return ja ? jl[i] : el[i];
    return channel ? channel : "";
}
