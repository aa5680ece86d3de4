/* The records of one deposit: each file's logical path, where it is staged,
 * its digests and its format. */
#include <stdlib.h>
#include <string.h>

#include "ingest_internal.h"

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603u;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* The deposit's one copy of s (NULL for NULL or ""); caller holds d->mu.
 * Returns -1 when out of memory. */
static int intern(vl_deposit *d, const char *s, const char **out)
{
    size_t i;
    *out = NULL;
    if (!s || !*s)
        return 0;
    if (2 * (d->nstrings + 1) > d->capstrings) {
        size_t ncap = d->capstrings ? d->capstrings * 2 : 256;
        char **t = calloc(ncap, sizeof *t);
        if (!t)
            return -1;
        for (size_t k = 0; k < d->capstrings; k++)
            if (d->strings[k]) {
                for (i = hash_str(d->strings[k]) & (ncap - 1); t[i];
                     i = (i + 1) & (ncap - 1))
                    ;
                t[i] = d->strings[k];
            }
        free(d->strings);
        d->strings = t;
        d->capstrings = ncap;
    }
    for (i = hash_str(s) & (d->capstrings - 1); d->strings[i];
         i = (i + 1) & (d->capstrings - 1))
        if (strcmp(d->strings[i], s) == 0) {
            *out = d->strings[i];
            return 0;
        }
    if (!(d->strings[i] = strdup(s)))
        return -1;
    d->nstrings++;
    *out = d->strings[i];
    return 0;
}

static int intern_format(vl_deposit *d, vl_record *r, const vl_format *f)
{
    return intern(d, f->mime, &r->mime) || intern(d, f->encoding, &r->encoding) ||
           intern(d, f->description, &r->description) ||
           intern(d, f->puid, &r->puid) ||
           intern(d, f->format_name, &r->format_name) ||
           intern(d, f->format_version, &r->format_version) ||
           intern(d, f->basis, &r->basis) || intern(d, f->warning, &r->warning) ||
           intern(d, f->others, &r->others) ||
           intern(d, f->signatures, &r->signatures) ? -1 : 0;
}

int vl_deposit_add(vl_deposit *d, const char *logical, const char *staged,
                   const char *shown, uint64_t size, const vl_digest_result *res,
                   const vl_format *fmt, int from_archive, int64_t mtime_ns,
                   vl_error *err)
{
    vl_record r = {0};
    r.mtime_ns = mtime_ns;
    r.logical = vl_strdup(logical);
    r.staged = vl_strdup(staged);
    r.shown = vl_strdup(shown);
    r.size = size;
    r.from_archive = from_archive;
    for (int a = 0; a < VL_DIGEST_COUNT; a++)
        if (res->mask & VL_DIGEST_BIT(a) && !(r.hex[a] = vl_strdup(res->hex[a])))
            goto oom;
    if (!r.logical || !r.staged || !r.shown)
        goto oom;
    pthread_mutex_lock(&d->mu);
    if ((fmt && intern_format(d, &r, fmt) != 0) ||
        VL_GROW(d->recs, d->cap, d->n + 1, NULL) != VL_OK) {
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
    }
    free(d->recs);
    d->recs = NULL;
    d->n = d->cap = 0;
    for (size_t i = 0; i < d->capstrings; i++)
        free(d->strings[i]);
    free(d->strings);
    d->strings = NULL;
    d->nstrings = d->capstrings = 0;
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
