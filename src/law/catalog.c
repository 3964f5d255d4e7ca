/* catalog.c — loading and looking up the service and equipment catalogs. */
#include "catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool one_of(const char *v, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcmp(v, *allowed) == 0)
            return true;
    return false;
}

static int parse_bool(const conf_entry *e, const char *path, bool *out, jiko_error *err)
{
    if (strcmp(e->value, "yes") == 0) {
        *out = true;
        return 0;
    }
    if (strcmp(e->value, "no") == 0) {
        *out = false;
        return 0;
    }
    error_set(err, JIKO_ERR_CONFIG, path, e->line, e->key, "expected 'yes' or 'no', got '%s'", e->value);
    return -1;
}

static bool valid_code(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static int cmp_service(const void *a, const void *b)
{
    return strcmp(((const catalog_service *)a)->code, ((const catalog_service *)b)->code);
}

static int cmp_equipment(const void *a, const void *b)
{
    return strcmp(((const catalog_equipment *)a)->code, ((const catalog_equipment *)b)->code);
}

static const char *const service_groups[] = {"voice", "data", "other", NULL};
static const char *const service_subgroups[] = {"fixed", "mobile", "other", NULL};
static const char *const equipment_groups[] = {"switching", "transmission_line", "server", "other",
                                               NULL};

/* Common checks on a section header: type and a code-shaped name. */
static int check_header(const conf_section *s, const char *type, const char *path, jiko_error *err)
{
    if (strcmp(s->type, type) != 0) {
        error_set(err, JIKO_ERR_CONFIG, path, s->line, NULL, "expected a [%s CODE] section, got [%s]", type, s->type);
        return -1;
    }
    if (!valid_code(s->name)) {
        error_set(err, JIKO_ERR_CONFIG, path, s->line, NULL,
                  "code '%s' must be lower-case letters, digits and '_'", s->name);
        return -1;
    }
    return 0;
}

#define REQUIRE(field, key)                                                                  \
    do {                                                                                     \
        if (!(field)) {                                                                      \
            error_set(err, JIKO_ERR_CONFIG, path, s->line, key, "missing in [%s %s]", s->type, s->name);      \
            return -1;                                                                       \
        }                                                                                    \
    } while (0)

static int take_string(char **dst, const conf_entry *e, const char *path, jiko_error *err)
{
    if (*dst) {
        error_set(err, JIKO_ERR_CONFIG, path, e->line, e->key, "given twice in one section");
        return -1;
    }
    if (!e->value[0]) {
        error_set(err, JIKO_ERR_CONFIG, path, e->line, e->key, "empty value");
        return -1;
    }
    *dst = strdup(e->value);
    if (!*dst) {
        error_nomem(err, "reading the catalog");
        return -1;
    }
    return 0;
}

static int service_from(catalog_service *sv, const conf_section *s, const char *path, jiko_error *err)
{
    memset(sv, 0, sizeof *sv);
    sv->line = s->line;
    if (check_header(s, "service", path, err))
        return -1;
    if (!(sv->code = strdup(s->name))) {
        error_nomem(err, "reading the catalog");
        return -1;
    }
    bool have_emergency = false;
    for (size_t i = 0; i < s->n_entries; i++) {
        const conf_entry *e = &s->entries[i];
        if (strcmp(e->key, "name.ja") == 0) {
            if (take_string(&sv->name_ja, e, path, err))
                return -1;
        } else if (strcmp(e->key, "name.en") == 0) {
            if (take_string(&sv->name_en, e, path, err))
                return -1;
        } else if (strcmp(e->key, "emergency_calls") == 0) {
            if (parse_bool(e, path, &sv->emergency_calls, err))
                return -1;
            have_emergency = true;
        } else if (strcmp(e->key, "category") == 0) {
            if (take_string(&sv->category, e, path, err))
                return -1;
        } else if (strncmp(e->key, "category.", 9) == 0) {
            if (!e->key[9] || !e->value[0]) {
                error_set(err, JIKO_ERR_CONFIG, path, e->line, e->key,
                          "expected 'category.RULEBOOK = CATEGORY', e.g. 'category.jp-2015 = 5'");
                return -1;
            }
            catalog_override *o = realloc(sv->overrides, (sv->n_overrides + 1) * sizeof *o);
            if (!o) {
                error_nomem(err, "reading the catalog");
                return -1;
            }
            sv->overrides = o;
            o[sv->n_overrides].rulebook = strdup(e->key + 9);
            o[sv->n_overrides].category = strdup(e->value);
            sv->n_overrides++; /* counted first: catalog_free releases what was made */
            if (!o[sv->n_overrides - 1].rulebook || !o[sv->n_overrides - 1].category) {
                error_nomem(err, "reading the catalog");
                return -1;
            }
        } else if (strcmp(e->key, "group") == 0) {
            if (!one_of(e->value, service_groups)) {
                error_set(err, JIKO_ERR_CONFIG, path, e->line, e->key, "expected voice, data or other, got '%s'",
                          e->value);
                return -1;
            }
            if (take_string(&sv->group, e, path, err))
                return -1;
        } else if (strcmp(e->key, "subgroup") == 0) {
            if (!one_of(e->value, service_subgroups)) {
                error_set(err, JIKO_ERR_CONFIG, path, e->line, e->key, "expected fixed, mobile or other, got '%s'",
                          e->value);
                return -1;
            }
            if (take_string(&sv->subgroup, e, path, err))
                return -1;
        } else if (strcmp(e->key, "note") != 0 && strcmp(e->key, "source") != 0) {
            error_set(err, JIKO_ERR_CONFIG, path, e->line, e->key,
                      "unknown key; expected name.ja, name.en, emergency_calls, category, "
                      "category.RULEBOOK, group, subgroup, note or source");
            return -1;
        }
    }
    REQUIRE(sv->name_ja, "name.ja");
    REQUIRE(sv->name_en, "name.en");
    REQUIRE(have_emergency, "emergency_calls");
    REQUIRE(sv->category, "category");
    REQUIRE(sv->group, "group");
    REQUIRE(sv->subgroup, "subgroup");
    return 0;
}

static int equipment_from(catalog_equipment *eq, const conf_section *s, const char *path,
                          jiko_error *err)
{
    memset(eq, 0, sizeof *eq);
    eq->line = s->line;
    if (check_header(s, "equipment", path, err))
        return -1;
    if (!(eq->code = strdup(s->name))) {
        error_nomem(err, "reading the catalog");
        return -1;
    }
    bool have_simple = false;
    for (size_t i = 0; i < s->n_entries; i++) {
        const conf_entry *e = &s->entries[i];
        if (strcmp(e->key, "name.ja") == 0) {
            if (take_string(&eq->name_ja, e, path, err))
                return -1;
        } else if (strcmp(e->key, "name.en") == 0) {
            if (take_string(&eq->name_en, e, path, err))
                return -1;
        } else if (strcmp(e->key, "group") == 0) {
            if (!one_of(e->value, equipment_groups)) {
                error_set(err, JIKO_ERR_CONFIG, path, e->line, e->key,
                          "expected switching, transmission_line, server or other, got '%s'",
                          e->value);
                return -1;
            }
            if (take_string(&eq->group, e, path, err))
                return -1;
        } else if (strcmp(e->key, "subgroup") == 0) {
            if (!valid_code(e->value)) {
                error_set(err, JIKO_ERR_CONFIG, path, e->line, e->key,
                          "expected a lower-case code like subscriber_unit, got '%s'", e->value);
                return -1;
            }
            if (take_string(&eq->subgroup, e, path, err))
                return -1;
        } else if (strcmp(e->key, "simple_form") == 0) {
            if (parse_bool(e, path, &eq->simple_form, err))
                return -1;
            have_simple = true;
        } else if (strcmp(e->key, "note") != 0 && strcmp(e->key, "source") != 0) {
            error_set(err, JIKO_ERR_CONFIG, path, e->line, e->key,
                      "unknown key; expected name.ja, name.en, group, subgroup, simple_form, "
                      "note or source");
            return -1;
        }
    }
    REQUIRE(eq->name_ja, "name.ja");
    REQUIRE(eq->name_en, "name.en");
    REQUIRE(eq->group, "group");
    REQUIRE(eq->subgroup, "subgroup");
    REQUIRE(have_simple, "simple_form");
    return 0;
}

int catalog_from_conf(catalog *c, const conf_file *sf, const conf_file *ef, jiko_error *err)
{
    memset(c, 0, sizeof *c);
    if (sf->n_sections) {
        c->services = calloc(sf->n_sections, sizeof *c->services);
        if (!c->services)
            goto oom;
    }
    for (size_t i = 0; i < sf->n_sections; i++) {
        c->n_services++;
        if (service_from(&c->services[i], &sf->sections[i], sf->path, err))
            goto fail;
    }
    if (ef->n_sections) {
        c->equipment = calloc(ef->n_sections, sizeof *c->equipment);
        if (!c->equipment)
            goto oom;
    }
    for (size_t i = 0; i < ef->n_sections; i++) {
        c->n_equipment++;
        if (equipment_from(&c->equipment[i], &ef->sections[i], ef->path, err))
            goto fail;
    }
    if (!c->n_services) {
        error_set(err, JIKO_ERR_CONFIG, sf->path, 0, NULL, "the service catalog defines no [service CODE]");
        goto fail;
    }
    qsort(c->services, c->n_services, sizeof *c->services, cmp_service);
    qsort(c->equipment, c->n_equipment, sizeof *c->equipment, cmp_equipment);
    for (size_t i = 1; i < c->n_services; i++)
        if (strcmp(c->services[i].code, c->services[i - 1].code) == 0) {
            error_set(err, JIKO_ERR_CONFIG, sf->path, c->services[i].line, NULL, "service '%s' defined twice",
                      c->services[i].code);
            goto fail;
        }
    for (size_t i = 1; i < c->n_equipment; i++)
        if (strcmp(c->equipment[i].code, c->equipment[i - 1].code) == 0) {
            error_set(err, JIKO_ERR_CONFIG, ef->path, c->equipment[i].line, NULL, "equipment '%s' defined twice",
                      c->equipment[i].code);
            goto fail;
        }
    return 0;
oom:
    error_set(err, JIKO_ERR_NOMEM, sf->path, 0, NULL, "out of memory");
fail:
    catalog_free(c);
    return -1;
}

int catalog_load(catalog *c, const char *dir, jiko_error *err)
{
    char sp[1024], ep[1024];
    snprintf(sp, sizeof sp, "%s/services.conf", dir);
    snprintf(ep, sizeof ep, "%s/equipment.conf", dir);
    conf_file sf, ef;
    if (conf_load(sp, &sf, err))
        return -1;
    if (conf_load(ep, &ef, err)) {
        conf_free(&sf);
        return -1;
    }
    int rc = catalog_from_conf(c, &sf, &ef, err);
    conf_free(&sf);
    conf_free(&ef);
    if (rc)
        return rc;
    char hp[1024];
    snprintf(hp, sizeof hp, "%s/holidays.conf", dir);
    if (holiday_load(&c->holidays, hp, err)) {
        catalog_free(c);
        return -1;
    }
    /* optional: a catalog directory made for tests need not quote releases */
    char pp[1024];
    snprintf(pp, sizeof pp, "%s/published.conf", dir);
    if (access(pp, F_OK) == 0 && conf_load(pp, &c->published, err)) {
        catalog_free(c);
        return -1;
    }
    return 0;
}

void catalog_free(catalog *c)
{
    for (size_t i = 0; i < c->n_services; i++) {
        catalog_service *s = &c->services[i];
        free(s->code);
        free(s->name_ja);
        free(s->name_en);
        free(s->category);
        free(s->group);
        free(s->subgroup);
        for (size_t j = 0; j < s->n_overrides; j++) {
            free(s->overrides[j].rulebook);
            free(s->overrides[j].category);
        }
        free(s->overrides);
    }
    for (size_t i = 0; i < c->n_equipment; i++) {
        catalog_equipment *e = &c->equipment[i];
        free(e->code);
        free(e->name_ja);
        free(e->name_en);
        free(e->group);
        free(e->subgroup);
    }
    free(c->services);
    free(c->equipment);
    holiday_free(&c->holidays);
    conf_free(&c->published);
    memset(c, 0, sizeof *c);
}

/* Binary search over codes sorted by strcmp, comparing a length-delimited key. */
static int cmp_key(const char *key, size_t len, const char *code)
{
    size_t cl = strlen(code), m = len < cl ? len : cl;
    int r = memcmp(key, code, m);
    if (r)
        return r;
    return len < cl ? -1 : len > cl ? 1 : 0;
}

/* Index of `code` in an array of structs sorted by their first member, a
 * `char *code`; `stride` is the struct size. */
static int find_code(const void *base, size_t n, size_t stride, const char *code, size_t len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *c = *(char *const *)((const char *)base + mid * stride);
        int r = cmp_key(code, len, c);
        if (!r)
            return (int)mid;
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

int catalog_service_index(const catalog *c, const char *code, size_t len)
{
    return find_code(c->services, c->n_services, sizeof *c->services, code, len);
}

int catalog_equipment_index(const catalog *c, const char *code, size_t len)
{
    return find_code(c->equipment, c->n_equipment, sizeof *c->equipment, code, len);
}

const char *catalog_category_override(const catalog *c, int svc, const char *rulebook_id)
{
    const catalog_service *s = &c->services[svc];
    for (size_t i = 0; i < s->n_overrides; i++)
        if (strcmp(s->overrides[i].rulebook, rulebook_id) == 0)
            return s->overrides[i].category;
    return NULL;
}
