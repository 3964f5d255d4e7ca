/* rw_body.c — see rw_body.h. */
#include "rw_body.h"

#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>

#include "remote.pb-c.h"

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
    size_t rl = prometheus__write_request__get_packed_size(&wr);
    uint8_t *raw = malloc(rl);
    size_t cl = snappy_max_compressed_length(rl);
    char *out = malloc(cl);
    if (!raw || !out)
        abort();
    prometheus__write_request__pack(&wr, raw);
    if (snappy_compress((char *)raw, rl, out, &cl) != SNAPPY_OK)
        abort();
    *len = cl;
    free(raw);
    free(ts);
    free(tsp);
    free(lab);
    free(labp);
    free(sam);
    free(samp);
    free(sites);
    return out;
}
