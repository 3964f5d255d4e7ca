/*
 * report.c — `jiko report`: the yearly statistics as MIC publishes them,
 * `jiko report incident ID` (the serious-accident case sheet) and
 * `jiko report quarter` (the quarterly batch).  Thin shells over report.h,
 * report_render.h and report_case.h.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jst.h"
#include "outfile.h"
#include "report.h"
#include "report_case.h"
#include "report_render.h"
#include "store_row.h"

static void help(FILE *out)
{
    fputs("usage: jiko report --fy YEAR [--format text|md|html|csv|json] [--table ID]\n"
          "                   [--lang ja|en] [--out FILE] [--db URL]\n"
          "       jiko report incident ID [--operator NAME] [--format md|html] [--lang ja|en]\n"
          "                   [--out FILE] [--db URL]\n"
          "       jiko report quarter --fy YEAR --q Q [--operator NAME]\n"
          "                   [--format text|csv|json] [--lang ja|en] [--out FILE] [--db URL]\n"
          "\n"
          "The yearly statistics of telecom accidents (電気通信事故の発生状況) from the\n"
          "registry, laid out as MIC's release: the overview of reports with the previous\n"
          "year beside it, the duration x affected-users matrix of detailed-form reports,\n"
          "the headline figures, services hit, primary causes, failed equipment and the\n"
          "list of serious accidents, with year-on-year changes in points.\n"
          "\n"
          "  --fy YEAR          fiscal year (年度, April to March, JST)\n"
          "  --format F         text (default), md, html (with inline SVG charts), csv, json\n"
          "  --table ID         one table, in the release's order: overview, serious_by_year,\n"
          "                     serious, serious_services, headline, matrix, services, causes,\n"
          "                     equipment (CSV columns match MIC's published figures)\n"
          "  --lang ja|en       language of labels (default from $LANG)\n"
          "  --out FILE         write to FILE instead of standard output\n"
          "  --db URL           SQLite path or postgresql:// URL (default $JIKO_DB or ./jiko.db)\n"
          "\n"
          "  incident ID        the case sheet of one incident (別紙 layout), Markdown or HTML\n"
          "  quarter            the quarterly batch (四半期報告) of one quarter, split into the\n"
          "                     detailed and simple forms, with the due date\n"
          "\n"
          "Exit status: 0 ok, 2 usage, 3 rulebooks/catalogs, 4 output, 5 registry, 6 not found.\n"
          "Layouts and counting rules: docs/reports.md.\n",
          out);
}

static int parse_format(const char *s, report_format *f)
{
    static const char *const names[] = {"text", "md", "html", "csv", "json"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0) {
            *f = (report_format)i;
            return 0;
        }
    return -1;
}

typedef struct opts {
    const char *db, *lang, *out, *table, *op, *rules_dir, *catalog_dir;
    const char *format;
    const char *id; /* report incident ID */
    int fy, q;
    const char *guard[4]; /* files --out must not replace: the registry's */
    char wal[4096], shm[4096];
} opts;

static int parse(int argc, char **argv, opts *o)
{
    static const struct option lo[] = {
        {"db", required_argument, NULL, 'd'},       {"fy", required_argument, NULL, 'y'},
        {"q", required_argument, NULL, 'q'},        {"quarter", required_argument, NULL, 'q'},
        {"operator", required_argument, NULL, 'o'}, {"format", required_argument, NULL, 'f'},
        {"table", required_argument, NULL, 't'},    {"lang", required_argument, NULL, 'l'},
        {"out", required_argument, NULL, 'O'},      {"rules-dir", required_argument, NULL, 'R'},
        {"catalog-dir", required_argument, NULL, 'C'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'd': o->db = optarg; break;
        case 'y':
            if (cli_opt_fy("report", optarg, &o->fy))
                return CLI_USAGE;
            break;
        case 'q':
            if (strlen(optarg) != 1 || optarg[0] < '1' || optarg[0] > '4') {
                cli_error("report", "--q expects a fiscal quarter 1-4, got '%s'", optarg);
                return CLI_USAGE;
            }
            o->q = optarg[0] - '0';
            break;
        case 'o': o->op = optarg; break;
        case 'f': o->format = optarg; break;
        case 't': o->table = optarg; break;
        case 'l': o->lang = optarg; break;
        case 'O': o->out = optarg; break;
        case 'R': o->rules_dir = optarg; break;
        case 'C': o->catalog_dir = optarg; break;
        case 'h': help(stdout); return -1;
        default: help(stderr); return CLI_USAGE;
        }
    }
    return 0;
}

/* The output: --out FILE written all or nothing (outfile.h), never over the
 * registry this command reads; standard output otherwise. */
static FILE *open_out(const opts *o, outfile *of, int *status)
{
    jiko_error err;
    if (outfile_open(of, o->out, o->guard, "--out", &err)) {
        int rc = cli_fail("report", &err);
        *status = rc == CLI_REJECTED ? CLI_USAGE : rc; /* a refused path is a usage error */
        return NULL;
    }
    return of->fp;
}

static int close_out(outfile *of)
{
    jiko_error err;
    if (outfile_commit(of, &err))
        return cli_fail("report", &err);
    return CLI_OK;
}

static int yearly(const opts *o, const cli_env *env, store *db, report_format fmt, bool ja)
{
    report_year y;
    jiko_error err;
    if (report_compute(&y, db, &env->cat, o->fy, &err))
        return cli_fail("report", &err);
    outfile of;
    int rc = CLI_IO;
    FILE *out = open_out(o, &of, &rc);
    if (out) {
        if (report_render(out, &y, fmt, ja, o->table, &err)) {
            cli_fail("report", &err);
            rc = CLI_IO;
            outfile_abort(&of);
        } else {
            rc = close_out(&of);
        }
    }
    if (!o->out && !y.cur.detailed && !y.cur.reports[REPORT_SIMPLE] && rc == CLI_OK)
        fprintf(stderr, ja ? "jiko report: %d年度の事故は登録簿にありません\n"
                           : "jiko report: the registry holds no reported accidents of FY%d\n",
                o->fy);
    report_free(&y);
    return rc;
}

static int case_sheet(const opts *o, const cli_env *env, store *db, report_format fmt, bool ja)
{
    store_row row;
    jiko_error err;
    int found = store_get(db, o->op, o->id, &row, &err);
    if (found < 0)
        return cli_fail("report", &err);
    if (found == 0) {
        cli_error("report", "no incident '%s'%s%s in the registry", o->id, o->op ? " of " : "",
                  o->op ? o->op : "");
        return CLI_NOT_FOUND;
    }
    intake_opts io = {&env->cat, &env->rules, NULL, 0};
    incident inc;
    classify_result r;
    int rc;
    if (store_row_classify(&io, &row, &inc, &r, &err)) {
        rc = cli_fail("report", &err);
    } else {
        char **others;
        int n;
        if (report_wholesale_partners(db, &row, &inc, &others, &n, &err)) {
            rc = cli_fail("report", &err);
        } else {
            outfile of;
            rc = CLI_IO;
            FILE *out = open_out(o, &of, &rc);
            if (out) {
                report_case_write(out, &inc, &r, &env->cat, (const char *const *)others, n, fmt,
                                  ja);
                rc = close_out(&of);
            }
        }
        report_partners_free(others, n);
        incident_free(&inc);
    }
    store_row_free(&row);
    return rc;
}

static int quarter(const opts *o, const cli_env *env, store *db, report_format fmt, bool ja)
{
    intake_opts io = {&env->cat, &env->rules, NULL, 0};
    report_batch b;
    jiko_error err;
    int rc = CLI_IO;
    if (report_batch_collect(&b, db, &io, o->fy, o->q, o->op, &err)) {
        rc = cli_fail("report", &err);
    } else {
        report_batch_item *items = calloc((size_t)b.n + 1, sizeof *items);
        outfile of;
        FILE *out = items ? open_out(o, &of, &rc) : NULL;
        if (out) {
            for (int i = 0; i < b.n; i++)
                items[i] = (report_batch_item){&b.inc[i], &b.r[i]};
            report_batch_write(out, o->fy, o->q, o->op,
                               report_quarter_rulebook(&env->rules, o->fy, o->q), items, b.n,
                               &env->cat, fmt, ja);
            rc = close_out(&of);
        }
        free(items);
    }
    report_batch_free(&b);
    return rc;
}

/* What each report is written as, and how it is made. */
typedef struct report_kind {
    report_format dflt;
    unsigned formats;         /* 1 << report_format */
    const char *formats_say; /* the --format error: SAY, got 'VALUE' */
    int (*run)(const opts *o, const cli_env *env, store *db, report_format fmt, bool ja);
} report_kind;

#define F(x) (1u << (x))
static const report_kind kinds[] = {
    {REPORT_TEXT, F(REPORT_TEXT) | F(REPORT_MD) | F(REPORT_HTML) | F(REPORT_CSV) | F(REPORT_JSON),
     "--format must be text, md, html, csv or json", yearly},
    {REPORT_MD, F(REPORT_MD) | F(REPORT_HTML), "the case sheet is written as md or html",
     case_sheet},
    {REPORT_TEXT, F(REPORT_TEXT) | F(REPORT_CSV) | F(REPORT_JSON),
     "the quarterly batch is written as text, csv or json", quarter},
};
#undef F

int cmd_report(int argc, char **argv)
{
    opts o = {0};
    optind = 1;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    classify_lang lang;
    if (cli_lang(o.lang, &lang)) {
        cli_error("report", "--lang must be ja or en");
        return CLI_USAGE;
    }
    /* which report, and what it needs: usage errors before anything loads */
    const report_kind *k = &kinds[0];
    if (optind < argc && strcmp(argv[optind], "incident") == 0) {
        if (optind + 2 != argc) {
            cli_error("report", "usage: jiko report incident ID [options] (options before ID are fine too)");
            return CLI_USAGE;
        }
        k = &kinds[1];
        o.id = argv[optind + 1];
    } else if (optind < argc && strcmp(argv[optind], "quarter") == 0) {
        if (optind + 1 != argc) {
            cli_error("report", "unexpected argument '%s'", argv[optind + 1]);
            return CLI_USAGE;
        }
        k = &kinds[2];
    } else if (optind < argc) {
        cli_error("report", "unknown report '%s'; expected incident ID, quarter, or --fy YEAR",
                  argv[optind]);
        return CLI_USAGE;
    }
    report_format fmt = k->dflt;
    if (o.format && (parse_format(o.format, &fmt) || !(k->formats & (1u << fmt)))) {
        cli_error("report", "%s, got '%s'", k->formats_say, o.format);
        return CLI_USAGE;
    }
    if (k->run == quarter && (!o.fy || !o.q)) {
        cli_error("report", "give the fiscal year and quarter: --fy YEAR --q 1-4");
        return CLI_USAGE;
    }
    if (k->run == yearly && !o.fy) {
        cli_error("report", "give the fiscal year: --fy YEAR (see --help)");
        return CLI_USAGE;
    }
    if (k->run == yearly && o.table && !report_table_known(o.table)) {
        cli_error("report", "unknown --table '%s'; expected overview, serious_by_year, serious, "
                            "serious_services, headline, matrix, services, causes or equipment",
                  o.table);
        return CLI_USAGE;
    }
    const char *url = cli_db_url(o.db);
    if (!store_is_pg_url(url)) {
        snprintf(o.wal, sizeof o.wal, "%s-wal", url);
        snprintf(o.shm, sizeof o.shm, "%s-shm", url);
        o.guard[0] = url;
        o.guard[1] = o.wal;
        o.guard[2] = o.shm;
    }
    cli_env env;
    if ((rc = cli_env_load(&env, o.rules_dir, o.catalog_dir)))
        return rc;
    store *db;
    if ((rc = cli_store_open(&db, o.db, false, "report")) == CLI_OK) {
        rc = k->run(&o, &env, db, fmt, lang == CLASSIFY_JA);
        store_close(db);
    }
    cli_env_free(&env);
    return rc;
}
