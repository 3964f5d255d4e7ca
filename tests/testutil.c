/* testutil.c — see testutil.h. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
