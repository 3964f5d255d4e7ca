/*
 * fuzz_report.c — libFuzzer target for the reports: the input is JSON Lines;
 * every record that validates is stored in an in-memory registry, and then
 * the yearly statistics of its fiscal year are computed and written in every
 * format and language, with the case sheet and the quarterly batch of each
 * record.  Whatever the records hold (names, codes, times at the edges),
 * the reports must come out without a crash, leak or undefined behaviour.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "fuzz_env.h"
#include "incident.h"
#include "jst.h"
#include "report.h"
#include "report_case.h"
#include "report_render.h"
#include "store.h"

/* /dev/null, opened once: every format is written there. */
static FILE *devnull_get(void)
{
    static FILE *f;
    if (!f && !(f = fopen("/dev/null", "w")))
        abort();
    return f;
}

enum { MAX_RECORDS = 16 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_data *env = fuzz_data_get(1);
    FILE *devnull = devnull_get();
    store *db;
    jiko_error err;
    if (store_open(&db, ":memory:", &err))
        abort();
    incident inc[MAX_RECORDS];
    classify_result res[MAX_RECORDS];
    int n = 0, fy = 0;
    const char *p = (const char *)data, *end = p + size;
    if (store_begin(db, &err))
        abort();
    while (p < end && n < MAX_RECORDS) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (incident_parse(&inc[n], p, len, &env->cat, "fuzz", n + 1, &err) == 0) {
            classify_incident(rules_select(&env->rules, inc[n].started_ms), &env->cat, &inc[n],
                              inc[n].started_ms + 3600000, &res[n]);
            store_outcome o;
            if (store_put(db, &inc[n], &res[n], p, len, "fuzz", 0, &o, &err) == 0) {
                if (!fy)
                    fy = jst_fiscal_year(jst_date_of(inc[n].started_ms));
                n++;
            } else {
                incident_free(&inc[n]);
            }
        }
        p += len + 1;
    }
    if (store_commit(db, &err))
        abort();
    if (n) {
        report_year y;
        if (report_compute(&y, db, &env->cat, fy, &err) == 0) {
            for (int f = REPORT_TEXT; f <= REPORT_JSON; f++)
                for (int ja = 0; ja < 2; ja++)
                    if (report_render(devnull, &y, (report_format)f, ja, NULL, &err))
                        abort();
            report_free(&y);
        }
        report_batch_item items[MAX_RECORDS];
        for (int i = 0; i < n; i++) {
            items[i] = (report_batch_item){&inc[i], &res[i]};
            for (int ja = 0; ja < 2; ja++) {
                report_case_write(devnull, &inc[i], &res[i], &env->cat, NULL, 0, REPORT_MD, ja);
                report_case_write(devnull, &inc[i], &res[i], &env->cat, NULL, 0, REPORT_HTML, ja);
            }
        }
        for (int f = REPORT_TEXT; f <= REPORT_JSON; f++)
            if (f != REPORT_MD && f != REPORT_HTML)
                report_batch_write(devnull, fy, 1, NULL, report_quarter_rulebook(&env->rules, fy, 1), items, n, &env->cat, (report_format)f, f & 1);
    }
    for (int i = 0; i < n; i++)
        incident_free(&inc[i]);
    store_close(db);
    return 0;
}
