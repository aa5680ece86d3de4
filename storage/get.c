/* Read an object version back out: every file copied from the store while
 * its digest is recomputed, into a folder beside the destination that is
 * renamed into place only when every file matched. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repo_internal.h"

struct get_item {
    const char *logical;
    const char *digest;
};

struct get_ctx {
    vl_repo *r;
    vl_inventory *inv;
    const char *object_rel;
    const char *id;
    char *tmp;
    struct get_item *items;
    size_t n, cap;
};

static int collect(void *arg, const char *logical, const char *digest)
{
    struct get_ctx *c = arg;
    if (VL_GROW(c->items, c->cap, c->n + 1, NULL) != VL_OK)
        return VL_ESYS;
    c->items[c->n].logical = logical;
    c->items[c->n].digest = digest;
    c->n++;
    return 0;
}

static int copy_one(void *arg, size_t i, int worker, vl_error *err)
{
    struct get_ctx *c = arg;
    const struct get_item *it = &c->items[i];
    vl_digest_alg alg = vl_inventory_digest_alg(c->inv);
    const char *cpath = vl_inventory_content_path(c->inv, it->digest);
    char *src = NULL, *dst = NULL;
    vl_reader *rd = NULL;
    vl_digest_result res;
    int fd = -1, rc;
    (void)worker;
    if (!cpath)
        return vl_error_set(err, VL_FINDING, "%s: %s has digest %s that is not in "
                            "the manifest", c->id, it->logical, it->digest);
    src = vl_path_join(c->object_rel, cpath);
    dst = vl_path_join(c->tmp, it->logical);
    if (!src || !dst) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_logical_path_check(it->logical, err)) != VL_OK ||
        (rc = vl_fs_mkdirs_parent(dst, err)) != VL_OK ||
        (rc = vl_backend_open(c->r->backend, src, &rd, err)) != VL_OK)
        goto done;
    fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        rc = vl_error_sys(err, "cannot create %s", dst);
        goto done;
    }
    if ((rc = vl_digest_pump(vl_reader_read, rd, fd, VL_DIGEST_BIT(alg), NULL, NULL,
                             &res, NULL, err)) != VL_OK)
        goto done;
    if (strcasecmp(res.hex[alg], it->digest) != 0)
        rc = vl_error_set(err, VL_FINDING, "%s: %s (stored as %s) fails its %s check: "
                          "expected %s, got %s", c->id, it->logical, cpath,
                          vl_digest_name(alg), it->digest, res.hex[alg]);
done:
    if (fd >= 0)
        close(fd);
    vl_reader_close(rd);
    free(src);
    free(dst);
    return rc;
}

/* A failure that only says this user may not write to the repository. */
static int may_not_write(const vl_error *e)
{
    return e->status == VL_ESYS && (e->sys_errno == EACCES ||
                                    e->sys_errno == EROFS ||
                                    e->sys_errno == EPERM ||
                                    e->sys_errno == ENOSPC);
}

int vl_repo_get(vl_repo *r, const char *id, int num, const char *dest,
                vl_error *err)
{
    struct get_ctx c = {0};
    char *rel = NULL;
    vl_outside *outside = NULL;
    int rc;
    if (vl_fs_exists(dest))
        return vl_error_set(err, VL_EINPUT, "%s already exists; give a new folder", dest);
    if ((rc = vl_repo_load_inventory(r, id, &c.inv, err)) != VL_OK)
        return rc;
    int head = vl_inventory_head(c.inv);
    if (num == 0)
        num = head;
    if (num < 1 || num > head) {
        rc = vl_error_set(err, VL_EINPUT, "object \"%s\" has no version v%d "
                          "(head is v%d)", id, num, head);
        goto done;
    }
    rel = vl_repo_object_path(r, id);
    c.r = r;
    c.object_rel = rel;
    c.id = id;
    c.tmp = vl_asprintf("%s.vellum-get-%ld", dest, (long)getpid());
    if (!rel || !c.tmp) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (vl_inventory_state_foreach(c.inv, num, collect, &c) != 0) {
        rc = vl_error_oom(err);
        goto done;
    }
    /* What a killed get or export to the same destination left goes
     * first; then ours is registered so recover can clear it after a kill.
     * A reader who may not write to staging (or finds its disk full) still gets the copy,
     * unregistered (and leaves stale temporaries to someone who may). */
    const char *tmps[] = {c.tmp};
    vl_error oerr = {0};
    size_t stale;
    if ((vl_outside_clear_for(r, dest, &stale, &oerr) != VL_OK &&
         !may_not_write(&oerr)) ||
        (vl_outside_begin(r, tmps, 1, &outside, &oerr) != VL_OK &&
         !may_not_write(&oerr))) {
        rc = oerr.status;
        if (err)
            *err = oerr;
        goto done;
    }
    vl_fs_rmtree(c.tmp, NULL);
    if ((rc = vl_fs_mkdirs(c.tmp, err)) != VL_OK)
        goto done;
    if ((rc = vl_pool_run(c.n, 0, copy_one, &c, err)) != VL_OK)
        goto done;
    if ((rc = vl_fs_syncfs(c.tmp, err)) != VL_OK)
        goto done;
    if (rename(c.tmp, dest) != 0) {
        rc = vl_error_sys(err, "cannot move %s to %s", c.tmp, dest);
        goto done;
    }
    rc = vl_fs_fsync_parent(dest, err);
done:
    if (rc != VL_OK && c.tmp)
        vl_fs_rmtree(c.tmp, NULL);
    vl_outside_end(outside);
    free(c.items);
    free(c.tmp);
    free(rel);
    vl_inventory_free(c.inv);
    return rc;
}
