/*
 * engine_restart.c — the live engine across restarts (engine.h): its open
 * incidents reloaded from the registry with the fields it last wrote, and
 * its series' detectors, forecasters, links and alarms in a checkpoint file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_impl.h"
#include "fnv.h"

/* ---- restart: the open incidents from the registry ---- */

typedef struct reload_ctx {
    live_engine *e;
    int64_t now_ms;
    int rc;
    jiko_error *err;
} reload_ctx;

static int watch_index(const live_conf *c, const char *name)
{
    for (size_t w = 0; w < c->n_watches; w++)
        if (strcmp(c->watches[w].name, name) == 0)
            return (int)w;
    return -1;
}


/* The engine's own fields as it last wrote them: those of the latest
 * version stored with a "live:" reason. */
static int last_own_version(void *ctx, const store_row *r)
{
    json_t **mine = ctx;
    if (strncmp(r->reason, "live:", 5) != 0)
        return 0;
    json_t *rec = json_loads(r->record, 0, NULL);
    if (!rec)
        return 0;
    json_decref(*mine);
    *mine = json_object();
    static const char *const own[] = {"started_at", "ended_at", "services",          "equipment",
                                      "region",     "summary",  "wholesale_provider"};
    for (size_t k = 0; k < sizeof own / sizeof own[0]; k++) {
        json_t *v = json_object_get(rec, own[k]);
        if (v)
            json_object_set(*mine, own[k], v);
    }
    json_decref(rec);
    return 0;
}

static int reload_row(void *ctx, const store_row *r)
{
    reload_ctx *x = ctx;
    live_engine *e = x->e;
    if (strncmp(r->id, "live-", 5) != 0)
        return 0;
    live_inc *i = calloc(1, sizeof *i);
    if (!i || !(i->op = strdup(r->op)) || !(i->id = strdup(r->id)) ||
        !(i->record = json_loads(r->record, 0, NULL))) {
        if (i)
            live_inc_free(i);
        error_nomem(x->err, "reloading the live engine's incidents");
        return x->rc = -1;
    }
    i->started_ms = r->started_ms;
    i->ended_ms = -1;
    i->version = r->version;
    /* joined by new anomalies as if the last one were now: a restart does
     * not split an incident in two */
    i->last_anomaly_ms = x->now_ms;
    i->end_candidate_ms = r->started_ms;
    /* the watches of its operator whose service it has (the checkpoint,
     * when there is one, says which exactly) */
    const live_conf *c = e->env.conf;
    json_t *svcs = json_object_get(i->record, "services");
    for (size_t w = 0; w < c->n_watches; w++) {
        if (strcmp(c->watches[w].op, r->op) != 0)
            continue;
        size_t k;
        json_t *sv;
        json_array_foreach(svcs, k, sv)
        {
            const char *code = json_string_value(json_object_get(sv, "service"));
            if (code && strcmp(code, c->watches[w].service) == 0 && live_inc_push_watch(i, (int)w)) {
                live_inc_free(i);
                error_nomem(x->err, "reloading the live engine's incidents");
                return x->rc = -1;
            }
        }
    }
    const char *prov = json_string_value(json_object_get(i->record, "wholesale_provider"));
    if (prov) { /* a receiver's: linked to its provider's after the reload */
        i->linked = true;
        i->n_watches = 0;
        if (!(i->provider_op = strdup(prov))) {
            live_inc_free(i);
            error_nomem(x->err, "reloading the live engine's incidents");
            return x->rc = -1;
        }
    } else if (i->n_watches == 0) { /* no watch of this configuration made it: left to people */
        live_inc_free(i);
        return 0;
    }
    i->next = e->incs;
    e->incs = i;
    e->stats.open_incidents++;
    return 0;
}

int live_reload(live_engine *e, store *db, int64_t now_ms, jiko_error *err)
{
    reload_ctx x = {e, now_ms, 0, err};
    store_filter f = {.open = 1};
    if (store_list(db, &f, reload_row, &x, err) || x.rc)
        return -1;
    /* receivers' incidents follow their provider's, when it was reloaded
     * too; else they are left to people */
    for (live_inc **p = &e->incs; *p;) {
        live_inc *i = *p;
        if (i->linked)
            for (live_inc *q = e->incs; q && !i->provider; q = q->next)
                if (!q->linked && strcmp(q->op, i->provider_op) == 0 && strcmp(q->id, i->id) == 0)
                    i->provider = q;
        if (i->linked && !i->provider) {
            *p = i->next;
            e->stats.open_incidents--;
            live_inc_free(i);
        } else {
            p = &i->next;
        }
    }
    for (live_inc *i = e->incs; i; i = i->next)
        if (store_history(db, i->op, i->id, last_own_version, &i->mine, err))
            return -1;
    return 0;
}

/* ---- the checkpoint file ----
 *
 * Native byte order and struct layout: it is read back by the same build
 * on the same machine (the header says which layout; another one is
 * refused and the detectors start afresh).
 *   "JIKOLIV5", u8 detector (0 light, 1 full), u32 its state's size,
 *   u32 sizeof(forecast_state), u64 series count,
 *   per series: u32 key length, key, u16 watch-name length, watch name,
 *               u8 alert, i32 normal_run, i64 first_normal_ms,
 *               f64 base_mean, f64 fail_mean, i32 base_n,
 *               u16 incident-id length, incident id, the detector's state,
 *               u8 has a forecaster, u8 its warning sent, [forecast_state];
 *   u64 incident count,
 *   per incident: u16 op length, op, u16 id length, id, u32 leads_fired,
 *               u8 serious_sent, u8 deadline_sent, u16 watch count,
 *               (u16 length, watch name) each;
 *   u64 FNV-1a of everything before. */
#define CKPT_MAGIC "JIKOLIV5"

typedef struct ckpt_out {
    FILE *f;
    uint64_t h;
    bool ok;
} ckpt_out;

static void put(ckpt_out *o, const void *p, size_t n)
{
    o->h = fnv1a64(o->h, p, n);
    if (o->ok && n && fwrite(p, 1, n, o->f) != n)
        o->ok = false;
}

static void put_str(ckpt_out *o, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    uint16_t len = (uint16_t)(n > UINT16_MAX ? UINT16_MAX : n);
    put(o, &len, sizeof len);
    put(o, s, len);
}

int live_checkpoint(live_engine *e, jiko_error *err)
{
    const live_conf *c = e->env.conf;
    if (!c->checkpoint)
        return 0;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", c->checkpoint);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        error_set(err, JIKO_ERR_IO, c->checkpoint, 0, NULL, "cannot write the checkpoint: %s",
                  strerror(errno));
        return -1;
    }
    pthread_mutex_lock(&e->mu);
    ckpt_out o = {f, FNV1A64_OFFSET, true};
    put(&o, CKPT_MAGIC, 8);
    uint8_t kind = c->detector_full;
    uint32_t size = (uint32_t)live_detector_size(e), fsize = sizeof(forecast_state);
    put(&o, &kind, 1);
    put(&o, &size, 4);
    put(&o, &fsize, 4);
    uint64_t n = e->n_series;
    put(&o, &n, 8);
    for (size_t k = 0; k < e->series.cap; k++) {
        live_series *s = e->series.vals ? e->series.vals[k] : NULL;
        if (!s)
            continue;
        uint32_t klen = (uint32_t)e->series.lens[k];
        put(&o, &klen, 4);
        put(&o, e->series.keys[k], klen);
        put_str(&o, s->watch >= 0 ? c->watches[s->watch].name : NULL);
        uint8_t alert = s->alert;
        int32_t run = s->normal_run;
        int64_t first = s->first_normal_ms;
        put(&o, &alert, 1);
        put(&o, &run, 4);
        put(&o, &first, 8);
        put(&o, &s->base_mean, 8);
        put(&o, &s->fail_mean, 8);
        put(&o, &s->base_n, 4);
        put_str(&o, s->inc ? s->inc->id : NULL);
        put(&o, s->st, size);
        uint8_t fc[2] = {s->fc != NULL, s->warned};
        put(&o, fc, 2);
        if (s->fc)
            put(&o, s->fc, sizeof *s->fc);
    }
    uint64_t ni = 0;
    for (live_inc *i = e->incs; i; i = i->next)
        ni++;
    put(&o, &ni, 8);
    for (live_inc *i = e->incs; i; i = i->next) {
        put_str(&o, i->op);
        put_str(&o, i->id);
        put(&o, &i->leads_fired, 4);
        uint8_t flags[2] = {i->serious_sent, i->deadline_sent};
        put(&o, flags, 2);
        uint16_t nw = (uint16_t)i->n_watches;
        put(&o, &nw, 2);
        for (size_t w = 0; w < i->n_watches; w++)
            put_str(&o, c->watches[i->watches[w]].name);
    }
    pthread_mutex_unlock(&e->mu);
    uint64_t h = o.h;
    put(&o, &h, 8);
    bool ok = o.ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, c->checkpoint) != 0) {
        error_set(err, JIKO_ERR_IO, c->checkpoint, 0, NULL, "cannot write the checkpoint: %s",
                  strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

typedef struct ckpt_in {
    const unsigned char *p, *end;
    bool ok;
} ckpt_in;

static const unsigned char *take(ckpt_in *in, size_t n)
{
    if (!in->ok || (size_t)(in->end - in->p) < n) {
        in->ok = false;
        return NULL;
    }
    const unsigned char *at = in->p;
    in->p += n;
    return at;
}

static void get(ckpt_in *in, void *out, size_t n)
{
    const unsigned char *at = take(in, n);
    if (at)
        memcpy(out, at, n);
    else
        memset(out, 0, n);
}

/* A string of the file into buf (NUL-terminated; cut at size - 1). */
static const char *get_str(ckpt_in *in, char *buf, size_t size)
{
    uint16_t n;
    get(in, &n, 2);
    const unsigned char *at = take(in, n);
    size_t keep = !at ? 0 : n < size ? n : size - 1;
    if (keep)
        memcpy(buf, at, keep);
    buf[keep] = '\0';
    return buf;
}

static live_inc *inc_by_id(live_engine *e, const char *op, const char *id)
{
    for (live_inc *i = e->incs; i; i = i->next)
        if (strcmp(i->id, id) == 0 && strcmp(i->op, op) == 0)
            return i;
    return NULL;
}

static void restore_series(live_engine *e, ckpt_in *in)
{
    const live_conf *c = e->env.conf;
    uint32_t klen;
    get(in, &klen, 4);
    const char *key = (const char *)take(in, klen);
    char name[512], incid[LIVE_ID_MAX + 8];
    get_str(in, name, sizeof name);
    uint8_t alert;
    int32_t run;
    int64_t first;
    get(in, &alert, 1);
    get(in, &run, 4);
    get(in, &first, 8);
    double bmean, fmean;
    int32_t bn;
    get(in, &bmean, 8);
    get(in, &fmean, 8);
    get(in, &bn, 4);
    get_str(in, incid, sizeof incid);
    const unsigned char *st = take(in, live_detector_size(e));
    uint8_t fc[2];
    get(in, fc, 2);
    const unsigned char *fst = fc[0] ? take(in, sizeof(forecast_state)) : NULL;
    if (!in->ok || e->n_series >= c->max_series)
        return;
    live_series *s = calloc(1, sizeof *s + live_detector_size(e));
    void **slot = s ? strmap_put(&e->series, key, klen, NULL) : NULL;
    if (!slot || *slot) { /* out of memory, or a key twice: the first stays */
        free(s);
        return;
    }
    memcpy(s->st, st, live_detector_size(e));
    if (fst && (s->fc = malloc(sizeof *s->fc)) != NULL)
        memcpy(s->fc, fst, sizeof *s->fc);
    s->warned = fc[1];
    s->key = e->series.keys[slot - e->series.vals];
    s->watch = name[0] ? watch_index(c, name) : -1;
    s->rematch = true;
    s->alert = alert;
    s->normal_run = run;
    s->first_normal_ms = first;
    s->base_mean = bmean;
    s->fail_mean = fmean;
    s->base_n = bn;
    /* the series' incident: that id, of the operator the key starts with
     * (operator, 0x1f, name; compared whole, since an operator or a label
     * may itself hold a 0x1f) */
    for (live_inc *i = e->incs; incid[0] && i && !s->inc; i = i->next) {
        size_t ol = strlen(i->op);
        if (strcmp(i->id, incid) == 0 && ol < klen && key[ol] == 0x1f &&
            memcmp(key, i->op, ol) == 0)
            s->inc = i;
    }
    if (s->inc)
        s->inc->pending++;
    *slot = s;
    e->n_series++;
    e->key_bytes += klen + 1;
}

static void restore_incident(live_engine *e, ckpt_in *in)
{
    char op[512], incid[LIVE_ID_MAX + 8], name[512];
    get_str(in, op, sizeof op);
    get_str(in, incid, sizeof incid);
    uint32_t leads;
    uint8_t flags[2];
    uint16_t nw;
    get(in, &leads, 4);
    get(in, flags, 2);
    get(in, &nw, 2);
    live_inc *i = in->ok ? inc_by_id(e, op, incid) : NULL;
    if (i) {
        i->leads_fired = leads;
        i->serious_sent = flags[0];
        i->deadline_sent = flags[1];
    }
    /* the watches that joined it, in their order, replace the ones guessed
     * from its services, unless none of them is in the configuration now */
    int seen[LIVE_MAX_JOINED];
    size_t n = 0;
    for (uint16_t w = 0; w < nw && in->ok; w++) {
        int wi = watch_index(e->env.conf, get_str(in, name, sizeof name));
        if (wi >= 0 && n < LIVE_MAX_JOINED)
            seen[n++] = wi;
    }
    if (i && n > 0) {
        i->n_watches = 0;
        for (size_t k = 0; k < n; k++)
            live_inc_push_watch(i, seen[k]); /* no failure: the array only shrinks or stays */
    }
}

/* Read the checkpoint; a missing file is a first start (0), a damaged or
 * foreign one is said in `why` and ignored (1: the detectors start afresh). */
int live_restore(live_engine *e, char *why, size_t why_size)
{
    const live_conf *c = e->env.conf;
    int fd = c->checkpoint ? open(c->checkpoint, O_RDONLY) : -1;
    if (fd < 0) {
        if (c->checkpoint && errno != ENOENT) {
            snprintf(why, why_size, "cannot read it: %s", strerror(errno));
            return 1;
        }
        return 0;
    }
    off_t size = lseek(fd, 0, SEEK_END);
    unsigned char *buf = size >= 32 ? malloc((size_t)size) : NULL;
    bool read_ok = buf && pread(fd, buf, (size_t)size, 0) == size;
    close(fd);
    uint64_t stored = 0;
    if (read_ok)
        memcpy(&stored, buf + size - 8, 8);
    /* the sum first: nothing is taken from a damaged file */
    if (!read_ok || stored != fnv1a64(FNV1A64_OFFSET, buf, (size_t)size - 8)) {
        free(buf);
        snprintf(why, why_size, read_ok ? "damaged (its checksum does not match)" : "unreadable");
        return 1;
    }
    ckpt_in in = {buf, buf + size - 8, true};
    char magic[8];
    uint8_t kind = 0;
    uint32_t state_size, fc_size;
    uint64_t n;
    get(&in, magic, 8);
    get(&in, &kind, 1);
    get(&in, &state_size, 4);
    get(&in, &fc_size, 4);
    get(&in, &n, 8);
    bool ours = memcmp(magic, CKPT_MAGIC, 8) == 0 && kind <= 1;
    if (ours && kind != (uint8_t)c->detector_full) {
        free(buf);
        snprintf(why, why_size, "written with the %s detector; [live] detector is now %s",
                 kind ? "full" : "light", c->detector_full ? "full" : "light");
        return 1;
    }
    if (!ours || state_size != live_detector_size(e) || fc_size != sizeof(forecast_state)) {
        free(buf);
        snprintf(why, why_size, "not a checkpoint of this build");
        return 1;
    }
    for (uint64_t k = 0; k < n && in.ok; k++)
        restore_series(e, &in);
    uint64_t ni = 0;
    get(&in, &ni, 8);
    for (uint64_t k = 0; k < ni && in.ok; k++)
        restore_incident(e, &in);
    free(buf);
    e->stats.series = e->n_series;
    if (!in.ok) {
        snprintf(why, why_size, "cut short; what could be read was taken");
        return 1;
    }
    return 0;
}

