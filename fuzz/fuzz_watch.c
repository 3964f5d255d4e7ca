/*
 * fuzz_watch.c — libFuzzer target for the live engine's configuration: the
 * input is a configuration file's text ([watch NAME] and [live] sections,
 * selectors with their regular expressions).  When it loads, every watch's
 * selector is run against a few label sets cut from the input itself.
 * Every input must be loaded or refused with a config error naming its
 * line, never a crash, leak or undefined behaviour.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz_env.h"
#include "live_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_data *env = fuzz_data_get(0);
    conf_file f;
    jiko_error err;
    if (conf_parse((const char *)data, size, "fuzz.conf", &f, &err))
        return 0;
    live_conf c;
    live_conf_default(&c);
    if (live_conf_load(&c, &f, &env->cat, &err) == 0) {
        /* label sets from the input's bytes: name=value pairs of up to 8 */
        ingest_sample s;
        memset(&s, 0, sizeof s);
        s.metric = (const char *)data;
        s.metric_len = size < 8 ? size : 8;
        for (size_t i = 0; i < 3 && i * 4 + 4 <= size; i++) {
            ingest_label *l = &s.labels[s.n_labels++];
            l->name = (const char *)data + i * 4;
            l->name_len = 2;
            l->value = (const char *)data + i * 4 + 2;
            l->value_len = 2;
        }
        for (size_t w = 0; w < c.n_watches; w++) {
            (void)match_sample(c.watches[w].match, &s);
            s.metric_len = 0; /* and as an alert */
            (void)match_sample(c.watches[w].match, &s);
        }
    } else if (err.kind != JIKO_ERR_CONFIG && err.kind != JIKO_ERR_NOMEM) {
        abort();
    } else if (err.kind == JIKO_ERR_CONFIG && err.line <= 0) {
        abort(); /* a config error always names its line */
    }
    live_conf_free(&c);
    conf_free(&f);
    return 0;
}
