/*
 * classify.c — `jiko classify`: read incidents (JSON Lines), print what the
 * law makes of each, as the contract's JSON Lines or as a readable table.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "intake.h"
#include "lines.h"
#include "utf8.h"
#include "json_text.h"

static void help(FILE *out)
{
    fprintf(out,
            "usage: jiko classify [OPTIONS] [FILE...|-]\n"
            "\n"
            "Classify incidents (JSON Lines, one incident per line; docs/incident-format.md):\n"
            "the report owed (serious / detailed / simple / none), the clauses that applied,\n"
            "the deadlines and, for an ongoing incident, when it turns serious.\n"
            "Reads standard input when no FILE is given or FILE is '-'.\n"
            "\n"
            "options:\n"
            "  --json             print the contract's JSON Lines, one object per valid incident\n"
            "  --explain          in the table, list the reasons under each incident\n"
            "  --rulebook ID      apply this rulebook instead of choosing by start date\n"
            "  --now TIME         the current time for ongoing incidents (RFC 3339;\n"
            "                     default: the clock)\n"
            "  --lang ja|en       language of the table and the reasons (default: from $LANG)\n"
            "  --rules-dir DIR    rulebooks (default: $JIKO_RULES_DIR or the built-in rules/)\n"
            "  --catalog-dir DIR  catalogs (default: $JIKO_CATALOG_DIR or the built-in catalogs/)\n"
            "  -h, --help         this help\n"
            "\n"
            "A record that fails validation is reported on standard error as\n"
            "FILE:LINE: field 'NAME': what was expected; the other records are still\n"
            "classified.  Exit status: 0 all classified, 1 some rejected, 2 usage,\n"
            "3 rulebook/catalog error, 4 unreadable file.\n"
            "\n"
            "example:\n"
            "  jiko classify --now 2021-08-03T16:00:00+09:00 examples/fy2021-serious.jsonl\n");
}

typedef struct run {
    cli_env *env;
    intake_opts intake;
    bool json, explain;
    classify_lang lang;
    long ok, rejected;
    bool header_done;
} run;

static const char *report_label(classify_report r, classify_lang lang)
{
    if (lang == CLASSIFY_EN)
        return classify_report_name(r);
    switch (r) {
    case CLASSIFY_SERIOUS: return "重大な事故";
    case CLASSIFY_DETAILED: return "詳細な様式";
    case CLASSIFY_SIMPLE: return "簡易な様式";
    case CLASSIFY_NONE: break;
    }
    return "報告不要";
}

/* Short JST time for tables: "2021-08-03 17:00". */
static const char *short_time(int64_t ms, char *buf, size_t size)
{
    char full[40];
    jst_format(ms, full, sizeof full);
    snprintf(buf, size, "%.10s %.5s", full, full + 11);
    return buf;
}

static void table_header(run *r)
{
    static const char *en[] = {"ID", "RULEBOOK", "REPORT", "SERIOUS", "QUARTERLY",
                               "PROMPT", "WRITTEN", "QUARTERLY DUE", "BECOMES SERIOUS"};
    static const char *ja[] = {"ID", "適用基準", "報告", "重大事故区分", "四半期条項",
                               "速報", "報告書期限", "四半期報告期限", "重大化予定"};
    static const size_t w[] = {26, 8, 10, 12, 18, 16, 10, 14, 16};
    const char **h = r->lang == CLASSIFY_JA ? ja : en;
    for (int i = 0; i < 8; i++)
        cli_pad(stdout, h[i], w[i]);
    printf("%s\n", h[8]);
}

static void table_row(run *r, const classify_result *res, const incident *inc)
{
    static const size_t w[] = {26, 8, 10, 12, 18, 16, 10, 14, 16};
    char cats[128] = "", qs[128] = "", p[40] = "-", wr[16] = "-", qd[16] = "-", bs[40] = "-";
    for (int i = 0; i < res->n_serious; i++)
        snprintf(cats + strlen(cats), sizeof cats - strlen(cats), "%s%s", i ? "," : "",
                 res->book->clauses[res->serious[i].clause].id);
    for (int i = 0; i < res->n_quarterly; i++)
        snprintf(qs + strlen(qs), sizeof qs - strlen(qs), "%s%s", i ? "," : "",
                 res->book->clauses[res->quarterly[i].clause].id);
    if (!cats[0])
        strcpy(cats, "-");
    if (!qs[0])
        strcpy(qs, "-");
    if (res->has_prompt)
        short_time(res->prompt_ms, p, sizeof p);
    if (res->has_written)
        jst_format_date(res->written, wr, sizeof wr);
    if (res->has_quarterly)
        jst_format_date(res->quarterly_due, qd, sizeof qd);
    if (res->has_becomes)
        short_time(res->becomes_ms, bs, sizeof bs);
    const char *cols[] = {inc->id, res->book->id, report_label(res->report, r->lang), cats, qs,
                          p, wr, qd, bs};
    for (int i = 0; i < 8; i++)
        cli_pad(stdout, cols[i], w[i]);
    printf("%s\n", cols[8]);
    if (r->explain) {
        json_t *reasons = classify_reasons(res, inc, &r->env->cat, r->lang);
        for (size_t i = 0; i < json_array_size(reasons); i++) {
            fputs("    - ", stdout);
            utf8_print_safe(stdout, json_string_value(json_array_get(reasons, i)));
            putchar('\n');
        }
        json_decref(reasons);
    }
}

static void one_record(run *r, const char *name, long lineno, const char *text, size_t len)
{
    incident inc;
    classify_result res;
    jiko_error err;
    error_clear(&err);
    if (intake_record(&r->intake, text, len, name, lineno, &inc, &res, &err)) {
        cli_print_error(&err);
        r->rejected++;
        return;
    }
    if (r->json) {
        json_t *o = classify_to_json(&res, &inc, &r->env->cat, r->lang);
        char *s = o ? json_text_of(o, 0, false, NULL) : NULL;
        if (s) {
            fputs(s, stdout);
            fputc('\n', stdout);
            free(s);
        }
        json_decref(o);
    } else {
        if (!r->header_done) {
            table_header(r);
            r->header_done = true;
        }
        table_row(r, &res, &inc);
    }
    r->ok++;
    incident_free(&inc);
}

/* Every record of one input; -1 (err filled) when it could not be read to
 * its end: the records before the failure were classified. */
static int one_stream(run *r, FILE *fp, const char *name, jiko_error *err)
{
    lines in;
    lines_init(&in, fp, name);
    char *s;
    size_t len;
    int got;
    while ((got = lines_next(&in, &s, &len, err)) > 0)
        if (intake_line(&s, &len, in.lineno))
            one_record(r, name, in.lineno, s, len);
    lines_free(&in);
    return got < 0 ? -1 : 0;
}

int cmd_classify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},       {"explain", no_argument, NULL, 'x'},
        {"rulebook", required_argument, NULL, 'r'}, {"now", required_argument, NULL, 'n'},
        {"lang", required_argument, NULL, 'l'}, {"rules-dir", required_argument, NULL, 'R'},
        {"catalog-dir", required_argument, NULL, 'C'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *rulebook_id = NULL, *now = NULL, *lang = NULL, *rules_dir = NULL,
               *catalog_dir = NULL;
    run r = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': r.json = true; break;
        case 'x': r.explain = true; break;
        case 'r': rulebook_id = optarg; break;
        case 'n': now = optarg; break;
        case 'l': lang = optarg; break;
        case 'R': rules_dir = optarg; break;
        case 'C': catalog_dir = optarg; break;
        case 'h': help(stdout); return CLI_OK;
        default: help(stderr); return CLI_USAGE;
        }
    }
    if (cli_lang(lang, &r.lang)) {
        cli_error("classify", "--lang must be ja or en, not '%s'", lang);
        return CLI_USAGE;
    }
    if (cli_now(now, &r.intake.now_ms, "classify"))
        return CLI_USAGE;
    cli_env env;
    int rc = cli_env_load(&env, rules_dir, catalog_dir);
    if (rc)
        return rc;
    r.env = &env;
    r.intake.cat = &env.cat;
    r.intake.rules = &env.rules;
    if (rulebook_id) {
        r.intake.forced = rules_find(&env.rules, rulebook_id);
        if (!r.intake.forced) {
            cli_error("classify", "no rulebook '%s' in %s (see 'jiko rules list')", rulebook_id,
                      env.rules_dir);
            cli_env_free(&env);
            return CLI_USAGE;
        }
    }
    int status = CLI_OK;
    /* standard input when no file is named */
    char *dash[] = {"-"};
    char **files = optind < argc ? argv + optind : dash;
    int n_files = optind < argc ? argc - optind : 1;
    for (int i = 0; i < n_files; i++) {
        const char *name;
        FILE *fp = cli_open_input(files[i], "classify", &name);
        if (!fp) {
            status = CLI_IO;
            continue;
        }
        jiko_error err;
        if (one_stream(&r, fp, name, &err))
            status = cli_fail("classify", &err);
        if (fp != stdin)
            fclose(fp);
    }
    if (r.rejected) {
        fprintf(stderr, r.lang == CLASSIFY_JA ? "jiko classify: %ld 件を分類、%ld 件を却下\n"
                                              : "jiko classify: %ld classified, %ld rejected\n",
                r.ok, r.rejected);
        if (status == CLI_OK)
            status = CLI_REJECTED;
    }
    cli_env_free(&env);
    return status;
}
