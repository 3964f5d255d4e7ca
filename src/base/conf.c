/* conf.c — parser for the key file format (see conf.h). */
#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Files this format describes are small; refusing huge ones keeps a mistaken
 * path (a log, a disk image) from eating memory. */
#define CONF_MAX_BYTES (4u << 20)
#define CONF_MAX_LINE 4096

static char *dup_range(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, nc * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = nc;
    return 0;
}

static int valid_key(const char *k, size_t n)
{
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

int conf_parse(const char *text, size_t len, const char *path, conf_file *out, jiko_error *err)
{
    memset(out, 0, sizeof *out);
    conf_file f = {0};
    long lineno = 0;
    f.path = dup_range(path, strlen(path));
    if (!f.path)
        goto oom;
    size_t pos = 0;
    /* A UTF-8 byte order mark is tolerated: editors on Windows add one. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    while (pos < len) {
        lineno++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        const char *s = text + pos;
        size_t n = end - pos;
        pos = nl ? end + 1 : len;
        if (n && s[n - 1] == '\r')
            n--;
        if (n > CONF_MAX_LINE) {
            error_set(err, JIKO_ERR_CONFIG, path, lineno, NULL, "line longer than %d bytes", CONF_MAX_LINE);
            goto fail;
        }
        if (memchr(s, '\0', n)) {
            error_set(err, JIKO_ERR_CONFIG, path, lineno, NULL, "NUL byte in a text file");
            goto fail;
        }
        if (!utf8_valid(s, n)) {
            error_set(err, JIKO_ERR_CONFIG, path, lineno, NULL, "invalid UTF-8; save the file as UTF-8");
            goto fail;
        }
        /* Strip comments: a '#' at the start or after a blank. */
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) {
                n = i;
                break;
            }
        }
        trim(&s, &n);
        if (!n)
            continue;
        if (s[0] == '[') {
            if (s[n - 1] != ']') {
                error_set(err, JIKO_ERR_CONFIG, path, lineno, NULL, "section header must end with ']'");
                goto fail;
            }
            const char *h = s + 1;
            size_t hn = n - 2;
            trim(&h, &hn);
            if (!hn) {
                error_set(err, JIKO_ERR_CONFIG, path, lineno, NULL, "empty section header; expected [type name]");
                goto fail;
            }
            size_t tn = 0;
            while (tn < hn && h[tn] != ' ' && h[tn] != '\t')
                tn++;
            const char *nm = h + tn;
            size_t nn = hn - tn;
            trim(&nm, &nn);
            if (!valid_key(h, tn)) {
                error_set(err, JIKO_ERR_CONFIG, path, lineno, NULL,
                          "section type must be letters, digits, '_', '.' or '-'");
                goto fail;
            }
            if (grow((void **)&f.sections, &f.cap_sections, f.n_sections, sizeof *f.sections))
                goto oom;
            conf_section *sec = &f.sections[f.n_sections];
            memset(sec, 0, sizeof *sec);
            sec->type = dup_range(h, tn);
            sec->name = dup_range(nm, nn);
            sec->line = lineno;
            f.n_sections++;
            if (!sec->type || !sec->name)
                goto oom;
            continue;
        }
        const char *eq = memchr(s, '=', n);
        if (!eq) {
            error_set(err, JIKO_ERR_CONFIG, path, lineno, NULL, "expected 'key = value' or '[section]'");
            goto fail;
        }
        const char *k = s, *v = eq + 1;
        size_t kn = (size_t)(eq - s), vn = n - kn - 1;
        trim(&k, &kn);
        trim(&v, &vn);
        if (!valid_key(k, kn)) {
            error_set(err, JIKO_ERR_CONFIG, path, lineno, NULL,
                      "key must be letters, digits, '_', '.' or '-' before '='");
            goto fail;
        }
        if (!f.n_sections) {
            error_set(err, JIKO_ERR_CONFIG, path, lineno, NULL, "'%.*s' appears before any [section]", (int)kn, k);
            goto fail;
        }
        conf_section *sec = &f.sections[f.n_sections - 1];
        if (grow((void **)&sec->entries, &sec->cap_entries, sec->n_entries, sizeof *sec->entries))
            goto oom;
        conf_entry *e = &sec->entries[sec->n_entries];
        e->key = dup_range(k, kn);
        e->value = dup_range(v, vn);
        e->line = lineno;
        sec->n_entries++;
        if (!e->key || !e->value)
            goto oom;
    }
    *out = f;
    return 0;
oom:
    error_set(err, JIKO_ERR_NOMEM, path, lineno, NULL, "out of memory");
fail:
    conf_free(&f);
    return -1;
}

int conf_load(const char *path, conf_file *out, jiko_error *err)
{
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno;
        error_set(err, e == ENOMEM ? JIKO_ERR_NOMEM : JIKO_ERR_CONFIG, path, 0, NULL,
                  "cannot open: %s", strerror(e));
        return -1;
    }
    char *buf = malloc(CONF_MAX_BYTES + 1);
    if (!buf) {
        fclose(fp);
        error_set(err, JIKO_ERR_NOMEM, path, 0, NULL, "out of memory");
        return -1;
    }
    size_t n = fread(buf, 1, CONF_MAX_BYTES + 1, fp);
    int rd_err = ferror(fp);
    fclose(fp);
    int rc;
    if (rd_err) {
        error_set(err, JIKO_ERR_CONFIG, path, 0, NULL, "read error");
        rc = -1;
    } else if (n > CONF_MAX_BYTES) {
        error_set(err, JIKO_ERR_CONFIG, path, 0, NULL, "file larger than %u bytes", CONF_MAX_BYTES);
        rc = -1;
    } else {
        rc = conf_parse(buf, n, path, out, err);
    }
    free(buf);
    return rc;
}

void conf_free(conf_file *f)
{
    for (size_t i = 0; i < f->n_sections; i++) {
        conf_section *s = &f->sections[i];
        for (size_t j = 0; j < s->n_entries; j++) {
            free(s->entries[j].key);
            free(s->entries[j].value);
        }
        free(s->entries);
        free(s->type);
        free(s->name);
    }
    free(f->sections);
    free(f->path);
    memset(f, 0, sizeof *f);
}

const conf_entry *conf_get(const conf_section *s, const char *key)
{
    for (size_t i = 0; i < s->n_entries; i++)
        if (strcmp(s->entries[i].key, key) == 0)
            return &s->entries[i];
    return NULL;
}
