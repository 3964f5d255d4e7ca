/*
 * classify.c — applying a rulebook to an incident (see classify.h).
 *
 * The serious test is per service category: the users that count for a
 * category are those of its services (the largest per-service count, or the
 * incident total when every affected service is in that one category, since
 * the total is then the category's de-duplicated count).  Thresholds are
 * inclusive.  For every threshold line whose user condition holds, the line is
 * met once the outage has lasted its duration; the earliest such moment is
 * both when the prompt-report duty arose and, for a live incident, when it
 * turns serious.  See docs/classification.md for the readings chosen where the
 * sources leave room.
 */
#include "classify.h"

#include "json_fast.h"
#include "num.h"
#include "textf.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *classify_report_name(classify_report r)
{
    switch (r) {
    case CLASSIFY_SERIOUS: return "serious";
    case CLASSIFY_DETAILED: return "detailed";
    case CLASSIFY_SIMPLE: return "simple";
    case CLASSIFY_NONE: break;
    }
    return "none";
}

static bool facility_ok(rules_facility f, const incident *inc)
{
    if (f == RULES_FACILITY_ANY)
        return true;
    return (f == RULES_FACILITY_TELECOM) == (inc->facility == INCIDENT_TELECOM);
}

/* The deadline a period gives, moved past administrative holidays when the
 * rulebook says so (行政機関の休日に関する法律 第2条).  False, with the
 * missing year, when the holiday calendar does not reach that far. */
static bool move_deadline(const rules_flag *moves, const catalog *cat, jst_date end,
                          jst_date *due, int *gap_year)
{
    *due = end;
    if (!moves->on)
        return true;
    return holiday_next_open(&cat->holidays, end, due, gap_year) == 0;
}

/* The last day of a period of `days` days from the day of `ms` (JST): Civil
 * Code Art. 140 does not count the first day unless the period starts at
 * 00:00 exactly. */
static jst_date days_after(int64_t ms, int days)
{
    return jst_add_days(jst_date_of(ms), jst_ms_into_day(ms) == 0 ? days - 1 : days);
}

/* Whether an affected service falls under a clause: a serious clause's
 * category (or every service), or any service for a quarterly clause. */
static bool in_clause(const rulebook *book, const rules_clause *cl, int k, const incident_service *s)
{
    return cl->kind != RULES_SERIOUS || cl->all_services || book->svc_serious[s->svc] == k;
}

/* The users that count for a line with 'mau >= N': those of the clause's
 * counted services whose monthly active users are N or more (the incident
 * total when every counted service is one of them, as for a category).  A
 * service whose monthly active users are not given is neither taken as 0 nor
 * dropped: it is presumed to reach N, and *presumed says the line needed
 * that presumption — an undecided line must not hide a report that may be
 * owed (docs/rulebook-format.md).  Services that are known to qualify are
 * tried first, so a line met without presuming anything is never marked.
 * False when no service can qualify. */
static bool mau_line_users(const rulebook *book, const rules_clause *cl, int k, const incident *inc,
                           const bool *counted, size_t n_counted, int64_t total,
                           const rules_threshold *th, int64_t *users, int *svc, bool *presumed)
{
    int64_t known_u = -1, any_u = -1;
    int known_s = -1, any_s = -1;
    size_t n_known = 0, n_any = 0;
    for (size_t i = 0; i < inc->n_services; i++) {
        const incident_service *s = &inc->services[i];
        if (!counted[i] || !in_clause(book, cl, k, s) || (s->has_mau && s->mau < th->min_mau))
            continue;
        n_any++;
        if (s->users > any_u) {
            any_u = s->users;
            any_s = s->svc;
        }
        if (s->has_mau) {
            n_known++;
            if (s->users > known_u) {
                known_u = s->users;
                known_s = s->svc;
            }
        }
    }
    if (n_known && n_known == n_counted)
        known_u = total;
    if (n_any && n_any == n_counted)
        any_u = total;
    if (n_known && known_u >= th->min_users) {
        *users = known_u;
        *svc = known_s;
        *presumed = false;
        return true;
    }
    if (!n_any)
        return false;
    *users = any_u;
    *svc = any_s;
    *presumed = n_any > n_known;
    return true;
}

void classify_incident(const rulebook *book, const catalog *cat, const incident *inc,
                       int64_t now_ms, classify_result *r)
{
    memset(r, 0, sizeof *r);
    r->book = book;
    r->now_ms = now_ms;
    r->becomes_clause = r->becomes_threshold = -1;
    int64_t end = inc->ongoing ? now_ms : inc->ended_ms;
    r->duration_ms = end > inc->started_ms ? end - inc->started_ms : 0;

    /* Which services count: stoppage always, degradation where the rulebook says so. */
    bool counted[INCIDENT_MAX_SERVICES];
    size_t n_counted = 0;
    int64_t max_users = 0;
    for (size_t i = 0; i < inc->n_services; i++) {
        counted[i] = inc->services[i].effect == INCIDENT_STOP || book->count_degrade;
        if (counted[i]) {
            n_counted++;
            if (inc->services[i].users > max_users)
                max_users = inc->services[i].users;
        }
    }
    r->users = n_counted == inc->n_services ? inc->users : max_users;

    if (book->has_minor_premises && inc->within_user_premises) {
        r->minor = true;
        r->report = CLASSIFY_NONE;
        return;
    }

    int64_t earliest = INT64_MAX;
    for (size_t k = 0; k < book->n_clauses; k++) {
        const rules_clause *cl = &book->clauses[k];
        if (cl->kind == RULES_QUARTERLY || !facility_ok(cl->facility, inc))
            continue;
        int64_t cu = 0;
        int svc = -1;
        if (cl->kind == RULES_SERIOUS) {
            size_t n_in = 0;
            for (size_t i = 0; i < inc->n_services; i++) {
                const incident_service *s = &inc->services[i];
                if (!counted[i] || (!cl->all_services && book->svc_serious[s->svc] != (int)k))
                    continue;
                n_in++;
                if (svc < 0 || s->users > cu) {
                    cu = s->users;
                    svc = s->svc;
                }
            }
            if (!n_in)
                continue;
            if (n_in == n_counted)
                cu = r->users;
        } else { /* RULES_CRITICAL */
            if (inc->critical == RULES_CRIT_NONE || !(cl->critical_mask & (1u << inc->critical)))
                continue;
            if (cl->requires_all_traffic_stopped && !inc->all_traffic_stopped)
                continue;
            cu = r->users;
        }
        if (!cl->any_mau) {
            /* the common case (every shipped rulebook): no line needs a
             * figure, so the first line met is the hit */
            int hit = -1;
            for (size_t t = 0; t < cl->n_thresholds; t++) {
                const rules_threshold *th = &cl->thresholds[t];
                if (cu < th->min_users)
                    continue;
                int64_t at = inc->started_ms + th->min_ms;
                if (at < earliest || (at == earliest && r->becomes_mau_presumed)) {
                    earliest = at;
                    r->becomes_clause = (int)k;
                    r->becomes_threshold = (int)t;
                    r->becomes_mau_presumed = false;
                }
                if (hit < 0 && r->duration_ms >= th->min_ms)
                    hit = (int)t;
            }
            if (hit >= 0 && r->n_serious < CLASSIFY_MAX_HITS)
                r->serious[r->n_serious++] =
                    (classify_hit){.clause = (int)k, .threshold = hit, .svc = svc, .users = cu};
            continue;
        }
        /* the first line met on what is known, else the first met only by
         * presuming a missing monthly-active-users figure */
        classify_hit met = {.clause = -1, .threshold = -1, .svc = -1}, guess = met;
        for (size_t t = 0; t < cl->n_thresholds; t++) {
            const rules_threshold *th = &cl->thresholds[t];
            int64_t lu = cu;
            int ls = svc;
            bool presumed = false;
            if (th->has_mau && !mau_line_users(book, cl, (int)k, inc, counted, n_counted, r->users,
                                               th, &lu, &ls, &presumed))
                continue;
            if (lu < th->min_users)
                continue;
            int64_t at = inc->started_ms + th->min_ms;
            if (at < earliest || (at == earliest && r->becomes_mau_presumed && !presumed)) {
                earliest = at;
                r->becomes_clause = (int)k;
                r->becomes_threshold = (int)t;
                r->becomes_mau_presumed = presumed;
            }
            classify_hit *slot = presumed ? &guess : &met;
            if (slot->clause < 0 && r->duration_ms >= th->min_ms)
                *slot = (classify_hit){.clause = (int)k, .threshold = (int)t, .svc = ls, .mau_presumed = presumed, .users = lu};
        }
        if (met.clause < 0)
            met = guess;
        if (met.clause >= 0 && r->n_serious < CLASSIFY_MAX_HITS)
            r->serious[r->n_serious++] = met;
    }

    bool only_leak = true;
    for (size_t k = 0; k < book->n_clauses; k++) {
        const rules_clause *cl = &book->clauses[k];
        if (cl->kind != RULES_QUARTERLY || r->n_quarterly >= CLASSIFY_MAX_HITS)
            continue;
        if (cl->when_info_leak) {
            if (inc->info_leak)
                r->quarterly[r->n_quarterly++] = (classify_hit){.clause = (int)k, .threshold = -1, .svc = -1};
            continue;
        }
        if (!facility_ok(cl->facility, inc) || !n_counted)
            continue;
        classify_hit met = {.clause = -1, .threshold = -1, .svc = -1}, guess = met;
        for (size_t t = 0; t < cl->n_thresholds && met.clause < 0; t++) {
            const rules_threshold *th = &cl->thresholds[t];
            int64_t lu = r->users;
            int ls = -1;
            bool presumed = false;
            if (th->has_mau && !mau_line_users(book, cl, (int)k, inc, counted, n_counted, r->users,
                                               th, &lu, &ls, &presumed))
                continue;
            classify_hit *slot = presumed ? &guess : &met;
            if (slot->clause < 0 && lu >= th->min_users && r->duration_ms >= th->min_ms)
                *slot = (classify_hit){.clause = (int)k, .threshold = (int)t, .svc = ls, .mau_presumed = presumed, .users = lu};
        }
        if (met.clause < 0)
            met = guess;
        if (met.clause >= 0) {
            r->quarterly[r->n_quarterly++] = met;
            only_leak = false;
        }
    }

    r->simple_allowed = book->has_simple_form && inc->equipment >= 0 &&
                        cat->equipment[inc->equipment].simple_form;
    if (r->n_serious)
        r->report = CLASSIFY_SERIOUS;
    else if (r->n_quarterly)
        r->report = r->simple_allowed && !only_leak ? CLASSIFY_SIMPLE : CLASSIFY_DETAILED;
    else
        r->report = CLASSIFY_NONE;

    if (inc->ongoing && earliest != INT64_MAX) {
        r->has_becomes = true;
        r->becomes_ms = earliest;
    }
    jst_date day = jst_date_of(inc->started_ms);
    if (r->report == CLASSIFY_SERIOUS) {
        if (book->has_prompt) {
            r->has_prompt = true;
            r->prompt_ms = earliest;
        }
        if (book->written_days) {
            r->written_period_end = book->written_civil_code_140
                                        ? days_after(inc->started_ms, book->written_days)
                                        : jst_add_days(day, book->written_days);
            r->has_written = move_deadline(&book->written_moves, cat, r->written_period_end,
                                           &r->written, &r->written_gap_year);
        }
    }
    bool quarterly_duty = r->report == CLASSIFY_SIMPLE || r->report == CLASSIFY_DETAILED ||
                          (r->report == CLASSIFY_SERIOUS && book->serious_quarterly_duty.on);
    if (quarterly_duty && book->quarterly_months) {
        /* a yearly periodic report (a proposal) counts from the fiscal year's end */
        jst_date qend = jst_quarter_end(jst_fiscal_year(day),
                                        book->periodic_yearly ? 4 : jst_fiscal_quarter(day));
        r->quarterly_period_end = jst_end_of_month_after(qend, book->quarterly_months);
        r->has_quarterly = move_deadline(&book->quarterly_moves, cat, r->quarterly_period_end,
                                         &r->quarterly_due, &r->quarterly_gap_year);
    }
    r->osore = book->has_osore && classify_osore_unmet(book, inc) == NULL;
    if (r->osore && book->osore_days) {
        /* "覚知した日から30日以内", counted like the written report */
        r->osore_period_end = days_after(inc->noticed_ms, book->osore_days);
        r->has_osore_due = move_deadline(&book->osore_moves, cat, r->osore_period_end,
                                         &r->osore_due, &r->osore_gap_year);
    }
    if (inc->has_secrecy_leak && book->secrecy_days) {
        r->secrecy_period_end = days_after(inc->secrecy_leak_known_ms, book->secrecy_days);
        r->has_secrecy_due = move_deadline(&book->secrecy_moves, cat, r->secrecy_period_end,
                                           &r->secrecy_due, &r->secrecy_gap_year);
    }
}

const char *classify_osore_unmet(const rulebook *book, const incident *inc)
{
    const rules_osore *o = &book->osore;
    if (inc->osore_event == INCIDENT_OSORE_NONE)
        return "osore_event";
    if (!(o->events & (1u << inc->osore_event)))
        return "osore_event";
    if (inc->operator_users_prev_fy < 0 || inc->operator_users_prev_fy < o->min_operator_users)
        return "operator_users_prev_fy";
    if (inc->prefectures < o->min_prefectures)
        return "prefectures";
    if (inc->core_function == INCIDENT_CORE_NONE || !(o->functions & (1u << inc->core_function)))
        return "core_function";
    return NULL;
}

int classify_check_calendar(const classify_result *r, const catalog *cat, const char *file,
                            long line, jiko_error *err)
{
    const struct { int gap; jst_date end; const char *what; } d4[] = {
        {r->written_gap_year, r->written_period_end, "written-report"},
        {r->quarterly_gap_year, r->quarterly_period_end, "quarterly-report"},
        {r->osore_gap_year, r->osore_period_end, "osore-report"},
        {r->secrecy_gap_year, r->secrecy_period_end, "secrecy-leak-report"},
    };
    size_t k = 0;
    while (k < 4 && !d4[k].gap)
        k++;
    if (k == 4)
        return 0;
    int gap = d4[k].gap;
    char d[JST_DATE_TEXT_MAX];
    jst_format_date(d4[k].end, d, sizeof d);
    const holiday_calendar *h = &cat->holidays;
    char covers[48] = "no year";
    if (h->first_year)
        snprintf(covers, sizeof covers, "%d to %d", h->first_year, h->last_year);
    error_set(err, JIKO_ERR_INVALID, file, line, "started_at",
              "no holiday calendar for %d: the %s deadline %s cannot be moved past administrative "
              "holidays (行政機関の休日に関する法律 第2条) without it; the calendar%s%s covers %s",
              gap, d4[k].what, d,
              h->path ? " " : "", h->path ? h->path : "", covers);
    return -1;
}

/* ---- output ------------------------------------------------------------ */

static void addf(json_t *arr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(json_t *arr, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = textf_v(buf, sizeof buf, fmt, ap); /* vsnprintf's bytes, faster */
    va_end(ap);
    /* A reason longer than the buffer (a long source citation) is cut at a
     * character boundary: cut inside a UTF-8 sequence, json_fast_string() would
     * refuse it and the reason would be lost without a word. */
    if (n >= (int)sizeof buf) {
        size_t len = sizeof buf - 1, j = len;
        while (j > 0 && ((unsigned char)buf[j - 1] & 0xC0) == 0x80)
            j--;
        if (j > 0) {
            unsigned char lead = (unsigned char)buf[j - 1];
            size_t need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
            if (j - 1 + need > len)
                buf[j - 1] = '\0';
        }
    }
    json_array_append_new(arr, json_fast_string(buf));
}

/* 456516 -> "456,516" */
static const char *grouped(int64_t v, char *buf, size_t size)
{
    return num_group_digits(v, buf, size);
}

static const char *clause_name(const rules_clause *cl, classify_lang lang)
{
    return lang == CLASSIFY_JA ? cl->name_ja : cl->name_en;
}

static const char *svc_name(const catalog *cat, int svc, classify_lang lang)
{
    return lang == CLASSIFY_JA ? cat->services[svc].name_ja : cat->services[svc].name_en;
}

static void note_unconfirmed(json_t *arr, bool unconfirmed, const char *note, classify_lang lang)
{
    if (!unconfirmed)
        return;
    if (lang == CLASSIFY_JA)
        addf(arr, "注意: この条項の内容は原資料で確認できていません（%s）。当時の省令で確認してください。",
             note ? note : "");
    else
        addf(arr, "Caution: this clause is not confirmed by the source documents (%s); check "
                  "it against the ordinance of the time.",
             note ? note : "");
}

/* When a deadline moved past administrative holidays: which days were
 * closed and why, and the law that moved it.  When the calendar lacks the
 * year: say so instead of giving a date. */
static void moved_reason(json_t *arr, const catalog *cat, const rules_flag *moves, jst_date end,
                         const jst_date *due, int gap_year, const char *what, classify_lang lang)
{
    bool ja = lang == CLASSIFY_JA;
    char d1[JST_DATE_TEXT_MAX], d2[JST_DATE_TEXT_MAX];
    jst_format_date(end, d1, sizeof d1);
    if (gap_year) {
        addf(arr, ja ? "%s期限: 期間の末日 %s を行政機関の休日に応じて延長するための休日表に%d年がない（no holiday calendar for %d）[%s]"
                     : "The %s deadline: the period ends on %s, but there is no holiday calendar "
                       "for %d to move it past administrative holidays; add %d to the calendar [%s].",
             what, d1, gap_year, gap_year, moves->source);
        return;
    }
    if (!moves->on || !due || jst_compare_dates(*due, end) == 0)
        return;
    char days[512] = "";
    size_t o = 0;
    for (jst_date d = end; jst_compare_dates(d, *due) < 0 && o < sizeof days - 80;
         d = jst_add_days(d, 1)) {
        jst_format_date(d, d2, sizeof d2);
        int n = snprintf(days + o, sizeof days - o, ja ? "%s%s（%s）" : "%s%s (%s)",
                         o ? (ja ? "、" : ", ") : "", d2, holiday_why(&cat->holidays, d, ja));
        if (n > 0)
            o += (size_t)n;
    }
    jst_format_date(*due, d2, sizeof d2);
    addf(arr, ja ? "%s期限の移動: %s%s は行政機関の休日のため、期限は %s（行政機関の休日に関する法律 第2条）[%s]"
                 : "The %s deadline moved: %s %s an administrative holiday, so the deadline is "
                   "%s under 行政機関の休日に関する法律 第2条 [%s].",
         what, days, ja ? "" : (strchr(days, ',') ? "are each" : "is"), d2, moves->source);
}

/* What a line with 'mau >= N' rested on: the monthly active users of the
 * service that met it, or, when it was met only by presuming them, which
 * services lack the figure and how to settle it. */
static void mau_reason(json_t *arr, const rulebook *b, const incident *inc, const catalog *cat,
                       int clause, int threshold, int svc, bool presumed, classify_lang lang)
{
    const rules_clause *cl = &b->clauses[clause];
    const rules_threshold *th = &cl->thresholds[threshold];
    if (!th->has_mau)
        return;
    bool ja = lang == CLASSIFY_JA;
    char n1[32], n2[32];
    grouped(th->min_mau, n1, sizeof n1);
    if (!presumed) {
        for (size_t i = 0; i < inc->n_services; i++)
            if (inc->services[i].svc == svc && inc->services[i].has_mau)
                addf(arr, ja ? "月間アクティブ利用者数: %s は %s 人で、月間アクティブ利用者数 %s 人以上とする基準「%s」を満たす [%s]"
                             : "Monthly active users (月間アクティブ利用者数): %s has %s, meeting "
                               "'mau >= %s' of the line '%s' [%s].",
                     svc_name(cat, svc, lang), grouped(inc->services[i].mau, n2, sizeof n2), n1,
                     th->text, cl->source);
        return;
    }
    /* the services lacking the figure; whole names only, so that a long list
     * is shortened without cutting a UTF-8 character (the line must stay
     * valid JSON text) */
    char names[240] = "";
    size_t o = 0;
    for (size_t i = 0; i < inc->n_services; i++) {
        const incident_service *s = &inc->services[i];
        bool counted = s->effect == INCIDENT_STOP || b->count_degrade;
        if (!counted || s->has_mau || !in_clause(b, cl, clause, s))
            continue;
        const char *sep = o ? (ja ? "、" : ", ") : "", *name = svc_name(cat, s->svc, lang);
        if (o + strlen(sep) + strlen(name) + 4 >= sizeof names) {
            snprintf(names + o, sizeof names - o, "%s", ja ? "…" : ", ...");
            break;
        }
        o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", sep, name);
    }
    if (ja)
        addf(arr, "推定（未確定）: %s の月間アクティブ利用者数（services[].monthly_active_users）の記載がないため、"
                  "基準「%s」は月間アクティブ利用者数が %s 人以上であるものとして適用した（報告すべき事故を見落とさないため）。"
                  "%s 人未満であればこの基準は該当しない。記載して確定すること [%s]",
             names, th->text, n1, n1, cl->source);
    else
        addf(arr, "Presumed, not established: %s gives no monthly active users "
                  "(services[].monthly_active_users), which the line '%s' needs; it was applied as "
                  "if they were %s or more, so that a report that may be owed is not missed. With "
                  "fewer than %s monthly active users the line does not apply: give the figure to "
                  "settle it [%s].",
             names, th->text, n1, n1, cl->source);
}

/* The おそれ事態 report: owed and when, or which condition is not met. */
static void osore_reasons(json_t *arr, const classify_result *r, const incident *inc,
                          const catalog *cat, classify_lang lang)
{
    const rulebook *b = r->book;
    bool ja = lang == CLASSIFY_JA;
    if (inc->osore_event == INCIDENT_OSORE_NONE)
        return;
    if (!b->has_osore) {
        addf(arr, ja ? "重大な事故が生ずるおそれがあると認められる事態の報告: %s には定めがない（令和4年法律第70号による改正の施行前）"
                     : "Situation likely to cause a serious accident (おそれ事態): %s has no such "
                       "report (before the 2022 amendment of the Act took effect).",
             b->id);
        return;
    }
    const rules_osore *o = &b->osore;
    char t[JST_DATE_TEXT_MAX], n1[32];
    if (!r->osore) {
        const char *why = classify_osore_unmet(b, inc);
        if (ja)
            addf(arr, "%s: 報告不要（%s が条件を満たさない: 前年度末の利用者数%s以上、%d以上の都道府県、コア機能、所定の事態）[%s]",
                 o->name_ja, why, grouped(o->min_operator_users, n1, sizeof n1), o->min_prefectures,
                 o->source);
        else
            addf(arr, "%s: no report owed: '%s' does not meet the conditions (%s users or more at "
                      "the end of the previous fiscal year, %d or more prefectures, a core "
                      "function, one of the events) [%s].",
                 o->name_en, why, grouped(o->min_operator_users, n1, sizeof n1), o->min_prefectures,
                 o->source);
    } else if (r->has_osore_due) {
        addf(arr, ja ? "%s: 報告書は %s まで（覚知した日から%d日以内、初日不算入）[%s]"
                     : "%s: report due by %s, within %d days of the day it was noticed (first day "
                       "not counted) [%s].",
             ja ? o->name_ja : o->name_en, jst_format_date(r->osore_due, t, sizeof t), b->osore_days,
             b->osore_source);
    }
    if (r->osore)
        note_unconfirmed(arr, o->unconfirmed, o->note, lang);
    if (r->osore)
        moved_reason(arr, cat, &b->osore_moves, r->osore_period_end,
                     r->has_osore_due ? &r->osore_due : NULL, r->osore_gap_year,
                     ja ? "おそれ事態の報告" : "osore-report", lang);
}

json_t *classify_reasons(const classify_result *r, const incident *inc, const catalog *cat,
                         classify_lang lang)
{
    const rulebook *b = r->book;
    bool ja = lang == CLASSIFY_JA;
    json_t *arr = json_array();
    char t1[40], t2[40], d1[32], n1[32];
    jst_date day = jst_date_of(inc->started_ms);
    int fy = jst_fiscal_year(day), q = jst_fiscal_quarter(day);
    jst_format_date(day, t1, sizeof t1);
    if (r->forced)
        addf(arr, ja ? "適用基準 %s「%s」: 発生日によらず指定された基準。発生日 %s（日本時間、%d年度第%d四半期）"
                     : "Rulebook %s, \"%s\": chosen explicitly, not by date; the incident started %s "
                       "(JST, FY%d Q%d).",
             b->id, ja ? b->title_ja : b->title_en, t1, fy, q);
    else
        addf(arr, ja ? "適用基準 %s「%s」: 発生日 %s（日本時間、%d年度第%d四半期）に施行中の基準"
                     : "Rulebook %s, \"%s\": in force on the start date %s (JST, FY%d Q%d).",
             b->id, ja ? b->title_ja : b->title_en, t1, fy, q);
    if (inc->ongoing) {
        jst_format(r->now_ms, t1, sizeof t1);
        jst_format_duration(r->duration_ms, d1, sizeof d1);
        if (ja)
            addf(arr, "継続中: %s 時点で継続時間 %s", t1, d1);
        else
            addf(arr, "Ongoing: %s so far as of %s.", d1, t1);
    }
    if (inc->wholesale_provider)
        addf(arr, ja ? "卸役務: %s の設備に起因する事故。卸提供元と各卸提供先事業者がそれぞれ報告する（令和3年度公表資料 ※1）"
                     : "Wholesale (卸役務): the outage came from %s's facilities; the provider and "
                       "each receiving operator report it (FY2021 release, note ※1).",
             inc->wholesale_provider);
    if (r->minor) {
        addf(arr, ja ? "報告不要: 利用者の建物内に設置した設備の故障で影響が同一建物内にとどまる軽微な事故 [%s]"
                     : "Not reportable: a minor accident (軽微な事故) — equipment in the user's "
                       "premises failed and the effect stayed within them [%s].",
             b->minor_source);
        return arr;
    }
    for (int i = 0; i < r->n_serious; i++) {
        const classify_hit *h = &r->serious[i];
        const rules_clause *cl = &b->clauses[h->clause];
        jst_format_duration(r->duration_ms, d1, sizeof d1);
        grouped(h->users, n1, sizeof n1);
        if (cl->kind == RULES_CRITICAL)
            addf(arr, ja ? "重大な事故（重要な電気通信設備: %s）: %s。全ての通信の疎通が %s 不能、基準「%s」を満たす [%s]"
                         : "Serious accident (重大な事故), critical facility clause — %s: %s; all "
                           "traffic stopped for %s, meeting '%s' [%s].",
                 incident_critical_name(inc->critical), clause_name(cl, lang), d1,
                 cl->thresholds[h->threshold].text, cl->source);
        else if (h->svc >= 0)
            addf(arr, ja ? "重大な事故 区分%s（%s）: %s が %s、%s 人で基準「%s」を満たす [%s]"
                         : "Serious accident (重大な事故), category %s — %s: %s for %s with %s "
                           "users, meeting '%s' [%s].",
                 cl->id, clause_name(cl, lang), svc_name(cat, h->svc, lang), d1, n1,
                 cl->thresholds[h->threshold].text, cl->source);
        if (cl->kind == RULES_SERIOUS)
            mau_reason(arr, b, inc, cat, h->clause, h->threshold, h->svc, h->mau_presumed, lang);
        note_unconfirmed(arr, cl->unconfirmed, cl->note, lang);
    }
    if (inc->ongoing && r->n_serious == 0) {
        if (r->has_becomes) {
            const rules_clause *cl = &b->clauses[r->becomes_clause];
            addf(arr, ja ? "このまま継続すると %s に重大な事故となる（%s、基準「%s」）"
                         : "Turns serious at %s if the outage continues as it is (%s, '%s').",
                 jst_format(r->becomes_ms, t1, sizeof t1), clause_name(cl, lang),
                 cl->thresholds[r->becomes_threshold].text);
            if (r->becomes_mau_presumed)
                mau_reason(arr, b, inc, cat, r->becomes_clause, r->becomes_threshold, -1, true, lang);
        } else {
            addf(arr, ja ? "現在の影響利用者数（%s 人）では継続しても重大な事故の基準に達しない"
                         : "Cannot turn serious with the current user counts (%s users), however "
                           "long it lasts.",
                 grouped(r->users, n1, sizeof n1));
        }
    }
    for (int i = 0; i < r->n_quarterly; i++) {
        const classify_hit *h = &r->quarterly[i];
        const rules_clause *cl = &b->clauses[h->clause];
        if (h->threshold < 0)
            addf(arr, ja ? "四半期報告 %s（%s）[%s]" : "Quarterly report clause %s — %s [%s].", cl->id,
                 clause_name(cl, lang), cl->source);
        else
            addf(arr, ja ? "四半期報告 %s（%s）: 継続時間 %s、%s 人で基準「%s」を満たす [%s]"
                         : "Quarterly report clause %s — %s: %s and %s users meet '%s' [%s].",
                 cl->id, clause_name(cl, lang), jst_format_duration(r->duration_ms, d1, sizeof d1),
                 grouped(h->users, n1, sizeof n1), cl->thresholds[h->threshold].text, cl->source);
        if (h->threshold >= 0)
            mau_reason(arr, b, inc, cat, h->clause, h->threshold, h->svc, h->mau_presumed, lang);
        note_unconfirmed(arr, cl->unconfirmed, cl->note, lang);
    }
    if (r->report == CLASSIFY_NONE) {
        addf(arr, ja ? "報告不要: 継続時間 %s、%s 人は %s のいずれの条項にも該当しない"
                     : "No report owed: %s and %s users meet no clause of %s.",
             jst_format_duration(r->duration_ms, d1, sizeof d1), grouped(r->users, n1, sizeof n1),
             b->id);
    } else if (r->report != CLASSIFY_SERIOUS || b->serious_quarterly_duty.on) {
        const catalog_equipment *eq = inc->equipment >= 0 ? &cat->equipment[inc->equipment] : NULL;
        if (r->report == CLASSIFY_SERIOUS)
            addf(arr, ja ? "重大な事故も四半期報告（詳細な様式）で報告する [%s]"
                         : "Serious accidents are also reported on the quarterly detailed form "
                           "[%s].",
                 b->serious_quarterly_duty.source ? b->serious_quarterly_duty.source : b->id);
        else if (r->report == CLASSIFY_SIMPLE)
            addf(arr, ja ? "簡易な様式: 故障設備 %s（%s）は簡易な様式が認められる [%s]"
                         : "Simple form (簡易な様式): the failed equipment %s (%s) allows it [%s].",
                 eq->code, ja ? eq->name_ja : eq->name_en, b->simple_form_source);
        else if (eq)
            addf(arr, ja ? "詳細な様式: 故障設備 %s（%s）は簡易な様式の対象外"
                         : "Detailed form (詳細な様式): the failed equipment %s (%s) does not "
                           "allow the simple form.",
                 eq->code, ja ? eq->name_ja : eq->name_en);
        else
            addf(arr, ja ? "詳細な様式: 故障設備が不明、または簡易な様式の対象外の事故"
                         : "Detailed form (詳細な様式): the failed equipment is unknown or the "
                           "accident is not an equipment failure that allows the simple form.");
    }
    if (r->has_prompt)
        addf(arr, ja ? "速報（速やかに）: %s に重大な事故となった時点から直ちに報告 [%s]"
                     : "Prompt report (速やかに): due without delay from %s, when it became "
                       "serious [%s].",
             jst_format(r->prompt_ms, t1, sizeof t1), b->prompt_source);
    if (r->has_written)
        addf(arr, ja ? "詳細報告書: %s まで（発生日から%d日以内、初日不算入 民法第140条）[%s]"
                     : "Written report: due by %s, within %d days of the day it occurred (first "
                       "day not counted, Civil Code Art. 140) [%s].",
             jst_format_date(r->written, t2, sizeof t2), b->written_days, b->written_source);
    if (r->report == CLASSIFY_SERIOUS && b->written_days)
        moved_reason(arr, cat, &b->written_moves, r->written_period_end, r->has_written ? &r->written : NULL,
                     r->written_gap_year, ja ? "詳細報告書" : "written-report", lang);
    if (r->report == CLASSIFY_SERIOUS && b->quarterly_months && !b->serious_quarterly_duty.on &&
        b->serious_quarterly_duty.source)
        addf(arr, ja ? "四半期報告は不要: 重大な事故は四半期報告の対象から除かれる [%s]"
                     : "No quarterly report: serious accidents are excluded from the quarterly "
                       "report [%s].",
             b->serious_quarterly_duty.source);
    if (r->report == CLASSIFY_SERIOUS && b->quarterly_months && !b->serious_quarterly_duty.on)
        note_unconfirmed(arr, b->serious_quarterly_duty.unconfirmed,
                         "no source states the quarterly duty of serious accidents for this period",
                         lang);
    if (r->has_quarterly) {
        jst_date qend = jst_quarter_end(fy, q);
        jst_format_date(qend, t1, sizeof t1);
        jst_format_date(r->quarterly_due, t2, sizeof t2);
        if (ja)
            addf(arr, "四半期報告: %s まで（%d年度第%d四半期末 %s から%dか月以内）[%s]", t2, fy, q, t1,
                 b->quarterly_months, b->quarterly_source);
        else
            addf(arr, "Quarterly report: due by %s, within %d months after FY%d Q%d ends on %s [%s].",
                 t2, b->quarterly_months, fy, q, t1, b->quarterly_source);
    }
    if (r->has_quarterly || r->quarterly_gap_year)
        moved_reason(arr, cat, &b->quarterly_moves, r->quarterly_period_end,
                     r->has_quarterly ? &r->quarterly_due : NULL, r->quarterly_gap_year,
                     ja ? "四半期報告" : "quarterly-report", lang);
    osore_reasons(arr, r, inc, cat, lang);
    if (r->has_secrecy_due || r->secrecy_gap_year) {
        if (r->has_secrecy_due)
            addf(arr, ja ? "通信の秘密の漏えいの報告書: %s まで（漏えいを知った日から%d日以内、初日不算入）[%s]"
                         : "Secrecy-of-communications leak report: due by %s, within %d days of the "
                           "day the operator learnt of it (first day not counted) [%s].",
                 jst_format_date(r->secrecy_due, t2, sizeof t2), b->secrecy_days, b->secrecy_source);
        moved_reason(arr, cat, &b->secrecy_moves, r->secrecy_period_end,
                     r->has_secrecy_due ? &r->secrecy_due : NULL, r->secrecy_gap_year,
                     ja ? "通信の秘密の漏えいの報告" : "secrecy-leak-report", lang);
    }
    return arr;
}

json_t *classify_to_json(const classify_result *r, const incident *inc, const catalog *cat,
                         classify_lang lang)
{
    char buf[40];
    json_t *o = json_object();
    /* The keys here are ASCII literals: _nocheck skips jansson's check of
     * each key's UTF-8, character by character, on every answer.  The
     * values are checked (json_fast_string). */
    json_object_set_new_nocheck(o, "id", json_fast_string(inc->id));
    json_object_set_new_nocheck(o, "rulebook", json_fast_string(r->book->id));
    json_object_set_new_nocheck(o, "report", json_fast_string(classify_report_name(r->report)));
    json_t *cats = json_array();
    for (int i = 0; i < r->n_serious; i++)
        json_array_append_new(cats, json_fast_string(r->book->clauses[r->serious[i].clause].id));
    json_object_set_new_nocheck(o, "serious_categories", cats);
    json_t *qs = json_array();
    for (int i = 0; i < r->n_quarterly; i++)
        json_array_append_new(qs, json_fast_string(r->book->clauses[r->quarterly[i].clause].id));
    json_object_set_new_nocheck(o, "quarterly_clauses", qs);
    json_t *due = json_object();
    if (r->has_prompt)
        json_object_set_new_nocheck(due, "prompt",
                                    json_fast_string(jst_format(r->prompt_ms, buf, sizeof buf)));
    if (r->has_written)
        json_object_set_new_nocheck(due, "written",
                                    json_fast_string(jst_format_date(r->written, buf, sizeof buf)));
    if (r->has_quarterly)
        json_object_set_new_nocheck(
            due, "quarterly", json_fast_string(jst_format_date(r->quarterly_due, buf, sizeof buf)));
    /* optional keys, present only when those reports are owed */
    if (r->has_osore_due)
        json_object_set_new_nocheck(
            due, "osore", json_fast_string(jst_format_date(r->osore_due, buf, sizeof buf)));
    if (r->has_secrecy_due)
        json_object_set_new_nocheck(
            due, "secrecy_leak",
            json_fast_string(jst_format_date(r->secrecy_due, buf, sizeof buf)));
    json_object_set_new_nocheck(o, "due", due);
    json_object_set_new_nocheck(o, "becomes_serious_at",
                                r->has_becomes
                                    ? json_fast_string(jst_format(r->becomes_ms, buf, sizeof buf))
                                    : json_null());
    json_object_set_new_nocheck(o, "reasons", classify_reasons(r, inc, cat, lang));
    /* optional, after the contract's keys (docs/incident-format.md): the
     * clause behind that moment, for a countdown that says what it counts
     * down to */
    if (r->has_becomes && r->becomes_clause >= 0) {
        const rules_clause *cl = &r->book->clauses[r->becomes_clause];
        json_object_set_new_nocheck(o, "becomes_serious_clause",
                                    json_pack("{s:s,s:s,s:s,s:s?}", "id", cl->id, "name",
                                              clause_name(cl, lang), "threshold",
                                              cl->thresholds[r->becomes_threshold].text, "source",
                                              cl->source));
    }
    return o;
}
