/*
 * server.h — `jiko serve`: the HTTP server (libmicrohttpd) in front of the
 * API handlers (api.h), with the self-protection of limit.h, the tokens of
 * auth.h and the figures of metrics.h.
 *
 * A request goes through, in order, refusing as early and as cheaply as it
 * can: admission (work in progress, resident memory: 503), the route (404,
 * 405, 400), the token (401), the role (403), the token's rate (429), the
 * body's type and size (415, 413); only then is it read and handled.  The
 * public status pages take no token: after admission, the client address's
 * rate (429).
 *
 * Threads: one libmicrohttpd I/O thread (poll) reads every connection, runs
 * the checks above and writes the answers; `threads` workers run the
 * handlers, fed through a queue of max_inflight places while their
 * connections are suspended — so admission sees a flood and refuses it at
 * once.  With `threads` 0, one thread per connection runs everything
 * (docs/serve-performance.md has the measurements).  Each thread borrows a
 * registry handle from a pool: SQLite connections are not shared between
 * threads.
 */
#ifndef JIKO_SERVER_H
#define JIKO_SERVER_H

#include "api.h"
#include "serve_conf.h"

/* Client addresses the public pages' rate limiter keeps at once; when it
 * is full it forgets them all (limit.h). */
#define SERVER_PUBLIC_ADDRESSES 65536

typedef struct server server;

/* Open the registry (`db_url`, created when missing) and start serving.
 * The caller keeps `env` alive until server_stop.  The caller should block
 * SIGTERM, SIGINT and SIGPIPE in every thread before (the server's threads
 * inherit the mask) and wait for them with sigwait. */
int server_start(server **out, const serve_conf *c, const char *db_url, const api_env *env,
                 jiko_error *err);

/* The port listened on (the one chosen when the configuration said 0). */
int server_port(const server *s);

/* Stop accepting, let in-flight requests finish (up to shutdown_grace_s),
 * close every connection and the registry. */
void server_stop(server *s);

#endif
