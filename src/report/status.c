/* status.c — the public status page and Atom feed (status.h). */
#include "status.h"

#include <stdlib.h>
#include <string.h>

#include "fnv.h"
#include "jst.h"
#include "notice.h"
#include "report_table.h"

/* A receiver's incident linked to its provider's: (provider, start). */
typedef struct link {
    char *provider;
    int64_t started_ms;
} link;

typedef struct collect {
    status_page *p;
    link *links;
    size_t n_links, cap_links;
    jiko_error *err;
} collect;

/* An array of *cap elements of `size` bytes holding n, with room for one
 * more: arr itself, or arr moved and grown; NULL when out of memory (arr
 * is then unchanged). */
static void *room(void *arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return arr;
    size_t more = *cap ? 2 * *cap : 16;
    void *grown = realloc(arr, more * size);
    if (grown)
        *cap = more;
    return grown;
}

static int nomem(collect *c)
{
    error_nomem(c->err, "collecting the status page");
    return 1;
}

/* Whether a record names `op` as a receiver in services[].wholesale_to. */
static bool names_receiver(const json_t *rec, const char *op)
{
    size_t k, r;
    json_t *sv, *to;
    json_array_foreach(json_object_get(rec, "services"), k, sv)
    {
        json_array_foreach(json_object_get(sv, "wholesale_to"), r, to)
        {
            const char *o = json_string_value(json_object_get(to, "operator"));
            if (o && strcmp(o, op) == 0)
                return true;
        }
    }
    return false;
}

static int by_at(const void *a, const void *b)
{
    const status_notice *x = a, *y = b;
    return (x->at_ms > y->at_ms) - (x->at_ms < y->at_ms);
}

/* The record's published notices, oldest first (the array's order breaks
 * ties: the sort is stable). */
static int published(status_incident *si, int64_t now_ms)
{
    const json_t *ns = json_object_get(si->record, "notices");
    size_t n = json_array_size(ns);
    if (!n)
        return 0;
    si->notices = calloc(n, sizeof *si->notices);
    if (!si->notices)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(ns, i);
        const char *at = json_string_value(json_object_get(o, "at"));
        int64_t ms;
        if (!at || !jst_parse_rfc3339(at, strlen(at), &ms, NULL) || ms > now_ms)
            continue;
        const char *text = json_string_value(json_object_get(o, "text"));
        const char *title = json_string_value(json_object_get(o, "title"));
        const char *lang = json_string_value(json_object_get(o, "lang"));
        si->notices[si->n_notices++] = (status_notice){
            ms, json_string_value(json_object_get(o, "kind")),
            json_string_value(json_object_get(o, "channel")), title && *title ? title : NULL,
            text ? text : "",
            lang && (strcmp(lang, "ja") == 0 || strcmp(lang, "en") == 0) ? lang : NULL};
    }
    /* insertion sort: stable, and notices are few and mostly in order */
    for (size_t i = 1; i < si->n_notices; i++)
        for (size_t j = i; j > 0 && by_at(&si->notices[j - 1], &si->notices[j]) > 0; j--) {
            status_notice t = si->notices[j];
            si->notices[j] = si->notices[j - 1];
            si->notices[j - 1] = t;
        }
    return 0;
}

static int on_row(void *ctx, const store_row *r)
{
    collect *c = ctx;
    status_page *p = c->p;
    bool mine = strcmp(r->op, p->op) == 0;
    if (mine)
        p->known = true;
    /* most rows are another operator's with no notice: judged on the text,
     * without parsing */
    bool has_notices = strstr(r->record, "\"notices\"") != NULL;
    bool may_link = mine && strstr(r->record, "\"wholesale_provider\"") != NULL;
    bool may_name = strstr(r->record, "\"wholesale_to\"") != NULL;
    if (!has_notices && !may_link && !may_name)
        return 0;
    json_error_t je;
    json_t *rec = notice_json_load(r->record, strlen(r->record), &je);
    if (!rec) /* the registry checked it when it read the row: only memory */
        return json_error_code(&je) == json_error_out_of_memory ? nomem(c) : 0;
    if (!mine && names_receiver(rec, p->op))
        p->known = true;
    const char *prov = json_string_value(json_object_get(rec, "wholesale_provider"));
    if (mine && prov) {
        link *links = room(c->links, &c->cap_links, c->n_links, sizeof *links);
        if (links)
            c->links = links;
        if (!links || !(c->links[c->n_links].provider = strdup(prov))) {
            json_decref(rec);
            return nomem(c);
        }
        c->links[c->n_links++].started_ms = r->started_ms;
    }
    if (!json_array_size(json_object_get(rec, "notices"))) {
        json_decref(rec);
        return 0;
    }
    status_incident *incs = room(p->inc, &p->cap, p->n, sizeof *incs);
    if (!incs) {
        json_decref(rec);
        return nomem(c);
    }
    p->inc = incs;
    status_incident *si = &p->inc[p->n++];
    memset(si, 0, sizeof *si);
    si->record = rec;
    si->op = json_string_value(json_object_get(rec, "operator"));
    si->id = json_string_value(json_object_get(rec, "id"));
    si->started_ms = r->started_ms;
    si->ended_ms = r->ongoing ? 0 : r->ended_ms;
    if (!si->op || !si->id) {
        json_decref(rec);
        p->n--;
        return 0;
    }
    if (published(si, p->now_ms))
        return nomem(c);
    si->ongoing = r->ongoing;
    for (size_t i = 0; i < si->n_notices && si->ongoing; i++)
        si->ongoing = !si->notices[i].kind || strcmp(si->notices[i].kind, "recovery") != 0;
    return 0;
}

/* Whether an incident collected belongs on the page. */
static bool shown(const collect *c, const status_incident *si)
{
    const status_page *p = c->p;
    if (!si->n_notices)
        return false;
    int64_t since = p->now_ms - STATUS_RECENT_DAYS * JST_MS_PER_DAY;
    if (!si->ongoing && si->ended_ms < since && si->notices[si->n_notices - 1].at_ms < since)
        return false;
    if (strcmp(si->op, p->op) == 0)
        return true;
    if (names_receiver(si->record, p->op))
        return true;
    for (size_t i = 0; i < c->n_links; i++)
        if (c->links[i].started_ms == si->started_ms && strcmp(c->links[i].provider, si->op) == 0)
            return true;
    return false;
}

/* When an incident last changed for the public: its end, or its latest
 * notice when that came later (a report published after the recovery). */
static int64_t last_news(const status_incident *si)
{
    int64_t last = si->notices[si->n_notices - 1].at_ms;
    return si->ended_ms > last ? si->ended_ms : last;
}

static int page_order(const void *a, const void *b)
{
    const status_incident *x = a, *y = b;
    if (x->ongoing != y->ongoing)
        return x->ongoing ? -1 : 1;
    int64_t kx = x->ongoing ? x->started_ms : last_news(x);
    int64_t ky = y->ongoing ? y->started_ms : last_news(y);
    if (kx != ky)
        return kx > ky ? -1 : 1;
    int d = strcmp(x->op, y->op);
    return d ? d : strcmp(x->id, y->id);
}

static void incident_free_one(status_incident *si)
{
    free(si->notices);
    json_decref(si->record);
}

/* A row of the operator's own, at any time: it exists. */
static int on_any(void *ctx, const store_row *r)
{
    (void)r;
    *(bool *)ctx = true;
    return 1;
}

int status_collect(status_page *p, store *db, const char *op, int64_t now_ms, jiko_error *err)
{
    memset(p, 0, sizeof *p);
    error_clear(err);
    p->now_ms = now_ms;
    if (!(p->op = strdup(op))) {
        error_nomem(err, "collecting the status page");
        return -1;
    }
    collect c = {p, NULL, 0, 0, err};
    /* every incident ongoing, ended in the window or stored again in it (a
     * notice published): the registry leaves the rest out before reading
     * their records */
    store_filter active = {.open = -1,
                           .active_since_ms = now_ms - STATUS_RECENT_DAYS * JST_MS_PER_DAY};
    int rc = store_list(db, &active, on_row, &c, err);
    if (!rc && err->kind == JIKO_ERR_NONE && !p->known) {
        store_filter any = {.open = -1, .op = op, .limit = 1};
        rc = store_list(db, &any, on_any, &p->known, err);
    }
    if (!rc && err->kind == JIKO_ERR_NONE) {
        size_t k = 0;
        for (size_t i = 0; i < p->n; i++) {
            if (shown(&c, &p->inc[i])) {
                p->inc[k++] = p->inc[i];
                continue;
            }
            incident_free_one(&p->inc[i]);
        }
        p->n = k;
        for (size_t i = 0; i < p->n; i++) {
            p->inc[i].wholesale = strcmp(p->inc[i].op, op) != 0;
            status_incident *si = &p->inc[i];
            if (si->notices[si->n_notices - 1].at_ms > p->updated_ms)
                p->updated_ms = si->notices[si->n_notices - 1].at_ms;
        }
        if (p->n > 1)
            qsort(p->inc, p->n, sizeof *p->inc, page_order);
    }
    for (size_t i = 0; i < c.n_links; i++)
        free(c.links[i].provider);
    free(c.links);
    return rc || err->kind != JIKO_ERR_NONE ? -1 : 0;
}

void status_free(status_page *p)
{
    for (size_t i = 0; i < p->n; i++)
        incident_free_one(&p->inc[i]);
    free(p->inc);
    free(p->op);
    memset(p, 0, sizeof *p);
}

/* ---- writing ---- */

void status_write_pct(FILE *out, const char *s)
{
    for (const unsigned char *b = (const unsigned char *)s; *b; b++) {
        if ((*b >= 'A' && *b <= 'Z') || (*b >= 'a' && *b <= 'z') || (*b >= '0' && *b <= '9') ||
            strchr("-._~", *b))
            fputc(*b, out);
        else
            fprintf(out, "%%%02X", *b);
    }
}

/* The page's anchor of an incident: its operator and id hashed, so that
 * any name makes a valid HTML id and URL fragment. */
static void anchor(FILE *out, const status_incident *si)
{
    uint64_t h = fnv1a64(FNV1A64_OFFSET, si->op, strlen(si->op) + 1);
    h ^= fnv1a64(FNV1A64_OFFSET, si->id, strlen(si->id)) * 31;
    fprintf(out, "i%016llx", (unsigned long long)h);
}

/* The services of an incident in plain words (the catalog's names). */
static void services_line(FILE *out, const status_incident *si, const catalog *cat, bool ja)
{
    size_t k;
    json_t *sv;
    size_t shown_n = 0;
    json_array_foreach(json_object_get(si->record, "services"), k, sv)
    {
        const char *code = json_string_value(json_object_get(sv, "service"));
        int idx = code ? catalog_service_index(cat, code, strlen(code)) : -1;
        if (idx < 0)
            continue;
        fputs(shown_n++ ? (ja ? "、" : ", ") : "", out);
        report_html_escape(out, ja ? cat->services[idx].name_ja : cat->services[idx].name_en);
    }
    if (!shown_n)
        fputs(ja ? "サービス" : "services", out);
}

static void time_html(FILE *out, int64_t ms, bool ja)
{
    char iso[JST_TEXT_MAX], shown_t[NOTICE_TIME_MAX];
    fprintf(out, "<time datetime=\"%s\">%s</time>", jst_format(ms, iso, sizeof iso),
            notice_format_time(ms, ja, shown_t, sizeof shown_t));
}

static void status_url(FILE *out, const char *op)
{
    fputs("/status/", out);
    status_write_pct(out, op);
}

static const char STYLE[] =
    "body{font-family:system-ui,'Hiragino Sans','Noto Sans JP',sans-serif;max-width:52rem;"
    "margin:0 auto;padding:1rem;color:#1a1a1a;line-height:1.6}"
    "header nav a{margin-right:.8rem}h1{font-size:1.5rem}h2{font-size:1.2rem;border-bottom:"
    "2px solid #ccc;margin-top:2rem}article{border:1px solid #ddd;border-radius:6px;padding:"
    ".6rem 1rem;margin:1rem 0}article.ongoing{border-left:6px solid #c0392b}article.ended"
    "{border-left:6px solid #27ae60}.meta{color:#555;font-size:.9rem}.notice{margin:.8rem 0}"
    ".notice h4{margin:0;font-size:1rem}.text{white-space:pre-line}.empty{color:#555}"
    "footer{margin-top:2rem;color:#777;font-size:.8rem}";

static void head(FILE *out, const char *op, bool ja, const char *title_ja, const char *title_en,
                 bool feed)
{
    fprintf(out, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<title>",
            ja ? "ja" : "en");
    report_html_escape(out, op);
    fprintf(out, " — %s</title>\n", ja ? title_ja : title_en);
    if (feed) {
        fputs("<link rel=\"alternate\" type=\"application/atom+xml\" href=\"", out);
        status_url(out, op);
        fputs("/feed.atom\">\n", out);
    }
    fprintf(out, "<style>%s</style>\n</head>\n<body>\n", STYLE);
}

static void incident_html(FILE *out, const status_incident *si, const catalog *cat, bool ja)
{
    fprintf(out, "<article class=\"%s\" id=\"", si->ongoing ? "ongoing" : "ended");
    anchor(out, si);
    fputs("\">\n<h3>", out);
    services_line(out, si, cat, ja);
    fprintf(out, " — %s</h3>\n<p class=\"meta\">%s ", si->ongoing ? (ja ? "対応中" : "ongoing")
                                                                 : (ja ? "復旧済み" : "restored"),
            ja ? "発生日時" : "Started");
    time_html(out, si->started_ms, ja);
    if (si->ended_ms) {
        fprintf(out, " ／ %s ", ja ? "復旧日時" : "Restored");
        time_html(out, si->ended_ms, ja);
    }
    const char *region = json_string_value(json_object_get(si->record, "region"));
    if (region && *region) {
        fprintf(out, " ／ %s ", ja ? "影響エリア" : "Area");
        report_html_escape(out, region);
    }
    if (si->wholesale) {
        fprintf(out, "<br>%s", ja ? "卸元（サービス提供元）: " : "Wholesale provider: ");
        report_html_escape(out, si->op);
    }
    fputs("</p>\n", out);
    for (size_t i = 0; i < si->n_notices; i++) {
        const status_notice *n = &si->notices[i];
        if (n->lang) /* written in another language than the page's, maybe */
            fprintf(out, "<section class=\"notice\" lang=\"%s\">\n<h4>", n->lang);
        else
            fputs("<section class=\"notice\">\n<h4>", out);
        time_html(out, n->at_ms, ja);
        fputs(" ", out);
        report_html_escape(out, notice_kind_label(n->kind, ja));
        if (n->channel) {
            fputs(ja ? "（" : " (", out);
            report_html_escape(out, report_channel_label(n->channel, ja));
            fputs(ja ? "）" : ")", out);
        }
        fputs("</h4>\n", out);
        if (n->title) {
            fputs("<p><strong>", out);
            report_html_escape(out, n->title);
            fputs("</strong></p>\n", out);
        }
        fputs("<div class=\"text\">", out);
        report_html_escape(out, n->text);
        fputs("</div>\n</section>\n", out);
    }
    fputs("</article>\n", out);
}

void status_write_html(FILE *out, const status_page *p, const catalog *cat, bool ja)
{
    head(out, p->op, ja, "障害情報", "service status", true);
    fputs("<header>\n<h1>", out);
    report_html_escape(out, p->op);
    fprintf(out, " %s</h1>\n<nav><a href=\"?lang=ja\" hreflang=\"ja\" lang=\"ja\">日本語</a>"
                 "<a href=\"?lang=en\" hreflang=\"en\" lang=\"en\">English</a><a href=\"",
            ja ? "障害情報" : "— service status");
    status_url(out, p->op);
    fprintf(out, "/feed.atom\">%s</a></nav>\n</header>\n", ja ? "Atomフィード" : "Atom feed");
    size_t cur = 0;
    while (cur < p->n && p->inc[cur].ongoing)
        cur++;
    fprintf(out, "<h2 id=\"current\">%s</h2>\n", ja ? "現在発生中の障害" : "Current incidents");
    if (!cur)
        fprintf(out, "<p class=\"empty\">%s</p>\n",
                ja ? "現在、お知らせしている障害はありません。"
                   : "There are no incidents to report at the moment.");
    for (size_t i = 0; i < cur; i++)
        incident_html(out, &p->inc[i], cat, ja);
    fprintf(out, "<h2 id=\"recent\">%s</h2>\n",
            ja ? "過去90日間に復旧した障害" : "Restored in the last 90 days");
    if (cur == p->n)
        fprintf(out, "<p class=\"empty\">%s</p>\n",
                ja ? "過去90日間にお知らせした障害はありません。"
                   : "No incidents were reported in the last 90 days.");
    for (size_t i = cur; i < p->n; i++)
        incident_html(out, &p->inc[i], cat, ja);
    /* the latest notice, not the time the page was made: a page that did
     * not change keeps its bytes, so its ETag stays valid */
    char when[NOTICE_TIME_MAX];
    fprintf(out, "<footer>%s", ja ? "お知らせ（初報・続報・復旧報）を掲載しています。"
                                  : "Notices (first reports, updates, recovery reports) as "
                                    "published.");
    if (p->updated_ms)
        fprintf(out, ja ? "最終更新: %s" : " Last updated %s.",
                notice_format_time(p->updated_ms, ja, when, sizeof when));
    fputs("</footer>\n</body>\n</html>\n", out);
}

void status_write_unknown(FILE *out, const char *op, bool ja)
{
    head(out, op, ja, "見つかりません", "not found", false);
    fputs("<h1>", out);
    report_html_escape(out, op);
    fprintf(out, "</h1>\n<p>%s</p>\n</body>\n</html>\n",
            ja ? "この事業者の障害情報はありません（登録されていない事業者です）。"
               : "There is no status page for this operator (it is not in the registry).");
}

static void atom_time(FILE *out, const char *tag, int64_t ms)
{
    char t[JST_TEXT_MAX];
    fprintf(out, "<%s>%s</%s>\n", tag, jst_format(ms, t, sizeof t), tag);
}

/* One notice of the feed, with the incident it belongs to. */
typedef struct feed_item {
    const status_incident *si;
    const status_notice *n;
    size_t order; /* page order, for equal times */
} feed_item;

static int newest_first(const void *a, const void *b)
{
    const feed_item *x = a, *y = b;
    if (x->n->at_ms != y->n->at_ms)
        return x->n->at_ms > y->n->at_ms ? -1 : 1;
    return (x->order > y->order) - (x->order < y->order);
}

static void entry_write(FILE *out, const status_page *p, const catalog *cat, bool ja,
                        const status_incident *si, const status_notice *n)
{
    /* the notice's own language, where it says, over the feed's */
    fprintf(out, n->lang ? "<entry xml:lang=\"%s\">\n" : "<entry>\n", n->lang ? n->lang : "");
    fprintf(out, "<id>%snotice/", STATUS_TAG);
    status_write_pct(out, si->op);
    fputc('/', out);
    status_write_pct(out, si->id);
    fprintf(out, "/%lld/", (long long)n->at_ms);
    status_write_pct(out, n->kind ? n->kind : "");
    fputc('/', out);
    status_write_pct(out, n->channel ? n->channel : "");
    fputs("</id>\n<title>", out);
    if (n->title) {
        report_html_escape(out, n->title);
    } else {
        report_html_escape(out, notice_kind_label(n->kind, ja));
        fputs(ja ? "：" : ": ", out);
        services_line(out, si, cat, ja);
    }
    fputs("</title>\n", out);
    atom_time(out, "published", n->at_ms);
    atom_time(out, "updated", n->at_ms);
    if (si->wholesale) {
        fputs("<author><name>", out);
        report_html_escape(out, si->op);
        fputs("</name></author>\n", out);
    }
    fputs("<link rel=\"alternate\" type=\"text/html\" href=\"", out);
    status_url(out, p->op);
    fputs(ja ? "?lang=ja#" : "?lang=en#", out);
    anchor(out, si);
    fputs("\"/>\n<content type=\"text\">", out);
    report_html_escape(out, n->text);
    fputs("</content>\n</entry>\n", out);
}

int status_write_atom(FILE *out, const status_page *p, const catalog *cat, bool ja)
{
    fprintf(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                 "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"%s\">\n<id>%sstatus/",
            ja ? "ja" : "en", STATUS_TAG);
    status_write_pct(out, p->op);
    fputs("</id>\n<title>", out);
    report_html_escape(out, p->op);
    fprintf(out, " %s</title>\n", ja ? "障害情報" : "service status");
    /* no notice yet: the feed changes when one comes, so its age is now's */
    atom_time(out, "updated", p->updated_ms ? p->updated_ms : p->now_ms);
    fputs("<author><name>", out);
    report_html_escape(out, p->op);
    fputs("</name></author>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"", out);
    status_url(out, p->op);
    fputs("/feed.atom\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"", out);
    status_url(out, p->op);
    fputs("\"/>\n", out);
    /* every notice, newest first as feed readers expect (ties: page order) */
    size_t total = 0;
    for (size_t i = 0; i < p->n; i++)
        total += p->inc[i].n_notices;
    feed_item *items = malloc((total ? total : 1) * sizeof *items);
    if (!items)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++)
        for (size_t j = 0; j < p->inc[i].n_notices; j++, k++)
            items[k] = (feed_item){&p->inc[i], &p->inc[i].notices[j], k};
    qsort(items, total, sizeof *items, newest_first);
    for (size_t i = 0; i < total; i++)
        entry_write(out, p, cat, ja, items[i].si, items[i].n);
    free(items);
    fputs("</feed>\n", out);
    return 0;
}
