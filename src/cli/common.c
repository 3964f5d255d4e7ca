/* common.c — helpers shared by the subcommands (see cli.h). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "jst.h"
#include "num.h"
#include "utf8.h"

#ifndef JIKO_DATADIR
#define JIKO_DATADIR "."
#endif

int cli_env_load(cli_env *env, const char *rules_dir, const char *catalog_dir)
{
    memset(env, 0, sizeof *env);
    env->rules_dir = rules_dir ? rules_dir : getenv("JIKO_RULES_DIR");
    env->catalog_dir = catalog_dir ? catalog_dir : getenv("JIKO_CATALOG_DIR");
    if (!env->rules_dir || !*env->rules_dir)
        env->rules_dir = JIKO_DATADIR "/rules";
    if (!env->catalog_dir || !*env->catalog_dir)
        env->catalog_dir = JIKO_DATADIR "/catalogs";
    jiko_error err;
    char buf[ERROR_TEXT_MAX];
    error_clear(&err);
    if (catalog_load(&env->cat, env->catalog_dir, &err)) {
        fprintf(stderr, "jiko: catalog error: %s\n", error_format(&err, buf, sizeof buf));
        return CLI_CONFIG;
    }
    if (rules_load_dir(&env->rules, env->rules_dir, &env->cat, &err)) {
        fprintf(stderr, "jiko: rulebook error: %s\n", error_format(&err, buf, sizeof buf));
        catalog_free(&env->cat);
        return CLI_CONFIG;
    }
    env->cat.rules = &env->rules; /* env is not moved after this: callers keep it in place */
    return CLI_OK;
}

void cli_env_free(cli_env *env)
{
    rules_free(&env->rules);
    catalog_free(&env->cat);
}

int cli_lang(const char *arg, classify_lang *out)
{
    if (!arg) {
        const char *l = getenv("LANG");
        *out = l && strncmp(l, "ja", 2) == 0 ? CLASSIFY_JA : CLASSIFY_EN;
        return 0;
    }
    if (strcmp(arg, "ja") == 0)
        *out = CLASSIFY_JA;
    else if (strcmp(arg, "en") == 0)
        *out = CLASSIFY_EN;
    else
        return -1;
    return 0;
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "jiko %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

const char *cli_jst_short(int64_t ms, char *buf, size_t size)
{
    if (!ms)
        return "-";
    char t[JST_TEXT_MAX];
    jst_format(ms, t, sizeof t);
    snprintf(buf, size, "%.10s %.8s", t, t + 11);
    return buf;
}

void cli_pad(FILE *out, const char *s, size_t width)
{
    size_t w = utf8_print_safe(out, s);
    for (; w < width; w++)
        fputc(' ', out);
    fputc(' ', out);
}

const char *cli_db_url(const char *arg)
{
    if (!arg || !*arg)
        arg = getenv("JIKO_DB");
    return arg && *arg ? arg : "jiko.db";
}

int cli_store_open(store **db, const char *url, bool create, const char *cmd)
{
    url = cli_db_url(url);
    jiko_error err;
    error_clear(&err);
    if (create ? store_open(db, url, &err) : store_open_existing(db, url, &err))
        return cli_fail(cmd, &err);
    return CLI_OK;
}

int cli_status(const jiko_error *e)
{
    switch (e->kind) {
    case JIKO_ERR_NONE: return CLI_OK;
    case JIKO_ERR_INVALID: return CLI_REJECTED;
    case JIKO_ERR_NOT_FOUND: return CLI_NOT_FOUND;
    case JIKO_ERR_CONFLICT:
    case JIKO_ERR_RETRY:
    case JIKO_ERR_FORBIDDEN:
    case JIKO_ERR_STORE: return CLI_STORE;
    case JIKO_ERR_IO: return CLI_IO;
    case JIKO_ERR_NOMEM: return CLI_NOMEM;
    case JIKO_ERR_CONFIG: return CLI_CONFIG;
    }
    return CLI_STORE;
}

void cli_print_error(const jiko_error *e)
{
    char msg[ERROR_TEXT_MAX];
    fprintf(stderr, "%s\n", error_format(e, msg, sizeof msg));
}

int cli_fail(const char *cmd, const jiko_error *e)
{
    char msg[ERROR_TEXT_MAX];
    error_format(e, msg, sizeof msg);
    if (e->kind == JIKO_ERR_CONFLICT && strcmp(e->field, "operator") == 0)
        cli_error(cmd, "%s (give --operator NAME)", msg);
    else
        cli_error(cmd, "%s", msg);
    return cli_status(e);
}

int cli_now(const char *arg, int64_t *ms, const char *cmd)
{
    if (!arg) {
        *ms = jst_now_ms();
        return 0;
    }
    const char *why = NULL;
    if (!jst_parse_rfc3339(arg, strlen(arg), ms, &why)) {
        cli_error(cmd, "--now '%s': %s", arg, why);
        return -1;
    }
    return 0;
}

FILE *cli_open_input(const char *path, const char *cmd, const char **name)
{
    if (strcmp(path, "-") == 0) {
        *name = "<stdin>";
        return stdin;
    }
    *name = path;
    FILE *fp = fopen(path, "r");
    if (!fp) {
        cli_error(cmd, "%s: %s", path, strerror(errno));
        return NULL;
    }
    /* a directory opens, then every read fails: say so instead */
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        cli_error(cmd, "%s: %s", path, strerror(EISDIR));
        fclose(fp);
        return NULL;
    }
    return fp;
}

int cli_opt_long(const char *cmd, const char *opt, const char *what, const char *arg, long min,
                 long max, long *out)
{
    if (num_parse_long(arg, min, max, out))
        return 0;
    cli_error(cmd, "%s expects %s, got '%s'", opt, what, arg);
    return -1;
}

int cli_opt_double(const char *cmd, const char *opt, const char *what, const char *arg,
                   double *out)
{
    if (num_parse_double(arg, out))
        return 0;
    cli_error(cmd, "%s expects %s, got '%s'", opt, what, arg);
    return -1;
}

int cli_opt_fy(const char *cmd, const char *arg, int *fy)
{
    long v;
    if (cli_opt_long(cmd, "--fy", "a fiscal year such as 2021", arg, CLI_FY_MIN, CLI_FY_MAX, &v))
        return -1;
    *fy = (int)v;
    return 0;
}

FILE *cli_open_operand(int argc, char **argv, const char *cmd, void (*usage)(FILE *),
                       const char **name, int *status)
{
    if (argc - optind > 1) {
        usage(stderr);
        *status = CLI_USAGE;
        return NULL;
    }
    FILE *fp = cli_open_input(optind < argc ? argv[optind] : "-", cmd, name);
    *status = fp ? CLI_OK : CLI_IO;
    return fp;
}
