/* route.c — matching a request target to an API route (route.h). */
#include "route.h"

#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "utf8.h"

/* What a route does with query parameters it does not take. */
typedef enum {
    QUERY_STRICT, /* refuses them (400): the API, where a misspelt filter must not pass unseen */
    QUERY_ANY,    /* takes and ignores every one (probes add cache-busters) */
    /* parses its own as strictly as QUERY_STRICT and ignores the others: a
     * public page, whose shared links get trackers added (utm_source=,
     * fbclid=) and must still open during an outage */
    QUERY_OWN,
} route_query_mode;

/* A path pattern: literal segments, and ":op", ":id", ":book", ":file",
 * ":year", ":q" for parameters. */
typedef struct route_def {
    route_id id;
    unsigned methods;
    const char *name;
    const char *seg[7];
    const char *keys[9]; /* the query parameters it takes */
    route_query_mode query;
} route_def;

#define GETS (ROUTE_GET | ROUTE_HEAD)

static const route_def routes[] = {
    {ROUTE_HEALTHZ, GETS, "/healthz", {"healthz"}, {NULL}, QUERY_ANY},
    {ROUTE_METRICS, GETS, "/metrics", {"metrics"}, {NULL}, QUERY_ANY},
    /* one path, two methods, each with its own parameters */
    {ROUTE_INCIDENTS, GETS, "/api/v1/incidents", {"api", "v1", "incidents"},
     {"fy", "quarter", "report", "open", "operator", "limit", "cursor", "order"}, QUERY_STRICT},
    {ROUTE_INCIDENTS, ROUTE_POST, "/api/v1/incidents", {"api", "v1", "incidents"}, {"lang"},
     QUERY_STRICT},
    {ROUTE_INCIDENT, GETS, "/api/v1/incidents/{operator}/{id}",
     {"api", "v1", "incidents", ":op", ":id"}, {"now", "lang"}, QUERY_STRICT},
    {ROUTE_HISTORY, GETS, "/api/v1/incidents/{operator}/{id}/history",
     {"api", "v1", "incidents", ":op", ":id", "history"}, {NULL}, QUERY_STRICT},
    {ROUTE_CLASSIFY, ROUTE_POST, "/api/v1/classify", {"api", "v1", "classify"},
     {"now", "lang", "rulebook"}, QUERY_STRICT},
    {ROUTE_RULES, GETS, "/api/v1/rules", {"api", "v1", "rules"}, {NULL}, QUERY_STRICT},
    {ROUTE_RULEBOOK, GETS, "/api/v1/rules/{id}", {"api", "v1", "rules", ":book"}, {NULL},
     QUERY_STRICT},
    {ROUTE_REPORT_FY, GETS, "/api/v1/reports/fy/{year}", {"api", "v1", "reports", "fy", ":year"},
     {"format", "lang", "table"}, QUERY_STRICT},
    {ROUTE_REPORT_INCIDENT, GETS, "/api/v1/reports/incident/{operator}/{id}",
     {"api", "v1", "reports", "incident", ":op", ":id"}, {"format", "lang"}, QUERY_STRICT},
    {ROUTE_REPORT_QUARTER, GETS, "/api/v1/reports/quarter/{year}/{q}",
     {"api", "v1", "reports", "quarter", ":year", ":q"}, {"format", "lang", "operator"},
     QUERY_STRICT},
    {ROUTE_WRITE_PROM, ROUTE_POST, "/api/v1/write", {"api", "v1", "write"}, {NULL}, QUERY_STRICT},
    /* org and bucket: what InfluxDB clients (Telegraf) always send; one
     * registry has no buckets, so they are taken and ignored */
    {ROUTE_WRITE_INFLUX, ROUTE_POST, "/api/v2/write", {"api", "v2", "write"},
     {"precision", "org", "bucket", "orgID"}, QUERY_STRICT},
    {ROUTE_ALERTS, ROUTE_POST, "/api/v1/alerts", {"api", "v1", "alerts"}, {NULL}, QUERY_STRICT},
    {ROUTE_SERIES, GETS, "/api/v1/incidents/{operator}/{id}/series",
     {"api", "v1", "incidents", ":op", ":id", "series"}, {NULL}, QUERY_STRICT},
    {ROUTE_WHOAMI, GETS, "/api/v1/whoami", {"api", "v1", "whoami"}, {NULL}, QUERY_STRICT},
    {ROUTE_DASHBOARD, GETS, "/", {""}, {NULL}, QUERY_ANY},
    {ROUTE_ASSET, GETS, "/web/{file}", {"web", ":file"}, {NULL}, QUERY_ANY},
    {ROUTE_NOTICE_DRAFT, GETS, "/api/v1/incidents/{operator}/{id}/notices/draft",
     {"api", "v1", "incidents", ":op", ":id", "notices", "draft"}, {"kind", "lang", "now"},
     QUERY_STRICT},
    {ROUTE_NOTICES, ROUTE_POST, "/api/v1/incidents/{operator}/{id}/notices",
     {"api", "v1", "incidents", ":op", ":id", "notices"}, {NULL}, QUERY_STRICT},
    {ROUTE_STATUS, GETS, "/status/{operator}", {"status", ":op"}, {"lang"}, QUERY_OWN},
    {ROUTE_STATUS_FEED, GETS, "/status/{operator}/feed.atom", {"status", ":op", "feed.atom"},
     {"lang"}, QUERY_OWN},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])
#define SEGS_MAX 7

route_method route_method_of(const char *method)
{
    if (strcmp(method, "GET") == 0)
        return ROUTE_GET;
    if (strcmp(method, "HEAD") == 0)
        return ROUTE_HEAD;
    if (strcmp(method, "POST") == 0)
        return ROUTE_POST;
    return ROUTE_OTHER;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long route_decode(const char *s, size_t n, bool plus_is_space, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = plus_is_space && s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
    return (long)o;
}

/* Decoded text a parameter may hold: UTF-8, no control characters (an
 * operator name or id is printed in reports and logs). */
static bool clean_text(const char *s, size_t n)
{
    if (!utf8_valid(s, n))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

/* Decode s[0..n) into *at (advanced past it); NULL on bad encoding. */
static const char *decode_into(const char *s, size_t n, bool plus, char **at, const char *what,
                               jiko_error *err)
{
    char *out = *at;
    long len = route_decode(s, n, plus, out);
    if (len < 0) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, what,
                  "bad percent-encoding: '%%' must be followed by two hex digits");
        return NULL;
    }
    if (!clean_text(out, (size_t)len)) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, what,
                  "expected UTF-8 text without control characters (percent-decoded)");
        return NULL;
    }
    *at = out + len + 1;
    return out;
}

static int number_param(const char *text, long min, long max, const char *what, int *out,
                        jiko_error *err)
{
    long v;
    if (!num_parse_long(text, min, max, &v)) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, what, "expected a whole number %ld-%ld, got '%s'",
                  min, max, text);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static bool segs_match(const route_def *d, const char *const *seg, int n)
{
    int k = 0;
    while (k < SEGS_MAX && d->seg[k])
        k++;
    if (k != n)
        return false;
    for (int i = 0; i < n; i++)
        if (d->seg[i][0] != ':' && strcmp(d->seg[i], seg[i]) != 0)
            return false;
    return true;
}

static int bind_params(const route_def *d, const char *const *seg, int n, route_match *m,
                       jiko_error *err)
{
    for (int i = 0; i < n; i++) {
        const char *p = d->seg[i];
        if (p[0] != ':')
            continue;
        if (!seg[i][0]) {
            error_set(err, JIKO_ERR_INVALID, NULL, 0, p + 1, "an empty path segment");
            return -1;
        }
        if (strcmp(p, ":op") == 0)
            m->op = seg[i];
        else if (strcmp(p, ":id") == 0)
            m->incident = seg[i];
        else if (strcmp(p, ":book") == 0)
            m->rulebook = seg[i];
        else if (strcmp(p, ":file") == 0)
            m->file = seg[i];
        else if (strcmp(p, ":year") == 0) {
            if (number_param(seg[i], 1900, 9999, "year", &m->year, err))
                return -1;
        } else if (number_param(seg[i], 1, 4, "quarter", &m->quarter, err))
            return -1;
    }
    return 0;
}

static int parse_query(const route_def *d, const char *q, char **at, route_match *m,
                       jiko_error *err)
{
    if (d->query == QUERY_ANY)
        return 0;
    while (*q) {
        size_t n = strcspn(q, "&");
        if (n == 0) { /* "a=1&&b=2": an empty pair says nothing */
            q++;
            continue;
        }
        const char *eq = memchr(q, '=', n);
        size_t kn = eq ? (size_t)(eq - q) : n;
        const char *key = decode_into(q, kn, true, at, "query", err);
        bool known = false;
        for (int k = 0; key && k < 9 && d->keys[k] && !known; k++)
            known = strcmp(d->keys[k], key) == 0;
        if (!known && d->query == QUERY_OWN) { /* not ours, even if badly encoded */
            error_clear(err);
            q += n;
            continue;
        }
        if (!key)
            return -1;
        const char *value = eq ? decode_into(eq + 1, n - kn - 1, true, at, key, err)
                               : decode_into("", 0, true, at, key, err);
        if (!value)
            return -1;
        if (!known) {
            error_set(err, JIKO_ERR_INVALID, NULL, 0, key, "%s takes no query parameter '%s'",
                      d->name, key);
            return -1;
        }
        if (route_query(m, key)) {
            error_set(err, JIKO_ERR_INVALID, NULL, 0, key, "query parameter given twice");
            return -1;
        }
        if (m->n_query == ROUTE_QUERY_MAX) {
            error_set(err, JIKO_ERR_INVALID, NULL, 0, "query", "more than %d query parameters",
                      ROUTE_QUERY_MAX);
            return -1;
        }
        m->query[m->n_query++] = (route_param){key, value};
        q += n;
    }
    return 0;
}

int route_parse(const char *method, const char *target, route_match *m, jiko_error *err)
{
    memset(m, 0, sizeof *m);
    m->method = route_method_of(method);
    size_t len = strlen(target);
    if (len > ROUTE_TARGET_MAX) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "target", "request target longer than %d bytes",
                  ROUTE_TARGET_MAX);
        return -1;
    }
    if (target[0] != '/') {
        error_set(err, JIKO_ERR_NOT_FOUND, NULL, 0, NULL, "no such resource");
        return -1;
    }
    /* room for: the decoded path segments with their NULs, the query copied
     * and its keys and values decoded, each with a NUL */
    m->buf = malloc(2 * len + 2 * SEGS_MAX + 4 * ROUTE_QUERY_MAX + 8);
    if (!m->buf) {
        error_nomem(err, "matching a request");
        return -1;
    }
    char *at = m->buf;
    const char *path_end = target + strcspn(target, "?#");
    const char *seg[SEGS_MAX + 1];
    int n = 0;
    for (const char *p = target + 1;; n++) {
        const char *e = memchr(p, '/', (size_t)(path_end - p));
        if (!e)
            e = path_end;
        if (n == SEGS_MAX) {
            error_set(err, JIKO_ERR_NOT_FOUND, NULL, 0, NULL, "no such resource");
            goto fail;
        }
        if (!(seg[n] = decode_into(p, (size_t)(e - p), false, &at, "path", err)))
            goto fail;
        if (e == path_end) {
            n++;
            break;
        }
        p = e + 1;
    }
    /* the route of this path that takes the method, else the path's first
     * (then answered 405) */
    const route_def *d = NULL;
    for (size_t i = 0; i < N_ROUTES; i++)
        if (segs_match(&routes[i], seg, n)) {
            if (!d)
                d = &routes[i];
            if (routes[i].methods & m->method) {
                d = &routes[i];
                break;
            }
        }
    if (!d) {
        error_set(err, JIKO_ERR_NOT_FOUND, NULL, 0, NULL, "no such resource");
        goto fail;
    }
    m->id = d->id;
    if (bind_params(d, seg, n, m, err))
        goto fail;
    if (*path_end == '?') {
        const char *q = path_end + 1;
        size_t qn = strcspn(q, "#");
        char *qcopy = at; /* the query without its fragment, NUL-terminated */
        memcpy(qcopy, q, qn);
        qcopy[qn] = '\0';
        at += qn + 1;
        if (parse_query(d, qcopy, &at, m, err))
            goto fail;
    }
    return 0;
fail:
    route_free(m);
    return -1;
}

static unsigned methods_of(route_id id)
{
    unsigned ms = 0;
    for (size_t i = 0; i < N_ROUTES; i++)
        if (routes[i].id == id)
            ms |= routes[i].methods;
    return ms;
}

bool route_allows(const route_match *m)
{
    return (methods_of(m->id) & m->method) != 0;
}

const char *route_allow_header(route_id id)
{
    unsigned ms = methods_of(id);
    if (!ms)
        return "";
    return ms == (GETS | ROUTE_POST) ? "GET, HEAD, POST" : ms == ROUTE_POST ? "POST" : "GET, HEAD";
}

const char *route_name(route_id id)
{
    for (size_t i = 0; i < N_ROUTES; i++)
        if (routes[i].id == id)
            return routes[i].name;
    return "other";
}

const char *route_query(const route_match *m, const char *key)
{
    for (int i = 0; i < m->n_query; i++)
        if (strcmp(m->query[i].key, key) == 0)
            return m->query[i].value;
    return NULL;
}

void route_free(route_match *m)
{
    free(m->buf);
    m->buf = NULL;
}
