/*
 * serve_conf.h — the server's settings: built-in defaults, then the
 * [serve] section of the config file (`jiko serve --config FILE`), then the
 * command line.  Every limit has a documented default (docs/api.md) and is
 * counted in /metrics when it refuses a request.
 *
 *     [serve]
 *     listen = 127.0.0.1:8080
 *     threads = 2              # workers for the handlers; 0 = one thread per connection
 *     max_connections = 1024
 *     ...
 */
#ifndef JIKO_SERVE_CONF_H
#define JIKO_SERVE_CONF_H

#include <stdint.h>

#include "conf.h"
#include "error.h"

typedef struct serve_conf {
    char host[64];            /* numeric IPv4 or IPv6 address */
    int port;                 /* 0: any free port (tests) */
    int threads;              /* workers running handlers; 0 = one thread per connection */
    long max_connections;     /* open client connections */
    long max_body_bytes;      /* request body */
    long max_header_bytes;    /* request line and headers (per-connection memory) */
    int connection_timeout_s; /* idle connection, and a client that stops sending */
    long max_inflight;        /* admitted requests in progress; beyond: 503 */
    long max_rss_mb;          /* resident memory; beyond: 503 */
    double rate;              /* requests per second per token; 0 = no limit */
    double burst;             /* token bucket size */
    long registry_connections; /* registry handles shared by the request threads */
    long key_hint_mb;         /* the (operator, id) -> key hint (key_hint.h); 0 = none */
    long token_refresh_ms;    /* how often the token list is read again */
    int shutdown_grace_s;     /* on SIGTERM: how long in-flight requests may finish */
    char web[1024];           /* the dashboard's files; "": the built-in place */
    char web_vendor[1024];    /* uPlot's dist/ directory; "": the built-in place */
} serve_conf;

void serve_conf_default(serve_conf *c);

/* "HOST:PORT" ("[::1]:8080" for IPv6) into c->host and c->port. */
int serve_conf_listen(serve_conf *c, const char *text, jiko_error *err);

/* Read the [serve] section of a config file over *c.  Unknown keys, bad
 * values and unknown sections are errors with file:line; the sections other
 * modules read from the same file ([watch NAME], [live], [webhook NAME])
 * are left to them. */
int serve_conf_load(serve_conf *c, const char *path, jiko_error *err);

/* The same over a file already parsed (the command reads it once for the
 * server and the other modules). */
int serve_conf_apply(serve_conf *c, const conf_file *f, jiko_error *err);

#endif
