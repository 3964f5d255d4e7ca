/*
 * fuzz_prom.c — libFuzzer target for the remote_write decoder.
 *
 * The first input byte picks a mode: odd, the rest is a body as it arrives
 * (snappy + protobuf: exercises the snappy checks); even, the rest is a
 * protobuf message that is snappy-compressed here first, so the fuzzer
 * spends its effort on protobuf decoding and the per-series checks rather
 * than on guessing valid snappy.  Bit 1 lowers the limits (body, memory,
 * labels) to exercise their refusals.
 *
 * In the protobuf mode the decoder's reading is compared with protobuf-c's
 * (the generated code of proto/): a body one refuses the other must refuse
 * too, and when both take it they must see the same number of series.
 */
#include <snappy-c.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_check.h"
#include "ingest_prom.h"
#include "remote.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    ingest_prom_opts o = ingest_prom_defaults();
    o.source = "fuzz";
    o.on_error = fuzz_check_error;
    if (data[0] & 2) {
        o.max_body = 512;
        o.max_memory = 2048;
        o.max_labels = 2;
    }
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char *packed = NULL;
    if (!(data[0] & 1)) {
        len = snappy_max_compressed_length(size - 1);
        packed = malloc(len);
        if (!packed || snappy_compress(body, size - 1, packed, &len) != SNAPPY_OK)
            abort();
        body = packed;
    }
    ingest_stats st;
    jiko_error err;
    int rc = ingest_prom_parse(&o, body, len, fuzz_check_sample, NULL, &st, &err);
    if (rc == INGEST_FAILED && (!err.message[0] || st.samples))
        abort(); /* a refused body says why and delivered nothing */
    if (rc == INGEST_STOPPED || st.rejected > st.records)
        abort();
    if (!(data[0] & 1) && size - 1 <= o.max_body) {
        Prometheus__WriteRequest *wr = prometheus__write_request__unpack(NULL, size - 1, data + 1);
        if ((wr != NULL) != (rc != INGEST_FAILED))
            abort(); /* one read it as a WriteRequest, the other did not */
        if (wr && wr->n_timeseries != st.records)
            abort();
        prometheus__write_request__free_unpacked(wr, NULL);
    }
    free(packed);
    return 0;
}
