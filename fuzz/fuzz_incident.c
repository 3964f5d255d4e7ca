/*
 * fuzz_incident.c — libFuzzer target for the incident parser and the
 * classifier behind it: any byte string must be either rejected with an error
 * or parsed, classified under every rulebook and rendered, without a crash,
 * leak or undefined behaviour.  Also: whatever the fast parsing path accepts,
 * jansson accepts as an equal value with its object keys in the same order
 * (json_fast.h; the order is part of the contract: stored records and
 * exports keep it).  And json_fast_string takes and refuses the same
 * strings as json_string, up to the input's first NUL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "fuzz_env.h"
#include "incident.h"
#include "json_fast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_data *env = fuzz_data_get(1);
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    json_t *js = json_string(text), *fs = json_fast_string(text);
    if ((js == NULL) != (fs == NULL) || (js && !json_equal(js, fs)))
        abort();
    json_decref(js);
    json_decref(fs);
    free(text);
    json_t *fast = json_fast_loadb((const char *)data, size);
    if (fast) {
        json_t *ref = json_loadb((const char *)data, size,
                                 JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
        if (!ref || !json_equal(fast, ref))
            abort();
        /* json_equal ignores key order; the dumps in insertion order do not */
        const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
        char *a = json_dumps(fast, flags), *b = json_dumps(ref, flags);
        if (!a || !b || strcmp(a, b) != 0)
            abort();
        free(a);
        free(b);
        json_decref(ref);
        json_decref(fast);
    }
    incident inc;
    jiko_error err;
    char buf[ERROR_TEXT_MAX];
    if (incident_parse(&inc, (const char *)data, size, &env->cat, "fuzz", 1, &err)) {
        error_format(&err, buf, sizeof buf);
        return 0;
    }
    for (size_t i = 0; i < env->rules.n; i++) {
        classify_result r;
        classify_incident(&env->rules.books[i], &env->cat, &inc, inc.started_ms + 3600000, &r);
        for (int lang = 0; lang < 2; lang++) {
            json_t *o = classify_to_json(&r, &inc, &env->cat, (classify_lang)lang);
            char *s = json_dumps(o, JSON_COMPACT);
            free(s);
            json_decref(o);
        }
    }
    incident_free(&inc);
    return 0;
}
