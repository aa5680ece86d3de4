/* Rebuild the catalog from the storage root alone: the store is the truth. */
#include <stdlib.h>
#include <string.h>

#include "catalog_private.h"
#include "repo_internal.h"

struct reindex_ctx {
    vl_repo *r;
    size_t objects;
    char *dir;   /* folder being listed, relative to the storage root */
    int is_object;
};

static int find_namaste(void *arg, const char *name, int kind, vl_error *err)
{
    struct reindex_ctx *c = arg;
    if (kind == VL_WALK_FILE && !strncmp(name, "0=ocfl_object_", 14))
        c->is_object = 1;
    (void)err;
    return 0;
}

static int visit(struct reindex_ctx *c, const char *rel, vl_error *err);

static int visit_child(void *arg, const char *name, int kind, vl_error *err)
{
    struct reindex_ctx *c = arg;
    if (kind != VL_WALK_DIR)
        return VL_OK;
    if (!*c->dir && !strcmp(name, "extensions"))
        return VL_OK;
    char *rel = *c->dir ? vl_path_join(c->dir, name) : vl_strdup(name);
    if (!rel)
        return vl_error_oom(err);
    char *saved = c->dir;
    int rc = visit(c, rel, err);
    c->dir = saved;
    free(rel);
    return rc;
}

static int visit(struct reindex_ctx *c, const char *rel, vl_error *err)
{
    int rc;
    c->is_object = 0;
    if ((rc = vl_backend_list(c->r->backend, rel, find_namaste, c, err)) != VL_OK)
        return rc;
    if (c->is_object) {
        vl_inventory *inv = NULL;
        if ((rc = vl_repo_read_inventory_at(c->r, rel, &inv, err)) != VL_OK)
            return vl_error_set(err, rc, "cannot reindex %s: %s", rel, err->msg);
        rc = vl_catalog_sync_object(c->r->catalog, c->r->backend, rel, inv, err);
        vl_inventory_free(inv);
        c->objects++;
        return rc;
    }
    c->dir = (char *)rel;
    return vl_backend_list(c->r->backend, rel, visit_child, c, err);
}

int vl_repo_reindex(vl_repo *r, size_t *objects, vl_error *err)
{
    struct reindex_ctx c = {r, 0, "", 0};
    int rc;
    if ((rc = vl_catalog_begin(r->catalog, err)) != VL_OK)
        return rc;
    if ((rc = vl_catalog_clear(r->catalog, err)) == VL_OK)
        rc = visit(&c, "", err);
    if (rc == VL_OK)
        rc = vl_catalog_commit(r->catalog, err);
    else
        vl_catalog_rollback(r->catalog);
    if (objects)
        *objects = c.objects;
    /* Events come back from the event log (the catalog only indexes it). */
    if (rc == VL_OK)
        rc = vl_events_reindex(r, NULL, err);
    return rc;
}
