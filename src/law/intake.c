/* intake.c — bytes → incident → rulebook → classification (see intake.h). */
#include "intake.h"

#include <string.h>

const rulebook *intake_rulebook(const rules_set *rules, int64_t started_ms, const char *file,
                                long line, jiko_error *err)
{
    const rulebook *book = rules_select(rules, started_ms);
    if (book)
        return book;
    if (rules->n == 0) {
        error_set(err, JIKO_ERR_CONFIG, file, line, "started_at", "no rulebook is loaded");
        return NULL;
    }
    char d[16];
    jst_format_date(rules->books[0].effective, d, sizeof d);
    error_set(err, JIKO_ERR_INVALID, file, line, "started_at",
              "no rulebook is in force on that date; the earliest (%s) takes effect %s",
              rules->books[0].id, d);
    return NULL;
}

int intake_record(const intake_opts *o, const char *text, size_t len, const char *file,
                  long line, incident *inc, classify_result *res, jiko_error *err)
{
    if (incident_parse(inc, text, len, o->cat, file, line, err))
        return -1;
    const rulebook *book = o->forced;
    if (!book && !(book = intake_rulebook(o->rules, inc->started_ms, file, line, err))) {
        incident_free(inc);
        return -1;
    }
    classify_incident(book, o->cat, inc, o->now_ms, res);
    res->forced = o->forced != NULL;
    if (classify_check_calendar(res, o->cat, file, line, err)) {
        incident_free(inc);
        return -1;
    }
    return 0;
}

bool intake_line(char **s, size_t *len, long lineno)
{
    if (lineno == 1 && *len >= 3 && memcmp(*s, "\xEF\xBB\xBF", 3) == 0) {
        *s += 3;
        *len -= 3;
    }
    while (*len && ((*s)[*len - 1] == '\n' || (*s)[*len - 1] == '\r'))
        (*len)--;
    (*s)[*len] = '\0';
    for (size_t k = 0; k < *len; k++)
        if ((*s)[k] != ' ' && (*s)[k] != '\t')
            return true;
    return false;
}
