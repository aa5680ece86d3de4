/* The records of one deposit: each file's logical path, where it is staged,
 * its digests and its format. */
#include <stdlib.h>
#include <string.h>

#include "ingest_internal.h"

static char *dup_or_null(const char *s)
{
    return (s && *s) ? vl_strdup(s) : NULL;
}

int vl_deposit_add(vl_deposit *d, const char *logical, const char *staged,
                   const char *shown, uint64_t size, const vl_digest_result *res,
                   const vl_format *fmt, int from_archive, vl_error *err)
{
    vl_record r = {0};
    r.logical = vl_strdup(logical);
    r.staged = vl_strdup(staged);
    r.shown = vl_strdup(shown);
    r.size = size;
    r.from_archive = from_archive;
    for (int a = 0; a < VL_DIGEST_COUNT; a++)
        if (res->mask & VL_DIGEST_BIT(a))
            r.hex[a] = vl_strdup(res->hex[a]);
    if (fmt) {
        r.mime = dup_or_null(fmt->mime);
        r.encoding = dup_or_null(fmt->encoding);
        r.description = dup_or_null(fmt->description);
        r.puid = dup_or_null(fmt->puid);
        r.format_name = dup_or_null(fmt->format_name);
        r.format_version = dup_or_null(fmt->format_version);
        r.basis = dup_or_null(fmt->basis);
        r.warning = dup_or_null(fmt->warning);
        r.others = dup_or_null(fmt->others);
        r.signatures = dup_or_null(fmt->signatures);
    }
    if (!r.logical || !r.staged || !r.shown)
        goto oom;
    pthread_mutex_lock(&d->mu);
    if (VL_GROW(d->recs, d->cap, d->n + 1, NULL) != VL_OK) {
        pthread_mutex_unlock(&d->mu);
        goto oom;
    }
    d->recs[d->n++] = r;
    d->bytes += size;
    pthread_mutex_unlock(&d->mu);
    return VL_OK;
oom:
    free(r.logical);
    free(r.staged);
    free(r.shown);
    for (int a = 0; a < VL_DIGEST_COUNT; a++)
        free(r.hex[a]);
    free(r.mime);
    free(r.encoding);
    free(r.description);
    free(r.puid);
    free(r.format_name);
    free(r.format_version);
    free(r.basis);
    free(r.warning);
    free(r.others);
    free(r.signatures);
    return vl_error_oom(err);
}

void vl_deposit_release(vl_deposit *d)
{
    for (size_t i = 0; i < d->n; i++) {
        vl_record *r = &d->recs[i];
        free(r->logical);
        free(r->staged);
        free(r->shown);
        for (int a = 0; a < VL_DIGEST_COUNT; a++)
            free(r->hex[a]);
        free(r->mime);
        free(r->encoding);
        free(r->description);
        free(r->puid);
        free(r->format_name);
        free(r->format_version);
        free(r->basis);
        free(r->warning);
        free(r->others);
        free(r->signatures);
    }
    free(d->recs);
    d->recs = NULL;
    d->n = d->cap = 0;
}

int vl_prefix_observe(void *arg, const void *data, size_t len, vl_error *err)
{
    vl_prefix *p = arg;
    (void)err;
    if (p->len < p->cap) {
        size_t n = p->cap - p->len < len ? p->cap - p->len : len;
        memcpy(p->buf + p->len, data, n);
        p->len += n;
    }
    return VL_OK;
}
