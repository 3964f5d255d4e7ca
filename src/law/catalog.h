/*
 * catalog.h — the service and equipment catalogs (catalogs/services.conf and
 * catalogs/equipment.conf), and the holiday calendar (catalogs/holidays.conf,
 * holiday.h) that goes with them wherever they are loaded.
 *
 * The service catalog maps a service code to its serious-accident category
 * under each rulebook, its statistics group and subgroup, and whether it
 * carries emergency calls.  The equipment catalog maps an equipment code to its
 * group and subgroup and to whether its failure allows the simple report form.
 * Codes are part of the incident contract (docs/incident-format.md).
 */
#ifndef JIKO_CATALOG_H
#define JIKO_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "error.h"
#include "holiday.h"

typedef struct catalog_override {
    char *rulebook; /* rulebook id */
    char *category; /* serious category under that rulebook */
} catalog_override;

typedef struct catalog_service {
    char *code; /* first member: catalog.c find_code() relies on it */
    char *name_ja, *name_en;
    bool emergency_calls;
    char *category; /* default serious category, used unless overridden */
    catalog_override *overrides;
    size_t n_overrides;
    char *group;    /* statistics group: voice | data | other */
    char *subgroup; /* fixed | mobile | other */
    long line;
} catalog_service;

typedef struct catalog_equipment {
    char *code; /* first member: catalog.c find_code() relies on it */
    char *name_ja, *name_en;
    char *group;    /* switching | transmission_line | server | other */
    char *subgroup; /* e.g. subscriber_unit, subscriber_cable */
    bool simple_form;
    long line;
} catalog_equipment;

typedef struct catalog {
    catalog_service *services; /* sorted by code */
    size_t n_services;
    catalog_equipment *equipment; /* sorted by code */
    size_t n_equipment;
    /* The administrative holidays that move deadlines (holidays.conf); with
     * catalog_from_conf alone it covers no year. */
    holiday_calendar holidays;
    /* Figures and notes of MIC's yearly releases that the yearly report
     * quotes as published (published.conf, read by report_published.c);
     * empty when the directory has no such file.  It travels with the
     * catalog so that every front end (CLI, server) prints the same report. */
    conf_file published;
    /* The rulebooks loaded beside this catalog (cli_env_load sets it), NULL
     * when none: what lets a report handed only the catalog name a stored
     * row's serious-accident categories as its rulebook words them. */
    const struct rules_set *rules;
} catalog;

/* Load DIR/services.conf, DIR/equipment.conf and DIR/holidays.conf, and
 * DIR/published.conf when it exists. */
int catalog_load(catalog *c, const char *dir, jiko_error *err);

/* Interpret already parsed files (used by catalog_load and the fuzzers). */
int catalog_from_conf(catalog *c, const conf_file *services, const conf_file *equipment,
                      jiko_error *err);

void catalog_free(catalog *c);

/* Index of a code, or -1 when unknown.  `len` bytes of `code` are compared. */
int catalog_service_index(const catalog *c, const char *code, size_t len);
int catalog_equipment_index(const catalog *c, const char *code, size_t len);

/* The service's category under a rulebook id: an explicit override
 * ("category.jp-2015 = 5"), else NULL so the caller can try the rulebook it
 * inherits from, and finally the default. */
const char *catalog_category_override(const catalog *c, int svc, const char *rulebook_id);

#endif
