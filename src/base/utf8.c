/* utf8.c — see utf8.h. */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

size_t utf8_seq(const char *str, size_t avail)
{
    const unsigned char *s = (const unsigned char *)str;
    if (!avail)
        return 0;
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > avail)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

bool utf8_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        /* ASCII runs eight bytes at a time: label names, metric names and
         * most values are ASCII, and this check runs on every string that
         * enters (a call per byte was a tenth of a remote_write sample) */
        uint64_t w;
        while (n - i >= 8 && (memcpy(&w, s + i, 8), !(w & 0x8080808080808080ULL)))
            i += 8;
        while (i < n && !((unsigned char)s[i] & 0x80))
            i++;
        if (i == n)
            break;
        size_t len = utf8_seq(s + i, n - i);
        if (!len)
            return false;
        i += len;
    }
    return true;
}

static bool wide(uint32_t cp)
{
    /* The ranges that matter for Japanese text: Hangul Jamo, CJK punctuation,
     * kana, CJK ideographs, compatibility forms and full-width forms. */
    return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
           (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
           (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
           (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

size_t utf8_char_width(const char *str, size_t *bytes)
{
    const unsigned char *s = (const unsigned char *)str;
    uint32_t cp;
    size_t len;
    if (*s < 0x80) {
        cp = *s;
        len = 1;
    } else if ((*s & 0xE0) == 0xC0) {
        cp = *s & 0x1F;
        len = 2;
    } else if ((*s & 0xF0) == 0xE0) {
        cp = *s & 0x0F;
        len = 3;
    } else {
        cp = *s & 0x07;
        len = 4;
    }
    size_t k = 1;
    for (; k < len && (s[k] & 0xC0) == 0x80; k++)
        cp = (cp << 6) | (s[k] & 0x3F);
    *bytes = k;
    return wide(cp) ? 2 : 1;
}

size_t utf8_width(const char *s)
{
    size_t w = 0, n;
    for (; *s; s += n)
        w += utf8_char_width(s, &n);
    return w;
}

size_t utf8_print_safe(FILE *out, const char *s)
{
    static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
    size_t cols = 0, n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq(s + i, n - i);
        unsigned char c = (unsigned char)s[i];
        /* C1 controls are U+0080..U+009F: C2 80..C2 9F in UTF-8 */
        bool control = len == 1 ? (c < 0x20 || c == 0x7f)
                                : len == 2 && c == 0xC2 && (unsigned char)s[i + 1] < 0xA0;
        if (len == 0 || control) {
            fputs(replacement, out);
            cols++;
            i += len ? len : 1;
            continue;
        }
        size_t bytes;
        cols += utf8_char_width(s + i, &bytes);
        fwrite(s + i, 1, len, out);
        i += len;
    }
    return cols;
}
