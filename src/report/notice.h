/*
 * notice.h — public notices of an outage: drafts of the first report (初報),
 * updates (続報) and the recovery report (復旧報) made from an incident, and
 * publishing one into the incident's record.
 *
 * A draft follows the shape of the operators' own notices cited in seed 000
 * (NTT docomo's 【お詫び】…がご利用しづらい事象について, KDDI's and Rakuten's
 * 通信障害のお詫び): an apology title, the greeting, what is affected and
 * since when, then 発生日時 / 影響エリア / 影響サービス / 影響利用者数 /
 * 現在の状況 / 原因 / 次回のお知らせ (or 復旧日時), and the apology.  Times
 * in Japanese are JST as operators write them (2021年10月14日（木）17時37分頃);
 * in English "17:37 JST, Thursday 14 October 2021".  Anything the record does
 * not say yet is written as under investigation (確認中).
 *
 * Publishing appends {"at","kind","channel","text","title","lang"} to the
 * record's `notices` and stores the record again through import_text — the
 * path of `jiko amend` and of POST /api/v1/incidents — so the notice is a new
 * version in the incident's history, with its provenance.
 *
 * The command line (`jiko notice`) and the server are thin shells over
 * notice_draft_make, notice_parse and notice_publish.
 */
#ifndef JIKO_NOTICE_H
#define JIKO_NOTICE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "classify.h"
#include "error.h"
#include "incident.h"
#include "intake.h"
#include "store.h"

/* A published notice's text (its body) and title, in bytes: a notice is a
 * page of text, never a document; a longer one is a mistake. */
#define NOTICE_TEXT_MAX 16384
#define NOTICE_TITLE_MAX 512
/* The next update is promised this long after `now`, rounded up to the
 * next half hour (docomo's notices came roughly hourly). */
#define NOTICE_NEXT_UPDATE_MS (60LL * 60 * 1000)
#define NOTICE_ROUND_MS (30LL * 60 * 1000)

typedef enum notice_kind { NOTICE_FIRST = 0, NOTICE_UPDATE = 1, NOTICE_RECOVERY = 2 } notice_kind;

typedef struct notice_draft {
    notice_kind kind;
    bool ja;
    char *title, *body; /* malloc'd UTF-8 */
} notice_draft;

/* A notice to publish, as a person sends it (the draft's JSON, edited). */
typedef struct notice_input {
    notice_kind kind;
    const char *lang;    /* "ja", "en" or NULL */
    const char *title;   /* may be NULL */
    const char *body;    /* non-empty */
    const char *channel; /* web (default), sns, press, mail, other */
    int64_t at_ms;       /* when it was published (default: now) */
    json_t *json;        /* the parsed object the strings point into (owned) */
} notice_input;

/* "first", "update", "recovery" → the kind; false for anything else. */
bool notice_kind_of(const char *name, notice_kind *out);
const char *notice_kind_name(notice_kind k);
/* The kind as a person reads it: 初報 / 続報 / 復旧報, first report / update
 * / recovery report; a stored name jiko does not know is returned as is. */
const char *notice_kind_label(const char *name, bool ja);

/* The kind to draft when none is asked: the recovery report once the
 * incident has ended, else a first report until a notice is published,
 * then updates — all as of now_ms. */
notice_kind notice_default_kind(const incident *inc, int64_t now_ms);

/* When the next update is promised: now + NOTICE_NEXT_UPDATE_MS, rounded up
 * to the next multiple of NOTICE_ROUND_MS (17:53 → 19:00, 18:00 → 19:00). */
int64_t notice_next_update(int64_t now_ms);

/* "2021年10月14日（木）17時37分" / "17:37 JST, Thursday 14 October 2021". */
#define NOTICE_TIME_MAX 96
char *notice_format_time(int64_t ms, bool ja, char *buf, size_t size);

/* Draft a notice of `kind` for the incident as it stood at now_ms: ongoing
 * while it has no ended_at or its ended_at is later than now_ms (a draft
 * dated back, a replay), and counting the notices dated up to now_ms.
 * JIKO_ERR_INVALID (field "kind") for a recovery report of an incident
 * that has not ended by then.
 * Free with notice_draft_free. */
int notice_draft_make(const incident *inc, const catalog *cat, notice_kind kind, bool ja,
                      int64_t now_ms, notice_draft *out, jiko_error *err);
void notice_draft_free(notice_draft *d);

/* {"kind","lang","title","body"} (NULL when out of memory). */
json_t *notice_draft_json(const notice_draft *d);

/* Read a notice to publish from JSON text: {"kind", "body"} required,
 * "title", "lang", "channel", "at" optional, nothing else.  Errors are
 * JIKO_ERR_INVALID naming the field.  Free with notice_input_free. */
int notice_parse(const char *text, size_t len, int64_t now_ms, notice_input *out,
                 jiko_error *err);
void notice_input_free(notice_input *n);

/* The notice as the record keeps it: {"at","kind","channel","text"} and
 * "title", "lang" when given (NULL when out of memory). */
json_t *notice_input_json(const notice_input *n);

/* JSON text → a value, for the records and notices this module and
 * status.c read: the fast path of json_fast.h for plain records, else
 * jansson.  jansson words an allocation that failed inside its lexer as a
 * syntax error ("invalid token"), so a failure that does not say out of
 * memory is read once more before the text is blamed: NULL with *je saying
 * out of memory (json_error_out_of_memory), or what is wrong.  Duplicate
 * keys are refused, as in records. */
json_t *notice_json_load(const char *text, size_t len, json_error_t *je);

/* Publish: append the notice to the stored incident's `notices` and store
 * the record as a new version (one transaction, `reason` as provenance).
 * JIKO_ERR_NOT_FOUND when there is no such incident; the registry's errors
 * otherwise.  *version gets the incident's version after the call. */
int notice_publish(store *db, const intake_opts *io, const char *op, const char *id,
                   const notice_input *n, const char *reason, int *version, jiko_error *err);

#endif
