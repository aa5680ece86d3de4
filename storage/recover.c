/* vellum recover: every staging/txn-* folder is a transaction that did not
 * finish.  Its intent file names the object; the store decides what happened:
 *  - the new version (or object) never reached the store: drop the staging;
 *  - the version folder reached the store but the root inventory did not
 *    (or only half): roll forward, copying that version's checked inventory;
 * then bring the object's catalog rows in line with the store. */
#define VL_STORAGE_INTERNAL
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "repo_internal.h"

/* Remove temp files a crashed atomic write left in an object root. */
static int clean_object_temps(vl_repo *r, const char *object_rel, vl_error *err)
{
    char *dir = vl_path_join(r->store_dir, object_rel);
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;
    int rc = VL_OK;
    if (!d) {
        free(dir);
        return VL_OK;
    }
    while ((e = readdir(d))) {
        if (!strncmp(e->d_name, "inventory.json", 14) && strstr(e->d_name, ".tmp-")) {
            char *p = vl_path_join(dir, e->d_name);
            if (p && unlink(p) != 0)
                rc = vl_error_sys(err, "cannot remove %s", p);
            free(p);
        }
    }
    closedir(d);
    free(dir);
    return rc;
}

/* Read vN/inventory.json and check it against its own sidecar. */
static int read_version_inventory(vl_repo *r, const char *vrel, vl_buf *buf,
                                  vl_inventory **out, vl_error *err)
{
    char *inv_rel = vl_path_join(vrel, "inventory.json");
    char *side_rel = NULL;
    vl_buf side;
    int rc;
    vl_buf_init(&side, 4096);
    if (!inv_rel)
        return vl_error_set(err, VL_ESYS, "out of memory");
    if ((rc = vl_backend_read_all(r->backend, inv_rel, VL_MAX_INVENTORY_BYTES, buf,
                                  err)) != VL_OK ||
        (rc = vl_inventory_parse(buf->data, buf->len, out, err)) != VL_OK)
        goto done;
    side_rel = vl_asprintf("%s/inventory.json.%s", vrel,
                           vl_digest_name(vl_inventory_digest_alg(*out)));
    char hex[VL_DIGEST_HEX_MAX];
    vl_digest_buffer(vl_inventory_digest_alg(*out), buf->data, buf->len, hex);
    if (!side_rel ||
        (rc = vl_backend_read_all(r->backend, side_rel, 4096, &side, err)) != VL_OK)
        goto done;
    if (strncasecmp(side.data, hex, strlen(hex)) != 0)
        rc = vl_error_set(err, VL_FINDING, "%s does not match its sidecar", inv_rel);
done:
    if (rc != VL_OK && *out) {
        vl_inventory_free(*out);
        *out = NULL;
    }
    vl_buf_release(&side);
    free(inv_rel);
    free(side_rel);
    return rc;
}

static int roll_forward(vl_repo *r, const char *object_rel, int num,
                        vl_error *err)
{
    vl_inventory *cur = NULL, *vinv = NULL;
    vl_buf buf;
    char vname[16], *vrel = NULL, *side = NULL;
    int rc, kind = 0;
    vl_buf_init(&buf, VL_MAX_INVENTORY_BYTES);
    /* Version naming comes from the current root inventory. */
    if ((rc = vl_repo_read_inventory_at(r, object_rel, &cur, err)) != VL_OK)
        goto done;
    if (vl_inventory_head(cur) >= num)
        goto done;   /* already committed */
    vl_inventory_version_name(cur, num, vname);
    if (!(vrel = vl_path_join(object_rel, vname))) {
        rc = vl_error_set(err, VL_ESYS, "out of memory");
        goto done;
    }
    if ((rc = vl_backend_stat(r->backend, vrel, &kind, NULL, err)) != VL_OK ||
        kind != VL_WALK_DIR)
        goto done;   /* the version never reached the store */
    if ((rc = read_version_inventory(r, vrel, &buf, &vinv, err)) != VL_OK) {
        rc = vl_error_set(err, VL_FINDING, "%s is in the store but its inventory "
                          "is not sound (%s); left for a curator", vrel, err->msg);
        goto done;
    }
    char sname[32];
    snprintf(sname, sizeof sname, "inventory.json.%s",
             vl_digest_name(vl_inventory_digest_alg(vinv)));
    if (!(side = vl_sidecar_text(vl_inventory_digest_alg(vinv), buf.data, buf.len))) {
        rc = vl_error_set(err, VL_ESYS, "out of memory");
        goto done;
    }
    rc = vl_backend_commit_inventory(r->backend, object_rel, buf.data, buf.len,
                                     sname, side, err);
done:
    vl_inventory_free(cur);
    vl_inventory_free(vinv);
    vl_buf_release(&buf);
    free(vrel);
    free(side);
    return rc;
}

static int resync_catalog(vl_repo *r, const char *id, const char *object_rel,
                          vl_error *err)
{
    vl_inventory *inv = NULL;
    int rc = vl_repo_read_inventory_at(r, object_rel, &inv, err);
    if (rc == VL_EINPUT) {
        vl_error_clear(err);
        return vl_catalog_remove_object(r->catalog, id, err);
    }
    if (rc == VL_OK)
        rc = vl_catalog_sync_object(r->catalog, r->backend, object_rel, inv, err);
    vl_inventory_free(inv);
    return rc;
}

/* Events of a version that did reach the store are recorded (once: the
 * append skips ids already logged); those of a dropped one are not. */
static int record_pending_events(vl_repo *r, const char *object_rel, int num,
                                 json_t *events, vl_error *err)
{
    vl_inventory *inv = NULL;
    size_t i;
    json_t *ev;
    if (json_array_size(events) == 0)
        return VL_OK;
    if (vl_repo_read_inventory_at(r, object_rel, &inv, NULL) != VL_OK)
        return VL_OK;   /* the object never reached the store */
    int committed = vl_inventory_head(inv) >= num;
    vl_inventory_free(inv);
    if (!committed)
        return VL_OK;
    json_array_foreach(events, i, ev)
    {
        int rc = vl_events_append_json(r, ev, err);
        if (rc != VL_OK)
            return rc;
    }
    return VL_OK;
}

/* One interrupted transaction.  *busy = 1 when its object is locked by a
 * live process (then it is not interrupted, just running). */
static int recover_txn(vl_repo *r, const char *txn_dir, int *busy,
                       int *repaired, vl_error *err)
{
    vl_buf buf;
    json_t *intent = NULL;
    vl_lock *lock = NULL;
    char *ipath = vl_path_join(txn_dir, VL_INTENT_FILE);
    int rc = VL_OK;
    vl_buf_init(&buf, 1 << 20);
    *busy = 0;
    if (!ipath)
        return vl_error_set(err, VL_ESYS, "out of memory");
    /* staging/txn-<key>-<uuid>: a live transaction holds the key's lock. */
    const char *base = vl_path_basename(txn_dir) + 4;
    char key[VL_DIGEST_HEX_MAX];
    size_t klen = strcspn(base, "-");
    if (klen >= sizeof key)
        klen = sizeof key - 1;
    memcpy(key, base, klen);
    key[klen] = '\0';
    if (vl_lock_by_key(r, key, 0, &lock, NULL) != VL_OK) {
        *busy = 1;
        goto done;
    }
    if (!vl_fs_exists(ipath))
        goto done;   /* stopped before it named its object: nothing stored */
    if ((rc = vl_fs_read_file(ipath, 1 << 20, &buf, err)) != VL_OK)
        goto done;
    intent = json_loadb(buf.data, buf.len, 0, NULL);
    const char *id = json_string_value(json_object_get(intent, "id"));
    const char *obj = json_string_value(json_object_get(intent, "object"));
    int num = (int)json_integer_value(json_object_get(intent, "version"));
    if (!id || !obj || num < 1)
        goto done;   /* a torn intent is never written (atomic), but be safe */
    if ((rc = clean_object_temps(r, obj, err)) != VL_OK)
        goto done;
    if (num > 1 && (rc = roll_forward(r, obj, num, err)) != VL_OK)
        goto done;
    if ((rc = resync_catalog(r, id, obj, err)) != VL_OK)
        goto done;
    if ((rc = record_pending_events(r, obj, num, json_object_get(intent, "events"),
                                    err)) != VL_OK)
        goto done;
    *repaired = 1;
done:
    vl_lock_release(lock);
    json_decref(intent);
    vl_buf_release(&buf);
    free(ipath);
    return rc;
}

int vl_repo_recover(vl_repo *r, vl_recover_counts *out, vl_error *err)
{
    DIR *d = opendir(r->staging_dir);
    struct dirent *e;
    int rc = VL_OK;
    size_t fixed = 0, cleared = 0;
    if (!d)
        return vl_error_sys(err, "cannot list %s", r->staging_dir);
    if ((rc = vl_events_catch_up(r, err)) != VL_OK) {
        closedir(d);
        return rc;
    }
    while ((e = readdir(d)) && rc == VL_OK) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            !strcmp(e->d_name, VL_LOCKS_DIR) ||
            !strcmp(e->d_name, VL_OUTSIDE_DIR))
            continue;
        char *p = vl_path_join(r->staging_dir, e->d_name);
        int busy = 0, did = 0;
        if (!p) {
            rc = vl_error_set(err, VL_ESYS, "out of memory");
            break;
        }
        if (!strncmp(e->d_name, "txn-", 4))
            rc = recover_txn(r, p, &busy, &did, err);
        if (rc == VL_OK && !busy)
            rc = vl_fs_rmtree(p, err);
        fixed += (size_t)did;
        free(p);
    }
    closedir(d);
    if (rc == VL_OK)
        rc = vl_outside_recover(r, &cleared, err);
    if (out) {
        out->repaired = fixed;
        out->temporaries = cleared;
    }
    return rc;
}
