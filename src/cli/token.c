/*
 * token.c — `jiko token create|list|revoke`: the API tokens of the server,
 * kept in the registry by their hash (registry/token.h).
 *
 * A token is printed once, alone on standard output, so that a script can
 * take it (T=$(jiko token create ...)); everything else goes to standard
 * error.  Nothing ever prints a token's hash, or a token after its creation.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "token.h"
#include "utf8.h"
#include "json_text.h"

static void help(FILE *out)
{
    fprintf(out,
            "usage: jiko token create --role admin|viewer|ingest --operator NAME [--note TEXT] [--db URL]\n"
            "       jiko token create --role regulator [--note TEXT] [--db URL]\n"
            "       jiko token list [--json] [--db URL]\n"
            "       jiko token revoke ID [--db URL]\n"
            "\n"
            "API tokens for the jiko server, kept in the registry.  'create' prints a new\n"
            "token once, on standard output; the registry keeps only its SHA-256, so it\n"
            "cannot be shown again.  Its id (t_ and 12 hex digits) names it in 'list' and\n"
            "'revoke'.  Roles: admin, viewer and ingest act for one operator (--operator);\n"
            "regulator reads every operator's incidents and takes no --operator.  A\n"
            "revoked token stays listed with when it was revoked.\n"
            "\n"
            "options:\n"
            "  --role ROLE        admin, viewer, ingest or regulator (create)\n"
            "  --operator NAME    the operator the token acts for (create; not for regulator)\n"
            "  --note TEXT        what the token is for (create)\n"
            "  --json             JSON Lines instead of a table (list)\n"
            "  --db URL           registry (default $JIKO_DB or ./jiko.db; postgresql://...);\n"
            "                     create makes it when it does not exist\n"
            "  -h, --help         this help\n"
            "\n"
            "examples:\n"
            "  T=$(jiko token create --role ingest --operator 'Example Telecom' --note 'NOC feed')\n"
            "  jiko token list\n"
            "  jiko token revoke t_3f9a0c27b1d4\n"
            "\n"
            "Exit status: 0 ok (revoke: also when revoked already), 2 usage, 5 registry\n"
            "error, 6 unknown token id.\n");
}

typedef struct options {
    const char *role, *op, *note, *db;
    bool json;
} options;

typedef struct lister {
    bool json;
    long n;
} lister;

static int list_token(void *ctx, const store_token *t)
{
    lister *l = ctx;
    char buf[JST_TEXT_MAX];
    if (l->json) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(t->id));
        json_object_set_new(o, "role", json_string(t->role));
        json_object_set_new(o, "operator", t->op ? json_string(t->op) : json_null());
        json_object_set_new(o, "note", json_string(t->note));
        json_object_set_new(o, "created_at", json_string(jst_format(t->created_ms, buf, sizeof buf)));
        json_object_set_new(o, "revoked_at", t->revoked_ms ? json_string(jst_format(t->revoked_ms, buf, sizeof buf))
                                                           : json_null());
        char *s = json_text_of(o, 0, false, NULL);
        json_decref(o);
        if (s) {
            puts(s);
            free(s);
        }
        l->n++;
        return 0;
    }
    /* the note goes last: it is free text of any width */
    static const size_t w[] = {14, 9, 24, 19, 19};
    if (l->n++ == 0) {
        const char *h[] = {"ID", "ROLE", "OPERATOR", "CREATED (JST)", "REVOKED (JST)"};
        for (int i = 0; i < 5; i++)
            cli_pad(stdout, h[i], w[i]);
        puts("NOTE");
    }
    char created[JST_TEXT_MAX], revoked[JST_TEXT_MAX];
    const char *cols[] = {t->id, t->role, t->op ? t->op : "-",
                          cli_jst_short(t->created_ms, created, sizeof created),
                          cli_jst_short(t->revoked_ms, revoked, sizeof revoked)};
    for (int i = 0; i < 5; i++)
        cli_pad(stdout, cols[i], w[i]);
    utf8_print_safe(stdout, t->note[0] ? t->note : "-"); /* free text: may hold anything */
    putchar('\n');
    return 0;
}

static int create(const options *o)
{
    token_role role;
    if (!o->role) {
        cli_error("token", "create needs --role admin|viewer|ingest|regulator");
        return CLI_USAGE;
    }
    if (token_role_parse(o->role, &role)) {
        cli_error("token", "--role expects admin, viewer, ingest or regulator, got '%s'", o->role);
        return CLI_USAGE;
    }
    if (role == TOKEN_REGULATOR && o->op) {
        cli_error("token", "a regulator's token belongs to no operator: leave out --operator");
        return CLI_USAGE;
    }
    if (role != TOKEN_REGULATOR && (!o->op || !*o->op)) {
        cli_error("token", "--role %s needs --operator NAME", o->role);
        return CLI_USAGE;
    }
    int64_t now;
    if (cli_now(NULL, &now, "token"))
        return CLI_USAGE;
    store *db;
    int rc = cli_store_open(&db, o->db, true, "token");
    if (rc)
        return rc;
    char text[TOKEN_TEXT_MAX], id[TOKEN_ID_MAX];
    store_token t = {id, {0}, role == TOKEN_REGULATOR ? NULL : o->op, token_role_name(role),
                     o->note ? o->note : "", now, 0};
    jiko_error err;
    if (token_new(text, t.hash, id, &err) || store_token_add(db, &t, &err)) {
        rc = cli_fail("token", &err);
    } else {
        /* stored first, shown after: a token that is printed works */
        puts(text);
        fprintf(stderr, "jiko token: created %s (role %s, operator ", id, t.role);
        utf8_print_safe(stderr, t.op ? t.op : "none");
        fprintf(stderr, "); the token above is shown only once: keep it now\n");
    }
    memset(text, 0, sizeof text);
    store_close(db);
    return rc;
}

static int list(const options *o)
{
    store *db;
    int rc = cli_store_open(&db, o->db, false, "token");
    if (rc)
        return rc;
    lister l = {o->json, 0};
    jiko_error err;
    if (store_token_list(db, list_token, &l, &err))
        rc = cli_fail("token", &err);
    else if (l.n == 0 && !o->json)
        fprintf(stderr, "jiko token: no API tokens in the registry\n");
    store_close(db);
    return rc;
}

static int revoke(const options *o, const char *id)
{
    int64_t now;
    if (cli_now(NULL, &now, "token"))
        return CLI_USAGE;
    store *db;
    int rc = cli_store_open(&db, o->db, false, "token");
    if (rc)
        return rc;
    jiko_error err;
    int r = store_token_revoke(db, id, now, &err);
    if (r < 0)
        rc = cli_fail("token", &err);
    else
        fprintf(stderr, "jiko token: %s %s\n", id,
                r == 0 ? "revoked" : "was revoked already; nothing changed");
    store_close(db);
    return rc;
}

int cmd_token(int argc, char **argv)
{
    static const struct option opts[] = {
        {"role", required_argument, NULL, 'r'}, {"operator", required_argument, NULL, 'o'},
        {"note", required_argument, NULL, 'n'}, {"db", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},       {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    options o = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': o.role = optarg; break;
        case 'o': o.op = optarg; break;
        case 'n': o.note = optarg; break;
        case 'd': o.db = optarg; break;
        case 'j': o.json = true; break;
        case 'h': help(stdout); return CLI_OK;
        default: help(stderr); return CLI_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("token", "expected create, list or revoke ID");
        help(stderr);
        return CLI_USAGE;
    }
    const char *sub = argv[optind];
    int operands = argc - optind - 1;
    bool is_create = strcmp(sub, "create") == 0, is_list = strcmp(sub, "list") == 0,
         is_revoke = strcmp(sub, "revoke") == 0;
    if (!is_create && !is_list && !is_revoke) {
        cli_error("token", "unknown subcommand '%s'; expected create, list or revoke ID", sub);
        return CLI_USAGE;
    }
    if (is_revoke && operands != 1) {
        cli_error("token", "revoke takes one token id");
        return CLI_USAGE;
    }
    if (!is_revoke && operands != 0) {
        cli_error("token", "%s takes no arguments, got '%s'", sub, argv[optind + 1]);
        return CLI_USAGE;
    }
    /* an option that the subcommand would ignore is a mistake worth saying */
    if (!is_create && (o.role || o.op || o.note)) {
        cli_error("token", "--role, --operator and --note are for create only");
        return CLI_USAGE;
    }
    if (!is_list && o.json) {
        cli_error("token", "--json is for list only");
        return CLI_USAGE;
    }
    if (is_create)
        return create(&o);
    if (is_list)
        return list(&o);
    return revoke(&o, argv[optind + 1]);
}
