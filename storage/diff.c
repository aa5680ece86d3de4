/* Differences between two versions of an object, from its inventory: files
 * added, removed, changed (same path, other digest) and renamed (same
 * digest, other path). */
#include <stdlib.h>
#include <string.h>

#include "vl_storage.h"

typedef struct pd {
    const char *path, *digest;
    int used;
} pd;

typedef struct pd_list {
    pd *v;
    size_t n, cap;
    vl_error *err;
    int failed;
} pd_list;

static int collect(void *arg, const char *logical, const char *digest)
{
    pd_list *l = arg;
    if (VL_GROW(l->v, l->cap, l->n + 1, l->err) != VL_OK) {
        l->failed = 1;
        return 1;
    }
    /* the inventory's strings last only for the call: one block holds both */
    size_t ll = strlen(logical) + 1, dl = strlen(digest) + 1;
    char *mem = malloc(ll + dl);
    if (!mem) {
        vl_error_oom(l->err);
        l->failed = 1;
        return 1;
    }
    memcpy(mem, logical, ll);
    memcpy(mem + ll, digest, dl);
    l->v[l->n++] = (pd){mem, mem + ll, 0};
    return 0;
}

static int pd_cmp(const void *a, const void *b)
{
    return strcmp(((const pd *)a)->path, ((const pd *)b)->path);
}

static int entry_cmp(const void *a, const void *b)
{
    const vl_diff_entry *x = a, *y = b;
    return strcmp(x->path, y->path);
}

static int load(const vl_inventory *inv, int num, pd_list *l, vl_error *err)
{
    l->err = err;
    if (vl_inventory_state_foreach(inv, num, collect, l) != 0) {
        if (l->failed)
            return VL_ESYS;
        return vl_error_set(err, VL_EINPUT, "\"%s\" has no version v%d",
                            vl_inventory_id(inv), num);
    }
    if (l->n)
        qsort(l->v, l->n, sizeof *l->v, pd_cmp);
    return VL_OK;
}

int vl_inventory_diff(const vl_inventory *inv, int from, int to,
                      vl_diff_fn fn, void *arg, vl_error *err)
{
    pd_list a = {0}, b = {0};
    vl_diff_entry *out = NULL;
    size_t n = 0, cap = 0;
    int rc = load(inv, from, &a, err);
    if (rc == VL_OK)
        rc = load(inv, to, &b, err);
    if (rc != VL_OK)
        goto done;
    /* Same path in both: changed when the digests differ. */
    for (size_t i = 0, j = 0; i < a.n && j < b.n;) {
        int c = strcmp(a.v[i].path, b.v[j].path);
        if (c < 0) {
            i++;
        } else if (c > 0) {
            j++;
        } else {
            a.v[i].used = b.v[j].used = 1;
            if (strcmp(a.v[i].digest, b.v[j].digest) != 0) {
                if ((rc = VL_GROW(out, cap, n + 1, err)) != VL_OK)
                    goto done;
                out[n++] = (vl_diff_entry){VL_DIFF_CHANGED, b.v[j].path, NULL,
                                           b.v[j].digest, a.v[i].digest};
            }
            i++;
            j++;
        }
    }
    /* A path only in the new version whose digest a path only in the old
     * one had: renamed (the first such old path, in path order). */
    for (size_t j = 0; j < b.n; j++) {
        if (b.v[j].used)
            continue;
        size_t i;
        for (i = 0; i < a.n; i++)
            if (!a.v[i].used && strcmp(a.v[i].digest, b.v[j].digest) == 0)
                break;
        if ((rc = VL_GROW(out, cap, n + 1, err)) != VL_OK)
            goto done;
        if (i < a.n) {
            a.v[i].used = 1;
            out[n++] = (vl_diff_entry){VL_DIFF_RENAMED, b.v[j].path, a.v[i].path,
                                       b.v[j].digest, a.v[i].digest};
        } else {
            out[n++] = (vl_diff_entry){VL_DIFF_ADDED, b.v[j].path, NULL,
                                       b.v[j].digest, NULL};
        }
        b.v[j].used = 1;
    }
    for (size_t i = 0; i < a.n; i++) {
        if (a.v[i].used)
            continue;
        if ((rc = VL_GROW(out, cap, n + 1, err)) != VL_OK)
            goto done;
        out[n++] = (vl_diff_entry){VL_DIFF_REMOVED, a.v[i].path, NULL, NULL,
                                   a.v[i].digest};
    }
    if (n)
        qsort(out, n, sizeof *out, entry_cmp);
    for (size_t k = 0; k < n; k++)
        if (fn(arg, &out[k]) != 0)
            break;
    rc = VL_OK;
done:
    for (size_t i = 0; i < a.n; i++)
        free((char *)a.v[i].path);
    for (size_t i = 0; i < b.n; i++)
        free((char *)b.v[i].path);
    free(a.v);
    free(b.v);
    free(out);
    return rc;
}
