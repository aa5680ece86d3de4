/* Growable buffers with an optional size cap, and malloc-style string
 * helpers that return NULL instead of aborting. */
#include "vl_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vl_buf_init(vl_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

/* Make room for need more bytes plus the terminating NUL. */
static int buf_reserve(vl_buf *b, size_t need, vl_error *err)
{
    size_t want, ncap;
    char *p;

    if (b->max > 0 && (need > b->max || b->len > b->max - need))
        return vl_error_set(err, VL_EINPUT, "input larger than %zu bytes",
                            b->max);
    if (need > SIZE_MAX - b->len - 1) {
        errno = ENOMEM;
        return vl_error_sys(err, "buffer of %zu bytes", b->len);
    }
    want = b->len + need + 1;
    if (want <= b->cap)
        return VL_OK;
    ncap = b->cap ? b->cap : 64;
    while (ncap < want)
        ncap = ncap > SIZE_MAX / 2 ? want : ncap * 2;
    p = realloc(b->data, ncap);
    if (!p) {
        vl_alloc_failed();
        errno = ENOMEM;
        return vl_error_sys(err, "buffer of %zu bytes", ncap);
    }
    b->data = p;
    b->cap = ncap;
    return VL_OK;
}

int vl_buf_append(vl_buf *b, const void *data, size_t len, vl_error *err)
{
    int rc = buf_reserve(b, len, err);

    if (rc != VL_OK)
        return rc;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return VL_OK;
}

int vl_buf_printf(vl_buf *b, vl_error *err, const char *fmt, ...)
{
    va_list ap;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return vl_error_sys(err, "format");
    }
    rc = buf_reserve(b, (size_t)n, err);
    if (rc != VL_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return VL_OK;
}

void vl_buf_reset(vl_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void vl_buf_release(vl_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

char *vl_buf_detach(vl_buf *b)
{
    char *p = b->data;

    /* Callers rely on a string even for an empty buffer; NULL only if that
     * tiny allocation fails. */
    if (!p && !(p = calloc(1, 1)))
        vl_alloc_failed();
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

int vl_grow(void **ptr, size_t *cap, size_t need, size_t elem_size,
            vl_error *err)
{
    size_t max = elem_size ? SIZE_MAX / elem_size : SIZE_MAX;
    size_t ncap = *cap;
    void *p;

    if (need <= *cap)
        return VL_OK;
    if (need > max) {
        errno = ENOMEM;   /* need * elem_size would wrap */
        vl_alloc_failed();
        return vl_error_oom(err);
    }
    if (ncap < 8)
        ncap = 8;
    while (ncap < need)
        ncap = ncap > max / 2 ? max : ncap * 2;
    if (ncap > max)
        ncap = max;
    p = realloc(*ptr, ncap * elem_size);
    if (!p) {
        errno = ENOMEM;
        vl_alloc_failed();   /* the shortage count operations check */
        return vl_error_oom(err);
    }
    *ptr = p;
    *cap = ncap;
    return VL_OK;
}

char *vl_strdup(const char *s)
{
    return vl_strndup(s, strlen(s));
}

char *vl_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = malloc(len + 1);

    if (!p) {
        vl_alloc_failed();
        return NULL;
    }
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *vl_asprintf(const char *fmt, ...)
{
    va_list ap;
    char *p;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    p = malloc((size_t)n + 1);
    if (!p) {
        vl_alloc_failed();
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
