/* testutil.c — see testutil.h. */
#include "testutil.h"

#include <libpq-fe.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jst.h"

const char *tu_path(char *buf, size_t size, const char *rel)
{
    snprintf(buf, size, "%s/%s", JIKO_SOURCE_DIR, rel);
    return buf;
}

char *tu_read(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    size_t got = fread(buf, 1, (size_t)n, fp);
    fclose(fp);
    assert_int_equal(got, (size_t)n);
    buf[n] = '\0';
    if (len)
        *len = (size_t)n;
    return buf;
}

int tu_env_setup(void **state)
{
    tu_env *env = calloc(1, sizeof *env);
    char dir[1024];
    jiko_error err;
    char msg[1024];
    if (catalog_load(&env->cat, tu_path(dir, sizeof dir, "catalogs"), &err)) {
        fprintf(stderr, "%s\n", error_format(&err, msg, sizeof msg));
        free(env);
        return -1;
    }
    if (rules_load_dir(&env->rules, tu_path(dir, sizeof dir, "rules"), &env->cat, &err)) {
        fprintf(stderr, "%s\n", error_format(&err, msg, sizeof msg));
        catalog_free(&env->cat);
        free(env);
        return -1;
    }
    *state = env;
    return 0;
}

int tu_env_teardown(void **state)
{
    tu_env *env = *state;
    rules_free(&env->rules);
    catalog_free(&env->cat);
    free(env);
    return 0;
}

int64_t tu_time(const char *s)
{
    int64_t ms = 0;
    const char *why = NULL;
    if (!jst_parse_rfc3339(s, strlen(s), &ms, &why))
        fail_msg("bad time in test: %s (%s)", s, why);
    return ms;
}

int tu_each_case(const char *rel, tu_case_fn fn, void *ctx, int *cases)
{
    char path[1024];
    char *text = tu_read(tu_path(path, sizeof path, rel), NULL);
    int failures = 0;
    char *body = NULL, *name = NULL;
    size_t body_len = 0;
    *cases = 0;
    for (char *ln = text, *next; ln && *ln; ln = next) {
        char *nl = strchr(ln, '\n');
        next = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        if (strncmp(ln, "=== ", 4) == 0) {
            name = ln + 4;
            free(body);
            body = calloc(1, strlen(next ? next : "") + 1);
            assert_non_null(body);
            body_len = 0;
        } else if (strncmp(ln, "--- ", 4) == 0 && body) {
            failures += fn(ctx, name, body, body_len, ln + 4);
            (*cases)++;
            free(body);
            body = NULL;
        } else if (body) {
            size_t n = strlen(ln);
            memcpy(body + body_len, ln, n);
            body_len += n;
            body[body_len++] = '\n';
        }
    }
    free(body);
    free(text);
    return failures;
}

void tu_unlink_db(const char *path)
{
    char aux[1100];
    unlink(path);
    snprintf(aux, sizeof aux, "%s-wal", path);
    unlink(aux);
    snprintf(aux, sizeof aux, "%s-shm", path);
    unlink(aux);
}

void tu_reset_pg(const char *url)
{
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PQclear(PQexec(c, "SET client_min_messages = warning;"
                      "DROP VIEW IF EXISTS incident_current;"
                      "DROP TABLE IF EXISTS incident_version, incident, api_token, webhook_outbox, "
                      "jiko_schema;"
                      "DROP FUNCTION IF EXISTS jiko_test_boom() CASCADE;"
                      "DROP SEQUENCE IF EXISTS jiko_test_boom_seq"));
    PQfinish(c);
}

void tu_pg_url(const char *arg, char *url, size_t size)
{
    FILE *fp = fopen(arg, "r");
    if (!fp) { /* the URL itself */
        snprintf(url, size, "%s", arg);
        return;
    }
    if (!fgets(url, (int)size, fp))
        url[0] = '\0';
    fclose(fp);
    url[strcspn(url, "\n")] = '\0';
}
