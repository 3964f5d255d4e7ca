/*
 * report.c — yearly statistics from the registry (report.h).
 *
 * One pass over the statistics columns of two fiscal years (store_facts)
 * fills every count; only the serious accidents, a handful a year, are read
 * as full records, for their summaries.  Nothing here parses JSON per
 * incident, so a million incidents take one table scan.
 */
#include "report.h"

#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "incident.h"
#include "strmap.h"

const int64_t report_duration_lo_ms[REPORT_DURATIONS] = {
    0, 30 * 60000LL, 60 * 60000LL, 90 * 60000LL, 120 * 60000LL, 300 * 60000LL, 720 * 60000LL,
    1440 * 60000LL,
};
const int64_t report_users_lo[REPORT_USERS] = {0, 500, 5000, 30000, 100000, 1000000};

/* The release leaves blank what the quarterly duty does not cover: under
 * 2 hours and under 30,000 users (注2 ①). */
bool report_cell_outside_duty(int row, int col) { return row < 4 && col < 3; }

int report_duration_row(int64_t ms)
{
    int r = 0;
    while (r + 1 < REPORT_DURATIONS && ms >= report_duration_lo_ms[r + 1])
        r++;
    return r;
}

int report_users_col(int64_t users)
{
    int c = 0;
    while (c + 1 < REPORT_USERS && users >= report_users_lo[c + 1])
        c++;
    return c;
}

long report_pct(long n, long d, int decimals)
{
    if (d <= 0)
        return -1;
    long scale = 100;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    /* half up on the exact fraction: floor((2 n scale + d) / 2d) */
    return (long)((2 * (int64_t)n * scale + d) / (2 * (int64_t)d));
}

long report_delta_pt(long n, long d, long n_prev, long d_prev, bool *known)
{
    long a = report_pct(n, d, 0), b = report_pct(n_prev, d_prev, 0);
    *known = a >= 0 && b >= 0;
    return *known ? a - b : 0;
}

/* ---- names: distinct operators, catalog codes by hash ---- */

/* Count an operator in a set of names; -1 when out of memory. */
static int add_name(strmap *set, const char *name)
{
    return strmap_put(set, name, strlen(name), NULL) ? 0 : -1;
}

/* The catalog index of a code (n bytes), -1 when the catalog lacks it:
 * the catalog's binary search compares strings a dozen times per lookup,
 * and a report looks up two codes per row. */
static int code_index(const strmap *codes, const char *code, size_t n)
{
    void **v = strmap_get(codes, code, n);
    return v ? (int)(intptr_t)*v : -1;
}

static int index_codes(strmap *codes, const char *code, int index)
{
    void **v = strmap_put(codes, code, strlen(code), NULL);
    if (!v)
        return -1;
    *v = (void *)(intptr_t)index;
    return 0;
}

/* ---- groups ---- */

static int group_index(report_group *g, int *n, const char *name)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(g[i].name, name) == 0)
            return i;
    if (*n == REPORT_GROUPS_MAX)
        return -1;
    snprintf(g[*n].name, sizeof g[*n].name, "%s", name);
    return (*n)++;
}

static int sub_index(report_group *g, const char *name)
{
    for (int i = 0; i < g->n_sub; i++)
        if (strcmp(g->sub[i], name) == 0)
            return i;
    if (g->n_sub == REPORT_SUBGROUPS_MAX)
        return -1;
    snprintf(g->sub[g->n_sub], sizeof g->sub[0], "%s", name);
    return g->n_sub++;
}

/* The release's order first, then whatever else the catalog has. */
static void seed_groups(report_counts *c)
{
    static const char *const svc[] = {"voice", "data", "other"};
    static const char *const svc_sub[] = {"fixed", "mobile", "other"};
    static const char *const eq[] = {"switching", "transmission_line", "server", "other"};
    for (int i = 0; i < 3; i++) {
        int g = group_index(c->service_groups, &c->n_service_groups, svc[i]);
        for (int k = 0; k < 3; k++)
            sub_index(&c->service_groups[g], svc_sub[k]);
    }
    for (int i = 0; i < 4; i++)
        group_index(c->equipment_groups, &c->n_equipment_groups, eq[i]);
    sub_index(&c->equipment_groups[0], "subscriber_unit");
    sub_index(&c->equipment_groups[1], "subscriber_cable");
}

/* Catalog index -> (group, subgroup) of one year's tables. */
typedef struct slot {
    short g, s;
} slot;

typedef struct serious_key {
    int64_t started_ms;
    char *op, *id;
} serious_key;

typedef struct scan {
    const catalog *cat;
    report_counts *year[2]; /* [0] = fy, [1] = fy - 1 */
    int fy;
    const char *only_op; /* an operator's own statistics; NULL: every operator */
    slot *svc[2], *eq[2]; /* owned by part 0, shared read-only */
    const strmap *svc_codes, *eq_codes;
    report_counts own[2]; /* parts other than 0 count here, then merge */
    jiko_error own_err;
    strmap ops[2][REPORT_TYPES]; /* distinct operators per year and report type */
    struct serious_key *keys[2]; /* the serious reports, read in full later */
    size_t n_keys[2], cap_keys[2];
    jiko_error *err;
    int failed;
} scan;

/* Each catalog entry's (group, subgroup) slot: `items` are n structs of
 * `stride` bytes whose group and subgroup names sit at the given offsets
 * (services and equipment alike).  -1 when the groups overflow. */
static int map_slots(slot *out, const void *items, size_t n, size_t stride, size_t group_at,
                     size_t sub_at, report_group *groups, int *n_groups)
{
    for (size_t i = 0; i < n; i++) {
        const char *item = (const char *)items + i * stride;
        const char *group = *(char *const *)(item + group_at);
        const char *sub = *(char *const *)(item + sub_at);
        int g = group_index(groups, n_groups, group);
        int sg = g < 0 ? -1 : sub_index(&groups[g], sub);
        if (g < 0 || sg < 0)
            return -1;
        out[i] = (slot){(short)g, (short)sg};
    }
    return 0;
}

static int build_slots(scan *sc, int k, jiko_error *err)
{
    const catalog *cat = sc->cat;
    report_counts *c = sc->year[k];
    sc->svc[k] = calloc(cat->n_services + 1, sizeof(slot));
    sc->eq[k] = calloc(cat->n_equipment + 1, sizeof(slot));
    if (!sc->svc[k] || !sc->eq[k]) {
        error_nomem(err, "counting");
        return -1;
    }
    if (map_slots(sc->svc[k], cat->services, cat->n_services, sizeof *cat->services,
                  offsetof(catalog_service, group), offsetof(catalog_service, subgroup),
                  c->service_groups, &c->n_service_groups) ||
        map_slots(sc->eq[k], cat->equipment, cat->n_equipment, sizeof *cat->equipment,
                  offsetof(catalog_equipment, group), offsetof(catalog_equipment, subgroup),
                  c->equipment_groups, &c->n_equipment_groups)) {
        error_set(err, JIKO_ERR_CONFIG, NULL, 0, NULL,
                  "the catalogs have more statistics groups than a report can show (%d)",
                  REPORT_GROUPS_MAX);
        return -1;
    }
    return 0;
}

static int cause_index(const char *name)
{
    static const char *const names[] = {"equipment", "human", "external", "other"};
    for (int i = 0; name && i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

static int fail_unknown(scan *sc, const store_fact *f, const char *what, const char *code)
{
    error_set(sc->err, JIKO_ERR_STORE, NULL, 0, what,
              "incident of %s has %s code '%s', which the catalog does not know; load the "
              "catalog it was imported with", f->op, what, code);
    sc->failed = 1;
    return 1;
}

static int on_fact(void *ctx, const store_fact *f)
{
    scan *sc = ctx;
    if (sc->only_op && strcmp(f->op, sc->only_op) != 0)
        return 0;
    int k = f->fiscal_year == sc->fy ? 0 : 1;
    report_counts *c = sc->year[k];
    if (f->ongoing) {
        c->open_excluded++;
        return 0;
    }
    int type;
    if (strcmp(f->report, "serious") == 0)
        type = REPORT_SERIOUS;
    else if (strcmp(f->report, "detailed") == 0)
        type = REPORT_DETAILED;
    else if (strcmp(f->report, "simple") == 0)
        type = REPORT_SIMPLE;
    else
        return 0; /* owes no report */
    if (type == REPORT_SIMPLE) {
        c->reports[REPORT_SIMPLE]++;
        return add_name(&sc->ops[k][REPORT_SIMPLE], f->op) ? (sc->failed = 1) : 0;
    }
    if (type == REPORT_SERIOUS) {
        c->serious_records++;
        if (add_name(&sc->ops[k][REPORT_SERIOUS], f->op))
            return sc->failed = 1;
        if (sc->n_keys[k] == sc->cap_keys[k]) {
            size_t cap = sc->cap_keys[k] ? 2 * sc->cap_keys[k] : 16;
            serious_key *grown = realloc(sc->keys[k], cap * sizeof *grown);
            if (!grown)
                return sc->failed = 1;
            sc->keys[k] = grown;
            sc->cap_keys[k] = cap;
        }
        serious_key *key = &sc->keys[k][sc->n_keys[k]];
        key->started_ms = f->started_ms;
        key->op = strdup(f->op);
        key->id = strdup(f->id);
        if (!key->op || !key->id) {
            free(key->op);
            free(key->id);
            return sc->failed = 1;
        }
        sc->n_keys[k]++;
    }
    /* the detailed-form set: serious reports are inside it (note 3) */
    c->detailed++;
    if (add_name(&sc->ops[k][REPORT_DETAILED], f->op))
        return sc->failed = 1;
    int row = report_duration_row(f->ended_ms - f->started_ms), col = report_users_col(f->users);
    if (report_cell_outside_duty(row, col))
        c->unplaced++;
    else
        c->matrix[row][col]++;
    for (const char *p = f->services; p && *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        int i = code_index(sc->svc_codes, p, n);
        if (i < 0) {
            char code[64];
            snprintf(code, sizeof code, "%.*s", (int)(n < 60 ? n : 60), p);
            return fail_unknown(sc, f, "service", code);
        }
        slot s = sc->svc[k][i];
        c->services_total++;
        c->service_groups[s.g].count++;
        c->service_groups[s.g].sub_count[s.s]++;
        p = e ? e + 1 : p + n;
    }
    int ci = cause_index(f->cause);
    if (ci < 0)
        c->cause_unknown++;
    else
        c->cause[ci]++;
    if (f->equipment) {
        int i = code_index(sc->eq_codes, f->equipment, strlen(f->equipment));
        if (i < 0)
            return fail_unknown(sc, f, "equipment", f->equipment);
        slot s = sc->eq[k][i];
        c->equipment_known++;
        c->equipment_groups[s.g].count++;
        c->equipment_groups[s.g].sub_count[s.s]++;
    }
    return 0;
}

/* ---- serious accidents, grouped across wholesale reports ---- */

static char *join_append(char *list, const char *item)
{
    if (!item || !*item)
        return list;
    size_t n = list ? strlen(list) : 0, m = strlen(item);
    /* already there? (exact member of the comma list) */
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == m && memcmp(p, item, m) == 0)
            return list;
        p = e ? e + 1 : p + len;
    }
    char *out = realloc(list, n + m + 2);
    if (!out)
        return list;
    if (n)
        out[n++] = ',';
    memcpy(out + n, item, m + 1);
    return out;
}

typedef struct serious_ctx {
    report_counts *c;
    int failed;
} serious_ctx;

static int on_serious(void *ctx, const store_row *r)
{
    serious_ctx *sx = ctx;
    report_counts *c = sx->c;
    json_t *rec = json_loads(r->record, 0, NULL);
    const char *provider = rec ? json_string_value(json_object_get(rec, "wholesale_provider")) : NULL;
    const char *owner = provider ? provider : r->op;
    report_accident *a = NULL;
    for (int i = 0; i < c->n_accidents; i++) {
        report_accident *x = &c->accidents[i];
        if (x->started_ms == r->started_ms && strcmp(x->ops[0], owner) == 0) {
            a = x;
            break;
        }
    }
    if (!a) {
        report_accident *grown = realloc(c->accidents, (size_t)(c->n_accidents + 1) * sizeof *grown);
        if (!grown)
            goto oom;
        c->accidents = grown;
        a = &c->accidents[c->n_accidents++];
        memset(a, 0, sizeof *a);
        a->started_ms = r->started_ms;
        /* ops[0] is the facility owner even when only receivers reported */
        a->ops = calloc(1, sizeof *a->ops);
        a->ids = calloc(1, sizeof *a->ids);
        if (!a->ops || !a->ids || !(a->ops[0] = strdup(owner)))
            goto oom;
        a->n_ops = 1;
        a->ids[0] = NULL;
    }
    int slot_i = -1;
    for (int i = 0; i < a->n_ops; i++)
        if (strcmp(a->ops[i], r->op) == 0)
            slot_i = i;
    if (slot_i < 0) {
        char **ops = realloc(a->ops, (size_t)(a->n_ops + 1) * sizeof *ops);
        if (ops)
            a->ops = ops;
        char **ids = realloc(a->ids, (size_t)(a->n_ops + 1) * sizeof *ids);
        if (ids)
            a->ids = ids;
        if (!ops || !ids || !(a->ops[a->n_ops] = strdup(r->op)))
            goto oom;
        a->ids[a->n_ops] = NULL;
        slot_i = a->n_ops++;
    }
    if (!a->ids[slot_i] && !(a->ids[slot_i] = strdup(r->id)))
        goto oom;
    if (r->ended_ms > a->ended_ms)
        a->ended_ms = r->ended_ms;
    if (r->users > a->users)
        a->users = r->users;
    /* merge the comma lists item by item */
    for (const char *p = r->serious_categories; p && *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char item[64];
        snprintf(item, sizeof item, "%.*s", (int)(n < 63 ? n : 63), p);
        a->categories = join_append(a->categories, item);
        p = e ? e + 1 : p + n;
    }
    json_t *svcs = rec ? json_object_get(rec, "services") : NULL;
    for (size_t i = 0; i < json_array_size(svcs); i++)
        a->services = join_append(
            a->services, json_string_value(json_object_get(json_array_get(svcs, i), "service")));
    const char *summary = rec ? json_string_value(json_object_get(rec, "summary")) : NULL;
    if (summary && (!a->summary || slot_i == 0)) {
        free(a->summary);
        a->summary = strdup(summary);
        const char *en = json_string_value(json_object_get(rec, "summary_en"));
        free(a->summary_en);
        a->summary_en = en ? strdup(en) : NULL;
        a->users_qualifier = (int)incident_users_qualifier_of(
            json_string_value(json_object_get(rec, "users_qualifier")));
        const char *unit = json_string_value(json_object_get(rec, "users_unit"));
        a->users_are_operators = unit && strcmp(unit, "operators") == 0;
    }
    json_decref(rec);
    return 0;
oom:
    json_decref(rec);
    sx->failed = 1;
    return 1;
}

static int key_order(const void *a, const void *b)
{
    const serious_key *x = a, *y = b;
    if (x->started_ms != y->started_ms)
        return x->started_ms < y->started_ms ? -1 : 1;
    int c = strcmp(x->op, y->op);
    return c ? c : strcmp(x->id, y->id);
}

/* The serious reports are few: read each by its key, in start order, rather
 * than scan the registry again. */
static int load_serious(report_counts *c, store *s, serious_key *keys, size_t n, jiko_error *err)
{
    if (n)
        qsort(keys, n, sizeof *keys, key_order);
    serious_ctx sx = {c, 0};
    for (size_t i = 0; i < n && !sx.failed; i++) {
        store_row row;
        int found = store_get(s, keys[i].op, keys[i].id, &row, err);
        if (found < 0)
            return -1;
        if (found) {
            on_serious(&sx, &row);
            store_row_free(&row);
        }
    }
    if (sx.failed) {
        error_set(err, JIKO_ERR_NOMEM, NULL, 0, NULL, "out of memory while reading the serious accidents");
        return -1;
    }
    c->reports[REPORT_SERIOUS] = c->n_accidents;
    return 0;
}

/* Rows are counted by REPORT_PARTS scans at once (store_facts may run them
 * on their own threads and connections), each into its own counters, which
 * are added together afterwards: the sums are the same in any order. */
enum { REPORT_PARTS = 2 };

static void add_groups(report_group *to, const report_group *from, int n)
{
    for (int g = 0; g < n; g++) {
        to[g].count += from[g].count;
        for (int k = 0; k < from[g].n_sub; k++)
            to[g].sub_count[k] += from[g].sub_count[k];
    }
}

static int merge_part(scan *to, scan *from)
{
    for (int k = 0; k < 2; k++) {
        report_counts *a = to->year[k];
        const report_counts *b = from->year[k];
        for (int t = 0; t < REPORT_TYPES; t++)
            a->reports[t] += b->reports[t];
        a->serious_records += b->serious_records;
        for (int r = 0; r < REPORT_DURATIONS; r++)
            for (int c = 0; c < REPORT_USERS; c++)
                a->matrix[r][c] += b->matrix[r][c];
        a->unplaced += b->unplaced;
        a->detailed += b->detailed;
        a->open_excluded += b->open_excluded;
        a->services_total += b->services_total;
        add_groups(a->service_groups, b->service_groups, a->n_service_groups);
        for (int i = 0; i < 4; i++)
            a->cause[i] += b->cause[i];
        a->cause_unknown += b->cause_unknown;
        a->equipment_known += b->equipment_known;
        add_groups(a->equipment_groups, b->equipment_groups, a->n_equipment_groups);
        for (int t = 0; t < REPORT_TYPES; t++)
            for (size_t i = 0; i < from->ops[k][t].cap; i++)
                if (from->ops[k][t].keys[i] && add_name(&to->ops[k][t], from->ops[k][t].keys[i]))
                    return -1;
        for (size_t i = 0; i < from->n_keys[k]; i++) {
            if (to->n_keys[k] == to->cap_keys[k]) {
                size_t cap = to->cap_keys[k] ? 2 * to->cap_keys[k] : 16;
                serious_key *grown = realloc(to->keys[k], cap * sizeof *grown);
                if (!grown)
                    return -1;
                to->keys[k] = grown;
                to->cap_keys[k] = cap;
            }
            to->keys[k][to->n_keys[k]++] = from->keys[k][i];
        }
        from->n_keys[k] = 0; /* moved */
    }
    return 0;
}

static void free_part(scan *sc, bool owner)
{
    for (int k = 0; k < 2; k++) {
        if (owner) {
            free(sc->svc[k]);
            free(sc->eq[k]);
        }
        for (int t = 0; t < REPORT_TYPES; t++)
            strmap_free(&sc->ops[k][t]);
        for (size_t i = 0; i < sc->n_keys[k]; i++) {
            free(sc->keys[k][i].op);
            free(sc->keys[k][i].id);
        }
        free(sc->keys[k]);
    }
}

int report_compute(report_year *y, store *s, const catalog *cat, int fy, jiko_error *err)
{
    return report_compute_op(y, s, cat, fy, NULL, err);
}

int report_compute_op(report_year *y, store *s, const catalog *cat, int fy, const char *op,
                      jiko_error *err)
{
    memset(y, 0, sizeof *y);
    y->cur.fy = fy;
    y->prev.fy = fy - 1;
    scan *sc = calloc(REPORT_PARTS, sizeof *sc);
    strmap maps[2] = {{0}}; /* service codes, equipment codes */
    int rc = -1;
    if (!sc)
        goto oom;
    for (size_t i = 0; i < cat->n_services; i++)
        if (index_codes(&maps[0], cat->services[i].code, (int)i))
            goto oom;
    for (size_t i = 0; i < cat->n_equipment; i++)
        if (index_codes(&maps[1], cat->equipment[i].code, (int)i))
            goto oom;
    sc[0].cat = cat;
    sc[0].year[0] = &y->cur;
    sc[0].year[1] = &y->prev;
    sc[0].fy = fy;
    sc[0].only_op = op;
    sc[0].err = &sc[0].own_err;
    sc[0].svc_codes = &maps[0];
    sc[0].eq_codes = &maps[1];
    for (int k = 0; k < 2; k++) {
        seed_groups(sc[0].year[k]);
        if (build_slots(&sc[0], k, err))
            goto out;
    }
    void *ctx[REPORT_PARTS];
    for (int p = 0; p < REPORT_PARTS; p++) {
        if (p > 0) {
            sc[p] = sc[0];
            memset(sc[p].ops, 0, sizeof sc[p].ops);
            memset(sc[p].keys, 0, sizeof sc[p].keys);
            memset(sc[p].n_keys, 0, sizeof sc[p].n_keys);
            memset(sc[p].cap_keys, 0, sizeof sc[p].cap_keys);
            for (int k = 0; k < 2; k++) {
                sc[p].own[k] = *sc[0].year[k]; /* same groups, all counts zero */
                sc[p].year[k] = &sc[p].own[k];
            }
            sc[p].err = &sc[p].own_err;
        }
        ctx[p] = &sc[p];
    }
    if (store_facts(s, fy - 1, fy, REPORT_PARTS, on_fact, ctx, err))
        goto out;
    for (int p = 0; p < REPORT_PARTS; p++)
        if (sc[p].failed) {
            if (sc[p].own_err.message[0])
                *err = sc[p].own_err;
            else
                error_set(err, JIKO_ERR_NOMEM, NULL, 0, NULL, "out of memory while counting");
            goto out;
        }
    for (int p = 1; p < REPORT_PARTS; p++)
        if (merge_part(&sc[0], &sc[p])) {
            error_set(err, JIKO_ERR_NOMEM, NULL, 0, NULL, "out of memory while counting");
            goto out;
        }
    for (int k = 0; k < 2; k++) {
        report_counts *c = sc[0].year[k];
        for (int t = 0; t < REPORT_TYPES; t++)
            c->operators[t] = (long)sc[0].ops[k][t].n;
        c->reports[REPORT_DETAILED] = c->detailed;
        if (load_serious(c, s, sc[0].keys[k], sc[0].n_keys[k], err))
            goto out;
    }
    rc = 0;
out:
    for (int p = 0; sc && p < REPORT_PARTS; p++)
        free_part(&sc[p], p == 0);
    free(sc);
    strmap_free(&maps[0]);
    strmap_free(&maps[1]);
    if (rc)
        report_free(y);
    return rc;
oom:
    error_set(err, JIKO_ERR_NOMEM, NULL, 0, NULL, "out of memory");
    goto out;
}
static void free_counts(report_counts *c)
{
    for (int i = 0; i < c->n_accidents; i++) {
        report_accident *a = &c->accidents[i];
        for (int k = 0; k < a->n_ops; k++) {
            free(a->ops[k]);
            free(a->ids[k]);
        }
        free(a->ops);
        free(a->ids);
        free(a->summary);
        free(a->summary_en);
        free(a->categories);
        free(a->services);
    }
    free(c->accidents);
    c->accidents = NULL;
    c->n_accidents = 0;
}

void report_free(report_year *y)
{
    free_counts(&y->cur);
    free_counts(&y->prev);
}
