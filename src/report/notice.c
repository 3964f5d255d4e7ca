/* notice.c — drafts of public notices and publishing them (notice.h). */
#include "notice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "jst.h"
#include "json_fast.h"
#include "utf8.h"
#include "json_text.h"

static const char *const kind_names[] = {"first", "update", "recovery"};

bool notice_kind_of(const char *name, notice_kind *out)
{
    for (int i = 0; name && i < 3; i++)
        if (strcmp(name, kind_names[i]) == 0) {
            *out = (notice_kind)i;
            return true;
        }
    return false;
}

const char *notice_kind_name(notice_kind k)
{
    return kind_names[k];
}

const char *notice_kind_label(const char *name, bool ja)
{
    static const char *const jl[] = {"初報", "続報", "復旧報"};
    static const char *const el[] = {"first report", "update", "recovery report"};
    notice_kind k;
    if (!notice_kind_of(name, &k))
        return name ? name : "";
    return ja ? jl[k] : el[k];
}

/* Notices of the record published by now_ms (dated no later). */
static int published_by(const incident *inc, int64_t now_ms, bool updates_only)
{
    const json_t *ns = json_object_get(inc->json, "notices");
    int n = 0;
    for (size_t i = 0; i < json_array_size(ns); i++) {
        const json_t *o = json_array_get(ns, i);
        const char *k = json_string_value(json_object_get(o, "kind"));
        const char *at = json_string_value(json_object_get(o, "at"));
        int64_t ms;
        if (!at || !jst_parse_rfc3339(at, strlen(at), &ms, NULL) || ms > now_ms)
            continue;
        if (!updates_only || (k && (strcmp(k, "first") == 0 || strcmp(k, "update") == 0)))
            n++;
    }
    return n;
}

/* Whether the incident is still going on as of now_ms: a record that
 * already holds its end (a replay, a draft dated back) was not over yet
 * before that end. */
static bool ongoing_at(const incident *inc, int64_t now_ms)
{
    return inc->ongoing || inc->ended_ms > now_ms;
}

notice_kind notice_default_kind(const incident *inc, int64_t now_ms)
{
    if (!ongoing_at(inc, now_ms))
        return NOTICE_RECOVERY;
    return published_by(inc, now_ms, false) ? NOTICE_UPDATE : NOTICE_FIRST;
}

int64_t notice_next_update(int64_t now_ms)
{
    int64_t t = now_ms + NOTICE_NEXT_UPDATE_MS;
    /* JST is a whole number of hours from UTC, so half hours of UTC are
     * half hours of JST; floor division keeps times before 1970 right */
    int64_t r = t % NOTICE_ROUND_MS;
    if (r < 0)
        r += NOTICE_ROUND_MS;
    return r ? t - r + NOTICE_ROUND_MS : t;
}

char *notice_format_time(int64_t ms, bool ja, char *buf, size_t size)
{
    static const char *const wj[] = {"日", "月", "火", "水", "木", "金", "土"};
    static const char *const we[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                     "Thursday", "Friday", "Saturday"};
    static const char *const me[] = {"January", "February", "March",     "April",
                                     "May",     "June",     "July",      "August",
                                     "September", "October", "November", "December"};
    jst_date d = jst_date_of(ms);
    int64_t days = jst_days_from_civil(d);
    int wd = (int)(((days + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
    int min = (int)(jst_ms_into_day(ms) / 60000);
    if (ja)
        snprintf(buf, size, "%d年%d月%d日（%s）%d時%02d分", d.y, d.m, d.d, wj[wd], min / 60,
                 min % 60);
    else
        snprintf(buf, size, "%02d:%02d JST, %s %d %s %d", min / 60, min % 60, we[wd], d.d,
                 me[d.m - 1], d.y);
    return buf;
}

/* ---- drafts ---- */

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : NULL;
}

/* The affected services in plain words, from the catalog: 携帯電話（音声）、
 * 携帯電話（データ通信） / mobile voice, mobile data. */
static void services_text(FILE *f, const incident *inc, const catalog *cat, bool ja)
{
    if (!inc->n_services) {
        fputs(ja ? "確認中" : "under investigation", f);
        return;
    }
    for (size_t i = 0; i < inc->n_services; i++) {
        const catalog_service *s = &cat->services[inc->services[i].svc];
        if (i)
            fputs(ja ? "、" : i + 1 == inc->n_services ? " and " : ", ", f);
        fputs(ja ? s->name_ja : s->name_en, f);
    }
}

/* How the services are hit: all stopped, all degraded, or both. */
static const char *effect_text(const incident *inc, bool ja, bool past)
{
    bool stop = false, degrade = false;
    for (size_t i = 0; i < inc->n_services; i++)
        if (inc->services[i].effect == INCIDENT_STOP)
            stop = true;
        else
            degrade = true;
    if (ja)
        return stop && degrade ? "ご利用いただけない、またはご利用しづらい状況"
               : degrade       ? "ご利用しづらい状況"
                               : "ご利用いただけない状況";
    /* the verb agrees with the services named: "ISP internet access has",
     * "FTTH access and IP telephony have" */
    bool one = inc->n_services == 1;
    if (past)
        return stop && degrade ? (one ? "was unavailable or difficult to use"
                                      : "were unavailable or difficult to use")
               : degrade       ? (one ? "was difficult to use" : "were difficult to use")
                               : (one ? "was unavailable" : "were unavailable");
    return stop && degrade ? (one ? "has been unavailable or difficult to use"
                                  : "have been unavailable or difficult to use")
           : degrade       ? (one ? "has been difficult to use" : "have been difficult to use")
                           : (one ? "has been unavailable" : "have been unavailable");
}

static void cause_text(FILE *f, const incident *inc, bool ja)
{
    static const char *const el[] = {"an equipment failure", "human error", "an external cause",
                                     "another cause"};
    const json_t *cause = json_object_get(inc->json, "cause");
    const char *detail = jstr(cause, "detail");
    if (inc->wholesale_provider)
        fprintf(f, ja ? "%sが提供するサービスにおける障害" : "a failure of the service %s provides",
                inc->wholesale_provider);
    if (ja && detail)
        fprintf(f, inc->wholesale_provider ? "（%s）" : "%s", detail);
    else if (!ja && inc->cause != INCIDENT_CAUSE_NONE)
        /* the record's detail is the operator's own (Japanese) words: the
         * English notice names the kind of cause only */
        fprintf(f, inc->wholesale_provider ? " (%s)" : "%s", el[inc->cause]);
    else if (!inc->wholesale_provider)
        fputs(ja ? "確認中" : "under investigation", f);
}

/* The update's number as docomo counts them (第2報, 第3報): the first
 * reports and updates published so far, plus this one. */
static int update_number(const incident *inc, int64_t now_ms)
{
    int n = published_by(inc, now_ms, true) + 1;
    return n < 2 ? 2 : n;
}

static void title_write(FILE *f, const incident *inc, const catalog *cat, notice_kind kind,
                        bool ja, int64_t now_ms)
{
    /* the heads docomo and others put before the subject, by kind */
    static const char *const heads[2][3] = {{"[Apology", "[Apology, update ", "[Apology, restored"},
                                            {"【お詫び", "【お詫び／第", "【お詫び／復旧"}};
    fputs(heads[ja][kind], f);
    if (kind == NOTICE_UPDATE)
        fprintf(f, ja ? "%d報" : "%d", update_number(inc, now_ms));
    fputs(ja ? "】" : "] ", f);
    services_text(f, inc, cat, ja);
    if (ja)
        fprintf(f, "が%sについて", effect_text(inc, true, false));
    else
        fprintf(f, " %s", effect_text(inc, false, kind == NOTICE_RECOVERY));
}

/* One "■label　value" line (ja) or "Label: value" (en). */
static void item(FILE *f, bool ja, const char *ja_label, const char *en_label)
{
    fprintf(f, ja ? "■%s　" : "%s: ", ja ? ja_label : en_label);
}

static void body_write(FILE *f, const incident *inc, const catalog *cat, notice_kind kind,
                       bool ja, int64_t now_ms)
{
    char start[NOTICE_TIME_MAX], end[NOTICE_TIME_MAX], next[NOTICE_TIME_MAX], users[96];
    notice_format_time(inc->started_ms, ja, start, sizeof start);
    if (!inc->ongoing)
        notice_format_time(inc->ended_ms, ja, end, sizeof end);
    notice_format_time(notice_next_update(now_ms), ja, next, sizeof next);
    bool counted = inc->users > 0;
    if (counted)
        incident_users_text(inc, inc->users, ja, users, sizeof users);
    const char *region = jstr(inc->json, "region");

    /* the opening paragraph: what happened, in one sentence */
    if (ja) {
        fprintf(f, "平素は%sのサービスをご利用いただき、誠にありがとうございます。\n", inc->op);
        if (inc->ongoing) {
            fprintf(f, "%s頃から、", start);
            services_text(f, inc, cat, true);
            fprintf(f, "が%sが発生しております。現在、復旧に向けて対応を行っております。\n\n",
                    effect_text(inc, true, false));
        } else {
            fprintf(f, "%s頃から、", start);
            services_text(f, inc, cat, true);
            fprintf(f, "が%sが発生しておりましたが、%sに復旧いたしました。\n\n",
                    effect_text(inc, true, false), end);
        }
    } else {
        fprintf(f, "Dear customers of %s,\n", inc->op);
        fprintf(f, "Since about %s, ", start);
        services_text(f, inc, cat, false);
        if (inc->ongoing)
            fprintf(f, " %s for some customers. We are working to restore service.\n\n",
                    effect_text(inc, false, false));
        else
            fprintf(f, " %s for some customers. Service was restored at %s.\n\n",
                    effect_text(inc, false, true), end);
    }

    item(f, ja, "発生日時", "Started");
    fprintf(f, ja ? "%s頃\n" : "about %s\n", start);
    if (!inc->ongoing) {
        item(f, ja, "復旧日時", "Restored");
        fprintf(f, "%s\n", end);
    }
    item(f, ja, "影響エリア", "Area");
    fprintf(f, "%s\n", region ? region : ja ? "確認中" : "under investigation");
    item(f, ja, "影響サービス", "Services affected");
    services_text(f, inc, cat, ja);
    fputc('\n', f);
    item(f, ja, "影響利用者数", "Users affected");
    fprintf(f, "%s\n", counted ? users : ja ? "確認中" : "under investigation");
    item(f, ja, "現在の状況", "Current state");
    if (inc->ongoing)
        fputs(ja ? "復旧に向けて対応中です\n" : "ongoing; we are working to restore service\n", f);
    else
        fprintf(f, ja ? "%sに復旧しております\n" : "restored at %s\n", end);
    item(f, ja, "原因", "Cause");
    cause_text(f, inc, ja);
    fputc('\n', f);
    if (kind != NOTICE_RECOVERY && inc->ongoing) {
        item(f, ja, "次回のお知らせ", "Next update");
        fprintf(f, ja ? "%s頃を予定しております\n" : "by %s\n", next);
    }

    if (ja)
        fputs(inc->ongoing ? "\nお客さまには大変ご迷惑をおかけしておりますことを、深くお詫び申し上げます。"
                           : "\nお客さまには大変ご迷惑をおかけしましたことを、深くお詫び申し上げます。",
              f);
    else
        fputs(inc->ongoing ? "\nWe sincerely apologise for the inconvenience this is causing."
                           : "\nWe sincerely apologise for the inconvenience this caused.",
              f);
}

/* Text written into memory; NULL when out of memory. */
typedef struct memtext {
    char *text;
    size_t len;
    FILE *f;
} memtext;

static char *mem_close(memtext *m)
{
    if (fclose(m->f) != 0) {
        free(m->text);
        return NULL;
    }
    return m->text;
}

int notice_draft_make(const incident *inc, const catalog *cat, notice_kind kind, bool ja,
                      int64_t now_ms, notice_draft *out, jiko_error *err)
{
    memset(out, 0, sizeof *out);
    out->kind = kind;
    out->ja = ja;
    /* the incident as it stood at now_ms: ongoing until its end (a copy
     * that shares the record; nothing of it is freed here) */
    incident at_now = *inc;
    at_now.ongoing = ongoing_at(inc, now_ms);
    inc = &at_now;
    if (kind == NOTICE_RECOVERY && inc->ongoing) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "kind",
                  "incident '%s' has not ended as of the draft's time: a recovery report needs "
                  "the time service was restored (ended_at); draft a first report or an update",
                  inc->id);
        return -1;
    }
    memtext t = {NULL, 0, NULL}, b = {NULL, 0, NULL};
    if ((t.f = open_memstream(&t.text, &t.len)))
        title_write(t.f, inc, cat, kind, ja, now_ms);
    if ((b.f = open_memstream(&b.text, &b.len)))
        body_write(b.f, inc, cat, kind, ja, now_ms);
    out->title = t.f ? mem_close(&t) : NULL;
    out->body = b.f ? mem_close(&b) : NULL;
    if (!out->title || !out->body) {
        notice_draft_free(out);
        error_nomem(err, "drafting a notice");
        return -1;
    }
    return 0;
}

void notice_draft_free(notice_draft *d)
{
    free(d->title);
    free(d->body);
    d->title = d->body = NULL;
}

json_t *notice_draft_json(const notice_draft *d)
{
    return json_pack("{s:s,s:s,s:s,s:s}", "kind", notice_kind_name(d->kind), "lang",
                     d->ja ? "ja" : "en", "title", d->title, "body", d->body);
}

/* ---- publishing ---- */

static int bad(jiko_error *err, const char *field, const char *msg)
{
    error_set(err, JIKO_ERR_INVALID, NULL, 0, field, "%s", msg);
    return -1;
}

/* An optional string member: absent or null → NULL; else a string of at
 * most `max` bytes, without control characters unless `lines`. */
static int opt_string(const json_t *o, const char *key, size_t max, bool lines, const char **out,
                      jiko_error *err)
{
    const json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, key, "expected a string");
        return -1;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n > max) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, key, "longer than %zu bytes", max);
        return -1;
    }
    if (strlen(s) != n)
        return bad(err, key, "holds a NUL character");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(lines && (c == '\n' || c == '\t' || c == '\r'))) || c == 0x7f)
            return bad(err, key, lines ? "holds a control character (only line breaks and tabs "
                                         "may appear)"
                                       : "holds a control character or a line break");
    }
    *out = s;
    return 0;
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (!strchr(" \t\r\n", *s))
            return false;
    return true;
}

json_t *notice_json_load(const char *text, size_t len, json_error_t *je)
{
    /* plain records take the fast path, which also fails whole when memory
     * runs out (jansson's reader can drop a character of a string then) */
    json_t *o = json_fast_loadb(text, len);
    if (o)
        return o;
    o = json_loadb(text, len, JSON_REJECT_DUPLICATES, je);
    if (!o && json_error_code(je) != json_error_out_of_memory)
        o = json_loadb(text, len, JSON_REJECT_DUPLICATES, je);
    return o;
}

int notice_parse(const char *text, size_t len, int64_t now_ms, notice_input *out,
                 jiko_error *err)
{
    static const char *const keys[] = {"kind", "lang", "title", "body", "channel", "at"};
    static const char *const channels[] = {"web", "sns", "press", "mail", "other"};
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *o = notice_json_load(text, len, &je);
    if (!o) {
        if (json_error_code(&je) == json_error_out_of_memory)
            error_nomem(err, "reading a notice");
        else
            error_set(err, JIKO_ERR_INVALID, NULL, 0, "body", "not JSON: %s (at byte %d)",
                      je.text, je.position);
        return -1;
    }
    out->json = o;
    if (!json_is_object(o)) {
        bad(err, "body", "expected an object {\"kind\", \"body\", ...}");
        goto fail;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        bool known = false;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0] && !known; i++)
            known = strcmp(key, keys[i]) == 0;
        if (!known) {
            /* the field names a key that may itself be long or odd: cut */
            error_set(err, JIKO_ERR_INVALID, NULL, 0, "body",
                      "unknown member '%.60s'; a notice has kind, body, and optionally title, "
                      "lang, channel, at", key);
            goto fail;
        }
    }
    const char *kind, *at;
    if (opt_string(o, "kind", 16, false, &kind, err))
        goto fail;
    if (!notice_kind_of(kind, &out->kind)) {
        bad(err, "kind", "expected first, update or recovery");
        goto fail;
    }
    if (opt_string(o, "lang", 2, false, &out->lang, err))
        goto fail;
    if (out->lang && strcmp(out->lang, "ja") && strcmp(out->lang, "en")) {
        bad(err, "lang", "expected ja or en");
        goto fail;
    }
    if (opt_string(o, "title", NOTICE_TITLE_MAX, false, &out->title, err) ||
        opt_string(o, "body", NOTICE_TEXT_MAX, true, &out->body, err) ||
        opt_string(o, "channel", 8, false, &out->channel, err) ||
        opt_string(o, "at", JST_TEXT_MAX, false, &at, err))
        goto fail;
    if (!out->body || blank(out->body)) {
        bad(err, "body", "missing or empty: a notice needs its text");
        goto fail;
    }
    if (out->title && blank(out->title))
        out->title = NULL;
    if (!out->channel)
        out->channel = "web";
    bool known = false;
    for (size_t i = 0; i < 5 && !known; i++)
        known = strcmp(out->channel, channels[i]) == 0;
    if (!known) {
        bad(err, "channel", "expected web, sns, press, mail or other");
        goto fail;
    }
    out->at_ms = now_ms;
    const char *why = NULL;
    if (at && !jst_parse_rfc3339(at, strlen(at), &out->at_ms, &why)) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "at",
                  "expected an RFC 3339 time such as 2021-10-14T17:53:00+09:00 (%s)",
                  why ? why : "invalid");
        goto fail;
    }
    if (out->at_ms < JST_MIN_MS || out->at_ms > JST_MAX_MS) {
        bad(err, "at", "outside 1900-01-01 to 9999-12-31 (JST)");
        goto fail;
    }
    return 0;
fail:
    notice_input_free(out);
    return -1;
}

void notice_input_free(notice_input *n)
{
    json_decref(n->json);
    memset(n, 0, sizeof *n);
}

json_t *notice_input_json(const notice_input *n)
{
    char at[JST_TEXT_MAX];
    json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "at", jst_format(n->at_ms, at, sizeof at), "kind",
                          notice_kind_name(n->kind), "channel", n->channel, "text", n->body);
    if (o && ((n->title && json_object_set_new(o, "title", json_string(n->title))) ||
              (n->lang && json_object_set_new(o, "lang", json_string(n->lang))))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The stored record with the notice appended, as one line of JSON. */
static char *with_notice(const char *record, const notice_input *n, jiko_error *err)
{
    json_error_t je;
    json_t *rec = notice_json_load(record, strlen(record), &je);
    json_t *ns = rec ? json_object_get(rec, "notices") : NULL;
    json_t *one = notice_input_json(n);
    char *text = NULL;
    if (rec && one) {
        if (!json_is_array(ns)) { /* absent or null: the first notice */
            ns = json_array();
            if (ns && json_object_set_new(rec, "notices", ns))
                ns = NULL;
        }
        if (ns && !json_array_append(ns, one))
            text = json_text_of(rec, 0, false, NULL);
    }
    if (!text) {
        if (rec || json_error_code(&je) == json_error_out_of_memory)
            error_nomem(err, "adding a notice to the record");
        else
            error_set(err, JIKO_ERR_STORE, NULL, 0, NULL, "the stored record is not JSON: %s",
                      je.text);
    }
    json_decref(one);
    json_decref(rec);
    return text;
}

int notice_publish(store *db, const intake_opts *io, const char *op, const char *id,
                   const notice_input *n, const char *reason, int *version, jiko_error *err)
{
    error_clear(err);
    store_row row;
    int found = store_get(db, op, id, &row, err);
    if (found < 0)
        return -1;
    if (!found) {
        error_set(err, JIKO_ERR_NOT_FOUND, NULL, 0, NULL, "no incident '%s' of operator '%s'", id,
                  op);
        return -1;
    }
    char *text = with_notice(row.record, n, err);
    store_row_free(&row);
    if (!text)
        return -1;
    import_results res;
    int rc = import_text(db, io, text, strlen(text), "notice", reason, op, &res, err);
    free(text);
    if (rc == 0 && res.n == 1 && !res.r[0].ok) {
        /* the record was valid when stored; a notice made it invalid */
        *err = res.r[0].err;
        rc = -1;
    } else if (rc == 0 && res.n == 1) {
        *version = res.r[0].version;
    } else if (rc == 0) {
        error_set(err, JIKO_ERR_STORE, NULL, 0, NULL, "the stored record of '%s' is not one record",
                  id);
        rc = -1;
    }
    import_results_free(&res);
    return rc;
}
