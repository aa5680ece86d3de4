/* PostgreSQL catalog URLs: which ones vellum keeps, and how they are shown.
 * The password never goes in the URL, so never into vellum.conf, messages
 * or anything written from them: libpq reads it from PGPASSWORD, from
 * ~/.pgpass or the file PGPASSFILE names (which it ignores unless only its
 * owner can read it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog_private.h"

/* The userinfo of a URL: [*from, *to) before the '@' of its authority, or
 * 0 when there is none. */
static int userinfo(const char *url, size_t *from, size_t *to)
{
    const char *a = strstr(url, "://");
    if (!a)
        return 0;
    a += 3;
    size_t n = strcspn(a, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < n; i++)
        if (a[i] == '@')
            at = a + i;
    if (!at)
        return 0;
    *from = (size_t)(a - url);
    *to = (size_t)(at - url);
    return 1;
}

/* Offset of the value of a "password=" query parameter, or -1. */
static long query_password(const char *url)
{
    const char *q = strchr(url, '?');
    while (q) {
        q++;
        if (strncasecmp(q, "password=", 9) == 0)
            return (long)(q + 9 - url);
        q = strchr(q, '&');
    }
    return -1;
}

int vl_catalog_url_check(const char *url, vl_error *err)
{
    size_t from, to;
    if (!vl_catalog_is_url(url))
        return vl_error_set(err, VL_EINPUT, "catalog must be a postgresql:// "
                            "URL (the default catalog needs no option)");
    if ((userinfo(url, &from, &to) && memchr(url + from, ':', to - from)) ||
        query_password(url) >= 0)
        return vl_error_set(err, VL_EINPUT, "the catalog URL holds a password; "
                            "leave it out and give it in PGPASSWORD or "
                            "~/.pgpass (readable only by you)");
    return VL_OK;
}

char *vl_catalog_url_mask(const char *url)
{
    size_t from, to, n = strlen(url);
    char *out = malloc(n + 8), *o = out; /* "***" twice at most */
    const char *colon;
    long qp;
    if (!out)
        return NULL;
    if (userinfo(url, &from, &to) &&
        (colon = memchr(url + from, ':', to - from))) {
        size_t keep = (size_t)(colon + 1 - url);
        memcpy(o, url, keep);
        o += keep;
        memcpy(o, "***", 3);
        o += 3;
        url += to;
    }
    qp = query_password(url);
    if (qp >= 0) {
        size_t keep = (size_t)qp;
        memcpy(o, url, keep);
        o += keep;
        memcpy(o, "***", 3);
        o += 3;
        url += keep + strcspn(url + keep, "&#");
    }
    strcpy(o, url);
    return out;
}

char *vl_catalog_url_with_password(const char *url, const char *password)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(url);
    char *out = malloc(n + 11 + 3 * strlen(password) + 1), *o = out;
    if (!out)
        return NULL;
    memcpy(o, url, n);
    o += n;
    o += sprintf(o, "%cpassword=", strchr(url, '?') ? '&' : '?');
    for (const unsigned char *p = (const unsigned char *)password; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}
