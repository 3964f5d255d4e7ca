/* test_incident.c — parsing valid incident records: defaults and fields. */
#include <string.h>

#include "incident.h"
#include "jst.h"
#include "testutil.h"

static void parse(tu_env *env, const char *json, incident *inc)
{
    jiko_error err;
    char msg[1024];
    if (incident_parse(inc, json, strlen(json), &env->cat, "t.jsonl", 1, &err))
        fail_msg("%s", error_format(&err, msg, sizeof msg));
}

static void test_minimal_defaults(void **state)
{
    tu_env *env = *state;
    incident inc;
    parse(env, "{\"id\":\"x\",\"operator\":\"Op\",\"started_at\":\"2021-08-03T15:00:00+09:00\","
               "\"services\":[{\"service\":\"ftth\",\"effect\":\"degrade\",\"users\":5},"
               "{\"service\":\"dns\",\"effect\":\"stop\",\"users\":7}]}",
          &inc);
    assert_string_equal(inc.id, "x");
    assert_string_equal(inc.op, "Op");
    assert_null(inc.wholesale_provider);
    assert_true(inc.ongoing);
    assert_int_equal(inc.facility, INCIDENT_TELECOM);
    assert_int_equal(inc.critical, 0);
    assert_false(inc.all_traffic_stopped);
    assert_false(inc.info_leak);
    assert_int_equal(inc.n_services, 2);
    assert_int_equal(inc.services[0].effect, INCIDENT_DEGRADE);
    assert_int_equal(inc.users, 7); /* the largest service count */
    assert_false(inc.users_given);
    assert_int_equal(inc.cause, INCIDENT_CAUSE_NONE);
    assert_int_equal(inc.equipment, -1);
    incident_free(&inc);
}

/* Users as a release writes them, with the optional qualifier and unit. */
static void test_users_as_reported(void **state)
{
    tu_env *env = *state;
    static const struct { const char *extra; long long users; const char *ja, *en; } cases[] = {
        {"", 456516, "456,516人", "456,516 users"},
        {",\"users_qualifier\":\"max\"", 456516, "最大456,516人", "up to 456,516 users"},
        {",\"users_qualifier\":\"max_about\"", 500000, "最大約50万人", "up to about 500,000 users"},
        {",\"users_qualifier\":\"about\"", 1000000, "約100万人", "about 1,000,000 users"},
        {",\"users_qualifier\":\"at_least\"", 1000000, "100万人以上", "1,000,000 users or more"},
        {",\"users_qualifier\":\"about\"", 12345, "約12,345人", "about 12,345 users"},
        {",\"users_qualifier\":\"exact\"", 1000000, "1,000,000人", "1,000,000 users"},
        {",\"users_unit\":\"operators\"", 9, "9社", "9 operators"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char rec[512], buf[96];
        snprintf(rec, sizeof rec,
                 "{\"id\":\"u\",\"operator\":\"Op\",\"started_at\":\"2021-08-03T15:00:00+09:00\","
                 "\"services\":[{\"service\":\"ftth\",\"effect\":\"stop\",\"users\":%lld}]%s}",
                 cases[i].users, cases[i].extra);
        incident inc;
        jiko_error err;
        assert_int_equal(incident_parse(&inc, rec, strlen(rec), &env->cat, "t", 1, &err), 0);
        assert_string_equal(incident_users_text(&inc, inc.users, true, buf, sizeof buf), cases[i].ja);
        assert_string_equal(incident_users_text(&inc, inc.users, false, buf, sizeof buf), cases[i].en);
        incident_free(&inc);
    }
}

static void test_full_record(void **state)
{
    tu_env *env = *state;
    incident inc;
    parse(env,
          "{\"id\":\"y\",\"operator\":\"A\",\"wholesale_provider\":\"B\","
          "\"started_at\":\"2021-08-03T06:00:00Z\",\"ended_at\":\"2021-08-03T17:25:00.250+09:00\","
          "\"facility\":\"telecom\",\"critical_facility\":\"submarine_cable\","
          "\"all_traffic_stopped\":true,\"info_leak\":false,\"users\":100,"
          "\"services\":[{\"service\":\"leased_line\",\"effect\":\"stop\",\"users\":3}],"
          "\"cause\":{\"category\":\"external\",\"detail\":\"anchor\"},\"equipment\":\"submarine_cable\","
          "\"region\":\"全国\",\"summary\":\"s\",\"measures\":[\"m\"],"
          "\"notices\":[{\"at\":\"2021-08-03T16:00:00+09:00\",\"kind\":\"first\",\"channel\":\"web\",\"text\":\"t\"}],"
          "\"x_extension\":{\"any\":1}}",
          &inc);
    assert_string_equal(inc.wholesale_provider, "B");
    assert_false(inc.ongoing);
    assert_int_equal(inc.ended_ms - inc.started_ms, (2 * 3600 + 25 * 60) * 1000 + 250);
    assert_int_equal(inc.critical, 2);
    assert_true(inc.all_traffic_stopped);
    assert_int_equal(inc.users, 100);
    assert_true(inc.users_given);
    assert_int_equal(inc.cause, INCIDENT_CAUSE_EXTERNAL);
    assert_string_equal(env->cat.equipment[inc.equipment].code, "submarine_cable");
    assert_non_null(inc.json);
    incident_free(&inc);
}

static void test_leak_only(void **state)
{
    tu_env *env = *state;
    incident inc;
    parse(env, "{\"id\":\"z\",\"operator\":\"Op\",\"started_at\":\"2021-08-03T15:00:00+09:00\","
               "\"ended_at\":null,\"services\":[],\"info_leak\":true,\"equipment\":null}",
          &inc);
    assert_int_equal(inc.n_services, 0);
    assert_true(inc.info_leak);
    assert_int_equal(inc.users, 0);
    incident_free(&inc);
}

static void test_catalog_lookup(void **state)
{
    tu_env *env = *state;
    /* every code of the contract (incident-format.md) is present */
    static const char *svcs[] = {"analog_phone", "ip_phone_0abj", "ip_phone_050", "mobile_voice",
        "phs_voice", "international_voice", "fmc_voice", "voice_00xy", "isdn", "internet_access",
        "ftth", "dsl", "catv_internet", "mobile_data", "bwa", "public_wifi", "email_paid",
        "email_free", "hosting_paid", "hosting_free", "dns", "ip_vpn", "wide_area_ethernet",
        "local_5g", "lpwa_cellular", "lpwa_unlicensed", "leased_line", "mvno", "telegram"};
    static const char *eqs[] = {"radio_base_station", "remote_subscriber_unit", "dslam",
        "subscriber_unit", "switch", "subscriber_cable", "trunk_cable", "auth_server",
        "application_server", "power", "other_equipment"};
    for (size_t i = 0; i < sizeof svcs / sizeof svcs[0]; i++)
        assert_true(catalog_service_index(&env->cat, svcs[i], strlen(svcs[i])) >= 0);
    for (size_t i = 0; i < sizeof eqs / sizeof eqs[0]; i++)
        assert_true(catalog_equipment_index(&env->cat, eqs[i], strlen(eqs[i])) >= 0);
    assert_int_equal(catalog_service_index(&env->cat, "ftt", 3), -1);
    assert_int_equal(catalog_service_index(&env->cat, "ftthx", 5), -1);
    assert_int_equal(catalog_service_index(&env->cat, "ftth", 4) >= 0, 1);
    /* simple form only for base stations, remote subscriber units, DSLAMs */
    for (size_t i = 0; i < env->cat.n_equipment; i++) {
        const catalog_equipment *e = &env->cat.equipment[i];
        bool want = !strcmp(e->code, "radio_base_station") || !strcmp(e->code, "dslam") ||
                    !strcmp(e->code, "remote_subscriber_unit");
        assert_int_equal(e->simple_form, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_defaults),
        cmocka_unit_test(test_users_as_reported),
        cmocka_unit_test(test_full_record),
        cmocka_unit_test(test_leak_only),
        cmocka_unit_test(test_catalog_lookup),
    };
    return cmocka_run_group_tests(tests, tu_env_setup, tu_env_teardown);
}
