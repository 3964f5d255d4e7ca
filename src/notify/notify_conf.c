/* notify_conf.c — webhook subscriptions from the config file (notify_conf.h). */
#include "notify_conf.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct notify_subs {
    notify_sub *v;
    size_t n;
};

static const char *const event_names[NOTIFY_EVENT_TYPES] = {
    "incident.opened", "incident.updated", "incident.serious_soon",
    "incident.serious", "incident.closed", "deadline.soon", "capacity.warning",
};

#define EVENT_LIST                                                                            \
    "incident.opened, incident.updated, incident.serious_soon, incident.serious, "          \
    "incident.closed, deadline.soon, capacity.warning"

const char *notify_event_type_name(notify_event_type t)
{
    return (unsigned)t < NOTIFY_EVENT_TYPES ? event_names[t] : NULL;
}

int notify_event_type_parse(const char *s, notify_event_type *out)
{
    for (int i = 0; s && i < NOTIFY_EVENT_TYPES; i++)
        if (strcmp(s, event_names[i]) == 0) {
            *out = (notify_event_type)i;
            return 0;
        }
    return -1;
}

size_t notify_subs_count(const notify_subs *s) { return s ? s->n : 0; }

const notify_sub *notify_subs_at(const notify_subs *s, size_t i)
{
    return s && i < s->n ? &s->v[i] : NULL;
}

const notify_sub *notify_subs_find(const notify_subs *s, const char *name)
{
    for (size_t i = 0; s && name && i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return &s->v[i];
    return NULL;
}

bool notify_sub_wants(const notify_sub *sub, notify_event_type t, const char *op)
{
    if ((unsigned)t >= NOTIFY_EVENT_TYPES || !(sub->events & (1u << t)))
        return false;
    return sub->regulator || (op && strcmp(sub->op, op) == 0);
}

void notify_subs_free(notify_subs *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].name);
        free(s->v[i].op);
        free(s->v[i].url);
        sodium_memzero(s->v[i].key, sizeof s->v[i].key);
    }
    free(s->v);
    free(s);
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NOTIFY_NAME_MAX)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '.' || *s == '-'))
            return false;
    return true;
}

/* An absolute http(s) URL with a host, as libcurl will read it: checked
 * with libcurl's own parser, so that what passes here is what is sent.
 * 0 with *why NULL when good, 0 with *why set when not, -1 when libcurl
 * ran out of memory (not the URL's fault). */
static int url_problem(const char *u, const char **why)
{
    *why = NULL;
    if (strlen(u) > NOTIFY_URL_MAX)
        *why = "is too long";
    else if (strncasecmp(u, "http://", 7) != 0 && strncasecmp(u, "https://", 8) != 0)
        *why = "must start with http:// or https://";
    for (const char *c = u; !*why && *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            *why = "must not contain blanks or control characters";
    if (*why)
        return 0;
    CURLU *h = curl_url();
    if (!h)
        return -1;
    char *host = NULL;
    int rc = 0;
    CURLUcode uc = curl_url_set(h, CURLUPART_URL, u, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(h, CURLUPART_HOST, &host, 0);
    if (uc == CURLUE_OUT_OF_MEMORY)
        rc = -1;
    else if (uc == CURLUE_NO_HOST || (uc == CURLUE_OK && (!host || !*host)))
        *why = "has no host";
    else if (uc != CURLUE_OK)
        *why = "is not a valid URL";
    curl_free(host);
    curl_url_cleanup(h);
    return rc;
}

/* "whsec_" + standard base64 (padding optional) of 24..64 bytes. */
static int decode_secret(const char *v, unsigned char *key, size_t *len)
{
    size_t pre = sizeof NOTIFY_SECRET_PREFIX - 1;
    if (strncmp(v, NOTIFY_SECRET_PREFIX, pre) != 0)
        return -1;
    const char *b = v + pre, *end = NULL;
    size_t bl = strlen(b);
    if (bl == 0)
        return -1;
    int variant = b[bl - 1] == '=' ? sodium_base64_VARIANT_ORIGINAL
                                   : sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
    if (sodium_base642bin(key, NOTIFY_SECRET_MAX_BYTES, b, bl, NULL, len, &end, variant) != 0 ||
        end != b + bl || *len < NOTIFY_SECRET_MIN_BYTES)
        return -1;
    return 0;
}

/* The events list: comma-separated names, blanks around them ignored. */
static int parse_events(const char *path, const conf_entry *e, unsigned *out, jiko_error *err)
{
    unsigned bits = 0;
    const char *p = e->value;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        while (n && (*p == ' ' || *p == '\t'))
            p++, n--;
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        char word[64];
        notify_event_type t;
        if (n == 0) {
            error_set(err, JIKO_ERR_CONFIG, path, e->line, "events",
                      "an empty item in the list; expected event names separated by commas "
                      "(%s)", EVENT_LIST);
            return -1;
        }
        if (n >= sizeof word || (memcpy(word, p, n), word[n] = '\0',
                                 notify_event_type_parse(word, &t))) {
            error_set(err, JIKO_ERR_CONFIG, path, e->line, "events",
                      "unknown event '%.*s'; expected some of: %s", (int)(n > 64 ? 64 : n), p,
                      EVENT_LIST);
            return -1;
        }
        bits |= 1u << t;
        if (!comma)
            break;
        p = comma + 1;
    }
    *out = bits;
    return 0;
}

static const char *const known_keys[] = {"operator", "regulator", "url", "secret", "events"};

static int load_one(const conf_file *f, const conf_section *s, notify_sub *sub, jiko_error *err)
{
    const char *path = f->path;
    if (!s->name[0]) {
        error_set(err, JIKO_ERR_CONFIG, path, s->line, NULL,
                  "[webhook] needs a name: [webhook NAME]");
        return -1;
    }
    if (!name_ok(s->name)) {
        error_set(err, JIKO_ERR_CONFIG, path, s->line, NULL,
                  "webhook name '%s' must be 1 to %d letters, digits, '_', '.' or '-'", s->name,
                  NOTIFY_NAME_MAX);
        return -1;
    }
    if (!(sub->name = strdup(s->name)))
        goto oom;
    sub->line = s->line;
    sub->events = (1u << NOTIFY_EVENT_TYPES) - 1; /* default: all */
    const conf_entry *seen[sizeof known_keys / sizeof known_keys[0]] = {NULL};
    for (size_t j = 0; j < s->n_entries; j++) {
        const conf_entry *e = &s->entries[j];
        size_t k = 0;
        while (k < sizeof known_keys / sizeof known_keys[0] && strcmp(e->key, known_keys[k]))
            k++;
        if (k == sizeof known_keys / sizeof known_keys[0]) {
            error_set(err, JIKO_ERR_CONFIG, path, e->line, e->key,
                      "unknown key in [webhook %s]; expected operator, regulator, url, secret "
                      "or events",
                      s->name);
            return -1;
        }
        if (seen[k]) {
            error_set(err, JIKO_ERR_CONFIG, path, e->line, e->key,
                      "given twice in [webhook %s] (first at line %ld)", s->name, seen[k]->line);
            return -1;
        }
        seen[k] = e;
        const char *v = e->value, *why = NULL;
        if (strcmp(e->key, "operator") == 0) {
            if (!*v || strlen(v) > NOTIFY_NAME_MAX * 2) {
                error_set(err, JIKO_ERR_CONFIG, path, e->line, e->key,
                          "expected the operator's name as in its incidents (1 to %d bytes)",
                          NOTIFY_NAME_MAX * 2);
                return -1;
            }
            if (!(sub->op = strdup(v)))
                goto oom;
        } else if (strcmp(e->key, "regulator") == 0) {
            if (strcmp(v, "true") && strcmp(v, "false")) {
                error_set(err, JIKO_ERR_CONFIG, path, e->line, e->key,
                          "expected true or false, got '%s'", v);
                return -1;
            }
            sub->regulator = strcmp(v, "true") == 0;
        } else if (strcmp(e->key, "url") == 0) {
            if (url_problem(v, &why))
                goto oom;
            if (why) {
                error_set(err, JIKO_ERR_CONFIG, path, e->line, e->key,
                          "'%.200s' %s; expected an http:// or https:// URL", v, why);
                return -1;
            }
            if (!(sub->url = strdup(v)))
                goto oom;
        } else if (strcmp(e->key, "secret") == 0) {
            /* the value is never echoed: it is a secret, and this message
             * may end up in a log */
            if (decode_secret(v, sub->key, &sub->key_len)) {
                error_set(err, JIKO_ERR_CONFIG, path, e->line, e->key,
                          "expected whsec_ followed by standard base64 of %d to %d random bytes "
                          "(e.g. whsec_$(head -c 32 /dev/urandom | base64))",
                          NOTIFY_SECRET_MIN_BYTES, NOTIFY_SECRET_MAX_BYTES);
                return -1;
            }
        } else if (parse_events(path, e, &sub->events, err)) {
            return -1;
        }
    }
    if (sub->op && sub->regulator) {
        error_set(err, JIKO_ERR_CONFIG, path, seen[1]->line, "regulator",
                  "[webhook %s] has both operator and regulator = true; give one of them",
                  s->name);
        return -1;
    }
    if (!sub->op && !sub->regulator) {
        error_set(err, JIKO_ERR_CONFIG, path, s->line, "operator",
                  "[webhook %s] needs operator = NAME (that operator's incidents) or "
                  "regulator = true (every operator's)",
                  s->name);
        return -1;
    }
    if (!sub->url) {
        error_set(err, JIKO_ERR_CONFIG, path, s->line, "url",
                  "[webhook %s] needs url = http(s)://... (where to send)", s->name);
        return -1;
    }
    if (!sub->key_len) {
        error_set(err, JIKO_ERR_CONFIG, path, s->line, "secret",
                  "[webhook %s] needs secret = whsec_... (the key its messages are signed with)",
                  s->name);
        return -1;
    }
    return 0;
oom:
    error_nomem(err, "reading the webhook subscriptions");
    return -1;
}

int notify_subs_load(const conf_file *f, notify_subs **out, jiko_error *err)
{
    *out = NULL;
    /* libsodium only picks its fastest base64 and HMAC here; both are
     * right without it */
    int ready = sodium_init();
    (void)ready;
    notify_subs *s = calloc(1, sizeof *s);
    size_t want = 0;
    for (size_t i = 0; i < f->n_sections; i++)
        want += strcmp(f->sections[i].type, "webhook") == 0;
    if (!s || (want && !(s->v = calloc(want, sizeof *s->v)))) {
        free(s);
        error_nomem(err, "reading the webhook subscriptions");
        return -1;
    }
    for (size_t i = 0; i < f->n_sections; i++) {
        const conf_section *sec = &f->sections[i];
        if (strcmp(sec->type, "webhook") != 0)
            continue;
        notify_sub *sub = &s->v[s->n++];
        if (load_one(f, sec, sub, err))
            goto fail;
        for (size_t j = 0; j + 1 < s->n; j++)
            if (strcmp(s->v[j].name, sub->name) == 0) {
                error_set(err, JIKO_ERR_CONFIG, f->path, sec->line, NULL,
                          "a second [webhook %s] (the first is at line %ld); names must differ",
                          sub->name, s->v[j].line);
                goto fail;
            }
    }
    *out = s;
    return 0;
fail:
    notify_subs_free(s);
    return -1;
}
