/* Check a BagIt bag in a folder with the validator ingest uses, without
 * depositing it: an export checks the bag it wrote before handing it over.
 * Tag files (everything outside data/) are read whole, within the caps
 * vl_bag_add_tag_file applies; payload files are hashed on every core
 * with exactly the algorithms the bag's manifests name. */
#include <stdlib.h>
#include <string.h>

#include "vl_ingest.h"

#define TAG_FILE_MAX ((size_t)256 << 20)

typedef struct pay {
    char *rel;
    uint64_t size;
    vl_digest_result d;
} pay;

typedef struct check {
    const char *dir;
    vl_bag *bag;
    pay *p;
    size_t n, cap;
    unsigned mask;
} check;

static int collect(void *arg, const char *rel, int kind, const struct stat *st,
                   vl_error *err)
{
    check *c = arg;
    char *path = NULL;
    vl_buf b;
    int rc = VL_OK;

    if (kind != VL_WALK_FILE) {
        char *shown = vl_name_escape(rel);
        rc = vl_error_set(err, VL_EINPUT, "bag %s: %s is not a regular file",
                          c->dir, shown ? shown : "?");
        free(shown);
        return rc;
    }
    if (!strncmp(rel, "data/", 5)) {
        if (c->n == c->cap) {
            size_t ncap = c->cap ? c->cap * 2 : 256;
            pay *np = realloc(c->p, ncap * sizeof *np);
            if (!np)
                return vl_error_set(err, VL_ESYS, "out of memory");
            c->p = np;
            c->cap = ncap;
        }
        memset(&c->p[c->n], 0, sizeof c->p[c->n]);
        if (!(c->p[c->n].rel = vl_strdup(rel)))
            return vl_error_set(err, VL_ESYS, "out of memory");
        c->n++;
        return VL_OK;
    }
    vl_buf_init(&b, 0);
    if (!(path = vl_path_join(c->dir, rel))) {
        rc = vl_error_set(err, VL_ESYS, "out of memory");
        goto done;
    }
    if ((rc = vl_fs_read_file(path, TAG_FILE_MAX, &b, err)) == VL_OK)
        rc = vl_bag_add_tag_file(c->bag, rel, b.data ? b.data : "", b.len, err);
done:
    vl_buf_release(&b);
    free(path);
    return rc;
}

static int hash_one(void *ctx, size_t i, int worker, vl_error *err)
{
    check *c = ctx;
    char *path = vl_path_join(c->dir, c->p[i].rel);
    int rc;
    if (!path)
        return vl_error_set(err, VL_ESYS, "out of memory");
    rc = vl_digest_file(path, c->mask, &c->p[i].d, &c->p[i].size, err);
    free(path);
    return rc;
}

int vl_bag_check_dir(const char *dir, vl_report_fn fn, void *arg,
                     vl_error *err)
{
    check c;
    int rc;
    unsigned long failures = vl_alloc_failures();

    memset(&c, 0, sizeof c);
    c.dir = dir;
    if (!(c.bag = vl_bag_new()))
        return vl_error_set(err, VL_ESYS, "out of memory");
    if ((rc = vl_fs_walk(dir, 0, collect, &c, err)) != VL_OK ||
        (rc = vl_bag_parse(c.bag, err)) != VL_OK)
        goto done;
    c.mask = vl_bag_payload_mask(c.bag);
    if ((rc = vl_pool_run(c.n, 0, hash_one, &c, err)) != VL_OK)
        goto done;
    for (size_t i = 0; i < c.n; i++)
        if ((rc = vl_bag_payload_seen(c.bag, c.p[i].rel, c.p[i].size,
                                      &c.p[i].d, err)) != VL_OK)
            goto done;
    rc = vl_bag_verify(c.bag, fn, arg, err);
    if (rc == VL_EINPUT && err && !err->msg[0])
        vl_error_set(err, VL_EINPUT, "bag %s does not match its manifests",
                     dir);
done:
    /* a problem line whose name could not be escaped, a manifest line read
     * short: what ran short of memory is not the bag's fault */
    if (rc != VL_ESYS && vl_alloc_failures() != failures)
        rc = vl_error_set(err, VL_ESYS, "bag %s: out of memory", dir);
    for (size_t i = 0; i < c.n; i++)
        free(c.p[i].rel);
    free(c.p);
    vl_bag_free(c.bag);
    return rc;
}
