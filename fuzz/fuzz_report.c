/*
 * fuzz_report.c — libFuzzer target for the reports: the input is JSON Lines;
 * every record that validates is stored in an in-memory registry, and then
 * the yearly statistics of its fiscal year are computed and written in a
 * format and language that the first byte chooses, with a case sheet and
 * the quarterly batch.  Whatever the records hold (names, codes, times at the edges),
 * the reports must come out without a crash, leak or undefined behaviour.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "fuzz_env.h"
#include "incident.h"
#include "intake.h"
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

enum { MAX_RECORDS = 8 };

/* The in-memory registry, made once: opening one (schema, migrations,
 * prepared statements) cost more than everything else an input does.  Each
 * input works inside one transaction that is rolled back at the end, which
 * leaves the registry empty for the next; the reports read the uncommitted
 * rows on the same connection. */
static store *registry_get(void)
{
    static store *db;
    jiko_error err;
    if (!db && store_open(&db, ":memory:", &err))
        abort();
    return db;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_data *env = fuzz_data_get(1);
    FILE *devnull = devnull_get();
    store *db = registry_get();
    jiko_error err;
    incident inc[MAX_RECORDS];
    classify_result res[MAX_RECORDS];
    int n = 0, fy = 0;
    const char *p = (const char *)data, *end = p + size;
    if (store_begin(db, &err))
        abort();
    while (p < end && n < MAX_RECORDS) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const rulebook *book = NULL;
        if (incident_parse(&inc[n], p, len, &env->cat, "fuzz", n + 1, &err) == 0 &&
            !(book = intake_rulebook(&env->rules, inc[n].started_ms, "fuzz", n + 1, &err)))
            incident_free(&inc[n]); /* before every rulebook: rejected, as intake does */
        if (book) {
            classify_incident(book, &env->cat, &inc[n], inc[n].started_ms + 3600000, &res[n]);
            store_outcome o;
            if (store_put(db, &inc[n], &res[n], p, len, "fuzz", 0, &o, NULL, &err) == 0) {
                if (!fy)
                    fy = jst_fiscal_year(jst_date_of(inc[n].started_ms));
                n++;
            } else {
                incident_free(&inc[n]);
            }
        }
        p += len + 1;
    }
    if (n) {
        /* One rendering per input, chosen by the input's first byte: all ten
         * (five formats, two languages) for every input cost ten times the
         * time for the same code reached. */
        unsigned pick = size ? data[0] : 0;
        report_format f = (report_format)(pick % 5);
        bool ja = (pick / 5) & 1;
        report_year y;
        if (report_compute(&y, db, &env->cat, fy, &err) == 0) {
            if (report_render(devnull, &y, f, ja, NULL, &err))
                abort();
            report_free(&y);
        }
        int one = (int)((pick / 10) % (unsigned)n);
        report_case_write(devnull, &inc[one], &res[one], &env->cat, NULL, 0,
                          pick & 1 ? REPORT_HTML : REPORT_MD, ja);
        report_batch_item items[MAX_RECORDS];
        for (int i = 0; i < n; i++)
            items[i] = (report_batch_item){&inc[i], &res[i]};
        static const report_format batch_formats[] = {REPORT_TEXT, REPORT_CSV, REPORT_JSON};
        report_batch_write(devnull, fy, 1, NULL, report_quarter_rulebook(&env->rules, fy, 1), items,
                           n, &env->cat, batch_formats[pick % 3], ja);
    }
    for (int i = 0; i < n; i++)
        incident_free(&inc[i]);
    if (store_rollback(db, &err))
        abort();
    return 0;
}
