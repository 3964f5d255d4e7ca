/*
 * fuzz_notice.c — libFuzzer target for the notice a person publishes
 * (notice_parse) and for what the public then sees of it: an accepted
 * notice is put on a status page of one incident and the page and the Atom
 * feed are written.  Aborts when
 *   - a rejection is not kind invalid with a field, or an acceptance breaks
 *     the promises of notice.h (kind, channel, non-blank body, limits);
 *   - the person's text changes the markup: the page and the feed must
 *     have as many '<' with the notice's title and text as with them empty
 *     (everything they hold is escaped), and no control character but tab
 *     and line breaks (not allowed in XML).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_env.h"
#include "notice.h"
#include "status.h"

/* '<' in the page and feed of one incident holding notice n; -1 for a
 * control character that XML does not allow. */
static long markup(const fuzz_data *env, json_t *record, const status_notice *n)
{
    status_notice one = *n;
    status_incident si = {record, "A", "i-1", 1627970400000, 0, true, false, &one, 1};
    status_page p = {(char *)"A", 1627980000000, true, &si, 1, 1, n->at_ms};
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return -2;
    status_write_html(f, &p, &env->cat, true);
    int failed = status_write_atom(f, &p, &env->cat, false);
    if (fclose(f) != 0 || failed) {
        free(text);
        return -2;
    }
    long lt = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '<')
            lt++;
        else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            lt = -1;
        if (lt < 0)
            break;
    }
    free(text);
    return lt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_data *env = fuzz_data_get(0);
    notice_input n;
    jiko_error err;
    if (notice_parse((const char *)data, size, 1627980000000, &n, &err)) {
        if ((err.kind != JIKO_ERR_INVALID && err.kind != JIKO_ERR_NOMEM) ||
            (err.kind == JIKO_ERR_INVALID && !err.field[0]))
            abort();
        return 0;
    }
    if (!n.body || !*n.body || strlen(n.body) > NOTICE_TEXT_MAX ||
        (n.title && strlen(n.title) > NOTICE_TITLE_MAX) || !n.channel ||
        notice_kind_name(n.kind) == NULL || n.at_ms < JST_MIN_MS || n.at_ms > JST_MAX_MS)
        abort();
    json_t *record = json_pack("{s:s,s:s,s:[{s:s}]}", "id", "i-1", "operator", "A", "services",
                               "service", "ftth");
    if (record) {
        status_notice full = {n.at_ms, notice_kind_name(n.kind), n.channel, n.title, n.body,
                              n.lang};
        status_notice bare = {n.at_ms, notice_kind_name(n.kind), n.channel, n.title ? "" : NULL,
                              "", n.lang};
        long a = markup(env, record, &full), b = markup(env, record, &bare);
        if (a != -2 && b != -2 && (a < 0 || a != b))
            abort();
        json_decref(record);
    }
    notice_input_free(&n);
    return 0;
}
