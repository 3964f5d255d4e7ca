/*
 * synth.c — a published year as synthetic incidents (synth.h).
 *
 * Plan: read the year's figures; take the serious accidents (real records,
 * or synthetic ones placed in the cells the figures name); subtract what
 * they contribute from every target; then build the remaining detailed-form
 * records cell by cell, deal out services, causes and equipment as exact
 * counts (not probabilities, so the totals come out exactly), spread the
 * records over operators, add the simple-form reports, classify every record
 * to prove it owes the report intended, and write them all.
 */
#include "synth.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "conf.h"
#include "incident.h"
#include "intake.h"
#include "jst.h"
#include "lines.h"
#include "report.h"
#include "json_text.h"

enum { MAX_SVC = 6 };
/* Bounds every count read from a figures file: a typo must not ask for
 * billions of records. */
#define SYNTH_MAX_RECORDS 10000000

typedef struct rec {
    int row, col;
    int64_t start, dur, users;
    bool non_telecom, serious;
    short svc[MAX_SVC];
    int n_svc;
    int cause; /* incident_cause */
    int equip; /* catalog index, -1 unknown */
    int op;
} rec;

/* splitmix64: small, fast, and the same everywhere. */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int64_t rnd_range(rng *r, int64_t lo, int64_t hi) /* [lo, hi) */
{
    return hi <= lo ? lo : lo + (int64_t)(rnd(r) % (uint64_t)(hi - lo));
}

/* log-uniform in [lo, hi): user counts are skewed towards small numbers */
static int64_t rnd_log(rng *r, int64_t lo, int64_t hi)
{
    if (hi - lo < 2)
        return lo;
    double u = (double)(rnd(r) >> 11) / 9007199254740992.0;
    double l = (double)(lo < 1 ? 1 : lo), h = (double)hi;
    int64_t v = (int64_t)(l * __builtin_exp(u * __builtin_log(h / l)));
    return v < lo ? lo : v >= hi ? hi - 1 : v;
}

static void shuffle_int(rng *r, int *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(rnd(r) % i);
        int t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

/* ---- the year's figures ---- */

typedef struct figures {
    const conf_section *sec;
    const char *path;
    jiko_error *err;
} figures;

/* What a figure lookup found: a value, nothing (the figure is not
 * published), or a malformed value (err filled). */
enum { FIG_FOUND = 0, FIG_ERROR = -1, FIG_ABSENT = 1 };

/* "N" -> N (*is_pct false); "N%" -> N (*is_pct true); FIG_ABSENT when the
 * key is not there. */
static int fig_value(figures *f, const char *key, long *v, bool *is_pct)
{
    const conf_entry *e = conf_get(f->sec, key);
    if (!e)
        return FIG_ABSENT;
    char *end;
    *v = strtol(e->value, &end, 10);
    *is_pct = *end == '%';
    if (end == e->value || (*end && !(*is_pct && !end[1])) || *v < 0 ||
        *v > (*is_pct ? 100 : SYNTH_MAX_RECORDS)) {
        error_set(f->err, JIKO_ERR_CONFIG, f->path, e->line, key,
                  "expected a count (at most %d) or a share such as 35%%, got '%s'",
                  SYNTH_MAX_RECORDS, e->value);
        return -1;
    }
    return 0;
}

static int fig_count(figures *f, const char *key, long *v)
{
    bool pct;
    int rc = fig_value(f, key, v, &pct);
    if (rc == FIG_ABSENT)
        error_set(f->err, JIKO_ERR_CONFIG, f->path, f->sec->line, key, "missing; expected a count");
    else if (rc == 0 && pct) {
        error_set(f->err, JIKO_ERR_CONFIG, f->path, conf_get(f->sec, key)->line, key, "expected a count, not a share");
        rc = -1;
    }
    return rc ? -1 : 0;
}

/* The count whose share of `parent`, rounded as published, is pct. */
static int count_for_share(figures *f, const char *key, long pct, long parent, long *out)
{
    long base = (pct * parent + 50) / 100;
    for (long d = 0; d <= 3; d++)
        for (int s = -1; s <= 1; s += 2) {
            long n = base + s * d;
            if (n >= 0 && n <= parent && report_pct(n, parent, 0) == pct) {
                *out = n;
                return 0;
            }
        }
    error_set(f->err, JIKO_ERR_CONFIG, f->path, 0, key, "no count out of %ld rounds to %ld%%", parent, pct);
    return -1;
}

/* A target given as a count or as a share of parent; FIG_ABSENT when absent. */
static int fig_target(figures *f, const char *key, long parent, long *out)
{
    long v;
    bool pct;
    int rc = fig_value(f, key, &v, &pct);
    if (rc)
        return rc;
    if (pct)
        return count_for_share(f, key, v, parent, out);
    *out = v;
    return 0;
}

/* Shares "PREFIX.NAME" of `parent` for each name, as counts; returns their
 * sum, or -1 (err filled) when one is missing or malformed. */
static long fig_shares(figures *f, const char *prefix, const char *const *names, int n, long parent,
                       long *out)
{
    long sum = 0;
    for (int i = 0; i < n; i++) {
        char key[96];
        snprintf(key, sizeof key, "%s.%s", prefix, names[i]);
        int rc = fig_target(f, key, parent, &out[i]);
        if (rc) {
            if (rc == FIG_ABSENT)
                error_set(f->err, JIKO_ERR_CONFIG, f->path, f->sec->line, key, "missing; expected a share such as 35%%");
            return -1;
        }
        sum += out[i];
    }
    return sum;
}

/* ---- catalog helpers ---- */

/* Codes of a group/subgroup (subgroup NULL = any subgroup not in `skip`). */
static int pick_codes(const catalog *cat, bool equipment, const char *group, const char *sub,
                      const char *const *skip, int *out, int max)
{
    int n = 0;
    size_t count = equipment ? cat->n_equipment : cat->n_services;
    for (size_t i = 0; i < count && n < max; i++) {
        const char *g = equipment ? cat->equipment[i].group : cat->services[i].group;
        const char *s = equipment ? cat->equipment[i].subgroup : cat->services[i].subgroup;
        if (strcmp(g, group) != 0)
            continue;
        if (equipment && cat->equipment[i].simple_form)
            continue; /* the detailed form is for everything else */
        if (sub && strcmp(s, sub) != 0)
            continue;
        bool skipped = false;
        for (int k = 0; !sub && skip && skip[k]; k++)
            skipped |= strcmp(s, skip[k]) == 0;
        if (!skipped)
            out[n++] = (int)i;
    }
    return n;
}

/* ---- the generator ---- */

typedef struct gen {
    const catalog *cat;
    const rules_set *rules;
    rng r;
    figures fig;
    int fy;
    rec *recs; /* serious first, then detailed */
    long n_serious_recs, n;
    json_t **serious_json; /* real serious records, written as they are */
    jiko_error *err;
} gen;

static const char *const dur_codes[REPORT_DURATIONS] = {
    "lt_30m", "30m_1h", "1h_1h30m", "1h30m_2h", "2h_5h", "5h_12h", "12h_24h", "ge_24h",
};
static const char *const user_codes[REPORT_USERS] = {
    "users_lt_500", "users_500_5k", "users_5k_30k", "users_30k_100k", "users_100k_1m", "users_ge_1m",
};

static void place_in_cell(gen *g, rec *x, int row, int col)
{
    x->row = row;
    x->col = col;
    int64_t lo = report_duration_lo_ms[row];
    int64_t hi = row + 1 < REPORT_DURATIONS ? report_duration_lo_ms[row + 1] : lo + 72 * JST_MS_PER_HOUR;
    x->dur = rnd_range(&g->r, lo / 60000 + (lo ? 0 : 1), hi / 60000) * 60000;
    int64_t ulo = report_users_lo[col];
    int64_t uhi = col + 1 < REPORT_USERS ? report_users_lo[col + 1] : 3000000;
    x->users = rnd_log(&g->r, ulo ? ulo : 1, uhi);
    int64_t fy0 = jst_midnight((jst_date){g->fy, 4, 1}), fy1 = jst_midnight((jst_date){g->fy + 1, 4, 1});
    x->start = rnd_range(&g->r, fy0 / 60000, fy1 / 60000) * 60000;
    /* only the published serious accidents may meet a serious threshold:
     * the lowest line of any category is 1 h and 30,000 users */
    x->non_telecom = x->dur >= JST_MS_PER_HOUR && x->users >= 30000;
}

static int load_serious(gen *g, const char *data_dir)
{
    const conf_entry *e = conf_get(g->fig.sec, "serious");
    const conf_entry *syn = conf_get(g->fig.sec, "serious.synthetic");
    if (e) {
        char path[1024];
        snprintf(path, sizeof path, "%s%s%s", e->value[0] == '/' ? "" : data_dir,
                 e->value[0] == '/' ? "" : "/", e->value);
        FILE *fp = fopen(path, "r");
        if (!fp) {
            error_set(g->err, JIKO_ERR_CONFIG, g->fig.path, e->line, "serious", "cannot read %s", path);
            return -1;
        }
        lines in;
        lines_init(&in, fp, path);
        char *line;
        size_t len;
        int got;
        while ((got = lines_next(&in, &line, &len, g->err)) > 0) {
            if (!intake_line(&line, &len, in.lineno))
                continue;
            incident inc;
            if (incident_parse(&inc, line, len, g->cat, path, in.lineno, g->err)) {
                lines_free(&in);
                fclose(fp);
                return -1;
            }
            rec *x = &g->recs[g->n_serious_recs];
            memset(x, 0, sizeof *x);
            x->serious = true;
            x->start = inc.started_ms;
            x->dur = inc.ended_ms - inc.started_ms;
            x->users = inc.users;
            x->row = report_duration_row(x->dur);
            x->col = report_users_col(x->users);
            for (size_t k = 0; k < inc.n_services && k < MAX_SVC; k++)
                x->svc[x->n_svc++] = (short)inc.services[k].svc;
            x->cause = inc.cause == INCIDENT_CAUSE_NONE ? INCIDENT_CAUSE_OTHER : (int)inc.cause;
            x->equip = inc.equipment;
            x->op = -1;
            g->serious_json[g->n_serious_recs++] = json_incref(inc.json);
            incident_free(&inc);
        }
        lines_free(&in);
        fclose(fp);
        if (got < 0)
            return -1;
    } else if (syn) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", syn->value);
        for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
            char *colon = strchr(tok, ':');
            int row = -1, col = -1;
            for (int i = 0; colon && i < REPORT_DURATIONS; i++)
                if (strlen(dur_codes[i]) == (size_t)(colon - tok) &&
                    strncmp(tok, dur_codes[i], (size_t)(colon - tok)) == 0)
                    row = i;
            for (int i = 0; colon && i < REPORT_USERS; i++)
                if (strcmp(colon + 1, user_codes[i]) == 0)
                    col = i;
            if (row < 0 || col < 0) {
                error_set(g->err, JIKO_ERR_CONFIG, g->fig.path, syn->line, "serious.synthetic",
                          "expected DURATION:USERS cells such as 2h_5h:users_100k_1m, got '%s'", tok);
                return -1;
            }
            rec *x = &g->recs[g->n_serious_recs];
            memset(x, 0, sizeof *x);
            place_in_cell(g, x, row, col);
            x->non_telecom = false;
            x->serious = true;
            int a = catalog_service_index(g->cat, "ftth", 4);
            int b = catalog_service_index(g->cat, "internet_access", 15);
            if (a >= 0)
                x->svc[x->n_svc++] = (short)a;
            if (b >= 0)
                x->svc[x->n_svc++] = (short)b;
            x->cause = INCIDENT_CAUSE_EQUIPMENT;
            x->equip = catalog_equipment_index(g->cat, "switch", 6);
            x->op = -1;
            g->serious_json[g->n_serious_recs++] = NULL;
        }
    }
    return 0;
}

/* A pool of codes dealt out as exact counts. */
typedef struct pool {
    int *code;
    long n, cap;
} pool;

static int pool_add(pool *p, rng *r, const int *codes, int n_codes, long count)
{
    if (count <= 0 || n_codes <= 0)
        return count < 0 ? -1 : count > 0 ? -1 : 0;
    if (p->n + count > p->cap) {
        long cap = (p->n + count) * 2;
        int *c = realloc(p->code, (size_t)cap * sizeof *c);
        if (!c)
            return -1;
        p->code = c;
        p->cap = cap;
    }
    for (long i = 0; i < count; i++)
        p->code[p->n++] = codes[rnd(r) % (uint64_t)n_codes];
    return 0;
}

static int over(gen *g, const char *what, long target, long taken)
{
    error_set(g->err, JIKO_ERR_CONFIG, g->fig.path, 0, what,
              "the serious accidents already account for %ld, more than the %ld published", taken,
              target);
    return -1;
}

/* Services: exact group and subgroup counts, less what the serious took. */
static int deal_services(gen *g, pool *p, long detailed)
{
    static const char *const groups[] = {"voice", "data", "other"};
    static const char *const subs[] = {"fixed", "mobile", "other"};
    const catalog *cat = g->cat;
    long total = 0, gcount[3] = {0};
    int rc = fig_target(&g->fig, "services.total", 0, &total);
    bool have_total = rc == 0;
    if (rc == FIG_ERROR)
        return -1;
    (void)detailed;
    int missing = -1;
    long sum = 0;
    for (int i = 0; i < 3; i++) {
        char key[64];
        snprintf(key, sizeof key, "services.%s", groups[i]);
        rc = fig_target(&g->fig, key, total, &gcount[i]);
        if (rc == FIG_ERROR)
            return -1;
        if (rc == FIG_ABSENT)
            missing = i;
        else
            sum += gcount[i];
    }
    if (missing >= 0) {
        if (!have_total) {
            error_set(g->err, JIKO_ERR_CONFIG, g->fig.path, 0, "services.total",
                      "needed when a service group is not given");
            return -1;
        }
        gcount[missing] = total - sum;
        if (gcount[missing] < 0) {
            error_set(g->err, JIKO_ERR_CONFIG, g->fig.path, 0, "services", "the service groups add up to %ld, more than %ld",
                      sum, total);
            return -1;
        }
    }
    for (int i = 0; i < 3; i++) {
        long taken_g = 0, sub_target[3], taken_s[3] = {0};
        for (long k = 0; k < g->n_serious_recs; k++)
            for (int s = 0; s < g->recs[k].n_svc; s++) {
                const catalog_service *cs = &cat->services[g->recs[k].svc[s]];
                if (strcmp(cs->group, groups[i]) == 0) {
                    taken_g++;
                    for (int j = 0; j < 3; j++)
                        taken_s[j] += strcmp(cs->subgroup, subs[j]) == 0;
                }
            }
        long sub_sum = 0;
        int sub_missing = 2;
        for (int j = 0; j < 3; j++) {
            char key[64];
            snprintf(key, sizeof key, "services.%s.%s", groups[i], subs[j]);
            rc = fig_target(&g->fig, key, gcount[i], &sub_target[j]);
            if (rc == FIG_ERROR)
                return -1;
            if (rc == FIG_ABSENT)
                sub_target[j] = -1;
            else
                sub_sum += sub_target[j];
        }
        for (int j = 0; j < 3; j++)
            if (sub_target[j] < 0 && j != sub_missing)
                sub_target[j] = 0;
        /* a group without a published split keeps whatever its codes are */
        bool split = sub_target[0] >= 0 && (sub_target[0] || sub_target[1]);
        if (!split) {
            int codes[64];
            int n = pick_codes(cat, false, groups[i], NULL, NULL, codes, 64);
            if (gcount[i] < taken_g)
                return over(g, groups[i], gcount[i], taken_g);
            if (pool_add(p, &g->r, codes, n, gcount[i] - taken_g))
                goto oom;
            continue;
        }
        sub_target[sub_missing] = gcount[i] - sub_sum;
        for (int j = 0; j < 3; j++) {
            int codes[64];
            int n = pick_codes(cat, false, groups[i], subs[j], NULL, codes, 64);
            if (sub_target[j] < taken_s[j])
                return over(g, subs[j], sub_target[j], taken_s[j]);
            if (pool_add(p, &g->r, codes, n, sub_target[j] - taken_s[j]))
                goto oom;
        }
    }
    return 0;
oom:
    error_set(g->err, JIKO_ERR_CONFIG, g->fig.path, 0, "services", "cannot deal the services (no catalog codes or out of memory)");
    return -1;
}

/* Equipment: known accidents by group and published subgroup. */
static int deal_equipment(gen *g, pool *p, long detailed, long *unknown)
{
    static const char *const groups[] = {"switching", "transmission_line", "server", "other"};
    static const char *const pub_sub[] = {"subscriber_unit", "subscriber_cable", NULL, NULL};
    const catalog *cat = g->cat;
    long known;
    if (fig_count(&g->fig, "equipment.known", &known))
        return -1;
    long gcount[4], sum = fig_shares(&g->fig, "equipment", groups, 3, known, gcount);
    if (sum < 0)
        return -1;
    gcount[3] = known - sum;
    if (gcount[3] < 0 || known > detailed) {
        error_set(g->err, JIKO_ERR_CONFIG, g->fig.path, 0, "equipment",
                  "the equipment groups add up to %ld of %ld known, and %ld accidents in all", sum,
                  known, detailed);
        return -1;
    }
    long taken_known = 0;
    for (int i = 0; i < 4; i++) {
        long taken_g = 0, taken_s = 0, sub_target = 0;
        for (long k = 0; k < g->n_serious_recs; k++) {
            int e = g->recs[k].equip;
            if (e < 0 || strcmp(cat->equipment[e].group, groups[i]) != 0)
                continue;
            taken_g++;
            taken_s += pub_sub[i] && strcmp(cat->equipment[e].subgroup, pub_sub[i]) == 0;
        }
        taken_known += taken_g;
        if (gcount[i] < taken_g)
            return over(g, groups[i], gcount[i], taken_g);
        if (pub_sub[i]) {
            char key[96];
            snprintf(key, sizeof key, "equipment.%s.%s", groups[i], pub_sub[i]);
            if (fig_target(&g->fig, key, gcount[i], &sub_target) == FIG_ERROR)
                return -1;
            if (sub_target < taken_s)
                return over(g, pub_sub[i], sub_target, taken_s);
            int codes[64];
            int n = pick_codes(cat, true, groups[i], pub_sub[i], NULL, codes, 64);
            if (pool_add(p, &g->r, codes, n, sub_target - taken_s))
                goto oom;
        }
        const char *skip[] = {pub_sub[i], "satellite", NULL};
        int codes[64];
        int n = pick_codes(cat, true, groups[i], NULL, pub_sub[i] ? skip : skip + 1, codes, 64);
        if (pool_add(p, &g->r, codes, n, (gcount[i] - sub_target) - (taken_g - taken_s)))
            goto oom;
    }
    long serious_unknown = 0;
    for (long k = 0; k < g->n_serious_recs; k++)
        serious_unknown += g->recs[k].equip < 0;
    *unknown = (detailed - known) - serious_unknown;
    if (*unknown < 0)
        return over(g, "equipment.known", detailed - known, serious_unknown);
    (void)taken_known;
    return 0;
oom:
    error_set(g->err, JIKO_ERR_CONFIG, g->fig.path, 0, "equipment", "cannot deal the equipment (no catalog codes or out of memory)");
    return -1;
}

static int deal_causes(gen *g, long detailed, long count[4])
{
    static const char *const names[] = {"equipment", "human", "external", "other"};
    long sum = fig_shares(&g->fig, "causes", names, 3, detailed, count);
    if (sum < 0)
        return -1;
    count[3] = detailed - sum;
    if (count[3] < 0) {
        error_set(g->err, JIKO_ERR_CONFIG, g->fig.path, 0, "causes",
                  "equipment, human and external causes add up to %ld, more than the %ld accidents",
                  sum, detailed);
        return -1;
    }
    for (long k = 0; k < g->n_serious_recs; k++)
        count[g->recs[k].cause]--;
    for (int i = 0; i < 4; i++)
        if (count[i] < 0)
            return over(g, names[i], count[i], 0);
    return 0;
}

static bool external_friendly(const catalog *cat, int e)
{
    if (e < 0)
        return true;
    const char *s = cat->equipment[e].subgroup, *gr = cat->equipment[e].group;
    return strcmp(gr, "transmission_line") == 0 || strcmp(s, "power") == 0;
}

/* Pair causes with equipment as the release describes them, then give the
 * pairs to records: non-telecom failures get (unknown, external) first. */
static int pair_causes(gen *g, rec *d, long n, const pool *eq, long unknown, const long cause[4])
{
    const catalog *cat = g->cat;
    long total = eq->n + unknown;
    if (total != n || cause[0] + cause[1] + cause[2] + cause[3] != n) {
        error_set(g->err, JIKO_ERR_CONFIG, g->fig.path, 0, "equipment",
                  "%ld equipment entries and %ld causes for %ld accidents: the figures do not add up",
                  total, cause[0] + cause[1] + cause[2] + cause[3], n);
        return -1;
    }
    int *equip = malloc((size_t)n * sizeof *equip), *caus = malloc((size_t)n * sizeof *caus);
    int *order = malloc((size_t)n * sizeof *order);
    if (!equip || !caus || !order) {
        free(equip);
        free(caus);
        free(order);
        error_set(g->err, JIKO_ERR_NOMEM, NULL, 0, NULL, "out of memory");
        return -1;
    }
    /* equipment sorted: unknown, then cables and power, then the rest */
    long k = 0;
    for (long i = 0; i < unknown; i++)
        equip[k++] = -1;
    for (long i = 0; i < eq->n; i++)
        if (external_friendly(cat, eq->code[i]))
            equip[k++] = eq->code[i];
    for (long i = 0; i < eq->n; i++)
        if (!external_friendly(cat, eq->code[i]))
            equip[k++] = eq->code[i];
    /* causes: external first, so they meet unknown equipment and cables */
    k = 0;
    for (long i = 0; i < cause[INCIDENT_CAUSE_EXTERNAL]; i++)
        caus[k++] = INCIDENT_CAUSE_EXTERNAL;
    long rest_start = k;
    for (int c = 0; c < 4; c++)
        if (c != INCIDENT_CAUSE_EXTERNAL)
            for (long i = 0; i < cause[c]; i++)
                caus[k++] = c;
    shuffle_int(&g->r, caus + rest_start, (size_t)(n - rest_start));
    /* records: non-telecom ones take the first pairs (unknown, external) */
    k = 0;
    for (long i = 0; i < n; i++)
        if (d[i].non_telecom)
            order[k++] = (int)i;
    long nt = k;
    for (long i = 0; i < n; i++)
        if (!d[i].non_telecom)
            order[k++] = (int)i;
    shuffle_int(&g->r, order + nt, (size_t)(n - nt));
    /* pair index p goes to order[p]; the rest of the pairs are shuffled
     * among the telecom records so that causes are not sorted by time */
    for (long p = 0; p < n; p++) {
        d[order[p]].equip = equip[p];
        d[order[p]].cause = caus[p];
    }
    int bad = 0;
    for (long i = 0; i < nt; i++)
        bad |= d[order[i]].equip >= 0 || d[order[i]].cause != INCIDENT_CAUSE_EXTERNAL;
    free(equip);
    free(caus);
    free(order);
    if (bad) {
        error_set(g->err, JIKO_ERR_CONFIG, g->fig.path, 0, "equipment",
                  "too few accidents with unknown equipment and external cause for the %ld "
                  "non-telecom failures", nt);
        return -1;
    }
    return 0;
}

static int deal_out_services(gen *g, rec *d, long n, pool *p)
{
    if (p->n < n) {
        error_set(g->err, JIKO_ERR_CONFIG, g->fig.path, 0, "services",
                  "%ld services for %ld accidents: every accident needs at least one", p->n, n);
        return -1;
    }
    shuffle_int(&g->r, p->code, (size_t)p->n);
    for (long i = 0; i < n; i++)
        d[i].svc[d[i].n_svc++] = (short)p->code[i];
    for (long i = n; i < p->n; i++) {
        long start = (long)(rnd(&g->r) % (uint64_t)n), tries = 0;
        for (; tries < n; tries++) {
            rec *x = &d[(start + tries) % n];
            bool dup = x->n_svc == MAX_SVC;
            for (int k = 0; !dup && k < x->n_svc; k++)
                dup = x->svc[k] == p->code[i];
            if (!dup) {
                x->svc[x->n_svc++] = (short)p->code[i];
                break;
            }
        }
        if (tries == n) {
            error_set(g->err, JIKO_ERR_CONFIG, g->fig.path, 0, "services", "cannot place service %s in any accident",
                      g->cat->services[p->code[i]].code);
            return -1;
        }
    }
    return 0;
}

/* ---- operators ---- */

static const char *const name_a[] = {
    "Aozora", "Hikari", "Midori", "Kumo", "Tsubasa", "Nagisa", "Hoshi", "Sora", "Kaze", "Umi",
    "Yama", "Mori", "Asahi", "Yuuhi", "Kawa", "Hana", "Izumi", "Kirin", "Suzu", "Tsuki",
    "Akane", "Hibiki", "Minato", "Kasumi", "Shizuku", "Hotaru",
};
static const char *const name_b[] = {
    "Net", "Telecom", "Cable", "Mobile", "Broadband", "Networks", "Communications", "Link",
};

static void op_name(int i, char *buf, size_t size)
{
    int na = (int)(sizeof name_a / sizeof name_a[0]), nb = (int)(sizeof name_b / sizeof name_b[0]);
    int a = i % na, b = (i / na) % nb, round = i / (na * nb);
    if (round)
        snprintf(buf, size, "%s %s %d K.K. (synthetic)", name_a[a], name_b[b], round + 1);
    else
        snprintf(buf, size, "%s %s K.K. (synthetic)", name_a[a], name_b[b]);
}

/* Give every operator at least one record, the rest skewed (Zipf-like). */
static void assign_ops(rng *r, rec *d, long n, int first_op, int n_ops)
{
    int *order = malloc((size_t)n * sizeof *order);
    if (!order)
        return;
    for (long i = 0; i < n; i++)
        order[i] = (int)i;
    shuffle_int(r, order, (size_t)n);
    for (long i = 0; i < n; i++) {
        int op;
        if (i < n_ops)
            op = (int)i;
        else {
            /* P(op = k) ~ 1/(k+1): a few carriers file most reports */
            double u = (double)(rnd(r) >> 11) / 9007199254740992.0;
            op = (int)(__builtin_exp(u * __builtin_log((double)n_ops + 1.0)) - 1.0);
            if (op >= n_ops)
                op = n_ops - 1;
        }
        d[order[i]].op = first_op + op;
    }
    free(order);
}

/* ---- writing ---- */

static const char *const regions[] = {"北海道", "東北", "関東", "東京都", "中部", "北陸", "近畿",
                                      "中国", "四国", "九州", "沖縄", "全国"};
static const char *const cause_detail[4][3] = {
    {"自然故障（機器の経年劣化）", "ソフトウェア不具合", "機器の動作不良"},
    {"工事時の作業ミス", "機器の設定誤り", "手順の誤り"},
    {"他の電気通信事業者の設備障害", "第三者によるケーブル切断", "商用電源の停電"},
    {"異常トラヒックによる輻輳", "原因不明", "原因調査中"},
};

static json_t *record_json(gen *g, const rec *x, const char *id, const char *op)
{
    const catalog *cat = g->cat;
    char s[40], e[40];
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "operator", json_string(op));
    json_object_set_new(o, "started_at", json_string(jst_format(x->start, s, sizeof s)));
    json_object_set_new(o, "ended_at", json_string(jst_format(x->start + x->dur, e, sizeof e)));
    if (x->non_telecom)
        json_object_set_new(o, "facility", json_string("non_telecom"));
    json_t *svcs = json_array();
    for (int k = 0; k < x->n_svc; k++) {
        int64_t u = k == 0 ? x->users : rnd_range(&g->r, x->users / 4 + 1, x->users + 1);
        json_array_append_new(svcs, json_pack("{s:s,s:s,s:I}", "service",
                                              cat->services[x->svc[k]].code, "effect",
                                              rnd(&g->r) % 5 ? "stop" : "degrade", "users",
                                              (json_int_t)u));
    }
    json_object_set_new(o, "services", svcs);
    json_object_set_new(o, "users", json_integer(x->users));
    json_object_set_new(o, "cause",
                        json_pack("{s:s,s:s}", "category", incident_cause_name(x->cause), "detail",
                                  x->non_telecom ? "商用電源の停電（建物設備）"
                                                 : cause_detail[x->cause][rnd(&g->r) % 3]));
    json_object_set_new(o, "equipment",
                        x->equip >= 0 ? json_string(cat->equipment[x->equip].code) : json_null());
    json_object_set_new(o, "region", json_string(regions[rnd(&g->r) % 12]));
    char summary[300];
    snprintf(summary, sizeof summary, "%sにより%sが%s（合成データ）",
             x->equip >= 0 ? cat->equipment[x->equip].name_ja : "他事業者設備の障害",
             cat->services[x->svc[0]].name_ja, x->non_telecom ? "停止" : "停止又は品質低下");
    json_object_set_new(o, "summary", json_string(summary));
    return o;
}

/* Classify the record and make sure it owes `want`. */
static int check_and_write(gen *g, FILE *out, json_t *o, const char *want)
{
    incident inc;
    if (incident_from_json(&inc, o, g->cat, "synth", 0, g->err))
        return -1;
    const rulebook *b = rules_select(g->rules, inc.started_ms);
    classify_result r;
    classify_incident(b, g->cat, &inc, inc.started_ms, &r);
    const char *got = classify_report_name(r.report);
    if (strcmp(got, want) != 0) {
        error_set(g->err, JIKO_ERR_CONFIG, NULL, 0, json_string_value(json_object_get(o, "id")),
                  "synthetic record classifies as %s, not %s (a bug in synth)", got, want);
        incident_free(&inc);
        return -1;
    }
    incident_free(&inc);
    char *text = json_text_of(o, 0, false, NULL);
    if (!text) {
        error_set(g->err, JIKO_ERR_NOMEM, NULL, 0, NULL, "out of memory");
        return -1;
    }
    fputs(text, out);
    fputc('\n', out);
    free(text);
    return 0;
}

static int write_simple(gen *g, FILE *out, long n, int n_ops, int first_shared, int n_detailed_ops,
                        long *written)
{
    const catalog *cat = g->cat;
    static const char *const eq_codes[] = {"radio_base_station", "remote_subscriber_unit", "dslam"};
    static const char *const svc_for[3][2] = {
        {"mobile_voice", "mobile_data"}, {"analog_phone", "ftth"}, {"dsl", "dsl"}};
    rec *d = calloc((size_t)n + 1, sizeof *d);
    if (!d) {
        error_set(g->err, JIKO_ERR_NOMEM, NULL, 0, NULL, "out of memory");
        return -1;
    }
    /* simple-form operators: half of them also file detailed reports
     * (mobile carriers: base stations and everything else) */
    int shared = n_ops / 2 < n_detailed_ops ? n_ops / 2 : n_detailed_ops;
    for (long i = 0; i < n; i++) {
        rec *x = &d[i];
        x->dur = rnd_range(&g->r, 120, 48 * 60) * 60000;
        x->users = rnd_log(&g->r, 1, 30000);
        int64_t fy0 = jst_midnight((jst_date){g->fy, 4, 1}), fy1 = jst_midnight((jst_date){g->fy + 1, 4, 1});
        x->start = rnd_range(&g->r, fy0 / 60000, fy1 / 60000) * 60000;
        int k = (int)(rnd(&g->r) % 10);
        int e = k < 6 ? 0 : k < 9 ? 1 : 2;
        x->equip = catalog_equipment_index(cat, eq_codes[e], strlen(eq_codes[e]));
        const char *sc = svc_for[e][rnd(&g->r) % 2];
        int sv = catalog_service_index(cat, sc, strlen(sc));
        if (x->equip < 0 || sv < 0) {
            free(d);
            error_set(g->err, JIKO_ERR_CONFIG, NULL, 0, "catalog", "simple-form equipment or service codes are missing");
            return -1;
        }
        x->svc[x->n_svc++] = (short)sv;
        x->cause = rnd(&g->r) % 3 ? INCIDENT_CAUSE_EQUIPMENT : INCIDENT_CAUSE_EXTERNAL;
    }
    assign_ops(&g->r, d, n, 0, n_ops);
    int rc = 0;
    for (long i = 0; i < n && !rc; i++) {
        char id[64], op[128];
        int o = d[i].op < shared ? first_shared + d[i].op : n_detailed_ops + (d[i].op - shared);
        op_name(o, op, sizeof op);
        snprintf(id, sizeof id, "syn-%d-s%06ld", g->fy, i + 1);
        json_t *j = record_json(g, &d[i], id, op);
        rc = check_and_write(g, out, j, "simple");
        json_decref(j);
        (*written)++;
    }
    free(d);
    return rc;
}

int synth_year(FILE *out, const char *stats_path, const char *data_dir, const catalog *cat,
               const rules_set *rules, int fy, uint64_t seed, synth_stats *st, jiko_error *err)
{
    memset(st, 0, sizeof *st);
    conf_file cf;
    if (conf_load(stats_path, &cf, err))
        return -1;
    gen g = {.cat = cat, .rules = rules, .r = {seed * 0x2545f4914f6cdd1dULL + (uint64_t)fy},
             .fy = fy, .err = err};
    g.fig.path = stats_path;
    g.fig.err = err;
    char want[32];
    snprintf(want, sizeof want, "%d", fy);
    for (size_t i = 0; i < cf.n_sections; i++)
        if (strcmp(cf.sections[i].type, "year") == 0 && strcmp(cf.sections[i].name, want) == 0)
            g.fig.sec = &cf.sections[i];
    int rc = -1;
    pool svc = {0}, eq = {0};
    if (!g.fig.sec) {
        error_set(err, JIKO_ERR_CONFIG, stats_path, 0, NULL, "no [year %d] section", fy);
        goto out;
    }
    long matrix[REPORT_DURATIONS][REPORT_USERS], total = 0;
    for (int r = 0; r < REPORT_DURATIONS; r++) {
        char key[64];
        snprintf(key, sizeof key, "matrix.%s", dur_codes[r]);
        const conf_entry *e = conf_get(g.fig.sec, key);
        if (!e) {
            error_set(err, JIKO_ERR_CONFIG, stats_path, g.fig.sec->line, key, "missing; expected 6 cells");
            goto out;
        }
        char buf[256];
        snprintf(buf, sizeof buf, "%s", e->value);
        int c = 0;
        for (char *t = strtok(buf, " \t"); t; t = strtok(NULL, " \t"), c++) {
            if (c >= REPORT_USERS)
                break;
            bool na = strcmp(t, "na") == 0;
            if (na != report_cell_outside_duty(r, c)) {
                error_set(err, JIKO_ERR_CONFIG, stats_path, e->line, key, "cell %d must be %s", c + 1,
                          na ? "a count (inside the quarterly duty)" : "na (outside the duty)");
                goto out;
            }
            char *e2 = t;
            matrix[r][c] = na ? 0 : strtol(t, &e2, 10);
            if (!na && (*e2 || e2 == t || matrix[r][c] < 0 || matrix[r][c] > SYNTH_MAX_RECORDS)) {
                error_set(err, JIKO_ERR_CONFIG, stats_path, e->line, key,
                          "cell %d: expected a count from 0 to %d or na, got '%s'", c + 1,
                          SYNTH_MAX_RECORDS, t);
                goto out;
            }
            total += matrix[r][c];
        }
        if (c != REPORT_USERS) {
            error_set(err, JIKO_ERR_CONFIG, stats_path, e->line, key, "expected 6 cells, got %d", c);
            goto out;
        }
    }
    g.recs = calloc((size_t)total + 1, sizeof *g.recs);
    g.serious_json = calloc((size_t)total + 1, sizeof *g.serious_json);
    if (!g.recs || !g.serious_json) {
        error_set(err, JIKO_ERR_NOMEM, NULL, 0, NULL, "out of memory");
        goto out;
    }
    if (load_serious(&g, data_dir))
        goto out;
    for (long k = 0; k < g.n_serious_recs; k++) {
        rec *x = &g.recs[k];
        if (report_cell_outside_duty(x->row, x->col) || matrix[x->row][x->col]-- <= 0) {
            error_set(err, JIKO_ERR_CONFIG, stats_path, 0, "matrix", "serious accident %ld does not fit the matrix",
                      k + 1);
            goto out;
        }
    }
    /* the remaining detailed records, cell by cell */
    rec *d = g.recs + g.n_serious_recs;
    long n = 0;
    for (int r = 0; r < REPORT_DURATIONS; r++)
        for (int c = 0; c < REPORT_USERS; c++)
            for (long i = 0; i < matrix[r][c]; i++)
                place_in_cell(&g, &d[n++], r, c);
    long unknown, cause[4];
    if (deal_services(&g, &svc, total) || deal_out_services(&g, d, n, &svc) ||
        deal_equipment(&g, &eq, total, &unknown) || deal_causes(&g, total, cause) ||
        pair_causes(&g, d, n, &eq, unknown, cause))
        goto out;
    /* operators */
    long ops_detailed, ops_simple, simple;
    if (fig_count(&g.fig, "operators.detailed", &ops_detailed) ||
        fig_count(&g.fig, "operators.simple", &ops_simple) ||
        fig_count(&g.fig, "reports.simple", &simple))
        goto out;
    /* the real serious records bring their own operators */
    int real_ops = 0;
    for (long k = 0; k < g.n_serious_recs; k++) {
        if (!g.serious_json[k])
            continue;
        const char *op = json_string_value(json_object_get(g.serious_json[k], "operator"));
        bool seen = false;
        for (long j = 0; j < k; j++)
            seen |= g.serious_json[j] &&
                    strcmp(op, json_string_value(json_object_get(g.serious_json[j], "operator"))) == 0;
        real_ops += !seen;
    }
    /* synthetic serious records each get an operator of their own */
    int syn_serious = 0;
    for (long k = 0; k < g.n_serious_recs; k++)
        syn_serious += !g.serious_json[k];
    int n_syn_ops = (int)ops_detailed - real_ops - syn_serious;
    if (n_syn_ops < 1 || n < n_syn_ops) {
        error_set(err, JIKO_ERR_CONFIG, stats_path, 0, "operators.detailed", "cannot spread %ld accidents over %d operators",
                  n, n_syn_ops);
        goto out;
    }
    assign_ops(&g.r, d, n, syn_serious, n_syn_ops);
    /* write: serious first (real ones verbatim), then detailed, then simple */
    rc = 0;
    for (long k = 0; k < g.n_serious_recs && !rc; k++) {
        if (g.serious_json[k]) {
            rc = check_and_write(&g, out, g.serious_json[k], "serious");
        } else {
            char id[64], op[128];
            op_name((int)k, op, sizeof op);
            snprintf(id, sizeof id, "syn-%d-x%04ld", fy, k + 1);
            json_t *j = record_json(&g, &g.recs[k], id, op);
            rc = check_and_write(&g, out, j, "serious");
            json_decref(j);
        }
        st->serious_records++;
    }
    for (long i = 0; i < n && !rc; i++) {
        char id[64], op[128];
        op_name(d[i].op, op, sizeof op);
        snprintf(id, sizeof id, "syn-%d-d%06ld", fy, i + 1);
        json_t *j = record_json(&g, &d[i], id, op);
        rc = check_and_write(&g, out, j, "detailed");
        json_decref(j);
        st->detailed++;
    }
    if (!rc)
        rc = write_simple(&g, out, simple, (int)ops_simple, syn_serious,
                          syn_serious + n_syn_ops, &st->simple);
    st->operators_detailed = ops_detailed;
    st->operators_simple = ops_simple;
out:
    for (long k = 0; g.serious_json && k < g.n_serious_recs; k++)
        json_decref(g.serious_json[k]);
    free(g.serious_json);
    free(g.recs);
    free(svc.code);
    free(eq.code);
    conf_free(&cf);
    return rc;
}
