/* The backend seam: each call goes to the backend's own operation; what
 * is the same on every backend (a commit's two writes) is written once. */
#include <stdlib.h>
#include <string.h>

#include "backend_private.h"
#include "vl_storage.h"

void vl_backend_free(vl_backend *b)
{
    if (b)
        b->ops->free(b);
}

const char *vl_backend_root(const vl_backend *b) { return b->root; }

int vl_backend_is_s3_url(const char *url)
{
    return url && !strncmp(url, "s3://", 5);
}

int vl_backend_open(vl_backend *b, const char *rel, vl_reader **out,
                    vl_error *err)
{
    return b->ops->open(b, rel, out, err);
}

ssize_t vl_reader_read(void *reader, void *buf, size_t cap, vl_error *err)
{
    vl_reader *r = reader;
    return r->read(r, buf, cap, err);
}

int vl_reader_file(vl_reader *r, const char **path)
{
    *path = NULL;
    return r->file ? r->file(r, path) : -1;
}

void vl_reader_close(vl_reader *r)
{
    if (r)
        r->close(r);
}

int vl_backend_read_all(vl_backend *b, const char *rel, size_t max,
                        vl_buf *out, vl_error *err)
{
    return b->ops->read_all(b, rel, max, out, err);
}

int vl_backend_stat(vl_backend *b, const char *rel, int *kind, uint64_t *size,
                    vl_error *err)
{
    return b->ops->stat(b, rel, kind, size, err);
}

int vl_backend_list(vl_backend *b, const char *rel_dir, vl_list_fn fn,
                    void *arg, vl_error *err)
{
    return b->ops->list(b, rel_dir, fn, arg, err);
}

int vl_backend_write(vl_backend *b, const char *rel, const void *data,
                     size_t len, vl_error *err)
{
    return b->ops->write(b, rel, data, len, err);
}

int vl_backend_put(vl_backend *b, const char *local_path, const char *rel,
                   vl_error *err)
{
    return b->ops->put(b, local_path, rel, err);
}

int vl_backend_prune(vl_backend *b, const char *rel, vl_error *err)
{
    return b->ops->prune(b, rel, err);
}

int vl_backend_remove_tree(vl_backend *b, const char *rel, vl_removed_fn fn,
                           void *arg, vl_error *err)
{
    return b->ops->remove_tree(b, rel, fn, arg, err);
}

int vl_backend_commit_inventory(vl_backend *b, const char *object_rel,
                                const char *inventory, size_t len,
                                const char *sidecar_name, const char *sidecar,
                                vl_error *err)
{
    int rc;
    char *inv_rel = vl_path_join(object_rel, VL_INVENTORY_FILE);
    char *side_rel = vl_path_join(object_rel, sidecar_name);
    if (!inv_rel || !side_rel) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_backend_write(b, inv_rel, inventory, len, err)) != VL_OK)
        goto done;
    rc = vl_backend_write(b, side_rel, sidecar, strlen(sidecar), err);
done:
    free(inv_rel);
    free(side_rel);
    return rc;
}

int vl_backend_commit_inventory_copy(vl_backend *b, const char *object_rel,
                                     const char *from_rel,
                                     const char *sidecar_name,
                                     const char *sidecar, vl_error *err)
{
    return b->ops->commit_inventory_copy(b, object_rel, from_rel, sidecar_name,
                                         sidecar, err);
}
