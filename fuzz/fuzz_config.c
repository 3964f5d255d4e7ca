/*
 * fuzz_config.c — libFuzzer target for the server's config file as
 * `jiko serve --config` reads it: the key file format, the [serve]
 * settings (serve_conf_apply) and the [webhook NAME] subscriptions
 * (notify_subs_load: URLs through libcurl's parser, secrets through
 * libsodium's base64).  An accepted set of subscriptions is then used:
 * every event type is matched against every subscription and queued into
 * an in-memory registry, and every key signs a body.  A rejected file must
 * fail with kind config (or out of memory), never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz_env.h"
#include "notify.h"
#include "notify_send.h"
#include "serve_conf.h"

static void bad_kind(const jiko_error *err)
{
    if (err->kind != JIKO_ERR_CONFIG && err->kind != JIKO_ERR_NOMEM)
        abort();
    char buf[ERROR_TEXT_MAX];
    error_format(err, buf, sizeof buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    conf_file f;
    jiko_error err;
    if (conf_parse((const char *)data, size, "fuzz.conf", &f, &err)) {
        bad_kind(&err);
        return 0;
    }
    serve_conf sc;
    serve_conf_default(&sc);
    if (serve_conf_apply(&sc, &f, &err))
        bad_kind(&err);
    notify_subs *subs = (notify_subs *)1;
    if (notify_subs_load(&f, &subs, &err)) {
        bad_kind(&err);
        if (subs)
            abort(); /* a failed load leaves nothing to free */
        conf_free(&f);
        return 0;
    }
    size_t n = notify_subs_count(subs);
    for (size_t i = 0; i < n; i++) {
        const notify_sub *s = notify_subs_at(subs, i);
        if (!s->name || !s->url || s->key_len < NOTIFY_SECRET_MIN_BYTES ||
            s->key_len > NOTIFY_SECRET_MAX_BYTES || (s->op == NULL) != s->regulator ||
            notify_subs_find(subs, s->name) != s)
            abort();
        char sig[NOTIFY_SIGNATURE_MAX];
        notify_signature(s->key, s->key_len, "msg_fuzz", 1614265330, "{}", 2, sig);
        if (strncmp(sig, "v1,", 3) != 0 || strlen(sig) != 47)
            abort();
    }
    store *db = fuzz_memory_store();
    for (int t = 0; t < NOTIFY_EVENT_TYPES && n; t++) {
        /* the first subscription's operator, so that operator matching runs */
        const notify_sub *s0 = notify_subs_at(subs, 0);
        notify_event ev = {notify_event_type_name((notify_event_type)t),
                           s0->op ? s0->op : "any", "fuzz-1", "{\"users\":1}"};
        size_t want = 0;
        for (size_t i = 0; i < n; i++)
            want += notify_sub_wants(notify_subs_at(subs, i), (notify_event_type)t, ev.op);
        int q = notify_emit(subs, db, &ev, 1634200620000, &err);
        if (q != (int)want && !(q < 0 && err.kind == JIKO_ERR_NOMEM))
            abort(); /* one message per subscription that wants the event */
    }
    notify_subs_free(subs);
    conf_free(&f);
    return 0;
}
