/*
 * rules.c — `jiko rules list` and `jiko rules show ID`: the rulebooks as a
 * compliance officer reads them, with every clause's legal source.
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "rules_json.h"

static void help(FILE *out)
{
    fprintf(out,
            "usage: jiko rules list [--json] [OPTIONS]\n"
            "       jiko rules show ID [--json] [--lang ja|en] [OPTIONS]\n"
            "\n"
            "List the rulebooks (one per amendment, chosen by an incident's start date in\n"
            "JST), or show one: its clauses, thresholds, deadlines, legal sources, and the\n"
            "catalog services that fall in each serious-accident category.\n"
            "\n"
            "options:\n"
            "  --json             machine-readable output\n"
            "  --lang ja|en       language (default: from $LANG)\n"
            "  --rules-dir DIR    rulebooks (default: $JIKO_RULES_DIR or the built-in rules/)\n"
            "  --catalog-dir DIR  catalogs (default: $JIKO_CATALOG_DIR or the built-in catalogs/)\n"
            "  -h, --help         this help\n"
            "\n"
            "examples:\n"
            "  jiko rules list\n"
            "  jiko rules show jp-2019 --lang ja\n");
}

static const char *end_text(const rulebook *b, char *buf, size_t size)
{
    if (!b->has_end)
        return "";
    return jst_format_date(b->end, buf, size);
}

static int list(cli_env *env, bool json)
{
    char from[16], to[16];
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < env->rules.n; i++) {
            json_t *o = rules_summary_json(&env->rules.books[i]);
            json_array_append_new(arr, o);
        }
        json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(arr);
        return CLI_OK;
    }
    printf("%-10s %-10s %-10s %s\n", "ID", "FROM", "UNTIL", "TITLE");
    for (size_t i = 0; i < env->rules.n; i++) {
        const rulebook *b = &env->rules.books[i];
        printf("%-10s %-10s %-10s %s\n", b->id, rules_effective_text(b, from, sizeof from),
               b->has_end ? end_text(b, to, sizeof to) : "-", b->title_en);
        printf("%-32s %s\n", "", b->title_ja);
    }
    return CLI_OK;
}

/* A yes/no rule with its source, when the rulebook gives it. */
static void print_flag(const rules_flag *f, const char *yes, const char *no)
{
    if (f->source)
        printf("  %s%s [%s]\n", f->on ? yes : no, f->unconfirmed ? " (unconfirmed / 未確認)" : "",
               f->source);
}

/* Under a deadline: whether it moves past administrative holidays. */
static void print_moves(const rules_flag *m, bool ja)
{
    if (m->on)
        printf("    %s [%s]\n",
               ja ? "期限が行政機関の休日に当たるときは翌開庁日に延長"
                  : "a deadline on an administrative holiday moves to the next working day",
               m->source);
    else
        printf("    %s\n", ja ? "行政機関の休日による延長なし" : "not moved past administrative holidays");
}

static void print_clause(const rulebook *b, const rules_clause *cl, const catalog *cat,
                         classify_lang lang)
{
    bool ja = lang == CLASSIFY_JA;
    printf("  [%s] %s\n", cl->id, ja ? cl->name_ja : cl->name_en);
    if (cl->when_info_leak)
        printf("      %s\n", ja ? "情報の漏えいがあれば該当" : "met by the information leak itself");
    for (size_t t = 0; t < cl->n_thresholds; t++)
        printf("      %s%s\n", t ? (ja ? "又は " : "or   ") : "     ", cl->thresholds[t].text);
    if (cl->kind == RULES_SERIOUS) {
        printf("      %s", ja ? "対象サービス:" : "services:");
        if (cl->all_services)
            printf(" %s", ja ? "全て" : "all");
        else
            for (size_t s = 0; s < cat->n_services; s++)
                if (b->svc_serious[s] == (int)(cl - b->clauses))
                    printf(" %s", cat->services[s].code);
        putchar('\n');
    }
    printf("      %s %s\n", ja ? "根拠:" : "source:", cl->source);
    if (cl->unconfirmed)
        printf("      %s %s\n", ja ? "未確認:" : "UNCONFIRMED:", cl->note ? cl->note : "");
}

static int show(cli_env *env, const char *id, bool json, classify_lang lang)
{
    const rulebook *b = rules_find(&env->rules, id);
    if (!b) {
        cli_error("rules", "no rulebook '%s' (see 'jiko rules list')", id);
        return CLI_USAGE;
    }
    char from[16], to[16];
    rules_effective_text(b, from, sizeof from);
    if (json) {
        json_t *o = rules_book_json(b, &env->cat);
        json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(o);
        return CLI_OK;
    }
    bool ja = lang == CLASSIFY_JA;
    printf("%s — %s\n", b->id, ja ? b->title_ja : b->title_en);
    if (b->not_in_force)
        printf("%s\n", ja ? "施行されていない（施行日未定）: 発生日によっては選ばれない"
                          : "not in force: never chosen by date (apply it with --rulebook)");
    printf("%s %s – %s   %s %s\n", ja ? "施行期間:" : "in force:", from,
           b->has_end ? end_text(b, to, sizeof to) : (ja ? "現在" : "now"), ja ? "ファイル:" : "file:",
           b->path);
    printf("%s %s\n", ja ? "根拠:" : "source:", b->source);
    if (b->note)
        printf("%s %s\n", ja ? "注記:" : "note:", b->note);
    printf("%s %s\n", ja ? "対象となる事象:" : "counts:",
           b->count_degrade ? (ja ? "停止及び品質低下" : "stoppage and degradation")
                            : (ja ? "停止のみ" : "stoppage only"));
    static const rules_kind order[] = {RULES_SERIOUS, RULES_CRITICAL, RULES_QUARTERLY};
    static const char *head_en[] = {"Serious accidents (重大な事故), by service category:",
                                    "Serious accidents, critical facilities:",
                                    "Accidents reported quarterly (四半期報告):"};
    static const char *head_ja[] = {"重大な事故（役務区分別）:", "重大な事故（重要な電気通信設備）:",
                                    "四半期ごとの報告を要する事故:"};
    for (int o = 0; o < 3; o++) {
        bool any = false;
        for (size_t k = 0; k < b->n_clauses; k++) {
            if (b->clauses[k].kind != order[o])
                continue;
            if (!any)
                printf("\n%s\n", ja ? head_ja[o] : head_en[o]);
            any = true;
            print_clause(b, &b->clauses[k], &env->cat, lang);
        }
    }
    if (b->has_osore) {
        const rules_osore *o = &b->osore;
        printf("\n%s\n  %s%s\n", ja ? "重大な事故が生ずるおそれがあると認められる事態:" : "Situations likely to cause a serious accident (おそれ事態):",
               ja ? o->name_ja : o->name_en, o->unconfirmed ? (ja ? "（未確認）" : " (unconfirmed)") : "");
        printf(ja ? "    前年度末の利用者数 %lld 以上、%d 以上の都道府県にわたる役務のコア設備\n"
                  : "    operators with %lld users or more at the end of the previous fiscal year; core equipment of services spanning %d or more prefectures\n",
               (long long)o->min_operator_users, o->min_prefectures);
        printf("    %s %s\n", ja ? "根拠:" : "source:", o->source);
        if (o->note)
            printf("    %s %s\n", ja ? "注記:" : "note:", o->note);
    }
    printf("\n%s\n", ja ? "様式と期限:" : "Forms and deadlines:");
    if (b->has_simple_form)
        printf("  %s [%s]\n", ja ? "簡易な様式: 故障設備が設備一覧で simple_form = yes のもの"
                                 : "simple form: when the failed equipment has simple_form = yes in the catalog",
               b->simple_form_source);
    print_flag(&b->serious_quarterly_duty, ja ? "重大な事故も四半期報告で報告する" : "serious accidents are also filed on the quarterly form",
               ja ? "重大な事故は四半期報告の対象外" : "serious accidents are not filed on the quarterly form");
    print_flag(&b->serious_in_statistics,
               ja ? "統計: 重大な事故を詳細な様式の件数に含める" : "statistics: serious accidents counted in the detailed-form total",
               ja ? "統計: 重大な事故を詳細な様式の件数に含めない" : "statistics: serious accidents not counted in the detailed-form total");
    if (b->has_prompt)
        printf("  %s [%s]\n", ja ? "速報: 速やかに" : "prompt report: without delay (速やかに)",
               b->prompt_source);
    /* the deadlines counted from a day, each with whether it moves past holidays:
     * "before N after [source]" */
    const struct { int n; const char *ja[2], *en[2], *source; const rules_flag *m; } dl[] = {
        {b->written_days, {"報告書: 発生日から", "日以内（初日不算入）"},
         {"written report: within ", " days of the day it occurred (first day not counted)"},
         b->written_source, &b->written_moves},
        {b->quarterly_months,
         {b->periodic_yearly ? "定期報告: 年度経過後" : "四半期報告: 四半期経過後", "か月以内"},
         {b->periodic_yearly ? "yearly report: within " : "quarterly report: within ",
          b->periodic_yearly ? " months after the fiscal year ends" : " months after the quarter ends"},
         b->quarterly_source, &b->quarterly_moves},
        {b->osore_days, {"重大な事故が生ずるおそれがあると認められる事態の報告: 覚知した日から", "日以内"},
         {"report of a situation likely to cause a serious accident: within ",
          " days of the day it was noticed"},
         b->osore_source, &b->osore_moves},
        {b->secrecy_days, {"通信の秘密の漏えいの報告: 漏えいを知った日から", "日以内"},
         {"report of a leak of the secrecy of communications: within ", " days of the day it became known"},
         b->secrecy_source, &b->secrecy_moves},
    };
    for (size_t k = 0; k < sizeof dl / sizeof dl[0]; k++) {
        if (!dl[k].n)
            continue;
        const char *const *w = ja ? dl[k].ja : dl[k].en;
        printf("  %s%d%s [%s]\n", w[0], dl[k].n, w[1], dl[k].source);
        print_moves(dl[k].m, ja);
    }
    if (b->has_minor_premises)
        printf("  %s [%s]\n", ja ? "報告不要: 利用者の建物内で完結する軽微な事故"
                                 : "not reportable: minor accidents within a user's premises",
               b->minor_source);
    return CLI_OK;
}

int cmd_rules(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},     {"lang", required_argument, NULL, 'l'},
        {"rules-dir", required_argument, NULL, 'R'}, {"catalog-dir", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},     {NULL, 0, NULL, 0}};
    bool json = false;
    const char *lang = NULL, *rules_dir = NULL, *catalog_dir = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 'l': lang = optarg; break;
        case 'R': rules_dir = optarg; break;
        case 'C': catalog_dir = optarg; break;
        case 'h': help(stdout); return CLI_OK;
        default: help(stderr); return CLI_USAGE;
        }
    }
    classify_lang lg;
    if (cli_lang(lang, &lg)) {
        cli_error("rules", "--lang must be ja or en, not '%s'", lang);
        return CLI_USAGE;
    }
    if (optind >= argc) {
        help(stderr);
        return CLI_USAGE;
    }
    const char *sub = argv[optind];
    bool is_list = strcmp(sub, "list") == 0, is_show = strcmp(sub, "show") == 0;
    if ((!is_list && !is_show) || (is_list && optind + 1 != argc) ||
        (is_show && optind + 2 != argc)) {
        cli_error("rules", "expected 'list' or 'show ID'");
        help(stderr);
        return CLI_USAGE;
    }
    cli_env env;
    int rc = cli_env_load(&env, rules_dir, catalog_dir);
    if (rc)
        return rc;
    rc = is_list ? list(&env, json) : show(&env, argv[optind + 1], json, lg);
    cli_env_free(&env);
    return rc;
}
