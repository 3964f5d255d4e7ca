/* rw_body.c — see rw_body.h. */
#include "rw_body.h"

#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.pb-c.h"

char *rw_pack(const Prometheus__WriteRequest *wr, size_t *len, size_t *raw_len)
{
    size_t rl = prometheus__write_request__get_packed_size(wr);
    uint8_t *raw = malloc(rl);
    size_t cl = snappy_max_compressed_length(rl);
    char *out = malloc(cl);
    if (!raw || !out)
        abort();
    prometheus__write_request__pack(wr, raw);
    if (snappy_compress((char *)raw, rl, out, &cl) != SNAPPY_OK)
        abort();
    free(raw);
    *len = cl;
    if (raw_len)
        *raw_len = rl;
    return out;
}

char *rw_body(long first, long n, int64_t t_ms, rw_value_fn value, void *ctx, size_t *len)
{
    Prometheus__TimeSeries *ts = calloc((size_t)n, sizeof *ts);
    Prometheus__TimeSeries **tsp = calloc((size_t)n, sizeof *tsp);
    Prometheus__Label *lab = calloc((size_t)n * 3, sizeof *lab);
    Prometheus__Label **labp = calloc((size_t)n * 3, sizeof *labp);
    Prometheus__Sample *sam = calloc((size_t)n, sizeof *sam);
    Prometheus__Sample **samp = calloc((size_t)n, sizeof *samp);
    char *sites = calloc((size_t)n, 16); /* "s" and up to 9 digits */
    if (!ts || !tsp || !lab || !labp || !sam || !samp || !sites)
        abort();
    for (long i = 0; i < n; i++) {
        long s = first + i;
        prometheus__time_series__init(&ts[i]);
        Prometheus__Label *l = &lab[i * 3];
        for (int k = 0; k < 3; k++) {
            prometheus__label__init(&l[k]);
            labp[i * 3 + k] = &l[k];
        }
        snprintf(sites + i * 16, 16, "s%06ld", s % 100000000L);
        l[0].name = "__name__", l[0].value = "kpi_bench";
        l[1].name = "job", l[1].value = "bench";
        l[2].name = "site", l[2].value = sites + i * 16;
        ts[i].labels = &labp[i * 3];
        ts[i].n_labels = 3;
        prometheus__sample__init(&sam[i]);
        sam[i].timestamp = t_ms;
        sam[i].value = value(ctx, s);
        samp[i] = &sam[i];
        ts[i].samples = &samp[i];
        ts[i].n_samples = 1;
        tsp[i] = &ts[i];
    }
    Prometheus__WriteRequest wr;
    prometheus__write_request__init(&wr);
    wr.timeseries = tsp;
    wr.n_timeseries = (size_t)n;
    char *out = rw_pack(&wr, len, NULL);
    free(ts);
    free(tsp);
    free(lab);
    free(labp);
    free(sam);
    free(samp);
    free(sites);
    return out;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    do {
        p[n++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

/* tag, length, bytes (every length here is below 128: one byte) */
static size_t put_bytes(uint8_t *p, uint8_t tag, const void *b, size_t n)
{
    p[0] = tag;
    p[1] = (uint8_t)n;
    memcpy(p + 2, b, n);
    return n + 2;
}

static size_t put_label(uint8_t *p, const char *name, const char *value)
{
    uint8_t tmp[96];
    size_t n = put_bytes(tmp, 0x0a, name, strlen(name));
    n += put_bytes(tmp + n, 0x12, value, strlen(value));
    return put_bytes(p, 0x0a, tmp, n);
}

void rw_template_init(rw_template *t, long first, long n, int64_t t_ms)
{
    memset(t, 0, sizeof *t);
    t->first = first;
    t->n = n;
    uint8_t ts[10];
    t->time_bytes = (int)put_varint(ts, (uint64_t)t_ms);
    t->raw = malloc((size_t)n * 128);
    t->value_at = malloc((size_t)n * sizeof *t->value_at);
    t->time_at = malloc((size_t)n * sizeof *t->time_at);
    if (!t->raw || !t->value_at || !t->time_at)
        abort();
    size_t at = 0;
    for (long i = 0; i < n; i++) {
        /* TimeSeries{labels: __name__, job, site; samples: {value, timestamp}},
         * fields in the order protobuf-c writes them */
        uint8_t series[128];
        char site[16];
        snprintf(site, sizeof site, "s%06ld", (first + i) % 100000000L);
        size_t k = put_label(series, "__name__", "kpi_bench");
        k += put_label(series + k, "job", "bench");
        k += put_label(series + k, "site", site);
        series[k++] = 0x12; /* samples */
        series[k++] = (uint8_t)(1 + 8 + 1 + t->time_bytes);
        series[k++] = 0x09; /* value: fixed64 */
        size_t value_off = k;
        k += 8;
        series[k++] = 0x10; /* timestamp: varint */
        size_t time_off = k;
        k += put_varint(series + k, (uint64_t)t_ms);
        t->raw[at++] = 0x0a; /* WriteRequest.timeseries */
        t->raw[at++] = (uint8_t)k;
        t->value_at[i] = at + value_off;
        t->time_at[i] = at + time_off;
        memcpy(t->raw + at, series, k);
        at += k;
    }
    t->raw_len = at;
    t->out_cap = snappy_max_compressed_length(at);
    if (!(t->out = malloc(t->out_cap)))
        abort();
}

const char *rw_template_body(rw_template *t, int64_t t_ms, rw_value_fn value, void *ctx,
                             size_t *len)
{
    uint8_t ts[10];
    if ((int)put_varint(ts, (uint64_t)t_ms) != t->time_bytes)
        abort();
    for (long i = 0; i < t->n; i++) {
        double v = value(ctx, t->first + i);
        uint64_t bits;
        memcpy(&bits, &v, 8);
        for (int b = 0; b < 8; b++) /* little-endian on the wire */
            t->raw[t->value_at[i] + (size_t)b] = (uint8_t)(bits >> (8 * b));
        memcpy(t->raw + t->time_at[i], ts, (size_t)t->time_bytes);
    }
    *len = t->out_cap;
    if (snappy_compress((const char *)t->raw, t->raw_len, t->out, len) != SNAPPY_OK)
        abort();
    return t->out;
}

void rw_template_free(rw_template *t)
{
    free(t->raw);
    free(t->value_at);
    free(t->time_at);
    free(t->out);
}
