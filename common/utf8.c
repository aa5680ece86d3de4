/* UTF-8 validation, printable (and shortened) names for messages, object id
 * and OCFL logical path rules, and vellum's limits on logical paths. */
#include "common_private.h"
#include "vl_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when the
 * bytes there are not one; *out gets its code point.  Strict: no overlongs,
 * surrogates or code points above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *out)
{
    unsigned c = s[0];
    size_t len, i;
    uint32_t cp;

    if (c < 0x80) {
        *out = c;
        return 1;
    }
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
        return 0; /* continuation byte, C0/C1 overlong lead, or > F4 */
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
        return 0; /* overlong */
    if (cp >= 0xD800 && cp <= 0xDFFF)
        return 0; /* surrogate */
    if (cp > 0x10FFFF)
        return 0;
    *out = cp;
    return len;
}

/* What a terminal acts on instead of showing, or what disguises text: C0
 * controls, DEL and C1 controls (escape sequences, line breaks; U+009B is a
 * CSI on some terminals), the bidirectional embeddings, overrides and
 * isolates (they reorder what follows, so one name can pass for another),
 * and the line and paragraph separators (a line break to some viewers). */
static int cp_unprintable(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) ||
           (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

size_t vl_utf8_printable(const char *s, size_t n)
{
    uint32_t cp;
    size_t len = n ? utf8_seq((const unsigned char *)s, n, &cp) : 0;
    return len && !cp_unprintable(cp) ? len : 0;
}

int vl_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    uint32_t cp;

    while (i < len) {
        size_t n = utf8_seq(p + i, len - i, &cp);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

/* Escaped s into out (cap bytes, cap >= 1, always terminated): each byte
 * of what is not printable UTF-8 becomes \xNN.  A sequence that does not fit
 * whole is left out, and so is the rest: returns 1 when s was cut short. */
static int escape_to(char *out, size_t cap, const char *s)
{
    const char *p = s;
    size_t left = strlen(s), o = 0;
    int cut = 0;

    while (left) {
        size_t n = vl_utf8_printable(p, left);
        if (n) {
            if (o + n >= cap) {
                cut = 1;
                break;
            }
            memcpy(out + o, p, n);
            o += n;
        } else {
            /* an invalid byte, or a control character's whole sequence */
            uint32_t cp;
            size_t bad = utf8_seq((const unsigned char *)p, left, &cp);
            n = bad ? bad : 1;
            if (o + 4 * n >= cap) {
                cut = 1;
                break;
            }
            for (size_t i = 0; i < n; i++, o += 4)
                snprintf(out + o, 5, "\\x%02x", (unsigned char)p[i]);
        }
        p += n;
        left -= n;
    }
    out[o] = '\0';
    return cut;
}

int vl_text_printable(const char *s)
{
    size_t left = strlen(s), n;
    for (; left; s += n, left -= n)
        if (!(n = vl_utf8_printable(s, left)))
            return 0;
    return 1;
}

char *vl_name_escape(const char *s)
{
    /* Worst case every byte becomes four characters. */
    size_t cap = strlen(s) * 4 + 1;
    char *out = malloc(cap);
    if (out)
        escape_to(out, cap, s);
    else
        vl_alloc_failed();
    return out;
}

/* One unit of vl_name_escape's output at p[i]: its width there (a \xNN
 * escape is 4) and how many input bytes it takes. */
static size_t escape_unit(const unsigned char *p, size_t len, size_t i,
                          size_t *in)
{
    size_t n = vl_utf8_printable((const char *)p + i, len - i);

    if (n == 0) {   /* escaped: each byte of the sequence is a \xNN */
        *in = 1;
        return 4;
    }
    *in = n;
    return n;
}

char *vl_name_shorten(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), i, in, w, total = 0, pos = 0;
    size_t head_end = 0, tail_start = len, keep, head_max, tail_max;
    char *head = NULL, *h = NULL, *t = NULL, *out = NULL;

    for (i = 0; i < len; i += in)
        total += escape_unit(p, len, i, &in);
    if (total <= max || max < 8)
        return vl_name_escape(s);
    /* Head and tail share what is left after "...", the tail a little
     * more: a path's last names say most. */
    keep = max - 3;
    head_max = keep * 2 / 5;
    tail_max = keep - head_max;
    for (i = 0; i < len; i += in) {
        w = escape_unit(p, len, i, &in);
        if (pos + w <= head_max)
            head_end = i + in;
        if (total - pos <= tail_max && tail_start == len)
            tail_start = i;
        pos += w;
    }
    head = vl_strndup(s, head_end);
    h = head ? vl_name_escape(head) : NULL;
    t = vl_name_escape(s + tail_start);
    if (h && t)
        out = vl_asprintf("%s...%s", h, t);
    free(head);
    free(h);
    free(t);
    return out;
}

void vl_text_escape_into(char *out, size_t cap, const char *s)
{
    if (cap)
        escape_to(out, cap, s);
}

int vl_object_id_check(const char *id, vl_error *err)
{
    char shown[256];
    const char *why = NULL;

    if (!id || !*id)
        return vl_error_set(err, VL_EINPUT, "an object id must not be empty");
    if (!vl_utf8_valid(id, strlen(id)))
        why = "is not UTF-8";
    else if (!vl_text_printable(id))
        why = "holds a control character; an id must be printable text";
    if (!why)
        return VL_OK;
    int cut = escape_to(shown, sizeof shown, id);
    return vl_error_set(err, VL_EINPUT, "object id \"%s%s\" %s", shown,
                        cut ? "..." : "", why);
}

static int path_reject(vl_error *err, const char *path, const char *why)
{
    char *esc = vl_name_shorten(path, VL_NAME_SHOWN_MAX);
    int rc = vl_error_set(err, VL_EINPUT, "invalid path \"%s\": %s",
                          esc ? esc : "?", why);

    free(esc);
    return rc;
}

int vl_logical_path_check(const char *path, vl_error *err)
{
    size_t len = strlen(path), i, seg_start = 0;

    if (len == 0)
        return path_reject(err, path, "empty path");
    if (!vl_utf8_valid(path, len))
        return path_reject(err, path, "invalid UTF-8");
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c < 0x20 || c == 0x7F)
            return path_reject(err, path, "control character");
    }
    if (path[0] == '/')
        return path_reject(err, path, "begins with /");
    if (path[len - 1] == '/')
        return path_reject(err, path, "ends with /");
    /* Walk segments, including the last one (ended by the NUL). */
    for (i = 0; i <= len; i++) {
        if (i < len && path[i] != '/')
            continue;
        size_t seg = i - seg_start;
        const char *s = path + seg_start;
        if (seg == 0)
            return path_reject(err, path, "empty segment");
        if (seg == 1 && s[0] == '.')
            return path_reject(err, path, "\".\" segment");
        if (seg == 2 && s[0] == '.' && s[1] == '.')
            return path_reject(err, path, "\"..\" segment");
        if (seg > 255)
            return path_reject(err, path, "segment longer than 255 bytes");
        seg_start = i + 1;
    }
    return VL_OK;
}

int vl_logical_path_limits(const char *path, vl_error *err)
{
    size_t len = strlen(path), depth = 1;

    for (size_t i = 0; i < len; i++)
        depth += path[i] == '/';
    if (depth > VL_PATH_MAX_DEPTH)
        return vl_error_set(err, VL_EINPUT, "path too deep: %zu levels in the "
                            "object (the limit is %d)", depth, VL_PATH_MAX_DEPTH);
    if (len > VL_PATH_MAX_BYTES)
        return vl_error_set(err, VL_EINPUT, "path too long: %zu bytes in the "
                            "object (the limit is %d)", len, VL_PATH_MAX_BYTES);
    return VL_OK;
}
