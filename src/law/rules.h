/*
 * rules.h — rulebooks: the reporting rules as versioned data files.
 *
 * One file per amendment in rules/ (jp-2008.rules, jp-2015.rules,
 * jp-2019.rules, ...), each with the date it took effect.  An incident is
 * judged by the rulebook in force on the JST date it started.  Every clause
 * carries its legal source, and clauses that the seeds do not confirm are
 * marked "status = unconfirmed" so reasons can say so.  The format is
 * documented in docs/rulebook-format.md; a new amendment is a new file.
 */
#ifndef JIKO_RULES_H
#define JIKO_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "conf.h"
#include "error.h"
#include "jst.h"

typedef enum rules_kind {
    RULES_SERIOUS,   /* [serious ID]: a service category's thresholds */
    RULES_CRITICAL,  /* [critical]: satellite / submarine cable clause */
    RULES_QUARTERLY, /* [quarterly ID]: quarterly report clauses */
} rules_kind;

typedef enum rules_facility {
    RULES_FACILITY_ANY,
    RULES_FACILITY_TELECOM,
    RULES_FACILITY_NON_TELECOM,
} rules_facility;

/* Critical facility kinds, also used by incidents (incident.h). */
enum {
    RULES_CRIT_NONE = 0,
    RULES_CRIT_SATELLITE = 1,
    RULES_CRIT_SUBMARINE_CABLE = 2,
    RULES_CRIT_OTHER = 3,
};

/* One threshold line: duration >= min_ms AND users >= min_users (inclusive),
 * and, when has_mau, a service whose monthly active users are >= min_mau
 * ("mau >= N": a category judged by the service's size, as in the 2025
 * proposals).  A clause is met when any of its lines is met. */
typedef struct rules_threshold {
    int64_t min_ms;
    int64_t min_users;
    bool has_mau;
    int64_t min_mau;
    char *text; /* as written, for reasons */
    long line;
} rules_threshold;

typedef struct rules_clause {
    rules_kind kind;
    char *id; /* category id ("1".."5", "all"), "critical", or quarterly id */
    char *name_ja, *name_en, *source, *note;
    bool unconfirmed;
    long line;
    rules_threshold *thresholds;
    size_t n_thresholds;
    bool any_mau;                     /* some line has 'mau >=' (else the plain, faster test) */
    rules_facility facility;          /* whose failure the clause is about */
    bool all_services;                /* serious: applies to every service */
    bool when_info_leak;              /* quarterly: met by an information leak */
    bool requires_all_traffic_stopped; /* critical */
    unsigned critical_mask;           /* critical: bit (1 << RULES_CRIT_*) per facility kind */
} rules_clause;

/* A yes/no rule with its own legal source ("key = yes", "key.source = ...",
 * optional "key.status = unconfirmed"). */
typedef struct rules_flag {
    bool on;
    bool unconfirmed;
    char *source; /* NULL when the rulebook does not give the key */
} rules_flag;

/* [osore core_network]: a situation likely to cause a serious accident
 * (重大な事故が生ずるおそれがあると認められる事態), reported on its own. */
typedef struct rules_osore {
    char *name_ja, *name_en, *source, *note;
    bool unconfirmed;
    long line;
    int64_t min_operator_users; /* the operator's users at the end of the previous FY */
    int min_prefectures;        /* the service spans at least this many prefectures */
    unsigned functions;         /* bit (1 << incident_core_function) per core function */
    unsigned events;            /* bit (1 << incident_osore_event) per event */
} rules_osore;

typedef struct rulebook {
    char *id, *title_ja, *title_en, *source, *note, *path;
    char *categories_from; /* rulebook whose service categories apply, or NULL */
    jst_date effective;    /* first day in force (JST); 9999-12-31 when unknown */
    bool not_in_force;     /* "in_force = no": a proposal, never selected by date */
    bool has_end;
    jst_date end;          /* last day in force, derived from the next rulebook */
    bool count_degrade;    /* quality degradation counts, not only stoppage */
    /* Two different things about serious accidents and the quarterly report:
     * whether the operator must also file them on the quarterly form (the
     * duty: due.quarterly, the quarterly batch), and whether MIC's yearly
     * statistics count them inside the detailed-form total (release 注3). */
    rules_flag serious_quarterly_duty;
    rules_flag serious_in_statistics;
    rules_clause *clauses;
    size_t n_clauses;
    /* deadlines */
    bool has_prompt;
    char *prompt_source;
    rules_flag prompt_moves;    /* always off: 速やかに is no period (may cite why) */
    int written_days;           /* 0 = no written-report deadline */
    bool written_civil_code_140; /* first day not counted unless it starts at 00:00 */
    char *written_source;
    rules_flag written_moves;   /* moved past administrative holidays (holiday.h) */
    int quarterly_months;       /* 0 = no quarterly deadline */
    char *quarterly_source;
    rules_flag quarterly_moves;
    bool periodic_yearly;       /* "from = fiscal_year_end": a yearly, not quarterly, report */
    /* the おそれ事態 report and the secrecy-leak report (施行規則 第57条 表二) */
    bool has_osore;
    rules_osore osore;
    int osore_days;             /* 0 = no deadline */
    char *osore_source;
    rules_flag osore_moves;
    int secrecy_days;           /* 0 = no secrecy-leak report */
    char *secrecy_source;
    rules_flag secrecy_moves;
    /* forms and exclusions */
    bool has_simple_form;
    char *simple_form_source;
    bool has_minor_premises;
    char *minor_source;
    /* resolved against the catalog at load: per service index, the serious
     * clause of its category (-1 when none), and the clause for all services */
    int *svc_serious;
    size_t n_svc;
    int all_serious;
} rulebook;

typedef struct rules_set {
    rulebook *books; /* sorted by effective date */
    size_t n;
} rules_set;

/* Interpret one parsed rulebook file. */
int rules_parse(rulebook *b, const conf_file *f, jiko_error *err);

/* Load every *.rules file of a directory and resolve service categories
 * against the catalog.  Fails on the first bad file with its line. */
int rules_load_dir(rules_set *set, const char *dir, const catalog *cat, jiko_error *err);

/* Add a parsed rulebook to a set (takes ownership) and re-resolve. */
int rules_add(rules_set *set, rulebook *b, const catalog *cat, jiko_error *err);

void rules_free_book(rulebook *b);
void rules_free(rules_set *set);

/* The rulebook in force on the JST date of the instant, or NULL.  A
 * rulebook marked "in_force = no" is never chosen. */
const rulebook *rules_select(const rules_set *set, int64_t ms);

/* The rulebook with this id, or NULL. */
const rulebook *rules_find(const rules_set *set, const char *id);

/* The first day in force as "YYYY-MM-DD", or "unknown" for a rulebook not in
 * force whose date is not known. */
const char *rules_effective_text(const rulebook *b, char *buf, size_t size);

/* Parse "duration >= 2h and users >= 30000", its one-sided forms, and any of
 * them with "mau >= N" (monthly active users) joined by "and". */
int rules_parse_threshold(const char *text, rules_threshold *t, const char **why);

/* Parse a duration such as "2h", "1h30m", "90m", "24h", "0". */
bool rules_parse_duration(const char *s, int64_t *ms);

#endif
