/* testutil.h — helpers shared by the cmocka tests. */
#ifndef JIKO_TESTUTIL_H
#define JIKO_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the includes above first */
#include <cmocka.h>

#include "catalog.h"
#include "rules.h"

/* "<source dir>/<rel>" into a static-free caller buffer. */
const char *tu_path(char *buf, size_t size, const char *rel);

/* Read a whole file; NULL-terminated, caller frees. Fails the test on error. */
char *tu_read(const char *path, size_t *len);

/* The project's catalog and rulebooks, loaded once per test group. */
typedef struct tu_env {
    catalog cat;
    rules_set rules;
} tu_env;

int tu_env_setup(void **state);
int tu_env_teardown(void **state);

/* A file of broken inputs and the error each must give (tests/cases/
 * rules-errors.txt, webhook-errors.txt): "=== NAME", the input's lines,
 * "--- EXPECTED".  fn is called per case with the input (NUL-terminated,
 * len bytes) and returns how many failures it found; tu_each_case returns
 * their sum and sets *cases.  Lines starting with '#' before the first case
 * are comments. */
typedef int (*tu_case_fn)(void *ctx, const char *name, const char *text, size_t len,
                          const char *want);
int tu_each_case(const char *rel, tu_case_fn fn, void *ctx, int *cases);

/* Remove a SQLite registry file and its WAL side files. */
void tu_unlink_db(const char *path);

/* Instant from RFC 3339, failing the test if it does not parse. */
int64_t tu_time(const char *s);

/* Drop every table of a PostgreSQL registry (a fresh one per test). */
void tu_reset_pg(const char *url);

/* A PostgreSQL URL given as itself or as a file holding it (tests/CMakeLists.txt
 * writes pg-url when it starts the test cluster). */
void tu_pg_url(const char *arg, char *url, size_t size);

#endif
