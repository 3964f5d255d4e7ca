/*
 * test_serve_units.c — the server's pure parts: the router (percent-
 * decoding, UTF-8, path parameters, query rules, methods), the token
 * buckets, the error-kind → status map and the metrics exposition.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "assets.h"
#include "limit.h"
#include "metrics.h"
#include "page_cache.h"
#include "reply.h"
#include "route.h"
#include "serve_conf.h"
#include "testutil.h"

static void test_route_params_decoded(void **state)
{
    (void)state;
    route_match m;
    jiko_error err;
    /* 株式会社 A/B as operator, "x y" as id: %2F stays inside the segment */
    assert_int_equal(route_parse("GET", "/api/v1/incidents/%E6%A0%AA%E5%BC%8F%E4%BC%9A%E7%A4%BE%20A%2FB/x%20y",
                                 &m, &err), 0);
    assert_int_equal(m.id, ROUTE_INCIDENT);
    assert_string_equal(m.op, "株式会社 A/B");
    assert_string_equal(m.incident, "x y");
    assert_true(route_allows(&m));
    route_free(&m);

    assert_int_equal(route_parse("GET", "/api/v1/incidents/A/b/history", &m, &err), 0);
    assert_int_equal(m.id, ROUTE_HISTORY);
    route_free(&m);
    assert_int_equal(route_parse("GET", "/api/v1/reports/quarter/2021/3?format=csv", &m, &err), 0);
    assert_int_equal(m.id, ROUTE_REPORT_QUARTER);
    assert_int_equal(m.year, 2021);
    assert_int_equal(m.quarter, 3);
    assert_string_equal(route_query(&m, "format"), "csv");
    route_free(&m);
    /* '+' is a space in a query, a plus in a path */
    assert_int_equal(route_parse("GET", "/api/v1/incidents/a+b/c?lang=j+a", &m, &err), 0);
    assert_string_equal(m.op, "a+b");
    assert_string_equal(route_query(&m, "lang"), "j a");
    route_free(&m);
    assert_int_equal(route_parse("GET", "/api/v1/incidents?operator=a+b%2Bc&&limit=", &m, &err), 0);
    assert_string_equal(route_query(&m, "operator"), "a b+c");
    assert_string_equal(route_query(&m, "limit"), "");
    route_free(&m);
}

static void test_route_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *method, *target;
        jiko_error_kind kind;
        const char *field;
    } bad[] = {
        {"GET", "/api/v1/incidents/A/%zz", JIKO_ERR_INVALID, "path"},
        {"GET", "/api/v1/incidents/A/%4", JIKO_ERR_INVALID, "path"},
        {"GET", "/api/v1/incidents/A/%ff%fe", JIKO_ERR_INVALID, "path"},     /* not UTF-8 */
        {"GET", "/api/v1/incidents/A/%C0%AF", JIKO_ERR_INVALID, "path"},     /* overlong */
        {"GET", "/api/v1/incidents/A/a%00b", JIKO_ERR_INVALID, "path"},      /* NUL */
        {"GET", "/api/v1/incidents/A/a%0Ab", JIKO_ERR_INVALID, "path"},      /* newline */
        {"GET", "/api/v1/incidents//x", JIKO_ERR_INVALID, "op"},
        {"GET", "/api/v1/incidents?fy=2021&fy=2022", JIKO_ERR_INVALID, "fy"},
        {"GET", "/api/v1/incidents?color=red", JIKO_ERR_INVALID, "color"},
        {"GET", "/api/v1/incidents?operator=%E6%A0", JIKO_ERR_INVALID, "operator"},
        {"GET", "/api/v1/reports/fy/21", JIKO_ERR_INVALID, "year"},
        {"GET", "/api/v1/reports/fy/2021x", JIKO_ERR_INVALID, "year"},
        {"GET", "/api/v1/reports/quarter/2021/5", JIKO_ERR_INVALID, "quarter"},
        {"GET", "/api/v1/nothing", JIKO_ERR_NOT_FOUND, ""},
        {"GET", "/api/v1/incidents/", JIKO_ERR_NOT_FOUND, ""},
        {"GET", "/api/v1/incidents/a/b/c/d/e/f/g", JIKO_ERR_NOT_FOUND, ""},
        {"GET", "api/v1/rules", JIKO_ERR_NOT_FOUND, ""},
        {"GET", "/nothing", JIKO_ERR_NOT_FOUND, ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        route_match m;
        jiko_error err;
        error_clear(&err);
        if (route_parse(bad[i].method, bad[i].target, &m, &err) == 0)
            fail_msg("accepted %s", bad[i].target);
        if (err.kind != bad[i].kind || strcmp(err.field, bad[i].field) != 0)
            fail_msg("%s: kind %d field '%s' (%s)", bad[i].target, err.kind, err.field,
                     err.message);
    }
    /* a target longer than the limit */
    char *big = malloc(ROUTE_TARGET_MAX + 10);
    memset(big, 'a', ROUTE_TARGET_MAX + 9);
    big[0] = '/';
    big[ROUTE_TARGET_MAX + 9] = '\0';
    route_match m;
    jiko_error err;
    assert_int_equal(route_parse("GET", big, &m, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_INVALID);
    free(big);
}

static void test_route_methods(void **state)
{
    (void)state;
    route_match m;
    jiko_error err;
    assert_int_equal(route_parse("DELETE", "/api/v1/incidents", &m, &err), 0);
    assert_false(route_allows(&m));
    assert_string_equal(route_allow_header(m.id), "GET, HEAD, POST");
    route_free(&m);
    assert_int_equal(route_parse("GET", "/api/v1/classify", &m, &err), 0);
    assert_false(route_allows(&m));
    assert_string_equal(route_allow_header(m.id), "POST");
    route_free(&m);
    assert_int_equal(route_parse("HEAD", "/api/v1/rules", &m, &err), 0);
    assert_true(route_allows(&m));
    assert_string_equal(route_name(m.id), "/api/v1/rules");
    route_free(&m);
}

static void test_rate_buckets(void **state)
{
    (void)state;
    limit_rate *l = limit_rate_new(10, 3, 4); /* 10/s, bursts of 3 */
    assert_non_null(l);
    int retry = 0;
    for (int i = 0; i < 3; i++)
        assert_true(limit_rate_take(l, "t_a", 1000, &retry));
    assert_false(limit_rate_take(l, "t_a", 1000, &retry));
    assert_int_equal(retry, 1);
    assert_true(limit_rate_take(l, "t_b", 1000, &retry)); /* another token has its own */
    assert_true(limit_rate_take(l, "t_a", 1100, &retry)); /* 100 ms = one more request */
    assert_false(limit_rate_take(l, "t_a", 1100, &retry));
    limit_rate_free(l);
    limit_rate *none = limit_rate_new(0, 1, 1);
    for (int i = 0; i < 1000; i++)
        assert_true(limit_rate_take(none, "t", 0, &retry));
    limit_rate_free(none);
    assert_true(limit_rss_bytes() > 0);
    /* addresses without end: a table that refuses new keys once full, and
     * one that forgets them all instead (the public pages' limiter) */
    limit_rate *tokens = limit_rate_new(10, 1, 4), *addrs = limit_rate_new(10, 1, 4);
    limit_rate_forget_when_full(addrs);
    int refused = 0;
    for (int i = 0; i < 200; i++) {
        char key[32];
        snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
        refused += !limit_rate_take(tokens, key, 1000, &retry);
        assert_true(limit_rate_take(addrs, key, 1000, &retry)); /* a new address: room */
        assert_false(limit_rate_take(addrs, key, 1000, &retry)); /* and its own limit */
    }
    assert_true(refused > 0);
    limit_rate_free(tokens);
    limit_rate_free(addrs);
}

/* The public pages' cache: a hit within the TTL (a copy), a miss after
 * it, 200 and 404 kept but no error, cleared on demand, and the oldest
 * page making room when full. */
static void test_page_cache(void **state)
{
    (void)state;
    page_cache *c = page_cache_new();
    assert_non_null(c);
    reply r = {0}, got = {0};
    reply_take(&r, 200, "text/html; charset=utf-8", strdup("<p>a</p>"), 8);
    snprintf(r.etag, sizeof r.etag, "\"0123456789abcdef\"");
    page_cache_put(c, "k", 1000, &r);
    assert_true(page_cache_get(c, "k", 1000 + PAGE_CACHE_TTL_MS - 1, &got));
    assert_int_equal(got.status, 200);
    assert_memory_equal(got.body, "<p>a</p>", 8);
    assert_ptr_not_equal(got.body, r.body);
    assert_string_equal(got.etag, r.etag);
    reply_free(&got);
    assert_false(page_cache_get(c, "k", 1000 + PAGE_CACHE_TTL_MS, &got));
    assert_false(page_cache_get(c, "k", 1000, &got)); /* the stale one was dropped */
    reply e = {0};
    reply_error(&e, 500, "store", NULL, "broken");
    page_cache_put(c, "e", 1000, &e);
    assert_false(page_cache_get(c, "e", 1000, &got));
    reply_free(&e);
    page_cache_put(c, "k", 2000, &r);
    page_cache_clear(c);
    assert_false(page_cache_get(c, "k", 2000, &got));
    for (int i = 0; i <= PAGE_CACHE_ENTRIES; i++) {
        char key[16];
        snprintf(key, sizeof key, "p%d", i);
        page_cache_put(c, key, 3000 + i, &r);
    }
    assert_false(page_cache_get(c, "p0", 3300, &got)); /* the oldest made room */
    assert_true(page_cache_get(c, "p1", 3300, &got));
    reply_free(&got);
    assert_true(page_cache_get(c, "p256", 3300, &got));
    reply_free(&got);
    reply_free(&r);
    page_cache_free(c);
}

static void test_status_map(void **state)
{
    (void)state;
    assert_int_equal(reply_status_of(JIKO_ERR_INVALID), 400);
    assert_int_equal(reply_status_of(JIKO_ERR_NOT_FOUND), 404);
    assert_int_equal(reply_status_of(JIKO_ERR_CONFLICT), 409);
    assert_int_equal(reply_status_of(JIKO_ERR_FORBIDDEN), 403);
    assert_int_equal(reply_status_of(JIKO_ERR_RETRY), 503);
    assert_int_equal(reply_status_of(JIKO_ERR_NOMEM), 503);
    assert_int_equal(reply_status_of(JIKO_ERR_STORE), 500);
    reply r = {0};
    jiko_error e;
    error_set(&e, JIKO_ERR_INVALID, "body", 3, "services[0].users", "expected a whole number");
    reply_from_error(&r, &e);
    assert_int_equal(r.status, 400);
    assert_string_equal(r.body, "{\"error\":{\"code\":\"invalid\",\"message\":\"expected a whole "
                                "number\",\"field\":\"services[0].users\",\"line\":3}}\n");
    reply_free(&r);
}

static void test_metrics_text(void **state)
{
    (void)state;
    metrics *m = metrics_new();
    metrics_request(m, ROUTE_INCIDENT, 200, 0.0003);
    metrics_request(m, ROUTE_INCIDENT, 404, 0.02);
    metrics_refused(m, METRICS_REFUSED_RATE);
    live_stats live = {.samples = 10, .unwatched = 4, .series = 3, .opened = 1};
    key_hint_stats hint = {.reads = {90, 8, 2}, .slots = 4096, .filled = 98};
    metrics_gauges g = {3, 64, 1 << 20, 2, 5, 7, &live, 4, 10, 1, &hint};
    size_t len;
    char *text = metrics_render(m, &g, &len);
    assert_non_null(text);
    assert_non_null(strstr(text, "jiko_http_requests_total{route=\"/api/v1/incidents/{operator}/{id}\",status=\"200\"} 1\n"));
    assert_non_null(strstr(text, "jiko_http_request_duration_seconds_bucket{route=\"/api/v1/incidents/{operator}/{id}\",le=\"0.0005\"} 1\n"));
    assert_non_null(strstr(text, "jiko_http_request_duration_seconds_bucket{route=\"/api/v1/incidents/{operator}/{id}\",le=\"+Inf\"} 2\n"));
    assert_non_null(strstr(text, "jiko_http_refused_total{reason=\"rate_limit\"} 1\n"));
    assert_non_null(strstr(text, "jiko_open_incidents 2\n"));
    assert_non_null(strstr(text, "jiko_live_samples_total{watched=\"true\"} 6\n"));
    assert_non_null(strstr(text, "jiko_live_samples_total{watched=\"false\"} 4\n"));
    assert_non_null(strstr(text, "jiko_live_series 3\n"));
    assert_non_null(strstr(text, "jiko_live_incidents_total{change=\"opened\"} 1\n"));
    assert_non_null(strstr(text, "jiko_webhook_messages{state=\"pending\"} 4\n"
                                 "jiko_webhook_messages{state=\"delivered\"} 10\n"
                                 "jiko_webhook_messages{state=\"given_up\"} 1\n"));
    assert_non_null(strstr(text, "jiko_registry_key_hint_reads_total{result=\"hit\"} 90\n"
                                 "jiko_registry_key_hint_reads_total{result=\"miss\"} 8\n"
                                 "jiko_registry_key_hint_reads_total{result=\"stale\"} 2\n"));
    assert_non_null(strstr(text, "jiko_registry_key_hint_slots 4096\n"));
    assert_non_null(strstr(text, "jiko_registry_key_hint_filled 98\n"));
    free(text);
    /* no hint (PostgreSQL, or key_hint_mb = 0): no hint series */
    g.hint = NULL;
    text = metrics_render(m, &g, &len);
    assert_non_null(text);
    assert_null(strstr(text, "key_hint"));
    free(text);
    metrics_free(m);
}

static void test_conf(void **state)
{
    (void)state;
    serve_conf c;
    serve_conf_default(&c);
    jiko_error err;
    assert_int_equal(serve_conf_listen(&c, "[::1]:9090", &err), 0);
    assert_string_equal(c.host, "::1");
    assert_int_equal(c.port, 9090);
    assert_int_equal(serve_conf_listen(&c, "localhost:80", &err), -1);
    assert_int_equal(serve_conf_listen(&c, "127.0.0.1:99999", &err), -1);
    char path[] = "/tmp/jiko-serve-conf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "[serve]\nlisten = 127.0.0.1:0\nmax_inflight = 8\nrate = 2.5\n"
                       "max_body_bytes = 1x\n";
    assert_int_equal(write(fd, text, strlen(text)), (long)strlen(text));
    close(fd);
    assert_int_equal(serve_conf_load(&c, path, &err), -1);
    assert_int_equal(err.line, 5);
    assert_string_equal(err.field, "max_body_bytes");
    assert_int_equal(err.kind, JIKO_ERR_CONFIG);
    assert_int_equal(c.max_inflight, 8);
    assert_true(c.rate == 2.5);
    unlink(path);
}

static void test_route_dashboard(void **state)
{
    (void)state;
    route_match m;
    jiko_error err;
    assert_int_equal(route_parse("GET", "/", &m, &err), 0);
    assert_int_equal(m.id, ROUTE_DASHBOARD);
    route_free(&m);
    assert_int_equal(route_parse("GET", "/?from=bookmark", &m, &err), 0); /* any query */
    assert_int_equal(m.id, ROUTE_DASHBOARD);
    route_free(&m);
    /* a file name is one decoded segment: "..%2Fx" names a file called "../x",
     * which assets_find never has */
    assert_int_equal(route_parse("GET", "/web/..%2Fjiko.db", &m, &err), 0);
    assert_int_equal(m.id, ROUTE_ASSET);
    assert_string_equal(m.file, "../jiko.db");
    route_free(&m);
    assert_int_equal(route_parse("GET", "/web/a/b", &m, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_NOT_FOUND);
    assert_int_equal(route_parse("GET", "/web/", &m, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_INVALID);
    assert_int_equal(route_parse("GET", "/api/v1/incidents/A/x/series", &m, &err), 0);
    assert_int_equal(m.id, ROUTE_SERIES);
    assert_string_equal(m.incident, "x");
    route_free(&m);
    assert_int_equal(route_parse("GET", "/api/v1/whoami", &m, &err), 0);
    assert_int_equal(m.id, ROUTE_WHOAMI);
    route_free(&m);
    assert_int_equal(route_parse("GET", "/api/v1/incidents?order=newest", &m, &err), 0);
    assert_string_equal(route_query(&m, "order"), "newest");
    route_free(&m);
    assert_int_equal(route_parse("POST", "/", &m, &err), 0);
    assert_false(route_allows(&m));
    route_free(&m);
}

/* A public page takes its own parameters as strictly as the API and ignores
 * any other: links to it get trackers added when shared, and it must open
 * during an outage. */
static void test_route_public_query(void **state)
{
    (void)state;
    route_match m;
    jiko_error err;
    static const char *const fine[] = {
        "/status/A?utm_source=x&fbclid=IwAR0",   /* trackers: ignored */
        "/status/A?lang=en&utm_source=x",        /* its own, with a tracker */
        "/status/A?utm_medium=a%ZZ&lang=en",     /* a tracker's bad escape: not its concern */
        "/status/A?%ff=1&lang=en",               /* a key that is not UTF-8: not its own */
        "/status/A/feed.atom?lang=en&ref=mail",
    };
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        error_clear(&err);
        if (route_parse("GET", fine[i], &m, &err))
            fail_msg("refused %s: %s", fine[i], err.message);
        assert_string_equal(m.op, "A");
        const char *lang = route_query(&m, "lang");
        assert_true(i == 0 ? lang == NULL : lang && strcmp(lang, "en") == 0);
        assert_null(route_query(&m, "utm_source")); /* ignored, not kept */
        assert_int_equal(m.n_query, i == 0 ? 0 : 1);
        route_free(&m);
    }
    /* its own parameter stays strict */
    static const char *const bad[] = {"/status/A?lang=en&lang=ja", "/status/A?lang=%ZZ",
                                      "/status/A?utm=1&lang=%ff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        error_clear(&err);
        if (route_parse("GET", bad[i], &m, &err) == 0)
            fail_msg("accepted %s", bad[i]);
        assert_int_equal(err.kind, JIKO_ERR_INVALID);
        assert_string_equal(err.field, "lang");
    }
    /* and the API does not turn lenient */
    assert_int_equal(route_parse("GET", "/api/v1/incidents/A/x?utm_source=x", &m, &err), -1);
    assert_string_equal(err.field, "utm_source");
}

static void write_file(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    fclose(f);
}

static void test_assets(void **state)
{
    (void)state;
    char dir[] = "/tmp/jiko-assets-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p[256];
    snprintf(p, sizeof p, "%s/index.html", dir);
    write_file(p, "<!doctype html>", 15);
    snprintf(p, sizeof p, "%s/app.js", dir);
    write_file(p, "'use strict';", 13);
    snprintf(p, sizeof p, "%s/notes.txt", dir); /* no dashboard type: not served */
    write_file(p, "x", 1);
    snprintf(p, sizeof p, "%s/.hidden.js", dir);
    write_file(p, "x", 1);
    snprintf(p, sizeof p, "%s/sub.js", dir); /* a directory, even with a .js name */
    assert_int_equal(mkdir(p, 0700), 0);
    assets a;
    jiko_error err;
    assert_int_equal(assets_load(&a, dir, "/nonexistent/uplot", &err), 0);
    assert_int_equal(a.n, 2);
    assert_true(a.vendor_missing);
    const asset *x = assets_find(&a, "app.js");
    assert_non_null(x);
    assert_string_equal(x->type, "text/javascript; charset=utf-8");
    assert_int_equal(x->len, 13);
    assert_int_equal(x->etag[0], '"');
    assert_null(assets_find(&a, "notes.txt"));
    assert_null(assets_find(&a, ".hidden.js"));
    assert_null(assets_find(&a, "sub.js"));
    assert_null(assets_find(&a, "../app.js"));
    char etag[24];
    snprintf(etag, sizeof etag, "%s", x->etag);
    assets_free(&a);
    /* the ETag follows the content */
    snprintf(p, sizeof p, "%s/app.js", dir);
    write_file(p, "'use strict'; ", 14);
    assert_int_equal(assets_load(&a, dir, NULL, &err), 0);
    assert_string_not_equal(assets_find(&a, "app.js")->etag, etag);
    assets_free(&a);
    /* a file too large for a dashboard is an error naming it */
    snprintf(p, sizeof p, "%s/big.css", dir);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fseek(f, ASSETS_FILE_MAX, SEEK_SET), 0);
    fputc('x', f);
    fclose(f);
    assert_int_equal(assets_load(&a, dir, NULL, &err), -1);
    assert_non_null(strstr(err.file, "big.css"));
    assert_int_equal(a.n, 0);
    unlink(p);
    assert_int_equal(assets_load(&a, "/nonexistent/web", NULL, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_IO);
    snprintf(p, sizeof p, "rm -rf '%s'", dir);
    assert_int_equal(system(p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_params_decoded), cmocka_unit_test(test_route_refusals),
        cmocka_unit_test(test_route_methods),        cmocka_unit_test(test_rate_buckets),
        cmocka_unit_test(test_page_cache),
        cmocka_unit_test(test_status_map),           cmocka_unit_test(test_metrics_text),
        cmocka_unit_test(test_conf),                 cmocka_unit_test(test_route_dashboard),
        cmocka_unit_test(test_route_public_query),
        cmocka_unit_test(test_assets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
