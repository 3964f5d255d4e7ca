/*
 * report_bench.c — the yearly report over one million incidents in SQLite.
 *
 * Builds (once, cached at the given path) a registry of 1,000,000 closed
 * incidents in FY2021 through the normal import path (parse, validate,
 * classify, store_put), with realistic mixes of services, causes, equipment
 * and a few serious accidents.  Then times, best of 5 in the same process:
 *   baseline: SQLite alone stepping through the same rows and columns
 *             (the statistics columns of both fiscal years, no work per row,
 *             one thread);
 *   jiko:     report_compute (every table) + rendering all tables as JSON.
 * Goal (issue 5): the report in 0.5 s or less.
 * usage: bench_report [DB_PATH] [N]
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"

static double cpu_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
#include "classify.h"
#include "jst.h"
#include "report.h"
#include "report_render.h"
#include "rules.h"
#include "store.h"

#ifndef JIKO_DATADIR
#define JIKO_DATADIR "."
#endif

static void die(const char *what, const jiko_error *err)
{
    char msg[ERROR_TEXT_MAX];
    fprintf(stderr, "bench_report: %s: %s\n", what, err ? error_format(err, msg, sizeof msg) : "");
    exit(1);
}

static void build(const char *path, long n, const catalog *cat, const rules_set *rules)
{
    static const char *const svcs[] = {"ftth", "internet_access", "mobile_data", "mobile_voice",
                                       "analog_phone", "ip_phone_050", "email_paid", "dsl",
                                       "leased_line", "ip_vpn", "catv_internet", "public_wifi"};
    static const char *const eq[] = {"subscriber_unit", "switch", "subscriber_cable", "trunk_cable",
                                     "application_server", "auth_server", "power", "radio_base_station"};
    static const char *const causes[] = {"equipment", "external", "human", "other"};
    store *db;
    jiko_error err;
    if (store_open(&db, path, &err))
        die("open", &err);
    uint64_t s = 42;
    int64_t fy0 = jst_midnight((jst_date){2021, 4, 1});
    char json[1024];
    double t0 = bench_now_s();
    for (long i = 0; i < n; i++) {
        if (i % 20000 == 0 && store_begin(db, &err))
            die("begin", &err);
        int64_t start = fy0 + (int64_t)(bench_rng(&s) % (365ULL * 86400)) * 1000;
        bool big = bench_rng(&s) % 1000 == 0; /* a few large accidents, some serious */
        int64_t dur = (int64_t)(big ? 60 + bench_rng(&s) % 300 : 120 + bench_rng(&s) % 2000) * 60000;
        int64_t users = big ? 30000 + (int64_t)(bench_rng(&s) % 2000000) : 1 + (int64_t)(bench_rng(&s) % 3000);
        const char *a = svcs[bench_rng(&s) % 12], *b = svcs[bench_rng(&s) % 12];
        const char *e = bench_rng(&s) % 3 ? eq[bench_rng(&s) % 8] : NULL;
        char st[40], en[40], second[160] = "", eqs[64] = "null";
        if (strcmp(a, b) != 0)
            snprintf(second, sizeof second, ",{\"service\":\"%s\",\"effect\":\"degrade\",\"users\":1}", b);
        if (e)
            snprintf(eqs, sizeof eqs, "\"%s\"", e);
        int len = snprintf(json, sizeof json,
                           "{\"id\":\"b%07ld\",\"operator\":\"Operator %03d (synthetic)\","
                           "\"started_at\":\"%s\",\"ended_at\":\"%s\",\"services\":[{\"service\":"
                           "\"%s\",\"effect\":\"stop\",\"users\":%lld}%s],\"cause\":{\"category\":"
                           "\"%s\"},\"equipment\":%s,\"summary\":\"bench\"}",
                           i, (int)(bench_rng(&s) % 300), jst_format(start, st, sizeof st),
                           jst_format(start + dur, en, sizeof en), a, (long long)users, second,
                           causes[bench_rng(&s) % 4], eqs);
        incident inc;
        if (incident_parse(&inc, json, (size_t)len, cat, "bench", i + 1, &err))
            die("generated record", &err);
        classify_result r;
        classify_incident(rules_select(rules, inc.started_ms), cat, &inc, inc.started_ms, &r);
        store_outcome o;
        if (store_put(db, &inc, &r, json, (size_t)len, "bench", 0, &o, NULL, &err))
            die("put", &err);
        incident_free(&inc);
        if ((i + 1) % 20000 == 0 || i + 1 == n) {
            if (store_commit(db, &err))
                die("commit", &err);
            fprintf(stderr, "\rbuilding %s: %ld/%ld", path, i + 1, n);
        }
    }
    fprintf(stderr, " (%.1f s)\n", bench_now_s() - t0);
    store_close(db);
}

static double baseline(const char *path, long *rows)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_exec(db, "PRAGMA mmap_size=2147483648", NULL, NULL, NULL);
    sqlite3_prepare_v2(db, "SELECT operator, id, report, cause, equipment, services,"
                           " started_ms, ended_ms, users, fiscal_year"
                           " FROM incident WHERE fiscal_year BETWEEN 2020 AND 2021", -1, &st, NULL);
    double t0 = bench_now_s();
    long n = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        n++;
    double t = bench_now_s() - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    *rows = n;
    return t;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "bench-report-1m.db";
    long n = argc > 2 ? atol(argv[2]) : 1000000;
    catalog cat;
    rules_set rules;
    jiko_error err;
    if (catalog_load(&cat, JIKO_DATADIR "/catalogs", &err) ||
        rules_load_dir(&rules, JIKO_DATADIR "/rules", &cat, &err))
        die("data", &err);
    if (access(path, F_OK) != 0)
        build(path, n, &cat, &rules);
    double best_base = 1e9, best = 1e9, best_cpu = 1e9;
    long rows = 0, serious = 0, detailed = 0;
    FILE *devnull = fopen("/dev/null", "w");
    for (int run = 0; run < 5; run++) {
        double b = baseline(path, &rows);
        if (b < best_base)
            best_base = b;
        store *db;
        if (store_open(&db, path, &err))
            die("open", &err);
        double t0 = bench_now_s(), c0 = cpu_now_s();
        report_year y;
        if (report_compute(&y, db, &cat, 2021, &err))
            die("report", &err);
        if (report_render(devnull, &y, REPORT_JSON, false, NULL, &err))
            die("render", &err);
        double t = bench_now_s() - t0, c = cpu_now_s() - c0;
        if (c < best_cpu)
            best_cpu = c;
        serious = y.cur.reports[REPORT_SERIOUS];
        detailed = y.cur.detailed;
        report_free(&y);
        store_close(db);
        if (t < best)
            best = t;
    }
    fclose(devnull);
    printf("yearly report over %ld incidents (%ld detailed-form, %ld serious accidents), best of 5:\n",
           rows, detailed, serious);
    printf("  baseline: SQLite steps through the same rows and columns  %.3f s\n", best_base);
    printf("  jiko report --fy 2021 (all tables, JSON)                  %.3f s  (%.2fx the baseline; goal <= 0.5 s: %s)\n",
           best, best / best_base, best <= 0.5 ? "met" : "NOT met");
    printf("  CPU time of the report (all threads)                      %.3f s\n", best_cpu);
    rules_free(&rules);
    catalog_free(&cat);
    return 0;
}
