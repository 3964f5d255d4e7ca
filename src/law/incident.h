/*
 * incident.h — the incident record (docs/incident-format.md) parsed and
 * validated from JSON.
 *
 * Validation is strict and specific: every rejected record gets one error
 * naming the field and what was expected, so an operator can fix the record.
 * Strings point into the parsed JSON object, which the incident owns; nothing
 * is copied on the hot path.
 */
#ifndef JIKO_INCIDENT_H
#define JIKO_INCIDENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "error.h"

/* More services than this in one record is a data error, not an outage. */
#define INCIDENT_MAX_SERVICES 64
/* Users beyond this are not plausible for one incident (10 billion). */
#define INCIDENT_MAX_USERS 10000000000LL
/* Longest accepted input line (1 MiB): one incident, never a whole file. */
#define INCIDENT_MAX_LINE (1u << 20)

typedef enum incident_effect { INCIDENT_STOP = 0, INCIDENT_DEGRADE = 1 } incident_effect;
typedef enum incident_facility {
    INCIDENT_TELECOM = 0,
    INCIDENT_NON_TELECOM = 1
} incident_facility;
typedef enum incident_cause {
    INCIDENT_CAUSE_NONE = -1,
    INCIDENT_CAUSE_EQUIPMENT = 0,
    INCIDENT_CAUSE_HUMAN = 1,
    INCIDENT_CAUSE_EXTERNAL = 2,
    INCIDENT_CAUSE_OTHER = 3
} incident_cause;

typedef struct incident_service {
    int svc; /* catalog service index */
    const char *code; /* its code (points into the JSON) */
    incident_effect effect;
    int64_t users;
    /* Optional services[].monthly_active_users: the service's monthly active
     * users (a property of the service, not of the outage), read by rulebook
     * lines with 'mau >= N'.  has_mau false when not given: never taken as 0. */
    bool has_mau;
    int64_t mau;
} incident_service;

/* How the affected users were reported (optional "users_qualifier"): MIC
 * writes 最大456,516人, 最大約50万人, 約100万人, 100万人以上. */
typedef enum incident_users_qualifier {
    INCIDENT_USERS_EXACT = 0, /* "exact" (default) */
    INCIDENT_USERS_MAX,       /* "max": 最大 */
    INCIDENT_USERS_ABOUT,     /* "about": 約 */
    INCIDENT_USERS_MAX_ABOUT, /* "max_about": 最大約 */
    INCIDENT_USERS_AT_LEAST,  /* "at_least": 以上 */
} incident_users_qualifier;

/* A situation likely to cause a serious accident (おそれ事態, optional fields):
 * the core function of the equipment concerned and what happened. */
typedef enum incident_core_function {
    INCIDENT_CORE_NONE = 0,       /* not core equipment (terminal equipment, access lines) or not given */
    INCIDENT_CORE_TRANSMISSION,   /* "transmission": 伝送機能 */
    INCIDENT_CORE_SWITCHING,      /* "switching": 交換機能 */
    INCIDENT_CORE_CONTROL,        /* "control": 制御機能 */
    INCIDENT_CORE_OPERATION,      /* "operation": 運用・監視・保守に係る機能 */
    INCIDENT_CORE_SUBSCRIBER_AUTH,/* "subscriber_auth": 通信の接続・認証に係る加入者管理機能 */
} incident_core_function;

typedef enum incident_osore_event {
    INCIDENT_OSORE_NONE = 0,
    INCIDENT_OSORE_COULD_NOT_STOP,   /* "could_not_stop": 運用を停止しようとしたが停止できなかった */
    INCIDENT_OSORE_FAILOVER_FAILED,  /* "failover_failed": 速やかに覚知できず予備設備へ切り替えられなかった */
} incident_osore_event;

typedef struct incident {
    json_t *json; /* the record as parsed (owned reference) */
    const char *id, *op, *wholesale_provider; /* wholesale_provider may be NULL */
    int64_t started_ms, ended_ms;
    bool ongoing;
    incident_facility facility;
    int critical; /* RULES_CRIT_* */
    bool all_traffic_stopped, info_leak, within_user_premises;
    incident_service services[INCIDENT_MAX_SERVICES];
    size_t n_services;
    int64_t users; /* as given, or the largest service count */
    bool users_given;
    incident_users_qualifier users_qualifier;
    bool users_are_operators; /* "users_unit": "operators" — counted as companies (JSAT: 9社) */
    incident_cause cause;
    int equipment; /* catalog equipment index, -1 = unknown */
    const char *equipment_code; /* its code, NULL = unknown */
    /* おそれ事態 (optional): when the operator noticed it (覚知), its users at
     * the end of the previous fiscal year (-1 = not given), the prefectures
     * the service spans (0 = not given), the core function and the event */
    bool has_noticed;
    int64_t noticed_ms;
    int64_t operator_users_prev_fy;
    int prefectures;
    incident_core_function core_function;
    incident_osore_event osore_event;
    /* 通信の秘密の漏えい (optional): when the operator learnt of it */
    bool has_secrecy_leak;
    int64_t secrecy_leak_known_ms;
} incident;

/* Parse one JSON Lines record.  `file` and `line` name it in errors.
 * On failure the incident holds nothing (no need to free). */
int incident_parse(incident *inc, const char *text, size_t len, const catalog *cat,
                   const char *file, long line, jiko_error *err);

/* Validate an already parsed JSON object (a new reference is taken). */
int incident_from_json(incident *inc, json_t *obj, const catalog *cat, const char *file,
                       long line, jiko_error *err);

void incident_free(incident *inc);

/* The affected users as a release writes them: "最大約50万人", "100万人以上",
 * "9社" (Japanese) or "up to about 500,000 users", "9 operators" — `users`
 * with the incident's qualifier and unit. */
char *incident_users_text(const incident *inc, int64_t users, bool ja, char *buf, size_t size);

/* The same from the parts, for a caller that holds no parsed incident (the
 * yearly report reads them from the stored record); and a qualifier's enum
 * from its JSON name (INCIDENT_USERS_EXACT for NULL or an unknown name). */
char *incident_users_format(int64_t users, incident_users_qualifier q, bool operators, bool ja,
                            char *buf, size_t size);
incident_users_qualifier incident_users_qualifier_of(const char *name);

/* Names of enum values as they appear in JSON. */
const char *incident_cause_name(incident_cause c);
const char *incident_critical_name(int critical);

#endif
