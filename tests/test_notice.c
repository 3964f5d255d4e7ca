/*
 * test_notice.c — public notices: times as operators write them, the next
 * update's time, drafts of 初報 / 続報 / 復旧報 in Japanese and English for
 * the FY2021 NTT docomo case (examples/fy2021-serious.jsonl) as it stood
 * while ongoing and after recovery, what is under investigation, a
 * wholesale receiver's cause, the notice JSON a person sends (every
 * rejection with its field), and publishing into a registry (a new version
 * with the notice) and the status page that then shows it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import.h"
#include "intake.h"
#include "notice.h"
#include "status.h"
#include "testutil.h"

/* One record of the FY2021 examples, by id, through the intake pipeline. */
static void example(const tu_env *env, const char *id, incident *inc)
{
    char path[512];
    size_t len;
    char *text = tu_read(tu_path(path, sizeof path, "examples/fy2021-serious.jsonl"), &len);
    char key[128];
    snprintf(key, sizeof key, "{\"id\": \"%s\"", id);
    char *line = strstr(text, key);
    assert_non_null(line);
    size_t n = strcspn(line, "\n");
    intake_opts io = {&env->cat, &env->rules, NULL, 0};
    classify_result r;
    jiko_error err;
    assert_int_equal(intake_record(&io, line, n, "examples", 0, inc, &r, &err), 0);
    free(text);
}

static notice_draft draft(const tu_env *env, const incident *inc, notice_kind k, bool ja,
                          const char *now)
{
    notice_draft d;
    jiko_error err;
    int rc = notice_draft_make(inc, &env->cat, k, ja, tu_time(now), &d, &err);
    if (rc)
        fail_msg("draft: %s", err.message);
    return d;
}

#define HAS(text, want)                                                                   \
    do {                                                                                  \
        if (!strstr((text), (want)))                                                      \
            fail_msg("missing %s in:\n%s", (want), (text));                               \
    } while (0)
#define HASNT(text, want)                                                                 \
    do {                                                                                  \
        if (strstr((text), (want)))                                                       \
            fail_msg("unexpected %s in:\n%s", (want), (text));                            \
    } while (0)

static void test_times(void **state)
{
    (void)state;
    char b[NOTICE_TIME_MAX];
    assert_string_equal(notice_format_time(tu_time("2021-10-14T17:37:00+09:00"), true, b, sizeof b),
                        "2021年10月14日（木）17時37分");
    assert_string_equal(notice_format_time(tu_time("2021-10-14T08:37:00Z"), false, b, sizeof b),
                        "17:37 JST, Thursday 14 October 2021");
    /* JST's midnight is the previous day in UTC; a Sunday; before 1970 */
    assert_string_equal(notice_format_time(tu_time("2021-10-16T15:05:00Z"), true, b, sizeof b),
                        "2021年10月17日（日）0時05分");
    assert_string_equal(notice_format_time(tu_time("1964-10-10T14:00:00+09:00"), false, b, sizeof b),
                        "14:00 JST, Saturday 10 October 1964");
}

static void test_next_update(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"2021-10-14T17:53:00+09:00", "2021-10-14T19:00:00+09:00"},
        {"2021-10-14T18:00:00+09:00", "2021-10-14T19:00:00+09:00"},
        {"2021-10-14T18:00:00.001+09:00", "2021-10-14T19:30:00+09:00"},
        {"2021-10-14T17:29:59+09:00", "2021-10-14T18:30:00+09:00"},
        {"2021-10-14T23:45:00+09:00", "2021-10-15T01:00:00+09:00"},
        {"1969-12-31T23:10:00Z", "1970-01-01T00:30:00Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(notice_next_update(tu_time(cases[i][0])), tu_time(cases[i][1]));
}

/* NTT docomo, 2021-10-14 17:37-19:57, about 1,000,000 users: the first
 * report at 17:40, when it was going on. */
static void test_first_ja(void **state)
{
    incident inc;
    example(*state, "fy2021-06-docomo", &inc);
    const char *now = "2021-10-14T17:40:00+09:00";
    assert_int_equal(notice_default_kind(&inc, tu_time(now)), NOTICE_FIRST);
    notice_draft d = draft(*state, &inc, NOTICE_FIRST, true, now);
    assert_string_equal(d.title, "【お詫び】携帯電話（音声）、携帯電話・PHS（データ通信）が"
                                 "ご利用いただけない状況について");
    HAS(d.body, "平素は株式会社NTTドコモのサービスをご利用いただき");
    HAS(d.body, "ご利用いただけない状況が発生しております");
    HAS(d.body, "■発生日時　2021年10月14日（木）17時37分頃\n");
    HAS(d.body, "■影響エリア　全国（石川県、富山県、福井県、奈良県、和歌山県を除く）\n");
    HAS(d.body, "■影響サービス　携帯電話（音声）、携帯電話・PHS（データ通信）\n");
    HAS(d.body, "■影響利用者数　約100万人\n");
    HAS(d.body, "■現在の状況　復旧に向けて対応中です\n");
    HAS(d.body, "■原因　IoTプラットフォームの切り戻し");
    HAS(d.body, "■次回のお知らせ　2021年10月14日（木）19時00分頃を予定しております\n");
    HAS(d.body, "深くお詫び申し上げます。");
    HASNT(d.body, "復旧日時");
    json_t *j = notice_draft_json(&d);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "first");
    assert_string_equal(json_string_value(json_object_get(j, "lang")), "ja");
    json_decref(j);
    notice_draft_free(&d);
    /* 18:40: two notices are out (17:53 first, 18:36 第2報): this is 第3報 */
    now = "2021-10-14T18:40:00+09:00";
    assert_int_equal(notice_default_kind(&inc, tu_time(now)), NOTICE_UPDATE);
    d = draft(*state, &inc, NOTICE_UPDATE, true, now);
    HAS(d.title, "【お詫び／第3報】");
    HAS(d.body, "■次回のお知らせ　2021年10月14日（木）20時00分頃");
    notice_draft_free(&d);
    /* a recovery report before the end: refused, naming the kind */
    jiko_error err;
    assert_int_equal(notice_draft_make(&inc, &((tu_env *)*state)->cat, NOTICE_RECOVERY, true,
                                       tu_time(now), &d, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_INVALID);
    assert_string_equal(err.field, "kind");
    incident_free(&inc);
}

static void test_recovery_en(void **state)
{
    incident inc;
    example(*state, "fy2021-06-docomo", &inc);
    const char *now = "2021-10-16T10:00:00+09:00";
    assert_int_equal(notice_default_kind(&inc, tu_time(now)), NOTICE_RECOVERY);
    notice_draft d = draft(*state, &inc, NOTICE_RECOVERY, false, now);
    assert_string_equal(d.title, "[Apology, restored] mobile voice and mobile (and PHS) data "
                                 "access were unavailable");
    HAS(d.body, "Dear customers of 株式会社NTTドコモ,\n");
    HAS(d.body, "Started: about 17:37 JST, Thursday 14 October 2021\n");
    HAS(d.body, "Restored: 19:57 JST, Thursday 14 October 2021\n");
    HAS(d.body, "Users affected: about 1,000,000 users\n");
    HAS(d.body, "Current state: restored at 19:57 JST, Thursday 14 October 2021\n");
    HAS(d.body, "Cause: human error\n");
    HASNT(d.body, "Next update");
    notice_draft_free(&d);
    /* the Japanese recovery report */
    d = draft(*state, &inc, NOTICE_RECOVERY, true, now);
    HAS(d.title, "【お詫び／復旧】");
    HAS(d.body, "2021年10月14日（木）19時57分に復旧いたしました");
    HAS(d.body, "■復旧日時　2021年10月14日（木）19時57分\n");
    HAS(d.body, "ご迷惑をおかけしましたことを");
    HASNT(d.body, "次回のお知らせ");
    notice_draft_free(&d);
    incident_free(&inc);
}

/* A record that says little yet: everything else is under investigation;
 * a degradation is 利用しづらい. */
static void test_unknown(void **state)
{
    tu_env *env = *state;
    const char *t = "{\"id\":\"x\",\"operator\":\"Op\",\"started_at\":\"2021-08-03T15:00:00+09:00\","
                    "\"services\":[{\"service\":\"dns\",\"effect\":\"degrade\",\"users\":0}]}";
    intake_opts io = {&env->cat, &env->rules, NULL, 0};
    incident inc;
    classify_result r;
    jiko_error err;
    assert_int_equal(intake_record(&io, t, strlen(t), "t", 0, &inc, &r, &err), 0);
    notice_draft d = draft(env, &inc, NOTICE_FIRST, true, "2021-08-03T15:10:00+09:00");
    HAS(d.title, "がご利用しづらい状況について");
    HAS(d.body, "■影響エリア　確認中\n");
    HAS(d.body, "■影響利用者数　確認中\n");
    HAS(d.body, "■原因　確認中\n");
    notice_draft_free(&d);
    d = draft(env, &inc, NOTICE_FIRST, false, "2021-08-03T15:10:00+09:00");
    HAS(d.body, "Area: under investigation\n");
    HAS(d.body, "Users affected: under investigation\n");
    HAS(d.body, "Cause: under investigation\n");
    HAS(d.body, "access has been difficult to use"); /* one service: has */
    notice_draft_free(&d);
    incident_free(&inc);
}

/* IIJ received docomo's service wholesale: its notice names the provider. */
static void test_wholesale(void **state)
{
    incident inc;
    example(*state, "fy2021-06-iij-docomo", &inc);
    notice_draft d = draft(*state, &inc, NOTICE_FIRST, true, "2021-10-14T18:00:00+09:00");
    HAS(d.body, "■原因　株式会社NTTドコモが提供するサービスにおける障害（IoTプラットフォーム");
    HAS(d.body, "平素は株式会社インターネットイニシアティブのサービス");
    notice_draft_free(&d);
    d = draft(*state, &inc, NOTICE_FIRST, false, "2021-10-14T18:00:00+09:00");
    HAS(d.body, "Cause: a failure of the service 株式会社NTTドコモ provides (human error)\n");
    notice_draft_free(&d);
    incident_free(&inc);
}

static void test_parse(void **state)
{
    (void)state;
    int64_t now = tu_time("2021-10-14T18:00:00+09:00");
    notice_input n;
    jiko_error err;
    const char *good = "{\"kind\":\"update\",\"lang\":\"ja\",\"title\":\"t\",\"body\":\"本文\\n二行目\","
                       "\"channel\":\"sns\",\"at\":\"2021-10-14T09:36:00Z\"}";
    assert_int_equal(notice_parse(good, strlen(good), now, &n, &err), 0);
    assert_int_equal(n.kind, NOTICE_UPDATE);
    assert_string_equal(n.body, "本文\n二行目");
    assert_string_equal(n.channel, "sns");
    assert_int_equal(n.at_ms, tu_time("2021-10-14T18:36:00+09:00"));
    notice_input_free(&n);
    const char *min = "{\"kind\":\"first\",\"body\":\"x\"}";
    assert_int_equal(notice_parse(min, strlen(min), now, &n, &err), 0);
    assert_string_equal(n.channel, "web");
    assert_int_equal(n.at_ms, now);
    assert_null(n.title);
    assert_null(n.lang);
    notice_input_free(&n);
    static const char *const bad[][2] = {
        {"", "body"},
        {"{", "body"},
        {"[1]", "body"},
        {"{\"kind\":\"first\",\"body\":\"x\",\"kind\":\"update\"}", "body"},
        {"{\"body\":\"x\"}", "kind"},
        {"{\"kind\":\"second\",\"body\":\"x\"}", "kind"},
        {"{\"kind\":1,\"body\":\"x\"}", "kind"},
        {"{\"kind\":\"first\"}", "body"},
        {"{\"kind\":\"first\",\"body\":\" \\n\\t\"}", "body"},
        {"{\"kind\":\"first\",\"body\":\"a\\u0000b\"}", "body"},
        {"{\"kind\":\"first\",\"body\":\"a\\u0007b\"}", "body"},
        {"{\"kind\":\"first\",\"body\":\"x\",\"title\":\"a\\nb\"}", "title"},
        {"{\"kind\":\"first\",\"body\":\"x\",\"lang\":\"fr\"}", "lang"},
        {"{\"kind\":\"first\",\"body\":\"x\",\"channel\":\"fax\"}", "channel"},
        {"{\"kind\":\"first\",\"body\":\"x\",\"at\":\"2021-10-14\"}", "at"},
        {"{\"kind\":\"first\",\"body\":\"x\",\"at\":\"1899-12-31T00:00:00+09:00\"}", "at"},
        {"{\"kind\":\"first\",\"body\":\"x\",\"text\":\"y\"}", "body"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (notice_parse(bad[i][0], strlen(bad[i][0]), now, &n, &err) == 0)
            fail_msg("accepted: %s", bad[i][0]);
        assert_int_equal(err.kind, JIKO_ERR_INVALID);
        if (strcmp(err.field, bad[i][1]) != 0)
            fail_msg("%s: field '%s', want '%s' (%s)", bad[i][0], err.field, bad[i][1],
                     err.message);
    }
    /* a body at the limit, and one byte over it */
    char *big = malloc(NOTICE_TEXT_MAX + 64);
    int k = snprintf(big, 64, "{\"kind\":\"first\",\"body\":\"");
    memset(big + k, 'a', NOTICE_TEXT_MAX);
    strcpy(big + k + NOTICE_TEXT_MAX, "\"}");
    assert_int_equal(notice_parse(big, strlen(big), now, &n, &err), 0);
    notice_input_free(&n);
    memmove(big + k + 1, big + k, strlen(big + k) + 1);
    big[k] = 'a';
    assert_int_equal(notice_parse(big, strlen(big), now, &n, &err), -1);
    assert_string_equal(err.field, "body");
    free(big);
}

static int count_version(void *ctx, const store_row *r)
{
    (void)r;
    (*(int *)ctx)++;
    return 0;
}

/* Publishing: a new version holding the notice, and the public page. */
static void test_publish(void **state)
{
    tu_env *env = *state;
    char path[128];
    snprintf(path, sizeof path, "/tmp/jiko-test-notice-%d.db", (int)getpid());
    tu_unlink_db(path);
    store *db;
    jiko_error err;
    assert_int_equal(store_open(&db, path, &err), 0);
    int64_t now = tu_time("2021-10-14T18:00:00+09:00");
    intake_opts io = {&env->cat, &env->rules, NULL, now};
    const char *rec = "{\"id\":\"o-1\",\"operator\":\"Op <&>\",\"started_at\":"
                      "\"2021-10-14T17:37:00+09:00\",\"services\":[{\"service\":\"ftth\","
                      "\"effect\":\"stop\",\"users\":40000}]}";
    import_results res;
    assert_int_equal(import_text(db, &io, rec, strlen(rec), "t", NULL, NULL, &res, &err), 0);
    import_results_free(&res);
    /* nothing published yet: known, but nothing shown */
    status_page p;
    assert_int_equal(status_collect(&p, db, "Op <&>", now, &err), 0);
    assert_true(p.known);
    assert_int_equal(p.n, 0);
    status_free(&p);
    const char *body = "{\"kind\":\"first\",\"title\":\"T <1>\",\"body\":\"a & b\"}";
    notice_input n;
    assert_int_equal(notice_parse(body, strlen(body), now, &n, &err), 0);
    int version = 0;
    assert_int_equal(notice_publish(db, &io, "Op <&>", "o-1", &n, "test", &version, &err), 0);
    assert_int_equal(version, 2);
    assert_int_equal(notice_publish(db, &io, "Op <&>", "none", &n, "test", &version, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_NOT_FOUND);
    notice_input_free(&n);
    int versions = 0;
    assert_int_equal(store_history(db, "Op <&>", "o-1", count_version, &versions, &err), 0);
    assert_int_equal(versions, 2);
    store_row row;
    assert_int_equal(store_get(db, "Op <&>", "o-1", &row, &err), 1);
    HAS(row.record, "\"notices\":[{\"at\":\"2021-10-14T18:00:00+09:00\",\"kind\":\"first\","
                    "\"channel\":\"web\",\"text\":\"a & b\",\"title\":\"T <1>\"}]");
    store_row_free(&row);
    /* now public: escaped on the page and in the feed */
    assert_int_equal(status_collect(&p, db, "Op <&>", now, &err), 0);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.updated_ms, now);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    status_write_html(f, &p, &env->cat, true);
    assert_int_equal(status_write_atom(f, &p, &env->cat, false), 0);
    fclose(f);
    HAS(text, "<h1>Op &lt;&amp;&gt; 障害情報</h1>");
    HAS(text, "<div class=\"text\">a &amp; b</div>");
    HAS(text, "<title>T &lt;1&gt;</title>");
    HAS(text, "<id>tag:jiko,2026:notice/Op%20%3C%26%3E/o-1/1634202000000/first/web</id>");
    HAS(text, "<updated>2021-10-14T18:00:00+09:00</updated>");
    HASNT(text, "Op <&>");
    free(text);
    status_free(&p);
    /* a recovery report published before the record's end is stored: the
     * public sees it restored, without a time the record does not hold */
    const char *rb = "{\"kind\":\"recovery\",\"body\":\"復旧いたしました\"}";
    assert_int_equal(notice_parse(rb, strlen(rb), now + 60000, &n, &err), 0);
    assert_int_equal(notice_publish(db, &io, "Op <&>", "o-1", &n, "test", &version, &err), 0);
    notice_input_free(&n);
    assert_int_equal(status_collect(&p, db, "Op <&>", now + 60000, &err), 0);
    assert_int_equal(p.n, 1);
    assert_false(p.inc[0].ongoing);
    f = open_memstream(&text, &len);
    status_write_html(f, &p, &env->cat, true);
    fclose(f);
    HAS(text, "<article class=\"ended\"");
    HAS(text, "復旧済み");
    HASNT(text, "復旧日時");
    free(text);
    status_free(&p);
    /* an operator the registry does not know */
    assert_int_equal(status_collect(&p, db, "Nobody", now, &err), 0);
    assert_false(p.known);
    status_free(&p);
    store_close(db);
    tu_unlink_db(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_times),     cmocka_unit_test(test_next_update),
        cmocka_unit_test(test_first_ja),  cmocka_unit_test(test_recovery_en),
        cmocka_unit_test(test_unknown),   cmocka_unit_test(test_wholesale),
        cmocka_unit_test(test_parse),     cmocka_unit_test(test_publish),
    };
    return cmocka_run_group_tests(tests, tu_env_setup, tu_env_teardown);
}
