/*
 * incident.c — validating incident records (see incident.h).
 *
 * Each check produces the message a user needs: the field path
 * ("services[1].users") and what was expected.  Unknown top-level fields are
 * accepted, because the contract allows optional extensions.
 */
#include "incident.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json_fast.h"
#include "num.h"
#include "jst.h"
#include "rules.h"

/* Where to find the codes an unknown one should have been. */
#define SERVICE_CODES_HINT "see catalogs/services.conf (e.g. ftth, mobile_voice, email_paid)"
#define EQUIPMENT_CODES_HINT                                                                      \
    "see catalogs/equipment.conf (e.g. switch, radio_base_station), or null if unknown"

typedef struct vctx {
    const char *file;
    long line;
    jiko_error *err;
} vctx;

static int vfail(vctx *v, const char *field, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static int vfail(vctx *v, const char *field, const char *fmt, va_list ap)
{
    char msg[400];
    vsnprintf(msg, sizeof msg, fmt, ap);
    error_set(v->err, JIKO_ERR_INVALID, v->file, v->line, field, "%s", msg);
    return -1;
}

static int fail(vctx *v, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(vctx *v, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(v, field, fmt, ap);
    va_end(ap);
    return -1;
}

/* Fail with a field path built from an index, formatted only on failure so
 * that valid records cost no string formatting. */
static int failf(vctx *v, const char *array, size_t idx, const char *member, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int failf(vctx *v, const char *array, size_t idx, const char *member, const char *fmt, ...)
{
    char field[96];
    snprintf(field, sizeof field, "%s[%zu]%s", array, idx, member);
    va_list ap;
    va_start(ap, fmt);
    vfail(v, field, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number with a fraction or exponent";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "something else";
}

/* Required or optional string; *out NULL when absent/null and optional. */
static int get_string(vctx *v, json_t *obj, const char *key, bool required, bool nonempty,
                      const char **out)
{
    json_t *j = json_object_get(obj, key);
    *out = NULL;
    if (!j || json_is_null(j)) {
        if (required)
            return fail(v, key, "missing; expected a string");
        return 0;
    }
    if (!json_is_string(j))
        return fail(v, key, "expected a string, got %s", type_name(j));
    if (nonempty && json_string_length(j) == 0)
        return fail(v, key, "must not be empty");
    if (strlen(json_string_value(j)) != json_string_length(j))
        return fail(v, key, "must not contain NUL characters");
    *out = json_string_value(j);
    return 0;
}

static int get_bool(vctx *v, json_t *obj, const char *key, bool *out)
{
    json_t *j = json_object_get(obj, key);
    *out = false;
    if (!j || json_is_null(j))
        return 0;
    if (!json_is_boolean(j))
        return fail(v, key, "expected true or false, got %s", type_name(j));
    *out = json_is_true(j);
    return 0;
}

static int get_time(vctx *v, json_t *j, const char *field, int64_t *ms)
{
    if (!json_is_string(j))
        return fail(v, field, "expected an RFC 3339 date-time string, got %s", type_name(j));
    const char *why = NULL;
    if (!jst_parse_rfc3339(json_string_value(j), json_string_length(j), ms, &why)) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s (got \"%.40s\")", why, json_string_value(j));
        return fail(v, field, "%s", msg);
    }
    return 0;
}

static int get_users(vctx *v, json_t *j, const char *field, int64_t *out)
{
    if (!json_is_integer(j))
        return fail(v, field, "expected a whole number of users, got %s", type_name(j));
    json_int_t n = json_integer_value(j);
    if (n < 0)
        return fail(v, field, "must not be negative");
    if (n > INCIDENT_MAX_USERS)
        return fail(v, field, "implausibly large; at most 10000000000 users");
    *out = (int64_t)n;
    return 0;
}

/* Match a string against a NULL-terminated list; returns the index or -1. */
static int enum_index(const char *s, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static int get_enum(vctx *v, json_t *obj, const char *key, const char *const *names,
                    const char *expect, int dflt, int *out)
{
    json_t *j = json_object_get(obj, key);
    *out = dflt;
    if (!j || json_is_null(j))
        return 0;
    if (!json_is_string(j))
        return fail(v, key, "%s", expect);
    int k = enum_index(json_string_value(j), names);
    if (k < 0)
        return fail(v, key, "%s", expect);
    *out = k;
    return 0;
}

static const char *const effect_names[] = {"stop", "degrade", NULL};
static const char *const facility_names[] = {"telecom", "non_telecom", NULL};
static const char *const critical_names[] = {"none", "satellite", "submarine_cable", "other", NULL};
static const char *const cause_names[] = {"equipment", "human", "external", "other", NULL};
static const char *const notice_kinds[] = {"first", "update", "recovery", NULL};
static const char *const notice_channels[] = {"web", "sns", "press", "mail", "other", NULL};
static const char *const users_qualifiers[] = {"exact", "max", "about", "max_about", "at_least", NULL};
static const char *const users_units[] = {"users", "operators", NULL};
static const char *const core_functions[] = {"none", "transmission", "switching", "control",
                                             "operation", "subscriber_auth", NULL};
static const char *const osore_events[] = {"none", "could_not_stop", "failover_failed", NULL};

/* The optional fields of a situation likely to cause a serious accident
 * (おそれ事態) and of a leak of the secrecy of communications. */
static int check_osore(vctx *v, incident *inc, json_t *obj)
{
    json_t *j = json_object_get(obj, "noticed_at");
    inc->has_noticed = j && !json_is_null(j);
    if (inc->has_noticed && get_time(v, j, "noticed_at", &inc->noticed_ms))
        return -1;
    j = json_object_get(obj, "secrecy_leak_known_at");
    inc->has_secrecy_leak = j && !json_is_null(j);
    if (inc->has_secrecy_leak && get_time(v, j, "secrecy_leak_known_at", &inc->secrecy_leak_known_ms))
        return -1;
    j = json_object_get(obj, "operator_users_prev_fy");
    inc->operator_users_prev_fy = -1;
    if (j && !json_is_null(j) && get_users(v, j, "operator_users_prev_fy", &inc->operator_users_prev_fy))
        return -1;
    j = json_object_get(obj, "prefectures");
    inc->prefectures = 0;
    if (j && !json_is_null(j)) {
        if (!json_is_integer(j) || json_integer_value(j) < 1 || json_integer_value(j) > 47)
            return fail(v, "prefectures",
                        "expected the number of prefectures the service spans, 1 to 47");
        inc->prefectures = (int)json_integer_value(j);
    }
    int k;
    if (get_enum(v, obj, "core_function", core_functions,
                 "expected null, \"transmission\", \"switching\", \"control\", \"operation\" or "
                 "\"subscriber_auth\" (the core function of the equipment; null for terminal "
                 "equipment and access lines)",
                 0, &k))
        return -1;
    inc->core_function = (incident_core_function)k;
    if (get_enum(v, obj, "osore_event", osore_events,
                 "expected null, \"could_not_stop\" or \"failover_failed\"", 0, &k))
        return -1;
    inc->osore_event = (incident_osore_event)k;
    if (inc->osore_event != INCIDENT_OSORE_NONE && !inc->has_noticed)
        return fail(v, "noticed_at",
                    "missing; a situation likely to cause a serious accident (osore_event) is "
                    "reported within 30 days of the day it was noticed");
    if (inc->has_noticed && inc->noticed_ms < inc->started_ms)
        return fail(v, "noticed_at", "is before started_at; it cannot be noticed before it began");
    if (inc->has_secrecy_leak && inc->secrecy_leak_known_ms < inc->started_ms)
        return fail(v, "secrecy_leak_known_at",
                    "is before started_at; a leak cannot be known before it began");
    return 0;
}

char *incident_users_format(int64_t users, incident_users_qualifier q, bool operators, bool ja,
                            char *buf, size_t size)
{
    char num[32];
    if ((unsigned)q > INCIDENT_USERS_AT_LEAST)
        q = INCIDENT_USERS_EXACT;
    bool rough = q == INCIDENT_USERS_ABOUT || q == INCIDENT_USERS_MAX_ABOUT || q == INCIDENT_USERS_AT_LEAST;
    if (operators) {
        num_group_digits(users, num, sizeof num);
        snprintf(buf, size, ja ? "%s社" : "%s operators", num);
        return buf;
    }
    /* a rounded figure is written in 万 (10,000s), as the release does */
    if (ja && rough && users >= 10000 && users % 10000 == 0)
        snprintf(num, sizeof num, "%lld万", (long long)(users / 10000));
    else
        num_group_digits(users, num, sizeof num);
    static const char *const pre_ja[] = {"", "最大", "約", "最大約", ""};
    static const char *const pre_en[] = {"", "up to ", "about ", "up to about ", ""};
    if (ja)
        snprintf(buf, size, "%s%s人%s", pre_ja[q], num, q == INCIDENT_USERS_AT_LEAST ? "以上" : "");
    else
        snprintf(buf, size, "%s%s users%s", pre_en[q], num, q == INCIDENT_USERS_AT_LEAST ? " or more" : "");
    return buf;
}

char *incident_users_text(const incident *inc, int64_t users, bool ja, char *buf, size_t size)
{
    return incident_users_format(users, inc->users_qualifier, inc->users_are_operators, ja, buf,
                                 size);
}

incident_users_qualifier incident_users_qualifier_of(const char *name)
{
    int k = name ? enum_index(name, users_qualifiers) : -1;
    return k > 0 ? (incident_users_qualifier)k : INCIDENT_USERS_EXACT;
}

const char *incident_cause_name(incident_cause c)
{
    return c >= 0 && c <= 3 ? cause_names[c] : "unknown";
}

const char *incident_critical_name(int c)
{
    return c >= 0 && c <= 3 ? critical_names[c] : "none";
}

static int check_services(vctx *v, incident *inc, json_t *obj, const catalog *cat)
{
    json_t *arr = json_object_get(obj, "services");
    if (!arr || json_is_null(arr))
        return fail(v, "services", "missing; expected an array of affected services");
    if (!json_is_array(arr))
        return fail(v, "services", "expected an array, got %s", type_name(arr));
    size_t n = json_array_size(arr);
    if (n > INCIDENT_MAX_SERVICES)
        return fail(v, "services", "more than 64 services in one incident");
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i);
        if (!json_is_object(e))
            return failf(v, "services", i, "", "expected an object {\"service\", \"effect\", \"users\"}, got %s",
                        type_name(e));
        incident_service *s = &inc->services[i];
        json_t *code = json_object_get(e, "service");
        if (!code)
            return failf(v, "services", i, ".service", "missing; expected a service code from catalogs/services.conf");
        if (!json_is_string(code))
            return failf(v, "services", i, ".service", "expected a service code string, got %s", type_name(code));
        s->svc = catalog_service_index(cat, json_string_value(code), json_string_length(code));
        s->code = json_string_value(code);
        if (s->svc < 0)
            return failf(v, "services", i, ".service", "unknown service code \"%.60s\"; %s",
                         json_string_value(code), SERVICE_CODES_HINT);
        for (size_t k = 0; k < i; k++)
            if (inc->services[k].svc == s->svc)
                return failf(v, "services", i, ".service", "service listed twice in one incident; give it once");
        json_t *eff = json_object_get(e, "effect");
        if (!eff)
            return failf(v, "services", i, ".effect", "missing; expected \"stop\" or \"degrade\"");
        int k = json_is_string(eff) ? enum_index(json_string_value(eff), effect_names) : -1;
        if (k < 0)
            return failf(v, "services", i, ".effect", "expected \"stop\" or \"degrade\"");
        s->effect = (incident_effect)k;
        json_t *u = json_object_get(e, "users");
        if (!u)
            return failf(v, "services", i, ".users", "missing; expected the number of affected users");
        if (get_users(v, u, NULL, &s->users)) {
            char f[96];
            snprintf(f, sizeof f, "services[%zu].users", i);
            snprintf(v->err->field, sizeof v->err->field, "%s", f);
            return -1;
        }
        /* optional: absent or null means "not given", which a rulebook line
         * with 'mau >= N' reports as such rather than reading it as 0 */
        json_t *m = json_object_get(e, "monthly_active_users");
        s->has_mau = false;
        s->mau = 0;
        if (m && !json_is_null(m)) {
            if (!json_is_integer(m))
                return failf(v, "services", i, ".monthly_active_users",
                             "expected a whole number of monthly active users (0 or more) or "
                             "null, got %s",
                             type_name(m));
            json_int_t mv = json_integer_value(m);
            if (mv < 0)
                return failf(v, "services", i, ".monthly_active_users",
                             "must not be negative; expected the service's monthly active users "
                             "(0 or more)");
            if (mv > INCIDENT_MAX_USERS)
                return failf(v, "services", i, ".monthly_active_users",
                             "implausibly large; at most 10000000000 monthly active users");
            s->has_mau = true;
            s->mau = (int64_t)mv;
        }
        inc->n_services++;
    }
    return 0;
}

static int check_notices(vctx *v, json_t *obj)
{
    json_t *arr = json_object_get(obj, "notices");
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return fail(v, "notices", "expected an array, got %s", type_name(arr));
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *e = json_array_get(arr, i);
        if (!json_is_object(e))
            return failf(v, "notices", i, "", "expected an object {\"at\", \"kind\", \"channel\", \"text\"}, got %s",
                        type_name(e));
        json_t *at = json_object_get(e, "at");
        int64_t ms;
        if (!at)
            return failf(v, "notices", i, ".at", "missing; expected an RFC 3339 date-time");
        if (get_time(v, at, NULL, &ms)) {
            snprintf(v->err->field, sizeof v->err->field, "notices[%zu].at", i);
            return -1;
        }
        json_t *kind = json_object_get(e, "kind");
        if (!kind || !json_is_string(kind) || enum_index(json_string_value(kind), notice_kinds) < 0)
            return failf(v, "notices", i, ".kind", "expected \"first\", \"update\" or \"recovery\"");
        json_t *ch = json_object_get(e, "channel");
        if (ch && !json_is_null(ch) &&
            (!json_is_string(ch) || enum_index(json_string_value(ch), notice_channels) < 0))
            return failf(v, "notices", i, ".channel", "expected \"web\", \"sns\", \"press\", \"mail\" or \"other\"");
        json_t *text = json_object_get(e, "text");
        if (text && !json_is_null(text) && !json_is_string(text))
            return failf(v, "notices", i, ".text", "expected a string, got %s", type_name(text));
    }
    return 0;
}

static int check_string_array(vctx *v, json_t *obj, const char *key)
{
    json_t *arr = json_object_get(obj, key);
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return fail(v, key, "expected an array of strings, got %s", type_name(arr));
    for (size_t i = 0; i < json_array_size(arr); i++) {
        if (!json_is_string(json_array_get(arr, i))) {
            char f[96];
            snprintf(f, sizeof f, "%s[%zu]", key, i);
            return fail(v, f, "expected a string, got %s", type_name(json_array_get(arr, i)));
        }
    }
    return 0;
}

static const char *const cause_kinds[] = {"none", "cyber_attack", "outbound_cyber_attack", NULL};
static const char *const measure_kinds[] = {"interim", "permanent", NULL};
static const char *const measure_states[] = {"done", "planned", NULL};

/* The case sheet's optional fields (seed 000's 別紙): inquiries, the parts of
 * the cause, and measures as interim/permanent with their state and date. */
static int check_case_fields(vctx *v, json_t *obj)
{
    json_t *j = json_object_get(obj, "inquiries");
    if (j && !json_is_null(j) && (!json_is_integer(j) || json_integer_value(j) < 0))
        return fail(v, "inquiries",
                    "expected the number of inquiries the operator received (事業者への問合せ件数), "
                    "0 or more");
    json_t *cause = json_object_get(obj, "cause");
    if (json_is_object(cause)) {
        static const char *const parts[] = {"outline", "escalation", "prolongation"};
        for (int i = 0; i < 3; i++) {
            json_t *p = json_object_get(cause, parts[i]);
            if (p && !json_is_null(p) && !json_is_string(p)) {
                char f[32];
                snprintf(f, sizeof f, "cause.%s", parts[i]);
                return fail(v, f, "expected a string, got %s", type_name(p));
            }
        }
        int k;
        if (get_enum(v, cause, "kind", cause_kinds,
                     "expected null, \"cyber_attack\" or \"outbound_cyber_attack\" "
                     "(送信型対電気通信設備サイバー攻撃)",
                     0, &k)) {
            snprintf(v->err->field, sizeof v->err->field, "cause.kind");
            return -1;
        }
    }
    json_t *arr = json_object_get(obj, "measures_detail");
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return fail(v, "measures_detail", "expected an array, got %s", type_name(arr));
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *m = json_array_get(arr, i);
        json_t *kind = json_object_get(m, "kind"), *state = json_object_get(m, "status"),
               *text = json_object_get(m, "text"), *date = json_object_get(m, "date");
        jst_date d;
        if (!json_is_object(m))
            return failf(v, "measures_detail", i, "", "expected an object {\"kind\", \"text\", \"status\", \"date\"}, got %s",
                         type_name(m));
        if (!json_is_string(kind) || enum_index(json_string_value(kind), measure_kinds) < 0)
            return failf(v, "measures_detail", i, ".kind", "expected \"interim\" (暫定) or \"permanent\" (恒久)");
        if (!json_is_string(text))
            return failf(v, "measures_detail", i, ".text", "missing; expected a string");
        if (state && !json_is_null(state) &&
            (!json_is_string(state) || enum_index(json_string_value(state), measure_states) < 0))
            return failf(v, "measures_detail", i, ".status", "expected \"done\" (実施完了) or \"planned\" (予定)");
        if (date && !json_is_null(date) && (!json_is_string(date) || !jst_parse_date(json_string_value(date), &d)))
            return failf(v, "measures_detail", i, ".date", "expected a date YYYY-MM-DD");
    }
    return 0;
}

static int validate(vctx *v, incident *inc, json_t *obj, const catalog *cat)
{
    const char *s;
    if (get_string(v, obj, "id", true, true, &inc->id) ||
        get_string(v, obj, "operator", true, true, &inc->op) ||
        get_string(v, obj, "wholesale_provider", false, true, &inc->wholesale_provider))
        return -1;
    if (inc->wholesale_provider && strcmp(inc->wholesale_provider, inc->op) == 0)
        return fail(v, "wholesale_provider",
                    "names the reporting operator itself; leave it null for own facilities");
    json_t *j = json_object_get(obj, "started_at");
    if (!j || json_is_null(j))
        return fail(v, "started_at", "missing; expected an RFC 3339 date-time");
    if (get_time(v, j, "started_at", &inc->started_ms))
        return -1;
    j = json_object_get(obj, "ended_at");
    inc->ongoing = !j || json_is_null(j);
    inc->ended_ms = inc->started_ms;
    if (!inc->ongoing) {
        if (get_time(v, j, "ended_at", &inc->ended_ms))
            return -1;
        if (inc->ended_ms < inc->started_ms)
            return fail(v, "ended_at", "is before started_at; an incident cannot end before it starts");
    }
    int k;
    if (get_enum(v, obj, "facility", facility_names, "expected \"telecom\" or \"non_telecom\"", 0,
                 &k))
        return -1;
    inc->facility = (incident_facility)k;
    j = json_object_get(obj, "critical_facility");
    inc->critical = RULES_CRIT_NONE;
    if (j && !json_is_null(j)) {
        k = json_is_string(j) ? enum_index(json_string_value(j), critical_names) : -1;
        if (k <= 0)
            return fail(v, "critical_facility",
                        "expected null, \"satellite\", \"submarine_cable\" or \"other\"");
        inc->critical = k;
    }
    if (get_bool(v, obj, "all_traffic_stopped", &inc->all_traffic_stopped) ||
        get_bool(v, obj, "info_leak", &inc->info_leak) ||
        get_bool(v, obj, "within_user_premises", &inc->within_user_premises))
        return -1;
    if (inc->all_traffic_stopped && inc->critical == RULES_CRIT_NONE)
        return fail(v, "all_traffic_stopped",
                    "is true but critical_facility is null; it describes a critical facility");
    if (inc->critical != RULES_CRIT_NONE && inc->facility == INCIDENT_NON_TELECOM)
        return fail(v, "facility",
                    "is \"non_telecom\" but a critical facility (satellite, submarine cable) is a "
                    "telecom facility");
    if (check_services(v, inc, obj, cat) || check_osore(v, inc, obj))
        return -1;
    if (inc->n_services == 0 && !inc->info_leak && inc->osore_event == INCIDENT_OSORE_NONE &&
        !inc->has_secrecy_leak)
        return fail(v, "services", "is empty; only an information leak, a situation likely to "
                                   "cause a serious accident (osore_event) or a leak of the "
                                   "secrecy of communications may affect no service");
    j = json_object_get(obj, "users");
    int64_t max_users = 0;
    for (size_t i = 0; i < inc->n_services; i++)
        if (inc->services[i].users > max_users)
            max_users = inc->services[i].users;
    inc->users = max_users;
    inc->users_given = j && !json_is_null(j);
    if (inc->users_given) {
        if (get_users(v, j, "users", &inc->users))
            return -1;
        if (inc->users < max_users) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "is %lld, fewer than the %lld users of one of its services; the incident "
                     "total cannot be smaller",
                     (long long)inc->users, (long long)max_users);
            return fail(v, "users", "%s", msg);
        }
    }
    if (get_enum(v, obj, "users_qualifier", users_qualifiers,
                 "expected \"exact\", \"max\" (最大), \"about\" (約), \"max_about\" (最大約) or "
                 "\"at_least\" (以上)",
                 0, &k))
        return -1;
    inc->users_qualifier = (incident_users_qualifier)k;
    if (get_enum(v, obj, "users_unit", users_units,
                 "expected \"users\" or \"operators\" (users counted as companies, e.g. 9社)", 0, &k))
        return -1;
    inc->users_are_operators = k == 1;
    j = json_object_get(obj, "cause");
    inc->cause = INCIDENT_CAUSE_NONE;
    if (j && !json_is_null(j)) {
        if (!json_is_object(j))
            return fail(v, "cause", "expected an object {\"category\", \"detail\"}, got %s",
                        type_name(j));
        json_t *c = json_object_get(j, "category");
        k = c && json_is_string(c) ? enum_index(json_string_value(c), cause_names) : -1;
        if (k < 0)
            return fail(v, "cause.category",
                        "expected \"equipment\", \"human\", \"external\" or \"other\"");
        inc->cause = (incident_cause)k;
        json_t *d = json_object_get(j, "detail");
        if (d && !json_is_null(d) && !json_is_string(d))
            return fail(v, "cause.detail", "expected a string, got %s", type_name(d));
    }
    j = json_object_get(obj, "equipment");
    inc->equipment = -1;
    inc->equipment_code = NULL;
    if (j && !json_is_null(j)) {
        if (!json_is_string(j))
            return fail(v, "equipment", "expected an equipment code string or null, got %s",
                        type_name(j));
        inc->equipment = catalog_equipment_index(cat, json_string_value(j), json_string_length(j));
        inc->equipment_code = json_string_value(j);
        if (inc->equipment < 0)
            return fail(v, "equipment", "unknown equipment code \"%.60s\"; %s",
                        json_string_value(j), EQUIPMENT_CODES_HINT);
    }
    if (get_string(v, obj, "region", false, false, &s) ||
        get_string(v, obj, "summary", false, false, &s) ||
        get_string(v, obj, "summary_en", false, false, &s) || check_string_array(v, obj, "measures") ||
        check_case_fields(v, obj) ||
        check_notices(v, obj))
        return -1;
    return 0;
}

int incident_from_json(incident *inc, json_t *obj, const catalog *cat, const char *file,
                       long line, jiko_error *err)
{
    memset(inc, 0, sizeof *inc);
    vctx v = {file, line, err};
    if (!json_is_object(obj))
        return fail(&v, NULL, "expected a JSON object, one incident per line; got %s",
                    type_name(obj));
    if (validate(&v, inc, obj, cat)) {
        memset(inc, 0, sizeof *inc);
        return -1;
    }
    inc->json = json_incref(obj);
    return 0;
}

int incident_parse(incident *inc, const char *text, size_t len, const catalog *cat,
                   const char *file, long line, jiko_error *err)
{
    memset(inc, 0, sizeof *inc);
    if (len > INCIDENT_MAX_LINE) {
        error_set(err, JIKO_ERR_INVALID, file, line, NULL, "line longer than 1 MiB; one incident per line");
        return -1;
    }
    json_error_t je;
    /* The plain records of a bulk import take the fast path; anything it is
     * unsure of goes to jansson, which decides and words every error. */
    json_t *obj = json_fast_loadb(text, len);
    /* JSON_DECODE_ANY: a stray string or number gets our "expected a JSON
     * object" message rather than the parser's. */
    if (!obj)
        obj = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!obj) {
        if (json_error_code(&je) == json_error_out_of_memory)
            error_set(err, JIKO_ERR_NOMEM, file, line, NULL, "out of memory reading the record");
        else if (strstr(je.text, "JSON_ALLOW_NUL"))
            error_set(err, JIKO_ERR_INVALID, file, line, NULL,
                      "invalid JSON at column %d: NUL characters (\\u0000) are not allowed in "
                      "strings",
                      je.column);
        else
            error_set(err, JIKO_ERR_INVALID, file, line, NULL, "invalid JSON at column %d: %s", je.column, je.text);
        return -1;
    }
    int rc = incident_from_json(inc, obj, cat, file, line, err);
    json_decref(obj);
    return rc;
}

void incident_free(incident *inc)
{
    if (inc->json)
        json_decref(inc->json);
    memset(inc, 0, sizeof *inc);
}
