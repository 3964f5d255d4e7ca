/*
 * fuzz_rules.c — libFuzzer target for the rulebook parser: the key file
 * format, the rulebook interpretation and the resolution of categories
 * against the catalog.  Accepted rulebooks are also used to classify a fixed
 * incident, so odd but valid thresholds are exercised too (one service gives
 * its monthly active users and one does not, so 'mau >=' lines take both the
 * known and the presumed path).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "conf.h"
#include "incident.h"
#include "rules.h"

typedef struct fuzz_env {
    catalog cat;
    incident inc;
} fuzz_env;

static fuzz_env *env_get(void)
{
    static fuzz_env *env;
    if (!env) {
        jiko_error err;
        env = calloc(1, sizeof *env);
        if (!env)
            abort();
        static const char rec[] =
            "{\"id\":\"f\",\"operator\":\"Op\",\"started_at\":\"2021-08-03T15:00:00+09:00\","
            "\"ended_at\":null,\"critical_facility\":\"satellite\",\"all_traffic_stopped\":true,"
            "\"info_leak\":true,\"equipment\":\"dslam\","
            "\"services\":[{\"service\":\"ftth\",\"effect\":\"degrade\",\"users\":40000,"
            "\"monthly_active_users\":5000000},"
            "{\"service\":\"mobile_voice\",\"effect\":\"stop\",\"users\":2000000}]}";
        if (catalog_load(&env->cat, JIKO_DATADIR "/catalogs", &err) ||
            incident_parse(&env->inc, rec, strlen(rec), &env->cat, "f", 1, &err))
            abort();
    }
    return env;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_env *env = env_get();
    conf_file f;
    jiko_error err;
    char buf[ERROR_TEXT_MAX];
    if (conf_parse((const char *)data, size, "fuzz.rules", &f, &err)) {
        error_format(&err, buf, sizeof buf);
        return 0;
    }
    rulebook b;
    int rc = rules_parse(&b, &f, &err);
    conf_free(&f);
    if (rc) {
        error_format(&err, buf, sizeof buf);
        return 0;
    }
    rules_set set = {0};
    if (rules_add(&set, &b, &env->cat, &err) == 0) {
        classify_result r;
        classify_incident(&set.books[0], &env->cat, &env->inc, env->inc.started_ms + 7200000, &r);
        json_t *o = classify_to_json(&r, &env->inc, &env->cat, CLASSIFY_JA);
        json_decref(o);
    }
    rules_free(&set);
    return 0;
}
