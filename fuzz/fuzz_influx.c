/*
 * fuzz_influx.c — libFuzzer target for the Influx line protocol parser.
 *
 * The first input byte picks the options (precision, a low tag limit, a
 * short line limit, the metric separator) so that every path is reachable;
 * the rest is the body.  Any body must be parsed to its end without a crash,
 * leak or undefined behaviour, every sample must keep sample.h's promises,
 * and every line must be accounted for: delivered or rejected.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_check.h"
#include "ingest_influx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    ingest_influx_opts o = ingest_influx_defaults();
    o.source = "fuzz";
    o.precision = (ingest_influx_precision)(data[0] & 3);
    o.max_labels = data[0] & 4 ? 2 : 0;
    o.max_line = data[0] & 8 ? 40 : 0;
    o.metric_sep = data[0] & 16 ? '_' : 0;
    o.default_t_ms = data[0] & 32 ? INT64_MIN : INT64_MAX;
    o.on_error = fuzz_check_error;
    ingest_stats st;
    jiko_error err;
    if (ingest_influx_parse(&o, (const char *)data + 1, size - 1, fuzz_check_sample, NULL, &st,
                            &err) != 0)
        abort(); /* neither callback stops, and the scratch is small */
    if (st.rejected > st.records || (st.samples && st.rejected == st.records))
        abort();
    return 0;
}
