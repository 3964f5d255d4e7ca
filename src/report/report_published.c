/*
 * report_published.c — reading catalogs/published.conf (report_published.h).
 * Every section and key is checked, so that a mistyped figure is an error
 * with its line rather than a silently missing row of the report.
 */
#include "report_published.h"

#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "report.h"
#include "report_render.h"

enum { PUB_FIRST_FY = 1985, PUB_LAST_FY = 9999 }; /* the Act took effect in 1985 */

static int bad(jiko_error *err, const conf_file *f, long line, const char *key, const char *what)
{
    error_set(err, JIKO_ERR_CONFIG, f->path, line, key, "%s", what);
    return -1;
}

/* "N" (0 or more) or "unknown" (-1). */
static int count_of(const conf_file *f, const conf_entry *e, bool unknown_ok, long *out,
                    jiko_error *err)
{
    if (unknown_ok && strcmp(e->value, "unknown") == 0) {
        *out = -1;
        return 0;
    }
    if (!num_parse_long(e->value, 0, 100000000, out))
        return bad(err, f, e->line, e->key,
                   unknown_ok ? "expected a count (0 or more) or \"unknown\""
                              : "expected a count (0 or more)");
    return 0;
}

static int code_of(const char *code, const char *const *codes, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(code, codes[i]) == 0)
            return i;
    return -1;
}

static int read_year(report_published *p, const conf_file *f, const conf_section *s,
                     jiko_error *err)
{
    long fy;
    if (!num_parse_long(s->name, PUB_FIRST_FY, PUB_LAST_FY, &fy))
        return bad(err, f, s->line, NULL, "expected [year FY] with a fiscal year such as 2021");
    if (report_published_year(p, (int)fy))
        return bad(err, f, s->line, NULL, "this fiscal year has a section already");
    report_pub_year y = {(int)fy, -1, -1, -1, -1, NULL};
    bool has_serious = false;
    for (size_t i = 0; i < s->n_entries; i++) {
        const conf_entry *e = &s->entries[i];
        int rc = 0;
        if (strcmp(e->key, "serious") == 0) {
            rc = count_of(f, e, true, &y.serious, err);
            has_serious = true;
        } else if (strcmp(e->key, "serious_operators") == 0)
            rc = count_of(f, e, false, &y.serious_operators, err);
        else if (strcmp(e->key, "equipment_known") == 0)
            rc = count_of(f, e, false, &y.equipment_known, err);
        else if (strcmp(e->key, "equipment_unknown") == 0)
            rc = count_of(f, e, false, &y.equipment_unknown, err);
        else if (strcmp(e->key, "source") == 0)
            y.source = e->value;
        else
            rc = bad(err, f, e->line, e->key,
                     "unknown key; expected serious, serious_operators, equipment_known, "
                     "equipment_unknown or source");
        if (rc)
            return -1;
    }
    if (!has_serious)
        return bad(err, f, s->line, "serious", "missing; expected a count or \"unknown\"");
    if (!y.source || !*y.source)
        return bad(err, f, s->line, "source", "missing; every published figure needs its source");
    report_pub_year *grown = realloc(p->years, (size_t)(p->n_years + 1) * sizeof *grown);
    if (!grown) {
        error_set(err, JIKO_ERR_NOMEM, f->path, s->line, NULL, "out of memory");
        return -1;
    }
    p->years = grown;
    int at = p->n_years++;
    while (at > 0 && p->years[at - 1].fy > y.fy) { /* keep them ascending */
        p->years[at] = p->years[at - 1];
        at--;
    }
    p->years[at] = y;
    return 0;
}

static int read_note(report_published *p, const conf_file *f, const conf_section *s, int fy,
                     jiko_error *err)
{
    report_pub_note n = {NULL, NULL, NULL, NULL, NULL, -1, -1};
    long from = -1, to = PUB_LAST_FY;
    const conf_entry *cell = NULL;
    for (size_t i = 0; i < s->n_entries; i++) {
        const conf_entry *e = &s->entries[i];
        if (strcmp(e->key, "table") == 0) {
            if (!report_table_known(e->value))
                return bad(err, f, e->line, e->key, "unknown table; expected an id of docs/reports.md");
            n.table = e->value;
        } else if (strcmp(e->key, "from") == 0 || strcmp(e->key, "to") == 0) {
            long *v = e->key[0] == 'f' ? &from : &to;
            if (!num_parse_long(e->value, PUB_FIRST_FY, PUB_LAST_FY, v))
                return bad(err, f, e->line, e->key, "expected a fiscal year such as 2019");
        } else if (strcmp(e->key, "ja") == 0)
            n.ja = e->value;
        else if (strcmp(e->key, "en") == 0)
            n.en = e->value;
        else if (strcmp(e->key, "source") == 0)
            n.source = e->value;
        else if (strcmp(e->key, "mark") == 0)
            n.mark = e->value;
        else if (strcmp(e->key, "cell") == 0)
            cell = e;
        else
            return bad(err, f, e->line, e->key,
                       "unknown key; expected table, from, to, cell, mark, ja, en or source");
    }
    static const char *const need[] = {"table", "from", "ja", "en", "source"};
    const void *have[] = {n.table, from < 0 ? NULL : "", n.ja, n.en, n.source};
    for (int i = 0; i < 5; i++)
        if (!have[i])
            return bad(err, f, s->line, need[i], "missing");
    if (!cell != !n.mark)
        return bad(err, f, s->line, cell ? "mark" : "cell", "cell and mark go together");
    if (cell) {
        char d[32], u[32], extra;
        if (strcmp(n.table, "matrix") != 0)
            return bad(err, f, cell->line, "cell", "only the matrix has cells to mark");
        if (sscanf(cell->value, "%31s %31s %c", d, u, &extra) != 2 ||
            (n.row = code_of(d, report_duration_codes, REPORT_DURATIONS)) < 0 ||
            (n.col = code_of(u, report_users_codes, REPORT_USERS)) < 0)
            return bad(err, f, cell->line, "cell",
                       "expected a duration row and a users column, e.g. \"2h_5h users_30k_100k\"");
    }
    if (fy < from || fy > to)
        return 0; /* checked, but not printed for this year */
    report_pub_note *grown = realloc(p->notes, (size_t)(p->n_notes + 1) * sizeof *grown);
    if (!grown) {
        error_set(err, JIKO_ERR_NOMEM, f->path, s->line, NULL, "out of memory");
        return -1;
    }
    p->notes = grown;
    p->notes[p->n_notes++] = n;
    return 0;
}

int report_published_read(report_published *p, const conf_file *f, int fy, jiko_error *err)
{
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < f->n_sections; i++) {
        const conf_section *s = &f->sections[i];
        int rc;
        if (strcmp(s->type, "year") == 0)
            rc = read_year(p, f, s, err);
        else if (strcmp(s->type, "note") == 0)
            rc = read_note(p, f, s, fy, err);
        else
            rc = bad(err, f, s->line, NULL, "unknown section; expected [year FY] or [note ID]");
        if (rc) {
            report_published_free(p);
            return -1;
        }
    }
    return 0;
}

void report_published_free(report_published *p)
{
    free(p->years);
    free(p->notes);
    memset(p, 0, sizeof *p);
}

const report_pub_year *report_published_year(const report_published *p, int fy)
{
    for (int i = 0; i < p->n_years; i++)
        if (p->years[i].fy == fy)
            return &p->years[i];
    return NULL;
}

const char *report_published_mark(const report_published *p, int row, int col)
{
    for (int i = 0; i < p->n_notes; i++)
        if (p->notes[i].mark && p->notes[i].row == row && p->notes[i].col == col)
            return p->notes[i].mark;
    return NULL;
}
