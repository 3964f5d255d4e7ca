/* report_case.c — the case sheet and the quarterly batch (report_case.h). */
#include "report_case.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "jst.h"
#include "notice.h"
#include "rules.h"
#include "store_row.h"

/* ---- small writers shared by Markdown and HTML ---- */

typedef struct sheet {
    FILE *out;
    report_format fmt;
} sheet;

static void text_out(sheet *s, const char *t)
{
    if (s->fmt == REPORT_HTML) {
        report_html_escape(s->out, t);
        return;
    }
    report_md_escape(s->out, t, "<br>"); /* one Markdown table cell */
}

static void row_begin(sheet *s, const char *label)
{
    fputs(s->fmt == REPORT_HTML ? "<tr><th>" : "| ", s->out);
    text_out(s, label);
    fputs(s->fmt == REPORT_HTML ? "</th><td>" : " | ", s->out);
}

static void row_end(sheet *s) { fputs(s->fmt == REPORT_HTML ? "</td></tr>\n" : " |\n", s->out); }

static void row(sheet *s, const char *label, const char *value)
{
    row_begin(s, label);
    text_out(s, value && *value ? value : "—");
    row_end(s);
}

/* A line break inside one cell: HTML, which GitHub-style Markdown tables
 * accept too. */
static void sep(sheet *s) { fputs("<br>", s->out); }

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static const char *cause_label(const char *c, bool ja)
{
    static const char *const codes[] = {"equipment", "human", "external", "other"};
    static const char *const jl[] = {"設備要因", "人為要因", "外的要因", "その他"};
    static const char *const el[] = {"equipment", "human", "external", "other"};
    for (int i = 0; c && i < 4; i++)
        if (strcmp(c, codes[i]) == 0)
            return ja ? jl[i] : el[i];
    return c;
}

static const char *cause_kind_label(const char *k, bool ja)
{
    if (strcmp(k, "outbound_cyber_attack") == 0)
        return ja ? "送信型対電気通信設備サイバー攻撃" : "outbound cyber attack on telecom facilities";
    if (strcmp(k, "cyber_attack") == 0)
        return ja ? "サイバー攻撃" : "cyber attack";
    return k;
}

/* Measures as the case sheets list them: ＜暫定対処＞ / ＜恒久対処＞, each with
 * 【令和3年8月3日実施完了】 or 【…実施完了予定】. */
static void measures_detail_out(sheet *s, const json_t *detail, bool ja)
{
    char buf[1200], d[JST_WAREKI_MAX], tail[128];
    for (int pass = 0; pass < 2; pass++) {
        const char *want = pass == 0 ? "interim" : "permanent";
        bool head = false;
        for (size_t i = 0; i < json_array_size(detail); i++) {
            const json_t *m = json_array_get(detail, i);
            if (!jstr(m, "kind") || strcmp(jstr(m, "kind"), want) != 0)
                continue;
            if (!head) {
                if (pass == 1 || i)
                    sep(s);
                text_out(s, pass == 0 ? (ja ? "＜暫定対処＞" : "Interim:") : (ja ? "＜恒久対処＞" : "Permanent:"));
                head = true;
            }
            const char *st = jstr(m, "status"), *date = jstr(m, "date");
            jst_date day;
            tail[0] = '\0';
            bool done = st && strcmp(st, "done") == 0;
            if (date && jst_parse_date(date, &day))
                snprintf(tail, sizeof tail, ja ? "【%s%s】" : " [%s %s]",
                         ja ? jst_format_wareki_date(day, d, sizeof d) : (done ? "done" : "planned"),
                         ja ? (done ? "実施完了" : "実施完了予定") : date);
            else if (st)
                snprintf(tail, sizeof tail, ja ? "【%s】" : " [%s]",
                         ja ? (done ? "実施完了" : "予定") : (done ? "done" : "planned"));
            sep(s);
            snprintf(buf, sizeof buf, "%s%s", jstr(m, "text"), tail);
            text_out(s, buf);
        }
    }
}

void report_case_write(FILE *out, const incident *inc, const classify_result *r,
                       const catalog *cat, const char *const *others, int n_others,
                       report_format fmt, bool ja)
{
    sheet s = {out, fmt};
    const json_t *j = inc->json;
    char title[600], buf[1024], t1[40];
    snprintf(title, sizeof title, ja ? "%sの%s" : "%s: %s", inc->op,
             r->report == CLASSIFY_SERIOUS ? (ja ? "重大な事故" : "serious accident")
                                           : (ja ? "事故" : "accident"));
    if (fmt == REPORT_HTML) {
        fprintf(out, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\"><title>",
                ja ? "ja" : "en");
        report_html_escape(out, title);
        fputs("</title><style>body{font-family:'Noto Sans CJK JP',sans-serif;margin:2em;max-width:60em}"
              "table{border-collapse:collapse}th,td{border:1px solid #888;padding:.3em .6em;"
              "vertical-align:top;text-align:left}th{background:#eef;white-space:nowrap}"
              "@media print{body{margin:0}table{break-inside:auto}tr{break-inside:avoid}}"
              "</style></head><body>\n<h1>", out);
        report_html_escape(out, title);
        fputs("</h1>\n<table>\n", out);
    } else {
        fputs("# ", out);
        report_md_escape(out, title, " ");
        fprintf(out, "\n\n| %s | |\n| --- | --- |\n", ja ? "項目" : "Item");
    }
    /* operators: the reporter first, then the others of a wholesale accident */
    /* ※ marks the receiving operators of a wholesale accident (those that are
     * not the facility owner), as the release's case sheets do */
    const char *owner = inc->wholesale_provider ? inc->wholesale_provider : inc->op;
    bool marked = false;
    row_begin(&s, ja ? "事業者名" : "Operator");
    for (int i = -1; i < n_others; i++) {
        const char *name = i < 0 ? inc->op : others[i];
        bool receiver = n_others > 0 && strcmp(name, owner) != 0;
        marked |= receiver;
        if (i >= 0)
            sep(&s);
        snprintf(buf, sizeof buf, "%s%s", receiver ? "※" : "", name);
        text_out(&s, buf);
    }
    if (inc->wholesale_provider) {
        sep(&s);
        snprintf(buf, sizeof buf, ja ? "（卸提供元: %s）" : "(wholesale provider: %s)",
                 inc->wholesale_provider);
        text_out(&s, buf);
    }
    if (marked) {
        sep(&s);
        text_out(&s, ja ? "※ 卸役務の提供を受けて役務を提供する事業者（卸提供先）"
                        : "※ operators providing the service on the wholesale provider's facilities");
    }
    row_end(&s);
    char wt[JST_WAREKI_MAX];
    row(&s, ja ? "発生日時" : "Started",
        ja ? jst_format_wareki(inc->started_ms, wt, sizeof wt) : jst_format(inc->started_ms, t1, sizeof t1));
    if (inc->ongoing) {
        row(&s, ja ? "継続時間" : "Duration", ja ? "継続中" : "ongoing");
    } else {
        long min = (long)((inc->ended_ms - inc->started_ms) / 60000);
        snprintf(buf, sizeof buf, ja ? "%ld時間%ld分" : "%ld h %ld min", min / 60, min % 60);
        row(&s, ja ? "継続時間" : "Duration", buf);
    }
    char num[32];
    /* as reported: 最大約50万人, 100万人以上, 9社 (users_qualifier, users_unit) */
    row(&s, ja ? "影響利用者数" : "Affected users", incident_users_text(inc, inc->users, ja, buf, sizeof buf));
    row(&s, ja ? "影響地域" : "Area", jstr(j, "region"));
    const json_t *inq = json_object_get(j, "inquiries");
    if (json_is_integer(inq)) {
        report_group_digits(json_integer_value(inq), num, sizeof num);
        snprintf(buf, sizeof buf, ja ? "%s件" : "%s", num);
        row(&s, ja ? "事業者への問合せ件数" : "Inquiries to the operator", buf);
    }
    row_begin(&s, ja ? "影響を受けたサービス" : "Services");
    for (size_t i = 0; i < inc->n_services; i++) {
        const catalog_service *cs = &cat->services[inc->services[i].svc];
        report_group_digits(inc->services[i].users, num, sizeof num);
        snprintf(buf, sizeof buf, ja ? "%s（%s、%s人）" : "%s (%s, %s users)",
                 ja ? cs->name_ja : cs->name_en,
                 inc->services[i].effect == INCIDENT_STOP ? (ja ? "停止" : "stopped")
                                                         : (ja ? "品質低下" : "degraded"),
                 num);
        if (i)
            sep(&s);
        text_out(&s, buf);
    }
    row_end(&s);
    const char *summary = !ja && jstr(j, "summary_en") ? jstr(j, "summary_en") : jstr(j, "summary");
    row(&s, ja ? "障害内容" : "What happened", summary);
    row_begin(&s, ja ? "重大な事故に該当する電気通信役務の区分" : "Serious-accident category");
    if (!r->n_serious)
        text_out(&s, ja ? "該当なし" : "none");
    for (int i = 0; i < r->n_serious; i++) {
        report_category_text(&r->book->clauses[r->serious[i].clause], ja, true, buf, sizeof buf);
        if (i)
            sep(&s);
        text_out(&s, buf);
    }
    row_end(&s);
    const json_t *cause = json_object_get(j, "cause");
    const char *kind = jstr(cause, "kind"), *category = cause_label(jstr(cause, "category"), ja);
    const char *kind_text = kind ? cause_kind_label(kind, ja) : NULL;
    snprintf(buf, sizeof buf, "%s%s%s%s%s", category ? category : "",
             kind_text ? (ja ? "（" : " (") : "", kind_text ? kind_text : "",
             kind_text ? (ja ? "）" : ")") : "", jstr(cause, "detail") ? (ja ? "：" : ": ") : "");
    row_begin(&s, ja ? "発生原因" : "Cause");
    if (!cause)
        text_out(&s, "—");
    else {
        text_out(&s, buf);
        if (jstr(cause, "detail"))
            text_out(&s, jstr(cause, "detail"));
    }
    /* the case sheet's parts of the cause, when the record has them */
    static const char *const parts[] = {"outline", "escalation", "prolongation"};
    static const char *const parts_ja[] = {"＜発生原因の概要＞", "＜大規模化した原因＞", "＜長期化した原因＞"};
    static const char *const parts_en[] = {"Outline: ", "Why it grew large: ", "Why it lasted long: "};
    for (int i = 0; i < 3; i++)
        if (jstr(cause, parts[i])) {
            sep(&s);
            snprintf(buf, sizeof buf, "%s%s", ja ? parts_ja[i] : parts_en[i], jstr(cause, parts[i]));
            text_out(&s, buf);
        }
    row_end(&s);
    row(&s, ja ? "故障設備" : "Failed equipment",
        inc->equipment >= 0 ? (ja ? cat->equipment[inc->equipment].name_ja
                                  : cat->equipment[inc->equipment].name_en)
                            : (ja ? "不明" : "unknown"));
    const json_t *measures = json_object_get(j, "measures");
    const json_t *detail = json_object_get(j, "measures_detail");
    row_begin(&s, ja ? "再発防止策" : "Measures");
    if (!json_array_size(measures) && !json_array_size(detail))
        text_out(&s, "—");
    if (json_array_size(detail))
        measures_detail_out(&s, detail, ja);
    else
        for (size_t i = 0; i < json_array_size(measures); i++) {
            if (i)
                sep(&s);
            snprintf(buf, sizeof buf, "%zu. %s", i + 1, json_string_value(json_array_get(measures, i)));
            text_out(&s, buf);
        }
    row_end(&s);
    const json_t *notices = json_object_get(j, "notices");
    row_begin(&s, ja ? "情報周知" : "Public notices");
    if (!json_array_size(notices))
        text_out(&s, "—");
    /* grouped by channel, as the case sheets list 自社サイト / 報道発表 / その他 */
    static const char *const channels[] = {"web", "press", "sns", "mail", "other", NULL};
    size_t shown = 0;
    for (int c = 0; c < 6; c++)
    for (size_t i = 0; i < json_array_size(notices); i++) {
        const json_t *n = json_array_get(notices, i);
        const char *ch = jstr(n, "channel");
        if (c < 5 ? !ch || strcmp(ch, channels[c]) != 0 : ch && report_channel_known(ch))
            continue;
        const char *at = jstr(n, "at");
        int64_t ms;
        char when[JST_WAREKI_MAX];
        if (at && jst_parse_rfc3339(at, strlen(at), &ms, NULL))
            ja ? jst_format_wareki(ms, when, sizeof when) : jst_format(ms, when, sizeof when);
        else
            snprintf(when, sizeof when, "%s", at ? at : "");
        snprintf(buf, sizeof buf, ja ? "%s %s（%s）: %s" : "%s %s (%s): %s", when,
                 notice_kind_label(jstr(n, "kind"), ja), report_channel_label(ch, ja),
                 jstr(n, "text") ? jstr(n, "text") : "");
        if (shown++)
            sep(&s);
        text_out(&s, buf);
    }
    row_end(&s);
    char due[400] = "";
    if (r->has_written) {
        char d[JST_WAREKI_MAX];
        snprintf(due, sizeof due, ja ? "報告書: %sまで（%s）" : "written report by %s (%s)",
                 ja ? jst_format_wareki_date(r->written, d, sizeof d)
                    : jst_format_date(r->written, d, sizeof d),
                 r->book->written_source);
    }
    row(&s, ja ? "報告期限" : "Report due", due);
    snprintf(buf, sizeof buf, "%s (%s)", r->book->id, ja ? r->book->title_ja : r->book->title_en);
    row(&s, ja ? "適用した規則" : "Rulebook", buf);
    fputs(fmt == REPORT_HTML ? "</table>\n</body></html>\n" : "\n", out);
}

/* ---- the quarterly batch ---- */

static const char *form_of(const classify_result *r)
{
    return r->report == CLASSIFY_SIMPLE ? "simple" : "detailed";
}

/* "two" for 2: the English deadline is written in words up to twelve. */
static const char *count_word(int n, char *buf, size_t size)
{
    static const char *const words[] = {"zero", "one", "two",   "three", "four",   "five", "six",
                                        "seven", "eight", "nine", "ten", "eleven", "twelve"};
    if (n >= 0 && n <= 12)
        return words[n];
    snprintf(buf, size, "%d", n);
    return buf;
}

void report_batch_write(FILE *out, int fy, int q, const char *op, const rulebook *book,
                        const report_batch_item *items, int n, const catalog *cat,
                        report_format fmt, bool ja)
{
    char due[16] = "", due_ja[JST_WAREKI_MAX] = "";
    for (int i = 0; i < n; i++)
        if (items[i].r->has_quarterly) {
            jst_format_date(items[i].r->quarterly_due, due, sizeof due);
            jst_format_wareki_date(items[i].r->quarterly_due, due_ja, sizeof due_ja);
            break;
        }
    if (fmt == REPORT_CSV) {
        fputs("form,operator,id,started_at,ended_at,duration_min,users,services,facility,cause,"
              "equipment,clauses,due\n", out);
    } else if (fmt == REPORT_TEXT) {
        char fy_ja[JST_WAREKI_MAX];
        if (ja)
            fprintf(out, "%s（%d年度） 第%d四半期 四半期報告%s%s\n",
                    jst_format_wareki_fy(fy, fy_ja, sizeof fy_ja), fy, q, op ? " — " : "", op ? op : "");
        else
            fprintf(out, "Quarterly report, FY%d Q%d%s%s\n", fy, q, op ? " — " : "", op ? op : "");
        int months = book ? book->quarterly_months : 0;
        char word[16];
        if (!months)
            fprintf(out, ja ? "提出期限: %s\n" : "Due: %s\n", n ? (ja ? due_ja : due) : "—");
        else if (ja)
            fprintf(out, "提出期限: %s（四半期終了後%dか月以内。行政機関の休日に当たるときは翌開庁日）\n",
                    n ? due_ja : "—", months);
        else
            fprintf(out, "Due: %s (within %s month%s after the quarter)\n", n ? due : "—",
                    count_word(months, word, sizeof word), months == 1 ? "" : "s");
    }
    json_t *arr = fmt == REPORT_JSON ? json_array() : NULL;
    for (int pass = 0; pass < 2; pass++) {
        const char *form = pass == 0 ? "detailed" : "simple";
        int count = 0;
        for (int i = 0; i < n; i++)
            count += strcmp(form_of(items[i].r), form) == 0;
        if (fmt == REPORT_TEXT)
            fprintf(out, "\n%s: %d\n", pass == 0 ? (ja ? "詳細な様式（様式第27）" : "Detailed form")
                                                 : (ja ? "簡易な様式" : "Simple form"),
                    count);
        for (int i = 0; i < n; i++) {
            const incident *inc = items[i].inc;
            const classify_result *r = items[i].r;
            if (strcmp(form_of(r), form) != 0)
                continue;
            char s[40], e[40], svcs[2048] = "", clauses[200] = "";
            size_t o = 0;
            for (size_t k = 0; k < inc->n_services && o < sizeof svcs; k++)
                o += (size_t)snprintf(svcs + o, sizeof svcs - o, "%s%s", k ? ";" : "",
                                      cat->services[inc->services[k].svc].code);
            o = 0;
            for (int k = 0; k < r->n_quarterly && o < sizeof clauses; k++)
                o += (size_t)snprintf(clauses + o, sizeof clauses - o, "%s%s", k ? ";" : "",
                                      r->book->clauses[r->quarterly[k].clause].id);
            if (r->report == CLASSIFY_SERIOUS && o < sizeof clauses)
                snprintf(clauses + o, sizeof clauses - o, "%sserious", o ? ";" : "");
            long long dur = inc->ongoing ? -1 : (long long)((inc->ended_ms - inc->started_ms) / 60000);
            const char *cause = incident_cause_name(inc->cause);
            const char *eq = inc->equipment_code ? inc->equipment_code : "";
            jst_format(inc->started_ms, s, sizeof s);
            if (inc->ongoing)
                e[0] = '\0';
            else
                jst_format(inc->ended_ms, e, sizeof e);
            if (fmt == REPORT_CSV) {
                const char *f[] = {form, inc->op, inc->id, s, e};
                for (int k = 0; k < 5; k++) {
                    report_csv_field(out, f[k]);
                    fputc(',', out);
                }
                fprintf(out, "%lld,%lld,", dur, (long long)inc->users);
                report_csv_field(out, svcs);
                fprintf(out, ",%s,%s,%s,%s,%s\n",
                        inc->facility == INCIDENT_NON_TELECOM ? "non_telecom" : "telecom",
                        inc->cause == INCIDENT_CAUSE_NONE ? "" : cause, eq, clauses, due);
            } else if (fmt == REPORT_TEXT) {
                fprintf(out, "  %s  %s  %s  %lldmin  %lld%s  %s  %s\n", s, inc->op, inc->id, dur,
                        (long long)inc->users, ja ? "人" : " users", svcs, clauses);
            } else {
                json_t *o2 = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:s}", "form", form,
                                       "operator", inc->op, "id", inc->id, "started_at", s,
                                       "duration_min", dur, "users", (json_int_t)inc->users,
                                       "services", svcs, "clauses", clauses);
                json_object_set_new(o2, "ended_at", inc->ongoing ? json_null() : json_string(e));
                json_array_append_new(arr, o2);
            }
        }
    }
    if (fmt == REPORT_JSON) {
        json_t *doc = json_pack("{s:i,s:i,s:o,s:s,s:o}", "fiscal_year", fy, "quarter", q,
                                "operator", op ? json_string(op) : json_null(), "due", due,
                                "items", arr);
        json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', out);
        json_decref(doc);
    }
}

/* ---- what the batch and the case sheet read from the registry ---- */

typedef struct batch_ctx {
    report_batch *b;
    const intake_opts *o;
    jiko_error *err;
} batch_ctx;

static int on_batch_row(void *ctx, const store_row *row)
{
    batch_ctx *c = ctx;
    report_batch *b = c->b;
    if (row->ongoing || (strcmp(row->report, "serious") && strcmp(row->report, "detailed") &&
                         strcmp(row->report, "simple")))
        return 0;
    if (b->n == b->cap) {
        int cap = b->cap ? 2 * b->cap : 64;
        incident *inc = realloc(b->inc, (size_t)cap * sizeof *inc);
        if (inc)
            b->inc = inc;
        classify_result *r = realloc(b->r, (size_t)cap * sizeof *r);
        if (r)
            b->r = r;
        if (!inc || !r) {
            error_nomem(c->err, "collecting the quarterly batch");
            return 1;
        }
        b->cap = cap;
    }
    if (store_row_classify(c->o, row, &b->inc[b->n], &b->r[b->n], c->err))
        return 1;
    /* serious accidents join the batch only where the rulebook says so */
    if (!b->r[b->n].has_quarterly) {
        incident_free(&b->inc[b->n]);
        return 0;
    }
    b->n++;
    return 0;
}

int report_batch_collect(report_batch *b, store *db, const intake_opts *o, int fy, int q,
                         const char *op, jiko_error *err)
{
    memset(b, 0, sizeof *b);
    error_clear(err);
    batch_ctx c = {b, o, err};
    store_filter f = {.fiscal_year = fy, .quarter = q, .op = op, .open = 0};
    int rc = store_list(db, &f, on_batch_row, &c, err);
    /* a callback's error stops the listing; it is in err already */
    return rc || err->kind != JIKO_ERR_NONE ? -1 : 0;
}

void report_batch_free(report_batch *b)
{
    for (int i = 0; i < b->n; i++)
        incident_free(&b->inc[i]);
    free(b->inc);
    free(b->r);
    memset(b, 0, sizeof *b);
}

const rulebook *report_quarter_rulebook(const rules_set *rules, int fy, int q)
{
    /* the day after the previous quarter's last day */
    jst_date end = q > 1 ? jst_quarter_end(fy, q - 1) : jst_quarter_end(fy - 1, 4);
    return rules_select(rules, jst_midnight(jst_add_days(end, 1)));
}

typedef struct same_acc {
    const store_row *me;
    const char *owner;
    char **ops;
    int n;
    jiko_error *err;
} same_acc;

static int on_same(void *ctx, const store_row *r)
{
    same_acc *s = ctx;
    if (r->started_ms != s->me->started_ms || strcmp(r->op, s->me->op) == 0)
        return 0;
    json_t *rec = json_loads(r->record, 0, NULL);
    const char *prov = json_string_value(json_object_get(rec, "wholesale_provider"));
    const char *owner = prov ? prov : r->op;
    int rc = 0;
    if (strcmp(owner, s->owner) == 0 && s->n < REPORT_PARTNERS_MAX) {
        char **grown = realloc(s->ops, (size_t)(s->n + 1) * sizeof *grown);
        if (grown)
            s->ops = grown;
        if (!grown || !(s->ops[s->n] = strdup(r->op))) {
            error_nomem(s->err, "collecting the wholesale partners");
            rc = 1;
        } else {
            s->n++;
        }
    }
    json_decref(rec);
    return rc;
}

int report_wholesale_partners(store *db, const store_row *row, const incident *inc,
                              char ***ops, int *n, jiko_error *err)
{
    error_clear(err);
    same_acc s = {row, inc->wholesale_provider ? inc->wholesale_provider : inc->op, NULL, 0, err};
    store_filter f = {.fiscal_year = row->fiscal_year, .quarter = row->quarter, .open = -1};
    int rc = store_list(db, &f, on_same, &s, err);
    *ops = s.ops;
    *n = s.n;
    return rc || err->kind != JIKO_ERR_NONE ? -1 : 0;
}

void report_partners_free(char **ops, int n)
{
    for (int i = 0; i < n; i++)
        free(ops[i]);
    free(ops);
}
