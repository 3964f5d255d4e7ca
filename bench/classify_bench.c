/*
 * classify_bench.c — classification throughput on generated incidents.
 *
 * Generates N incidents (default 1,000,000; deterministic) as JSON Lines in
 * memory, then measures in one run:
 *   baseline   jansson json_loadb of each line, nothing else
 *   parse      jiko incident_parse (jansson + full validation)
 *   parse+cls  incident_parse + rulebook selection + classify_incident
 *   +json      the above plus the contract's JSON output (what `classify --json` does)
 *   classify   classify_incident alone on pre-parsed incidents
 * and prints incidents/s and the ratio of each to the baseline.
 * usage: bench_classify [N]
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify.h"
#include "incident.h"
#include "bench_util.h"

/* One realistic record: mostly small outages, a few large ones. */
static int gen(char *buf, size_t size, long i, uint64_t *s, const catalog *cat)
{
    static const char *eqs[] = {"radio_base_station", "subscriber_cable", "switch", "dslam",
                                "application_server", "power"};
    int64_t start = 1617202800LL + (int64_t)(bench_rng(s) % (365u * 86400u)); /* FY2021 */
    int64_t dur = (int64_t)(bench_rng(s) % 40000);
    int64_t users = bench_rng(s) % 100 < 95 ? (int64_t)(bench_rng(s) % 500) : (int64_t)(bench_rng(s) % 2000000);
    const char *svc = cat->services[bench_rng(s) % cat->n_services].code;
    const char *svc2 = cat->services[bench_rng(s) % cat->n_services].code;
    char ts[40], te[40];
    jst_format(start * 1000, ts, sizeof ts);
    jst_format((start + dur) * 1000, te, sizeof te);
    if (strcmp(svc, svc2) != 0 && bench_rng(s) % 4 == 0)
        return snprintf(buf, size,
                        "{\"id\":\"b%ld\",\"operator\":\"Operator %d\",\"started_at\":\"%s\","
                        "\"ended_at\":\"%s\",\"services\":[{\"service\":\"%s\",\"effect\":\"stop\","
                        "\"users\":%lld},{\"service\":\"%s\",\"effect\":\"degrade\",\"users\":%lld}],"
                        "\"cause\":{\"category\":\"equipment\",\"detail\":\"natural failure\"},"
                        "\"equipment\":\"%s\",\"region\":\"関東\"}",
                        i, (int)(bench_rng(s) % 200), ts, te, svc, (long long)users, svc2,
                        (long long)(users / 2), eqs[bench_rng(s) % 6]);
    return snprintf(buf, size,
                    "{\"id\":\"b%ld\",\"operator\":\"Operator %d\",\"started_at\":\"%s\","
                    "\"ended_at\":\"%s\",\"services\":[{\"service\":\"%s\",\"effect\":\"stop\","
                    "\"users\":%lld}],\"cause\":{\"category\":\"external\",\"detail\":\"cable cut\"},"
                    "\"equipment\":\"%s\",\"region\":\"関西\"}",
                    i, (int)(bench_rng(s) % 200), ts, te, svc, (long long)users, eqs[bench_rng(s) % 6]);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    catalog cat;
    rules_set rules;
    jiko_error err;
    if (catalog_load(&cat, JIKO_DATADIR "/catalogs", &err) ||
        rules_load_dir(&rules, JIKO_DATADIR "/rules", &cat, &err)) {
        fprintf(stderr, "bench: cannot load rules: %s\n", err.message);
        return 1;
    }
    /* generate */
    size_t cap = (size_t)n * 520, used = 0;
    char *text = malloc(cap);
    size_t *off = malloc(((size_t)n + 1) * sizeof *off);
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    for (long i = 0; i < n; i++) {
        off[i] = used;
        int k = gen(text + used, cap - used, i, &seed, &cat);
        used += (size_t)k;
    }
    off[n] = used;
    printf("classification benchmark: %ld generated incidents, %.1f MB of JSON Lines\n", n,
           (double)used / 1e6);

    double t0 = bench_now_s();
    long ok = 0;
    for (long i = 0; i < n; i++) {
        json_error_t je;
        json_t *o = json_loadb(text + off[i], off[i + 1] - off[i], JSON_REJECT_DUPLICATES, &je);
        ok += o != NULL;
        json_decref(o);
    }
    double base = bench_now_s() - t0;
    if (ok != n) {
        fprintf(stderr, "bench: generated JSON did not parse\n");
        return 1;
    }

    incident *inc = malloc(sizeof *inc);
    long counts[4] = {0};
    double t_parse, t_pc, t_json;
    t0 = bench_now_s();
    for (long i = 0; i < n; i++) {
        if (incident_parse(inc, text + off[i], off[i + 1] - off[i], &cat, "bench", i + 1, &err)) {
            fprintf(stderr, "bench: record %ld rejected: %s\n", i, err.message);
            return 1;
        }
        incident_free(inc);
    }
    t_parse = bench_now_s() - t0;
    t0 = bench_now_s();
    for (long i = 0; i < n; i++) {
        incident_parse(inc, text + off[i], off[i + 1] - off[i], &cat, "bench", i + 1, &err);
        classify_result r;
        classify_incident(rules_select(&rules, inc->started_ms), &cat, inc, 0, &r);
        counts[r.report]++;
        incident_free(inc);
    }
    t_pc = bench_now_s() - t0;
    t0 = bench_now_s();
    size_t out_bytes = 0;
    for (long i = 0; i < n; i++) {
        incident_parse(inc, text + off[i], off[i + 1] - off[i], &cat, "bench", i + 1, &err);
        classify_result r;
        classify_incident(rules_select(&rules, inc->started_ms), &cat, inc, 0, &r);
        json_t *o = classify_to_json(&r, inc, &cat, CLASSIFY_EN);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        out_bytes += strlen(s);
        free(s);
        json_decref(o);
        incident_free(inc);
    }
    t_json = bench_now_s() - t0;
    free(inc);

    /* classify alone: a pool of pre-parsed incidents, classified repeatedly */
    long pool_n = n < 100000 ? n : 100000;
    incident *pool = malloc((size_t)pool_n * sizeof *pool);
    const rulebook **books = malloc((size_t)pool_n * sizeof *books);
    for (long i = 0; i < pool_n; i++) {
        incident_parse(&pool[i], text + off[i], off[i + 1] - off[i], &cat, "bench", i + 1, &err);
        books[i] = rules_select(&rules, pool[i].started_ms);
    }
    long sink = 0;
    t0 = bench_now_s();
    for (long i = 0; i < n; i++) {
        classify_result r;
        classify_incident(books[i % pool_n], &cat, &pool[i % pool_n], 0, &r);
        sink += r.report + r.n_quarterly;
    }
    double t_cls = bench_now_s() - t0;

    printf("reports: serious %ld, detailed %ld, simple %ld, none %ld\n", counts[CLASSIFY_SERIOUS],
           counts[CLASSIFY_DETAILED], counts[CLASSIFY_SIMPLE], counts[CLASSIFY_NONE]);
    printf("%-34s %12s %10s\n", "stage", "incidents/s", "vs baseline");
    printf("%-34s %12.0f %9.2fx\n", "baseline: jansson parse only", n / base, 1.0);
    printf("%-34s %12.0f %9.2fx\n", "parse + validate", n / t_parse, base / t_parse);
    printf("%-34s %12.0f %9.2fx\n", "parse + validate + classify", n / t_pc, base / t_pc);
    printf("%-34s %12.0f %9.2fx  (%.0f MB out)\n", "... + JSON output with reasons", n / t_json,
           base / t_json, (double)out_bytes / 1e6);
    printf("%-34s %12.0f %9.2fx  (checksum %ld)\n", "classify alone (pre-parsed)", n / t_cls,
           base / t_cls, sink);
    for (long i = 0; i < pool_n; i++)
        incident_free(&pool[i]);
    free(pool);
    free(books);
    free(text);
    free(off);
    rules_free(&rules);
    catalog_free(&cat);
    return 0;
}
