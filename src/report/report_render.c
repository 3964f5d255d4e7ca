/*
 * report_render.c — the yearly statistics laid out as the release lays them
 * out (report_render.h).  Tables are built once from report_year and then
 * written in the chosen format; JSON is built from the same counts.
 * Japanese labels are the release's own terms (seed 000).
 */
#include "report_render.h"

#include <stdlib.h>
#include <string.h>

#include "incident.h"
#include "jst.h"
#include "rules.h"
#include "utf8.h"

/* The release's order: §1, §2 (the chart by year, 2(1), 2(2)), §3(1) text
 * and table, §3(2)-(4). */
const char *const report_table_ids[REPORT_N_TABLES] = {
    "overview", "serious_by_year", "serious", "serious_services", "headline",
    "matrix",   "services",        "causes",  "equipment",
};

bool report_table_known(const char *id)
{
    for (int i = 0; i < REPORT_N_TABLES; i++)
        if (strcmp(id, report_table_ids[i]) == 0)
            return true;
    return false;
}

static const struct {
    const char *code, *ja, *en;
} labels[] = {
    {"serious", "重大な事故", "Serious accidents"},
    {"quarterly", "四半期ごとの報告を要する事故", "Accidents reported quarterly"},
    {"quarterly_detailed", "詳細な様式による報告", "Quarterly, detailed form"},
    {"quarterly_simple", "簡易な様式による報告", "Quarterly, simple form"},
    {"lt_30m", "30分未満", "under 30 min"},
    {"30m_1h", "30分以上1時間未満", "30 min - 1 h"},
    {"1h_1h30m", "1時間以上1時間30分未満", "1 h - 1 h 30 min"},
    {"1h30m_2h", "1時間30分以上2時間未満", "1 h 30 min - 2 h"},
    {"2h_5h", "2時間以上5時間未満", "2 h - 5 h"},
    {"5h_12h", "5時間以上12時間未満", "5 h - 12 h"},
    {"12h_24h", "12時間以上24時間未満", "12 h - 24 h"},
    {"ge_24h", "24時間以上", "24 h and over"},
    {"users_lt_500", "500人未満", "< 500"},
    {"users_500_5k", "500人以上5千人未満", "500 - 5k"},
    {"users_5k_30k", "5千人以上3万人未満", "5k - 30k"},
    {"users_30k_100k", "3万人以上10万人未満", "30k - 100k"},
    {"users_100k_1m", "10万人以上100万人未満", "100k - 1M"},
    {"users_ge_1m", "100万人以上", ">= 1M"},
    {"total", "計", "Total"},
    {"total_pct", "割合", "Share"},
    {"share_pct", "割合", "Share"},
    {"na", "対象外", "n/a"},
    {"all", "合計", "All"},
    {"voice", "音声サービス", "Voice"},
    {"data", "データ通信サービス", "Data"},
    {"fixed", "固定通信", "Fixed"},
    {"mobile", "移動通信", "Mobile"},
    {"other", "その他", "Other"},
    {"equipment", "設備要因", "Equipment"},
    {"external", "外的要因", "External"},
    {"human", "人為要因", "Human"},
    {"switching", "伝送交換設備（サーバ設備を除く）", "Switching and transmission equipment (not servers)"},
    {"transmission_line", "伝送路設備", "Transmission lines"},
    {"server", "サーバ設備", "Servers"},
    {"subscriber_unit", "加入者収容装置", "Subscriber units"},
    {"subscriber_cable", "加入者系ケーブル", "Subscriber cables"},
    {"radio_base_station", "無線基地局", "Radio base stations"},
    {"auth_call_control", "認証・呼制御サーバ", "Authentication / call control"},
    {"application", "アプリケーションサーバ", "Application servers"},
    {"power", "電源設備", "Power supply"},
};

const char *report_label(const char *code, bool ja)
{
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strcmp(labels[i].code, code) == 0)
            return ja ? labels[i].ja : labels[i].en;
    return code;
}


/* ---- cell helpers ---- */

static void cell_count(rtable *t, long v)
{
    char d[32];
    rtable_cellf(t, report_group_digits(v, d, sizeof d), "%ld", v);
}

/* A percentage in units of 10^-decimals; blank when undefined. */
static void cell_pct(rtable *t, long p, int decimals)
{
    if (p < 0) {
        rtable_cell(t, "", NULL);
        return;
    }
    char raw[32], d[40];
    if (decimals)
        snprintf(raw, sizeof raw, "%ld.%ld", p / 10, p % 10);
    else
        snprintf(raw, sizeof raw, "%ld", p);
    snprintf(d, sizeof d, "%s%%", raw);
    rtable_cell(t, raw, d);
}

static void cell_delta(rtable *t, long n, long d, long np, long dp)
{
    bool known;
    long v = report_delta_pt(n, d, np, dp, &known);
    if (!known) {
        rtable_cell(t, "", NULL);
        return;
    }
    char raw[32], disp[32];
    snprintf(raw, sizeof raw, "%ld", v);
    snprintf(disp, sizeof disp, v > 0 ? "+%ld" : v < 0 ? "%ld" : "±0", v);
    rtable_cell(t, raw, disp);
}

static void cell_label(rtable *t, const char *code, bool ja)
{
    rtable_cell(t, code, report_label(code, ja));
}

/* The release's notes and definitions for a table (catalogs/published.conf),
 * in file order. */
static void published_notes(rtable *t, const report_year *y, const char *table, bool ja)
{
    for (int i = 0; i < y->pub.n_notes; i++)
        if (strcmp(y->pub.notes[i].table, table) == 0)
            rtable_note(t, "%s", ja ? y->pub.notes[i].ja : y->pub.notes[i].en);
}

/* ---- the tables ---- */

/* A column: its CSV/JSON code, its labels, right-aligned or not. */
typedef struct col_spec {
    const char *raw, *ja, *en;
    bool numeric;
} col_spec;

static void add_cols(rtable *t, const col_spec *c, size_t n, bool ja)
{
    for (size_t i = 0; i < n; i++)
        rtable_col(t, c[i].raw, ja ? c[i].ja : c[i].en, c[i].numeric);
}

static void build_overview(rtable *t, const report_year *y, bool ja)
{
    char title[200];
    char fy1[JST_WAREKI_MAX], fy0[JST_WAREKI_MAX];
    if (ja)
        snprintf(title, sizeof title, "1 報告の概要（%s、括弧内は%s）",
                 jst_format_wareki_fy(y->cur.fy, fy1, sizeof fy1),
                 jst_format_wareki_fy(y->prev.fy, fy0, sizeof fy0));
    else
        snprintf(title, sizeof title, "1 Reports received (FY%d, previous year FY%d beside it)",
                 y->cur.fy, y->prev.fy);
    rtable_init(t, "overview", title);
    static const col_spec cols[] = {
        {"report_type", "報告種別", "Report type", false},
        {"operators", "報告事業者数", "Operators", true},
        {"reports", "報告件数", "Reports", true},
        {"operators_prev", "前年度事業者数", "Operators (prev.)", true},
        {"reports_prev", "前年度件数", "Reports (prev.)", true},
    };
    add_cols(t, cols, sizeof cols / sizeof cols[0], ja);
    static const char *const codes[REPORT_TYPES] = {"serious", "quarterly_detailed",
                                                    "quarterly_simple"};
    for (int i = 0; i < REPORT_TYPES; i++) {
        if (i == REPORT_DETAILED) { /* the parent row of the two forms, blank as published */
            rtable_row(t);
            cell_label(t, "quarterly", ja);
            for (int k = 0; k < 4; k++)
                rtable_cell(t, "", NULL);
        }
        rtable_row(t);
        cell_label(t, codes[i], ja);
        cell_count(t, y->cur.operators[i]);
        cell_count(t, y->cur.reports[i]);
        cell_count(t, y->prev.operators[i]);
        cell_count(t, y->prev.reports[i]);
    }
    if (ja) {
        rtable_note(t, "※1 卸役務に関する重大な事故は、卸提供元事業者及び卸提供先事業者の両方を報告事業者数に含め、事故は1件として数える（%ld件の報告）。",
                    y->cur.serious_records);
        rtable_note(t, "※2 詳細な様式による報告件数は、卸提供元事業者及び卸提供先事業者の両方からの報告を含み、重大な事故の報告を含む。");
    } else {
        rtable_note(t, "*1 A serious accident on wholesale services counts once, while both the providing and the receiving operators count as reporting operators (%ld reports).",
                    y->cur.serious_records);
        rtable_note(t, "*2 Detailed-form reports count the reports of both the providing and the receiving operators, and include the serious accidents.");
    }
    published_notes(t, y, "overview", ja);
    if (y->cur.open_excluded)
        rtable_note(t, ja ? "継続中の事故 %ld件は集計に含まない。" : "%ld ongoing incidents are not counted.",
                    y->cur.open_excluded);
}

/* Row and column totals of the duration x users matrix, and the whole. */
typedef struct matrix_totals {
    long row[REPORT_DURATIONS], col[REPORT_USERS], all;
} matrix_totals;

static matrix_totals totals_of(const report_counts *c)
{
    matrix_totals m = {{0}, {0}, 0};
    for (int r = 0; r < REPORT_DURATIONS; r++)
        for (int k = 0; k < REPORT_USERS; k++) {
            m.row[r] += c->matrix[r][k];
            m.col[k] += c->matrix[r][k];
            m.all += c->matrix[r][k];
        }
    return m;
}

/* The headline figures of §3(1), in the release's order. */
static const char *const headline_codes[4] = {"total", "users_lt_500", "users_ge_30k",
                                              "duration_ge_2h"};

static void headline_of(const report_counts *c, long v[4])
{
    matrix_totals m = totals_of(c);
    v[0] = m.all;
    v[1] = m.col[0];
    v[2] = v[3] = 0;
    for (int k = 0; k < REPORT_USERS; k++)
        if (report_users_lo[k] >= 30000)
            v[2] += m.col[k];
    for (int r = 0; r < REPORT_DURATIONS; r++)
        if (report_duration_lo_ms[r] >= 2 * JST_MS_PER_HOUR)
            v[3] += m.row[r];
}

/* Causes in the release's order: 設備要因, 外的要因, 人為要因, その他. */
static const incident_cause cause_order[4] = {INCIDENT_CAUSE_EQUIPMENT, INCIDENT_CAUSE_EXTERNAL,
                                              INCIDENT_CAUSE_HUMAN, INCIDENT_CAUSE_OTHER};

/* Accidents whose primary cause is k; those without a cause are "other",
 * which the release defines to include 原因不明. */
static long cause_count(const report_counts *c, incident_cause k)
{
    return c->cause[k] + (k == INCIDENT_CAUSE_OTHER ? c->cause_unknown : 0);
}

/* The matrix cell of a serious accident (for its <n> marker); false when its
 * users are counted in operators (JSAT's 9社), which no column holds. */
static bool serious_cell(const report_accident *a, int *row, int *col)
{
    if (a->users_are_operators)
        return false;
    *row = report_duration_row(a->ended_ms - a->started_ms);
    *col = report_users_col(a->users);
    return true;
}

/* A matrix count as the release shows it: the category's marker where a
 * threshold begins (※5 4) and the numbers of the serious accidents of
 * 2(1) in that cell (7 <2><3>).  The raw value stays the plain count. */
static void cell_marked(rtable *t, const report_year *y, int r, int k)
{
    const report_counts *c = &y->cur;
    char disp[160], d[32];
    const char *mark = report_published_mark(&y->pub, r, k);
    size_t o = (size_t)snprintf(disp, sizeof disp, "%s%s%s", mark ? mark : "", mark ? " " : "",
                                report_group_digits(c->matrix[r][k], d, sizeof d));
    for (int i = 0; i < c->n_accidents && o < sizeof disp; i++) {
        int ar, ak;
        if (serious_cell(&c->accidents[i], &ar, &ak) && ar == r && ak == k)
            o += (size_t)snprintf(disp + o, sizeof disp - o, "%s<%d>",
                                  o && disp[o - 1] == '>' ? "" : " ", i + 1);
    }
    rtable_cellf(t, disp, "%ld", c->matrix[r][k]);
}

static void build_matrix(rtable *t, const report_year *y, bool ja)
{
    const report_counts *c = &y->cur;
    rtable_init(t, "matrix", ja ? "3(1) 影響利用者数及び継続時間（詳細な様式による報告、件）"
                                : "3(1) Detailed-form reports by duration and affected users");
    rtable_col(t, "duration", ja ? "継続時間＼影響利用者数" : "Duration \\ users", false);
    for (int k = 0; k < REPORT_USERS; k++)
        rtable_col(t, report_users_codes[k], report_label(report_users_codes[k], ja), true);
    rtable_col(t, "total", report_label("total", ja), true);
    rtable_col(t, "total_pct", report_label("total_pct", ja), true);
    matrix_totals m = totals_of(c);
    for (int r = 0; r < REPORT_DURATIONS; r++) {
        rtable_row(t);
        cell_label(t, report_duration_codes[r], ja);
        for (int k = 0; k < REPORT_USERS; k++) {
            if (report_cell_outside_duty(r, k))
                rtable_cell(t, "na", report_label("na", ja));
            else
                cell_marked(t, y, r, k);
        }
        cell_count(t, m.row[r]);
        cell_pct(t, report_pct(m.row[r], m.all, 1), 1);
    }
    rtable_row(t);
    cell_label(t, "total", ja);
    for (int k = 0; k < REPORT_USERS; k++)
        cell_count(t, m.col[k]);
    cell_count(t, m.all);
    cell_pct(t, m.all ? 1000 : -1, 1);
    rtable_row(t);
    cell_label(t, "share_pct", ja);
    for (int k = 0; k < REPORT_USERS; k++)
        cell_pct(t, report_pct(m.col[k], m.all, 1), 1);
    cell_pct(t, m.all ? 1000 : -1, 1);
    rtable_cell(t, "", NULL);
    rtable_note(t, ja ? "「対象外」＝四半期報告対象外（継続時間2時間未満かつ影響利用者数3万未満）。"
                      : "n/a: outside the quarterly reporting duty (under 2 hours and under 30,000 users).");
    if (c->unplaced)
        rtable_note(t, ja ? "対象外の区分に当たる報告 %ld件（情報漏えい等）は表に含まない。"
                          : "%ld reports fall in an n/a cell (e.g. information leaks) and are not in the table.",
                    c->unplaced);
    published_notes(t, y, "matrix", ja);
    for (int i = 0; i < c->n_accidents; i++) {
        int r, k;
        if (!serious_cell(&c->accidents[i], &r, &k))
            rtable_note(t, ja ? "<%d> は影響利用者数が事業者数で示されるため、表中に示さない。"
                              : "<%d> is not marked: its users are counted in operators.",
                        i + 1);
    }
}

static void build_headline(rtable *t, const report_year *y, bool ja)
{
    rtable_init(t, "headline", ja ? "3(1) 主な数値（前年度比）" : "3(1) Headline figures (year on year)");
    rtable_col(t, "figure", ja ? "項目" : "Figure", false);
    rtable_col(t, "value", ja ? "件数" : "Count", true);
    rtable_col(t, "prev", ja ? "前年度" : "Previous year", true);
    rtable_col(t, "change", ja ? "増減" : "Change", true);
    rtable_col(t, "share_pct", ja ? "割合" : "Share", true);
    rtable_col(t, "delta_pt", ja ? "前年度比（ポイント）" : "Change (points)", true);
    long a[4], b[4];
    headline_of(&y->cur, a);
    headline_of(&y->prev, b);
    /* the release's sentences name these figures so */
    static const char *const ja_names[4] = {"総件数", "影響利用者数500人未満", "影響利用者数3万人以上",
                                            "継続時間2時間以上"};
    static const char *const en_names[4] = {"Total", "Under 500 users", "30,000 users or more",
                                            "2 hours or longer"};
    for (int i = 0; i < 4; i++) {
        rtable_row(t);
        rtable_cell(t, headline_codes[i], ja ? ja_names[i] : en_names[i]);
        cell_count(t, a[i]);
        cell_count(t, b[i]);
        char d[32];
        snprintf(d, sizeof d, "%+ld", a[i] - b[i]);
        rtable_cellf(t, d, "%ld", a[i] - b[i]);
        cell_pct(t, report_pct(a[i], a[0], 0), 0);
        cell_delta(t, a[i], a[0], b[i], b[0]);
    }
}

/* Columns and rows of a table of groups and their subgroups: first the
 * groups (share of the whole), then the subgroups (share within their
 * group); the "other" group is not split, as in the release. */
static void group_table(rtable *t, const char *group_col, bool with_all, const report_group *g,
                        const report_group *pg, int n, long total, long total_prev, bool ja)
{
    rtable_col(t, "group", group_col, false);
    rtable_col(t, "subgroup", ja ? "内訳" : "Within", false);
    rtable_col(t, "count", ja ? "件数" : "Count", true);
    rtable_col(t, "share_pct", ja ? "割合" : "Share", true);
    rtable_col(t, "delta_pt", ja ? "前年度比（ポイント）" : "Change (points)", true);
    if (with_all) { /* the whole first, as the release's 12,239 services */
        rtable_row(t);
        cell_label(t, "all", ja);
        rtable_cell(t, "", NULL);
        cell_count(t, total);
        cell_pct(t, total ? 100 : -1, 0);
        rtable_cell(t, "", NULL);
    }
    for (int i = 0; i < n; i++) {
        rtable_row(t);
        cell_label(t, g[i].name, ja);
        rtable_cell(t, "", NULL);
        cell_count(t, g[i].count);
        cell_pct(t, report_pct(g[i].count, total, 0), 0);
        cell_delta(t, g[i].count, total, pg[i].count, total_prev);
    }
    for (int i = 0; i < n; i++) {
        if (strcmp(g[i].name, "other") == 0)
            continue;
        for (int k = 0; k < g[i].n_sub; k++) {
            rtable_row(t);
            cell_label(t, g[i].name, ja);
            cell_label(t, g[i].sub[k], ja);
            cell_count(t, g[i].sub_count[k]);
            cell_pct(t, report_pct(g[i].sub_count[k], g[i].count, 0), 0);
            cell_delta(t, g[i].sub_count[k], g[i].count, pg[i].sub_count[k], pg[i].count);
        }
    }
}

static void build_services(rtable *t, const report_year *y, bool ja)
{
    char title[200], n[32];
    report_group_digits(y->cur.services_total, n, sizeof n);
    snprintf(title, sizeof title,
             ja ? "3(2) サービス別の内訳（停止又は品質低下したサービスの延べ件数 %s件）"
                : "3(2) Services stopped or degraded (%s, once per service per accident)",
             n);
    rtable_init(t, "services", title);
    group_table(t, ja ? "区分" : "Group", true, y->cur.service_groups, y->prev.service_groups,
                y->cur.n_service_groups, y->cur.services_total, y->prev.services_total, ja);
    rtable_note(t, ja ? "1件の事故で複数のサービスが停止又は品質低下した場合は、それぞれを数える。"
                      : "An accident that hit several services counts once for each of them.");
    published_notes(t, y, "services", ja);
}

static void build_causes(rtable *t, const report_year *y, bool ja)
{
    rtable_init(t, "causes", ja ? "3(3) 事故発生要因別の内訳（主たる発生要因）"
                                : "3(3) Primary cause of each accident");
    rtable_col(t, "cause", ja ? "発生要因" : "Cause", false);
    rtable_col(t, "count", ja ? "件数" : "Count", true);
    rtable_col(t, "share_pct", ja ? "割合" : "Share", true);
    rtable_col(t, "delta_pt", ja ? "前年度比（ポイント）" : "Change (points)", true);
    for (int i = 0; i < 4; i++) {
        long n = cause_count(&y->cur, cause_order[i]), np = cause_count(&y->prev, cause_order[i]);
        rtable_row(t);
        cell_label(t, incident_cause_name(cause_order[i]), ja);
        cell_count(t, n);
        cell_pct(t, report_pct(n, y->cur.detailed, 0), 0);
        cell_delta(t, n, y->cur.detailed, np, y->prev.detailed);
    }
    if (y->cur.cause_unknown)
        rtable_note(t, ja ? "発生要因の記載がない %ld件は「その他」（原因不明等）に含む。"
                          : "%ld accidents without a cause are counted as other (unknown).",
                    y->cur.cause_unknown);
    published_notes(t, y, "causes", ja);
}

static void build_equipment(rtable *t, const report_year *y, bool ja)
{
    char title[200], n[32], u[32];
    report_group_digits(y->cur.equipment_known, n, sizeof n);
    report_group_digits(y->cur.detailed - y->cur.equipment_known, u, sizeof u);
    snprintf(title, sizeof title,
             ja ? "3(4) 故障設備別の内訳（故障設備が明確な事故 %s件）"
                : "3(4) Failed equipment (over the %s accidents whose equipment is known)",
             n);
    rtable_init(t, "equipment", title);
    group_table(t, ja ? "故障設備" : "Equipment", false, y->cur.equipment_groups,
                y->prev.equipment_groups, y->cur.n_equipment_groups, y->cur.equipment_known,
                y->prev.equipment_known, ja);
    rtable_note(t, ja ? "故障設備が不明な事故（他の電気通信事業者の事故による要因等）%s件を除く。"
                      : "Leaves out %s accidents whose failed equipment is unknown (e.g. caused by another operator's accident).",
                u);
    /* The release's own figures, quoted beside the recount: FY2021's
     * "2,636件を除く" and 3,975 do not add up to 6,709 (docs/reports.md). */
    const report_pub_year *p = report_published_year(&y->pub, y->cur.fy);
    if (p && p->equipment_unknown >= 0 && p->equipment_known >= 0) {
        char all[32], pu[32], pk[32], sum[32];
        report_group_digits(y->cur.detailed, all, sizeof all);
        report_group_digits(p->equipment_unknown, pu, sizeof pu);
        report_group_digits(p->equipment_known, pk, sizeof pk);
        report_group_digits(p->equipment_unknown + p->equipment_known, sum, sizeof sum);
        if (ja)
            rtable_note(t, "公表値：事故の総件数から、発生原因が「他の電気通信事業者の事故による要因」等のため故障設備が不明な事故（%s件）を除いた、故障設備が明確な事故件数（%s件）。"
                           "jiko の再集計：総件数%s件のうち故障設備が明確な事故%s件、不明な事故%s件（公表値の%s件と%s件の和は%s件）。",
                        pu, pk, all, n, u, pu, pk, sum);
        else
            rtable_note(t, "As published: the accidents whose failed equipment is known (%s) are all accidents less those whose equipment is unknown, e.g. caused by another operator's accident (%s). "
                           "jiko's recount: of %s accidents, %s with known and %s with unknown equipment (the published %s and %s add up to %s).",
                        pk, pu, all, n, u, pu, pk, sum);
    }
    published_notes(t, y, "equipment", ja);
}

static void format_duration(int64_t ms, bool ja, char *buf, size_t size)
{
    long min = (long)(ms / 60000);
    if (ja)
        snprintf(buf, size, "%ld時間%ld分", min / 60, min % 60);
    else
        snprintf(buf, size, "%ld h %ld min", min / 60, min % 60);
}

/* The clause of a serious category id under a rulebook, or NULL. */
static const rules_clause *category_clause(const rules_set *rules, const char *book, const char *id)
{
    const rulebook *b = rules && book ? rules_find(rules, book) : NULL;
    for (size_t i = 0; b && i < b->n_clauses; i++) {
        const rules_clause *cl = &b->clauses[i];
        if ((cl->kind == RULES_SERIOUS || cl->kind == RULES_CRITICAL) && strcmp(cl->id, id) == 0)
            return cl;
    }
    return NULL;
}

/* The categories of a serious accident as its rulebook words them
 * (五：一から四までに掲げる…; "5 other services" in English);
 * without the rulebook, by number ("1,5" -> "一、五", critical -> 重要設備,
 * all -> 全役務) in Japanese and as the ids in English. */
static const char *categories_text(const report_accident *a, const rules_set *rules, bool ja,
                                   char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (const char *p = a->categories; p && *p && o < size;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char id[32], named[512];
        snprintf(id, sizeof id, "%.*s", (int)(n < 31 ? n : 31), p);
        const rules_clause *cl = category_clause(rules, a->rulebook, id);
        const char *label = cl                            ? report_category_text(cl, ja, false, named, sizeof named)
                          : !ja                           ? id
                          : strcmp(id, "critical") == 0   ? "重要設備"
                          : strcmp(id, "all") == 0        ? "全役務"
                                                          : report_category_kanji(id);
        const char *sep = !o ? "" : cl ? (ja ? " ／ " : "; ") : ja ? "、" : ",";
        int k = snprintf(buf + o, size - o, "%s%s", sep, label);
        if (k < 0)
            break;
        o += (size_t)k;
        p = e ? e + 1 : p + n;
    }
    return buf;
}

static void build_serious(rtable *t, const report_counts *c, const rules_set *rules, bool ja)
{
    rtable_init(t, "serious", ja ? "2(1) 重大な事故の一覧" : "2(1) Serious accidents");
    rtable_col(t, "no", "No", true);
    rtable_col(t, "operators", ja ? "事業者名" : "Operators", false);
    rtable_col(t, "started_at", ja ? "発生日時" : "Started", false);
    rtable_col(t, "duration", ja ? "継続時間" : "Duration", false);
    rtable_col(t, "users", ja ? "影響利用者数" : "Users", true);
    rtable_col(t, "categories", ja ? "重大な事故に該当する電気通信役務の区分" : "Category", false);
    rtable_col(t, "summary", ja ? "主な障害内容" : "What happened", false);
    for (int i = 0; i < c->n_accidents; i++) {
        const report_accident *a = &c->accidents[i];
        rtable_row(t);
        rtable_cellf(t, NULL, "%d", i + 1);
        char ops[1024] = "";
        size_t o = 0;
        for (int k = 0; k < a->n_ops && o < sizeof ops; k++)
            if (a->ids[k])
                o += (size_t)snprintf(ops + o, sizeof ops - o, "%s%s", o ? " / " : "", a->ops[k]);
        rtable_cell(t, ops, NULL);
        char when[JST_WAREKI_MAX];
        rtable_cell(t, ja ? jst_format_wareki(a->started_ms, when, sizeof when)
                          : jst_format(a->started_ms, when, sizeof when), NULL);
        char d[64], raw[32];
        format_duration(a->ended_ms - a->started_ms, ja, d, sizeof d);
        snprintf(raw, sizeof raw, "%lld", (long long)((a->ended_ms - a->started_ms) / 60000));
        rtable_cell(t, raw, d);
        /* the raw cell keeps the number; the shown text is as reported
         * (最大約50万人, 100万人以上, 9社) */
        char users_raw[32], users_txt[96];
        snprintf(users_raw, sizeof users_raw, "%lld", (long long)a->users);
        rtable_cell(t, users_raw,
                    incident_users_format(a->users, (incident_users_qualifier)a->users_qualifier,
                                          a->users_are_operators, ja, users_txt, sizeof users_txt));
        char cats[1024];
        rtable_cell(t, a->categories ? a->categories : "",
                    categories_text(a, rules, ja, cats, sizeof cats));
        const char *summary = !ja && a->summary_en ? a->summary_en : a->summary;
        rtable_cell(t, summary ? summary : "", NULL);
    }
    if (rules) /* the names come from the rulebook each record was classified under */
        rtable_note(t, ja ? "継続時間の生の値は分。区分は電気通信事業法施行規則第58条の区分で、事故発生時の規則の号番号と文言による。"
                          : "Raw durations are in minutes. Categories are the items of 電気通信事業法施行規則 "
                            "Art. 58 as numbered and worded when the accident occurred.");
    else
        rtable_note(t, ja ? "継続時間の生の値は分。区分は電気通信事業法施行規則第58条の区分（発生時の規則の号番号）。"
                            "「重要設備」は衛星、海底ケーブルその他これに準ずる重要な電気通信設備の故障、"
                            "「全役務」は役務区分の導入前（平成26年度まで）の基準。"
                          : "Raw durations are in minutes. Categories are the items of 電気通信事業法施行規則 "
                            "Art. 58 as numbered when the accident occurred; critical = failure of a "
                            "satellite, submarine cable or comparable facility; all = the single line "
                            "before service categories (to FY2014).");
}

/* The first year of the chart: 注5, degraded quality counts from FY2008. */
enum { REPORT_HISTORY_FIRST_FY = 2008 };

static int history_first(const report_year *y)
{
    return y->prev.fy < REPORT_HISTORY_FIRST_FY ? y->prev.fy : REPORT_HISTORY_FIRST_FY;
}

/* The registry's count of serious accidents for a year it was asked for
 * (the report's year and the one before), else -1. */
static long registry_serious(const report_year *y, int fy)
{
    return fy == y->cur.fy ? y->cur.reports[REPORT_SERIOUS]
         : fy == y->prev.fy ? y->prev.reports[REPORT_SERIOUS]
                            : -1;
}

static void cell_count_or_blank(rtable *t, long v)
{
    if (v < 0)
        rtable_cell(t, "", NULL);
    else
        cell_count(t, v);
}

static void build_serious_by_year(rtable *t, const report_year *y, bool ja)
{
    char title[200], a[JST_WAREKI_MAX], b[JST_WAREKI_MAX];
    int first = history_first(y);
    if (ja)
        snprintf(title, sizeof title, "2 重大な事故の発生件数の推移（%s〜%s、件）",
                 jst_format_wareki_fy(first, a, sizeof a),
                 jst_format_wareki_fy(y->cur.fy, b, sizeof b));
    else
        snprintf(title, sizeof title, "2 Serious accidents by fiscal year (FY%d-FY%d)", first,
                 y->cur.fy);
    rtable_init(t, "serious_by_year", title);
    static const col_spec cols[] = {
        {"fiscal_year", "年度", "Fiscal year", false},
        {"published", "報告件数（公表値）", "Reports (published)", true},
        {"published_operators", "報告事業者数（公表値）", "Operators (published)", true},
        {"registry", "報告件数（登録簿）", "Reports (registry)", true},
        {"source", "出典", "Source", false},
    };
    add_cols(t, cols, sizeof cols / sizeof cols[0], ja);
    for (int fy = first; fy <= y->cur.fy; fy++) {
        const report_pub_year *p = report_published_year(&y->pub, fy);
        char raw[16], disp[JST_WAREKI_MAX];
        snprintf(raw, sizeof raw, "%d", fy);
        rtable_row(t);
        rtable_cell(t, raw, ja ? jst_format_wareki_fy(fy, disp, sizeof disp) : NULL);
        cell_count_or_blank(t, p ? p->serious : -1);
        cell_count_or_blank(t, p ? p->serious_operators : -1);
        cell_count_or_blank(t, registry_serious(y, fy));
        rtable_cell(t, p ? p->source : "", NULL);
    }
    rtable_note(t, ja ? "公表値の見つからない年度は空欄（推計しない）。登録簿の欄は本報告の年度と前年度のみ。"
                      : "Blank where no published figure was found (never estimated); the registry column covers the report's year and the one before.");
    for (int fy = y->prev.fy; fy <= y->cur.fy; fy++) {
        const report_pub_year *p = report_published_year(&y->pub, fy);
        long mine = registry_serious(y, fy);
        char l[JST_WAREKI_MAX];
        if (!p || p->serious < 0 || mine == p->serious)
            continue;
        if (ja)
            rtable_note(t, "%sは登録簿の%ld件が公表値の%ld件と異なる。",
                        jst_format_wareki_fy(fy, l, sizeof l), mine, p->serious);
        else
            rtable_note(t, "FY%d: the registry holds %ld, the release states %ld.", fy, mine,
                        p->serious);
    }
    published_notes(t, y, "serious_by_year", ja);
}

static void build_serious_services(rtable *t, const report_year *y, bool ja)
{
    const report_counts *c = &y->cur, *p = &y->prev;
    rtable_init(t, "serious_services", ja ? "2(2) 重大な事故のサービス別の内訳（件）"
                                          : "2(2) Serious accidents by service");
    group_table(t, ja ? "区分" : "Group", true, c->serious_groups, p->serious_groups,
                c->n_serious_groups, c->reports[REPORT_SERIOUS], p->reports[REPORT_SERIOUS], ja);
    rtable_note(t, ja ? "重大な事故1件が複数の区分のサービスに及ぶ場合は、それぞれの区分に1件として数える（割合は重大な事故の件数に対するもの）。区分は3(2)と同じ。"
                      : "A serious accident that hit services of several groups counts once in each (shares are of the serious accidents); the groups are those of 3(2).");
}

static void build(rtable *t, const char *id, const report_year *y, bool ja)
{
    if (strcmp(id, "overview") == 0)
        build_overview(t, y, ja);
    else if (strcmp(id, "serious_by_year") == 0)
        build_serious_by_year(t, y, ja);
    else if (strcmp(id, "serious_services") == 0)
        build_serious_services(t, y, ja);
    else if (strcmp(id, "matrix") == 0)
        build_matrix(t, y, ja);
    else if (strcmp(id, "headline") == 0)
        build_headline(t, y, ja);
    else if (strcmp(id, "services") == 0)
        build_services(t, y, ja);
    else if (strcmp(id, "causes") == 0)
        build_causes(t, y, ja);
    else if (strcmp(id, "equipment") == 0)
        build_equipment(t, y, ja);
    else
        build_serious(t, &y->cur, y->rules, ja);
}

/* ---- HTML charts (inline SVG: no network, prints as vectors) ---- */

typedef struct bar {
    const char *label;
    long pct, prev_pct; /* -1 = none */
} bar;

/* "令和3年度" or "FY2021" */
static const char *fy_label(int fy, bool ja, char *buf, size_t size)
{
    if (ja)
        return jst_format_wareki_fy(fy, buf, size);
    snprintf(buf, size, "FY%d", fy);
    return buf;
}

static void svg_bars(FILE *out, const char *title, const bar *b, int n, int fy, bool ja)
{
    char l1[JST_WAREKI_MAX], l0[JST_WAREKI_MAX];
    /* room for the longest label: about 7 px per column at 12 px type
     * (a CJK character takes two columns) */
    size_t widest = 0;
    for (int i = 0; i < n; i++)
        if (utf8_width(b[i].label) > widest)
            widest = utf8_width(b[i].label);
    const int row_h = 34, label_w = 16 + 7 * (int)widest, plot_w = 380, h = 30 + n * row_h + 24;
    fprintf(out, "<figure><svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
            label_w + plot_w + 60, h);
    report_html_escape(out, title);
    fputs("\">\n", out);
    for (int i = 0; i < n; i++) {
        int y = 30 + i * row_h;
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" class=\"lbl\">", label_w - 8,
                y + 13);
        report_html_escape(out, b[i].label);
        fputs("</text>\n", out);
        long w = b[i].pct < 0 ? 0 : b[i].pct * plot_w / 100;
        fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%ld\" height=\"14\" class=\"cur\"/>"
                     "<text x=\"%ld\" y=\"%d\" class=\"val\">%ld%%</text>\n",
                label_w, y + 2, w, label_w + w + 4, y + 13, b[i].pct < 0 ? 0 : b[i].pct);
        if (b[i].prev_pct >= 0) {
            long pw = b[i].prev_pct * plot_w / 100;
            fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%ld\" height=\"8\" class=\"prev\"/>\n",
                    label_w, y + 18, pw);
        }
    }
    fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"10\" class=\"cur\"/>"
                 "<text x=\"%d\" y=\"%d\" class=\"val\">%s</text>"
                 "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"6\" class=\"prev\"/>"
                 "<text x=\"%d\" y=\"%d\" class=\"val\">%s</text>\n",
            label_w, 8, label_w + 16, 17, fy_label(fy, ja, l1, sizeof l1), label_w + 100, 10,
            label_w + 116, 17, fy_label(fy - 1, ja, l0, sizeof l0));
    fputs("</svg><figcaption>", out);
    report_html_escape(out, title);
    fputs("</figcaption></figure>\n", out);
}

/* The release's chart of serious accidents by year: one column per fiscal
 * year, the published figure (the registry's where none is published); a
 * year with neither has no column but keeps its label. */
static void svg_by_year(FILE *out, const report_year *y, bool ja)
{
    int first = history_first(y), n = y->cur.fy - first + 1;
    long top = 1;
    for (int fy = first; fy <= y->cur.fy; fy++) {
        const report_pub_year *p = report_published_year(&y->pub, fy);
        long v = p && p->serious >= 0 ? p->serious : registry_serious(y, fy);
        if (v > top)
            top = v;
    }
    const int col_w = 34, plot_h = 160, left = 60, w = left + 10 + n * col_w, h = plot_h + 100;
    const char *title = ja ? "重大な事故の発生件数の推移" : "Serious accidents by fiscal year";
    fprintf(out, "<figure><svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", w, h);
    report_html_escape(out, title);
    fputs("\">\n", out);
    for (int i = 0; i < n; i++) {
        int fy = first + i, x = left + i * col_w;
        const report_pub_year *p = report_published_year(&y->pub, fy);
        long v = p && p->serious >= 0 ? p->serious : registry_serious(y, fy);
        char l[JST_WAREKI_MAX];
        if (v >= 0) {
            long bh = v * plot_h / top;
            fprintf(out, "<rect x=\"%d\" y=\"%ld\" width=\"%d\" height=\"%ld\" class=\"cur\"/>"
                         "<text x=\"%d\" y=\"%ld\" text-anchor=\"middle\" class=\"val\">%ld</text>\n",
                    x, 20 + plot_h - bh, col_w - 8, bh, x + (col_w - 8) / 2, 16 + plot_h - bh, v);
        } else { /* no figure: a dash on the axis, not a zero */
            fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"val\">–</text>\n",
                    x + (col_w - 8) / 2, 16 + plot_h);
        }
        /* labels slanted: 平成20年度 is wider than a column */
        int lx = x + (col_w - 8) / 2, ly = plot_h + 32;
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" transform=\"rotate(-40 %d %d)\" "
                     "class=\"lbl\">", lx, ly, lx, ly);
        if (ja)
            report_html_escape(out, jst_format_wareki_fy(fy, l, sizeof l));
        else
            fprintf(out, "%d", fy);
        fputs("</text>\n", out);
    }
    fputs("</svg><figcaption>", out);
    report_html_escape(out, title);
    fputs("</figcaption></figure>\n", out);
}

static void chart_for(FILE *out, const char *id, const report_year *y, bool ja)
{
    if (strcmp(id, "serious_by_year") == 0) {
        svg_by_year(out, y, ja);
        return;
    }
    const report_counts *c = &y->cur, *p = &y->prev;
    bar b[REPORT_GROUPS_MAX * REPORT_SUBGROUPS_MAX];
    int n = 0;
    if (strcmp(id, "services") == 0) {
        for (int g = 0; g < c->n_service_groups; g++)
            b[n++] = (bar){report_label(c->service_groups[g].name, ja),
                           report_pct(c->service_groups[g].count, c->services_total, 0),
                           report_pct(p->service_groups[g].count, p->services_total, 0)};
        svg_bars(out, ja ? "サービス別の事故件数の割合" : "Share of services hit", b, n, c->fy, ja);
    } else if (strcmp(id, "serious_services") == 0) {
        for (int g = 0; g < c->n_serious_groups; g++)
            b[n++] = (bar){report_label(c->serious_groups[g].name, ja),
                           report_pct(c->serious_groups[g].count, c->reports[REPORT_SERIOUS], 0),
                           report_pct(p->serious_groups[g].count, p->reports[REPORT_SERIOUS], 0)};
        svg_bars(out, ja ? "重大な事故のサービス別の割合" : "Serious accidents by service", b, n, c->fy, ja);
    } else if (strcmp(id, "causes") == 0) {
        for (int i = 0; i < 4; i++)
            b[n++] = (bar){report_label(incident_cause_name(cause_order[i]), ja),
                           report_pct(cause_count(c, cause_order[i]), c->detailed, 0),
                           report_pct(cause_count(p, cause_order[i]), p->detailed, 0)};
        svg_bars(out, ja ? "事故発生要因別の割合" : "Share by primary cause", b, n, c->fy, ja);
    } else if (strcmp(id, "equipment") == 0) {
        for (int g = 0; g < c->n_equipment_groups; g++)
            b[n++] = (bar){report_label(c->equipment_groups[g].name, ja),
                           report_pct(c->equipment_groups[g].count, c->equipment_known, 0),
                           report_pct(p->equipment_groups[g].count, p->equipment_known, 0)};
        svg_bars(out, ja ? "故障設備別の割合" : "Share by failed equipment", b, n, c->fy, ja);
    }
}

static const char html_style[] =
    "body{font-family:'Noto Sans CJK JP','Hiragino Sans',sans-serif;margin:2em;color:#222;max-width:60em}"
    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #999}"
    "table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #999;padding:.2em .5em;font-size:.9em}"
    "th{background:#eef}td.n,th.n{text-align:right}td.na{background:#ddd;color:#666;text-align:center}"
    "p.note{font-size:.85em;color:#444;margin:.2em 0}"
    "svg.chart{width:100%;max-width:42em;height:auto}.cur{fill:#3366aa}.prev{fill:#aab8cc}"
    ".lbl,.val{font-size:12px;fill:#222}figure{margin:1em 0}figcaption{font-size:.85em;color:#444}"
    "@media print{body{margin:0}h2{break-after:avoid}table,figure{break-inside:avoid}}";

static void write_html(FILE *out, const report_year *y, bool ja, rtable *tables, int n)
{
    fprintf(out, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">\n<title>",
            ja ? "ja" : "en");
    char title[200];
    char fyt[JST_WAREKI_MAX];
    if (ja)
        snprintf(title, sizeof title, "電気通信サービスの事故発生状況（%s）",
                 jst_format_wareki_fy(y->cur.fy, fyt, sizeof fyt));
    else
        snprintf(title, sizeof title, "Telecom service accidents, FY%d", y->cur.fy);
    report_html_escape(out, title);
    fprintf(out, "</title>\n<style>%s</style></head>\n<body>\n<h1>", html_style);
    report_html_escape(out, title);
    fputs("</h1>\n", out);
    for (int i = 0; i < n; i++) {
        fprintf(out, "<section id=\"%s\">\n<h2>", tables[i].id);
        report_html_escape(out, tables[i].title);
        fputs("</h2>\n", out);
        chart_for(out, tables[i].id, y, ja);
        rtable_write_html(out, &tables[i]);
        fputs("</section>\n", out);
    }
    fprintf(out, "<footer><p class=\"note\">%s</p></footer>\n</body></html>\n",
            ja ? "jiko report により登録簿から作成。割合は四捨五入、前年度比は公表値（四捨五入後）の差。"
               : "Made by jiko report from the registry. Shares are rounded half up; changes are "
                 "differences of the rounded shares, as published.");
}

int report_render(FILE *out, const report_year *y, report_format fmt, bool ja, const char *only,
                  jiko_error *err)
{
    if (only && !report_table_known(only)) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "table",
                  "unknown table '%s'; expected overview, serious_by_year, serious, "
                  "serious_services, headline, matrix, services, causes or equipment", only);
        return -1;
    }
    if (fmt == REPORT_JSON) {
        json_t *j = report_to_json(y);
        if (!j) {
            error_set(err, JIKO_ERR_NOMEM, NULL, 0, NULL, "out of memory");
            return -1;
        }
        /* each table id is also a member of the whole report */
        json_dumpf(only ? json_object_get(j, only) : j, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', out);
        json_decref(j);
        return 0;
    }
    rtable tables[REPORT_N_TABLES];
    int n = 0, rc = 0;
    for (int i = 0; i < REPORT_N_TABLES; i++)
        if (!only || strcmp(only, report_table_ids[i]) == 0)
            build(&tables[n++], report_table_ids[i], y, ja);
    for (int i = 0; i < n; i++)
        if (tables[i].failed) {
            error_set(err, JIKO_ERR_NOMEM, NULL, 0, NULL, "out of memory while building the report");
            rc = -1;
        }
    if (!rc) {
        if (fmt == REPORT_HTML)
            write_html(out, y, ja, tables, n);
        for (int i = 0; fmt != REPORT_HTML && i < n; i++) {
            if (fmt == REPORT_TEXT)
                rtable_write_text(out, &tables[i]);
            else if (fmt == REPORT_MD)
                rtable_write_md(out, &tables[i]);
            else {
                if (i)
                    fputc('\n', out);
                rtable_write_csv(out, &tables[i], n > 1);
            }
        }
    }
    for (int i = 0; i < n; i++)
        rtable_free(&tables[i]);
    return rc;
}

/* ---- JSON ---- */

static json_t *jpct(long p, int decimals)
{
    if (p < 0)
        return json_null();
    return decimals ? json_real((double)p / 10.0) : json_integer(p);
}

/* A count, or null where there is none (-1). */
static json_t *jcount(long v)
{
    return v < 0 ? json_null() : json_integer(v);
}

static json_t *jdelta(long n, long d, long np, long dp)
{
    bool known;
    long v = report_delta_pt(n, d, np, dp, &known);
    return known ? json_integer(v) : json_null();
}

static json_t *share_row(const char *k1, const char *v1, const char *k2, const char *v2, long n,
                         long d, long np, long dp)
{
    json_t *o = json_object();
    json_object_set_new(o, k1, json_string(v1));
    if (k2)
        json_object_set_new(o, k2, v2 ? json_string(v2) : json_null());
    json_object_set_new(o, "count", json_integer(n));
    json_object_set_new(o, "share_pct", jpct(report_pct(n, d, 0), 0));
    json_object_set_new(o, "count_prev", json_integer(np));
    json_object_set_new(o, "share_prev_pct", jpct(report_pct(np, dp, 0), 0));
    json_object_set_new(o, "delta_pt", jdelta(n, d, np, dp));
    return o;
}

static json_t *groups_json(const report_group *g, int ng, const report_group *pg, long total,
                           long total_prev, bool skip_other_subs)
{
    json_t *arr = json_array();
    for (int i = 0; i < ng; i++)
        json_array_append_new(arr, share_row("group", g[i].name, "subgroup", NULL, g[i].count,
                                             total, pg[i].count, total_prev));
    for (int i = 0; i < ng; i++) {
        if (skip_other_subs && strcmp(g[i].name, "other") == 0)
            continue;
        for (int s = 0; s < g[i].n_sub; s++)
            json_array_append_new(arr, share_row("group", g[i].name, "subgroup", g[i].sub[s],
                                                 g[i].sub_count[s], g[i].count,
                                                 pg[i].sub_count[s], pg[i].count));
    }
    return arr;
}

json_t *report_to_json(const report_year *y)
{
    const report_counts *c = &y->cur, *p = &y->prev;
    json_t *j = json_object();
    json_object_set_new(j, "format", json_string("jiko-yearly-report/1"));
    json_object_set_new(j, "fiscal_year", json_integer(c->fy));
    json_object_set_new(j, "previous_year", json_integer(p->fy));
    json_object_set_new(j, "rounding", json_string("half-up"));
    json_object_set_new(j, "open_excluded", json_integer(c->open_excluded));

    json_t *ov = json_array();
    static const char *const types[REPORT_TYPES] = {"serious", "quarterly_detailed",
                                                    "quarterly_simple"};
    for (int i = 0; i < REPORT_TYPES; i++)
        json_array_append_new(ov, json_pack("{s:s,s:I,s:I,s:I,s:I}", "report_type", types[i],
                                            "operators", (json_int_t)c->operators[i], "reports",
                                            (json_int_t)c->reports[i], "operators_prev",
                                            (json_int_t)p->operators[i], "reports_prev",
                                            (json_int_t)p->reports[i]));
    json_object_set_new(j, "overview", ov);
    json_object_set_new(j, "serious_reports", json_integer(c->serious_records));

    json_t *m = json_object(), *rows = json_array(), *cols = json_array(), *cells = json_array();
    matrix_totals mt = totals_of(c);
    for (int r = 0; r < REPORT_DURATIONS; r++) {
        json_array_append_new(rows, json_string(report_duration_codes[r]));
        json_t *row = json_array();
        for (int k = 0; k < REPORT_USERS; k++)
            json_array_append_new(row, report_cell_outside_duty(r, k)
                                           ? json_null()
                                           : json_integer(c->matrix[r][k]));
        json_array_append_new(cells, row);
    }
    for (int k = 0; k < REPORT_USERS; k++)
        json_array_append_new(cols, json_string(report_users_codes[k]));
    json_t *rt = json_array(), *rp = json_array(), *ct = json_array(), *cp = json_array();
    for (int r = 0; r < REPORT_DURATIONS; r++) {
        json_array_append_new(rt, json_integer(mt.row[r]));
        json_array_append_new(rp, jpct(report_pct(mt.row[r], mt.all, 1), 1));
    }
    for (int k = 0; k < REPORT_USERS; k++) {
        json_array_append_new(ct, json_integer(mt.col[k]));
        json_array_append_new(cp, jpct(report_pct(mt.col[k], mt.all, 1), 1));
    }
    json_object_set_new(m, "durations", rows);
    json_object_set_new(m, "users", cols);
    json_object_set_new(m, "cells", cells);
    json_object_set_new(m, "row_totals", rt);
    json_object_set_new(m, "row_share_pct", rp);
    json_object_set_new(m, "column_totals", ct);
    json_object_set_new(m, "column_share_pct", cp);
    json_object_set_new(m, "total", json_integer(mt.all));
    json_object_set_new(m, "unplaced", json_integer(c->unplaced));
    json_t *marks = json_array(), *smarks = json_array();
    for (int i = 0; i < y->pub.n_notes; i++) {
        const report_pub_note *n = &y->pub.notes[i];
        if (n->mark)
            json_array_append_new(marks, json_pack("{s:s,s:s,s:s}", "mark", n->mark, "duration",
                                                   report_duration_codes[n->row], "users",
                                                   report_users_codes[n->col]));
    }
    for (int i = 0; i < c->n_accidents; i++) {
        int r, k;
        if (serious_cell(&c->accidents[i], &r, &k))
            json_array_append_new(smarks, json_pack("{s:i,s:s,s:s}", "no", i + 1, "duration",
                                                    report_duration_codes[r], "users",
                                                    report_users_codes[k]));
    }
    json_object_set_new(m, "marks", marks);
    json_object_set_new(m, "serious_marks", smarks);
    json_object_set_new(j, "matrix", m);

    long a[4], b[4];
    headline_of(c, a);
    headline_of(p, b);
    json_t *hl = json_array();
    for (int i = 0; i < 4; i++) {
        json_t *o = json_pack("{s:s,s:I,s:I,s:I}", "figure", headline_codes[i], "value", (json_int_t)a[i],
                              "prev", (json_int_t)b[i], "change", (json_int_t)(a[i] - b[i]));
        json_object_set_new(o, "share_pct", jpct(report_pct(a[i], a[0], 0), 0));
        json_object_set_new(o, "share_prev_pct", jpct(report_pct(b[i], b[0], 0), 0));
        json_object_set_new(o, "delta_pt", jdelta(a[i], a[0], b[i], b[0]));
        json_array_append_new(hl, o);
    }
    json_object_set_new(j, "headline", hl);

    json_t *sv = json_object();
    json_object_set_new(sv, "total", json_integer(c->services_total));
    json_object_set_new(sv, "total_prev", json_integer(p->services_total));
    json_object_set_new(sv, "rows", groups_json(c->service_groups, c->n_service_groups,
                                                p->service_groups, c->services_total,
                                                p->services_total, true));
    json_object_set_new(j, "services", sv);

    json_t *ca = json_array();
    for (int i = 0; i < 4; i++)
        json_array_append_new(ca, share_row("cause", incident_cause_name(cause_order[i]), NULL,
                                            NULL, cause_count(c, cause_order[i]), c->detailed,
                                            cause_count(p, cause_order[i]), p->detailed));
    json_object_set_new(j, "causes", ca);
    json_object_set_new(j, "cause_not_given", json_integer(c->cause_unknown));

    json_t *eq = json_object();
    json_object_set_new(eq, "known", json_integer(c->equipment_known));
    json_object_set_new(eq, "unknown", json_integer(c->detailed - c->equipment_known));
    json_object_set_new(eq, "known_prev", json_integer(p->equipment_known));
    const report_pub_year *py = report_published_year(&y->pub, c->fy);
    json_object_set_new(eq, "known_published", jcount(py ? py->equipment_known : -1));
    json_object_set_new(eq, "unknown_published", jcount(py ? py->equipment_unknown : -1));
    json_object_set_new(eq, "rows", groups_json(c->equipment_groups, c->n_equipment_groups,
                                                p->equipment_groups, c->equipment_known,
                                                p->equipment_known, true));
    json_object_set_new(j, "equipment", eq);

    json_t *se = json_array();
    for (int i = 0; i < c->n_accidents; i++) {
        const report_accident *ac = &c->accidents[i];
        json_t *ops = json_array(), *ids = json_array();
        for (int k = 0; k < ac->n_ops; k++)
            if (ac->ids[k]) {
                json_array_append_new(ops, json_string(ac->ops[k]));
                json_array_append_new(ids, json_string(ac->ids[k]));
            }
        char when[40], end[40];
        json_t *o = json_pack("{s:i,s:s,s:o,s:o,s:s,s:s,s:I,s:I}", "no", i + 1, "facility_owner",
                              ac->ops[0], "operators", ops, "ids", ids, "started_at",
                              jst_format(ac->started_ms, when, sizeof when), "ended_at",
                              jst_format(ac->ended_ms, end, sizeof end), "duration_min",
                              (json_int_t)((ac->ended_ms - ac->started_ms) / 60000), "users",
                              (json_int_t)ac->users);
        json_object_set_new(o, "categories", json_string(ac->categories ? ac->categories : ""));
        json_object_set_new(o, "services", json_string(ac->services ? ac->services : ""));
        json_object_set_new(o, "summary", ac->summary ? json_string(ac->summary) : json_null());
        json_array_append_new(se, o);
    }
    json_object_set_new(j, "serious", se);

    /* members added after jiko-yearly-report/1 was first published: appended
     * so that readers of the earlier members see no change */
    json_t *hist = json_array();
    for (int fy = history_first(y); fy <= c->fy; fy++) {
        const report_pub_year *h = report_published_year(&y->pub, fy);
        json_t *o = json_pack("{s:i}", "fiscal_year", fy);
        json_object_set_new(o, "published", jcount(h ? h->serious : -1));
        json_object_set_new(o, "published_operators", jcount(h ? h->serious_operators : -1));
        json_object_set_new(o, "registry", jcount(registry_serious(y, fy)));
        json_object_set_new(o, "source", h ? json_string(h->source) : json_null());
        json_array_append_new(hist, o);
    }
    json_object_set_new(j, "serious_by_year", hist);
    json_t *ss = json_object();
    json_object_set_new(ss, "accidents", json_integer(c->reports[REPORT_SERIOUS]));
    json_object_set_new(ss, "accidents_prev", json_integer(p->reports[REPORT_SERIOUS]));
    json_object_set_new(ss, "rows", groups_json(c->serious_groups, c->n_serious_groups,
                                                p->serious_groups, c->reports[REPORT_SERIOUS],
                                                p->reports[REPORT_SERIOUS], true));
    json_object_set_new(j, "serious_services", ss);
    json_t *notes = json_array();
    for (int i = 0; i < y->pub.n_notes; i++) {
        const report_pub_note *n = &y->pub.notes[i];
        json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "table", n->table, "ja", n->ja, "en", n->en,
                              "source", n->source);
        json_object_set_new(o, "mark", n->mark ? json_string(n->mark) : json_null());
        json_array_append_new(notes, o);
    }
    json_object_set_new(j, "published_notes", notes);
    return j;
}
