/*
 * notice.c — `jiko notice`: public notices from the registry.
 *   jiko notice draft OPERATOR ID   a draft of 初報 / 続報 / 復旧報 (notice.h)
 *   jiko notice page OPERATOR       the public status page or its Atom feed
 *                                   (status.h), e.g. to publish as static files
 * The same library calls as GET /api/v1/incidents/{operator}/{id}/notices/draft
 * and GET /status/{operator}[/feed.atom].
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jst.h"
#include "notice.h"
#include "status.h"
#include "store_row.h"
#include "json_text.h"

static void help(FILE *out)
{
    fputs("usage: jiko notice draft OPERATOR ID [--kind first|update|recovery] [--lang ja|en]\n"
          "                         [--now TIME] [--json] [--db URL]\n"
          "       jiko notice page OPERATOR [--atom] [--lang ja|en] [--now TIME] [--db URL]\n"
          "\n"
          "draft: a public notice of a stored incident, as operators write them: the first\n"
          "report (初報), an update (続報) or the recovery report (復旧報), with what is\n"
          "affected, where, since when, how many users, the current state, the cause and\n"
          "the time of the next update (an hour after now, rounded up to the half hour).\n"
          "Printed as its title, a blank line and its body; --json prints\n"
          "{\"kind\",\"lang\",\"title\",\"body\"}, the body POST .../notices takes.\n"
          "page: the operator's public status page (HTML), or with --atom its Atom feed:\n"
          "its published notices of current incidents and of the last 90 days.\n"
          "\n"
          "  --kind KIND        first, update or recovery (default: recovery once the\n"
          "                     incident has ended, else first until a notice is\n"
          "                     published, then update)\n"
          "  --lang ja|en       language of the text (default ja)\n"
          "  --now TIME         the time to write as of (RFC 3339; default now)\n"
          "  --json             the draft as JSON\n"
          "  --atom             the feed instead of the page\n"
          "  --db URL           registry (default $JIKO_DB or ./jiko.db; postgresql://...)\n"
          "  -h, --help         this help\n"
          "\n"
          "Exit status: 0 ok, 1 the draft cannot be made (a recovery report of an\n"
          "ongoing incident), 2 usage, 3 rulebooks or catalogs, 5 registry error,\n"
          "6 incident or operator not found.\n",
          out);
}

static int draft(cli_env *env, store *db, const char *op, const char *id, const char *kind_arg,
                 bool ja, int64_t now, bool json)
{
    const char *cmd = "notice";
    jiko_error err;
    store_row row;
    int found = store_get(db, op, id, &row, &err);
    if (found < 0)
        return cli_fail(cmd, &err);
    if (!found) {
        cli_error(cmd, "no incident '%s' of operator '%s' in the registry", id, op);
        return CLI_NOT_FOUND;
    }
    intake_opts io = {&env->cat, &env->rules, NULL, now};
    incident inc;
    classify_result r;
    int rc = store_row_classify(&io, &row, &inc, &r, &err);
    store_row_free(&row);
    if (rc)
        return cli_fail(cmd, &err);
    notice_kind kind = notice_default_kind(&inc, now);
    if (kind_arg)
        notice_kind_of(kind_arg, &kind);
    notice_draft d;
    if (notice_draft_make(&inc, &env->cat, kind, ja, now, &d, &err)) {
        incident_free(&inc);
        return cli_fail(cmd, &err);
    }
    if (json) {
        json_t *o = notice_draft_json(&d);
        char *s = o ? json_text_of(o, 0, false, NULL) : NULL;
        if (s)
            puts(s);
        free(s);
        json_decref(o);
    } else {
        printf("%s\n\n%s\n", d.title, d.body);
    }
    notice_draft_free(&d);
    incident_free(&inc);
    return CLI_OK;
}

static int page(cli_env *env, store *db, const char *op, bool ja, int64_t now, bool atom)
{
    status_page p;
    jiko_error err;
    int rc = CLI_OK;
    if (status_collect(&p, db, op, now, &err)) {
        rc = cli_fail("notice", &err);
    } else if (!p.known) {
        cli_error("notice", "no incident of operator '%s' in the registry", op);
        rc = CLI_NOT_FOUND;
    } else if (atom) {
        if (status_write_atom(stdout, &p, &env->cat, ja)) {
            error_nomem(&err, "writing the feed");
            rc = cli_fail("notice", &err);
        }
    } else {
        status_write_html(stdout, &p, &env->cat, ja);
    }
    status_free(&p);
    return rc;
}

int cmd_notice(int argc, char **argv)
{
    static const struct option opts[] = {
        {"kind", required_argument, NULL, 'k'}, {"lang", required_argument, NULL, 'l'},
        {"now", required_argument, NULL, 'n'},  {"json", no_argument, NULL, 'j'},
        {"atom", no_argument, NULL, 'a'},       {"db", required_argument, NULL, 'd'},
        {"rules-dir", required_argument, NULL, 'R'},
        {"catalog-dir", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0}};
    const char *kind = NULL, *lang = NULL, *now_arg = NULL, *db_url = NULL, *rules_dir = NULL,
               *catalog_dir = NULL;
    bool json = false, atom = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'k': kind = optarg; break;
        case 'l': lang = optarg; break;
        case 'n': now_arg = optarg; break;
        case 'j': json = true; break;
        case 'a': atom = true; break;
        case 'd': db_url = optarg; break;
        case 'R': rules_dir = optarg; break;
        case 'C': catalog_dir = optarg; break;
        case 'h': help(stdout); return CLI_OK;
        default: help(stderr); return CLI_USAGE;
        }
    }
    const char *sub = optind < argc ? argv[optind] : "";
    bool is_draft = strcmp(sub, "draft") == 0, is_page = strcmp(sub, "page") == 0;
    if ((!is_draft && !is_page) || argc - optind != (is_draft ? 3 : 2) ||
        (is_page && (kind || json)) || (is_draft && atom)) {
        help(stderr);
        return CLI_USAGE;
    }
    notice_kind k;
    if (kind && !notice_kind_of(kind, &k)) {
        cli_error("notice", "--kind expects first, update or recovery, got '%s'", kind);
        return CLI_USAGE;
    }
    if (lang && strcmp(lang, "ja") && strcmp(lang, "en")) {
        cli_error("notice", "--lang expects ja or en, got '%s'", lang);
        return CLI_USAGE;
    }
    bool ja = !lang || strcmp(lang, "ja") == 0;
    int64_t now;
    if (cli_now(now_arg, &now, "notice"))
        return CLI_USAGE;
    cli_env env;
    int rc = cli_env_load(&env, rules_dir, catalog_dir);
    if (rc)
        return rc;
    store *db;
    if ((rc = cli_store_open(&db, db_url, false, "notice"))) {
        cli_env_free(&env);
        return rc;
    }
    const char *op = argv[optind + 1];
    rc = is_draft ? draft(&env, db, op, argv[optind + 2], kind, ja, now, json)
                  : page(&env, db, op, ja, now, atom);
    store_close(db);
    cli_env_free(&env);
    return rc;
}
