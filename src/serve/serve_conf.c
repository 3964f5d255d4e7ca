/* serve_conf.c — the server's settings (serve_conf.h). */
#include "serve_conf.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "num.h"

void serve_conf_default(serve_conf *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->host, sizeof c->host, "127.0.0.1");
    c->port = 8080;
    c->threads = 2;
    c->max_connections = 1024;
    c->max_body_bytes = 1L << 20;
    c->max_header_bytes = 16 * 1024;
    c->connection_timeout_s = 10;
    c->max_inflight = 64;
    c->max_rss_mb = 1024;
    c->rate = 200;
    c->burst = 400;
    /* 0: one per worker, one for the I/O thread and one for the live engine's
     * clock (8 with one thread per connection) */
    c->registry_connections = 0;
    /* ~1.5 million incidents before the hint starts to evict */
    c->key_hint_mb = 32;
    c->token_refresh_ms = 1000;
    c->shutdown_grace_s = 10;
}

int serve_conf_listen(serve_conf *c, const char *text, jiko_error *err)
{
    const char *colon = strrchr(text, ':');
    char host[64];
    long port;
    if (!colon || !num_parse_long(colon + 1, 0, 65535, &port)) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "listen",
                  "expected ADDRESS:PORT such as 127.0.0.1:8080 or [::1]:8080, got '%s'", text);
        return -1;
    }
    size_t n = (size_t)(colon - text);
    const char *h = text;
    if (n >= 2 && text[0] == '[' && text[n - 1] == ']') {
        h++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof host) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "listen", "no address before the port in '%s'",
                  text);
        return -1;
    }
    memcpy(host, h, n);
    host[n] = '\0';
    unsigned char addr[16];
    if (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "listen",
                  "'%s' is not a numeric IPv4 or IPv6 address", host);
        return -1;
    }
    snprintf(c->host, sizeof c->host, "%s", host);
    c->port = (int)port;
    return 0;
}

typedef struct key_def {
    const char *key;
    char type; /* 'l' long, 'i' int, 'd' double, 's' listen, 'p' a path (char[1024]) */
    size_t off;
    double min, max;
} key_def;

#define OFF(f) offsetof(serve_conf, f)
static const key_def keys[] = {
    {"listen", 's', 0, 0, 0},
    {"threads", 'i', OFF(threads), 0, 256},
    {"max_connections", 'l', OFF(max_connections), 1, 1000000},
    {"max_body_bytes", 'l', OFF(max_body_bytes), 1024, 1L << 30},
    {"max_header_bytes", 'l', OFF(max_header_bytes), 4096, 1L << 20},
    {"connection_timeout_s", 'i', OFF(connection_timeout_s), 1, 3600},
    {"max_inflight", 'l', OFF(max_inflight), 1, 1000000},
    {"max_rss_mb", 'l', OFF(max_rss_mb), 16, 1L << 24},
    {"rate", 'd', OFF(rate), 0, 1e9},
    {"burst", 'd', OFF(burst), 1, 1e9},
    {"registry_connections", 'l', OFF(registry_connections), 0, 1024},
    {"key_hint_mb", 'l', OFF(key_hint_mb), 0, 65536},
    {"token_refresh_ms", 'l', OFF(token_refresh_ms), 10, 3600000},
    {"shutdown_grace_s", 'i', OFF(shutdown_grace_s), 0, 3600},
    {"web", 'p', OFF(web), 0, 0},
    {"web_vendor", 'p', OFF(web_vendor), 0, 0},
};
#undef OFF

static int set_key(serve_conf *c, const conf_file *f, const conf_entry *e, jiko_error *err)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const key_def *k = &keys[i];
        if (strcmp(k->key, e->key) != 0)
            continue;
        if (k->type == 's') {
            if (serve_conf_listen(c, e->value, err)) {
                snprintf(err->file, sizeof err->file, "%s", f->path);
                err->line = e->line;
                err->kind = JIKO_ERR_CONFIG;
                return -1;
            }
            return 0;
        }
        char *at = (char *)c + k->off;
        if (k->type == 'p') {
            if (!e->value[0] || strlen(e->value) >= sizeof c->web) {
                error_set(err, JIKO_ERR_CONFIG, f->path, e->line, e->key,
                          "expected a directory path of 1-%zu bytes", sizeof c->web - 1);
                return -1;
            }
            snprintf(at, sizeof c->web, "%s", e->value);
            return 0;
        }
        bool ok;
        if (k->type == 'd') {
            double v;
            ok = num_parse_double(e->value, &v) && v >= k->min && v <= k->max;
            if (ok)
                *(double *)(void *)at = v;
        } else {
            long v;
            ok = num_parse_long(e->value, (long)k->min, (long)k->max, &v);
            if (ok && k->type == 'i')
                *(int *)(void *)at = (int)v;
            else if (ok)
                *(long *)(void *)at = v;
        }
        if (!ok) {
            error_set(err, JIKO_ERR_CONFIG, f->path, e->line, e->key,
                      "expected a number from %g to %g, got '%s'", k->min, k->max, e->value);
            return -1;
        }
        return 0;
    }
    error_set(err, JIKO_ERR_CONFIG, f->path, e->line, e->key,
              "unknown key in [serve] (see docs/api.md for the settings)");
    return -1;
}

/* Sections of the same file that other modules read (docs/api.md): the
 * live engine's [watch NAME] and [live], the subscriptions' [webhook NAME]. */
static bool other_module(const char *type)
{
    return strcmp(type, "watch") == 0 || strcmp(type, "live") == 0 ||
           strcmp(type, "webhook") == 0;
}

int serve_conf_apply(serve_conf *c, const conf_file *f, jiko_error *err)
{
    int rc = 0;
    for (size_t i = 0; i < f->n_sections && !rc; i++) {
        const conf_section *s = &f->sections[i];
        if (other_module(s->type))
            continue;
        if (strcmp(s->type, "serve") != 0 || s->name[0]) {
            error_set(err, JIKO_ERR_CONFIG, f->path, s->line, NULL,
                      "unknown section [%s%s%s]; expected [serve], [watch NAME], [live] or "
                      "[webhook NAME]",
                      s->type, s->name[0] ? " " : "", s->name);
            rc = -1;
        }
        for (size_t j = 0; j < s->n_entries && !rc; j++)
            rc = set_key(c, f, &s->entries[j], err);
    }
    return rc;
}

int serve_conf_load(serve_conf *c, const char *path, jiko_error *err)
{
    conf_file f;
    if (conf_load(path, &f, err))
        return -1;
    int rc = serve_conf_apply(c, &f, err);
    conf_free(&f);
    return rc;
}
