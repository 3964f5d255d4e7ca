/*
 * status.h — an operator's public status page and its Atom feed (RFC 4287):
 * what the public may see of its outages, which is what the operator
 * published and nothing else.
 *
 * What is public (the reading jiko takes):
 *   - only published notices: the entries of a record's `notices` whose
 *     `at` has come (a notice dated later is not shown before its time);
 *   - an incident appears only with at least one published notice — an
 *     outage the operator has not announced is not announced here either;
 *   - the page shows the current incidents (no `ended_at` and no recovery
 *     report published) and
 *     those that ended, or had a notice published, in the last
 *     STATUS_RECENT_DAYS days (a report published long after an old outage
 *     is news); the feed has one entry per published notice of the same
 *     incidents;
 *   - a wholesale provider's incident also appears on each receiving
 *     operator's page with the provider's notices: a provider record whose
 *     services[].wholesale_to names the receiver, or the provider's incident
 *     that a receiver's own record points to (wholesale_provider, same
 *     start: how the live engine and the FY2021 records link them).
 * Nothing else of the record is shown: not the users' count, the cause or
 * the classification unless a notice says them.
 *
 * The page is plain HTML with a small inline style sheet and no script;
 * its links are root-relative (/status/OPERATOR/feed.atom), so a copy of
 * the page and feed served as static files under /status/ works the same.
 */
#ifndef JIKO_STATUS_H
#define JIKO_STATUS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "catalog.h"
#include "error.h"
#include "store.h"

#define STATUS_RECENT_DAYS 90
/* The tag: URIs of the feed and its entries (RFC 4151). */
#define STATUS_TAG "tag:jiko,2026:"

typedef struct status_notice {
    int64_t at_ms;
    const char *kind, *channel, *title, *text; /* point into the record; title may be NULL */
    const char *lang; /* "ja", "en" or NULL: the language it was written in */
} status_notice;

typedef struct status_incident {
    json_t *record;     /* owned */
    const char *op, *id; /* the reporting operator (the provider, for one shown by wholesale) */
    int64_t started_ms, ended_ms; /* ended_ms 0: the record has no end yet */
    /* Going on, for the public: no ended_at in the record, and no recovery
     * report published (a 復旧報 out before the record's end is stored
     * moves the incident out of the current ones) */
    bool ongoing;
    bool wholesale; /* another operator's incident, shown because this one receives its service */
    status_notice *notices; /* published ones, oldest first */
    size_t n_notices;
} status_incident;

typedef struct status_page {
    char *op;
    int64_t now_ms;
    bool known;          /* the registry knows the operator (an incident of its own, or named
                          * as a wholesale receiver) */
    status_incident *inc; /* current ones first (latest start first), then ended (latest end
                           * or notice first) */
    size_t n, cap;
    int64_t updated_ms;  /* the latest published notice; 0 when none */
} status_page;

/* Collect what an operator's page shows as of now_ms.  Free with
 * status_free, also after a failure. */
int status_collect(status_page *p, store *db, const char *op, int64_t now_ms, jiko_error *err);
void status_free(status_page *p);

/* The page (HTML) and the feed (Atom 1.0), in Japanese or English.  The
 * feed returns -1 when out of memory (its entries are sorted), else 0. */
void status_write_html(FILE *out, const status_page *p, const catalog *cat, bool ja);
int status_write_atom(FILE *out, const status_page *p, const catalog *cat, bool ja);

/* A page for an operator the registry does not know (404). */
void status_write_unknown(FILE *out, const char *op, bool ja);

/* `s` percent-encoded for a URL path segment or a tag: URI (every byte but
 * ASCII letters, digits and -._~). */
void status_write_pct(FILE *out, const char *s);

#endif
